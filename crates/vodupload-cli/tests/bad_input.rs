//! The bad-input table (docs/reliability.md), Rust and CLI columns: each hostile or mistaken
//! input gives one clear error, and the inputs a user controls are refused before any request is
//! sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vodupload::{Client, ClientOptions, Credentials, ErrorKind, no_progress};
use vodupload_emulator::{Emulator, EmulatorConfig};

mod common;
use common::{
    MIB, RewritingRelay, begin, client_for, emulator, random_file, sha1_file, sha1_url, upload_with,
};

/// A one-shot fake upload host that answers every request with `response`.
fn fake_server(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let response = response.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                let _ = s.write_all(&response);
            });
        }
    });
    format!("http://{addr}/v2/index.php")
}

fn http_200(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

struct Case {
    input: &'static str,
    /// CLI arguments after `upload`; FILE and ENDPOINT are substituted.
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    exit: i32,
    says: &'static str,
}

#[test]
fn the_bad_input_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let (id, key) = emu.credentials()[0].clone();
    let good = d.join("good.mp4");
    std::fs::write(&good, vec![1u8; 3000]).unwrap();
    let empty = d.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let fifo = d.join("pipe.mp4");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let no_ext = d.join("noext");
    std::fs::write(&no_ext, b"data").unwrap();

    let html = fake_server(http_200(b"<html><body>Welcome to nginx!</body></html>"));
    let no_code = fake_server(http_200(br#"{"message":"hello"}"#));
    let huge = fake_server(http_200(&vec![b' '; 4 << 20]));
    let tiny_parts = fake_server(http_200(br#"{"code":1,"dataSize":1,"listParts":[]}"#));
    let redirect = fake_server(
        b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/up?Signature=abc\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
    );
    let dots = d.join("....mp4");
    std::fs::write(&dots, vec![1u8; 3000]).unwrap();
    let shared_cache = d.join("shared-cache");
    std::fs::create_dir(&shared_cache).unwrap();
    std::fs::set_permissions(
        &shared_cache,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let shared = shared_cache.to_str().unwrap().to_owned();
    let good_path = good.to_str().unwrap().to_owned();
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v2/index.php", l.local_addr().unwrap())
    };

    let s = |v: &str| v.to_owned();
    let p = |v: &Path| v.to_str().unwrap().to_owned();
    let with = |file: &Path, endpoint: &str, extra: &[&str]| {
        let mut a = vec![
            p(file),
            s("--endpoint"),
            s(endpoint),
            s("--secret-id"),
            id.clone(),
        ];
        a.extend(extra.iter().map(|x| s(x)));
        a
    };
    let key_env = vec![("TENCENTCLOUD_SECRET_KEY", key.clone())];
    let ep = emu.endpoint();
    let cases = vec![
        Case {
            input: "missing file",
            args: with(&d.join("nope.mp4"), &ep, &[]),
            env: key_env.clone(),
            exit: 3,
            says: "no such file",
        },
        Case {
            input: "empty file",
            args: with(&empty, &ep, &[]),
            env: key_env.clone(),
            exit: 2,
            says: "the file is empty",
        },
        Case {
            input: "directory",
            args: with(d, &ep, &[]),
            env: key_env.clone(),
            exit: 3,
            says: "is a directory",
        },
        Case {
            input: "fifo",
            args: with(&fifo, &ep, &[]),
            env: key_env.clone(),
            exit: 2,
            says: "not a regular file",
        },
        Case {
            input: "no extension, no --type",
            args: with(&no_ext, &ep, &[]),
            env: key_env.clone(),
            exit: 2,
            says: "no extension",
        },
        Case {
            input: "name over 40 bytes",
            args: with(&good, &ep, &["--name", &"x".repeat(41)]),
            env: key_env.clone(),
            exit: 2,
            says: "at most 40",
        },
        Case {
            input: "name with a forbidden character",
            args: with(&good, &ep, &["--name", "a:b"]),
            env: key_env.clone(),
            exit: 2,
            says: "contains ':'",
        },
        Case {
            input: "name of only spaces",
            args: with(&good, &ep, &["--name", "   "]),
            env: key_env.clone(),
            exit: 2,
            says: "the video name \"   \" is empty or only spaces, which the service refuses; pass a name",
        },
        Case {
            input: "file name of only dots",
            args: with(&dots, &ep, &[]),
            env: key_env.clone(),
            exit: 2,
            says: "cannot name the video after",
        },
        Case {
            input: "bad part size",
            args: with(&good, &ep, &["--part-size", "1000"]),
            env: key_env.clone(),
            exit: 2,
            says: "524288",
        },
        Case {
            input: "zero concurrency",
            args: with(&good, &ep, &["--concurrency", "0"]),
            env: key_env.clone(),
            exit: 2,
            says: "concurrency 0 is out of range",
        },
        Case {
            input: "concurrency 65",
            args: with(&good, &ep, &["--concurrency", "65"]),
            env: key_env.clone(),
            exit: 2,
            says: "concurrency 65 is out of range: use 1 to 64",
        },
        Case {
            input: "zero timeout",
            args: with(&good, &ep, &["--request-timeout", "0"]),
            env: key_env.clone(),
            exit: 2,
            says: "request_timeout must be more than 0 and at most 86400 seconds, not 0",
        },
        Case {
            input: "negative timeout",
            args: with(&good, &ep, &["--request-timeout=-1"]),
            env: key_env.clone(),
            exit: 2,
            says: "request_timeout must be more than 0 and at most 86400 seconds, not -1",
        },
        Case {
            input: "huge timeout",
            args: with(&good, &ep, &["--request-timeout", "1000000000"]),
            env: key_env.clone(),
            exit: 2,
            says: "request_timeout must be more than 0 and at most 86400 seconds, not 1000000000",
        },
        Case {
            input: "zero attempts",
            args: with(&good, &ep, &["--max-attempts", "0"]),
            env: key_env.clone(),
            exit: 2,
            says: "max_attempts 0 is out of range: use 1 to 100 (1 means no retries)",
        },
        Case {
            input: "huge attempts",
            args: with(&good, &ep, &["--max-attempts", "1000"]),
            env: key_env.clone(),
            exit: 2,
            says: "max_attempts 1000 is out of range: use 1 to 100 (1 means no retries)",
        },
        Case {
            input: "negative class id",
            args: with(&good, &ep, &["--class-id=-2"]),
            env: key_env.clone(),
            exit: 2,
            says: "class_id -2 is out of range: use the id of a category (0 or more), or none",
        },
        Case {
            input: "cache directory others can write",
            args: with(&good, &ep, &["--cache-dir", &shared]),
            env: key_env.clone(),
            exit: 2,
            says: "is writable by other users (mode 777): another user could plant fingerprints",
        },
        Case {
            input: "cache directory that is a file",
            args: with(&good, &ep, &["--cache-dir", &good_path]),
            env: key_env.clone(),
            exit: 2,
            says: "is not a directory; choose another path",
        },
        Case {
            input: "malformed proxy URL",
            args: with(&good, &ep, &["--proxy", "::not a url"]),
            env: key_env.clone(),
            exit: 2,
            says: "proxy \"::not a url\" is not usable",
        },
        Case {
            input: "empty secret key",
            args: with(&good, &ep, &[]),
            env: vec![("TENCENTCLOUD_SECRET_KEY", s(""))],
            exit: 2,
            says: "SecretKey is empty",
        },
        Case {
            input: "secret key with a newline",
            args: with(&good, &ep, &[]),
            env: vec![("TENCENTCLOUD_SECRET_KEY", format!("{key}\n"))],
            exit: 2,
            says: "whitespace",
        },
        Case {
            input: "no credentials at all",
            args: vec![p(&good), s("--endpoint"), ep.clone()],
            env: vec![],
            exit: 2,
            says: "no credentials",
        },
        Case {
            input: "wrong secret key",
            args: with(&good, &ep, &[]),
            env: vec![("TENCENTCLOUD_SECRET_KEY", s("wrong"))],
            exit: 5,
            says: "-10002",
        },
        Case {
            input: "endpoint that is not a URL",
            args: with(&good, "vod2 dot qcloud", &[]),
            env: key_env.clone(),
            exit: 2,
            says: "not a usable URL",
        },
        Case {
            input: "unreachable endpoint",
            args: with(&good, &dead, &["--retries", "2"]),
            env: key_env.clone(),
            exit: 4,
            says: "cannot connect",
        },
        Case {
            input: "server answering HTML",
            args: with(&good, &html, &["--retries", "2"]),
            env: key_env.clone(),
            exit: 6,
            says: "not JSON",
        },
        Case {
            input: "JSON without code",
            args: with(&good, &no_code, &["--retries", "2"]),
            env: key_env.clone(),
            exit: 6,
            says: "no numeric \"code\"",
        },
        Case {
            input: "huge response body",
            args: with(&good, &huge, &["--retries", "2"]),
            env: key_env.clone(),
            exit: 6,
            says: "larger than",
        },
        Case {
            input: "resume with a part size of 1 byte",
            args: with(&good, &tiny_parts, &["--retries", "2"]),
            env: key_env.clone(),
            exit: 6,
            says: "fixed the part size at 1 bytes, which the protocol does not allow",
        },
        Case {
            input: "redirect to another host",
            args: with(&good, &redirect, &["--retries", "2"]),
            env: key_env.clone(),
            exit: 6,
            says: "a redirect to \"http://elsewhere.invalid/up\"; redirects are not followed",
        },
    ];

    println!("| input | CLI exit | message |\n|---|---|---|");
    for c in &cases {
        let mut c_args = c.args.clone();
        if !c_args.iter().any(|a| a == "--cache-dir") {
            c_args.push("--no-cache".into());
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vodupload"));
        cmd.arg("upload")
            .args(&c_args)
            .env_remove("TENCENTCLOUD_SECRET_ID")
            .env_remove("TENCENTCLOUD_SECRET_KEY");
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(c.exit), "{}: {err}", c.input);
        assert!(err.contains(c.says), "{}: {err}", c.input);
        assert!(!err.contains("Signature"), "{}: {err}", c.input);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{}: one line: {err}",
            c.input
        );
        println!(
            "| {} | {} | {} |",
            c.input,
            c.exit,
            err.trim().trim_start_matches("vodupload: ")
        );
    }
    let stats = emu.stats();
    assert_eq!(
        stats.init_calls, 1,
        "only the wrong-key case reached the emulator: {stats:?}"
    );
}

fn client(endpoint: &str, key: &str, id: &str) -> Client {
    let mut o = ClientOptions::default();
    o.endpoint = endpoint.to_owned();
    o.max_attempts = 2;
    o.retry_base_delay = Duration::from_millis(1);
    Client::new(Credentials::new(id, key).unwrap(), o).unwrap()
}

#[test]
fn the_library_gives_the_same_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    std::fs::write(&good, vec![1u8; 3000]).unwrap();
    let up = |c: &Client, path: &Path| upload_with(c, path, &no_progress).unwrap_err();
    let html = fake_server(http_200(b"<html>hi</html>"));
    let e = up(&client(&html, "k", "i"), &good);
    assert_eq!((e.kind(), e.is_transient()), (ErrorKind::Protocol, true));
    let huge = fake_server(http_200(&vec![b' '; 1 << 20]));
    assert_eq!(
        up(&client(&huge, "k", "i"), &good).kind(),
        ErrorKind::Protocol
    );
    let e = Credentials::new("id", "").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let mut o = ClientOptions::default();
    o.endpoint = "vod2 dot qcloud".into();
    assert_eq!(
        Client::new(Credentials::new("i", "k").unwrap(), o)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn a_non_utf8_path_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"clip-\xff\xfe.mp4");
    let path: PathBuf = dir.path().join(name);
    std::fs::write(&path, vec![9u8; 5000]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
        .arg("upload")
        .arg(&path)
        .args(["--emulator", "--json", "--no-cache"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["parts_total"], 1);
}

/// Rewrites InitUpload's answer with `edit(listParts)`; every other answer passes unchanged.
fn lying_relay(
    emu: &Emulator,
    edit: impl Fn(&mut Vec<serde_json::Value>) + Send + Sync + 'static,
) -> RewritingRelay {
    RewritingRelay::start(&emu.endpoint(), move |action, body| {
        if action != "InitUpload" {
            return body;
        }
        let mut answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if let Some(list) = answer
            .get_mut("listParts")
            .and_then(serde_json::Value::as_array_mut)
        {
            edit(list);
        }
        serde_json::to_vec(&answer).unwrap()
    })
}

/// A resume list the client must not trust: parts beyond the file, off its boundaries, of
/// another length, listed twice or with another MD5 are sent again, and the file ends complete.
#[test]
fn a_lying_part_list_never_makes_a_wrong_resume() {
    let dir = tempfile::tempdir().unwrap();
    // 21 parts of 1 MiB, the last one short.
    let file = random_file(dir.path(), "lies.mp4", 20 * MIB + 12_345, 41);
    let emu = emulator();
    let honest = client_for(&emu, |_| {});
    let up = begin(&honest, &file).unwrap();
    for i in 0..10 {
        up.upload_part(i).unwrap();
    }
    drop(up);

    let relay = lying_relay(&emu, |list| {
        assert_eq!(list.len(), 10, "the emulator lists what was stored");
        let part = |i: usize| {
            list.iter()
                .find(|p| p["offset"] == i as u64 * MIB)
                .unwrap()
                .clone()
        };
        let (p0, p2) = (part(0), part(2));
        // Part 3 with another MD5, part 2 listed twice.
        for p in list.iter_mut() {
            if p["offset"] == 3 * MIB {
                p["dataMd5"] = "0123456789abcdef0123456789abcdef".into();
            }
        }
        list.push(p2);
        let md5 = p0["dataMd5"].clone();
        for (offset, size) in [
            (100 * MIB, MIB),    // beyond the file
            (MIB / 2, MIB),      // across two parts
            (12 * MIB, MIB / 2), // a boundary, another length
            (20 * MIB, MIB),     // the short last part at full length
        ] {
            list.push(serde_json::json!({"offset": offset, "dataSize": size, "dataMd5": md5}));
        }
    });
    let mut o = ClientOptions::default();
    o.endpoint = relay.endpoint.clone();
    o.rate_limits = vodupload::RateLimits::unlimited();
    let (id, key) = emu.credentials()[0].clone();
    let liar = Client::new(Credentials::new(id, key).unwrap(), o).unwrap();
    let r = upload_with(&liar, &file, &no_progress).unwrap();
    // Kept: 0, 1 and 4..=9; sent again: 2 (listed twice), 3 (wrong MD5), 10..=20.
    assert_eq!((r.parts_skipped, r.parts_uploaded), (8, 13), "{r:?}");
    assert_eq!(relay.count("UploadPart"), 13);
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
}

/// A negative offset, or a part size the protocol does not have, fails at once: nothing is sent
/// and nothing is retried.
#[test]
fn an_impossible_resume_fails_before_any_part() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "neg.mp4", 3 * MIB, 42);
    let emu = emulator();
    let honest = client_for(&emu, |_| {});
    begin(&honest, &file).unwrap().upload_part(1).unwrap();
    let (id, key) = emu.credentials()[0].clone();
    let client_of = |relay: &RewritingRelay| {
        let mut o = ClientOptions::default();
        o.endpoint = relay.endpoint.clone();
        o.retry_base_delay = Duration::from_millis(1);
        Client::new(Credentials::new(id.clone(), key.clone()).unwrap(), o).unwrap()
    };

    let negative = lying_relay(&emu, |list| list[0]["offset"] = (-1_048_576i64).into());
    let e = upload_with(&client_of(&negative), &file, &no_progress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(e.to_string().contains("offset/dataSize/dataMd5"), "{e}");
    assert_eq!(
        (negative.count("InitUpload"), negative.count("UploadPart")),
        (1, 0)
    );

    for size in [1u64, 1 << 40] {
        let relay = RewritingRelay::start(&emu.endpoint(), move |action, body| {
            if action != "InitUpload" {
                return body;
            }
            let mut answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            answer["dataSize"] = size.into();
            serde_json::to_vec(&answer).unwrap()
        });
        let e = upload_with(&client_of(&relay), &file, &no_progress).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
        assert!(
            e.to_string()
                .contains(&format!("fixed the part size at {size} bytes")),
            "{e}"
        );
        assert_eq!(
            (relay.count("InitUpload"), relay.count("UploadPart")),
            (1, 0)
        );
    }
}

/// A redirect is never followed, whatever the action: one request, a protocol error that names
/// where it pointed (without its query).
#[test]
fn a_redirect_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    std::fs::write(&good, vec![1u8; 3000]).unwrap();
    let redirect = fake_server(
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.invalid/v2/index.php?Action=x&Signature=s3cr3t\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
    );
    let e = upload_with(&client(&redirect, "k", "i"), &good, &no_progress).unwrap_err();
    assert_eq!((e.kind(), e.is_transient()), (ErrorKind::Protocol, false));
    let text = e.to_string();
    assert!(
        text.contains("HTTP 307, a redirect to \"https://elsewhere.invalid/v2/index.php\""),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
}

/// The file id and url go to the app (printed, stored, put in pages): an answer that makes them a
/// terminal escape, a second line or a `javascript:` url is a protocol error, and nothing of it
/// reaches the output.
#[test]
fn a_file_id_or_url_that_is_not_one_never_reaches_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "esc.mp4", 2 * MIB, 7);
    let emu = emulator();
    let (id, key) = emu.credentials()[0].clone();
    for (field, value) in [
        ("url", "http://x/\u{1b}[2J\nfile id: 1"),
        ("url", "javascript:alert(1)"),
        ("fileId", "12\u{1b}[31m"),
    ] {
        let relay = RewritingRelay::start(&emu.endpoint(), move |action, body| {
            if action != "FinishUpload" {
                return body;
            }
            let mut answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            answer[field] = value.into();
            serde_json::to_vec(&answer).unwrap()
        });
        let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
            .args(["upload", "--no-cache", "--endpoint", &relay.endpoint])
            .arg(&file)
            .env("TENCENTCLOUD_SECRET_ID", &id)
            .env("TENCENTCLOUD_SECRET_KEY", &key)
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(6), "{field}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("the upload host's {field}")),
            "{stderr}"
        );
        assert!(!stdout.contains("file id"), "{stdout}");
        assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
        assert_eq!(relay.count("FinishUpload"), 1, "not retried");
    }
}

/// A host that takes the request and never answers: each attempt ends at request_timeout, and the
/// error names that option and the figure, so the user knows what ran out and what to raise.
#[test]
fn a_host_that_never_answers_times_out_naming_the_option() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    std::fs::write(&good, vec![1u8; 3000]).unwrap();
    let mut o = ClientOptions::default();
    o.endpoint = format!("http://{addr}/v2/index.php");
    o.max_attempts = 2;
    o.retry_base_delay = Duration::from_millis(1);
    o.request_timeout = Duration::from_millis(300);
    let client = Client::new(Credentials::new("i", "k").unwrap(), o).unwrap();
    let e = upload_with(&client, &good, &no_progress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("did not answer within 0.3 s (request_timeout"),
        "{text}"
    );
    assert!(text.contains("after 2 attempts"), "{text}");
    assert_eq!(held.lock().unwrap().len(), 2, "one connection per attempt");
}

/// An https:// endpoint pointed at a plain-HTTP server (an emulator started without TLS): the
/// server closes at once and the error says what to change.
#[test]
fn https_to_a_plain_http_emulator_says_to_use_http() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    std::fs::write(&good, vec![1u8; 3000]).unwrap();
    let (id, key) = emu.credentials()[0].clone();
    let endpoint = emu.endpoint().replacen("http://", "https://", 1);
    let e = upload_with(&client(&endpoint, &key, &id), &good, &no_progress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("use an http:// endpoint"), "{e}");
    assert_eq!(emu.stats().init_calls, 0);
}
