//! The event "Video Upload Completed" over real sockets: PullEvent / ConfirmEvent, persistence
//! across restarts, and the POST to a callback receiver (a plain `std::net::TcpListener`).

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use vodupload_emulator::{Emulator, EmulatorConfig};

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("emulator starts")
}

fn pull(c: &Client) -> Vec<Value> {
    let r = c.call("POST", "PullEvent", &[], b"").json();
    assert_eq!(r["code"], 0, "{r}");
    r["eventList"]
        .as_array()
        .unwrap_or_else(|| panic!("eventList is an array: {r}"))
        .clone()
}

fn confirm(c: &Client, handles: &[&str]) -> Value {
    let keys: Vec<String> = (0..handles.len())
        .map(|i| format!("msgHandle.{i}"))
        .collect();
    let params: Vec<(&str, &str)> = keys
        .iter()
        .map(String::as_str)
        .zip(handles.iter().copied())
        .collect();
    c.call("POST", "ConfirmEvent", &params, b"").json()
}

fn handle(item: &Value) -> String {
    item["msgHandle"].as_str().expect("msgHandle").to_string()
}

/// Uploads `len` bytes made from `seed`; returns (fileId, url).
fn upload(c: &Client, len: usize, seed: u64) -> (String, String) {
    let fin = c.upload(&data(len, seed), PART);
    assert_eq!(fin["code"], 0, "{fin}");
    (
        fin["fileId"].as_str().unwrap().to_string(),
        fin["url"].as_str().unwrap().to_string(),
    )
}

#[test]
fn upload_event_is_pulled_until_confirmed() {
    let emu = start(EmulatorConfig::default());
    let c = Client::new(&emu);
    assert!(pull(&c).is_empty(), "a new emulator has no events");

    let (file_id, url) = upload(&c, (PART + 10) as usize, 1);
    let list = pull(&c);
    assert_eq!(list.len(), 1, "{list:?}");
    let ev = &list[0]["eventContent"];
    assert!(ev.is_object(), "eventContent is a JSON object: {ev}");
    assert_eq!(ev["version"], "4.0");
    assert_eq!(ev["eventType"], "NewFileUpload");
    assert_eq!(ev["data"]["fileId"], file_id.as_str());
    assert_eq!(ev["data"]["fileUrl"], url.as_str());
    assert_eq!(ev["data"]["fileName"], "test video");
    assert_eq!(ev["data"]["sourceType"], "ServerUpload");
    for k in ["sourceContext", "transcodeTaskId", "procedureTaskId"] {
        assert_eq!(ev["data"][k], "", "{k}");
    }
    let h = handle(&list[0]);
    assert!(!h.is_empty());

    // Pulled, not confirmed: served again, with the same handle, on either path.
    let again = pull(&c);
    assert_eq!(again, list);
    let mut v3 = c.clone();
    v3.path = "/v3/index.php".into();
    v3.sign_host = c.sign_host.clone();
    assert_eq!(pull(&v3), list);

    let r = confirm(&c, &[&h]);
    assert_eq!(r["code"], 0, "{r}");
    assert!(pull(&c).is_empty(), "a confirmed event is not served again");
    // Confirming again (a retry) or an unknown handle is harmless.
    assert_eq!(confirm(&c, &[&h, "no-such-handle"])["code"], 0);

    // A FinishUpload repeated for the finished file (after an instant upload) adds no event.
    let file = data((PART + 10) as usize, 1);
    let sha = sha1_hex(&file);
    assert_eq!(c.init(&sha, file.len() as u64, PART)["code"], 2);
    assert_eq!(c.finish(&sha)["fileId"], file_id.as_str());
    assert!(pull(&c).is_empty());

    let s = emu.stats();
    assert_eq!(s.events_created, 1);
    assert_eq!(s.events_confirmed, 1);
    assert_eq!(s.pull_calls, 6);
    assert_eq!(s.confirm_calls, 2);
    assert_eq!(s.notify_attempts, 0, "no notify URL, no POST");
}

#[test]
fn events_are_oldest_first_in_batches_of_16_and_per_secret_id() {
    let emu = start(EmulatorConfig {
        rate_limit: false,
        credentials: vec![
            ("AKIDone".into(), "key-one".into()),
            ("AKIDtwo".into(), "key-two".into()),
        ],
        ..EmulatorConfig::default()
    });
    let one = Client::new(&emu);
    let mut two = Client::new(&emu);
    two.id = "AKIDtwo".into();
    two.key = "key-two".into();

    let ids: Vec<String> = (0..18)
        .map(|i| upload(&one, 1000 + i, 100 + i as u64).0)
        .collect();
    assert!(
        pull(&two).is_empty(),
        "events belong to the SecretId that uploaded"
    );

    let first = pull(&one);
    assert_eq!(first.len(), 16);
    let got: Vec<&str> = first
        .iter()
        .map(|e| e["eventContent"]["data"]["fileId"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        ids[..16].iter().map(String::as_str).collect::<Vec<_>>()
    );

    // Another SecretId cannot confirm them.
    let handles: Vec<String> = first.iter().map(handle).collect();
    let refs: Vec<&str> = handles.iter().map(String::as_str).collect();
    assert_eq!(confirm(&two, &refs)["code"], 0);
    assert_eq!(pull(&one).len(), 16);

    assert_eq!(confirm(&one, &refs)["code"], 0);
    let rest = pull(&one);
    let got: Vec<&str> = rest
        .iter()
        .map(|e| e["eventContent"]["data"]["fileId"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[16].as_str(), ids[17].as_str()]);
}

#[test]
fn event_requests_are_signed_and_checked() {
    let emu = start(EmulatorConfig::default());
    let c = Client::new(&emu);

    let mut bad = c.clone();
    bad.key = "wrong".into();
    let r = bad.call("POST", "PullEvent", &[], b"").json();
    assert_eq!(r["code"], -10002, "{r}");
    let r = bad
        .call("POST", "ConfirmEvent", &[("msgHandle.0", "x")], b"")
        .json();
    assert_eq!(r["code"], -10002, "{r}");

    // A GET works too, like InitUpload and FinishUpload.
    let r = c.call("GET", "PullEvent", &[], b"").json();
    assert_eq!(r["code"], 0, "{r}");

    let r = c.call("POST", "ConfirmEvent", &[], b"").json();
    assert_eq!(r["code"], -10003, "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("msgHandle.0"),
        "{r}"
    );
    let r = c
        .call("POST", "ConfirmEvent", &[("msgHandle.0", "")], b"")
        .json();
    assert_eq!(r["code"], -10003, "{r}");
    let handles: Vec<String> = (0..17).map(|i| format!("h{i}")).collect();
    let r = confirm(&c, &handles.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r["code"], -10003, "{r}");
    assert!(r["message"].as_str().unwrap().contains("at most 16"), "{r}");
    // The `_` spelling is accepted (it signs as `.`).
    let r = c
        .call("POST", "ConfirmEvent", &[("msgHandle_0", "x")], b"")
        .json();
    assert_eq!(r["code"], 0, "{r}");

    let r = c.call("POST", "DescribeEvents", &[], b"").json();
    assert_eq!(r["code"], 4600, "{r}");
    assert!(r["message"].as_str().unwrap().contains("PullEvent"), "{r}");
}

#[test]
fn a_restart_keeps_unconfirmed_events() {
    let state = tempfile::tempdir().unwrap();
    let config = || EmulatorConfig {
        state_dir: Some(state.path().to_path_buf()),
        credentials: vec![("AKIDkeep".into(), "keep-key".into())],
        ..EmulatorConfig::default()
    };
    let emu = start(config());
    let c = Client::new(&emu);
    let (a, _) = upload(&c, 2000, 7);
    let (b, _) = upload(&c, 3000, 8);
    let list = pull(&c);
    assert_eq!(list.len(), 2);
    assert_eq!(confirm(&c, &[&handle(&list[0])])["code"], 0);
    drop(emu);

    let emu = start(config());
    let c = Client::new(&emu);
    let after = pull(&c);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0], list[1], "same event, same handle");
    assert_eq!(after[0]["eventContent"]["data"]["fileId"], b.as_str());
    assert_ne!(a, b);
    assert_eq!(confirm(&c, &[&handle(&after[0])])["code"], 0);
    drop(emu);

    let emu = start(config());
    assert!(pull(&Client::new(&emu)).is_empty());
}

/// One request a receiver got.
#[derive(Debug)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the POSTed body is JSON")
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if r.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some(Received {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    })
}

/// A callback receiver answering the statuses in `script` in turn (then 200), one connection
/// per request; every request arrives on the returned channel.
fn receiver(script: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/vod/callback?token=s3cret",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(req) = read_request(&mut stream) else {
                continue;
            };
            let status = script.next().unwrap_or(200);
            let body = if status == 200 { "ok" } else { "nope" };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
            if tx.send(req).is_err() {
                break;
            }
        }
    });
    (url, rx)
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_event_is_posted_to_the_notify_url() {
    let (url, rx) = receiver(vec![]);
    let emu = start(EmulatorConfig {
        notify_url: Some(url),
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let (file_id, file_url) = upload(&c, 5000, 21);

    let req = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the callback arrives");
    assert_eq!(req.request_line, "POST /vod/callback?token=s3cret HTTP/1.1");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let ev = req.json();
    assert_eq!(ev["eventType"], "NewFileUpload");
    assert_eq!(ev["version"], "4.0");
    assert_eq!(ev["data"]["fileId"], file_id.as_str());
    assert_eq!(ev["data"]["fileUrl"], file_url.as_str());
    assert_eq!(ev["data"]["sourceType"], "ServerUpload");
    // The same event is in the queue.
    assert_eq!(pull(&c)[0]["eventContent"], ev);
    wait_for("the delivery count", Duration::from_secs(5), || {
        emu.stats().notify_delivered == 1
    });
    assert_eq!(emu.stats().notify_attempts, 1);
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "one POST per event"
    );
}

#[test]
fn a_failing_receiver_gets_two_retries() {
    let (url, rx) = receiver(vec![500, 503]);
    let emu = start(EmulatorConfig {
        notify_url: Some(url),
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let (file_id, _) = upload(&c, 4000, 22);
    let got: Vec<Received> = (0..3)
        .map(|i| {
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("attempt {} arrives", i + 1))
        })
        .collect();
    for r in &got {
        assert_eq!(r.body, got[0].body, "every attempt sends the same event");
        assert_eq!(r.json()["data"]["fileId"], file_id.as_str());
    }
    wait_for("the delivery count", Duration::from_secs(5), || {
        emu.stats().notify_delivered == 1
    });
    let s = emu.stats();
    assert_eq!((s.notify_attempts, s.notify_failed), (3, 0));
}

#[test]
fn a_dead_receiver_never_holds_up_finish_upload() {
    // Accepts connections (the kernel does) but never answers: each attempt waits its 5 s.
    let black_hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let emu = start(EmulatorConfig {
        notify_url: Some(format!("http://{}/cb", black_hole.local_addr().unwrap())),
        rate_limit: false,
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    for i in 0..3 {
        let file = data(3000 + i, 30 + i as u64);
        let sha = sha1_hex(&file);
        assert_eq!(c.init(&sha, file.len() as u64, PART)["code"], 0);
        assert_eq!(c.part(&sha, 0, &file)["code"], 0);
        let t = Instant::now();
        let fin = c.finish(&sha);
        assert_eq!(fin["code"], 0, "{fin}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "FinishUpload took {:?} with a dead callback receiver",
            t.elapsed()
        );
    }
    assert_eq!(pull(&c).len(), 3, "the queue has every event anyway");
    assert!(emu.stats().notify_delivered == 0);
    let t = Instant::now();
    drop(emu);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "shutdown waits for no callback"
    );
    drop(black_hole);
}

#[test]
fn an_unreachable_receiver_is_tried_three_times_then_given_up() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let emu = start(EmulatorConfig {
        notify_url: Some(format!("http://127.0.0.1:{port}/cb")),
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let t = Instant::now();
    upload(&c, 1234, 40);
    assert!(t.elapsed() < Duration::from_secs(2));
    wait_for("the failure count", Duration::from_secs(10), || {
        emu.stats().notify_failed == 1
    });
    let s = emu.stats();
    assert_eq!((s.notify_attempts, s.notify_delivered), (3, 0));
    assert_eq!(pull(&c).len(), 1);
}

#[test]
fn bad_notify_urls_are_refused_at_start() {
    for bad in ["ftp://x/y", "no url", "http://user:pw@127.0.0.1/cb"] {
        let e = Emulator::start(EmulatorConfig {
            notify_url: Some(bad.into()),
            ..EmulatorConfig::default()
        })
        .unwrap_err();
        assert!(e.message().contains("notify URL"), "{e}");
        assert!(!e.message().contains("pw"), "{e}");
    }
    // Debug shows no query string (it may carry a token).
    let cfg = EmulatorConfig {
        notify_url: Some("http://127.0.0.1:9/cb?token=s3cret".into()),
        ..EmulatorConfig::default()
    };
    let dbg = format!("{cfg:?}");
    assert!(
        dbg.contains("127.0.0.1:9/cb") && !dbg.contains("s3cret"),
        "{dbg}"
    );
}

#[test]
fn the_binary_posts_to_notify_url_and_logs_failures_when_verbose() {
    let (url, rx) = receiver(vec![500, 500, 500]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vodupload-emulator"))
        .args(["--listen", "127.0.0.1:0", "--credential", "AKIDbin:bin-key"])
        .args(["--notify-url", &url, "--verbose"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let c = Client {
        scheme: "http".into(),
        addr: base.parse().unwrap(),
        path: "/v2/index.php".into(),
        sign_host: base.clone(),
        id: "AKIDbin".into(),
        key: "bin-key".into(),
        method: vodupload::signature::SignatureMethod::HmacSha1,
        ts_offset: 0,
        agent: agent(None),
    };
    let (file_id, _) = upload(&c, 777, 50);
    for _ in 0..3 {
        let r = rx.recv_timeout(Duration::from_secs(10)).expect("a POST");
        assert_eq!(r.json()["data"]["fileId"], file_id.as_str());
    }
    // The failure is logged (without the query string) once the retries are spent.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let until = Instant::now() + Duration::from_secs(10);
    let mut log = String::new();
    while !log.contains("after 3 attempts") {
        assert!(Instant::now() < until, "no failure line in {log:?}");
        let mut l = String::new();
        if err.read_line(&mut l).unwrap() == 0 {
            break;
        }
        log.push_str(&l);
    }
    assert!(log.contains("HTTP 500"), "{log}");
    assert!(log.contains("/vod/callback"), "{log}");
    assert!(!log.contains("s3cret"), "{log}");
    let _ = child.kill();
    let _ = child.wait();

    let out = Command::new(env!("CARGO_BIN_EXE_vodupload-emulator"))
        .args(["--listen", "127.0.0.1:0", "--notify-url", "ftp://x/y"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notify URL"), "{err}");
}
