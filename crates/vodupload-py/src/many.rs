//! `Client.upload_many`: several files through one core client, a bounded number at once, each
//! file's outcome kept apart, progress summed over all the files.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use vodupload::{CancelToken, Phase, Progress, ProgressFn, UploadOptions, UploadResult};

/// Per-file byte counts, summed into one report; a lock keeps the sums in step with the order in
/// which they are reported, so each phase's `done` never decreases.
struct Totals {
    /// (done, total) per file, for hashing and for uploading.
    hashing: Vec<(u64, u64)>,
    uploading: Vec<(u64, u64)>,
}

impl Totals {
    fn report(&mut self, file: usize, p: Progress) -> Progress {
        let slots = match p.phase {
            Phase::Hashing => &mut self.hashing,
            Phase::Uploading => &mut self.uploading,
        };
        slots[file] = (p.done, p.total);
        let (done, total) = slots
            .iter()
            .fold((0, 0), |(d, t), &(fd, ft)| (d + fd, t + ft));
        Progress {
            phase: p.phase,
            done,
            total,
            concurrency: p.concurrency,
        }
    }
}

/// Uploads `paths` with `client`, `jobs` at a time in path order; one result per path, in order.
/// A file's failure does not stop the others; `cancel` (or `progress` returning false) stops
/// them all. Totals start at the sizes the files have now, each replaced by what its upload
/// reports.
pub fn upload_many(
    client: &vodupload::Client,
    paths: &[PathBuf],
    options: &UploadOptions,
    jobs: usize,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Vec<vodupload::Result<UploadResult>> {
    let sizes: Vec<(u64, u64)> = paths
        .iter()
        .map(|p| (0, std::fs::metadata(p).map_or(0, |m| m.len())))
        .collect();
    let totals = Mutex::new(Totals {
        hashing: sizes.clone(),
        uploading: sizes,
    });
    let results: Vec<Mutex<Option<vodupload::Result<UploadResult>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, paths.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = paths.get(i) else { break };
                    let file_progress = |p: Progress| -> bool {
                        let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                        let sum = t.report(i, p);
                        progress(sum)
                    };
                    let r = client.upload(path, options, &file_progress, cancel);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every file was uploaded or failed")
        })
        .collect()
}
