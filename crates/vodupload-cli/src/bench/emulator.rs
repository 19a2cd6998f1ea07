//! The emulator's own speed, printed by `vodupload bench` after the client's figures (alone with
//! `--emulator-only`):
//! - UploadPart throughput over HTTP and HTTPS with 1 to 64 clients at once, each on its own
//!   keep-alive connection sending 1 MiB parts of its own upload;
//! - what one UploadPart costs with few parts stored and with tens of thousands (4 KiB parts),
//!   one client, one request at a time;
//! - FinishUpload's time per GiB, right after the last part (the emulator hashed the parts as
//!   they came) and after a restart (it hashes the whole file again). It never copies the file.
//!
//! Everything runs in this process: clients are threads signing their own requests, so the
//! figures include the clients' work and share the machine's cores with it. Debug builds (what
//! the tests run) use tiny sizes: their figures mean nothing.

use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha1::{Digest as _, Sha1};
use vodupload::signature::{SignatureMethod, encode_query, sign};
use vodupload_emulator::{Emulator, EmulatorConfig, TlsSetup};

use crate::Failure;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const PART: u64 = MIB;
const ID: &str = "AKIDbench";
const KEY: &str = "bench-emulator-key";

/// Client counts of the throughput table, and the parts each configuration sends in all.
const CLIENTS: &[usize] = if cfg!(debug_assertions) {
    &[1, 4]
} else {
    &[1, 8, 32, 64]
};
const THROUGHPUT_PARTS: usize = if cfg!(debug_assertions) { 8 } else { 512 };
/// Small parts stored before the second measure of one UploadPart's cost.
const MANY_PARTS: u64 = if cfg!(debug_assertions) { 200 } else { 60_000 };
const SMALL_PART: u64 = 4096;
const MEASURED_PARTS: u64 = if cfg!(debug_assertions) { 50 } else { 1_000 };

/// Runs every measure with its state under `work`; `finish_size` is the size of the files
/// finished (rounded up to whole MiB).
pub(crate) fn run(work: &Path, finish_size: u64) -> Result<(), Failure> {
    println!(
        "emulator: in this process, its state under {}",
        work.display()
    );
    eprintln!("bench: emulator UploadPart throughput ...");
    let mut rows = Vec::new();
    for https in [false, true] {
        let name = if https { "https" } else { "http" };
        let server = Server::start(work, name, https, false)?;
        for &clients in CLIENTS {
            rows.push(throughput(&server, clients)?);
        }
        server.remove(work, name);
    }
    println!();
    print_rows(
        &[
            "scheme", "clients", "parts", "MiB/s", "parts/s", "p50", "p99",
        ],
        &rows,
    );

    eprintln!("bench: emulator UploadPart cost as parts accumulate ...");
    let (few, many) = part_cost(work)?;
    println!();
    println!(
        "UploadPart of {SMALL_PART} B, one at a time: {} with {MEASURED_PARTS} parts stored, {} with {} stored",
        micros(few),
        micros(many),
        MANY_PARTS + MEASURED_PARTS
    );

    eprintln!("bench: emulator FinishUpload ...");
    let size = finish_size.div_ceil(PART).max(1) * PART;
    let (warm, cold) = finish(work, size)?;
    let per_gib = |d: Duration| d.as_secs_f64() * GIB as f64 / size as f64;
    println!(
        "FinishUpload of {} MiB: {:.3} s right after its parts ({:.3} s/GiB), {:.3} s after a restart ({:.3} s/GiB)",
        size / MIB,
        warm.as_secs_f64(),
        per_gib(warm),
        cold.as_secs_f64(),
        per_gib(cold)
    );
    Ok(())
}

/// An in-process emulator and what its clients need.
struct Server {
    emu: Emulator,
    ca: Option<String>,
}

impl Server {
    fn start(work: &Path, name: &str, https: bool, any_part_size: bool) -> Result<Server, Failure> {
        let mut config = EmulatorConfig::default();
        config.state_dir = Some(work.join(format!("emulator-{name}")));
        config.credentials = vec![(ID.into(), KEY.into())];
        config.rate_limit = false;
        config.any_part_size = any_part_size;
        config.max_file_size = u64::MAX;
        if https {
            config.tls = Some(TlsSetup::SelfSigned { cert_out: None });
        }
        let emu = Emulator::start(config)
            .map_err(|e| Failure::other(format!("cannot start the emulator: {e}")))?;
        let ca = emu.ca_cert_pem();
        Ok(Server { emu, ca })
    }

    /// Stops the emulator and removes its state (written by this bench, under its directory).
    fn remove(self, work: &Path, name: &str) {
        drop(self.emu);
        let _ = std::fs::remove_dir_all(work.join(format!("emulator-{name}")));
    }

    /// A client with its own connection pool.
    fn agent(&self) -> ureq::Agent {
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)));
        if let Some(pem) = &self.ca {
            let cert = ureq::tls::Certificate::from_pem(pem.as_bytes())
                .expect("the emulator's certificate parses");
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

    /// One signed POST; the answer's JSON, which must have code >= 0.
    fn call(
        &self,
        agent: &ureq::Agent,
        action: &str,
        extra: &[(&str, String)],
        body: &[u8],
    ) -> Result<Value, Failure> {
        static NONCE: AtomicU64 = AtomicU64::new(1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut p: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        p.extend([
            ("Action".into(), action.into()),
            ("Region".into(), "gz".into()),
            ("Timestamp".into(), now.to_string()),
            (
                "Nonce".into(),
                NONCE.fetch_add(1, Ordering::Relaxed).to_string(),
            ),
            ("SecretId".into(), ID.into()),
        ]);
        let host = self.emu.addr().to_string();
        let sig = sign(
            "POST",
            &host,
            "/v2/index.php",
            &p,
            KEY,
            SignatureMethod::HmacSha1,
        );
        p.push(("Signature".into(), sig));
        let url = format!(
            "{}://{host}/v2/index.php?{}",
            self.emu.scheme(),
            encode_query(&p)
        );
        let failed = |e: String| Failure::other(format!("{action} to the emulator failed: {e}"));
        let text = agent
            .post(&url)
            .send(body)
            .map_err(|e| failed(e.to_string()))?
            .into_body()
            .read_to_string()
            .map_err(|e| failed(e.to_string()))?;
        let v: Value = serde_json::from_str(&text).map_err(|_| failed(text.clone()))?;
        if v["code"].as_i64().is_none_or(|c| c < 0) {
            return Err(failed(v.to_string()));
        }
        Ok(v)
    }

    fn init(&self, agent: &ureq::Agent, sha: &str, size: u64, part: u64) -> Result<(), Failure> {
        self.call(
            agent,
            "InitUpload",
            &[
                ("fileName", "bench".into()),
                ("fileSha", sha.into()),
                ("fileSize", size.to_string()),
                ("dataSize", part.to_string()),
                ("fileType", "mp4".into()),
            ],
            b"",
        )
        .map(drop)
    }

    fn part(
        &self,
        agent: &ureq::Agent,
        sha: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), Failure> {
        self.call(
            agent,
            "UploadPart",
            &[
                ("fileSha", sha.into()),
                ("offset", offset.to_string()),
                ("dataSize", bytes.len().to_string()),
                ("dataMd5", hex(&md5_lanes::md5(bytes))),
            ],
            bytes,
        )
        .map(drop)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Deterministic bytes that differ with `seed`.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
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

/// `clients` threads, each sending its share of the parts of its own upload.
fn throughput(server: &Server, clients: usize) -> Result<Vec<String>, Failure> {
    let per_client = (THROUGHPUT_PARTS / clients).max(2) as u64;
    let data = bytes(PART as usize, 7);
    let barrier = Barrier::new(clients + 1);
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let (elapsed, mut latencies) = std::thread::scope(|s| -> Result<_, Failure> {
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                let (data, barrier) = (&data, &barrier);
                s.spawn(move || -> Result<Vec<Duration>, Failure> {
                    let agent = server.agent();
                    // Not the parts' SHA-1: these uploads are never finished.
                    let sha = hex(&Sha1::digest(format!("{run}-{i}")));
                    server.init(&agent, &sha, per_client * PART, PART)?;
                    barrier.wait();
                    let mut lat = Vec::with_capacity(per_client as usize);
                    for p in 0..per_client {
                        let t = Instant::now();
                        server.part(&agent, &sha, p * PART, data)?;
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("client thread")?);
        }
        Ok((start.elapsed(), all))
    })?;
    latencies.sort();
    let parts = latencies.len();
    let pct = |p: usize| latencies[(parts * p / 100).min(parts - 1)];
    let secs = elapsed.as_secs_f64();
    Ok(vec![
        server.emu.scheme().to_owned(),
        clients.to_string(),
        parts.to_string(),
        format!("{:.0}", parts as f64 * PART as f64 / MIB as f64 / secs),
        format!("{:.0}", parts as f64 / secs),
        micros(pct(50)),
        micros(pct(99)),
    ])
}

/// The mean time of one small UploadPart with few parts stored, then with many.
fn part_cost(work: &Path) -> Result<(Duration, Duration), Failure> {
    let server = Server::start(work, "many-parts", false, true)?;
    let agent = server.agent();
    let total = MANY_PARTS + 2 * MEASURED_PARTS;
    let sha = hex(&Sha1::digest(b"many parts"));
    server.init(&agent, &sha, total * SMALL_PART, SMALL_PART)?;
    let data = bytes(SMALL_PART as usize, 3);
    let send = |from: u64, to: u64| -> Result<Duration, Failure> {
        let t = Instant::now();
        for p in from..to {
            server.part(&agent, &sha, p * SMALL_PART, &data)?;
        }
        Ok(t.elapsed() / (to - from) as u32)
    };
    let few = send(0, MEASURED_PARTS)?;
    send(MEASURED_PARTS, MEASURED_PARTS + MANY_PARTS)?;
    let many = send(MEASURED_PARTS + MANY_PARTS, total)?;
    server.remove(work, "many-parts");
    Ok((few, many))
}

/// FinishUpload of a `size`-byte file: right after its parts, and (another file) after a
/// restart of the emulator.
fn finish(work: &Path, size: u64) -> Result<(Duration, Duration), Failure> {
    let parts = size / PART;
    let file_part = |file: u64, i: u64| {
        let mut b = bytes(PART as usize, 11 + file);
        b[..8].copy_from_slice(&i.to_le_bytes());
        b
    };
    let sha_of = |file: u64| {
        let mut h = Sha1::new();
        for i in 0..parts {
            h.update(file_part(file, i));
        }
        hex(&h.finalize())
    };
    let upload = |server: &Server, file: u64, sha: &str| -> Result<(), Failure> {
        server.init(&server.agent(), sha, size, PART)?;
        // Eight clients, the parts roughly in order (as a client sends them).
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|c| {
                    s.spawn(move || -> Result<(), Failure> {
                        let agent = server.agent();
                        for i in (c..parts).step_by(8) {
                            server.part(&agent, sha, i * PART, &file_part(file, i))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().expect("client thread"))
        })
    };
    let timed_finish = |server: &Server, sha: &str| -> Result<Duration, Failure> {
        let t = Instant::now();
        server.call(
            &server.agent(),
            "FinishUpload",
            &[("fileSha", sha.into())],
            b"",
        )?;
        Ok(t.elapsed())
    };

    let (cold_sha, warm_sha) = (sha_of(1), sha_of(2));
    let server = Server::start(work, "finish", false, false)?;
    upload(&server, 1, &cold_sha)?;
    drop(server);
    let server = Server::start(work, "finish", false, false)?;
    let cold = timed_finish(&server, &cold_sha)?;
    upload(&server, 2, &warm_sha)?;
    let warm = timed_finish(&server, &warm_sha)?;
    server.remove(work, "finish");
    Ok((warm, cold))
}

fn micros(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Left-aligned columns, two spaces apart.
fn print_rows(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let s: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", s.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}
