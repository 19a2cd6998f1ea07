//! The hash floor: what SHA-1 and MD5 of every byte cost on this machine, which no upload can
//! avoid. Measured in the same run as the uploads, on one thread, over in-memory part-sized
//! buffers, as thread CPU time (best of three), so that other load on the machine disturbs it
//! little; with the `sha1` and `md-5` crates, and with `openssl speed` when OpenSSL is installed.

use std::process::{Command, Stdio};
use std::time::Duration;

use sha1::{Digest, Sha1};

use super::clock::thread_cpu;
use super::fmt::{gbps, per_gib};
use super::{GIB, MIB, fmt};

/// Bytes hashed per measurement; less in a debug build, whose figures mean nothing anyway and
/// which the tests run.
const FLOOR_BYTES: u64 = if cfg!(debug_assertions) {
    16 * MIB
} else {
    256 * MIB
};

/// CPU time per GiB of each hash, alone on one thread.
#[derive(Debug, Clone)]
pub(super) struct Floor {
    /// The `sha1` crate, streaming.
    pub sha1: Duration,
    /// The `md-5` crate, one part at a time.
    pub md5: Duration,
    /// `md5-lanes`, [`md5_lanes::MAX_LANES`] parts side by side: what the core uses.
    pub md5_lanes: Duration,
    /// SHA-1 and MD5 by `openssl speed`, when it is installed.
    pub openssl: Option<(Duration, Duration)>,
}

impl Floor {
    /// SHA-1 + MD5, one stream each, at the faster of the crates and OpenSSL, in s/GiB: the
    /// unavoidable work done the usual way, which the CPU targets are judged against.
    pub(super) fn one_stream(&self) -> f64 {
        let (sha1, md5) = match self.openssl {
            Some((s, m)) => (self.sha1.min(s), self.md5.min(m)),
            None => (self.sha1, self.md5),
        };
        (sha1 + md5).as_secs_f64()
    }

    /// SHA-1 + MD5 as the core computes them (MD5s in lanes), in s/GiB: subtracted from the
    /// client's CPU, it leaves what the client spends beyond its own hashing.
    pub(super) fn core_hashing(&self) -> f64 {
        (self.sha1 + self.md5_lanes).as_secs_f64()
    }

    pub(super) fn measure(part: usize) -> Floor {
        let random = || {
            let mut v = vec![0u8; part];
            rand::fill(&mut v[..]);
            v
        };
        let buf = random();
        // Distinct parts in the lanes, as in an upload (not one buffer eight times over).
        let lanes: Vec<Vec<u8>> = (0..md5_lanes::MAX_LANES).map(|_| random()).collect();
        let n = (FLOOR_BYTES / part as u64).max(1);
        let lane_rounds = n.div_ceil(lanes.len() as u64);
        let (mut sha1, mut md5, mut md5_lanes) = (Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            sha1 = sha1.min(cpu_of(|| {
                let mut h = Sha1::new();
                for _ in 0..n {
                    h.update(&buf);
                }
                std::hint::black_box(h.finalize());
            }));
            md5 = md5.min(cpu_of(|| {
                for _ in 0..n {
                    std::hint::black_box(md5_lanes::md5(std::hint::black_box(&buf)));
                }
            }));
            md5_lanes = md5_lanes.min(cpu_of(|| {
                for _ in 0..lane_rounds {
                    let rows: Vec<&[u8]> = lanes.iter().map(Vec::as_slice).collect();
                    let l = md5_lanes::Lanes::new(rows.len());
                    std::hint::black_box(l.finish(std::hint::black_box(&rows)));
                }
            }));
        }
        let scale = |d: Duration, bytes: u64| Duration::from_secs_f64(per_gib(d, bytes));
        let bytes = n * part as u64;
        let lane_bytes = lane_rounds * (lanes.len() * part) as u64;
        Floor {
            sha1: scale(sha1, bytes),
            md5: scale(md5, bytes),
            md5_lanes: scale(md5_lanes, lane_bytes),
            openssl: openssl_speed("sha1", part as u64).zip(openssl_speed("md5", part as u64)),
        }
    }

    /// `label` says under which load it was measured.
    pub(super) fn print(&self, label: &str, part_size: u64) {
        let line = |what: &str, d: Duration| {
            format!(
                "{what} {:.2} GB/s = {:.3} s/GiB",
                gbps(GIB, d),
                d.as_secs_f64()
            )
        };
        println!(
            "hash speeds{label} (1 thread, in memory, thread CPU, best of 3, {} parts):",
            fmt::size(part_size)
        );
        println!(
            "  sha1 and md-5 crates:  {};  {}",
            line("SHA-1", self.sha1),
            line("MD5", self.md5)
        );
        match self.openssl {
            Some((sha1, md5)) => println!(
                "  `openssl speed -evp`:  {};  {}",
                line("SHA-1", sha1),
                line("MD5", md5)
            ),
            None => println!("  `openssl speed`: not available (openssl not found or too old)"),
        }
        println!(
            "  md5-lanes (the core's MD5: {} parts side by side, {}):  {}",
            md5_lanes::MAX_LANES,
            if md5_lanes::simd_available() {
                "AVX2"
            } else {
                "no AVX2 here: one at a time"
            },
            line("MD5", self.md5_lanes)
        );
        println!(
            "floor{label}: SHA-1 + MD5 one stream each, the faster of the above = {:.3} s/GiB; \
             SHA-1 + MD5 as the core hashes = {:.3} s/GiB",
            self.one_stream(),
            self.core_hashing()
        );
    }
}

/// Thread CPU time `f` takes.
fn cpu_of(f: impl FnOnce()) -> Duration {
    let t = thread_cpu();
    f();
    thread_cpu() - t
}

/// `openssl speed -evp ALG` over blocks of `bytes`, in CPU seconds per GiB (openssl divides by
/// user CPU time unless told `-elapsed`).
fn openssl_speed(alg: &str, bytes: u64) -> Option<Duration> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-evp",
            alg,
            "-bytes",
            &bytes.to_string(),
            "-seconds",
            "1",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with(alg))?;
    let kbps: f64 = line
        .split_whitespace()
        .nth(1)?
        .strip_suffix('k')?
        .parse()
        .ok()?;
    (kbps > 0.0).then(|| Duration::from_secs_f64(GIB as f64 / (kbps * 1000.0)))
}
