//! Throughput against concurrency over a long link: the emulator adds `--latency-ms` to every
//! answer, and the same file is sent at each concurrency of `--sweep`, `--runs` times each.
//! Parts in flight should overlap their round trips, so the sending time should fall nearly in
//! proportion to the concurrency.

use super::measured::{Cache, RunReport, UploadRun};
use super::server::Server;
use super::stats::{Spread, secs};
use super::{Bench, BenchArgs, files, fmt};
use crate::Failure;

#[derive(Debug)]
pub(super) struct SweepPoint {
    pub concurrency: usize,
    pub runs: Vec<RunReport>,
}

impl SweepPoint {
    /// InitUpload to the last part answered, over the runs.
    fn sending(&self) -> Option<Spread<f64>> {
        Spread::of_durations(self.runs.iter().filter_map(RunReport::sending))
    }

    fn wall(&self) -> Option<Spread<f64>> {
        Spread::of_durations(self.runs.iter().map(|r| r.wall))
    }
}

impl Bench<'_> {
    pub(super) fn sweep(&self, latency_ms: u64) -> Result<Vec<SweepPoint>, Failure> {
        let a = self.a;
        let size = a.sweep_size;
        let path = self.work.join("sweep.bin");
        files::make(&path, size, size > a.sparse_above)?;
        let mut points = Vec::new();
        for &concurrency in &a.sweep {
            let mut runs = Vec::new();
            for _ in 0..a.runs {
                let server = Server::start(&self.work, "emulator-sweep", a.https, latency_ms)?;
                files::settle(&self.work);
                let run = UploadRun {
                    path: &path,
                    concurrency,
                    part_size: a.part_size,
                    cache: Cache::Off,
                    kill_after: None,
                };
                runs.push(self.upload(&server, &run)?);
            }
            points.push(SweepPoint { concurrency, runs });
        }
        let _ = std::fs::remove_file(&path);
        Ok(points)
    }
}

/// From the smallest to the largest concurrency: the speed-up of the best sending times over
/// the ratio of the concurrencies.
pub(super) fn efficiency(points: &[SweepPoint]) -> Option<(usize, usize, f64)> {
    let (p0, p1) = (points.first()?, points.last()?);
    if p1.concurrency <= p0.concurrency {
        return None;
    }
    let speedup = p0.sending()?.best / p1.sending()?.best;
    let ideal = p1.concurrency as f64 / p0.concurrency as f64;
    Some((p0.concurrency, p1.concurrency, speedup / ideal))
}

pub(super) fn print(a: &BenchArgs, latency_ms: u64, points: &[SweepPoint]) {
    println!(
        "throughput against concurrency: {latency_ms} ms added to every answer, {} parts, a {} file \
         (sending: InitUpload to the last part answered; speed-up and efficiency from the best \
         run{}):",
        fmt::size(a.part_size),
        fmt::size(a.sweep_size),
        if a.runs > 1 {
            format!("; {} runs each", a.runs)
        } else {
            String::new()
        }
    );
    let base = points
        .first()
        .and_then(|p| Some((p.concurrency, p.sending()?.best)));
    let mut table = Vec::new();
    for p in points {
        let sending = p.sending();
        let speedup = base.zip(sending).map(|((_, b), s)| b / s.best);
        let ideal = base.map(|(c0, _)| p.concurrency as f64 / c0 as f64);
        let dur = |s: Option<f64>| fmt::opt_dur(s.map(secs));
        table.push(vec![
            p.concurrency.to_string(),
            dur(sending.map(|s| s.best)),
            dur(sending.map(|s| s.worst)),
            sending.map_or("-".to_owned(), |s| {
                format!("{:.1} MB/s", a.sweep_size as f64 / s.best / 1e6)
            }),
            speedup.map_or("-".to_owned(), |s| format!("{s:.2}")),
            ideal.map_or("-".to_owned(), |i| format!("{i:.0}")),
            speedup
                .zip(ideal)
                .map_or("-".to_owned(), |(s, i)| format!("{:.0}%", 100.0 * s / i)),
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
            "wall",
            "slowest wall",
        ],
        &table,
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn point(concurrency: usize, sending_ms: &[u64]) -> SweepPoint {
        let runs = sending_ms
            .iter()
            .map(|&ms| RunReport {
                init: Some(Duration::from_millis(10)),
                last_part: Some(Duration::from_millis(10 + ms)),
                ..RunReport::default()
            })
            .collect();
        SweepPoint { concurrency, runs }
    }

    #[test]
    fn efficiency_is_from_the_best_runs() {
        let points = [point(1, &[4000, 5000]), point(4, &[1250, 3000])];
        let (c0, c1, e) = efficiency(&points).unwrap();
        assert_eq!((c0, c1), (1, 4));
        assert!((e - 0.8).abs() < 1e-9, "{e}");
        assert_eq!(efficiency(&points[..1]), None);
    }
}
