//! Each defect a signed (or unsigned) request could cause, over real sockets: huge declared
//! sizes, blocking work on the async workers, racing replays, urls from the Host header, request
//! lines that are not UTF-8, answers that are not the protocol's JSON.

mod common;

use std::io::Write as _;
use std::sync::{Arc, Barrier, Condvar, Mutex};

use common::*;
use serde_json::Value;
use vodupload_emulator::{Emulator, EmulatorConfig, StepHook};

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("emulator starts")
}

fn init_raw(c: &Client, sha: &str, size: &str, data_size: &str) -> Value {
    c.call(
        "POST",
        "InitUpload",
        &[
            ("fileName", "big"),
            ("fileSha", sha),
            ("fileSize", size),
            ("dataSize", data_size),
            ("fileType", "mp4"),
        ],
        b"",
    )
    .json()
}

#[test]
fn file_size_is_capped_at_the_documented_limit() {
    let emu = start(EmulatorConfig::default());
    let c = Client::new(&emu);
    let max = vodupload_emulator::DEFAULT_MAX_FILE_SIZE;
    let r = init_raw(&c, &"ab".repeat(20), &max.to_string(), "524288");
    assert_eq!(r["code"], 0, "{r}");
    for size in [max + 1, 1 << 47, u64::MAX] {
        let r = init_raw(&c, &"cd".repeat(20), &size.to_string(), "524288");
        assert_eq!(r["code"], -10003, "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains(&format!("({max} bytes)")),
            "{r}"
        );
    }
}

/// 2^50 bytes in parts of one byte: a list of the missing offsets would need 8 PiB.
#[test]
fn missing_parts_are_counted_not_listed() {
    let emu = start(EmulatorConfig {
        any_part_size: true,
        max_file_size: u64::MAX,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let sha = "ee".repeat(20);
    let size = 1u64 << 50;
    assert_eq!(init_raw(&c, &sha, &size.to_string(), "1")["code"], 0);
    assert_eq!(c.part(&sha, 7, b"x")["code"], 0);
    let r = c.finish(&sha);
    assert_eq!(r["code"], -10003, "{r}");
    assert_eq!(
        r["message"],
        format!(
            "parts missing: {} of {size}, first missing offset 0",
            size - 1
        )
        .as_str()
    );
    // The inspector maps such a session without listing it either.
    let state: Value = c
        .agent
        .get(&format!("http://{}/_emulator/state", emu.addr()))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .map(|b| serde_json::from_str(&b).unwrap())
        .unwrap();
    let up = &state["uploads"][0];
    assert_eq!(up["partsTotal"], size, "{up}");
    assert_eq!(up["partsStored"], 1);
    assert_eq!(up["map"][0][0], 1);
}

/// FinishUpload's disk work runs on the blocking pool: with more finishes held inside it than
/// the runtime has workers, other requests are still answered.
#[test]
fn blocking_work_leaves_the_async_workers_free() {
    let gate = Arc::new((Mutex::new((0usize, false)), Condvar::new()));
    let g = gate.clone();
    let hook = StepHook::new(move |step| {
        if step == "finish:verified" {
            let (m, cv) = &*g;
            let mut st = m.lock().unwrap();
            st.0 += 1;
            cv.notify_all();
            while !st.1 {
                st = cv.wait(st).unwrap();
            }
        }
    });
    let emu = start(EmulatorConfig {
        step_hook: hook,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let files: Vec<Vec<u8>> = (0..3).map(|i| data(1000 + i, i as u64)).collect();
    for f in &files {
        let sha = sha1_hex(f);
        assert_eq!(c.init(&sha, f.len() as u64, PART)["code"], 0);
        assert_eq!(c.part(&sha, 0, f)["code"], 0);
    }
    std::thread::scope(|s| {
        let finishing: Vec<_> = files
            .iter()
            .map(|f| {
                let c = c.clone();
                s.spawn(move || c.finish(&sha1_hex(f)))
            })
            .collect();
        let (m, cv) = &*gate;
        let mut st = m.lock().unwrap();
        while st.0 < 3 {
            st = cv.wait(st).unwrap();
        }
        drop(st);
        // Three finishes held, two async workers: still answering.
        assert_eq!(c.init(&"12".repeat(20), 10, PART)["code"], 0);
        let health = c
            .agent
            .get(&format!("http://{}/_emulator/health", emu.addr()))
            .call()
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
        m.lock().unwrap().1 = true;
        cv.notify_all();
        for h in finishing {
            let r = h.join().unwrap();
            assert_eq!(r["code"], 0, "{r}");
        }
    });
}

#[test]
fn concurrent_copies_of_one_signed_part_are_accepted_once() {
    let emu = start(EmulatorConfig::default());
    let c = Client::new(&emu);
    let file = data(PART as usize, 9);
    let sha = sha1_hex(&file);
    assert_eq!(c.init(&sha, PART, PART)["code"], 0);
    let p = c.params(
        "POST",
        "UploadPart",
        &[
            ("fileSha", &sha),
            ("offset", "0"),
            ("dataSize", &PART.to_string()),
            ("dataMd5", &md5_hex(&file)),
        ],
    );
    const COPIES: usize = 8;
    let barrier = Barrier::new(COPIES);
    let codes: Vec<i64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..COPIES)
            .map(|_| {
                // Each copy on its own connection.
                let mut c = c.clone();
                c.agent = agent(None);
                let (p, file, barrier) = (&p, &file, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    c.send_params("POST", p, file).code()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    assert_eq!(
        codes.iter().filter(|&&c| c == 4500).count(),
        COPIES - 1,
        "{codes:?}"
    );
    let stats = emu.stats();
    assert_eq!(stats.parts_stored, 1);
    assert_eq!(stats.replays_refused, COPIES as u64 - 1);
}

/// A raw request signed for the canonical host, sent with `Host: attacker.example`.
fn finish_with_host(emu: &Emulator, sha: &str, host: &str) -> Value {
    let mut c = Client::new(emu);
    c.sign_host = "vod2.qcloud.com".into();
    let t = c.target("POST", "FinishUpload", &[("fileSha", sha)]);
    let mut s = connect(emu.addr());
    write!(
        s,
        "POST {t} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let (_, _, body) = read_answer(&mut s).unwrap();
    body_json(&body)
}

#[test]
fn urls_come_from_the_listening_address_or_the_public_url_never_the_host_header() {
    for public in [None, Some("https://files.example.test:8443/media/")] {
        let emu = start(EmulatorConfig {
            public_url: public.map(str::to_string),
            ..EmulatorConfig::default()
        });
        let c = Client::new(&emu);
        let file = data(2000, 4);
        let sha = sha1_hex(&file);
        assert_eq!(c.init(&sha, 2000, PART)["code"], 0);
        assert_eq!(c.part(&sha, 0, &file)["code"], 0);
        let r = finish_with_host(&emu, &sha, "attacker.example");
        assert_eq!(r["code"], 0, "{r}");
        let id = r["fileId"].as_str().unwrap();
        let base = match public {
            None => format!("http://{}", emu.addr()),
            Some(p) => p.trim_end_matches('/').to_string(),
        };
        let url = format!("{base}/vod/{id}/f0.mp4");
        assert_eq!(r["url"], url.as_str(), "{r}");
        // Again (a retry), and the instant upload, with the same forged Host.
        assert_eq!(
            finish_with_host(&emu, &sha, "attacker.example")["url"],
            url.as_str()
        );
        let event = c.call("POST", "PullEvent", &[], b"").json();
        assert_eq!(
            event["eventList"][0]["eventContent"]["data"]["fileUrl"],
            url.as_str(),
            "{event}"
        );
        assert!(!event.to_string().contains("attacker"), "{event}");
    }
}

#[test]
fn a_request_line_that_is_not_utf8_gets_the_protocol_json() {
    let emu = start(EmulatorConfig::default());
    let c = Client::new(&emu);
    let mut s = connect(emu.addr());
    // What the provider's Node.js SDK sends for the name "café": Latin-1, not percent-encoded.
    let mut req = b"POST /v2/index.php?Action=InitUpload&fileName=caf\xe9&fileSha=".to_vec();
    req.extend_from_slice(
        format!(
            "{}&fileSize=10 HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
            "ab".repeat(20),
            emu.addr()
        )
        .as_bytes(),
    );
    s.write_all(&req).unwrap();
    let (status, head, body) = read_answer(&mut s).unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/json"), "{head}");
    let v = body_json(&body);
    assert_eq!(v["code"], -10001, "{v}");
    assert_eq!(v["canRetry"], 0);
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("fileName") && msg.contains("0xE9") && msg.contains("Latin-1"),
        "{msg}"
    );
    // The connection goes on: the next request on it is served.
    let t = c.target(
        "POST",
        "InitUpload",
        &[
            ("fileName", "ok"),
            ("fileSha", &"ab".repeat(20)),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
    );
    write!(
        s,
        "POST {t} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
        emu.addr()
    )
    .unwrap();
    let (_, _, body) = read_answer(&mut s).unwrap();
    assert_eq!(body_json(&body)["code"], 0);

    // Raw UTF-8 in the request line is a name like its percent-encoded form.
    let p = c.params(
        "POST",
        "InitUpload",
        &[
            ("fileName", "café 中"),
            ("fileSha", &"cd".repeat(20)),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
    );
    let query: Vec<String> = p
        .iter()
        .map(|(k, v)| {
            if k == "fileName" {
                format!("{k}={}", v.replace(' ', "%20"))
            } else {
                format!("{k}={}", vodupload::signature::percent_encode(v))
            }
        })
        .collect();
    let mut s = connect(emu.addr());
    write!(
        s,
        "POST /v2/index.php?{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
        query.join("&"),
        emu.addr()
    )
    .unwrap();
    let (_, _, body) = read_answer(&mut s).unwrap();
    assert_eq!(
        body_json(&body)["code"],
        0,
        "{}",
        String::from_utf8_lossy(&body)
    );
}

/// Whatever is wrong with a request on the API path, the answer is the JSON envelope.
#[test]
fn every_answer_on_the_api_path_is_the_json_envelope() {
    let emu = start(EmulatorConfig::default());
    let host = emu.addr();
    let c = Client::new(&emu);
    let sha = "ab".repeat(20);
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("both framings", format!("POST /v2/index.php?Action=InitUpload HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes()),
        ("unknown coding", format!("POST /v2/index.php HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip\r\n\r\n").into_bytes()),
        ("bad length", format!("POST /v2/index.php HTTP/1.1\r\nHost: {host}\r\nContent-Length: ten\r\n\r\n").into_bytes()),
        ("HTTP/2 line", b"POST /v2/index.php HTTP/2.0\r\n\r\n".to_vec()),
        ("control byte", b"POST /v2/index.php?a=\x01 HTTP/1.1\r\n\r\n".to_vec()),
        ("bad header", b"POST /v2/index.php HTTP/1.1\r\nNo Colon Here\r\n\r\n".to_vec()),
        ("head too large", format!("POST /v2/index.php HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000)).into_bytes()),
        ("garbage", b"\x00\x01GARBAGE\r\n\r\n".to_vec()),
        ("bad chunk", {
            let t = c.target("POST", "UploadPart", &[("fileSha", &sha), ("offset", "0"), ("dataSize", "10"), ("dataMd5", &"00".repeat(16))]);
            format!("POST {t} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n").into_bytes()
        }),
        ("no action", format!("GET /v3/index.php HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
    ];
    for (what, req) in cases {
        let mut s = connect(host);
        s.write_all(&req).unwrap();
        let (status, head, body) =
            read_answer(&mut s).unwrap_or_else(|| panic!("{what}: no answer"));
        assert!(
            head.contains("content-type: application/json"),
            "{what}: {head}"
        );
        let v = body_json(&body);
        let code = v["code"].as_i64().unwrap_or_else(|| panic!("{what}: {v}"));
        let expected = if what == "bad chunk" { -10006 } else { -10001 };
        assert_eq!(code, expected, "{what}: {v}");
        for k in ["message", "codeDesc", "canRetry"] {
            assert!(v.get(k).is_some(), "{what}: {k} missing in {v}");
        }
        assert!(
            status == 200 || status == 400 || status == 431,
            "{what}: {status}"
        );
    }
    // And it still serves.
    assert_eq!(c.init(&"cd".repeat(20), 10, PART)["code"], 0);
}
