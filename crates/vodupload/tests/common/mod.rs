//! Helpers shared by the integration tests of the core and of the CLI (which includes this file):
//! random files, SHA-1 of files and urls, a client of an in-process emulator with fast retries.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha1::{Digest, Sha1};
use vodupload::{
    CancelToken, Client, ClientOptions, Credentials, ProgressFn, RateLimits, Upload, UploadOptions,
    UploadResult,
};
use vodupload_emulator::{Emulator, EmulatorConfig};

pub const MIB: u64 = 1 << 20;

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

/// An in-process emulator without the service's call rates: the tests measure behaviour, not
/// pacing (the pacing tests start their own).
pub fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        rate_limit: false,
        ..EmulatorConfig::default()
    })
    .unwrap()
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
