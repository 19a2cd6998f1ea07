//! Throughput against concurrency over the links a backend really has: the emulator adds
//! `--latency-ms` to every answer (a long link) or, with `--bandwidth`, lets request bodies
//! through no faster than a thin link would. The same file is sent at each concurrency of
//! `--sweep`, "auto" among them, `--runs` times each, with the service's default call rates
//! enforced on both sides (the client paces, the emulator refuses with 4400 beyond them).
//!
//! On a long link parts in flight overlap their round trips, so sending time falls nearly in
//! proportion to the concurrency until the link or the rate cap is full. "auto" should get
//! there by itself: close to the best fixed concurrency's throughput, without more parts in
//! flight than the link needs, within a few round trips.

use std::time::Duration;

use vodupload::Concurrency;

use super::measured::{Cache, RunReport, UploadRun};
use super::server::{Network, Server};
use super::stats::{Spread, secs};
use super::{Bench, BenchArgs, files, fmt};
use crate::Failure;

/// What no concurrency can beat, in bytes a second: the service's UploadPart rate cap (the client
/// paces under it), and the link's bandwidth when it has one.
pub(super) fn ceiling(part_size: u64, link: &Link) -> f64 {
    let cap = f64::from(vodupload::RateLimits::default().upload_part_per_minute) / 60.0
        * part_size as f64;
    link.bandwidth.map_or(cap, |b| cap.min(b as f64))
}

/// The speed-up `c` parts in flight can have over `c0`, whose throughput was `base`: in
/// proportion to the parts in flight (their round trips overlap) up to the ceiling.
fn ideal(c: usize, c0: usize, base: f64, ceiling: f64) -> f64 {
    (c as f64 / c0 as f64).min((ceiling / base).max(1.0))
}

/// One link the sweep runs over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Link {
    pub latency_ms: u64,
    /// Bytes a second, all connections together; None: as fast as this machine goes.
    pub bandwidth: Option<u64>,
}

impl Link {
    pub(super) fn describe(&self) -> String {
        match self.bandwidth {
            None => format!("{} ms added to every answer", self.latency_ms),
            Some(b) => format!(
                "a link of {:.1} MB/s shared by every connection, {} ms added to every answer",
                b as f64 / 1e6,
                self.latency_ms
            ),
        }
    }
}

#[derive(Debug)]
pub(super) struct SweepPoint {
    pub concurrency: Concurrency,
    pub runs: Vec<RunReport>,
    /// Calls the emulator refused as over the service's rate (4400), over the runs.
    pub rate_limited: u64,
}

/// The sweep over one link.
#[derive(Debug)]
pub(super) struct LinkSweep {
    pub link: Link,
    pub points: Vec<SweepPoint>,
}

/// Where "auto" settled in one run, and how soon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plateau {
    /// The limit held for most of the second half of the parts.
    pub parts: u32,
    /// From InitUpload answered to the first part answered with the limit at the plateau.
    pub reached: Duration,
}

impl SweepPoint {
    /// InitUpload answered to the last part answered, over the runs.
    fn sending(&self) -> Option<Spread<f64>> {
        Spread::of_durations(self.runs.iter().filter_map(RunReport::sending))
    }

    fn wall(&self) -> Option<Spread<f64>> {
        Spread::of_durations(self.runs.iter().map(|r| r.wall))
    }

    /// Bytes a second of the best run.
    fn throughput(&self, size: u64) -> Option<f64> {
        Some(size as f64 / self.sending()?.best.max(1e-9))
    }

    fn fixed(&self) -> Option<usize> {
        match self.concurrency {
            Concurrency::Fixed(n) => Some(n),
            Concurrency::Auto => None,
        }
    }

    /// Each run's plateau (with "auto").
    pub(super) fn plateaus(&self) -> Vec<Plateau> {
        self.runs.iter().filter_map(plateau).collect()
    }
}

/// Where the limit settled: its most frequent value over the second half of the parts (a probe
/// or a back-off now and then does not move it), and when it first got there.
pub(super) fn plateau(run: &RunReport) -> Option<Plateau> {
    let init = run.init?;
    let samples = &run.concurrency;
    let second_half = &samples[samples.len() / 2..];
    let mut counts = std::collections::BTreeMap::<u32, usize>::new();
    for &(_, c) in second_half {
        *counts.entry(c).or_default() += 1;
    }
    // The most frequent; of equally frequent values, the larger.
    let (&parts, _) = counts.iter().max_by_key(|&(c, n)| (*n, *c))?;
    let (at, _) = samples.iter().find(|&&(_, c)| c >= parts)?;
    Some(Plateau {
        parts,
        reached: at.saturating_sub(init),
    })
}

impl LinkSweep {
    fn fixed(&self) -> impl Iterator<Item = &SweepPoint> {
        self.points.iter().filter(|p| p.fixed().is_some())
    }

    fn auto(&self) -> Option<&SweepPoint> {
        self.points.iter().find(|p| p.fixed().is_none())
    }

    /// The best fixed concurrency by throughput, and its bytes a second.
    pub(super) fn best_fixed(&self, size: u64) -> Option<(usize, f64)> {
        self.fixed()
            .filter_map(|p| Some((p.fixed()?, p.throughput(size)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Auto's best throughput over the best fixed one's.
    pub(super) fn auto_share(&self, size: u64) -> Option<f64> {
        Some(self.auto()?.throughput(size)? / self.best_fixed(size)?.1)
    }

    /// The smallest fixed concurrency whose best run reached `share` of the link.
    pub(super) fn smallest_filling(&self, size: u64, share: f64) -> Option<usize> {
        let limit = self.link.bandwidth? as f64;
        self.fixed()
            .filter(|p| p.throughput(size).is_some_and(|t| t >= share * limit))
            .filter_map(SweepPoint::fixed)
            .min()
    }

    /// The highest plateau "auto" settled at over the runs.
    pub(super) fn highest_plateau(&self) -> Option<u32> {
        self.auto()?.plateaus().iter().map(|p| p.parts).max()
    }

    pub(super) fn rate_limited(&self) -> u64 {
        self.points.iter().map(|p| p.rate_limited).sum()
    }

    /// From the smallest to the largest fixed concurrency: the speed-up of the best sending
    /// times over the ideal one (the ratio of the concurrencies, up to the ceiling).
    pub(super) fn efficiency(&self, size: u64, part_size: u64) -> Option<(usize, usize, f64)> {
        let mut fixed: Vec<&SweepPoint> = self.fixed().collect();
        fixed.sort_by_key(|p| p.fixed());
        let (p0, p1) = (fixed.first()?, fixed.last()?);
        let (c0, c1) = (p0.fixed()?, p1.fixed()?);
        if c1 <= c0 {
            return None;
        }
        let speedup = p0.sending()?.best / p1.sending()?.best;
        let ideal = ideal(c1, c0, p0.throughput(size)?, ceiling(part_size, &self.link));
        Some((c0, c1, speedup / ideal))
    }
}

impl Bench<'_> {
    pub(super) fn sweep(&self, link: Link) -> Result<LinkSweep, Failure> {
        let a = self.a;
        let size = a.sweep_size;
        let path = self.work.join("sweep.bin");
        files::make(&path, size, size > a.sparse_above)?;
        let net = Network {
            latency_ms: link.latency_ms,
            bandwidth_bytes_per_sec: link.bandwidth.unwrap_or(0),
            caps: true,
        };
        let mut points = Vec::new();
        for &concurrency in &a.sweep {
            let (mut runs, mut rate_limited) = (Vec::new(), 0);
            for _ in 0..a.runs {
                let server = Server::start(&self.work, "emulator-sweep", a.https, net)?;
                files::settle(&self.work);
                let run = UploadRun {
                    path: &path,
                    concurrency,
                    paced: true,
                    part_size: a.part_size,
                    cache: Cache::Off,
                    kill_after: None,
                };
                runs.push(self.upload(&server, &run)?);
                rate_limited += server.rate_limited();
            }
            points.push(SweepPoint {
                concurrency,
                runs,
                rate_limited,
            });
        }
        let _ = std::fs::remove_file(&path);
        Ok(LinkSweep { link, points })
    }
}

pub(super) fn print(a: &BenchArgs, sweep: &LinkSweep) {
    let link = &sweep.link;
    println!(
        "throughput against concurrency: {}, {} parts, a {} file, the service's default call \
         rates on (sending: InitUpload to the last part answered; speed-up and efficiency from \
         the best run; the ideal speed-up is in proportion to the parts in flight, up to {:.0} \
         MB/s{}{}):",
        link.describe(),
        fmt::size(a.part_size),
        fmt::size(a.sweep_size),
        ceiling(a.part_size, link) / 1e6,
        if link.bandwidth.is_some() {
            " (the link)"
        } else {
            " (the service's UploadPart rate)"
        },
        if a.runs > 1 {
            format!("; {} runs each", a.runs)
        } else {
            String::new()
        }
    );
    let ceiling = ceiling(a.part_size, link);
    let base = sweep
        .fixed()
        .min_by_key(|p| p.fixed())
        .and_then(|p| Some((p.fixed()?, p.sending()?.best)));
    let mut table = Vec::new();
    for p in &sweep.points {
        let sending = p.sending();
        let speedup = base.zip(sending).map(|((_, b), s)| b / s.best);
        let ideal = base
            .zip(p.fixed())
            .map(|((c0, b), c)| ideal(c, c0, a.sweep_size as f64 / b, ceiling));
        let dur = |s: Option<f64>| fmt::opt_dur(s.map(secs));
        let plateaus = p.plateaus();
        let (plateau, reached) = if p.fixed().is_some() || plateaus.is_empty() {
            ("-".to_owned(), "-".to_owned())
        } else {
            let parts: Vec<String> = plateaus.iter().map(|p| p.parts.to_string()).collect();
            let slowest = plateaus.iter().map(|p| p.reached).max().unwrap_or_default();
            (parts.join("/"), fmt::dur(slowest))
        };
        table.push(vec![
            match p.concurrency {
                Concurrency::Auto => "auto".to_owned(),
                Concurrency::Fixed(n) => n.to_string(),
            },
            dur(sending.map(|s| s.best)),
            dur(sending.map(|s| s.worst)),
            sending.map_or("-".to_owned(), |s| {
                format!("{:.1} MB/s", a.sweep_size as f64 / s.best / 1e6)
            }),
            speedup.map_or("-".to_owned(), |s| format!("{s:.2}")),
            ideal.map_or("-".to_owned(), |i| format!("{i:.1}")),
            speedup
                .zip(ideal)
                .map_or("-".to_owned(), |(s, i)| format!("{:.0}%", 100.0 * s / i)),
            plateau,
            reached,
            p.rate_limited.to_string(),
            dur(p.wall().map(|w| w.best)),
            dur(p.wall().map(|w| w.worst)),
        ]);
    }
    fmt::print_table(
        &[
            "concurrency",
            "sending",
            "slowest",
            "throughput",
            "speed-up",
            "ideal",
            "efficiency",
            "plateau",
            "to plateau",
            "4400s",
            "wall",
            "slowest wall",
        ],
        &table,
    );
    println!();
    print_auto(a, sweep);
}

/// Auto's share of the best fixed throughput, and behind a thin link what fills it.
fn print_auto(a: &BenchArgs, sweep: &LinkSweep) {
    let size = a.sweep_size;
    if let (Some(share), Some((best, t))) = (sweep.auto_share(size), sweep.best_fixed(size)) {
        println!(
            "auto: {:.0}% of the best fixed concurrency's throughput ({best}: {:.1} MB/s)",
            share * 100.0,
            t / 1e6
        );
    }
    if let Some(limit) = sweep.link.bandwidth {
        println!(
            "the smallest fixed concurrency reaching 95% of the {:.1} MB/s link: {}; auto's \
             highest plateau: {}",
            limit as f64 / 1e6,
            sweep
                .smallest_filling(size, 0.95)
                .map_or("none".to_owned(), |c| c.to_string()),
            sweep
                .highest_plateau()
                .map_or("-".to_owned(), |c| c.to_string()),
        );
    }
}

/// `--sweep`: "auto" or a number of parts in flight.
pub(super) fn parse_concurrency(s: &str) -> Result<Concurrency, String> {
    use vodupload::config::MAX_CONCURRENCY;
    match s.trim() {
        "auto" => Ok(Concurrency::Auto),
        t => match t.parse::<usize>() {
            Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(Concurrency::Fixed(n)),
            _ => Err(format!(
                "{s:?}: give auto or a concurrency of 1 to {MAX_CONCURRENCY}"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn point(concurrency: Concurrency, sending_ms: &[u64]) -> SweepPoint {
        let runs = sending_ms
            .iter()
            .map(|&n| RunReport {
                init: Some(ms(10)),
                last_part: Some(ms(10 + n)),
                ..RunReport::default()
            })
            .collect();
        SweepPoint {
            concurrency,
            runs,
            rate_limited: 0,
        }
    }

    fn sweep(bandwidth: Option<u64>, points: Vec<SweepPoint>) -> LinkSweep {
        LinkSweep {
            link: Link {
                latency_ms: 40,
                bandwidth,
            },
            points,
        }
    }

    #[test]
    fn efficiency_is_from_the_best_runs_of_fixed_concurrencies() {
        let s = sweep(
            None,
            vec![
                point(Concurrency::Auto, &[100]),
                point(Concurrency::Fixed(1), &[4000, 5000]),
                point(Concurrency::Fixed(4), &[1250, 3000]),
            ],
        );
        // 1 MB at 250 KB/s: far below the service's cap, the ideal is 4.
        let (c0, c1, e) = s.efficiency(1_000_000, MIB).unwrap();
        assert_eq!((c0, c1), (1, 4));
        assert!((e - 0.8).abs() < 1e-9, "{e}");
        // 400 MB: 100 MB/s at 1; at 4 the ideal stops at the cap, 166.7 MiB/s (174.8 MB/s).
        let cap = 10_000.0 / 60.0 * MIB as f64;
        let capped = sweep(
            None,
            vec![
                point(Concurrency::Fixed(1), &[4000]),
                point(
                    Concurrency::Fixed(4),
                    &[(400e6 / cap * 1000.0).round() as u64],
                ),
            ],
        );
        let (_, _, e) = capped.efficiency(400_000_000, MIB).unwrap();
        assert!((e - 1.0).abs() < 1e-3, "{e}");
        assert_eq!(
            sweep(None, vec![point(Concurrency::Fixed(2), &[1])]).efficiency(1, MIB),
            None
        );
    }

    #[test]
    fn auto_is_judged_against_the_best_fixed_and_the_link() {
        // 100 MB: 2 s at 1, 1.05 s at 2, 1 s at 4; auto 1.1 s.
        let size = 100_000_000;
        let s = sweep(
            Some(100_000_000),
            vec![
                point(Concurrency::Auto, &[1100]),
                point(Concurrency::Fixed(1), &[2000]),
                point(Concurrency::Fixed(2), &[1050]),
                point(Concurrency::Fixed(4), &[1000]),
            ],
        );
        assert_eq!(s.best_fixed(size).map(|b| b.0), Some(4));
        assert!((s.auto_share(size).unwrap() - 1.0 / 1.1).abs() < 1e-9);
        // 95 MB/s: 2 reaches 95.2; 1 does not.
        assert_eq!(s.smallest_filling(size, 0.95), Some(2));
        assert_eq!(s.smallest_filling(size, 0.999), Some(4));
    }

    #[test]
    fn the_plateau_is_where_the_limit_stays() {
        let run = RunReport {
            init: Some(ms(100)),
            // Slow start 1, 2, 4, 8, down to 6, a probe to 8, back to 6.
            concurrency: [1, 2, 2, 4, 4, 4, 4, 8, 8, 6, 6, 6, 6, 6, 8, 6, 6, 6, 6, 6]
                .iter()
                .enumerate()
                .map(|(i, &c)| (ms(110 + 10 * i as u64), c))
                .collect(),
            ..RunReport::default()
        };
        assert_eq!(
            plateau(&run),
            Some(Plateau {
                parts: 6,
                // First at 6 or more: the eighth part (the 8 of slow start).
                reached: ms(80),
            })
        );
        assert_eq!(plateau(&RunReport::default()), None);
    }

    #[test]
    fn sweep_values() {
        assert_eq!(parse_concurrency("auto"), Ok(Concurrency::Auto));
        assert_eq!(parse_concurrency("16"), Ok(Concurrency::Fixed(16)));
        assert!(parse_concurrency("0").is_err());
        assert!(parse_concurrency("65").is_err());
        assert!(parse_concurrency("fast").is_err());
    }
}
