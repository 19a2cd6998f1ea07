//! The tables of the size runs (quiet, under load, the cache runs), the header, and the
//! breakdown of every run.

use std::path::Path;

use super::floor::Floor;
use super::fmt::{self, gbps, per_gib};
use super::load::{cpu_model, load_average};
use super::measured::RunReport;
use super::resume::ResumeSection;
use super::sizes::{CacheRuns, SizeRow, Trial};
use super::stats::{Spread, secs};
use super::{BenchArgs, Results, targets};

/// Row labels for figures over `n` runs: one row for one run; else the best, median and worst,
/// each column on its own (the worst time, CPU and RSS need not come from the same run).
pub(super) fn stat_labels(n: usize) -> Vec<String> {
    if n <= 1 {
        vec!["1 run".to_owned()]
    } else {
        vec![
            format!("best of {n}"),
            "median".to_owned(),
            "worst".to_owned(),
        ]
    }
}

pub(super) fn print_header(a: &BenchArgs, work: &Path) {
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
        fmt::size(a.part_size),
        work.display()
    );
    if a.load > 0 {
        println!(
            "load: each size also runs with {} threads spinning at normal priority in the bench",
            a.load
        );
    }
}

fn file_label(r: &SizeRow) -> String {
    format!(
        "{}{}",
        fmt::size(r.size),
        if r.sparse { " sparse" } else { "" }
    )
}

/// One column's cells, a figure per row label.
fn column(n: usize, spread: Option<Spread<f64>>, show: impl Fn(f64) -> String) -> Vec<String> {
    (0..stat_labels(n).len())
        .map(|k| spread.map_or("-".to_owned(), |s| show(s.all()[k])))
        .collect()
}

/// The rows of one size under one load, against the floor measured under that load.
fn size_rows(a: &BenchArgs, r: &SizeRow, trials: &[Trial], floor: &Floor) -> Vec<Vec<String>> {
    let n = trials.len();
    let dur = |s: f64| fmt::dur(secs(s));
    let over = |f: &dyn Fn(&Trial) -> f64| Spread::of(trials.iter().map(f));
    let cpu = r.cpu_per_gib(trials);
    let sending = Spread::of_durations(trials.iter().filter_map(|t| t.upload.sending()));
    let mut columns = vec![
        stat_labels(n),
        column(n, over(&|t| t.sha1_alone.wall.as_secs_f64()), dur),
        column(n, over(&|t| t.upload.to_init().as_secs_f64()), dur),
        column(n, over(&|t| t.init_ratio()), |x| format!("{x:.2}")),
        column(n, over(&|t| t.upload.wall.as_secs_f64()), dur),
        column(n, sending, |s| format!("{:.2} GB/s", gbps(r.size, secs(s)))),
        column(n, cpu, |c| format!("{c:.3}")),
        column(n, cpu, |c| format!("{:.2}", c / floor.one_stream())),
        column(n, cpu, |c| format!("{:.3} s/GiB", c - floor.core_hashing())),
        column(n, over(&|t| t.upload.max_rss as f64), |b| {
            fmt::mib(b as u64)
        }),
    ];
    if a.load > 0 {
        let label = match trials.first().map_or(0, |t| t.load) {
            0 => "quiet".to_owned(),
            l => format!("{l} busy"),
        };
        columns.insert(0, vec![label; columns[0].len()]);
    }
    columns.insert(0, vec![file_label(r); columns[0].len()]);
    // Transposed: a row per label.
    (0..columns[0].len())
        .map(|k| columns.iter().map(|c| c[k].clone()).collect())
        .collect()
}

pub(super) fn print_sizes(
    a: &BenchArgs,
    floor: &Floor,
    loaded_floor: Option<&Floor>,
    rows: &[SizeRow],
) {
    println!(
        "uploads (to InitUpload: start to InitUpload answered, over SHA-1 alone; sending: file size \
         over InitUpload to the last part answered; CPU: the client process's user + system per \
         GiB, over the floor measured under the same load; beyond hashing: that CPU less SHA-1 + \
         MD5 as the core hashes; peak RSS bound {}{}):",
        fmt::mib(targets::rss_bound(a)),
        if a.runs > 1 {
            "; best, median and worst of each column on its own"
        } else {
            ""
        }
    );
    let mut header = vec!["file"];
    if a.load > 0 {
        header.push("load");
    }
    header.extend([
        "runs",
        "SHA-1 alone",
        "to InitUpload",
        "ratio",
        "upload wall",
        "sending",
        "CPU s/GiB",
        "ratio",
        "beyond hashing",
        "peak RSS",
    ]);
    let mut table = Vec::new();
    for r in rows {
        table.extend(size_rows(a, r, &r.quiet, floor));
        if let Some(lf) = loaded_floor {
            table.extend(size_rows(a, r, &r.loaded, lf));
        }
    }
    fmt::print_table(&header, &table);
}

pub(super) fn print_cache(rows: &[SizeRow]) {
    if rows.iter().all(|r| r.cache.is_empty()) {
        return;
    }
    println!();
    println!(
        "fingerprint cache, after each quiet run (re-upload: a file the server has, the whole \
         run; resume: a new file killed halfway, then started again: start to the first part \
         answered, or to FinishUpload answered when no part was left):"
    );
    let mut table = Vec::new();
    for r in rows.iter().filter(|r| !r.cache.is_empty()) {
        let reuploads: Vec<&RunReport> = r.reuploads().collect();
        let resumes: Vec<&RunReport> = r.cached_resumes().collect();
        let n = reuploads.len();
        let mut reupload = column(
            n,
            Spread::of_durations(reuploads.iter().map(|u| u.wall)),
            |s| fmt::dur(secs(s)),
        );
        let not_instant = reuploads.iter().filter(|u| !u.instant()).count();
        if not_instant > 0 {
            reupload[0] += &format!(" (not instant in {not_instant} of {n}!)");
        }
        let mut resume = column(
            n,
            Spread::of_durations(resumes.iter().map(|u| u.to_first_part())),
            |s| fmt::dur(secs(s)),
        );
        if let Some(why) = r.resume_gap() {
            let missing = n - resumes.len();
            resume[0] = if resumes.is_empty() {
                format!("- ({why})")
            } else {
                format!("{} ({missing} of {n}: {why})", resume[0])
            };
        }
        for (k, label) in stat_labels(n).into_iter().enumerate() {
            let mut row = vec![file_label(r), label, reupload[k].clone()];
            if k == 0 {
                row.push(cache_hits(&reuploads));
                row.push(resume[k].clone());
                row.push(if resumes.is_empty() {
                    "-".to_owned()
                } else {
                    cache_hits(&resumes)
                });
            } else {
                row.extend([String::new(), resume[k].clone()]);
            }
            table.push(row);
        }
    }
    fmt::print_table(
        &[
            "file",
            "runs",
            "cached re-upload",
            "from cache",
            "cached resume",
            "from cache",
        ],
        &table,
    );
}

/// "3 of 3" runs took their fingerprint from the cache; a file of one part cannot tell.
pub(super) fn cache_hits(runs: &[&RunReport]) -> String {
    if runs.iter().any(|r| r.from_cache.is_none()) {
        return "cannot tell (1 part)".to_owned();
    }
    let hits = runs.iter().filter(|r| r.from_cache == Some(true)).count();
    format!("{hits} of {}", runs.len())
}

/// Quiet against loaded, with the two load targets' figures.
pub(super) fn print_load(a: &BenchArgs, floor: &Floor, loaded_floor: &Floor, rows: &[SizeRow]) {
    println!(
        "under load: {} busy threads against quiet (wall: start to exit; CPU: per GiB, over the \
         floor measured under the same load, which was {:.3} s/GiB quiet and {:.3} s/GiB loaded):",
        a.load,
        floor.one_stream(),
        loaded_floor.one_stream()
    );
    let mut table = Vec::new();
    for r in rows {
        let quiet = Spread::of_durations(r.quiet.iter().map(|t| t.upload.wall));
        let loaded = Spread::of_durations(r.loaded.iter().map(|t| t.upload.wall));
        let cpu = r.cpu_per_gib(&r.loaded);
        let dur = |s: Option<f64>| fmt::opt_dur(s.map(secs));
        let num =
            |x: Option<f64>, places: usize| x.map_or("-".to_owned(), |x| format!("{x:.places$}"));
        table.push(vec![
            file_label(r),
            dur(quiet.map(|s| s.median)),
            dur(loaded.map(|s| s.best)),
            dur(loaded.map(|s| s.median)),
            dur(loaded.map(|s| s.worst)),
            num(r.load_slowdown(), 2),
            num(cpu.map(|c| c.best), 3),
            num(cpu.map(|c| c.median), 3),
            num(cpu.map(|c| c.worst), 3),
            num(r.loaded_cpu_ratio(loaded_floor), 2),
        ]);
    }
    fmt::print_table(
        &[
            "file",
            "quiet median wall",
            "loaded best",
            "loaded median",
            "loaded slowest",
            "slowest/quiet median",
            "loaded CPU s/GiB best",
            "median",
            "worst",
            "worst/loaded floor",
        ],
        &table,
    );
}

/// Every run of every size, with the times of its events.
pub(super) fn print_breakdown(a: &BenchArgs, results: &Results) {
    println!("breakdown (client child process; times since the intermediary started it):");
    for r in &results.sizes {
        for (label, trials) in [("quiet", &r.quiet), ("under load", &r.loaded)] {
            for (k, t) in trials.iter().enumerate() {
                println!(
                    "  {} {label} run {}: {}",
                    fmt::size(r.size),
                    k + 1,
                    trial_line(a, r.size, t)
                );
            }
        }
        for (k, c) in r.cache.iter().enumerate() {
            print_cache_runs(k + 1, c);
        }
    }
    if let Some(section) = &results.resume {
        print_resume_runs(section);
    }
}

/// The cache runs made after quiet run `run`.
fn print_cache_runs(run: usize, c: &CacheRuns) {
    let u = &c.reupload;
    println!(
        "    cached re-upload after quiet run {}: fingerprint ready at {} (from the cache: \
         {}), InitUpload answered at {}, {}, exit at {}",
        run,
        fmt::opt_dur(u.hashed),
        from_cache_word(u.from_cache),
        fmt::opt_dur(u.init),
        if u.instant() {
            "instant"
        } else {
            "not instant"
        },
        fmt::dur(u.wall)
    );
    if let Ok(res) = &c.resume {
        println!(
            "    cached resume after quiet run {} (killed halfway): fingerprint ready at {} \
             (from the cache: {}), InitUpload answered at {} ({} held), first part at {}, \
             {} parts sent, {} already on the server, exit at {}",
            run,
            fmt::opt_dur(res.hashed),
            from_cache_word(res.from_cache),
            fmt::opt_dur(res.init),
            fmt::size(res.held_at_init),
            fmt::opt_dur(res.first_part),
            res.json_u64("parts_uploaded").unwrap_or(0),
            res.json_u64("parts_skipped").unwrap_or(0),
            fmt::dur(res.wall)
        );
    }
}

fn print_resume_runs(section: &ResumeSection) {
    let f = &section.first;
    println!(
        "  resume of {} parts, the first upload: fingerprint ready at {}, InitUpload answered \
         at {}, {} parts answered by {}, {} at {}; peak RSS {}",
        section.parts,
        fmt::opt_dur(f.hashed),
        fmt::opt_dur(f.init),
        f.parts,
        fmt::opt_dur(f.last_part),
        if f.killed { "killed" } else { "finished" },
        fmt::dur(f.wall),
        fmt::mib(f.max_rss)
    );
    for (k, r) in section.resumes.iter().flatten().enumerate() {
        println!(
            "  resume of {} parts, run {}: fingerprint ready at {} (from the cache: {}), \
             InitUpload answered at {} ({} parts held), first part at {}, {} at {}; peak RSS \
             {}",
            section.parts,
            k + 1,
            fmt::opt_dur(r.hashed),
            from_cache_word(r.from_cache),
            fmt::opt_dur(r.init),
            r.held_at_init / super::resume::PART,
            fmt::opt_dur(r.first_part),
            if r.killed { "killed" } else { "finished" },
            fmt::dur(r.wall),
            fmt::mib(r.max_rss)
        );
    }
}

fn from_cache_word(f: Option<bool>) -> &'static str {
    match f {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "cannot tell",
    }
}

fn trial_line(a: &BenchArgs, size: u64, t: &Trial) -> String {
    let u = &t.upload;
    format!(
        "read alone {} ({:.2} GB/s); SHA-1 alone {} ({:.2} GB/s, {:.3} CPU s/GiB); the core's \
         hashing pass in the bench {} (MD5s of {} of {} parts done on the side); the upload: \
         fingerprint ready at {}, InitUpload answered at {}, parts answered {} .. {} ({}), \
         FinishUpload answered at {}, exit at {}; CPU user {:.3} s + system {:.3} s = {:.3} \
         s/GiB; peak RSS {}; other processes meanwhile: {}",
        fmt::dur(t.read_alone.wall),
        gbps(size, t.read_alone.wall),
        fmt::dur(t.sha1_alone.wall),
        gbps(size, t.sha1_alone.wall),
        per_gib(t.sha1_alone.cpu, size),
        fmt::dur(t.core_hashing),
        t.core_md5s,
        size.div_ceil(a.part_size),
        fmt::opt_dur(u.hashed),
        fmt::opt_dur(u.init),
        fmt::opt_dur(u.first_part),
        fmt::opt_dur(u.last_part),
        u.parts,
        fmt::opt_dur(u.finish),
        fmt::dur(u.wall),
        u.user.as_secs_f64(),
        u.sys.as_secs_f64(),
        per_gib(u.cpu(), size),
        fmt::mib(u.max_rss),
        t.others.map_or("unknown".to_owned(), |o| format!(
            "{:.2} CPU-s in {:.2} s",
            o.cpu.as_secs_f64(),
            o.wall.as_secs_f64()
        )),
    )
}
