//! End to end: the `vodupload` binary against an emulator started separately (a child process),
//! over real sockets; and the core library against an in-process emulator for the fault runs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vodupload::{
    CancelToken, Client, ClientOptions, Credentials, ErrorKind, UploadOptions, no_progress,
};
use vodupload_emulator::{Emulator, EmulatorConfig, Faults};

mod common;
use common::*;

fn upload_cmd(emu: &EmuProc, file: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("upload")
        .arg(file)
        .args([
            "--endpoint",
            &emu.endpoint(),
            "--secret-id",
            ID,
            "--secret-key",
            KEY,
            "--json",
        ])
        .args(extra)
        .env_remove("RUST_LOG")
        .env("XDG_CACHE_HOME", file.parent().unwrap().join("cache"));
    if let Some(cert) = &emu.cert {
        cmd.arg("--ca-file").arg(cert);
    }
    cmd
}

#[test]
fn uploads_over_http_and_https_then_instant() {
    let dir = tempfile::tempdir().unwrap();
    let six = random_file(dir.path(), "six.mp4", 6_000_000, 1);
    let big = random_file(dir.path(), "big.mp4", 50 * MIB + 4321, 2);

    let emu = EmuProc::start(&dir.path().join("state-http"), "127.0.0.1:0", &[]);
    for (file, parts) in [(&six, 6u64), (&big, 51)] {
        let j = json_of(&upload_cmd(&emu, file, &[]).output().unwrap());
        assert_eq!(j["instant"], false);
        assert_eq!(j["parts_total"], parts);
        assert_eq!(j["parts_uploaded"], parts);
        assert_eq!(j["bytes_sent"], std::fs::metadata(file).unwrap().len());
        for key in ["file_id", "url", "parts_skipped", "elapsed_ms"] {
            assert!(j.get(key).is_some(), "--json lacks {key}: {j}");
        }
        assert_eq!(sha1_url(j["url"].as_str().unwrap(), None), sha1_file(file));
    }
    // The same file again: the service has it, nothing is sent.
    let again = json_of(&upload_cmd(&emu, &six, &[]).output().unwrap());
    assert_eq!(again["instant"], true);
    assert_eq!(again["parts_uploaded"], 0);
    assert_eq!(again["bytes_sent"], 0);

    let cert = dir.path().join("emu-cert.pem");
    let cert_s = cert.to_str().unwrap().to_owned();
    let tls = EmuProc::start(
        &dir.path().join("state-https"),
        "127.0.0.1:0",
        &["--tls-self-signed", &cert_s],
    );
    assert!(tls.base.starts_with("https://"), "{}", tls.base);
    for file in [&six, &big] {
        let j = json_of(&upload_cmd(&tls, file, &[]).output().unwrap());
        assert_eq!(j["instant"], false);
        assert_eq!(
            sha1_url(j["url"].as_str().unwrap(), Some(&cert)),
            sha1_file(file)
        );
    }
    // TLS is verified by default: without the CA file the self-signed server is refused.
    let mut cmd = Command::new(bin());
    let out = cmd
        .arg("upload")
        .arg(&six)
        .args([
            "--endpoint",
            &tls.endpoint(),
            "--secret-id",
            ID,
            "--secret-key",
            KEY,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS") && err.contains("certificate"), "{err}");
}

/// Runs an upload with debug logs and kills it once `parts` parts are confirmed.
fn upload_and_kill_after(cmd: &mut Command, parts: usize) {
    let mut child = cmd
        .env("RUST_LOG", "vodupload=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = 0;
    for line in err.lines() {
        let line = line.unwrap();
        if line.contains("UploadPart") && line.contains(" ok in ") {
            seen += 1;
            if seen == parts {
                break;
            }
        }
    }
    assert_eq!(
        seen, parts,
        "the upload ended before {parts} parts were stored"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn killed_upload_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "resume.mp4", 20 * MIB + 77, 3);
    let emu = EmuProc::start(
        &dir.path().join("state"),
        "127.0.0.1:0",
        &["--latency-ms", "40"],
    );
    upload_and_kill_after(&mut upload_cmd(&emu, &file, &["--concurrency", "2"]), 5);

    let j = json_of(
        &upload_cmd(&emu, &file, &["--concurrency", "2"])
            .output()
            .unwrap(),
    );
    let skipped = j["parts_skipped"].as_u64().unwrap();
    assert!(skipped >= 5, "the re-run skipped {skipped} parts: {j}");
    let size = std::fs::metadata(&file).unwrap().len();
    let remaining = size - skipped * MIB;
    let sent = j["bytes_sent"].as_u64().unwrap();
    assert!(
        sent <= remaining + 2 * MIB,
        "sent {sent}, remaining {remaining}"
    );
    assert_eq!(sha1_url(j["url"].as_str().unwrap(), None), sha1_file(&file));
}

#[test]
fn emulator_killed_and_restarted_mid_upload() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "restart.mp4", 16 * MIB + 5, 4);
    let state = dir.path().join("state");
    let mut emu = EmuProc::start(&state, "127.0.0.1:0", &["--latency-ms", "40"]);
    let port = emu.port().to_owned();
    let mut child = upload_cmd(&emu, &file, &["--concurrency", "2", "--retries", "12"])
        .env("RUST_LOG", "vodupload=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = BufReader::new(child.stderr.take().unwrap());
    let mut lines = err.lines();
    let mut seen = 0;
    while seen < 4 {
        let line = lines.next().expect("upload ended early").unwrap();
        if line.contains("UploadPart") && line.contains(" ok in ") {
            seen += 1;
        }
    }
    emu.kill();
    std::thread::sleep(Duration::from_millis(300));
    let _emu2 = EmuProc::start(
        &state,
        &format!("127.0.0.1:{port}"),
        &["--latency-ms", "40"],
    );
    std::thread::spawn(move || for _ in lines {});
    let out = child.wait_with_output().unwrap();
    let j = json_of(&out);
    assert_eq!(j["parts_total"], 17);
    assert_eq!(sha1_url(j["url"].as_str().unwrap(), None), sha1_file(&file));
}

fn fast_client(emu: &Emulator, key: Option<&str>) -> Client {
    let client = client_for(emu, |o| {
        o.max_attempts = 12;
        o.request_timeout = Duration::from_secs(10);
    });
    match key {
        None => client,
        Some(key) => {
            let (id, _) = emu.credentials()[0].clone();
            Client::new(Credentials::new(id, key).unwrap(), client.options().clone()).unwrap()
        }
    }
}

#[test]
fn twenty_uploads_survive_injected_faults() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        faults: Faults {
            seed: 20261125,
            fail_rate: 0.1,
            drop_rate: 0.1,
            ..Faults::default()
        },
        rate_limit: false,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = fast_client(&emu, None);
    let mut rng_state = 99u64;
    for i in 0..20u64 {
        rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1);
        let size = 1 + (rng_state >> 33) % (5 * MIB);
        let file = random_file(dir.path(), &format!("f{i}.mp4"), size, 100 + i);
        let r = upload_with(&client, &file, &no_progress)
            .unwrap_or_else(|e| panic!("upload {i} ({size} bytes) failed: {e}"));
        assert_eq!(sha1_url(&r.url, None), sha1_file(&file), "upload {i}");
    }
    let stats = emu.stats();
    println!(
        "faults injected: {}, requests: {}",
        stats.faults_injected, stats.requests
    );
    assert!(stats.faults_injected > 10, "{stats:?}");
}

#[test]
fn wrong_key_fails_at_once_naming_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "k.mp4", 1000, 5);
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = fast_client(&emu, Some("not-the-key"));
    let e = upload_with(&client, &file, &no_progress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("-10002"), "{e}");
    assert!(!e.to_string().contains("not-the-key"));
    assert_eq!(emu.stats().init_calls, 1, "an auth failure is not retried");

    let (id, _) = emu.credentials()[0].clone();
    let out = Command::new(bin())
        .arg("upload")
        .arg(&file)
        .args([
            "--endpoint",
            &emu.endpoint(),
            "--secret-id",
            &id,
            "--secret-key",
            "wrong-key-here",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("-10002") && !err.contains("wrong-key-here"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line of reason: {err}");
}

#[test]
fn bad_input_fails_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = fast_client(&emu, None);
    let empty = dir.path().join("empty.mp4");
    std::fs::File::create(&empty).unwrap();
    let good = random_file(dir.path(), "good.mp4", 100, 6);
    let up = |path: &Path, o: UploadOptions| {
        client
            .upload(path, &o, &no_progress, &CancelToken::new())
            .unwrap_err()
    };
    let cases = [
        (up(&empty, UploadOptions::default()), "empty"),
        (up(dir.path(), UploadOptions::default()), "directory"),
        (
            up(&dir.path().join("missing.mp4"), UploadOptions::default()),
            "no such file",
        ),
        (
            up(
                &good,
                UploadOptions {
                    name: Some("a/b".into()),
                    ..Default::default()
                },
            ),
            "contains '/'",
        ),
        (
            up(
                &good,
                UploadOptions {
                    name: Some("x".repeat(41)),
                    ..Default::default()
                },
            ),
            "at most 40",
        ),
    ];
    for (e, want) in &cases {
        assert!(e.to_string().contains(want), "{e} (wanted {want:?})");
    }
    assert_eq!(cases[2].0.io_kind(), Some(std::io::ErrorKind::NotFound));

    // A bad part size is refused when the client is made.
    let mut o = ClientOptions::default();
    o.endpoint = emu.endpoint();
    o.part_size = 4096;
    let e = Client::new(Credentials::new("a", "b").unwrap(), o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    // The CLI says the same in one line, with the status for bad input.
    let out = Command::new(bin())
        .arg("upload")
        .arg(&good)
        .args([
            "--endpoint",
            &emu.endpoint(),
            "--secret-id",
            "a",
            "--secret-key",
            "b",
        ])
        .args(["--part-size", "4096"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("524288"));

    // Unreadable. Root reads anything, so as root the CLI runs as `nobody` (when runuser works
    // and `nobody` can reach the binary); as anyone else, directly.
    let secret = dir.path().join("secret.mp4");
    std::fs::write(&secret, b"data").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let as_root = std::fs::read(&secret).is_ok();
    let mut cmd = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--", bin()]);
        c
    } else {
        Command::new(bin())
    };
    let usable = !as_root
        || Command::new("runuser")
            .args(["-u", "nobody", "--", bin(), "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
    if usable {
        let out = cmd
            .arg("upload")
            .arg(&secret)
            .args([
                "--endpoint",
                &emu.endpoint(),
                "--secret-id",
                "a",
                "--secret-key",
                "b",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains("permission denied"), "{err}");
    } else {
        println!(
            "as root without a usable `runuser -u nobody`: the unreadable-file case was not run"
        );
    }
    assert_eq!(
        emu.stats().requests,
        0,
        "no request may be sent for bad input"
    );
}

#[test]
fn sign_subcommand_gives_the_known_answer() {
    let out = Command::new(bin())
        .args([
            "sign",
            "--method",
            "GET",
            "--host",
            "cvm.api.qcloud.com",
            "--path",
            "/v2/index.php",
            "--secret-key",
            "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA",
            "Action=DescribeInstances",
            "Nonce=11886",
            "Region=gz",
            "SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA",
            "Timestamp=1465185768",
            "instanceIds.0=ins-09dx96dg",
            "limit=20",
            "offset=0",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("signature: NSI3UqqD99b/UJb4tbG/xZpRW64="), "{s}");
    assert!(
        s.contains("GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886"),
        "{s}"
    );
}

#[test]
fn embedded_emulator_upload() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "embedded.mp4", 3 * MIB, 7);
    let started = Instant::now();
    // A proxy that answers nothing: the embedded emulator must be reached directly anyway.
    let dead_proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", dead_proxy.local_addr().unwrap());
    drop(dead_proxy);
    let out = Command::new(bin())
        .arg("upload")
        .arg(&file)
        .args(["--emulator", "--json", "--retries", "1"])
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let j = json_of(&out);
    assert_eq!(j["parts_total"], 3);
    assert_eq!(j["instant"], false);
    // Every result field of the core, under the CLI's name (durations carry their unit).
    let mut keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    let mut fields: Vec<String> = vodupload::settings::RESULT_FIELDS
        .iter()
        .map(|f| match f.name {
            "elapsed" => "elapsed_ms".to_owned(),
            n => n.to_owned(),
        })
        .collect();
    keys.sort_unstable();
    fields.sort_unstable();
    assert_eq!(keys, fields, "--json has exactly the core's result fields");
    println!("embedded upload took {:?}", started.elapsed());
}
