//! Helpers shared by the end-to-end tests: random files, SHA-1 of files and urls, an emulator
//! child process, a client with fast retries.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use sha1::{Digest, Sha1};
use vodupload::{
    CancelToken, Client, ClientOptions, Credentials, ProgressFn, RateLimits, Upload, UploadOptions,
    UploadResult,
};
use vodupload_emulator::Emulator;

pub const MIB: u64 = 1 << 20;
/// The credential of emulators started with [`EmuProc::start`].
pub const ID: &str = "AKIDtestid";
pub const KEY: &str = "test-secret-key-0123456789";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vodupload")
}

/// xorshift64*: reproducible contents, sizes and delays from one seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes `size` random bytes to `path`, a MiB at a time.
pub fn write_random(path: &Path, size: u64, rng: &mut Rng) {
    let mut f = std::fs::File::create(path).unwrap();
    let mut buf = vec![0u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB) as usize;
        for c in buf[..n].chunks_mut(8) {
            let v = rng.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        f.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
}

/// `dir/name`, filled with `size` bytes derived from `seed`.
pub fn random_file(dir: &Path, name: &str, size: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    write_random(&path, size, &mut Rng::new(seed));
    path
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha1_file(path: &Path) -> String {
    let mut h = Sha1::new();
    std::io::copy(&mut std::fs::File::open(path).unwrap(), &mut h).unwrap();
    hex(&h.finalize())
}

/// SHA-1 of what `url` serves; `ca` trusts a self-signed emulator.
pub fn sha1_url(url: &str, ca: Option<&Path>) -> String {
    let mut builder = ureq::Agent::config_builder();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).unwrap();
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i.unwrap() {
                ureq::tls::PemItem::Certificate(c) => Some(c),
                _ => None,
            })
            .collect();
        builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        );
    }
    let agent = builder.build().new_agent();
    let mut resp = agent.get(url).call().expect("GET the uploaded file");
    let mut h = Sha1::new();
    let mut body = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = body.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex(&h.finalize())
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

/// A client of an in-process emulator (upload and events endpoints), with fast retries and no
/// pacing; `tweak` changes the rest.
pub fn client_for(emu: &Emulator, tweak: impl FnOnce(&mut ClientOptions)) -> Client {
    let (id, key) = emu.credentials()[0].clone();
    let mut o = ClientOptions::default();
    o.endpoint = emu.endpoint();
    o.events_endpoint = emu.endpoint();
    o.retry_base_delay = Duration::from_millis(5);
    o.retry_max_delay = Duration::from_millis(50);
    o.rate_limits = RateLimits::unlimited();
    tweak(&mut o);
    Client::new(Credentials::new(id, key).unwrap(), o).unwrap()
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

/// `client.upload(path)` with default options and a fresh cancel token.
pub fn upload_with(
    client: &Client,
    path: &Path,
    progress: ProgressFn<'_>,
) -> vodupload::Result<UploadResult> {
    client.upload(
        path,
        &UploadOptions::default(),
        progress,
        &CancelToken::new(),
    )
}

/// `client.begin(path)` with default options, no progress and a fresh cancel token.
pub fn begin(client: &Client, path: &Path) -> vodupload::Result<Upload> {
    client.begin(
        path,
        &UploadOptions::default(),
        &vodupload::no_progress,
        &CancelToken::new(),
    )
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
