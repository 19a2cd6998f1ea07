//! Helpers for the emulator's integration tests: a signing client over real sockets.
#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::Digest as _;
use serde_json::Value;
use vodupload::signature::{SignatureMethod, encode_query, sign};
use vodupload_emulator::Emulator;

pub const PART: u64 = 524_288;

static NONCE: AtomicU64 = AtomicU64::new(1);

pub fn nonce() -> String {
    // Unique per process and per call; random start so parallel test binaries differ too.
    let base = (std::process::id() as u64) << 32;
    (base + NONCE.fetch_add(1, Ordering::Relaxed)).to_string()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha1_hex(b: &[u8]) -> String {
    hex(&sha1::Sha1::digest(b))
}

pub fn md5_hex(b: &[u8]) -> String {
    hex(&md5::Md5::digest(b))
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A signing client for one emulator.
#[derive(Clone)]
pub struct Client {
    pub scheme: String,
    pub addr: SocketAddr,
    pub path: String,
    /// Host used in the string to sign (default: the Host header ureq sends, with port).
    pub sign_host: String,
    pub id: String,
    pub key: String,
    pub method: SignatureMethod,
    pub ts_offset: i64,
    pub agent: ureq::Agent,
}

pub fn agent(ca_pem: Option<&str>) -> ureq::Agent {
    let mut cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)));
    if let Some(pem) = ca_pem {
        let cert = ureq::tls::Certificate::from_pem(pem.as_bytes()).unwrap();
        cfg = cfg.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
                    cert,
                ])))
                .build(),
        );
    }
    ureq::Agent::new_with_config(cfg.build())
}

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub date: Option<String>,
    pub content_type: Option<String>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn code(&self) -> i64 {
        self.json()["code"].as_i64().expect("code")
    }
}

impl Client {
    pub fn new(emu: &Emulator) -> Client {
        let (id, key) = emu.credentials()[0].clone();
        Client {
            scheme: emu.scheme().to_string(),
            addr: emu.addr(),
            path: "/v2/index.php".into(),
            sign_host: emu.addr().to_string(),
            id,
            key,
            method: SignatureMethod::HmacSha1,
            ts_offset: 0,
            agent: agent(emu.ca_cert_pem().as_deref()),
        }
    }

    /// All parameters of a request (common ones added unless already given), signed.
    pub fn params(
        &self,
        http_method: &str,
        action: &str,
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut p = kv(extra);
        let has = |p: &Vec<(String, String)>, k: &str| p.iter().any(|(kk, _)| kk == k);
        if !action.is_empty() && !has(&p, "Action") {
            p.push(("Action".into(), action.into()));
        }
        for (k, v) in [
            ("Region", "gz".to_string()),
            ("Timestamp", (now() + self.ts_offset).to_string()),
            ("Nonce", nonce()),
            ("SecretId", self.id.clone()),
        ] {
            if !has(&p, k) {
                p.push((k.into(), v));
            }
        }
        if self.method == SignatureMethod::HmacSha256 && !has(&p, "SignatureMethod") {
            p.push(("SignatureMethod".into(), "HmacSHA256".into()));
        }
        if !has(&p, "Signature") {
            let sig = sign(
                http_method,
                &self.sign_host,
                &self.path,
                &p,
                &self.key,
                self.method,
            );
            p.push(("Signature".into(), sig));
        }
        p
    }

    pub fn url_for(&self, params: &[(String, String)]) -> String {
        format!(
            "{}://{}{}?{}",
            self.scheme,
            self.addr,
            self.path,
            encode_query(params)
        )
    }

    pub fn send_params(
        &self,
        http_method: &str,
        params: &[(String, String)],
        body: &[u8],
    ) -> Answer {
        let url = self.url_for(params);
        let resp = match http_method {
            "POST" => self.agent.post(&url).send(body),
            "GET" => self.agent.get(&url).call(),
            "PUT" => self.agent.put(&url).send(body),
            m => panic!("method {m}"),
        }
        .unwrap_or_else(|e| panic!("{http_method} failed: {e}"));
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let date = header("date");
        let content_type = header("content-type");
        let body = resp.into_body().read_to_string().unwrap();
        Answer {
            status,
            body,
            date,
            content_type,
        }
    }

    pub fn call(
        &self,
        http_method: &str,
        action: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let p = self.params(http_method, action, extra);
        self.send_params(http_method, &p, body)
    }

    pub fn init(&self, sha: &str, size: u64, data_size: u64) -> Value {
        self.call(
            "POST",
            "InitUpload",
            &[
                ("fileName", "test video"),
                ("fileSha", sha),
                ("fileSize", &size.to_string()),
                ("dataSize", &data_size.to_string()),
                ("fileType", "mp4"),
            ],
            b"",
        )
        .json()
    }

    pub fn part(&self, sha: &str, offset: u64, bytes: &[u8]) -> Value {
        self.call(
            "POST",
            "UploadPart",
            &[
                ("fileSha", sha),
                ("offset", &offset.to_string()),
                ("dataSize", &bytes.len().to_string()),
                ("dataMd5", &md5_hex(bytes)),
            ],
            bytes,
        )
        .json()
    }

    pub fn finish(&self, sha: &str) -> Value {
        self.call("POST", "FinishUpload", &[("fileSha", sha)], b"")
            .json()
    }

    /// Init + every part + finish; returns the finish answer.
    pub fn upload(&self, file: &[u8], part: u64) -> Value {
        let sha = sha1_hex(file);
        let r = self.init(&sha, file.len() as u64, part);
        assert!(r["code"].as_i64().unwrap() >= 0, "{r}");
        for (i, chunk) in file.chunks(part as usize).enumerate() {
            let r = self.part(&sha, i as u64 * part, chunk);
            assert_eq!(r["code"], 0, "{r}");
        }
        self.finish(&sha)
    }
}

/// Sends raw bytes and reads the whole answer (until the server closes or 5 s pass).
pub fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON body of a raw HTTP answer.
pub fn raw_json(answer: &str) -> Value {
    let (_, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

impl Client {
    /// A client for an emulator reached by address (a separate process, say).
    pub fn for_addr(addr: SocketAddr, id: &str, key: &str) -> Client {
        Client {
            scheme: "http".into(),
            addr,
            path: "/v2/index.php".into(),
            sign_host: addr.to_string(),
            id: id.into(),
            key: key.into(),
            method: SignatureMethod::HmacSha1,
            ts_offset: 0,
            agent: agent(None),
        }
    }

    /// The request target (`/v2/index.php?...`) of a signed request, for raw requests.
    pub fn target(&self, http_method: &str, action: &str, extra: &[(&str, &str)]) -> String {
        let p = self.params(http_method, action, extra);
        format!("{}?{}", self.path, encode_query(&p))
    }
}

/// A raw connection with a read timeout (a safety net: tests wait for answers, never time them).
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// One HTTP answer from a raw connection: (status, lower-cased head, body). Reads exactly the
/// answer (by its Content-Length), so the connection can be used again.
pub fn read_answer(s: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let status = head.get(9..12)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((status, head, body))
}

/// True once the server has closed the connection (reads EOF, or a reset).
pub fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// The JSON of an answer's body.
pub fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(body)))
}

/// Waits (polling) until `done`, failing with `what` after a generous bound.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < until,
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
