//! Crash consistency: the emulator process is SIGKILLed at every named step of its durable work
//! (held there by `VODUPLOAD_EMULATOR_PAUSE_AT`), and at random moments during a stream of
//! uploads. After each restart on the same state, every upload can be completed, and every
//! finished file has exactly one "upload completed" event (unless it was confirmed).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use serde_json::Value;

const ID: &str = "AKIDcrash";
const KEY: &str = "crash-key";

struct Proc {
    child: Child,
    addr: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl Proc {
    fn start(state: &Path, pause_at: Option<&str>) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vodupload-emulator"));
        cmd.args(["--listen", "127.0.0.1:0", "--no-rate-limit", "--credential"])
            .arg(format!("{ID}:{KEY}"))
            .arg("--state")
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match pause_at {
            Some(step) => cmd.env("VODUPLOAD_EMULATOR_PAUSE_AT", step),
            None => cmd.env_remove("VODUPLOAD_EMULATOR_PAUSE_AT"),
        };
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("{line:?}"))
            .parse()
            .unwrap();
        let (tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Proc {
            child,
            addr,
            stderr,
        }
    }

    fn client(&self) -> Client {
        Client::for_addr(self.addr, ID, KEY)
    }

    /// SIGKILL.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn wait_for_pause(&self, step: &str) {
        let want = format!("paused at {step}");
        loop {
            let l = self
                .stderr
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the emulator never reached {step}"));
            if l.contains(&want) {
                return;
            }
        }
    }
}

/// One signed POST; `None` when the call fails (the emulator was killed) or is refused.
fn try_send(c: &Client, action: &str, extra: &[(&str, &str)], body: &[u8]) -> Option<Value> {
    let p = c.params("POST", action, extra);
    let resp = c.agent.post(&c.url_for(&p)).send(body).ok()?;
    let v: Value = serde_json::from_str(&resp.into_body().read_to_string().ok()?).ok()?;
    (v["code"].as_i64()? >= 0).then_some(v)
}

/// An upload from its start, stopping at the first call that fails.
fn try_upload(c: &Client, file: &[u8]) -> Option<()> {
    let sha = sha1_hex(file);
    let size = file.len().to_string();
    let init = [
        ("fileName", "crash"),
        ("fileSha", sha.as_str()),
        ("fileSize", size.as_str()),
        ("dataSize", "524288"),
        ("fileType", "mp4"),
    ];
    try_send(c, "InitUpload", &init, b"")?;
    for (i, chunk) in file.chunks(PART as usize).enumerate() {
        let offset = (i as u64 * PART).to_string();
        let len = chunk.len().to_string();
        let md5 = md5_hex(chunk);
        let part = [
            ("fileSha", sha.as_str()),
            ("offset", offset.as_str()),
            ("dataSize", len.as_str()),
            ("dataMd5", md5.as_str()),
        ];
        try_send(c, "UploadPart", &part, chunk)?;
    }
    try_send(c, "FinishUpload", &[("fileSha", &sha)], b"")?;
    Some(())
}

/// Takes an upload wherever it stands to its end; returns the fileId.
fn complete(c: &Client, file: &[u8]) -> String {
    let sha = sha1_hex(file);
    let r = c.init(&sha, file.len() as u64, PART);
    let have: BTreeSet<u64> = match r["code"].as_i64() {
        Some(2) => BTreeSet::new(),
        Some(1) => r["listParts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["offset"].as_u64().unwrap())
            .collect(),
        Some(0) => BTreeSet::new(),
        _ => panic!("InitUpload after a restart: {r}"),
    };
    if r["code"] != 2 {
        for (i, chunk) in file.chunks(PART as usize).enumerate() {
            let offset = i as u64 * PART;
            if !have.contains(&offset) {
                let p = c.part(&sha, offset, chunk);
                assert_eq!(p["code"], 0, "{p}");
            }
        }
    }
    let f = c.finish(&sha);
    assert_eq!(f["code"], 0, "{f}");
    let id = f["fileId"].as_str().unwrap().to_string();
    // Finishing again changes nothing.
    assert_eq!(c.finish(&sha)["fileId"], id.as_str());
    let got = c
        .agent
        .get(f["url"].as_str().unwrap())
        .call()
        .unwrap()
        .into_body()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    assert!(got == file, "the served file differs");
    id
}

fn state_json(c: &Client) -> Value {
    let body = c
        .agent
        .get(&format!("http://{}/_emulator/state", c.addr))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Every finished file has exactly one pending event, no event names another file, and
/// PullEvent agrees. Returns the fileIds.
fn check_one_event_per_file(c: &Client, confirmed: &BTreeSet<String>) -> BTreeSet<String> {
    let st = state_json(c);
    let files: BTreeSet<String> = st["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileId"].as_str().unwrap().to_string())
        .collect();
    let mut events: BTreeMap<String, usize> = BTreeMap::new();
    for e in st["events"]["pending"].as_array().unwrap() {
        *events
            .entry(e["fileId"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for f in &files {
        let n = events.get(f).copied().unwrap_or(0);
        let want = if confirmed.contains(f) { 0 } else { 1 };
        assert_eq!(n, want, "file {f} has {n} events: {st}");
    }
    for f in events.keys() {
        assert!(
            files.contains(f),
            "an event for {f}, which is not a finished file: {st}"
        );
    }
    let pulled = c.call("POST", "PullEvent", &[], b"").json();
    for e in pulled["eventList"].as_array().unwrap() {
        let id = e["eventContent"]["data"]["fileId"].as_str().unwrap();
        assert!(files.contains(id) && !confirmed.contains(id), "{e}");
    }
    files
}

#[test]
fn killed_at_each_durable_step_the_state_stays_consistent() {
    let steps = [
        "init:session-written",
        "part:body-written",
        "part:committed",
        "finish:verified",
        "finish:event-written",
        "finish:file-meta-written",
        "finish:committed",
        "finish:published",
        "confirm:removed",
    ];
    for step in steps {
        assert!(vodupload_emulator::STEPS.contains(&step), "{step}");
        let state = tempfile::tempdir().unwrap();
        let file = data((2 * PART + 100) as usize, 7);
        let emu = Proc::start(state.path(), Some(step));
        let c = emu.client();
        let worker = {
            let (c, file) = (c.clone(), file.clone());
            std::thread::spawn(move || -> Option<()> {
                try_upload(&c, &file)?;
                let pulled = try_send(&c, "PullEvent", &[], b"")?;
                let handle = pulled["eventList"][0]["msgHandle"].as_str()?.to_string();
                try_send(&c, "ConfirmEvent", &[("msgHandle.0", &handle)], b"")?;
                Some(())
            })
        };
        emu.wait_for_pause(step);
        emu.kill();
        let _ = worker.join();

        let emu = Proc::start(state.path(), None);
        let c = emu.client();
        let id = complete(&c, &file);
        let confirmed: BTreeSet<String> = if step == "confirm:removed" {
            [id.clone()].into()
        } else {
            BTreeSet::new()
        };
        let files = check_one_event_per_file(&c, &confirmed);
        assert_eq!(files, [id].into(), "killed at {step}");
        emu.kill();
    }
}

#[test]
fn killed_at_random_moments_during_uploads_the_state_stays_consistent() {
    let state = tempfile::tempdir().unwrap();
    const ROUNDS: usize = 12;
    const PER_ROUND: usize = 4;
    let files: Vec<Vec<u8>> = (0..ROUNDS * PER_ROUND)
        .map(|i| data((PART as usize) * (1 + i % 4) + 17 * i, 100 + i as u64))
        .collect();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut started = 0;
    for round in 0..ROUNDS {
        let emu = Proc::start(state.path(), None);
        let c = emu.client();
        let batch: Vec<Vec<u8>> = files[started..started + PER_ROUND].to_vec();
        started += PER_ROUND;
        let worker = {
            let (c, batch) = (c.clone(), batch.clone());
            std::thread::spawn(move || {
                std::thread::scope(|s| {
                    for f in &batch {
                        let c = c.clone();
                        s.spawn(move || try_upload(&c, f));
                    }
                });
            })
        };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(5 + rng % 120));
        emu.kill();
        let _ = worker.join();

        let emu = Proc::start(state.path(), None);
        let c = emu.client();
        let ids: BTreeSet<String> = files[..started].iter().map(|f| complete(&c, f)).collect();
        assert_eq!(ids.len(), started, "round {round}");
        let finished = check_one_event_per_file(&c, &BTreeSet::new());
        assert_eq!(finished, ids, "round {round}");
        emu.kill();
    }
}
