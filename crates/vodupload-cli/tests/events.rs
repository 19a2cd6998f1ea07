//! Event notification end to end: `vodupload events` against an emulator started separately (a
//! child process, with a callback receiver on a plain `TcpListener`), and the core's
//! `pull_events` / `confirm_events` against an in-process emulator, faults included.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use vodupload::{Client, ClientOptions, Credentials, ErrorKind, SignatureMethod, no_progress};
use vodupload_emulator::{Emulator, EmulatorConfig, Faults};

mod common;
use common::*;

/// Runs `vodupload ARGS` with the credentials in the environment.
fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("TENCENTCLOUD_SECRET_ID", ID)
        .env("TENCENTCLOUD_SECRET_KEY", KEY)
        .env_remove("RUST_LOG")
        .output()
        .expect("run vodupload")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok_json(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    serde_json::from_str(stdout(o).trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", stdout(o)))
}

fn upload_cli(endpoint: &str, file: &Path) -> String {
    let v = ok_json(&run(&[
        "upload",
        "--endpoint",
        endpoint,
        "--no-cache",
        "--json",
        file.to_str().unwrap(),
    ]));
    v["file_id"].as_str().unwrap().to_owned()
}

fn pull_json(endpoint: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["events", "pull", "--endpoint", endpoint, "--json"];
    args.extend_from_slice(extra);
    let v = ok_json(&run(&args));
    v["events"].as_array().expect("events array").clone()
}

/// A callback receiver: answers 200 to each POST and sends its body on the channel.
fn receiver() -> (String, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/vod", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if let Some(body) = read_post(stream)
                && tx.send(body).is_err()
            {
                break;
            }
        }
    });
    (url, rx)
}

fn read_post(mut stream: TcpStream) -> Option<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut len = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    Some(body)
}

#[test]
fn cli_upload_then_callback_pull_restart_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (hook, posts) = receiver();
    let emu = EmuProc::start(&state, "127.0.0.1:0", &["--notify-url", &hook]);
    let ep = emu.endpoint();

    assert!(pull_json(&ep, &[]).is_empty());
    let file = random_file(dir.path(), "clip.mp4", 700_000, 1);
    let file_id = upload_cli(&ep, &file);

    // The callback receiver gets the event with the same fileId.
    let body = posts
        .recv_timeout(Duration::from_secs(10))
        .expect("the callback arrives");
    let posted: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(posted["eventType"], "NewFileUpload");
    assert_eq!(posted["data"]["fileId"], file_id.as_str());

    // PullEvent returns it, again and again until confirmed.
    let events = pull_json(&ep, &[]);
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["event_type"], "NewFileUpload");
    assert_eq!(e["version"], "4.0");
    assert_eq!(e["file_id"], file_id.as_str());
    assert_eq!(e["file_name"], "clip");
    assert_eq!(e["source_type"], "ServerUpload");
    assert!(e["file_url"].as_str().unwrap().contains(&file_id));
    assert_eq!(e["event"], posted, "the pulled event is the POSTed one");
    assert!(!e["msg_handle"].as_str().unwrap().is_empty());
    assert_eq!(pull_json(&ep, &[]), events);

    // A restart on the same state directory keeps the unconfirmed event.
    drop(emu);
    let emu = EmuProc::start(&state, "127.0.0.1:0", &[]);
    let ep = emu.endpoint();
    assert_eq!(pull_json(&ep, &[]), events);

    // --confirm prints them, then confirms: the next pull is empty.
    assert_eq!(pull_json(&ep, &["--confirm"]), events);
    assert!(pull_json(&ep, &[]).is_empty());
    let text = run(&["events", "pull", "--endpoint", &ep]);
    assert!(text.status.success(), "{}", stderr(&text));
    assert_eq!(stdout(&text), "no events waiting\n");
}

#[test]
fn cli_text_output_and_confirm_command() {
    let dir = tempfile::tempdir().unwrap();
    let emu = EmuProc::start(&dir.path().join("state"), "127.0.0.1:0", &[]);
    let ep = emu.endpoint();
    let a = upload_cli(&ep, &random_file(dir.path(), "first.mp4", 1000, 2));
    let b = upload_cli(&ep, &random_file(dir.path(), "second.mp4", 2000, 3));

    let o = run(&["events", "pull", "--endpoint", &ep]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "NewFileUpload",
        &format!("file id     {a}"),
        &format!("file id     {b}"),
        "file name   first",
        "source      ServerUpload",
        "msg handle  ",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }

    let handles: Vec<String> = pull_json(&ep, &[])
        .iter()
        .map(|e| e["msg_handle"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(handles.len(), 2);
    let o = run(&["events", "confirm", "--endpoint", &ep, &handles[0]]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "confirmed 1 event\n");
    let left = pull_json(&ep, &[]);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["file_id"], b.as_str());

    let o = run(&["events", "pull", "--endpoint", &ep, "--confirm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).ends_with("confirmed 1 event\n"),
        "{}",
        stdout(&o)
    );
    assert!(pull_json(&ep, &[]).is_empty());
}

#[test]
fn cli_errors_are_clear_and_have_their_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let emu = EmuProc::start(&dir.path().join("state"), "127.0.0.1:0", &[]);
    let ep = emu.endpoint();

    // A wrong key: auth (5), with the hint, never the key.
    let o = Command::new(bin())
        .args(["events", "pull", "--endpoint", &ep, "--json"])
        .env("TENCENTCLOUD_SECRET_ID", ID)
        .env("TENCENTCLOUD_SECRET_KEY", "not-the-key")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("PullEvent failed with code -10002"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("not-the-key"));
    assert!(o.stdout.is_empty());

    // A bad endpoint: invalid input (2), before anything is sent.
    let o = run(&["events", "pull", "--endpoint", "ftp://x/y"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("events endpoint"), "{}", stderr(&o));

    // Nobody listening: network (4).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(&[
        "events",
        "pull",
        "--retries",
        "1",
        "--endpoint",
        &format!("http://127.0.0.1:{port}/v2/index.php"),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("PullEvent"), "{}", stderr(&o));

    // The upload host is not the event API: its 404 page is named as the event API's answer.
    let o = run(&[
        "events",
        "pull",
        "--endpoint",
        &format!("{}/nope", emu.base),
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the event API answered HTTP 404"),
        "{}",
        stderr(&o)
    );

    // `confirm` needs a handle.
    let o = run(&["events", "confirm", "--endpoint", &ep]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn cli_parse_checks_event_json() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("event.json");
    std::fs::write(
        &good,
        r#"{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"123","fileUrl":"http://h/vod/123/f0.mp4","fileName":"a","sourceType":"ServerUpload","future":1}}"#,
    )
    .unwrap();
    let v = ok_json(&run(&["events", "parse", "--json", good.to_str().unwrap()]));
    assert_eq!(v["file_id"], "123");
    assert_eq!(v["event"]["data"]["future"], 1, "unknown fields are kept");
    let o = run(&["events", "parse", good.to_str().unwrap()]);
    assert!(stdout(&o).contains("file id     123"), "{}", stdout(&o));

    for (body, want) in [
        ("{\"eventType\":\"NewFileUpload\",", "not valid JSON"),
        ("[]", "not an object"),
        ("{\"data\":{}}", "no \"eventType\""),
    ] {
        let mut child = Command::new(bin())
            .args(["events", "parse", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{body}");
        assert!(
            stderr(&o).contains("standard input: the event"),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains(want), "{want}: {}", stderr(&o));
    }
    let o = run(&["events", "parse", "/nonexistent/event.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read /nonexistent/event.json"));
}

// ---- the core library against an in-process emulator --------------------------------------

fn upload(client: &Client, dir: &Path, seed: u64) -> String {
    let file = random_file(dir, &format!("v{seed}.mp4"), 3000 + seed, seed);
    upload_with(client, &file, &no_progress).unwrap().file_id
}

#[test]
fn core_pull_and_confirm_on_either_path_and_signature_method() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let uploader = client_for(&emu, |_| {});
    let v3 = client_for(&emu, |o| {
        o.events_endpoint = emu.endpoint().replace("/v2/", "/v3/");
        o.signature_method = SignatureMethod::HmacSha256;
    });
    assert!(v3.pull_events().unwrap().is_empty());
    let id = upload(&uploader, dir.path(), 1);

    let pulled = v3.pull_events().unwrap();
    assert_eq!(pulled.len(), 1);
    let e = &pulled[0].event;
    assert!(e.is_new_file_upload());
    assert_eq!(e.file_id(), Some(id.as_str()));
    assert_eq!(e.file_name(), Some("v1"));
    assert_eq!(e.source_type(), Some("ServerUpload"));
    assert_eq!(e.version(), Some("4.0"));
    assert_eq!(uploader.pull_events().unwrap(), pulled);
    v3.confirm_events(&[&pulled[0].msg_handle]).unwrap();
    assert!(uploader.pull_events().unwrap().is_empty());
    // A second confirmation of the same handle is harmless.
    uploader.confirm_events(&[&pulled[0].msg_handle]).unwrap();
}

#[test]
fn core_confirms_more_than_16_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = client_for(&emu, |_| {});
    let ids: Vec<String> = (0..20)
        .map(|i| upload(&client, dir.path(), 10 + i))
        .collect();

    let first = client.pull_events().unwrap();
    assert_eq!(first.len(), 16, "one PullEvent answers at most 16");
    let got: Vec<&str> = first.iter().map(|p| p.event.file_id().unwrap()).collect();
    assert_eq!(
        got,
        ids[..16].iter().map(String::as_str).collect::<Vec<_>>()
    );
    // 16 real handles and 4 unknown ones: two ConfirmEvent calls.
    let mut handles: Vec<String> = first.iter().map(|p| p.msg_handle.clone()).collect();
    handles.extend((0..4).map(|i| format!("unknown-{i}")));
    let before = emu.stats().confirm_calls;
    client.confirm_events(&handles).unwrap();
    assert_eq!(emu.stats().confirm_calls - before, 2);
    assert_eq!(emu.stats().events_confirmed, 16);
    let rest = client.pull_events().unwrap();
    let got: Vec<&str> = rest.iter().map(|p| p.event.file_id().unwrap()).collect();
    assert_eq!(
        got,
        ids[16..].iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[test]
fn core_event_calls_survive_injected_faults() {
    let dir = tempfile::tempdir().unwrap();
    let clean = Emulator::start(EmulatorConfig::default()).unwrap();
    // Events are made on a clean emulator, then served by a faulty one on the same state.
    let state = clean.state_dir().to_path_buf();
    let creds = clean.credentials().to_vec();
    let ids: Vec<String> = {
        let c = client_for(&clean, |_| {});
        (0..3).map(|i| upload(&c, dir.path(), 40 + i)).collect()
    };
    let keep = tempfile::tempdir().unwrap();
    copy_dir(&state, keep.path());
    drop(clean);

    let emu = Emulator::start(EmulatorConfig {
        state_dir: Some(keep.path().to_path_buf()),
        credentials: creds,
        faults: Faults {
            seed: 7,
            fail_rate: 0.15,
            drop_rate: 0.15,
            http502_rate: 0.1,
            truncate_rate: 0.1,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = client_for(&emu, |o| o.max_attempts = 30);
    for _ in 0..10 {
        let pulled = client.pull_events().unwrap();
        let got: Vec<&str> = pulled.iter().map(|p| p.event.file_id().unwrap()).collect();
        assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let pulled = client.pull_events().unwrap();
    let handles: Vec<&str> = pulled.iter().map(|p| p.msg_handle.as_str()).collect();
    client.confirm_events(&handles).unwrap();
    assert!(client.pull_events().unwrap().is_empty());
    assert!(emu.stats().faults_injected > 0, "{:?}", emu.stats());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn core_event_errors() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let mut o = ClientOptions::default();
    o.events_endpoint = emu.endpoint();
    o.max_attempts = 1;
    let bad = Client::new(Credentials::new("AKIDnobody", "wrong").unwrap(), o).unwrap();
    let e = bad.pull_events().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.server().unwrap().code, -10002);
    let e = bad.confirm_events(&["h"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().starts_with("ConfirmEvent failed"), "{e}");

    // The default events endpoint is the provider's event API host, not the upload host.
    assert_eq!(
        ClientOptions::default().events_endpoint,
        "https://vod.api.qcloud.com/v2/index.php"
    );
    assert_eq!(
        vodupload::config::DEFAULT_EVENTS_ENDPOINT,
        ClientOptions::default().events_endpoint
    );
}
