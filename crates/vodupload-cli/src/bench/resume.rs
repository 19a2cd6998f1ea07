//! A resume with a long part list: a sparse file of `--resume-parts` 512 KiB parts is uploaded
//! with the fingerprint cache and killed once most parts are stored; then it is resumed
//! `--runs` times, each resume stopped (killed) once its first part is answered. InitUpload's
//! answer to a resume lists every stored part (about 80 bytes each: 1.3 MB for 16,384 parts), and
//! the client must read it and match it against the file's part MD5s before it sends anything.
//!
//! The figure that matters is how soon sending starts again: from the fingerprint being ready
//! (read from the cache) to the first part answered, which takes in the InitUpload round trip,
//! reading and matching its list, and one part. It is split at the moment the core reports
//! InitUpload's answer applied. The resumed uploads are stopped rather than finished: the rest
//! would only measure sending, which the size table covers, and the emulator's assembly of the
//! file would double the disk it needs.

use std::time::Duration;

use vodupload::Concurrency;

use super::files;
use super::measured::{Cache, RunReport, UploadRun};
use super::server::{Network, Server};
use super::stats::{Spread, secs};
use super::{Bench, KIB, fmt};
use crate::Failure;

/// The service's smaller part size: the longest part list for a given file.
pub(super) const PART: u64 = 512 * KIB;
/// Enough that "most parts" leaves [`MIN_LEFT`] to send when the kill lands.
pub(super) const MIN_PARTS: usize = 64;
pub(super) const MAX_PARTS: usize = 1 << 20;
/// Parts left unanswered at the kill, at least: the kill takes a few hops (bench, intermediary),
/// and the upload must still be running when it lands.
const MIN_LEFT: usize = 32;

#[derive(Debug)]
pub(super) struct ResumeSection {
    pub parts: usize,
    /// The upload that stored most parts before it was killed.
    pub first: RunReport,
    /// Err: why there is no figure.
    pub resumes: Result<Vec<RunReport>, &'static str>,
}

impl Bench<'_> {
    pub(super) fn resume_section(&self, parts: usize) -> Result<ResumeSection, Failure> {
        let a = self.a;
        let size = parts as u64 * PART;
        files::check_space(&self.work, size + size / 4, "--resume-parts")?;
        let path = self.work.join("resume.bin");
        files::make(&path, size, true)?;
        let cache = self.work.join("fingerprints-resume");
        let _ = std::fs::remove_dir_all(&cache);
        let server = Server::start(&self.work, "emulator-resume", a.https, Network::default())?;
        files::settle(&self.work);
        let run = |kill_after| UploadRun {
            path: &path,
            concurrency: Concurrency::Fixed(a.concurrency),
            paced: false,
            part_size: PART,
            cache: Cache::Dir(&cache),
            kill_after: Some(kill_after),
        };
        let killed_after = parts - (parts / 16).max(MIN_LEFT);
        let first = self.upload(&server, &run(killed_after))?;
        let mut section = ResumeSection {
            parts,
            first,
            resumes: Err("the first upload ended before the kill"),
        };
        if section.first.killed {
            let mut resumes = Vec::new();
            for _ in 0..a.runs {
                // The emulator has just written most of the file: written back now, not during
                // the resume.
                files::settle(&self.work);
                let r = self.upload(&server, &run(1))?;
                let finished = !r.killed;
                resumes.push(r);
                if finished {
                    // Nothing is left to resume.
                    break;
                }
            }
            section.resumes = Ok(resumes);
        }
        drop(server);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir_all(&cache);
        Ok(section)
    }
}

/// The spans of one resume, each None when an end is missing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Spans {
    /// Start to the fingerprint ready (from the cache).
    pub to_fingerprint: Option<Duration>,
    /// Fingerprint to InitUpload's answer applied: the round trip, reading and matching the list.
    pub init: Option<Duration>,
    /// InitUpload's answer applied to the first part answered.
    pub to_first_part: Option<Duration>,
    /// Fingerprint to the first part answered: the target's figure.
    pub restart: Option<Duration>,
}

impl Spans {
    pub(super) fn of(r: &RunReport) -> Spans {
        let span = |from: Option<Duration>, to: Option<Duration>| Some(to?.saturating_sub(from?));
        Spans {
            to_fingerprint: r.hashed,
            init: span(r.hashed, r.init),
            to_first_part: span(r.init, r.first_part),
            restart: span(r.hashed, r.first_part),
        }
    }
}

impl ResumeSection {
    /// The restart figure over the resumes.
    pub(super) fn restart(&self) -> Option<Spread<f64>> {
        let resumes = self.resumes.as_ref().ok()?;
        Spread::of_durations(resumes.iter().filter_map(|r| Spans::of(r).restart))
    }

    /// How many resumes took their fingerprint from the cache.
    pub(super) fn cache_hits(&self) -> (usize, usize) {
        let resumes = self.resumes.as_deref().unwrap_or_default();
        let hits = resumes
            .iter()
            .filter(|r| r.from_cache == Some(true))
            .count();
        (hits, resumes.len())
    }

    pub(super) fn print(&self) {
        println!(
            "resume with a long part list: {} parts of {} ({} sparse), fingerprint cache on; the \
             first upload killed after {} parts answered; each resume stopped at its first part \
             (fingerprint: ready, from the cache; InitUpload: its answer read and matched against \
             the file):",
            self.parts,
            fmt::size(PART),
            fmt::size(self.parts as u64 * PART),
            self.first.parts
        );
        let resumes = match &self.resumes {
            Ok(r) => r,
            Err(why) => {
                println!("  not measured: {why}");
                return;
            }
        };
        let spans: Vec<Spans> = resumes.iter().map(Spans::of).collect();
        let spread =
            |f: fn(&Spans) -> Option<Duration>| Spread::of_durations(spans.iter().filter_map(f));
        let columns = [
            spread(|s| s.to_fingerprint),
            spread(|s| s.init),
            spread(|s| s.to_first_part),
            spread(|s| s.restart),
        ];
        // Each resume stores a part or a few more: the counts differ a little.
        let held: Vec<u64> = resumes.iter().map(|r| r.held_at_init / PART).collect();
        let (lo, hi) = (held.iter().min(), held.iter().max());
        let held = match (lo, hi) {
            (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
            (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
            _ => "-".to_owned(),
        };
        let (hits, n) = self.cache_hits();
        let mut table = Vec::new();
        for (k, label) in super::report::stat_labels(resumes.len()).iter().enumerate() {
            let mut row = vec![label.clone()];
            row.extend(
                columns
                    .iter()
                    .map(|c| fmt::opt_dur(c.map(|s| secs(s.all()[k])))),
            );
            if k == 0 {
                row.extend([held.clone(), format!("{hits} of {n}")]);
            }
            table.push(row);
        }
        fmt::print_table(
            &[
                "runs",
                "start to fingerprint",
                "fingerprint to InitUpload",
                "InitUpload to first part",
                "fingerprint to first part",
                "parts held",
                "from cache",
            ],
            &table,
        );
    }
}
