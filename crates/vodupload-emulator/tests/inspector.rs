//! The inspector: readiness, the state as JSON, and the HTML page, checked as served and as a
//! real browser (Debian's chromium, headless) renders it while an upload runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use serde_json::Value;
use vodupload_emulator::{Emulator, EmulatorConfig};

const KEY: &str = "inspector-secret-key";

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        credentials: vec![("AKIDinspect".into(), KEY.into())],
        ..config
    })
    .expect("emulator starts")
}

fn get(c: &Client, path: &str) -> (u16, String, String) {
    let r = c
        .agent
        .get(&format!("http://{}{path}", c.addr))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    let csp = r
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, csp, r.into_body().read_to_string().unwrap())
}

/// What every test here starts from: a finished file with tags and a class (its event
/// pending), another whose event was confirmed, an upload half sent, a refused request.
struct Scene {
    emu: Emulator,
    c: Client,
    done_id: String,
    confirmed_id: String,
    partial_sha: String,
    signatures: Vec<String>,
}

fn scene() -> Scene {
    let emu = start(EmulatorConfig::default());
    let c = Client::new(&emu);
    let mut signatures = Vec::new();
    let first = data(5000, 1);
    let sha = sha1_hex(&first);
    let init = c.params(
        "POST",
        "InitUpload",
        &[
            ("fileName", "holiday"),
            ("fileSha", &sha),
            ("fileSize", "5000"),
            ("dataSize", "524288"),
            ("fileType", "mp4"),
            ("tags.1", "<b>beach</b>"),
            ("tags.2", "2026"),
            ("classId", "7"),
        ],
    );
    signatures.push(
        init.iter()
            .find(|(k, _)| k == "Signature")
            .unwrap()
            .1
            .clone(),
    );
    assert_eq!(c.send_params("POST", &init, b"").code(), 0);
    assert_eq!(c.part(&sha, 0, &first)["code"], 0);
    let confirmed_id = c.finish(&sha)["fileId"].as_str().unwrap().to_string();
    let pulled = c.call("POST", "PullEvent", &[], b"").json();
    let handle = pulled["eventList"][0]["msgHandle"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        c.call("POST", "ConfirmEvent", &[("msgHandle.0", &handle)], b"")
            .code(),
        0
    );

    let second = data(7000, 2);
    let done_id = c.upload(&second, PART)["fileId"]
        .as_str()
        .unwrap()
        .to_string();

    let partial = data((4 * PART) as usize, 3);
    let partial_sha = sha1_hex(&partial);
    assert_eq!(c.init(&partial_sha, partial.len() as u64, PART)["code"], 0);
    assert_eq!(
        c.part(
            &partial_sha,
            PART,
            &partial[PART as usize..2 * PART as usize]
        )["code"],
        0
    );

    let mut bad = c.clone();
    bad.key = "wrong".into();
    assert_eq!(bad.finish(&partial_sha)["code"], -10002);
    Scene {
        emu,
        c,
        done_id,
        confirmed_id,
        partial_sha,
        signatures,
    }
}

fn no_secrets(what: &str, text: &str, s: &Scene) {
    assert!(!text.contains(KEY), "{what} shows the SecretKey");
    for sig in &s.signatures {
        assert!(!text.contains(sig.as_str()), "{what} shows a Signature");
        assert!(
            !text.contains(&vodupload::signature::percent_encode(sig)),
            "{what} shows a Signature"
        );
    }
    assert!(!text.contains("Signature="), "{what} shows a query string");
}

#[test]
fn health_and_state_as_json() {
    let s = scene();
    let (status, _, body) = get(&s.c, "/_emulator/health");
    assert_eq!(status, 200);
    let h: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "ready");
    assert_eq!(h["endpoint"], s.emu.endpoint().as_str());

    let (status, _, body) = get(&s.c, "/_emulator/state");
    assert_eq!(status, 200);
    no_secrets("the state", &body, &s);
    let st: Value = serde_json::from_str(&body).unwrap();
    let files = st["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let holiday = files
        .iter()
        .find(|f| f["fileId"] == s.confirmed_id.as_str())
        .unwrap();
    assert_eq!(holiday["fileName"], "holiday");
    assert_eq!(holiday["size"], 5000);
    assert_eq!(holiday["sha1"], sha1_hex(&data(5000, 1)).as_str());
    assert_eq!(holiday["tags"], serde_json::json!(["<b>beach</b>", "2026"]));
    assert_eq!(holiday["classId"], 7);
    assert!(holiday["finishedUnix"].as_i64().unwrap() > 0);
    assert_eq!(
        holiday["url"],
        format!("http://{}/vod/{}/f0.mp4", s.emu.addr(), s.confirmed_id).as_str()
    );
    let up = &st["uploads"][0];
    assert_eq!(up["fileSha"], s.partial_sha.as_str());
    assert_eq!(
        (up["partsStored"].as_u64(), up["partsTotal"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(
        up["map"],
        serde_json::json!([[0, 1], [1, 1], [0, 1], [0, 1]])
    );
    let ev = &st["events"];
    assert_eq!(ev["pending"].as_array().unwrap().len(), 1);
    assert_eq!(ev["pending"][0]["fileId"], s.done_id.as_str());
    assert_eq!(ev["pending"][0]["pulled"], 0);
    assert_eq!(ev["confirmed"][0]["fileId"], s.confirmed_id.as_str());
    assert_eq!(
        (ev["created"].as_u64(), ev["confirmedTotal"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(st["counters"]["finishCalls"], 3);
    assert!(st["faultsByKind"].as_array().unwrap().len() == 5);
    let recent = st["recentRequests"].as_array().unwrap();
    assert_eq!(recent[0]["action"], "FinishUpload", "newest first");
    assert!(
        recent[0]["result"].as_str().unwrap().starts_with("-10002"),
        "{}",
        recent[0]
    );
    assert_eq!(recent[0]["secretId"], "AKIDinspect");
}

#[test]
fn the_page_is_self_contained_and_escapes_what_clients_sent() {
    let s = scene();
    let (status, csp, html) = get(&s.c, "/");
    assert_eq!(status, 200);
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    no_secrets("the page", &html, &s);
    assert!(
        html.contains("&lt;b&gt;beach&lt;/b&gt;"),
        "tags are escaped"
    );
    assert!(!html.contains("<b>beach</b>"));
    for asset in ["src=\"http", "src='http", "@import", "url("] {
        assert!(!html.contains(asset), "the page loads {asset}...");
    }
    for link in html.split("<link").skip(1) {
        assert!(
            link.starts_with(" rel=\"icon\" href=\"data:"),
            "<link{link}"
        );
    }
    assert!(html.contains(&format!("data-file-id=\"{}\"", s.done_id)));

    let off = start(EmulatorConfig {
        inspector: false,
        ..EmulatorConfig::default()
    });
    let (status, _, _) = get(&Client::new(&off), "/_emulator/health");
    assert_eq!(status, 404);
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(out) = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!(
        "chromium is not installed: this test renders the inspector in it. Run scripts/setup.sh \
         (it installs Debian's chromium package)"
    );
}

fn browser(chromium: &Path, profile: &Path, args: &[String]) -> std::process::Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    if root {
        cmd.arg("--no-sandbox");
    }
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Where test artifacts are kept: `target/test-artifacts/`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_page_in_a_real_browser_while_an_upload_runs() {
    let chromium = chromium();
    let s = scene();
    let url = s.emu.inspector_url();
    // Forty parts, one every 200 ms, the last never sent: running while the browser loads the page.
    let running = data((40 * PART) as usize, 4);
    let running_sha = sha1_hex(&running);
    assert_eq!(
        s.c.init(&running_sha, running.len() as u64, PART)["code"],
        0
    );
    let stop = AtomicBool::new(false);
    let profile = tempfile::tempdir().unwrap();
    let (dom, shot) = std::thread::scope(|scope| {
        let uploader = scope.spawn(|| {
            // All but the last part: the upload is still in progress however slow the browser.
            for (i, chunk) in running.chunks(PART as usize).take(39).enumerate() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                assert_eq!(s.c.part(&running_sha, i as u64 * PART, chunk)["code"], 0);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        // The scene stored three parts; three more are the running upload's.
        wait_until("parts of the running upload", || {
            s.emu.stats().parts_stored >= 6
        });
        let dom = browser(
            &chromium,
            profile.path(),
            &["--dump-dom".into(), url.clone()],
        );
        let shot = artifacts().join("inspector.png");
        let _ = std::fs::remove_file(&shot);
        browser(
            &chromium,
            profile.path(),
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1280,1800".into(),
                url.clone(),
            ],
        );
        stop.store(true, Ordering::Relaxed);
        uploader.join().unwrap();
        (String::from_utf8(dom.stdout).unwrap(), shot)
    });

    assert!(
        dom.contains("data-script=\"ran\""),
        "the page's script did not run: {dom}"
    );
    no_secrets("the rendered page", &dom, &s);
    assert!(
        dom.contains(&format!("data-file-id=\"{}\"", s.done_id)),
        "{dom}"
    );
    assert!(
        dom.contains(&format!(
            "<video controls=\"\" preload=\"none\" src=\"/vod/{}/f0.mp4\"",
            s.done_id
        )),
        "{dom}"
    );
    let row = dom
        .split(&format!("data-file-sha=\"{running_sha}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("the running upload is not shown: {dom}"));
    let stored: u64 = row
        .split("data-stored=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((3..40).contains(&stored), "{stored}");
    assert!(row.contains("data-total=\"40\""));
    assert!(dom.contains(&format!("data-file-sha=\"{}\"", s.partial_sha)));
    assert!(dom.contains("data-state=\"pending\""), "{dom}");
    assert!(dom.contains("data-state=\"confirmed\""), "{dom}");
    assert!(dom.contains("-10002"), "the refused request is listed");
    // Local times replaced the server's HTTP dates.
    let first_time = dom.split("<time data-unix=").nth(1).unwrap();
    assert!(
        !first_time.split("</time>").next().unwrap().contains("GMT"),
        "{first_time}"
    );

    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
