//! The emulator's request handling, through a real socket: raw bytes, or well-signed requests
//! with fuzzed parameters and bodies. Whatever arrives, the server answers or closes, and keeps
//! serving: after each input a valid request must still get a JSON answer.
#![no_main]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vodupload::signature::{SignatureMethod, encode_query, sign};
use vodupload_emulator::{Emulator, EmulatorConfig};

const ID: &str = "AKIDfuzz";
const KEY: &str = "fuzz-key";

fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        Emulator::start(EmulatorConfig {
            credentials: vec![(ID.into(), KEY.into())],
            rate_limit: false,
            any_part_size: true,
            ..EmulatorConfig::default()
        })
        .expect("the emulator starts")
    })
}

/// Sends `raw` and reads until the server closes. `half_close` ends our side at once, so an
/// incomplete raw request does not keep the server waiting (the end of the stream ends the
/// connection); a complete request is sent as clients send one, without half-closing.
fn exchange(raw: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(emulator().addr()).expect("the emulator is up");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(raw);
    if half_close {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn signed(action: &str, mut params: Vec<(String, String)>, body: &[u8], nonce: u32) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    params.extend([
        ("Action".into(), action.into()),
        ("Region".into(), "gz".into()),
        ("Timestamp".into(), now.to_string()),
        ("Nonce".into(), nonce.max(1).to_string()),
        ("SecretId".into(), ID.into()),
    ]);
    let host = emulator().addr().to_string();
    let sig = sign("POST", &host, "/v2/index.php", &params, KEY, SignatureMethod::HmacSha1);
    params.push(("Signature".into(), sig));
    let mut req = format!(
        "POST /v2/index.php?{} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        encode_query(&params),
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        exchange(rest, true);
    } else {
        let actions = ["InitUpload", "UploadPart", "FinishUpload", "PullEvent", "ConfirmEvent"];
        let action = actions[(mode as usize / 2) % actions.len()];
        let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let (head, body) = rest.split_at(split);
        let params: Vec<(String, String)> = String::from_utf8_lossy(head)
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let nonce = u32::from_le_bytes([mode, split as u8, body.len() as u8, 7]);
        let answer = exchange(&signed(action, params, body.get(1..).unwrap_or(&[]), nonce), false);
        assert!(answer.is_empty() || answer.starts_with(b"HTTP/1.1 "), "not HTTP: {answer:?}");
    }
    // Still alive and still speaking the protocol.
    let probe = exchange(
        &signed("FinishUpload", vec![("fileSha".into(), "0".repeat(40))], &[], rand_nonce()),
        false,
    );
    assert!(probe.starts_with(b"HTTP/1.1 200"), "the emulator stopped answering: {:?}", String::from_utf8_lossy(&probe));
    assert!(probe.windows(7).any(|w| w == b"\"code\":"), "no JSON code: {:?}", String::from_utf8_lossy(&probe));
});

fn rand_nonce() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1_000_000);
    N.fetch_add(1, Ordering::Relaxed)
}
