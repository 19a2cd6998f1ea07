//! `vodupload bench`: how close an upload comes to the speed of the hash functions, in how much
//! memory (issue #6). It prints figures and whether each target is met; it never fails on them.
//!
//! How it measures:
//! - The emulator runs in this process; every measured upload runs as a separate process
//!   (`vodupload upload FILE ...`, this same executable, `--no-rate-limit`), so the CPU time
//!   (user + system) and peak RSS reported are the client's alone: both come from its `rusage` as
//!   `wait4` returns it. It is started by a small intermediary (`vodupload bench --measure --
//!   upload ...`) that reaps it and reports that `rusage` on stderr, because Linux counts in a
//!   process's peak RSS the memory of the process it was exec'd from: a direct child of this
//!   process would report this process's peak (emulator included) whenever it is the larger.
//! - Times within a child's run come from its debug log (`RUST_LOG=vodupload=debug`), each line
//!   stamped (CLOCK_MONOTONIC) as it arrives on the pipe, counted from the moment the intermediary
//!   spawns it (stamped by the intermediary): InitUpload answered, first and last UploadPart
//!   answered. "To InitUpload" therefore includes the process start, opening the file, hashing it
//!   and one InitUpload round trip; a late read of a line can only make a time longer.
//! - The floor is measured in the same run: SHA-1 (streaming) and MD5 (one part at a time) over
//!   in-memory part-sized buffers, on one thread, as thread CPU time (best of three), so other
//!   load on the machine disturbs it little; with the `sha1` and `md-5` crates, and with
//!   `openssl speed` when OpenSSL is installed. The floor the CPU target is judged against is
//!   SHA-1 + MD5 one stream each at the faster of the two: the unavoidable work done the usual
//!   way. The core computes MD5s eight parts side by side in SIMD lanes (`md5-lanes`), which is
//!   measured too, so the table also shows what the client spends beyond its own hashing. SHA-1 alone over
//!   the file itself (positional reads of one part at a time, no MD5), after a warm-up read, is the
//!   yardstick for the time to InitUpload.
//! - Files are read from the page cache (generated, then flushed; above `--sparse-above` they are
//!   sparse, so they need no disk). Before each measured upload the filesystem is synced, so the
//!   write-back of earlier runs does not compete with it; the CPU time other processes took
//!   meanwhile (from /proc/stat) is printed with each run, to tell a quiet run from a noisy one.
//! - The emulator keeps its state under `--dir` and verifies every part's MD5 and the file's
//!   SHA-1: it shares the machine's cores with the client, which shows in wall times and sending
//!   throughput, not in the client's CPU time.
//! - With `--runs N` the table shows each figure's best run (a shared machine only ever adds time)
//!   and the largest RSS; the breakdown shows every run.
//! - The fingerprint-cache figures: a re-upload of the file the server already has (instant), and
//!   a resume after the upload of a modified copy was killed (SIGKILL) halfway, both with a cache
//!   filled by the earlier run.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::Failure;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Targets of issue #6.
const INIT_RATIO_TARGET: f64 = 1.15;
/// The issue sets the time-to-InitUpload target for a 1 GiB file: below that, the fixed costs
/// (process start, one InitUpload round trip, ~5 ms) weigh more, and the bench prints the ratio
/// without judging it.
const INIT_TARGET_MIN_SIZE: u64 = GIB;
const CPU_RATIO_TARGET: f64 = 1.3;
const RSS_SLACK: u64 = 32 * MIB;
const CACHED_START_TARGET: Duration = Duration::from_millis(50);
/// "Near-linear": the speed-up from the smallest to the largest concurrency of the sweep is at
/// least this share of the ratio between them.
const SWEEP_EFFICIENCY_TARGET: f64 = 0.8;

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// File sizes to upload, comma-separated or repeated; binary units (B, K/KiB, M/MiB, G/GiB),
    /// e.g. 64MiB,1GiB,8GiB.
    #[arg(long, value_delimiter = ',', value_parser = parse_size, default_values = ["64MiB", "1GiB"])]
    size: Vec<u64>,
    /// Files larger than this are sparse (holes read as zeros: no disk space, no writing).
    #[arg(long, value_parser = parse_size, default_value = "2GiB")]
    sparse_above: u64,
    /// Upload over HTTPS (the emulator with a fresh self-signed certificate) instead of HTTP.
    #[arg(long)]
    https: bool,
    /// Parts in flight at once.
    #[arg(long, default_value_t = vodupload::config::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// 524288 or 1048576.
    #[arg(long, default_value_t = vodupload::plan::DEFAULT_PART_SIZE)]
    part_size: u64,
    /// Upload each size this many times (a fresh emulator each time) and keep the best times and
    /// CPU, and the largest RSS: a shared machine only ever adds time.
    #[arg(long, default_value_t = 1)]
    runs: u32,
    /// The fingerprint-cache runs (instant re-upload, resume) are made for sizes up to this.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    cache_runs_up_to: u64,
    /// Also measure throughput against concurrency with this much latency added by the emulator
    /// to every answer (a long link).
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Concurrencies of the latency sweep.
    #[arg(long, value_delimiter = ',', default_values = ["1", "2", "4", "8"])]
    sweep: Vec<usize>,
    /// File size for the latency sweep.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    sweep_size: u64,
    /// Where the generated files and the emulator's state go (a temporary directory inside it,
    /// removed at the end) [default: the system's temporary directory]. An upload of N bytes needs
    /// about 2N of space there for the emulator, besides the file itself unless it is sparse.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Internal: run `vodupload COMMAND...` (after `--`) as a child, and once it ends print its
    /// exit status, CPU time and peak RSS on stderr. A line `kill` on stdin kills it.
    #[arg(long, hide = true, requires = "command")]
    measure: bool,
    #[arg(last = true, hide = true)]
    command: Vec<std::ffi::OsString>,
    /// Only the emulator's own figures (they are also printed at the end of a full run).
    #[arg(long)]
    emulator_only: bool,
}

/// "64MiB", "1G", "4096": bytes, with binary units.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size: use e.g. 4096, 64MiB, 1GiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => KIB,
        "m" | "mb" | "mib" => MIB,
        "g" | "gb" | "gib" => GIB,
        "t" | "tb" | "tib" => GIB * 1024,
        u => {
            return Err(format!(
                "unknown unit {u:?} in {s:?}: use B, KiB, MiB, GiB or TiB"
            ));
        }
    };
    match n.checked_mul(mult) {
        Some(0) => Err(format!("{s:?}: the size must be at least 1 byte")),
        Some(v) => Ok(v),
        None => Err(format!("{s:?} is too large")),
    }
}

#[cfg(not(unix))]
pub(crate) fn run(_: BenchArgs) -> Result<(), Failure> {
    Err(Failure::other(
        "vodupload bench needs a Unix system: it measures the client's CPU time and peak RSS with wait4"
            .to_owned(),
    ))
}

#[cfg(unix)]
pub(crate) fn run(a: BenchArgs) -> Result<(), Failure> {
    unix::run(a)
}

/// "64 MiB", "1 GiB", "1.5 GiB", "3 MiB + 7 B" style sizes for the table.
fn fmt_size(bytes: u64) -> String {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if bytes >= unit {
            let v = bytes as f64 / unit as f64;
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{v:.1} {name}")
            };
        }
    }
    format!("{bytes} B")
}

fn fmt_dur(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn fmt_opt(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), fmt_dur)
}

fn yes_no(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

/// Prints rows as left-aligned columns, two spaces apart.
fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::fs::FileExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use sha1::{Digest, Sha1};
    use vodupload_emulator::{Emulator, EmulatorConfig, Faults, TlsSetup};

    use super::*;

    /// Bytes hashed per floor measurement (best of three); less in a debug build, whose figures
    /// mean nothing anyway and which tests run.
    const FLOOR_BYTES: u64 = if cfg!(debug_assertions) {
        16 * MIB
    } else {
        256 * MIB
    };

    pub(super) fn run(a: BenchArgs) -> Result<(), Failure> {
        if a.measure {
            return measure(&a.command);
        }
        validate(&a)?;
        let base = a.dir.clone().unwrap_or_else(std::env::temp_dir);
        let work = tempfile::Builder::new()
            .prefix("vodupload-bench-")
            .tempdir_in(&base)
            .map_err(|e| {
                Failure::other(format!(
                    "cannot make a working directory in {}: {e}",
                    base.display()
                ))
            })?;
        let finish_size = a.size.iter().copied().max().unwrap_or(GIB);
        if a.emulator_only {
            return crate::bench_emulator::run(work.path(), finish_size);
        }
        let exe = std::env::current_exe().map_err(|e| {
            Failure::other(format!("cannot find this executable to run uploads: {e}"))
        })?;
        let bench = Bench {
            a: &a,
            exe,
            work: work.path().to_owned(),
        };

        print_header(&a, work.path());
        let floor = measure_floor(a.part_size as usize);
        print_floor(&a, &floor);
        println!();

        let mut rows = Vec::new();
        for &size in &a.size {
            eprintln!("bench: {} ...", fmt_size(size));
            rows.push(bench.size_row(size)?);
        }
        print_size_table(&a, &floor, &rows);

        let sweep = match a.latency_ms {
            Some(ms) => {
                eprintln!("bench: latency sweep ...");
                let s = bench.sweep(ms)?;
                println!();
                print_sweep(&a, ms, &s);
                Some(s)
            }
            None => None,
        };
        println!();
        print_targets(&a, &floor, &rows, sweep.as_deref());
        println!();
        print_breakdown(&a, &rows);
        println!();
        crate::bench_emulator::run(work.path(), finish_size)?;
        println!();
        println!("load average at the end: {}", load_average());
        Ok(())
    }

    fn validate(a: &BenchArgs) -> Result<(), Failure> {
        vodupload::plan::validate_part_size(a.part_size)?;
        if a.concurrency == 0 || a.concurrency > vodupload::config::MAX_CONCURRENCY {
            return Err(Failure::usage(format!(
                "--concurrency must be 1 to {}",
                vodupload::config::MAX_CONCURRENCY
            )));
        }
        if a.sweep
            .iter()
            .any(|&c| c == 0 || c > vodupload::config::MAX_CONCURRENCY)
        {
            return Err(Failure::usage(format!(
                "--sweep concurrencies must be 1 to {}",
                vodupload::config::MAX_CONCURRENCY
            )));
        }
        if a.runs == 0 {
            return Err(Failure::usage("--runs must be at least 1".to_owned()));
        }
        Ok(())
    }

    fn print_header(a: &BenchArgs, work: &Path) {
        println!(
            "vodupload bench {} ({} build{})",
            vodupload::VERSION,
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            if cfg!(debug_assertions) {
                ": figures are not representative, use --release"
            } else {
                ""
            }
        );
        println!(
            "machine: {}, {} CPUs; load average at the start: {}",
            cpu_model(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            load_average()
        );
        println!(
            "client: a child `vodupload upload` over {} to the in-process emulator, concurrency {}, \
             part size {}, rate limits off; files in {}",
            if a.https { "HTTPS" } else { "HTTP" },
            a.concurrency,
            fmt_size(a.part_size),
            work.display()
        );
    }

    fn cpu_model() -> String {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned())
    }

    fn load_average() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".to_owned())
    }

    fn gbps(bytes: u64, d: Duration) -> f64 {
        bytes as f64 / d.as_secs_f64().max(1e-9) / 1e9
    }

    fn per_gib(d: Duration, bytes: u64) -> f64 {
        d.as_secs_f64() * GIB as f64 / bytes as f64
    }

    /// CLOCK_MONOTONIC, which (unlike `Instant`) two processes can compare.
    fn monotonic() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    fn parse_nanos(s: &str) -> Option<Duration> {
        s.parse::<u64>().ok().map(Duration::from_nanos)
    }

    /// CPU time of the calling thread.
    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the OS defines.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// CPU time per GiB of each hash, alone on one thread.
    struct Floor {
        /// The `sha1` crate, streaming.
        sha1: Duration,
        /// The `md-5` crate, one part at a time.
        md5: Duration,
        /// `md5-lanes`, [`md5_lanes::MAX_LANES`] parts side by side: what the core uses.
        md5_lanes: Duration,
        /// SHA-1 and MD5 by `openssl speed`, when it is installed.
        openssl: Option<(Duration, Duration)>,
    }

    impl Floor {
        /// SHA-1 + MD5, one stream each, at the faster of the crates and OpenSSL: the CPU per GiB
        /// the unavoidable work costs done the usual way, which the CPU target is judged against.
        fn one_stream(&self) -> f64 {
            let (sha1, md5) = match self.openssl {
                Some((s, m)) => (self.sha1.min(s), self.md5.min(m)),
                None => (self.sha1, self.md5),
            };
            (sha1 + md5).as_secs_f64()
        }

        /// SHA-1 + MD5 as the core computes them (MD5s in lanes), per GiB.
        fn core_hashing(&self) -> f64 {
            (self.sha1 + self.md5_lanes).as_secs_f64()
        }
    }

    fn print_floor(a: &BenchArgs, floor: &Floor) {
        let line = |what: &str, d: Duration| {
            format!(
                "{what} {:.2} GB/s = {:.3} s/GiB",
                gbps(GIB, d),
                d.as_secs_f64()
            )
        };
        println!(
            "hash speeds (1 thread, in memory, thread CPU, best of 3, {} parts):",
            fmt_size(a.part_size)
        );
        println!(
            "  sha1 and md-5 crates:  {};  {}",
            line("SHA-1", floor.sha1),
            line("MD5", floor.md5)
        );
        match floor.openssl {
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
            line("MD5", floor.md5_lanes)
        );
        println!(
            "floor: SHA-1 + MD5 one stream each, the faster of the above = {:.3} s/GiB; \
             SHA-1 + MD5 as the core hashes = {:.3} s/GiB",
            floor.one_stream(),
            floor.core_hashing()
        );
    }

    /// `openssl speed -evp ALG` over blocks of `bytes`, in CPU seconds per GiB (openssl divides
    /// by user CPU time unless told `-elapsed`).
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

    fn measure_floor(part: usize) -> Floor {
        let mut buf = vec![0u8; part];
        rand::fill(&mut buf[..]);
        let n = (FLOOR_BYTES / part as u64).max(1);
        let bytes = n * part as u64;
        let (mut sha1, mut md5, mut md5_lanes) = (Duration::MAX, Duration::MAX, Duration::MAX);
        let lanes: Vec<Vec<u8>> = (0..md5_lanes::MAX_LANES)
            .map(|_| {
                let mut v = vec![0u8; part];
                rand::fill(&mut v[..]);
                v
            })
            .collect();
        for _ in 0..3 {
            let t = thread_cpu();
            let mut h = Sha1::new();
            for _ in 0..n {
                h.update(&buf);
            }
            std::hint::black_box(h.finalize());
            sha1 = sha1.min(thread_cpu() - t);

            let t = thread_cpu();
            for _ in 0..n {
                std::hint::black_box(md5_lanes::md5(std::hint::black_box(&buf)));
            }
            md5 = md5.min(thread_cpu() - t);

            // Distinct parts in the lanes, as in an upload (not one buffer eight times over).
            let t = thread_cpu();
            for _ in 0..n.div_ceil(lanes.len() as u64) {
                let rows: Vec<&[u8]> = lanes.iter().map(Vec::as_slice).collect();
                let lanes = md5_lanes::Lanes::new(rows.len());
                std::hint::black_box(lanes.finish(std::hint::black_box(&rows)));
            }
            md5_lanes = md5_lanes.min(thread_cpu() - t);
        }
        let scale = |d: Duration, bytes: u64| Duration::from_secs_f64(per_gib(d, bytes));
        let lanes_bytes = n.div_ceil(lanes.len() as u64) * (lanes.len() * part) as u64;
        let openssl = openssl_speed("sha1", part as u64).zip(openssl_speed("md5", part as u64));
        Floor {
            sha1: scale(sha1, bytes),
            md5: scale(md5, bytes),
            md5_lanes: scale(md5_lanes, lanes_bytes),
            openssl,
        }
    }

    /// The intermediary's stderr line just before it starts the upload, `{SPAWNING} T_NS` (the
    /// [`monotonic`] clock): times count from it.
    const SPAWNING: &str = "vodupload-bench: spawning";
    /// The intermediary's last stderr line: `{RUSAGE} STATUS USER_US SYS_US MAXRSS_BYTES T_NS`,
    /// STATUS being `exit=N` or `signal=N`, T_NS when the upload was seen to end.
    const RUSAGE: &str = "vodupload-bench: rusage";

    /// `--measure`: runs `vodupload COMMAND...` and reports how it ended and what it used. This
    /// process is freshly exec'd and small, so the peak RSS the child inherits from it at its own
    /// exec is negligible (far below the child's).
    fn measure(command: &[std::ffi::OsString]) -> Result<(), Failure> {
        use std::sync::{Arc, Mutex};
        let exe = std::env::current_exe().map_err(|e| {
            Failure::other(format!("cannot find this executable to run uploads: {e}"))
        })?;
        // Stamped here, not when the parent reads the line: a busy parent may read it late.
        eprintln!("{SPAWNING} {}", monotonic().as_nanos());
        // stdout and stderr are inherited: the parent reads them directly.
        let child = Command::new(exe)
            .args(command)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| Failure::other(format!("cannot start the upload: {e}")))?;
        let pid = child.id() as libc::pid_t;
        // True once the child is reaped: from then on its pid may belong to another process.
        let reaped = Arc::new(Mutex::new(false));
        let reaped2 = reaped.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if line.trim() == "kill" {
                    let done = reaped2.lock().unwrap_or_else(|e| e.into_inner());
                    if !*done {
                        // SAFETY: plain syscall on our own child, not reaped yet (lock held).
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
            }
        });
        // Wait for the end without reaping, then reap under the lock.
        loop {
            // SAFETY: an all-zero siginfo_t is a valid out-parameter.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is valid for writes; the pid is our child.
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if r == 0 {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Failure::other(format!("cannot wait for the upload: {e}")));
            }
        }
        let ended = monotonic();
        let (status, usage) = {
            let mut done = reaped.lock().unwrap_or_else(|e| e.into_inner());
            *done = true;
            wait4(pid).map_err(|e| Failure::other(format!("cannot reap the upload: {e}")))?
        };
        let how = if libc::WIFSIGNALED(status) {
            format!("signal={}", libc::WTERMSIG(status))
        } else {
            format!("exit={}", libc::WEXITSTATUS(status))
        };
        // Linux reports KiB; macOS, bytes.
        let maxrss = if cfg!(target_os = "macos") {
            usage.ru_maxrss as u64
        } else {
            usage.ru_maxrss as u64 * KIB
        };
        eprintln!(
            "{RUSAGE} {how} {} {} {maxrss} {}",
            timeval(usage.ru_utime).as_micros(),
            timeval(usage.ru_stime).as_micros(),
            ended.as_nanos()
        );
        Ok(())
    }

    struct Bench<'a> {
        a: &'a BenchArgs,
        exe: PathBuf,
        work: PathBuf,
    }

    /// One emulator with its state directory, removed when dropped.
    struct Server {
        emu: Option<Emulator>,
        state: PathBuf,
        ca_file: Option<PathBuf>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            drop(self.emu.take());
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }

    impl Server {
        fn endpoint(&self) -> String {
            self.emu.as_ref().expect("running").endpoint()
        }

        fn credentials(&self) -> (String, String) {
            self.emu.as_ref().expect("running").credentials()[0].clone()
        }
    }

    /// What one child upload did.
    #[derive(Debug, Default, Clone)]
    struct RunReport {
        wall: Duration,
        /// Since the spawn, when each line arrived.
        init_ok: Option<Duration>,
        first_part_ok: Option<Duration>,
        last_part_ok: Option<Duration>,
        finish_ok: Option<Duration>,
        /// The child's own "hashed ... in X ms" figure (from the start of `begin`).
        hashed_ms: Option<u64>,
        from_cache: bool,
        parts_ok: usize,
        user: Duration,
        sys: Duration,
        max_rss: u64,
        killed: bool,
        json: Option<serde_json::Value>,
    }

    impl RunReport {
        fn cpu(&self) -> Duration {
            self.user + self.sys
        }

        fn send(&self) -> Option<Duration> {
            Some(self.last_part_ok? - self.init_ok?)
        }

        fn instant(&self) -> bool {
            self.json
                .as_ref()
                .and_then(|j| j.get("instant"))
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        }
    }

    /// One fresh upload of one size, with the yardsticks measured just before it.
    struct Trial {
        read_alone: Duration,
        sha1_alone: Duration,
        sha1_alone_cpu: Duration,
        /// The core's hashing pass (`fingerprint::compute`) in this process, and how many part
        /// MD5s its second thread got done meanwhile.
        compute: Duration,
        compute_md5s: usize,
        fresh: RunReport,
        /// CPU time other processes used while SHA-1 alone and the upload ran, and that wall time.
        others: Option<(Duration, Duration)>,
    }

    /// One size's results: every trial (`--runs`), the cache runs after the last one.
    struct SizeRow {
        size: u64,
        sparse: bool,
        trials: Vec<Trial>,
        cached_instant: Option<RunReport>,
        /// Err: why there is no figure.
        cached_resume: Option<Result<RunReport, &'static str>>,
    }

    /// The table shows each figure's best over the trials (a shared machine only adds time and
    /// CPU), and the largest RSS.
    impl SizeRow {
        fn best<T: Ord>(&self, f: impl Fn(&Trial) -> T) -> T {
            self.trials.iter().map(f).min().expect("at least one trial")
        }

        fn sha1_alone(&self) -> Duration {
            self.best(|t| t.sha1_alone)
        }

        fn to_init(&self) -> Duration {
            self.best(|t| t.fresh.init_ok.unwrap_or(t.fresh.wall))
        }

        fn wall(&self) -> Duration {
            self.best(|t| t.fresh.wall)
        }

        fn send(&self) -> Option<Duration> {
            self.trials.iter().filter_map(|t| t.fresh.send()).min()
        }

        fn cpu(&self) -> Duration {
            self.best(|t| t.fresh.cpu())
        }

        fn max_rss(&self) -> u64 {
            self.trials
                .iter()
                .map(|t| t.fresh.max_rss)
                .max()
                .unwrap_or(0)
        }
    }

    enum Cache<'p> {
        Off,
        Dir(&'p Path),
    }

    impl Bench<'_> {
        fn start_server(&self, name: &str, latency_ms: u64) -> Result<Server, Failure> {
            let state = self.work.join(name);
            let _ = std::fs::remove_dir_all(&state);
            let ca_file = self
                .a
                .https
                .then(|| self.work.join(format!("{name}-ca.pem")));
            let mut config = EmulatorConfig::default();
            config.state_dir = Some(state.clone());
            config.rate_limit = false;
            config.faults = Faults {
                latency_ms,
                ..Faults::default()
            };
            config.tls = ca_file
                .clone()
                .map(|p| TlsSetup::SelfSigned { cert_out: Some(p) });
            let emu = Emulator::start(config).map_err(|e| {
                Failure::other(format!("cannot start the in-process emulator: {e}"))
            })?;
            Ok(Server {
                emu: Some(emu),
                state,
                ca_file,
            })
        }

        fn size_row(&self, size: u64) -> Result<SizeRow, Failure> {
            let sparse = size > self.a.sparse_above;
            let path = self.work.join(format!("bench-{size}.bin"));
            make_file(&path, size, sparse)
                .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
            let io_fail =
                |e: std::io::Error| Failure::other(format!("cannot read {}: {e}", path.display()));
            let mut trials = Vec::new();
            let (mut cached_instant, mut cached_resume) = (None, None);
            for run in 0..self.a.runs {
                if run > 0 {
                    // A new file for the service, though the emulator is new anyway.
                    touch_prefix(&path).map_err(|e| {
                        Failure::other(format!("cannot modify {}: {e}", path.display()))
                    })?;
                }
                let server = self.start_server("emulator", 0)?;
                // The previous run's files (the emulator writes every part and the whole file)
                // are written back now rather than by kernel threads during this one.
                settle(&self.work);
                let (read_alone, _) =
                    read_file(&path, size, self.a.part_size, false).map_err(io_fail)?;
                let (compute, compute_md5s) = core_hashing(&path, size, self.a.part_size)
                    .map_err(|e| Failure::other(format!("cannot hash {}: {e}", path.display())))?;
                // Right before the upload, so that both see the same load.
                let load = LoadProbe::start();
                let (sha1_alone, sha1_alone_cpu) =
                    read_file(&path, size, self.a.part_size, true).map_err(io_fail)?;
                let fresh = self.upload(&server, &path, self.a.concurrency, Cache::Off, None)?;
                let others = load.and_then(LoadProbe::others);
                if fresh.instant() {
                    return Err(Failure::other(
                        "the first upload of a new file was instant: the emulator is not fresh"
                            .to_owned(),
                    ));
                }
                trials.push(Trial {
                    read_alone,
                    sha1_alone,
                    sha1_alone_cpu,
                    compute,
                    compute_md5s,
                    fresh,
                    others,
                });
                if run + 1 == self.a.runs && size <= self.a.cache_runs_up_to {
                    let (i, r) = self.cache_runs(&server, &path)?;
                    (cached_instant, cached_resume) = (Some(i), Some(r));
                }
            }
            let _ = std::fs::remove_file(&path);
            Ok(SizeRow {
                size,
                sparse,
                trials,
                cached_instant,
                cached_resume,
            })
        }

        /// Instant re-upload from the cache, then a resume from the cache of an upload killed
        /// halfway.
        fn cache_runs(
            &self,
            server: &Server,
            path: &Path,
        ) -> Result<(RunReport, Result<RunReport, &'static str>), Failure> {
            let cache = self.work.join("fingerprints");
            let _ = std::fs::remove_dir_all(&cache);
            settle(&self.work);
            let c = self.a.concurrency;
            // Fills the cache (the file is already on the server: instant).
            self.upload(server, path, c, Cache::Dir(&cache), None)?;
            let instant = self.upload(server, path, c, Cache::Dir(&cache), None)?;

            // A file the server has not seen, and the cache not either.
            touch_prefix(path)
                .map_err(|e| Failure::other(format!("cannot modify {}: {e}", path.display())))?;
            let parts = self.a.size_parts(path)?;
            if parts < 4 {
                return Ok((instant, Err("too few parts")));
            }
            let killed = self.upload(server, path, c, Cache::Dir(&cache), Some(parts / 2))?;
            if !killed.killed {
                return Ok((instant, Err("ended before the kill")));
            }
            let resumed = self.upload(server, path, c, Cache::Dir(&cache), None)?;
            Ok((instant, Ok(resumed)))
        }

        fn sweep(&self, latency_ms: u64) -> Result<Vec<(usize, RunReport)>, Failure> {
            let size = self.a.sweep_size;
            let path = self.work.join("sweep.bin");
            make_file(&path, size, size > self.a.sparse_above)
                .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
            let mut out = Vec::new();
            for &c in &self.a.sweep {
                let server = self.start_server("emulator-sweep", latency_ms)?;
                settle(&self.work);
                let r = self.upload(&server, &path, c, Cache::Off, None)?;
                out.push((c, r));
            }
            let _ = std::fs::remove_file(&path);
            Ok(out)
        }

        /// Runs `vodupload upload` as a child and measures it. With `kill_after`, kills it with
        /// SIGKILL once that many parts are answered.
        fn upload(
            &self,
            server: &Server,
            path: &Path,
            concurrency: usize,
            cache: Cache<'_>,
            kill_after: Option<usize>,
        ) -> Result<RunReport, Failure> {
            let (id, key) = server.credentials();
            let mut cmd = Command::new(&self.exe);
            cmd.args(["bench", "--measure", "--", "upload"])
                .arg(path)
                .arg("--endpoint")
                .arg(server.endpoint())
                .args(["--json", "--quiet", "--no-rate-limit", "--timeout", "600"])
                .arg("--concurrency")
                .arg(concurrency.to_string())
                .arg("--part-size")
                .arg(self.a.part_size.to_string());
            match cache {
                Cache::Off => {
                    cmd.arg("--no-cache");
                }
                Cache::Dir(d) => {
                    cmd.arg("--cache-dir").arg(d);
                }
            }
            if let Some(ca) = &server.ca_file {
                cmd.arg("--ca-file").arg(ca);
            }
            // Credentials by environment, not on the command line.
            cmd.env("TENCENTCLOUD_SECRET_ID", id)
                .env("TENCENTCLOUD_SECRET_KEY", key)
                .env("RUST_LOG", "vodupload=debug")
                .env("RUST_LOG_STYLE", "never")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());

            let mut child = cmd
                .spawn()
                .map_err(|e| Failure::other(format!("cannot run {}: {e}", self.exe.display())))?;
            let mut control = child.stdin.take().expect("piped");
            let mut stdout = child.stdout.take().expect("piped");
            let stderr = child.stderr.take().expect("piped");
            let out_thread = std::thread::spawn(move || {
                let mut s = String::new();
                let _ = stdout.read_to_string(&mut s);
                s
            });
            let (tx, rx) = mpsc::channel::<(Duration, String)>();
            let err_thread = std::thread::spawn(move || {
                let mut r = BufReader::new(stderr);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match r.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                            if tx.send((monotonic(), line)).is_err() {
                                break;
                            }
                        }
                    }
                }
            });

            let mut report = RunReport::default();
            let mut start = monotonic();
            let mut end = None;
            let mut ended: Option<String> = None;
            let mut messages: Vec<String> = Vec::new();
            for (at, line) in rx {
                let t = at.saturating_sub(start);
                if let Some(rest) = line.strip_prefix(SPAWNING) {
                    start = parse_nanos(rest.trim()).unwrap_or(at);
                } else if let Some(rest) = line.strip_prefix(RUSAGE) {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    if let [how, user, sys, rss, at_end] = f[..] {
                        end = Some(parse_nanos(at_end).unwrap_or(at));
                        ended = Some(how.to_owned());
                        report.user = Duration::from_micros(user.parse().unwrap_or(0));
                        report.sys = Duration::from_micros(sys.parse().unwrap_or(0));
                        report.max_rss = rss.parse().unwrap_or(0);
                    }
                } else if line.contains("InitUpload  attempt") && line.contains(" ok in ") {
                    report.init_ok.get_or_insert(t);
                } else if line.contains("UploadPart part") && line.contains(" ok in ") {
                    report.first_part_ok.get_or_insert(t);
                    report.last_part_ok = Some(t);
                    report.parts_ok += 1;
                } else if line.contains("FinishUpload  attempt") && line.contains(" ok in ") {
                    report.finish_ok = Some(t);
                } else if line.contains(" hashed ") && line.contains(" ms: sha1 ") {
                    report.hashed_ms = line
                        .rsplit_once(" ms: sha1 ")
                        .and_then(|(head, _)| head.rsplit_once(" in "))
                        .and_then(|(_, ms)| ms.parse().ok());
                } else if line.contains("from the cache: sha1") {
                    report.from_cache = true;
                } else if !line.contains(" DEBUG") {
                    messages.push(line);
                }
                if !report.killed && kill_after.is_some_and(|n| report.parts_ok >= n) {
                    let _ = control.write_all(b"kill\n").and_then(|()| control.flush());
                    report.killed = true;
                }
            }
            drop(control);
            let _ = err_thread.join();
            let _ = child.wait();
            report.wall = end.unwrap_or_else(monotonic).saturating_sub(start);
            let out = out_thread.join().unwrap_or_default();
            let ended = ended.unwrap_or_default();
            let exited_ok = ended == "exit=0";
            if report.killed && !exited_ok {
                return Ok(report);
            }
            // Ended on its own before the kill: an ordinary run.
            report.killed = false;
            if !exited_ok {
                let tail = messages
                    .iter()
                    .rev()
                    .take(10)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ");
                return Err(Failure::other(format!(
                    "the upload of {} failed ({}):\n  {tail}",
                    path.display(),
                    if ended.is_empty() {
                        "no report"
                    } else {
                        &ended
                    }
                )));
            }
            report.json = serde_json::from_str(out.trim()).ok();
            if report.json.is_none() {
                return Err(Failure::other(format!(
                    "the upload of {} printed no JSON result: {out:?}",
                    path.display()
                )));
            }
            Ok(report)
        }
    }

    impl BenchArgs {
        fn size_parts(&self, path: &Path) -> Result<usize, Failure> {
            let len = std::fs::metadata(path)
                .map_err(|e| Failure::other(format!("cannot stat {}: {e}", path.display())))?
                .len();
            Ok(len.div_ceil(self.part_size) as usize)
        }
    }

    fn timeval(t: libc::timeval) -> Duration {
        Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000)
    }

    /// Reaps `pid`, with its resource usage.
    fn wait4(pid: libc::pid_t) -> std::io::Result<(libc::c_int, libc::rusage)> {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: both out-pointers are valid for writes for the duration of the call.
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if r == pid {
                return Ok((status, usage));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Random content, or (sparse) a hole with a few random bytes at the start so two runs differ.
    fn make_file(path: &Path, size: u64, sparse: bool) -> std::io::Result<()> {
        let mut f = File::create(path)?;
        if sparse {
            f.set_len(size)?;
        } else {
            let mut chunk = vec![0u8; MIB as usize];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                rand::fill(&mut chunk[..n]);
                f.write_all(&chunk[..n])?;
                left -= n as u64;
            }
        }
        drop(f);
        touch_prefix(path)?;
        // Written back now, so the measurements do not share the disk with it.
        File::open(path)?.sync_all()
    }

    /// Overwrites the first bytes with random ones: another file for the service, and for the
    /// fingerprint cache (its mtime and ctime change).
    fn touch_prefix(path: &Path) -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        let len = f.metadata()?.len().min(16) as usize;
        let mut b = [0u8; 16];
        rand::fill(&mut b[..]);
        f.write_all_at(&b[..len], 0)
    }

    /// Reads the whole file a part at a time with positional reads into a cache-line-aligned
    /// buffer, as the core does; with `sha1`, hashes it too. Returns wall and thread CPU time.
    fn read_file(
        path: &Path,
        size: u64,
        part: u64,
        sha1: bool,
    ) -> std::io::Result<(Duration, Duration)> {
        let start = Instant::now();
        let cpu = thread_cpu();
        let f = File::open(path)?;
        // Aligned as the core's buffers are: a buffer 16 bytes into a page (any large
        // allocation's place) makes the copies out of the page cache ~10% slower.
        let mut store = vec![0u8; part as usize + 64];
        let at = store.as_ptr().align_offset(64);
        let buf = &mut store[at..at + part as usize];
        let mut h = Sha1::new();
        let mut off = 0;
        while off < size {
            let n = (size - off).min(part) as usize;
            f.read_exact_at(&mut buf[..n], off)?;
            if sha1 {
                h.update(&buf[..n]);
            }
            off += n as u64;
        }
        std::hint::black_box(h.finalize());
        Ok((start.elapsed(), thread_cpu() - cpu))
    }

    /// Writes back the dirty data of the filesystem holding `dir` and waits for it (Linux
    /// `syncfs`; `sync` elsewhere).
    fn settle(dir: &Path) {
        #[cfg(target_os = "linux")]
        if let Ok(d) = File::open(dir) {
            use std::os::fd::AsRawFd;
            // SAFETY: plain syscall on a descriptor we own for the duration of the call.
            unsafe { libc::syncfs(d.as_raw_fd()) };
            return;
        }
        let _ = dir;
        // SAFETY: plain syscall without arguments.
        unsafe { libc::sync() };
    }

    /// How much CPU other processes take meanwhile: all CPUs' busy time (/proc/stat) less this
    /// process's and its reaped children's. Linux only; None elsewhere.
    struct LoadProbe {
        busy: Duration,
        own: Duration,
        at: Instant,
    }

    impl LoadProbe {
        fn start() -> Option<LoadProbe> {
            Some(LoadProbe {
                busy: machine_busy()?,
                own: own_cpu(),
                at: Instant::now(),
            })
        }

        /// Others' CPU time since `start`, and the wall time.
        fn others(self) -> Option<(Duration, Duration)> {
            let busy = machine_busy()?.saturating_sub(self.busy);
            let own = own_cpu().saturating_sub(self.own);
            Some((busy.saturating_sub(own), self.at.elapsed()))
        }
    }

    /// Busy time of all CPUs since boot (user, nice, system, irq, softirq, steal).
    fn machine_busy() -> Option<Duration> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let busy: u64 = [0, 1, 2, 5, 6, 7]
            .iter()
            .map(|&i| fields.get(i).copied().unwrap_or(0))
            .sum();
        // SAFETY: sysconf only reads a configuration value.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| Duration::from_secs_f64(busy as f64 / hz as f64))
    }

    /// User + system time of this process and of its children reaped so far.
    fn own_cpu() -> Duration {
        let mut total = Duration::ZERO;
        for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
            // SAFETY: an all-zero rusage is a valid value of this plain C struct.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `u` is valid for writes.
            if unsafe { libc::getrusage(who, &mut u) } == 0 {
                total += timeval(u.ru_utime) + timeval(u.ru_stime);
            }
        }
        total
    }

    /// The core's own hashing pass over the file, in this process: wall time and part MD5s done.
    fn core_hashing(path: &Path, size: u64, part: u64) -> Result<(Duration, usize), String> {
        let f = File::open(path).map_err(|e| e.to_string())?;
        let start = Instant::now();
        let fp = vodupload::fingerprint::compute(&f, size, part, &mut |_| true)
            .map_err(|e| e.to_string())?;
        Ok((
            start.elapsed(),
            fp.part_md5.iter().filter(|m| m.is_some()).count(),
        ))
    }

    fn rss_bound(a: &BenchArgs) -> u64 {
        a.concurrency as u64 * a.part_size * 2 + RSS_SLACK
    }

    fn print_size_table(a: &BenchArgs, floor: &Floor, rows: &[SizeRow]) {
        let floor_cpu = floor.one_stream();
        let header = [
            "file",
            "SHA-1 alone",
            "to InitUpload",
            "ratio",
            "upload wall",
            "sending",
            "CPU s/GiB",
            "ratio",
            "beyond hashing",
            "peak RSS",
            "RSS bound",
            "cached re-upload",
            "cached resume",
        ];
        let mut table = Vec::new();
        for r in rows {
            let init = r.to_init();
            let cpu = per_gib(r.cpu(), r.size);
            table.push(vec![
                format!(
                    "{}{}",
                    fmt_size(r.size),
                    if r.sparse { " sparse" } else { "" }
                ),
                fmt_dur(r.sha1_alone()),
                fmt_dur(init),
                format!("{:.2}", init.as_secs_f64() / r.sha1_alone().as_secs_f64()),
                fmt_dur(r.wall()),
                r.send()
                    .map_or("-".to_owned(), |s| format!("{:.2} GB/s", gbps(r.size, s))),
                format!("{cpu:.3}"),
                format!("{:.2}", cpu / floor_cpu),
                format!("{:.3} s/GiB", cpu - floor.core_hashing()),
                fmt_size_mib(r.max_rss()),
                fmt_size_mib(rss_bound(a)),
                r.cached_instant.as_ref().map_or("-".to_owned(), |c| {
                    format!(
                        "{}{}",
                        fmt_dur(c.wall),
                        if c.instant() { "" } else { " (not instant!)" }
                    )
                }),
                match &r.cached_resume {
                    None => "-".to_owned(),
                    Some(Err(why)) => format!("- ({why})"),
                    Some(Ok(c)) => fmt_opt(c.first_part_ok),
                },
            ]);
        }
        println!(
            "uploads (\"to InitUpload\": spawn to InitUpload answered; \"sending\": file size over the time from \
             InitUpload to the last part answered; CPU: the client process's user + system per GiB, ratio to \
             the floor; beyond hashing: that CPU less SHA-1 + MD5 as the core hashes; cached re-upload: whole run; cached resume: spawn to the first part answered{}):",
            if a.runs > 1 {
                format!("; best of {} runs, largest RSS", a.runs)
            } else {
                String::new()
            }
        );
        print_table(&header, &table);
    }

    fn fmt_size_mib(bytes: u64) -> String {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }

    fn print_sweep(a: &BenchArgs, latency_ms: u64, runs: &[(usize, RunReport)]) {
        println!(
            "throughput against concurrency: {latency_ms} ms added to every answer, {} parts, a {} file \
             (sending: InitUpload to the last part answered):",
            fmt_size(a.part_size),
            fmt_size(a.sweep_size)
        );
        let base = runs.first().and_then(|(c, r)| Some((*c, r.send()?)));
        let mut table = Vec::new();
        for (c, r) in runs {
            let send = r.send();
            let speedup = match (base, send) {
                (Some((_, b)), Some(s)) => Some(b.as_secs_f64() / s.as_secs_f64()),
                _ => None,
            };
            let ideal = base.map(|(bc, _)| *c as f64 / bc as f64);
            table.push(vec![
                c.to_string(),
                fmt_opt(send),
                send.map_or("-".to_owned(), |s| {
                    format!("{:.1} MB/s", a.sweep_size as f64 / s.as_secs_f64() / 1e6)
                }),
                speedup.map_or("-".to_owned(), |s| format!("{s:.2}")),
                ideal.map_or("-".to_owned(), |i| format!("{i:.0}")),
                match (speedup, ideal) {
                    (Some(s), Some(i)) => format!("{:.0}%", 100.0 * s / i),
                    _ => "-".to_owned(),
                },
                fmt_dur(r.wall),
            ]);
        }
        print_table(
            &[
                "concurrency",
                "sending",
                "throughput",
                "speed-up",
                "ideal",
                "efficiency",
                "wall",
            ],
            &table,
        );
    }

    fn sweep_efficiency(runs: &[(usize, RunReport)]) -> Option<(usize, usize, f64)> {
        let (c0, r0) = runs.first()?;
        let (c1, r1) = runs.last()?;
        if c1 <= c0 {
            return None;
        }
        let speedup = r0.send()?.as_secs_f64() / r1.send()?.as_secs_f64();
        Some((*c0, *c1, speedup / (*c1 as f64 / *c0 as f64)))
    }

    fn print_targets(
        a: &BenchArgs,
        floor: &Floor,
        rows: &[SizeRow],
        sweep: Option<&[(usize, RunReport)]>,
    ) {
        let floor_cpu = floor.one_stream();
        println!("targets (issue #6):");
        let join = |v: Vec<String>| {
            if v.is_empty() {
                "not measured".to_owned()
            } else {
                v.join("; ")
            }
        };
        let init: Vec<String> = rows
            .iter()
            .map(|r| {
                let ratio = r.to_init().as_secs_f64() / r.sha1_alone().as_secs_f64();
                format!(
                    "{}: {ratio:.3} {}",
                    fmt_size(r.size),
                    if r.size >= INIT_TARGET_MIN_SIZE {
                        yes_no(ratio <= INIT_RATIO_TARGET)
                    } else {
                        "(a small file: fixed costs weigh)"
                    }
                )
            })
            .collect();
        println!(
            "  time to InitUpload <= {INIT_RATIO_TARGET} x SHA-1 alone (1 GiB and up):   {}",
            join(init)
        );
        let cpu: Vec<String> = rows
            .iter()
            .map(|r| {
                let cpu = per_gib(r.cpu(), r.size);
                let ratio = cpu / floor_cpu;
                format!(
                    "{}: {ratio:.3} {} ({:.3} s/GiB beyond the core's own hashing)",
                    fmt_size(r.size),
                    yes_no(ratio <= CPU_RATIO_TARGET),
                    cpu - floor.core_hashing()
                )
            })
            .collect();
        println!(
            "  client CPU/GiB <= {CPU_RATIO_TARGET} x (SHA-1 + MD5, one stream each) [{}]:   {}",
            if a.https { "HTTPS" } else { "HTTP" },
            join(cpu)
        );
        let bound = rss_bound(a);
        let rss: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{}: {} {}",
                    fmt_size(r.size),
                    fmt_size_mib(r.max_rss()),
                    yes_no(r.max_rss() <= bound)
                )
            })
            .collect();
        println!(
            "  peak RSS <= {} ({} x {} x 2 + 32 MiB):   {}",
            fmt_size_mib(bound),
            a.concurrency,
            fmt_size(a.part_size),
            join(rss)
        );
        let cached: Vec<String> = rows
            .iter()
            .filter_map(|r| {
                let instant = r.cached_instant.as_ref()?;
                let mut s = format!(
                    "{} re-upload {} {}",
                    fmt_size(r.size),
                    fmt_dur(instant.wall),
                    yes_no(instant.wall < CACHED_START_TARGET && instant.from_cache)
                );
                match &r.cached_resume {
                    Some(Ok(res)) => {
                        let t = res.first_part_ok.unwrap_or(res.wall);
                        s += &format!(
                            ", resume {} {}",
                            fmt_dur(t),
                            yes_no(t < CACHED_START_TARGET && res.from_cache)
                        );
                    }
                    Some(Err(why)) => s += &format!(", resume not measured ({why})"),
                    None => {}
                }
                Some(s)
            })
            .collect();
        println!(
            "  cached re-upload/resume starts in < {} ms:   {}",
            CACHED_START_TARGET.as_millis(),
            join(cached)
        );
        match sweep.and_then(sweep_efficiency) {
            Some((c0, c1, eff)) => println!(
                "  throughput near-linear in concurrency {c0} -> {c1} (>= {:.0}% of ideal): {:.0}% {}",
                SWEEP_EFFICIENCY_TARGET * 100.0,
                eff * 100.0,
                yes_no(eff >= SWEEP_EFFICIENCY_TARGET)
            ),
            None => println!(
                "  throughput near-linear in concurrency:   not measured (--latency-ms 50)"
            ),
        }
    }

    fn print_breakdown(a: &BenchArgs, rows: &[SizeRow]) {
        println!("breakdown (client child process; times since its spawn):");
        for r in rows {
            for (k, t) in r.trials.iter().enumerate() {
                let f = &t.fresh;
                println!(
                    "  {}{}: read alone {} ({:.2} GB/s); SHA-1 alone {} ({:.2} GB/s, {:.3} CPU s/GiB); \
                     the core's hashing pass in this process {} (MD5s of {} of {} parts done on the side); \
                     the child: hashed in {} ms, InitUpload answered at {}, parts answered {} .. {} ({}), \
                     FinishUpload answered at {}, exit at {}; CPU user {:.3} s + system {:.3} s = {:.3} s/GiB; \
                     peak RSS {}; other processes meanwhile: {}",
                    fmt_size(r.size),
                    if r.trials.len() > 1 {
                        format!(" run {}", k + 1)
                    } else {
                        String::new()
                    },
                    fmt_dur(t.read_alone),
                    gbps(r.size, t.read_alone),
                    fmt_dur(t.sha1_alone),
                    gbps(r.size, t.sha1_alone),
                    per_gib(t.sha1_alone_cpu, r.size),
                    fmt_dur(t.compute),
                    t.compute_md5s,
                    r.size.div_ceil(a.part_size),
                    f.hashed_ms.map_or("?".to_owned(), |m| m.to_string()),
                    fmt_opt(f.init_ok),
                    fmt_opt(f.first_part_ok),
                    fmt_opt(f.last_part_ok),
                    f.parts_ok,
                    fmt_opt(f.finish_ok),
                    fmt_dur(f.wall),
                    f.user.as_secs_f64(),
                    f.sys.as_secs_f64(),
                    per_gib(f.cpu(), r.size),
                    fmt_size_mib(f.max_rss),
                    t.others.map_or("unknown".to_owned(), |(cpu, wall)| format!(
                        "{:.2} CPU-s in {:.2} s",
                        cpu.as_secs_f64(),
                        wall.as_secs_f64()
                    )),
                );
            }
            if let Some(c) = &r.cached_instant {
                println!(
                    "    cached re-upload: fingerprint {}, {}, InitUpload answered at {}, exit at {}",
                    if c.from_cache {
                        "from the cache"
                    } else {
                        "NOT from the cache"
                    },
                    if c.instant() {
                        "instant"
                    } else {
                        "not instant"
                    },
                    fmt_opt(c.init_ok),
                    fmt_dur(c.wall)
                );
            }
            if let Some(Ok(c)) = &r.cached_resume {
                let uploaded = c
                    .json
                    .as_ref()
                    .and_then(|j| j.get("parts_uploaded"))
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                let skipped = c
                    .json
                    .as_ref()
                    .and_then(|j| j.get("parts_skipped"))
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                println!(
                    "    cached resume (after a kill halfway): fingerprint {}, InitUpload answered at {}, \
                     first part at {}, {uploaded} parts sent, {skipped} already on the server, exit at {}",
                    if c.from_cache {
                        "from the cache"
                    } else {
                        "NOT from the cache"
                    },
                    fmt_opt(c.init_ok),
                    fmt_opt(c.first_part_ok),
                    fmt_dur(c.wall)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 * MIB));
        assert_eq!(parse_size("1G"), Ok(GIB));
        assert_eq!(parse_size("8gib"), Ok(8 * GIB));
        assert_eq!(parse_size("2 KiB"), Ok(2048));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1.5G").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_size(64 * MIB), "64 MiB");
        assert_eq!(fmt_size(GIB + GIB / 2), "1.5 GiB");
        assert_eq!(fmt_size(100), "100 B");
        assert_eq!(fmt_dur(Duration::from_millis(1234)), "1234 ms");
        assert_eq!(fmt_dur(Duration::from_millis(12_345)), "12.3 s");
    }
}
