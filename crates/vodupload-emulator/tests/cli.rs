//! The `vodupload-emulator` binary: its output contract, a real request, clean shutdown on SIGTERM,
//! and argument errors.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

use common::*;
use vodupload::signature::{SignatureMethod, encode_query, sign};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vodupload-emulator"))
}

/// Sends `signal` to a child by pid with the `kill` command (std only sends SIGKILL).
fn signal(pid: u32, signal: &str) {
    let st = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn runs_prints_credential_and_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let mut child = bin()
        .args(["--listen", "127.0.0.1:0", "--tls-self-signed"])
        .arg(&cert)
        .arg("-v")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let cred = line
        .trim()
        .strip_prefix("credential ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let (id, key) = cred.split_once(':').unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let host = base.trim_start_matches("https://").to_string();

    // A signed request over TLS, trusting the certificate the emulator wrote.
    let pem = std::fs::read_to_string(&cert).unwrap();
    let agent = agent(Some(&pem));
    let mut p = kv(&[
        ("Action", "InitUpload"),
        ("Region", "gz"),
        ("Timestamp", &now().to_string()),
        ("Nonce", "77"),
        ("SecretId", id),
        ("fileName", "cli"),
        ("fileSha", &"ab".repeat(20)),
        ("fileSize", "10"),
        ("dataSize", "524288"),
        ("fileType", "mp4"),
    ]);
    let sig = sign(
        "POST",
        &host,
        "/v2/index.php",
        &p,
        key,
        SignatureMethod::HmacSha1,
    );
    p.push(("Signature".into(), sig));
    let url = format!("{base}/v2/index.php?{}", encode_query(&p));
    let body = agent
        .post(&url)
        .send(&b""[..])
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(body.contains("\"code\":0"), "{body}");

    signal(child.id(), "-TERM");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing more on stdout: {rest:?}");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("temporary directory"), "{err}");
    // -v logs the request, without the signature or the key.
    assert!(err.contains("POST /v2/index.php InitUpload -> 0"), "{err}");
    assert!(!err.contains(key), "{err}");
    assert!(!err.contains(&p.last().unwrap().1), "{err}");
    // The temporary state directory is gone.
    let tmp_line = err
        .lines()
        .find(|l| l.contains("temporary directory"))
        .unwrap();
    let path = tmp_line
        .split("temporary directory ")
        .nth(1)
        .unwrap()
        .split(" (")
        .next()
        .unwrap();
    assert!(!std::path::Path::new(path).exists(), "{path}");
}

#[test]
fn given_credentials_are_not_printed_and_state_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args(["--listen", "127.0.0.1:0", "--credential", "AKIDx:secret"])
        .arg("--state")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    signal(child.id(), "-INT");
    assert!(child.wait().unwrap().success());
    assert!(dir.path().join("sessions").is_dir());
}

#[test]
fn argument_errors() {
    let run = |args: &[&str]| {
        let o = bin().args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--listen", "127.0.0.1:0", "--credential", "nocolon"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--credential must be"), "{err}");
    let (code, err) = run(&["--listen", "127.0.0.1:0", "--drop-rate", "2"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("drop rate"), "{err}");
    let (code, err) = run(&["--listen", "127.0.0.1:0", "--slow-rate", "0.5"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--slow-ms"), "{err}");
    for bad in ["0", "0.0001", "NaN", "inf"] {
        let (code, err) = run(&["--listen", "127.0.0.1:0", "--bandwidth", bad]);
        assert_eq!(code, Some(1), "--bandwidth {bad}");
        assert!(err.contains("--bandwidth") && err.contains("MB/s"), "{err}");
    }
    let (code, _) = run(&["--listen", "127.0.0.1:0", "--tls-cert", "x.pem"]);
    assert_eq!(code, Some(2)); // clap: --tls-key required
    let (code, err) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/c.pem",
        "--tls-key",
        "/nonexistent/k.pem",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("/nonexistent/c.pem"), "{err}");
    // Binding a port in use fails with a clear message.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let (code, err) = run(&["--listen", &addr]);
    assert_eq!(code, Some(1));
    assert!(err.contains(&format!("cannot bind {addr}")), "{err}");
}

/// The flag table in docs/emulator.md lists every flag of `--help`, and nothing else, with the
/// same defaults.
#[test]
fn the_documented_flags_are_the_flags() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/emulator.md"
    ))
    .unwrap();
    let help = String::from_utf8(bin().arg("--help").output().unwrap().stdout).unwrap();
    let long_flags = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(str::to_string)
            .collect()
    };
    // From --help: each option line's flag and its default.
    let mut in_help = std::collections::BTreeMap::new();
    for line in help.lines().map(str::trim_start) {
        let Some(flag) = line
            .split([' ', ','])
            .find(|w| w.starts_with("--"))
            .filter(|_| line.starts_with('-'))
        else {
            continue;
        };
        let default = line
            .rsplit_once("[default: ")
            .map(|(_, d)| d.trim_end_matches(']').to_string());
        in_help.insert(flag.to_string(), default);
    }
    in_help.remove("--help");
    in_help.remove("--version");

    let table: Vec<&str> = doc
        .lines()
        .skip_while(|l| !l.starts_with("| flag |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    let mut documented = std::collections::BTreeSet::new();
    for row in table {
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        let (flags, default) = (cols[1], cols[2]);
        for flag in long_flags(flags) {
            let help_default = in_help
                .get(&flag)
                .unwrap_or_else(|| panic!("{flag} is documented but not a flag"));
            if let Some(d) = default.strip_prefix('`').and_then(|d| d.strip_suffix('`')) {
                assert_eq!(help_default.as_deref(), Some(d), "default of {flag}");
            }
            documented.insert(flag);
        }
    }
    assert!(documented.len() >= 25, "{documented:?}");
    let undocumented: Vec<&String> = in_help
        .keys()
        .filter(|f| !documented.contains(*f))
        .collect();
    assert!(
        undocumented.is_empty(),
        "flags missing from docs/emulator.md: {undocumented:?}"
    );
}
