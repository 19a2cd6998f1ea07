//! A fleet of app servers under one account's rate caps, with a real `redis-server` (Debian's
//! package; `scripts/setup.sh` installs it): four `vodupload upload` processes at once against an
//! emulator capped at 3,000 UploadParts a minute. Each paced on its own, together they go four
//! times over and the emulator refuses the excess (4400); pacing through Redis, none is refused
//! and together they run at the cap; Redis killed mid-run, they finish anyway. The same through a
//! Redis Cluster of three nodes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

/// The emulator's cap and the clients' rate, UploadParts a minute.
const CAP: u32 = 3000;

/// A `redis-server` on a free loopback port, with its files in a temporary folder; stopped on
/// drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Redis {
        Redis::start_with(&[])
    }

    /// A cluster node: cluster mode on, its cluster state in its own folder.
    fn start_node() -> Redis {
        Redis::start_with(&["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"])
    }

    fn start_with(extra: &[&str]) -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "yes"])
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed for this test: apt-get install redis-server (scripts/setup.sh does)");
        let redis = Redis {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        while !redis.answers() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// `redis-cli -p PORT ARGS...`'s output.
    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli comes with redis-server (Debian's redis-tools)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An emulator holding callers to the cap itself (bursts of a second's worth; InitUpload and
/// FinishUpload left wide: they are not what this measures).
fn capped_emulator(state: &Path) -> EmuProc {
    EmuProc::start_with_rates(
        state,
        "127.0.0.1:0",
        &[
            "--rate-upload-part",
            &CAP.to_string(),
            "--rate-init-finish",
            "6000",
            "--rate-burst-secs",
            "1",
        ],
    )
}

/// The emulator's counters, from its inspector.
fn counters(emu: &EmuProc) -> serde_json::Value {
    let mut r = ureq::get(format!("{}/_emulator/state", emu.base))
        .call()
        .unwrap();
    let state: serde_json::Value = serde_json::from_reader(r.body_mut().as_reader()).unwrap();
    state["counters"].clone()
}

/// Four client processes, each uploading its own file at the cap, paced on their own or through
/// `pacing`.
fn start_fleet(emu: &EmuProc, files: &[PathBuf], pacing: Option<&str>) -> Vec<Child> {
    files
        .iter()
        .map(|file| {
            let mut cmd = Command::new(bin());
            cmd.arg("upload")
                .arg(file)
                .args(["--endpoint", &emu.endpoint(), "--part-size", "524288"])
                .args(["--rate-upload-part", &CAP.to_string()])
                .args(["--rate-init-finish", "6000", "--max-attempts", "30"])
                .args(["--retry-base-delay", "0.05", "--no-cache", "--json"])
                .env("TENCENTCLOUD_SECRET_ID", ID)
                .env("TENCENTCLOUD_SECRET_KEY", KEY)
                .env_remove("VODUPLOAD_PACING")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(url) = pacing {
                cmd.args(["--pacing", url]);
            }
            cmd.spawn().unwrap()
        })
        .collect()
}

fn finish(fleet: Vec<Child>) -> Vec<Output> {
    let outputs: Vec<Output> = fleet
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        json_of(out);
    }
    outputs
}

fn videos(dir: &Path, seed: u64) -> Vec<PathBuf> {
    (0..4)
        .map(|i| random_file(dir, &format!("fleet-{seed}-{i}.mp4"), 32 * MIB, seed + i))
        .collect()
}

#[test]
fn a_fleet_shares_the_accounts_rate_through_redis() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = Redis::start();

    // Each process paced on its own: four times the cap, and the emulator refuses the excess.
    let alone = capped_emulator(&dir.path().join("alone"));
    finish(start_fleet(&alone, &videos(dir.path(), 10), None));
    let c = counters(&alone);
    println!(
        "four processes paced alone: {} of {} UploadParts refused",
        c["rateLimited"], c["partCalls"]
    );
    assert!(
        c["rateLimited"].as_u64().unwrap() > 0,
        "without shared pacing four processes exceed the cap: {c}"
    );

    // Through Redis: the four share the cap, nothing is refused, and together they run at it.
    let shared = capped_emulator(&dir.path().join("shared"));
    finish(start_fleet(
        &shared,
        &videos(dir.path(), 20),
        Some(&redis.url()),
    ));
    let c = counters(&shared);
    assert_eq!(c["rateLimited"], 0, "{c}");
    let parts = c["partsStored"].as_u64().unwrap();
    assert_eq!(parts, 4 * 64);
    let span_ms = c["lastPartUnixMs"].as_u64().unwrap() - c["firstPartUnixMs"].as_u64().unwrap();
    let per_minute = (parts - 1) as f64 * 60_000.0 / span_ms as f64;
    println!("four processes through Redis: {per_minute:.0} UploadParts a minute (cap {CAP})");
    assert!(
        (per_minute - CAP as f64).abs() <= CAP as f64 * 0.1,
        "the aggregate rate is within 10% of the cap: {per_minute:.0} a minute"
    );

    // Redis killed mid-run: every process goes on pacing locally (one warning each) and finishes.
    let orphaned = capped_emulator(&dir.path().join("orphaned"));
    let fleet = start_fleet(&orphaned, &videos(dir.path(), 30), Some(&redis.url()));
    let started = Instant::now();
    while counters(&orphaned)["partsStored"].as_u64().unwrap() < 40 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    redis.kill();
    for out in finish(fleet) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.matches("pacing locally").count(),
            1,
            "one warning when Redis goes away: {stderr}"
        );
        assert!(!stderr.contains("6379/0?"), "{stderr}");
    }
}

/// Three masters sharing the 16,384 slots, as `redis-cli --cluster create` makes them.
fn start_cluster() -> Vec<Redis> {
    let nodes: Vec<Redis> = (0..3).map(|_| Redis::start_node()).collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let created = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "redis-cli --cluster create: {}",
        String::from_utf8_lossy(&created.stdout)
    );
    let started = Instant::now();
    while !nodes
        .iter()
        .all(|n| n.cli(&["cluster", "info"]).contains("cluster_state:ok"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the cluster did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    nodes
}

#[test]
fn a_fleet_shares_the_accounts_rate_through_a_redis_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = start_cluster();
    let url = format!(
        "redis://{}",
        nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    );
    let emu = capped_emulator(&dir.path().join("cluster"));
    for out in finish(start_fleet(&emu, &videos(dir.path(), 40), Some(&url))) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("pacing locally"),
            "Redis Cluster failed: {stderr}"
        );
    }
    let c = counters(&emu);
    assert_eq!(c["rateLimited"], 0, "{c}");
    let parts = c["partsStored"].as_u64().unwrap();
    assert_eq!(parts, 4 * 64);
    let span_ms = c["lastPartUnixMs"].as_u64().unwrap() - c["firstPartUnixMs"].as_u64().unwrap();
    let per_minute = (parts - 1) as f64 * 60_000.0 / span_ms as f64;
    println!("four processes through a Redis Cluster: {per_minute:.0} UploadParts a minute");
    assert!(
        (per_minute - CAP as f64).abs() <= CAP as f64 * 0.1,
        "the aggregate rate is within 10% of the cap: {per_minute:.0} a minute"
    );
}
