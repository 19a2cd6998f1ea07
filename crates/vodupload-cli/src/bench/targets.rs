//! The targets the figures are judged against, each with its reason. The bench prints whether
//! each is met; it never fails on one.
//!
//! The quiet targets are judged on the best run: they say what the code costs, and a shared
//! machine only ever adds time and CPU. Peak RSS is judged on the largest. The load and resume
//! targets are judged on the worst run: they are about what a user waits for when conditions
//! are bad.

use std::time::Duration;

use super::fmt::{self, yes_no};
use super::stats::{Spread, secs};
use super::{BenchArgs, GIB, MIB, Results, sweep};

/// Time to InitUpload over SHA-1 alone. InitUpload carries the file's SHA-1, so reading and
/// hashing the file must come first; the part MD5s are not needed yet and are computed alongside
/// at idle priority. The first request should therefore wait for little more than SHA-1 itself.
const INIT_RATIO: f64 = 1.15;
/// From this size on: below it, the fixed costs (process start, one InitUpload round trip, a few
/// milliseconds) weigh more than the 15 %, and the ratio is printed without a verdict.
const INIT_MIN_SIZE: u64 = GIB;
/// Client CPU per GiB over the one-stream floor (SHA-1 + MD5 of every byte, each hash done the
/// usual way). Hashing is the work no upload avoids; all the rest (reading, HTTP, TLS,
/// bookkeeping) must fit in 30 % on top, or in what the core saves by hashing MD5s in lanes.
const CPU_RATIO: f64 = 1.3;
/// Peak RSS at most concurrency × part size × 2 plus this: each part in flight holds its bytes
/// and a send buffer; the rest is the process's fixed footprint. Memory must not grow with the
/// file.
const RSS_SLACK: u64 = 32 * MIB;
/// With the fingerprint cached there is nothing to hash: what is left before the first answer is
/// the process start, reading the cache and one round trip.
const CACHED_START: Duration = Duration::from_millis(50);
/// On a long link, parts in flight overlap their round trips: the speed-up from the smallest to
/// the largest concurrency of the sweep must reach this share of the ratio between them.
const SWEEP_EFFICIENCY: f64 = 0.8;
/// "auto" against the best fixed concurrency of the same sweep. It finds the plateau by
/// measuring, so its first rounds run below it and it probes above it now and then; 15 % is what
/// that may cost on a 512 MiB upload, and a fixed number only does better on the one link it was
/// chosen for.
const AUTO_SHARE: f64 = 0.85;
/// Behind a thin link, "auto" must not keep more parts in flight than twice what fills the link
/// (more only queues, holding memory and making timeouts likelier)...
const AUTO_EXCESS: usize = 2;
/// ...where the link counts as full at this share of its rate.
const LINK_FULL: f64 = 0.95;
/// The slowest upload under `--load` over the median quiet one. With as many busy threads as
/// cores, fair sharing leaves the client and the emulator about half the CPU they had each, so a
/// CPU-bound upload should take 2 to 4 times as long. More means it waits for work that gets no
/// CPU at all, such as the idle-priority thread that computes part MD5s on the side.
const LOAD_SLOWDOWN: f64 = 4.0;
/// Client CPU per GiB under load over the one-stream floor measured under the same load (busy
/// neighbours make every instruction dearer, for both). Under load the idle-priority side thread
/// gets little, so the senders compute the MD5s eight parts at a time in lanes, several times
/// cheaper than one stream: the whole client should then cost less than the one-stream floor.
const LOADED_CPU_RATIO: f64 = 0.9;
/// From the fingerprint ready to the first part answered, on a resume of a long upload. The
/// answer lists every stored part (1.3 MB for 16,384): reading it and matching it against cached
/// MD5s must take linear time and no rehashing, so sending starts again at once.
const RESUME_RESTART: Duration = Duration::from_secs(1);

pub(super) fn rss_bound(a: &BenchArgs) -> u64 {
    a.concurrency as u64 * a.part_size * 2 + RSS_SLACK
}

/// " (worst X)" after a best of several quiet runs; nothing after a single one.
fn worst(r: &super::sizes::SizeRow, x: f64, places: usize) -> String {
    if r.quiet.len() > 1 {
        format!(" (worst {x:.places$})")
    } else {
        String::new()
    }
}

fn join(v: Vec<String>) -> String {
    if v.is_empty() {
        "not measured".to_owned()
    } else {
        v.join("; ")
    }
}

pub(super) fn print(a: &BenchArgs, results: &Results) {
    println!(
        "targets (quiet ones judged on the best run, a shared machine only adds to them; peak RSS \
         on the largest; load and resume on the worst):"
    );
    print_quiet(a, results);
    // Judged on the first long link without a bandwidth limit (--latency-ms 50).
    match results
        .sweeps
        .iter()
        .find(|s| s.link.bandwidth.is_none())
        .and_then(|s| s.efficiency(a.sweep_size, a.part_size))
    {
        Some((c0, c1, eff)) => println!(
            "  throughput near-linear in concurrency {c0} -> {c1} (>= {:.0}% of ideal, up to the \
             service's rate: parts in flight overlap their round trips):   {:.0}% {}",
            SWEEP_EFFICIENCY * 100.0,
            eff * 100.0,
            yes_no(eff >= SWEEP_EFFICIENCY)
        ),
        None => {
            println!("  throughput near-linear in concurrency:   not measured (--latency-ms 50)")
        }
    }
    print_auto(a, results);
    print_load(a, results);
    print_resume(results);
}

/// "auto" against the fixed concurrencies of the same sweep.
fn print_auto(a: &BenchArgs, results: &Results) {
    let size = a.sweep_size;
    let shares: Vec<String> = results
        .sweeps
        .iter()
        .filter(|s| s.link.bandwidth.is_none())
        .filter_map(|s| {
            let share = s.auto_share(size)?;
            Some(format!(
                "{} ms: {:.0}% {}",
                s.link.latency_ms,
                share * 100.0,
                yes_no(share >= AUTO_SHARE)
            ))
        })
        .collect();
    println!(
        "  auto >= {:.0}% of the best fixed concurrency's throughput, at every latency (best \
         runs):   {}",
        AUTO_SHARE * 100.0,
        if shares.is_empty() {
            "not measured (--latency-ms 5,40,150)".to_owned()
        } else {
            shares.join("; ")
        }
    );
    let thin: Vec<String> = results
        .sweeps
        .iter()
        .filter_map(|s| {
            let limit = s.link.bandwidth?;
            let mb = limit as f64 / 1e6;
            let plateau = s.highest_plateau();
            Some(match (s.smallest_filling(size, LINK_FULL), plateau) {
                (Some(c), Some(p)) => format!(
                    "{mb:.1} MB/s: plateau {p} against {c} {}",
                    yes_no(p as usize <= AUTO_EXCESS * c)
                ),
                (None, _) => format!(
                    "{mb:.1} MB/s: no fixed concurrency reached {:.0}% of the link (a slower \
                     link, or more in --sweep)",
                    LINK_FULL * 100.0
                ),
                (_, None) => format!("{mb:.1} MB/s: auto not in --sweep"),
            })
        })
        .collect();
    println!(
        "  behind a thin link, auto's highest plateau <= {AUTO_EXCESS} x the smallest fixed \
         concurrency reaching {:.0}% of it:   {}",
        LINK_FULL * 100.0,
        if thin.is_empty() {
            "not measured (--bandwidth 20)".to_owned()
        } else {
            thin.join("; ")
        }
    );
    let refused: u64 = results
        .sweeps
        .iter()
        .map(sweep::LinkSweep::rate_limited)
        .sum();
    if !results.sweeps.is_empty() {
        println!(
            "  no 4400 from the emulator in the sweeps (the client paces under the service's \
             rates):   {refused} {}",
            yes_no(refused == 0)
        );
    }
}

fn print_quiet(a: &BenchArgs, results: &Results) {
    let (rows, floor) = (&results.sizes, &results.floor);
    let init: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let s = Spread::of(r.quiet.iter().map(|t| t.init_ratio()))?;
            Some(format!(
                "{}: {:.3}{} {}",
                fmt::size(r.size),
                s.best,
                worst(r, s.worst, 3),
                if r.size >= INIT_MIN_SIZE {
                    yes_no(s.best <= INIT_RATIO)
                } else {
                    "(a small file: fixed costs weigh)"
                }
            ))
        })
        .collect();
    println!(
        "  time to InitUpload <= {INIT_RATIO} x SHA-1 alone (1 GiB and up; SHA-1 is all that must \
         come first):   {}",
        join(init)
    );
    let cpu: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let s = r.cpu_per_gib(&r.quiet)?;
            let ratio = s.best / floor.one_stream();
            Some(format!(
                "{}: {ratio:.3}{} {} ({:.3} s/GiB beyond the core's own hashing)",
                fmt::size(r.size),
                worst(r, s.worst / floor.one_stream(), 3),
                yes_no(ratio <= CPU_RATIO),
                s.best - floor.core_hashing()
            ))
        })
        .collect();
    println!(
        "  client CPU/GiB <= {CPU_RATIO} x (SHA-1 + MD5, one stream each) [{}]:   {}",
        if a.https { "HTTPS" } else { "HTTP" },
        join(cpu)
    );
    let bound = rss_bound(a);
    let rss: Vec<String> = rows
        .iter()
        .map(|r| {
            let max = r
                .quiet
                .iter()
                .chain(&r.loaded)
                .map(|t| t.upload.max_rss)
                .max()
                .unwrap_or(0);
            format!(
                "{}: {} {}",
                fmt::size(r.size),
                fmt::mib(max),
                yes_no(max <= bound)
            )
        })
        .collect();
    println!(
        "  peak RSS <= {} ({} x {} x 2 + 32 MiB: not growing with the file):   {}",
        fmt::mib(bound),
        a.concurrency,
        fmt::size(a.part_size),
        join(rss)
    );
    println!(
        "  cached re-upload/resume starts in < {} ms (nothing to hash):   {}",
        CACHED_START.as_millis(),
        join(rows.iter().filter_map(cached_line).collect())
    );
}

/// Judged on the best run, and only when every run took its fingerprint from the cache (a
/// one-part file cannot show where it came from: only a "no" fails).
fn cached_line(r: &super::sizes::SizeRow) -> Option<String> {
    let verdict = |runs: Vec<&super::measured::RunReport>,
                   time: fn(&super::measured::RunReport) -> Duration| {
        let s = Spread::of_durations(runs.iter().map(|u| time(u)))?;
        let cached = runs.iter().all(|u| u.from_cache != Some(false));
        Some(format!(
            "{}{} {}",
            fmt::dur(secs(s.best)),
            if runs.len() > 1 {
                format!(" (worst {})", fmt::dur(secs(s.worst)))
            } else {
                String::new()
            },
            yes_no(s.best < CACHED_START.as_secs_f64() && cached)
        ))
    };
    let mut s = format!(
        "{} re-upload {}",
        fmt::size(r.size),
        verdict(r.reuploads().collect(), |u| u.wall)?
    );
    match verdict(r.cached_resumes().collect(), |u| {
        u.first_part.unwrap_or(u.wall)
    }) {
        Some(v) => s += &format!(", resume {v}"),
        None => {
            s += &format!(
                ", resume not measured ({})",
                r.resume_gap().unwrap_or("no run")
            )
        }
    }
    Some(s)
}

fn print_load(a: &BenchArgs, results: &Results) {
    let Some(lf) = &results.loaded_floor else {
        println!(
            "  slowest upload under load <= {LOAD_SLOWDOWN} x the quiet median:   not measured (--load 2)"
        );
        println!(
            "  client CPU/GiB under load <= {LOADED_CPU_RATIO} x the floor under that load:   not measured (--load 2)"
        );
        return;
    };
    let slow: Vec<String> = results
        .sizes
        .iter()
        .filter_map(|r| {
            let x = r.load_slowdown()?;
            Some(format!(
                "{}: {x:.2} {}",
                fmt::size(r.size),
                yes_no(x <= LOAD_SLOWDOWN)
            ))
        })
        .collect();
    println!(
        "  slowest upload under load ({} busy threads) <= {LOAD_SLOWDOWN} x the quiet median wall \
         (a fair share of the CPU, no stall):   {}",
        a.load,
        join(slow)
    );
    let cpu: Vec<String> = results
        .sizes
        .iter()
        .filter_map(|r| {
            let x = r.loaded_cpu_ratio(lf)?;
            Some(format!(
                "{}: {x:.3} {}",
                fmt::size(r.size),
                yes_no(x <= LOADED_CPU_RATIO)
            ))
        })
        .collect();
    println!(
        "  client CPU/GiB under load <= {LOADED_CPU_RATIO} x (SHA-1 + MD5, one stream each, under \
         the same load) (MD5s in lanes, none done twice):   {}",
        join(cpu)
    );
}

fn print_resume(results: &Results) {
    let what = format!(
        "  resume of a long part list: fingerprint ready to first part answered < {} ms (reading \
         and matching the list in linear time)",
        RESUME_RESTART.as_millis()
    );
    let Some(section) = &results.resume else {
        println!("{what}:   not measured (--resume-parts 16384)");
        return;
    };
    let (hits, n) = section.cache_hits();
    match section.restart() {
        Some(s) => println!(
            "{what}:   {} parts: {} {}{}",
            section.parts,
            fmt::dur(secs(s.worst)),
            yes_no(s.worst < RESUME_RESTART.as_secs_f64() && hits == n),
            if hits == n {
                String::new()
            } else {
                format!(" (fingerprint from the cache in {hits} of {n} resumes)")
            }
        ),
        None => println!(
            "{what}:   {} parts: not measured ({})",
            section.parts,
            section
                .resumes
                .as_ref()
                .err()
                .copied()
                .unwrap_or("no part answered")
        ),
    }
}
