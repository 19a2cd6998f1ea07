//! `vodupload bench`: how close an upload comes to the speed of the hash functions, in how much
//! memory, quiet and on a busy machine. It prints figures and whether each target is met; it
//! never fails on them. docs/performance.md describes the method, the targets and their reasons.
//!
//! The emulator runs in this process; every measured upload is a separate process (this same
//! executable, `vodupload upload`), started through a small intermediary (`child`), so that its
//! CPU time and peak RSS are its own. Times within an upload come from events it writes, stamped
//! as they happen, on a pipe (`timings`). The hash floor the CPU time is judged against is
//! measured in the same run (`floor`).
//!
//! Sections, in order: the hash floor; per file size, `--runs` uploads on a quiet machine, each
//! followed by the fingerprint-cache runs, then as many uploads under `--load` busy threads
//! (`sizes`); the latency sweep (`sweep`); the resume of a long part list (`resume`); the targets
//! (`targets`); every run in detail (`report`).

use std::path::PathBuf;

use clap::Args;
use vodupload_emulator::parse_size;

use crate::Failure;

#[cfg(unix)]
mod child;
#[cfg(unix)]
mod clock;
#[cfg(unix)]
mod emulator;
#[cfg(unix)]
mod files;
#[cfg(unix)]
mod floor;
#[cfg(unix)]
mod fmt;
#[cfg(unix)]
mod load;
#[cfg(unix)]
mod measured;
#[cfg(unix)]
mod pacing;
#[cfg(unix)]
mod report;
#[cfg(unix)]
mod resume;
#[cfg(unix)]
mod server;
#[cfg(unix)]
mod sizes;
#[cfg(unix)]
mod stats;
#[cfg(unix)]
mod sweep;
#[cfg(unix)]
mod targets;
#[cfg(unix)]
pub(crate) mod timings;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

#[derive(Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    pub(crate) verbosity: crate::verbosity::Verbosity,
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
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// 524288 or 1048576.
    #[arg(long, default_value_t = vodupload::plan::DEFAULT_PART_SIZE)]
    part_size: u64,
    /// Upload each size this many times (a fresh emulator each time); the tables show the best,
    /// median and worst run of each figure.
    #[arg(long, default_value_t = 1)]
    runs: u32,
    /// Also upload each size --runs times while this many threads spin at normal priority in the
    /// bench (a busy app server), after the quiet runs, and compare.
    #[arg(long, default_value_t = 0)]
    load: usize,
    /// The fingerprint-cache runs (instant re-upload, resume) are made for sizes up to this.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    cache_runs_up_to: u64,
    /// Also measure throughput against concurrency with each of these latencies added by the
    /// emulator to every answer (long links), e.g. 5,40,150.
    #[arg(long, value_delimiter = ',', value_name = "MS")]
    latency_ms: Vec<u64>,
    /// Also measure throughput against concurrency behind a thin link of this many MB/s, shared
    /// by every connection (the emulator's --bandwidth), with --bandwidth-latency-ms.
    #[arg(long, value_name = "MB_PER_S")]
    bandwidth: Option<f64>,
    /// Latency added to every answer in the --bandwidth sweep.
    #[arg(long, value_name = "MS", default_value_t = 40)]
    bandwidth_latency_ms: u64,
    /// Concurrencies of the sweeps: auto (the client's own choice, measured as it goes) and
    /// fixed numbers of parts in flight.
    #[arg(long, value_delimiter = ',', value_parser = sweep::parse_concurrency,
          default_values = ["auto", "1", "2", "4", "8"])]
    sweep: Vec<vodupload::Concurrency>,
    /// File size for the latency sweep.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    sweep_size: u64,
    /// Also measure a resume with a long part list: a sparse file of this many 512 KiB parts,
    /// killed once most are stored, then resumed with the fingerprint cache (16384: an 8 GiB
    /// file; the emulator stores what it receives, about 512 KiB a part).
    #[arg(long)]
    resume_parts: Option<usize>,
    /// Where the generated files and the emulator's state go (a temporary directory inside it,
    /// removed at the end) [default: the system's temporary directory]. An upload of N bytes needs
    /// up to about 3N of space there for the emulator, besides the file itself unless it is sparse.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Internal: run `vodupload COMMAND...` (after `--`) as a child, and write on the timings
    /// channel when it starts and, once it ends, its exit status, CPU time and peak RSS. A line
    /// `kill` on stdin kills it.
    #[arg(long, hide = true, requires_all = ["command", "timings_fd"])]
    measure: bool,
    /// Internal: the descriptor of the timings channel (with --measure).
    #[arg(long, hide = true, requires = "measure")]
    timings_fd: Option<i32>,
    #[arg(last = true, hide = true)]
    command: Vec<std::ffi::OsString>,
    /// Only the emulator's own figures (they are also printed at the end of a full run).
    #[arg(long)]
    emulator_only: bool,
    /// Also time what sharing the pacing through this Redis costs a request
    /// (redis://host:port/db); with --emulator-only or alone, only that.
    #[arg(long, value_name = "URL")]
    pacing: Option<String>,
}

#[cfg(not(unix))]
pub(crate) fn run(_: BenchArgs) -> Result<(), Failure> {
    Err(Failure::other(
        "vodupload bench needs a Unix system: it measures the client's CPU time and peak RSS with wait4"
            .to_owned(),
    ))
}

/// What a run of the bench needs everywhere: its arguments, this executable (the uploads run it)
/// and the working directory.
#[cfg(unix)]
struct Bench<'a> {
    a: &'a BenchArgs,
    exe: PathBuf,
    work: PathBuf,
}

/// Everything measured, for the targets and the report.
#[cfg(unix)]
struct Results {
    floor: floor::Floor,
    /// The floor measured under `--load`.
    loaded_floor: Option<floor::Floor>,
    sizes: Vec<sizes::SizeRow>,
    sweeps: Vec<sweep::LinkSweep>,
    resume: Option<resume::ResumeSection>,
}

#[cfg(unix)]
pub(crate) fn run(a: BenchArgs) -> Result<(), Failure> {
    if a.measure {
        return child::measure(a.timings_fd.expect("clap requires it"), &a.command);
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
    let bench = Bench {
        a: &a,
        exe: std::env::current_exe().map_err(|e| {
            Failure::other(format!("cannot find this executable to run uploads: {e}"))
        })?,
        work: work.path().to_owned(),
    };
    // FinishUpload's cost is measured at the largest size asked for.
    let finish_size = a.size.iter().copied().max().unwrap_or(1 << 30);
    if let Some(url) = &a.pacing {
        pacing::run(url)?;
        println!();
    }
    if a.emulator_only {
        return emulator::run(work.path(), finish_size);
    }
    bench.check_space()?;
    report::print_header(&a, work.path());
    let results = bench.measure_all()?;
    println!();
    targets::print(&a, &results);
    println!();
    report::print_breakdown(&a, &results);
    println!();
    emulator::run(work.path(), finish_size)?;
    println!();
    println!("load average at the end: {}", load::load_average());
    Ok(())
}

#[cfg(unix)]
impl Bench<'_> {
    /// Runs every section, printing each one's table as soon as it is measured.
    fn measure_all(&self) -> Result<Results, Failure> {
        let a = self.a;
        let floor = floor::Floor::measure(a.part_size as usize);
        floor.print("", a.part_size);
        let loaded_floor = (a.load > 0).then(|| {
            let _busy = load::Busy::start(a.load);
            floor::Floor::measure(a.part_size as usize)
        });
        if let Some(f) = &loaded_floor {
            println!();
            f.print(
                &format!(" under load ({} busy threads)", a.load),
                a.part_size,
            );
        }
        println!();

        let mut sizes = Vec::new();
        for &size in &a.size {
            eprintln!("bench: {} ...", fmt::size(size));
            sizes.push(self.size_row(size)?);
        }
        report::print_sizes(a, &floor, loaded_floor.as_ref(), &sizes);
        report::print_cache(&sizes);
        if let Some(lf) = &loaded_floor {
            println!();
            report::print_load(a, &floor, lf, &sizes);
        }
        let mut links: Vec<sweep::Link> = a
            .latency_ms
            .iter()
            .map(|&latency_ms| sweep::Link {
                latency_ms,
                bandwidth: None,
            })
            .collect();
        if let Some(mb) = a.bandwidth {
            links.push(sweep::Link {
                latency_ms: a.bandwidth_latency_ms,
                bandwidth: vodupload_emulator::Faults::bandwidth_from_mb_per_s(mb).ok(),
            });
        }
        let mut sweeps = Vec::new();
        for link in links {
            eprintln!("bench: sweep over {} ...", link.describe());
            let s = self.sweep(link)?;
            println!();
            sweep::print(a, &s);
            sweeps.push(s);
        }
        let resume = match a.resume_parts {
            Some(parts) => {
                eprintln!("bench: resume of {parts} parts ...");
                let r = self.resume_section(parts)?;
                println!();
                r.print();
                Some(r)
            }
            None => None,
        };
        Ok(Results {
            floor,
            loaded_floor,
            sizes,
            sweeps,
            resume,
        })
    }

    /// Fails before any measurement when the emulator would run out of space: a fresh upload
    /// stores the parts and then the whole file; the cache runs upload a second file, whose
    /// parts and assembled copy are on disk at once next to the first file.
    fn check_space(&self) -> Result<(), Failure> {
        let a = self.a;
        let need = a
            .size
            .iter()
            .map(|&s| {
                let copies = if s <= a.cache_runs_up_to { 3 } else { 2 };
                s * copies + if s > a.sparse_above { 0 } else { s }
            })
            .max()
            .unwrap_or(0);
        files::check_space(&self.work, need, "the largest --size")
    }
}

#[cfg(unix)]
fn validate(a: &BenchArgs) -> Result<(), Failure> {
    use vodupload::config::MAX_CONCURRENCY;
    vodupload::plan::validate_part_size(a.part_size)?;
    if a.concurrency == 0 || a.concurrency > MAX_CONCURRENCY {
        return Err(Failure::usage(format!(
            "--concurrency must be 1 to {MAX_CONCURRENCY}"
        )));
    }
    if let Some(mb) = a.bandwidth {
        vodupload_emulator::Faults::bandwidth_from_mb_per_s(mb)
            .map_err(|e| Failure::usage(e.message().to_owned()))?;
    }
    if a.runs == 0 {
        return Err(Failure::usage("--runs must be at least 1".to_owned()));
    }
    if a.load > 1024 {
        return Err(Failure::usage(
            "--load must be at most 1024 threads".to_owned(),
        ));
    }
    if a.resume_parts
        .is_some_and(|n| !(resume::MIN_PARTS..=resume::MAX_PARTS).contains(&n))
    {
        return Err(Failure::usage(format!(
            "--resume-parts must be {} to {}",
            resume::MIN_PARTS,
            resume::MAX_PARTS
        )));
    }
    Ok(())
}
