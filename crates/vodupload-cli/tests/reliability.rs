//! Reliability: a fault soak, crashes of the client at random moments, secrets kept out of every
//! output. Seeds are printed, and can be replayed with VODUPLOAD_SOAK_SEED / VODUPLOAD_CRASH_SEED.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vodupload::{Client, ClientOptions, Credentials, Phase, Progress, RateLimits};
use vodupload_emulator::{Emulator, EmulatorConfig, Faults};

mod common;
use common::*;

fn seed_from_env(var: &str) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

/// 100 uploads of 1 byte to 24 MiB through every fault the emulator can inject.
#[test]
fn fault_soak() {
    let seed = seed_from_env("VODUPLOAD_SOAK_SEED");
    println!("soak seed {seed} (replay with VODUPLOAD_SOAK_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        faults: Faults {
            seed,
            fail_rate: 0.05,
            drop_rate: 0.05,
            http502_rate: 0.03,
            truncate_rate: 0.03,
            slow_rate: 0.005,
            slow_ms: 1500,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap();
    let (id, key) = emu.credentials()[0].clone();
    let mut o = ClientOptions::default();
    o.endpoint = emu.endpoint();
    o.max_attempts = 15;
    o.retry_base_delay = Duration::from_millis(2);
    o.retry_max_delay = Duration::from_millis(50);
    o.request_timeout = Duration::from_millis(1000);
    o.rate_limits = RateLimits::unlimited();
    let client = Client::new(Credentials::new(id, key).unwrap(), o).unwrap();

    let started = Instant::now();
    let (mut bytes, mut sent, mut retries, mut lost) = (0u64, 0u64, 0u64, 0usize);
    for i in 0..100u64 {
        let size = match i % 10 {
            0 => (1 + rng.below(24)) * MIB,
            1 => 1 + rng.below(3),
            2 => (1 + rng.below(24)) * 524_288,
            _ => 1 + rng.below(24 * MIB),
        };
        let path = dir.path().join(format!("soak{i}.mp4"));
        write_random(&path, size, &mut rng);
        let last = Mutex::new((Phase::Hashing, 0u64));
        let progress = |p: Progress| {
            let mut l = last.lock().unwrap();
            if p.phase == l.0 {
                assert!(
                    p.done >= l.1,
                    "progress went back: {} after {} (seed {seed})",
                    p.done,
                    l.1
                );
            }
            *l = (p.phase, p.done);
            true
        };
        let r = upload_with(&client, &path, &progress)
            .unwrap_or_else(|e| panic!("upload {i} of {size} bytes failed (seed {seed}): {e}"));
        if sha1_url(&r.url, None) != sha1_file(&path) {
            lost += 1;
        }
        bytes += size;
        sent += r.bytes_sent;
        retries += r.retries;
        std::fs::remove_file(&path).unwrap();
    }
    let stats = emu.stats();
    println!(
        "soak: 100 uploads, {} MiB, {} faults injected, {} retries, {} bytes re-sent, data lost: {lost}, {:.1} s (seed {seed})",
        bytes / MIB,
        stats.faults_injected,
        retries,
        sent.saturating_sub(bytes),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(lost, 0, "seed {seed}");
    assert!(
        stats.faults_injected > 50,
        "the soak injected too few faults: {stats:?}"
    );
}

/// SIGKILL the CLI at 20 random moments; each re-run completes and what the server stored in
/// both runs together exceeds the file by at most concurrency × part size.
#[test]
fn sigkill_the_client_twenty_times() {
    let seed = seed_from_env("VODUPLOAD_CRASH_SEED");
    println!("crash seed {seed} (replay with VODUPLOAD_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        faults: Faults {
            latency_ms: 15,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap();
    let (id, key) = emu.credentials()[0].clone();
    let cache = dir.path().join("cache");
    let concurrency = 3u64;
    let upload = |path: &PathBuf| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vodupload"));
        c.arg("upload")
            .arg(path)
            .args([
                "--endpoint",
                &emu.endpoint(),
                "--secret-id",
                &id,
                "--secret-key",
                &key,
            ])
            .args([
                "--json",
                "--no-rate-limit",
                "--concurrency",
                &concurrency.to_string(),
            ])
            .arg("--cache-dir")
            .arg(&cache);
        c
    };
    let mut interrupted = 0;
    for round in 0..20 {
        let path = dir.path().join(format!("crash{round}.mp4"));
        let size = 4 * MIB + rng.below(12 * MIB);
        write_random(&path, size, &mut rng);
        let before = emu.stats().part_bytes_stored;
        let mut child = upload(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(250)));
        let finished_first = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        child.wait().unwrap();
        if !finished_first {
            interrupted += 1;
        }
        let out = upload(&path).output().unwrap();
        assert!(
            out.status.success(),
            "round {round} re-run failed (seed {seed}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            sha1_url(j["url"].as_str().unwrap(), None),
            sha1_file(&path),
            "round {round}, seed {seed}"
        );
        let stored = emu.stats().part_bytes_stored - before;
        assert!(
            stored <= size + concurrency * MIB,
            "round {round}: the server stored {stored} bytes for a {size}-byte file (seed {seed})"
        );
    }
    println!("{interrupted} of 20 runs were killed before they finished");
    assert!(
        interrupted >= 10,
        "too few kills landed mid-upload (seed {seed})"
    );
}

/// The secret key never shows: not in logs at the most verbose level, not in errors.
#[test]
fn the_secret_key_never_appears_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.mp4");
    write_random(&path, 3 * MIB + 5, &mut Rng(5));
    let secret = "Sup3rSecretKeyValue0123456789abcd";
    let emu = Emulator::start(EmulatorConfig {
        credentials: vec![("AKIDsecrettest".into(), secret.into())],
        rate_limit: false,
        faults: Faults {
            seed: 3,
            fail_rate: 0.3,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap();
    let mut outputs = String::new();
    for key in [secret, "Wr0ngKeyValue0123456789abcdefgh"] {
        let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
            .args(["-vv", "upload"])
            .arg(&path)
            .args([
                "--endpoint",
                &emu.endpoint(),
                "--secret-id",
                "AKIDsecrettest",
                "--no-cache",
            ])
            .env("TENCENTCLOUD_SECRET_KEY", key)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(key), "the key leaked:\n{text}");
        assert!(!text.contains("Signature="), "a signature leaked:\n{text}");
        outputs.push_str(&text);
    }
    assert!(
        outputs.contains("retrying"),
        "the run logged its retries:\n{outputs}"
    );
    assert!(
        outputs.contains("-10002"),
        "the wrong key failed with -10002:\n{outputs}"
    );

    let creds = Credentials::new("AKIDsecrettest", secret).unwrap();
    assert!(!format!("{creds:?}").contains(secret));
}
