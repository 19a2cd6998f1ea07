//! The emulator over real sockets: the protocol, every error code, faults, restarts, HTTPS.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use vodupload::signature::SignatureMethod;
use vodupload_emulator::{Emulator, EmulatorConfig, Faults, TlsSetup};

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("emulator starts")
}

fn default_emu() -> Emulator {
    start(EmulatorConfig::default())
}

fn msg(v: &Value) -> String {
    v["message"].as_str().unwrap_or("").to_string()
}

fn assert_err(v: &Value, code: i64, retry: i64, contains: &str) {
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["canRetry"], retry, "{v}");
    assert!(
        msg(v).contains(contains),
        "message {:?} should contain {contains:?}",
        msg(v)
    );
}

#[test]
fn happy_path_instant_upload_and_download() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let file = data((3 * PART + PART / 2) as usize, 1);
    let sha = sha1_hex(&file);

    let r = c.init(&sha, file.len() as u64, PART);
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(r["canRetry"], 0);
    // Parts out of order.
    for i in [3usize, 0, 2, 1] {
        let chunk = &file[i * PART as usize..((i + 1) * PART as usize).min(file.len())];
        let r = c.part(&sha, i as u64 * PART, chunk);
        assert_eq!(r["code"], 0, "part {i}: {r}");
    }
    let fin = c.finish(&sha);
    assert_eq!(fin["code"], 0, "{fin}");
    let file_id = fin["fileId"].as_str().unwrap().to_string();
    assert!(file_id.len() >= 19 && file_id.bytes().all(|b| b.is_ascii_digit()));
    let url = fin["url"].as_str().unwrap().to_string();
    assert_eq!(url, format!("http://{}/vod/{file_id}/f0.mp4", emu.addr()));

    // The url serves the bytes.
    let resp = c.agent.get(&url).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-length")
            .unwrap()
            .to_str()
            .unwrap(),
        file.len().to_string()
    );
    let got = resp
        .into_body()
        .with_config()
        .limit(100 << 20)
        .read_to_vec()
        .unwrap();
    assert!(got == file, "downloaded bytes differ");

    // Instant upload, then finish after instant: same fileId and url.
    let r = c.init(&sha, file.len() as u64, PART);
    assert_eq!(r["code"], 2, "{r}");
    assert_eq!(r["fileId"], file_id.as_str());
    assert_eq!(r["url"], url.as_str());
    let r = c.finish(&sha);
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(r["fileId"], file_id.as_str());
    assert_eq!(r["url"], url.as_str());

    // A part for a finished file is refused.
    let r = c.part(&sha, 0, &file[..PART as usize]);
    assert_err(&r, -10003, 0, "already finished");

    let s = emu.stats();
    assert_eq!(s.init_calls, 2);
    assert_eq!(s.part_calls, 5);
    assert_eq!(s.finish_calls, 2);
    assert_eq!(s.parts_stored, 4);
    assert_eq!(s.part_bytes_stored, file.len() as u64);
    assert_eq!(s.errors_returned, 1);
    assert_eq!(s.faults_injected, 0);
    assert!(s.requests >= 10);

    // Unknown file and other paths: 404.
    let r = c
        .agent
        .get(&format!("http://{}/vod/123/f0.mp4", emu.addr()))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = c
        .agent
        .get(&format!("http://{}/vod/{file_id}/f0.flv", emu.addr()))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = c
        .agent
        .get(&format!("http://{}/nope", emu.addr()))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[test]
fn json_headers_and_date() {
    let emu = start(EmulatorConfig {
        clock_offset_secs: 86_400,
        ..EmulatorConfig::default()
    });
    let mut c = Client::new(&emu);
    c.ts_offset = 86_400;
    let a = c.call(
        "POST",
        "InitUpload",
        &[
            ("fileName", "a"),
            ("fileSha", &"ab".repeat(20)),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
        b"",
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    let v = a.json();
    assert_eq!(v["code"], 0);
    for k in ["message", "codeDesc", "canRetry"] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    // The Date header follows the emulator's (offset) clock.
    let date = httpdate::parse_http_date(a.date.as_deref().unwrap()).unwrap();
    let secs = date
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((secs - (now() + 86_400)).abs() < 60, "{secs}");

    // With the system clock the timestamp is a day off: refused.
    c.ts_offset = 0;
    let v = c.init(&"cd".repeat(20), 10, PART);
    assert_err(&v, 4500, 0, "expired");
}

#[test]
fn a_timestamp_in_milliseconds_is_read_as_the_service_reads_it() {
    // The provider's Node.js SDK sends Date.now(): milliseconds, within the window once read so.
    let emu = default_emu();
    let c = Client::new(&emu);
    let init = |ts_ms: i64| {
        let ts = ts_ms.to_string();
        let p = c.params(
            "POST",
            "InitUpload",
            &[
                ("Timestamp", &ts),
                ("fileName", "a"),
                ("fileSha", &"ab".repeat(20)),
                ("fileSize", "10"),
                ("dataSize", "524288"),
                ("fileType", "mp4"),
            ],
        );
        c.send_params("POST", &p, b"").json()
    };
    assert_eq!(init(now() * 1000 + 123)["code"], 0);
    assert_eq!(emu.stats().millisecond_timestamps, 1);
    // The window holds for milliseconds too, and the refusal says how the value was read.
    let v = init((now() - 3 * 3600) * 1000);
    assert_err(&v, 4500, 0, "read as milliseconds");
    assert_eq!(emu.stats().millisecond_timestamps, 1);
    // A client in seconds is never counted.
    assert_eq!(c.init(&"cd".repeat(20), 10, PART)["code"], 0);
    assert_eq!(emu.stats().millisecond_timestamps, 1);
}

#[test]
fn a_clock_offset_beyond_ten_years_is_refused() {
    for secs in [10 * 365 * 86_400 + 1, -(10 * 365 * 86_400 + 1), i64::MIN] {
        let e = Emulator::start(EmulatorConfig {
            clock_offset_secs: secs,
            ..EmulatorConfig::default()
        })
        .err()
        .unwrap_or_else(|| panic!("an offset of {secs} s was accepted"));
        assert!(e.to_string().contains("ten years"), "{e}");
    }
    // The largest offset accepted still gives a Date header.
    let emu = start(EmulatorConfig {
        clock_offset_secs: -10 * 365 * 86_400,
        ..EmulatorConfig::default()
    });
    let mut c = Client::new(&emu);
    c.ts_offset = -10 * 365 * 86_400;
    let a = c.call(
        "POST",
        "InitUpload",
        &[
            ("fileName", "a"),
            ("fileSha", &"ab".repeat(20)),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
        b"",
    );
    assert_eq!(a.json()["code"], 0, "{}", a.body);
    assert!(a.date.is_some());
}

#[test]
fn resume_lists_parts_with_original_data_size() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let file = data((4 * PART + 100) as usize, 2);
    let sha = sha1_hex(&file);
    assert_eq!(c.init(&sha, file.len() as u64, PART)["code"], 0);
    // No parts yet: still code 0.
    assert_eq!(c.init(&sha, file.len() as u64, PART)["code"], 0);
    let p = PART as usize;
    assert_eq!(c.part(&sha, 2 * PART, &file[2 * p..3 * p])["code"], 0);
    assert_eq!(c.part(&sha, 0, &file[..p])["code"], 0);
    assert_eq!(c.part(&sha, 4 * PART, &file[4 * p..])["code"], 0);
    // A different dataSize in a later Init is ignored: the session keeps its own.
    let r = c.init(&sha, file.len() as u64, 1_048_576);
    assert_eq!(r["code"], 1, "{r}");
    assert_eq!(r["dataSize"], PART);
    let parts = r["listParts"].as_array().unwrap();
    let got: Vec<(u64, u64, String)> = parts
        .iter()
        .map(|x| {
            (
                x["offset"].as_u64().unwrap(),
                x["dataSize"].as_u64().unwrap(),
                x["dataMd5"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, PART, md5_hex(&file[..p])),
            (2 * PART, PART, md5_hex(&file[2 * p..3 * p])),
            (4 * PART, 100, md5_hex(&file[4 * p..])),
        ]
    );
    // A different fileSize for the same fileSha is refused.
    let r = c.init(&sha, file.len() as u64 + 1, PART);
    assert_err(&r, -10003, 0, "fileSize");

    // Finish with parts missing.
    let r = c.finish(&sha);
    assert_err(
        &r,
        -10003,
        0,
        &format!("parts missing: 2 of 5, first missing offset {PART}"),
    );
    // Re-sending a part replaces it; then complete and finish.
    assert_eq!(c.part(&sha, 0, &file[..p])["code"], 0);
    assert_eq!(c.part(&sha, PART, &file[p..2 * p])["code"], 0);
    assert_eq!(c.part(&sha, 3 * PART, &file[3 * p..4 * p])["code"], 0);
    assert_eq!(c.finish(&sha)["code"], 0);
}

#[test]
fn methods_paths_and_uppercase_sha() {
    let emu = default_emu();
    let mut c = Client::new(&emu);
    let file = data(1000, 3);
    let sha = sha1_hex(&file);
    let upper = sha.to_ascii_uppercase();
    let init_params = [
        ("fileName", "clip"),
        ("fileSha", upper.as_str()),
        ("fileSize", "1000"),
        ("dataSize", "524288"),
        ("fileType", "flv"),
    ];

    // /v3 path, GET for InitUpload.
    c.path = "/v3/index.php".into();
    let r = c.call("GET", "InitUpload", &init_params, b"").json();
    assert_eq!(r["code"], 0, "{r}");

    // UploadPart by GET: refused.
    let md5 = md5_hex(&file);
    let part_params = [
        ("fileSha", sha.as_str()),
        ("offset", "0"),
        ("dataSize", "1000"),
        ("dataMd5", md5.as_str()),
    ];
    let r = c.call("GET", "UploadPart", &part_params, b"").json();
    assert_err(&r, 4600, 0, "POST");
    // PUT is no method of this protocol.
    let r = c.call("PUT", "UploadPart", &part_params, &file).json();
    assert_err(&r, 4600, 0, "PUT");
    // Unknown Action.
    let r = c.call("POST", "DescribeInstances", &[], b"").json();
    assert_err(&r, 4600, 0, "unknown Action");

    // Uppercase sha in UploadPart too (and an uppercase dataMd5).
    let md5_upper = md5.to_ascii_uppercase();
    let r = c
        .call(
            "POST",
            "UploadPart",
            &[
                ("fileSha", upper.as_str()),
                ("offset", "0"),
                ("dataSize", "1000"),
                ("dataMd5", md5_upper.as_str()),
            ],
            &file,
        )
        .json();
    assert_eq!(r["code"], 0, "{r}");
    // FinishUpload by GET on /v2, lowercase sha.
    c.path = "/v2/index.php".into();
    let r = c
        .call("GET", "FinishUpload", &[("fileSha", &sha)], b"")
        .json();
    assert_eq!(r["code"], 0, "{r}");
    assert!(r["url"].as_str().unwrap().ends_with("/f0.flv"));
    // And the instant upload recognises it whatever the case.
    let r = c.call("POST", "InitUpload", &init_params, b"").json();
    assert_eq!(r["code"], 2, "{r}");
}

#[test]
fn common_parameter_errors() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let sha = "ab".repeat(20);
    let init = [
        ("fileName", "x"),
        ("fileSha", sha.as_str()),
        ("fileSize", "10"),
        ("dataSize", "524288"),
        ("fileType", "mp4"),
    ];
    // Each common parameter missing in turn (the rest signed correctly).
    for missing in ["Region", "Timestamp", "Nonce", "SecretId", "Signature"] {
        let mut p = c.params("POST", "InitUpload", &init);
        p.retain(|(k, _)| k != missing);
        if missing != "Signature" {
            // Re-sign without it so only the missing parameter is wrong.
            p.retain(|(k, _)| k != "Signature");
            let sig = vodupload::signature::sign(
                "POST",
                &c.sign_host,
                &c.path,
                &p,
                &c.key,
                SignatureMethod::HmacSha1,
            );
            p.push(("Signature".into(), sig));
        }
        let r = c.send_params("POST", &p, b"").json();
        assert_err(&r, -10001, 0, missing);
    }
    // Missing Action.
    let r = c.call("POST", "", &init, b"").json();
    assert_err(&r, -10001, 0, "Action");
    // Bad values.
    let r = c
        .call(
            "POST",
            "InitUpload",
            &[init.as_slice(), &[("Nonce", "0")]].concat(),
            b"",
        )
        .json();
    assert_err(&r, -10001, 0, "Nonce");
    let r = c
        .call(
            "POST",
            "InitUpload",
            &[init.as_slice(), &[("Timestamp", "soon")]].concat(),
            b"",
        )
        .json();
    assert_err(&r, -10001, 0, "Timestamp");
    let r = c
        .call(
            "POST",
            "InitUpload",
            &[init.as_slice(), &[("SignatureMethod", "HmacMD5")]].concat(),
            b"",
        )
        .json();
    assert_err(&r, -10001, 0, "SignatureMethod");

    // Malformed query strings: invalid UTF-8, duplicates, far too long.
    let host = emu.addr();
    let a = raw(
        host,
        format!("POST /v2/index.php?Action=InitUpload&fileName=%FF%FE HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    assert_err(&raw_json(&a), -10001, 0, "UTF-8");
    let a = raw(
        host,
        format!("POST /v2/index.php?Action=InitUpload&Action=InitUpload HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_err(&raw_json(&a), -10001, 0, "more than once");
    let long = "a".repeat(40_000);
    let a = raw(
        host,
        format!("POST /v2/index.php?Action=InitUpload&x={long} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_err(&raw_json(&a), -10001, 0, "too long");
    // No query at all.
    let a = raw(
        host,
        format!("POST /v2/index.php HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_err(&raw_json(&a), -10001, 0, "Action");
    // Garbage is not a crash: the server still answers afterwards.
    let _ = raw(host, b"\x00\x01GARBAGE\r\n\r\n");
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);
}

#[test]
fn signature_errors_and_accepted_hosts() {
    let emu = start(EmulatorConfig {
        credentials: vec![
            ("AKIDone".into(), "key-one".into()),
            ("AKIDtwo".into(), "key-two".into()),
        ],
        ..EmulatorConfig::default()
    });
    let mut c = Client::new(&emu);
    let sha = "cd".repeat(20);
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);

    // Wrong key.
    let mut bad = c.clone();
    bad.key = "not-the-key".into();
    assert_err(&bad.init(&sha, 10, PART), -10002, 0, "signature mismatch");
    // Unknown SecretId.
    let mut unknown = c.clone();
    unknown.id = "AKIDnobody".into();
    assert_err(&unknown.init(&sha, 10, PART), -10002, 0, "unknown SecretId");
    // Another credential works.
    let mut two = c.clone();
    two.id = "AKIDtwo".into();
    two.key = "key-two".into();
    assert_eq!(two.init(&sha, 10, PART)["code"], 0);
    // Signed for the wrong method or path.
    let p = c.params("GET", "InitUpload", &[("fileSha", &sha)]);
    assert_err(
        &c.send_params("POST", &p, b"").json(),
        -10002,
        0,
        "mismatch",
    );
    // A tampered parameter.
    let mut p = c.params(
        "POST",
        "InitUpload",
        &[
            ("fileName", "x"),
            ("fileSha", &sha),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
    );
    for (k, v) in p.iter_mut() {
        if k == "fileSize" {
            *v = "11".into();
        }
    }
    assert_err(
        &c.send_params("POST", &p, b"").json(),
        -10002,
        0,
        "mismatch",
    );

    // Hosts: canonical, the Host header without port; HmacSHA256.
    c.sign_host = "vod2.qcloud.com".into();
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);
    c.sign_host = "127.0.0.1".into();
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);
    c.sign_host = "evil.example".into();
    assert_eq!(c.init(&sha, 10, PART)["code"], -10002);
    c.sign_host = emu.addr().to_string();
    c.method = SignatureMethod::HmacSha256;
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);

    // Unused parameters (as the PHP SDK sends) are signed and ignored; values with spaces,
    // '+' and '/' are signed raw.
    let r = c
        .call(
            "POST",
            "InitUpload",
            &[
                ("fileName", "a b+c"),
                ("fileSha", &sha),
                ("fileSize", "10"),
                ("dataSize", "524288"),
                ("fileType", "mp4"),
                ("RequestClient", "SDK_PHP_1.4"),
                ("tag.1", "x y"),
                ("tags.2", "z/w"),
                ("classId", "3"),
                ("isTranscode", "1"),
                ("notifyUrl", "http://example.invalid/cb?a=1&b=2"),
                ("storeTime", "3600"),
            ],
            b"",
        )
        .json();
    assert_eq!(r["code"], 0, "{r}");
}

#[test]
fn init_protocol_errors() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let sha = "ef".repeat(20);
    let base = [
        ("fileName", "ok"),
        ("fileSha", sha.as_str()),
        ("fileSize", "10"),
        ("dataSize", "524288"),
        ("fileType", "mp4"),
    ];
    let with = |k: &str, v: &str| {
        let mut p: Vec<(&str, String)> = base.iter().map(|(a, b)| (*a, b.to_string())).collect();
        for e in p.iter_mut() {
            if e.0 == k {
                e.1 = v.to_string();
            }
        }
        let p2: Vec<(&str, &str)> = p.iter().map(|(a, b)| (*a, b.as_str())).collect();
        c.call("POST", "InitUpload", &p2, b"").json()
    };
    let without = |k: &str| {
        let p: Vec<(&str, &str)> = base.iter().copied().filter(|(a, _)| *a != k).collect();
        c.call("POST", "InitUpload", &p, b"").json()
    };
    let long_name = "n".repeat(41);
    let long_type = "m".repeat(17);
    let cases: Vec<(Value, &str)> = vec![
        (with("fileName", &long_name), "at most 40"),
        // The client's rule and its words (vodupload::options::validate_name).
        (with("fileName", "a/b"), "the service refuses"),
        (with("fileName", "a:b"), "the service refuses"),
        (with("fileName", "a*b"), "the service refuses"),
        (with("fileName", "a?b"), "the service refuses"),
        (with("fileName", "a\"b"), "the service refuses"),
        (with("fileName", "a<b"), "the service refuses"),
        (with("fileName", "a\\b"), "the service refuses"),
        (with("fileName", "../up"), "the service refuses"),
        (with("fileName", ".."), "is only dots"),
        (with("fileName", ""), "fileName"),
        (without("fileName"), "missing parameter fileName"),
        (with("fileSha", "abc"), "fileSha"),
        (with("fileSha", &"zz".repeat(20)), "fileSha"),
        (without("fileSha"), "fileSha"),
        (with("fileSize", "0"), "fileSize"),
        (with("fileSize", "-5"), "fileSize"),
        (with("fileSize", "ten"), "fileSize"),
        (with("dataSize", "1000"), "dataSize"),
        (with("dataSize", "0"), "dataSize"),
        (without("dataSize"), "dataSize"),
        (with("fileType", ""), "fileType"),
        (with("fileType", "m.p4"), "fileType"),
        (with("fileType", &long_type), "fileType"),
    ];
    for (r, needle) in cases {
        assert_err(&r, -10003, 0, needle);
    }
    // Optional parameters are validated too.
    let r = c
        .call(
            "POST",
            "InitUpload",
            &[base.as_slice(), &[("classId", "x")]].concat(),
            b"",
        )
        .json();
    assert_err(&r, -10003, 0, "classId");
    let r = c
        .call(
            "POST",
            "InitUpload",
            &[base.as_slice(), &[("isWatermark", "2")]].concat(),
            b"",
        )
        .json();
    assert_err(&r, -10003, 0, "isWatermark");
    // 40 bytes exactly is fine, and the 1 MiB part size.
    let name40 = "n".repeat(40);
    assert_eq!(with("fileName", &name40)["code"], 0);
    assert_eq!(c.init(&"12".repeat(20), 10, 1_048_576)["code"], 0);
}

#[test]
fn any_part_size_option() {
    let emu = start(EmulatorConfig {
        any_part_size: true,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let file = data(10_000, 4);
    let r = c.upload(&file, 4096);
    assert_eq!(r["code"], 0, "{r}");
    assert_err(&c.init(&"34".repeat(20), 10, 0), -10003, 0, "dataSize");
    assert_err(
        &c.init(&"34".repeat(20), 10, 64 * 1024 * 1024 + 1),
        -10003,
        0,
        "dataSize",
    );
}

#[test]
fn upload_part_protocol_and_body_errors() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let file = data((PART + 1000) as usize, 5);
    let sha = sha1_hex(&file);
    let p = PART as usize;
    assert_eq!(c.init(&sha, file.len() as u64, PART)["code"], 0);
    let part = |offset: &str, size: &str, md5: &str, body: &[u8]| {
        c.call(
            "POST",
            "UploadPart",
            &[
                ("fileSha", sha.as_str()),
                ("offset", offset),
                ("dataSize", size),
                ("dataMd5", md5),
            ],
            body,
        )
        .json()
    };
    let md5_0 = md5_hex(&file[..p]);
    let md5_last = md5_hex(&file[p..]);
    // -10003: offset not a multiple, beyond the end, wrong dataSize, wrong last size, bad md5,
    // unknown session.
    assert_err(
        &part("1000", "524288", &md5_0, &file[..p]),
        -10003,
        0,
        "multiple",
    );
    assert_err(
        &part(&(2 * PART).to_string(), "524288", &md5_0, &file[..p]),
        -10003,
        0,
        "beyond",
    );
    assert_err(
        &part("0", "1000", &md5_0, &file[..1000]),
        -10003,
        0,
        "dataSize",
    );
    assert_err(
        &part(&PART.to_string(), "524288", &md5_last, &file[p..]),
        -10003,
        0,
        "last part",
    );
    assert_err(
        &part("0", "524288", "xyz", &file[..p]),
        -10003,
        0,
        "dataMd5",
    );
    assert_err(&part("", "524288", &md5_0, &file[..p]), -10003, 0, "offset");
    let other = c
        .call(
            "POST",
            "UploadPart",
            &[
                ("fileSha", &"99".repeat(20)),
                ("offset", "0"),
                ("dataSize", "524288"),
                ("dataMd5", &md5_0),
            ],
            &file[..p],
        )
        .json();
    assert_err(&other, -10003, 0, "InitUpload first");

    // -10006: wrong length (shorter body), wrong MD5.
    assert_err(
        &part("0", "524288", &md5_0, &file[..p - 1]),
        -10006,
        0,
        "Content-Length",
    );
    let mut corrupt = file[..p].to_vec();
    corrupt[17] ^= 1;
    assert_err(
        &part("0", "524288", &md5_0, &corrupt),
        -10006,
        0,
        "dataMd5 mismatch",
    );
    // Oversized body announced by Content-Length: refused without reading it.
    let params = c.params(
        "POST",
        "UploadPart",
        &[
            ("fileSha", sha.as_str()),
            ("offset", "0"),
            ("dataSize", "524288"),
            ("dataMd5", &md5_0),
        ],
    );
    let url = c.url_for(&params);
    let target = &url[url.find("/v2/").unwrap()..];
    let host = emu.addr();
    let a = raw(
        host,
        format!("POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10000000000\r\n\r\n")
            .as_bytes(),
    );
    assert_err(&raw_json(&a), -10006, 0, "Content-Length");
    assert!(a.to_ascii_lowercase().contains("connection: close"), "{a}");
    // Oversized chunked body: cut off at the part length.
    let params = c.params(
        "POST",
        "UploadPart",
        &[
            ("fileSha", sha.as_str()),
            ("offset", &PART.to_string()),
            ("dataSize", "1000"),
            ("dataMd5", &md5_last),
        ],
    );
    let url = c.url_for(&params);
    let target = &url[url.find("/v2/").unwrap()..];
    let mut req =
        format!("POST {target} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    req.extend_from_slice(b"7D0\r\n");
    req.extend_from_slice(&[7u8; 2000]);
    req.extend_from_slice(b"\r\n");
    let a = raw(host, &req);
    assert_err(&raw_json(&a), -10006, 0, "longer");
    // A chunked body of the right length is accepted.
    let params = c.params(
        "POST",
        "UploadPart",
        &[
            ("fileSha", sha.as_str()),
            ("offset", &PART.to_string()),
            ("dataSize", "1000"),
            ("dataMd5", &md5_last),
        ],
    );
    let url = c.url_for(&params);
    let target = &url[url.find("/v2/").unwrap()..];
    let mut req = format!(
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in file[p..].chunks(300) {
        req.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let a = raw(host, &req);
    assert_eq!(raw_json(&a)["code"], 0, "{a}");

    // Nothing bad was stored: only the chunked last part.
    let r = c.init(&sha, file.len() as u64, PART);
    assert_eq!(r["code"], 1, "{r}");
    assert_eq!(r["listParts"].as_array().unwrap().len(), 1);
    // Finish with the first part missing.
    assert_err(
        &c.finish(&sha),
        -10003,
        0,
        "parts missing: 1 of 2, first missing offset 0",
    );
    assert_eq!(c.part(&sha, 0, &file[..p])["code"], 0);
    assert_eq!(c.finish(&sha)["code"], 0);
    // No temp files left behind.
    let tmp: Vec<_> = std::fs::read_dir(emu.state_dir().join("tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

#[test]
fn finish_sha_mismatch_clears_parts() {
    let emu = start(EmulatorConfig {
        any_part_size: true,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let file = data(3000, 6);
    let wrong_sha = sha1_hex(b"something else");
    assert_eq!(c.init(&wrong_sha, 3000, 1000)["code"], 0);
    for i in 0..3 {
        assert_eq!(
            c.part(&wrong_sha, i * 1000, &file[i as usize * 1000..][..1000])["code"],
            0
        );
    }
    assert_err(&c.finish(&wrong_sha), -10003, 0, "does not match fileSha");
    // The parts are gone: a new Init starts clean.
    assert_eq!(c.init(&wrong_sha, 3000, 1000)["code"], 0);
    assert_err(&c.finish(&wrong_sha), -10003, 0, "parts missing: 3 of 3");
}

#[test]
fn stale_timestamp_and_replay() {
    let emu = default_emu();
    let mut c = Client::new(&emu);
    let sha = "56".repeat(20);
    c.ts_offset = -3 * 3600;
    assert_err(&c.init(&sha, 10, PART), 4500, 0, "expired");
    c.ts_offset = 3 * 3600;
    assert_err(&c.init(&sha, 10, PART), 4500, 0, "expired");
    c.ts_offset = -3600; // within 2 h
    assert_eq!(c.init(&sha, 10, PART)["code"], 0);
    c.ts_offset = 0;

    // The same signed request twice: the second is a replay.
    let p = c.params(
        "POST",
        "InitUpload",
        &[
            ("fileName", "x"),
            ("fileSha", &sha),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
    );
    assert_eq!(c.send_params("POST", &p, b"").code(), 0);
    let r = c.send_params("POST", &p, b"").json();
    assert_err(&r, 4500, 0, "replay");
    // A failed request can be sent again (it did nothing).
    let p = c.params("POST", "FinishUpload", &[("fileSha", &sha)]);
    assert_eq!(c.send_params("POST", &p, b"").code(), -10003);
    assert_eq!(c.send_params("POST", &p, b"").code(), -10003);
}

#[test]
fn rate_limit_init() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let sha = "78".repeat(20);
    for i in 0..100 {
        let r = c.init(&sha, 10, PART);
        assert_eq!(r["code"], 0, "call {i}: {r}");
    }
    let r = c.init(&sha, 10, PART);
    assert_err(&r, 4400, 1, "too often");
    // Other actions have their own window.
    assert_eq!(c.finish(&sha)["code"], -10003);

    let free = start(EmulatorConfig {
        rate_limit: false,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&free);
    for _ in 0..101 {
        assert_eq!(c.init(&sha, 10, PART)["code"], 0);
    }
}

#[test]
fn fault_fail_and_502_and_truncate() {
    let emu = start(EmulatorConfig {
        faults: Faults {
            fail_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let sha = "9a".repeat(20);
    let r = c.init(&sha, 10, PART);
    assert_err(&r, -10004, 1, "write cache failed");
    let r = c.part(&sha, 0, &data(10, 1));
    assert_err(&r, -10004, 1, "write cache failed");
    assert_eq!(emu.stats().faults_injected, 2);
    // File downloads are never faulted.
    let a = c
        .agent
        .get(&format!("http://{}/vod/1/f0.mp4", emu.addr()))
        .call()
        .unwrap();
    assert_eq!(a.status().as_u16(), 404);
    drop(emu);

    let emu = start(EmulatorConfig {
        faults: Faults {
            http502_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let a = c.call("POST", "FinishUpload", &[("fileSha", &sha)], b"");
    assert_eq!(a.status, 502);
    assert!(a.body.contains("<html>"), "{}", a.body);
    assert_eq!(a.content_type.as_deref(), Some("text/html"));
    drop(emu);

    let state = tempfile::tempdir().unwrap();
    let emu = start(EmulatorConfig {
        state_dir: Some(state.path().to_path_buf()),
        faults: Faults {
            truncate_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let a = c.call(
        "POST",
        "InitUpload",
        &[
            ("fileName", "x"),
            ("fileSha", &sha),
            ("fileSize", "10"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
        ],
        b"",
    );
    assert_eq!(a.status, 200);
    assert!(
        serde_json::from_str::<Value>(&a.body).is_err(),
        "{}",
        a.body
    );
    assert!(a.body.starts_with('{') && !a.body.is_empty());
    let creds = emu.credentials().to_vec();
    drop(emu);
    // The work was done: the session exists.
    let emu = start(EmulatorConfig {
        state_dir: Some(state.path().to_path_buf()),
        credentials: creds,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    assert_err(&c.finish(&sha), -10003, 0, "parts missing: 1 of 1");
}

#[test]
fn fault_slow_and_latency() {
    let emu = start(EmulatorConfig {
        faults: Faults {
            slow_rate: 1.0,
            slow_ms: 400,
            latency_ms: 100,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let t = Instant::now();
    assert_eq!(c.init(&"bc".repeat(20), 10, PART)["code"], 0);
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    // A client with a shorter timeout gives up.
    let impatient = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(200)))
            .build(),
    );
    let p = c.params("POST", "FinishUpload", &[("fileSha", &"bc".repeat(20))]);
    assert!(impatient.post(&c.url_for(&p)).send(&b""[..]).is_err());
}

/// `--bandwidth` is one link for every connection: two uploads side by side together take at
/// least their bytes over the rate. (A floor that holds on any machine; no upper bound asserted.)
#[test]
fn bandwidth_is_one_link_shared_by_every_connection() {
    let emu = start(EmulatorConfig {
        faults: Faults {
            bandwidth_bytes_per_sec: 2_000_000,
            ..Faults::default()
        },
        rate_limit: false,
        ..EmulatorConfig::default()
    });
    let files = [data(2 * PART as usize, 81), data(2 * PART as usize, 82)];
    let t = Instant::now();
    std::thread::scope(|s| {
        for file in &files {
            let c = Client::new(&emu);
            s.spawn(move || assert_eq!(c.upload(file, PART)["code"], 0));
        }
    });
    let floor = Duration::from_secs_f64((4 * PART) as f64 / 2_000_000.0);
    assert!(t.elapsed() >= floor, "{:?} < {floor:?}", t.elapsed());
}

#[test]
fn fault_drop_before_and_after_then_restart() {
    let state = tempfile::tempdir().unwrap();
    let creds = vec![("AKIDdrop".to_string(), "drop-key".to_string())];
    let file = data((8 * PART) as usize, 7);
    let sha = sha1_hex(&file);
    let cfg = |faults: Faults| EmulatorConfig {
        state_dir: Some(state.path().to_path_buf()),
        credentials: creds.clone(),
        faults,
        ..EmulatorConfig::default()
    };

    let emu = start(cfg(Faults::default()));
    assert_eq!(
        Client::new(&emu).init(&sha, file.len() as u64, PART)["code"],
        0
    );
    drop(emu);

    let emu = start(cfg(Faults {
        seed: 42,
        drop_rate: 1.0,
        ..Faults::default()
    }));
    let c = Client::new(&emu);
    for (i, chunk) in file.chunks(PART as usize).enumerate() {
        let p = c.params(
            "POST",
            "UploadPart",
            &[
                ("fileSha", sha.as_str()),
                ("offset", &(i as u64 * PART).to_string()),
                ("dataSize", &chunk.len().to_string()),
                ("dataMd5", &md5_hex(chunk)),
            ],
        );
        let r = c.agent.post(&c.url_for(&p)).send(chunk);
        assert!(r.is_err(), "part {i} should have been dropped: {r:?}");
    }
    let stats = emu.stats();
    assert_eq!(stats.faults_injected, 8);
    drop(emu);

    // Restarted without faults: the drop-after parts were stored, the drop-before ones not.
    let emu = start(cfg(Faults::default()));
    let c = Client::new(&emu);
    let r = c.init(&sha, file.len() as u64, PART);
    let stored: Vec<u64> = match r["code"].as_i64() {
        Some(1) => r["listParts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["offset"].as_u64().unwrap())
            .collect(),
        Some(0) => vec![],
        _ => panic!("{r}"),
    };
    assert!(
        !stored.is_empty() && stored.len() < 8,
        "seed 42 should give both kinds of drops: {stored:?}"
    );
    // A raw socket sees no answer at all for a dropped request.
    drop(emu);
    let emu = start(cfg(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    }));
    let c = Client::new(&emu);
    let p = c.params("POST", "FinishUpload", &[("fileSha", sha.as_str())]);
    let url = c.url_for(&p);
    let target = &url[url.find("/v2/").unwrap()..];
    let a = raw(
        emu.addr(),
        format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
            emu.addr()
        )
        .as_bytes(),
    );
    assert_eq!(a, "", "a dropped request gets no bytes back");
}

#[test]
fn restart_keeps_parts_and_finished_files() {
    let state = tempfile::tempdir().unwrap();
    let cfg = || EmulatorConfig {
        state_dir: Some(state.path().to_path_buf()),
        credentials: vec![("AKIDkeep".into(), "keep-key".into())],
        ..EmulatorConfig::default()
    };
    let done = data((PART + 5) as usize, 8);
    let partial = data((3 * PART) as usize, 9);
    let partial_sha = sha1_hex(&partial);
    let (file_id, url) = {
        let emu = start(cfg());
        let c = Client::new(&emu);
        let fin = c.upload(&done, PART);
        assert_eq!(fin["code"], 0);
        assert_eq!(c.init(&partial_sha, partial.len() as u64, PART)["code"], 0);
        assert_eq!(
            c.part(
                &partial_sha,
                PART,
                &partial[PART as usize..2 * PART as usize]
            )["code"],
            0
        );
        (
            fin["fileId"].as_str().unwrap().to_string(),
            fin["url"].as_str().unwrap().to_string(),
        )
    };
    let emu = start(cfg());
    let c = Client::new(&emu);
    let r = c.init(&sha1_hex(&done), done.len() as u64, PART);
    assert_eq!(r["code"], 2, "{r}");
    assert_eq!(r["fileId"], file_id.as_str());
    let path = &url[url.find("/vod/").unwrap()..];
    let got = c
        .agent
        .get(&format!("http://{}{path}", emu.addr()))
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap();
    assert!(got == done);
    let r = c.init(&partial_sha, partial.len() as u64, PART);
    assert_eq!(r["code"], 1, "{r}");
    assert_eq!(r["listParts"][0]["offset"], PART);
    assert_eq!(
        r["listParts"][0]["dataMd5"],
        md5_hex(&partial[PART as usize..2 * PART as usize]).as_str()
    );
    // Another credential does not see these files.
    drop(emu);
    let emu = start(EmulatorConfig {
        credentials: vec![("AKIDother".into(), "other".into())],
        ..cfg()
    });
    let r = Client::new(&emu).init(&sha1_hex(&done), done.len() as u64, PART);
    assert_eq!(r["code"], 0, "{r}");
}

#[test]
fn concurrent_parts_and_finishes() {
    let emu = default_emu();
    let c = Client::new(&emu);
    let file = data((6 * PART + 77) as usize, 10);
    let sha = sha1_hex(&file);
    assert_eq!(c.init(&sha, file.len() as u64, PART)["code"], 0);
    std::thread::scope(|s| {
        for t in 0..3 {
            let c = c.clone();
            let file = &file;
            let sha = &sha;
            s.spawn(move || {
                for (i, chunk) in file.chunks(PART as usize).enumerate().rev() {
                    if i % 3 == t || i == 0 {
                        // Part 0 is sent by every thread at once.
                        let r = c.part(sha, i as u64 * PART, chunk);
                        assert_eq!(r["code"], 0, "{r}");
                    }
                }
            });
        }
    });
    let ids: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                let sha = &sha;
                s.spawn(move || {
                    let r = c.finish(sha);
                    assert_eq!(r["code"], 0, "{r}");
                    r["fileId"].as_str().unwrap().to_string()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let url = c.finish(&sha)["url"].as_str().unwrap().to_string();
    let got = c
        .agent
        .get(&url)
        .call()
        .unwrap()
        .into_body()
        .with_config()
        .limit(100 << 20)
        .read_to_vec()
        .unwrap();
    assert!(got == file);
}

#[test]
fn https_self_signed() {
    let dir = tempfile::tempdir().unwrap();
    let cert_out = dir.path().join("cert.pem");
    let emu = start(EmulatorConfig {
        tls: Some(TlsSetup::SelfSigned {
            cert_out: Some(cert_out.clone()),
        }),
        ..EmulatorConfig::default()
    });
    assert_eq!(emu.scheme(), "https");
    assert!(emu.endpoint().starts_with("https://127.0.0.1:"));
    let pem = emu.ca_cert_pem().unwrap();
    assert!(pem.contains("BEGIN CERTIFICATE"));
    assert_eq!(std::fs::read_to_string(&cert_out).unwrap(), pem);
    // A client trusting only that certificate uploads over TLS.
    let c = Client::new(&emu);
    let file = data(2000, 11);
    let fin = c.upload(&file, PART);
    assert_eq!(fin["code"], 0, "{fin}");
    let url = fin["url"].as_str().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let got = c
        .agent
        .get(url)
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap();
    assert_eq!(got, file);
    // Also reachable as "localhost" (in the certificate).
    let mut lc = c.clone();
    lc.sign_host = format!("localhost:{}", emu.addr().port());
    let p = lc.params("POST", "FinishUpload", &[("fileSha", &sha1_hex(&file))]);
    let url = format!(
        "https://localhost:{}/v2/index.php?{}",
        emu.addr().port(),
        vodupload::signature::encode_query(&p)
    );
    let r = c.agent.post(&url).send(&b""[..]);
    if let Ok(r) = r {
        // (localhost may resolve to ::1 where nothing listens; only check when it connected)
        let v: Value = serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
        assert_eq!(v["code"], 0, "{v}");
    }
    // A client that does not trust it fails.
    let untrusting = agent(None);
    assert!(untrusting.get(&emu.endpoint()).call().is_err());
}

#[test]
fn https_from_files_and_start_errors() {
    // Certificate files written by a self-signed run, then loaded.
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = dir.path().join("c.pem");
    let key = dir.path().join("k.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let emu = start(EmulatorConfig {
        tls: Some(TlsSetup::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        ..EmulatorConfig::default()
    });
    let mut c = Client::new(&emu);
    c.agent = agent(Some(&ck.cert.pem()));
    assert_eq!(c.init(&"ab".repeat(20), 10, PART)["code"], 0);
    assert!(emu.ca_cert_pem().is_none());

    // Errors are clear.
    let e = Emulator::start(EmulatorConfig {
        tls: Some(TlsSetup::Files {
            cert: dir.path().join("missing.pem"),
            key,
        }),
        ..EmulatorConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("missing.pem"), "{e}");
    let e = Emulator::start(EmulatorConfig {
        listen: emu.addr(),
        ..EmulatorConfig::default()
    })
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot bind {}", emu.addr())),
        "{e}"
    );
    let e = Emulator::start(EmulatorConfig {
        faults: Faults {
            drop_rate: 1.5,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("drop rate"), "{e}");
}

#[test]
fn temp_state_dir_removed_on_drop() {
    let emu = default_emu();
    let dir = emu.state_dir().to_path_buf();
    assert!(dir.exists());
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.credentials().len(), 1);
    emu.shutdown();
    assert!(!dir.exists());
}

#[test]
fn config_debug_hides_keys() {
    let cfg = EmulatorConfig {
        credentials: vec![("AKIDvisible".into(), "very-secret-key".into())],
        ..EmulatorConfig::default()
    };
    let s = format!("{cfg:?}");
    assert!(
        s.contains("AKIDvisible") && !s.contains("very-secret-key"),
        "{s}"
    );
}

/// The SHA-1 runs ahead as parts arrive; a part replaced by other bytes afterwards must count
/// with its new bytes, whether the running hash had passed it or not.
#[test]
fn a_part_replaced_after_it_was_hashed_counts_with_its_new_bytes() {
    let emu = start(EmulatorConfig {
        any_part_size: true,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let file = data(4000, 12);
    let sha = sha1_hex(&file);
    let other = data(1000, 13);
    for round in 0..2 {
        assert_eq!(c.init(&sha, 4000, 1000)["code"], 0, "round {round}");
        for i in 0..4 {
            assert_eq!(
                c.part(&sha, i * 1000, &file[i as usize * 1000..][..1000])["code"],
                0
            );
        }
        // Let the running hash pass part 1 (or not: the answer must not depend on it).
        std::thread::sleep(Duration::from_millis(50 * round));
        assert_eq!(c.part(&sha, 1000, &other)["code"], 0);
        assert_err(&c.finish(&sha), -10003, 0, "does not match fileSha");
    }
    // Replaced, then put back: the file is whole again.
    assert_eq!(c.init(&sha, 4000, 1000)["code"], 0);
    for i in 0..4 {
        assert_eq!(
            c.part(&sha, i * 1000, &file[i as usize * 1000..][..1000])["code"],
            0
        );
    }
    assert_eq!(c.part(&sha, 1000, &other)["code"], 0);
    assert_eq!(c.part(&sha, 1000, &file[1000..2000])["code"], 0);
    let fin = c.finish(&sha);
    assert_eq!(fin["code"], 0, "{fin}");
    let got = c
        .agent
        .get(fin["url"].as_str().unwrap())
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap();
    assert!(got == file);
    // A range of it, across two parts.
    let r = c
        .agent
        .get(fin["url"].as_str().unwrap())
        .header("Range", "bytes=990-2009")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(
        r.headers().get("content-range").unwrap().to_str().unwrap(),
        "bytes 990-2009/4000"
    );
    assert!(r.into_body().read_to_vec().unwrap() == file[990..2010]);
}
