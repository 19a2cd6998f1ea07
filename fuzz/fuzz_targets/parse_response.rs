//! Whatever the upload host answers, parsing returns a value or an error, never panics; and an
//! answer accepted as a success really has what the client relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vodupload::unstable::protocol::{InitOutcome, parse_finish, parse_init, parse_part};

fuzz_target!(|data: &[u8]| {
    match parse_init(data) {
        Ok(InitOutcome::Resume { data_size, parts }) => {
            assert!(data_size > 0);
            assert!(parts.iter().all(|p| p.data_size > 0));
        }
        Ok(InitOutcome::Instant { file_id, .. }) => assert!(!file_id.is_empty()),
        Ok(InitOutcome::New) | Err(_) => {}
    }
    let _ = parse_part(data);
    if let Ok((file_id, _url)) = parse_finish(data) {
        assert!(!file_id.is_empty());
    }
});
