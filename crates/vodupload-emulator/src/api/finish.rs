//! FinishUpload: checks the file is whole and is the one announced, then finishes it and queues
//! its event, as one durable step (see `store::finish`).

use std::sync::Arc;

use super::blocking;
use super::init::file_reply;
use crate::app::App;
use crate::events;
use crate::protocol::{self, Params, Reply};
use crate::stats::bump;
use crate::store::{FinishOutcome, Key};

pub(super) async fn handle(app: &Arc<App>, secret_id: &str, params: &Params) -> Reply {
    let sha = match protocol::file_sha(params) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let key: Key = (secret_id.to_string(), sha.clone());
    // Owned and moved into the work: should this request's caller go away, the finish goes on in
    // the blocking pool, and a rerun's InitUpload or FinishUpload must wait for it, not race it.
    let guard = app.key_locks.get(&key).lock_owned().await;
    let a = app.clone();
    let outcome = blocking(move || {
        let _guard = guard;
        let content = |file_id: &str, meta: &crate::store::SessionMeta| {
            events::new_file_upload(
                file_id,
                &a.file_url(file_id, &meta.file_type),
                &meta.file_name,
            )
        };
        a.store.finish(&key, &a.events, &content, a.now_unix())
    })
    .await;
    match outcome {
        Ok(FinishOutcome::Done { file, event }) => {
            bump(&app.counters.events_created);
            if let Some(n) = &app.notifier {
                n.send(
                    event.seq,
                    serde_json::to_vec(&event.event_content).unwrap_or_default(),
                );
            }
            file_reply(app, 0, &file)
        }
        // A retry, or the call every SDK makes after an instant upload: same file, no new event.
        Ok(FinishOutcome::AlreadyDone(file)) => file_reply(app, 0, &file),
        Ok(FinishOutcome::NoSession) => Reply::protocol(format!(
            "no upload session for fileSha {sha}: call InitUpload first"
        )),
        Ok(FinishOutcome::Missing {
            missing,
            total,
            first_offset,
        }) => Reply::protocol(format!(
            "parts missing: {missing} of {total}, first missing offset {first_offset}"
        )),
        Ok(FinishOutcome::ShaMismatch { actual }) => Reply::protocol(format!(
            "assembled file does not match fileSha: its SHA-1 is {actual}; the stored parts were deleted, upload them again"
        )),
        Err(e) => Reply::write_failed(&e),
    }
}
