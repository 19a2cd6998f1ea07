//! Helpers of the CLI's end-to-end tests: the `vodupload` binary, an emulator child process, a
//! relay that rewrites answers; and, from the core's tests, random files, SHA-1s and a client.
#![allow(dead_code)] // each test binary uses its own subset

#[path = "../../../vodupload/tests/common/mod.rs"]
mod core_common;
pub use core_common::*;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The credential of emulators started with [`EmuProc::start`].
pub const ID: &str = "AKIDtestid";
pub const KEY: &str = "test-secret-key-0123456789";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vodupload")
}

/// A `vodupload emulator` child process with the credential [`ID`]:[`KEY`]; killed on drop.
pub struct EmuProc {
    child: Child,
    /// `http://127.0.0.1:PORT` (or https).
    pub base: String,
    /// The self-signed certificate it wrote, with `--tls-self-signed`.
    pub cert: Option<PathBuf>,
}

impl EmuProc {
    pub fn start(state: &Path, listen: &str, extra: &[&str]) -> EmuProc {
        let mut args = vec!["--no-rate-limit"];
        args.extend_from_slice(extra);
        EmuProc::start_with_rates(state, listen, &args)
    }

    /// As [`EmuProc::start`], enforcing the call rates (`extra` may set them).
    pub fn start_with_rates(state: &Path, listen: &str, extra: &[&str]) -> EmuProc {
        let mut child = Command::new(bin())
            .args(["emulator", "--listen", listen, "--state"])
            .arg(state)
            .args(["--credential", &format!("{ID}:{KEY}")])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the emulator");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let base = loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "emulator exited before listening"
            );
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        let cert = extra
            .iter()
            .position(|a| *a == "--tls-self-signed")
            .map(|i| PathBuf::from(extra[i + 1]));
        EmuProc { child, base, cert }
    }

    pub fn endpoint(&self) -> String {
        format!("{}/v2/index.php", self.base)
    }

    pub fn port(&self) -> &str {
        self.base.rsplit(':').next().unwrap()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EmuProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The one JSON object a successful `--json` run printed.
pub fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON object")
}

/// An HTTP/1.1 relay between a client and an emulator that lets a test rewrite the answers of
/// one action (a server that lies), and counts the requests of each action.
pub struct RewritingRelay {
    /// `http://127.0.0.1:PORT/v2/index.php`: sign and send here.
    pub endpoint: String,
    counts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

type Rewrite = dyn Fn(&str, Vec<u8>) -> Vec<u8> + Send + Sync;

impl RewritingRelay {
    /// Relays to `upstream` (`http://host:port/...`); `rewrite(action, body)` gives the answer
    /// body the client sees. Requests go through unchanged, Host header included, so the
    /// emulator checks the signature the client made for the relay's address.
    pub fn start(
        upstream: &str,
        rewrite: impl Fn(&str, Vec<u8>) -> Vec<u8> + Send + Sync + 'static,
    ) -> RewritingRelay {
        let upstream = upstream
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let rewrite: std::sync::Arc<Rewrite> = std::sync::Arc::new(rewrite);
        let c = counts.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let (upstream, rewrite, counts) = (upstream.clone(), rewrite.clone(), c.clone());
                std::thread::spawn(move || {
                    relay_connection(client, &upstream, &*rewrite, &counts);
                });
            }
        });
        RewritingRelay {
            endpoint: format!("http://{addr}/v2/index.php"),
            counts,
        }
    }

    /// Requests of `action` relayed so far.
    pub fn count(&self, action: &str) -> usize {
        self.counts
            .lock()
            .unwrap()
            .get(action)
            .copied()
            .unwrap_or(0)
    }
}

/// One HTTP/1.1 message: head lines (without CRLF) and body, read by Content-Length.
fn read_message(r: &mut impl BufRead) -> Option<(Vec<String>, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let len = head
        .iter()
        .find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn relay_connection(
    client: std::net::TcpStream,
    upstream: &str,
    rewrite: &Rewrite,
    counts: &std::sync::Mutex<std::collections::HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut to_client = client;
    while let Some((head, body)) = read_message(&mut reader) {
        let action = head[0]
            .split(['?', '&', ' '])
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("")
            .to_owned();
        *counts.lock().unwrap().entry(action.clone()).or_default() += 1;
        let Ok(server) = std::net::TcpStream::connect(upstream) else {
            return;
        };
        let mut to_server = server.try_clone().unwrap();
        let mut request = Vec::new();
        for h in &head {
            if !h.to_ascii_lowercase().starts_with("connection:") {
                request.extend_from_slice(h.as_bytes());
                request.extend_from_slice(b"\r\n");
            }
        }
        request.extend_from_slice(b"Connection: close\r\n\r\n");
        request.extend_from_slice(&body);
        if to_server.write_all(&request).is_err() {
            return;
        }
        let Some((answer_head, answer)) = read_message(&mut BufReader::new(server)) else {
            return;
        };
        let answer = rewrite(&action, answer);
        let mut out = Vec::new();
        for h in &answer_head {
            let lower = h.to_ascii_lowercase();
            if !lower.starts_with("content-length:") && !lower.starts_with("connection:") {
                out.extend_from_slice(h.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", answer.len()).as_bytes());
        out.extend_from_slice(&answer);
        if to_client.write_all(&out).is_err() {
            return;
        }
    }
}
