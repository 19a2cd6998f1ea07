//! The uploads of one file size: `--runs` fresh uploads on a quiet machine, as many under
//! `--load`, each with its yardsticks measured just before it, and the fingerprint-cache runs.

use std::path::Path;
use std::time::Duration;

use vodupload::Concurrency;

use super::Bench;
use super::files::{self, Pass};
use super::floor::Floor;
use super::fmt::per_gib;
use super::load::{Busy, LoadProbe, Others};
use super::measured::{Cache, RunReport, UploadRun};
use super::server::{Network, Server};
use super::stats::Spread;
use crate::Failure;

/// One fresh upload with the yardsticks measured just before it, under the same load.
#[derive(Debug)]
pub(super) struct Trial {
    /// Busy threads while it ran.
    pub load: usize,
    /// Reading the file as the core does, without hashing.
    pub read_alone: Pass,
    /// Reading it and SHA-1 on one thread: the least any upload must do before InitUpload.
    pub sha1_alone: Pass,
    /// The core's hashing pass in this process, and how many part MD5s its side thread got done.
    pub core_hashing: Duration,
    pub core_md5s: usize,
    pub upload: RunReport,
    /// CPU time other processes took while SHA-1 alone and the upload ran.
    pub others: Option<Others>,
}

impl Trial {
    /// Time to InitUpload over SHA-1 alone, both of this trial.
    pub(super) fn init_ratio(&self) -> f64 {
        self.upload.to_init().as_secs_f64() / self.sha1_alone.wall.as_secs_f64()
    }
}

/// A re-upload of a file the server has, and a resume after a kill halfway, both with a
/// fingerprint cache filled by earlier runs.
#[derive(Debug)]
pub(super) struct CacheRuns {
    pub reupload: RunReport,
    /// Err: why there is no figure.
    pub resume: Result<RunReport, &'static str>,
}

#[derive(Debug)]
pub(super) struct SizeRow {
    pub size: u64,
    pub sparse: bool,
    pub quiet: Vec<Trial>,
    /// Under `--load`; empty without it.
    pub loaded: Vec<Trial>,
    /// After each quiet run, for sizes up to `--cache-runs-up-to`.
    pub cache: Vec<CacheRuns>,
}

impl SizeRow {
    pub(super) fn cpu_per_gib(&self, trials: &[Trial]) -> Option<Spread<f64>> {
        Spread::of(trials.iter().map(|t| per_gib(t.upload.cpu(), self.size)))
    }

    /// The slowest upload under load over the median quiet one (wall times).
    pub(super) fn load_slowdown(&self) -> Option<f64> {
        let quiet = Spread::of_durations(self.quiet.iter().map(|t| t.upload.wall))?;
        let loaded = Spread::of_durations(self.loaded.iter().map(|t| t.upload.wall))?;
        Some(loaded.worst / quiet.median)
    }

    pub(super) fn reuploads(&self) -> impl Iterator<Item = &RunReport> {
        self.cache.iter().map(|c| &c.reupload)
    }

    /// The cached resumes that could be measured.
    pub(super) fn cached_resumes(&self) -> impl Iterator<Item = &RunReport> {
        self.cache.iter().filter_map(|c| c.resume.as_ref().ok())
    }

    /// Why a cached resume could not be measured, if one could not.
    pub(super) fn resume_gap(&self) -> Option<&'static str> {
        self.cache
            .iter()
            .find_map(|c| c.resume.as_ref().err().copied())
    }

    /// The worst client CPU per GiB under load over the one-stream floor under the same load.
    pub(super) fn loaded_cpu_ratio(&self, loaded_floor: &Floor) -> Option<f64> {
        Some(self.cpu_per_gib(&self.loaded)?.worst / loaded_floor.one_stream())
    }
}

impl Bench<'_> {
    pub(super) fn size_row(&self, size: u64) -> Result<SizeRow, Failure> {
        let a = self.a;
        let sparse = size > a.sparse_above;
        let path = self.work.join(format!("bench-{size}.bin"));
        files::make(&path, size, sparse)?;
        let mut row = SizeRow {
            size,
            sparse,
            quiet: Vec::new(),
            loaded: Vec::new(),
            cache: Vec::new(),
        };
        for _ in 0..a.runs {
            let (trial, server) = self.trial(&path, size, 0)?;
            row.quiet.push(trial);
            if size <= a.cache_runs_up_to {
                row.cache.push(self.cache_runs(&server, &path)?);
            }
        }
        if a.load > 0 {
            for _ in 0..a.runs {
                row.loaded.push(self.trial(&path, size, a.load)?.0);
            }
        }
        let _ = std::fs::remove_file(&path);
        Ok(row)
    }

    /// One fresh upload of the file to a fresh emulator, which it returns for the cache runs.
    fn trial(&self, path: &Path, size: u64, load: usize) -> Result<(Trial, Server), Failure> {
        let a = self.a;
        // Another file for the service each time, though the emulator is new anyway.
        files::touch_prefix(path)?;
        let server = Server::start(&self.work, "emulator", a.https, Network::default())?;
        files::settle(&self.work);
        let busy = (load > 0).then(|| Busy::start(load));
        let read_alone = files::read(path, size, a.part_size, false)?;
        let (core_hashing, core_md5s) = files::core_hashing(path, size, a.part_size)?;
        // Right before the upload, so that both see the same load.
        let probe = LoadProbe::start();
        let sha1_alone = files::read(path, size, a.part_size, true)?;
        let upload = self.upload(
            &server,
            &UploadRun {
                path,
                concurrency: Concurrency::Fixed(a.concurrency),
                paced: false,
                part_size: a.part_size,
                cache: Cache::Off,
                kill_after: None,
            },
        )?;
        let others = probe.and_then(LoadProbe::others);
        drop(busy);
        if upload.instant() {
            return Err(Failure::other(
                "the first upload of a new file was instant: the emulator is not fresh".to_owned(),
            ));
        }
        let trial = Trial {
            load,
            read_alone,
            sha1_alone,
            core_hashing,
            core_md5s,
            upload,
            others,
        };
        Ok((trial, server))
    }

    /// Fills a fresh cache (the server has the file: instant), re-uploads from it, then uploads a
    /// new file, kills it halfway and resumes it from the cache.
    fn cache_runs(&self, server: &Server, path: &Path) -> Result<CacheRuns, Failure> {
        let a = self.a;
        let cache = self.work.join("fingerprints");
        let _ = std::fs::remove_dir_all(&cache);
        files::settle(&self.work);
        let run = |kill_after| UploadRun {
            path,
            concurrency: Concurrency::Fixed(a.concurrency),
            paced: false,
            part_size: a.part_size,
            cache: Cache::Dir(&cache),
            kill_after,
        };
        self.upload(server, &run(None))?;
        let reupload = self.upload(server, &run(None))?;

        // A file neither the server nor the cache has seen.
        files::touch_prefix(path)?;
        let len = std::fs::metadata(path)
            .map_err(|e| Failure::other(format!("cannot stat {}: {e}", path.display())))?
            .len();
        let parts = len.div_ceil(a.part_size) as usize;
        let resume = if parts < 4 {
            Err("too few parts")
        } else if !self.upload(server, &run(Some(parts / 2)))?.killed {
            Err("ended before the kill")
        } else {
            Ok(self.upload(server, &run(None))?)
        };
        Ok(CacheRuns { reupload, resume })
    }
}
