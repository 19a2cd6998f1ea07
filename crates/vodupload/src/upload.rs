//! One upload in progress: hash + InitUpload ([`Upload::begin`]), the parts still needed, sending
//! them (one at a time or in parallel), FinishUpload.
//!
//! Every method takes `&self` and is safe to call from several threads: the one-call upload runs
//! its parallel parts through the same [`Upload::upload_part`] path the step-by-step API exposes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::aligned::AlignedBuf;
use crate::body::PartBody;
use crate::cache::{FileIdentity, FingerprintCache};
use crate::error::{Error, ErrorKind, Result};
use crate::fingerprint::{self, Fingerprint, md5_hex, read_at};
use crate::options::UploadOptions;
use crate::plan::{Part, PartPlan};
use crate::progress::{CancelToken, Phase, Progress, ProgressFn};
use crate::protocol::{self, InitOutcome};
use crate::stamp::FileStamp;
use crate::transport::{Transport, cancelled};

const NEEDED: u8 = 0;
const STORED: u8 = 1;
const SKIPPED: u8 = 2;
/// Newly computed part MD5s between two saves of the fingerprint cache: a crash loses at most
/// this many, which a resume must then read and hash again before it can skip them.
const CACHE_SAVE_EVERY: usize = 16;

/// What a finished upload reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadResult {
    pub file_id: String,
    /// Where the service serves the file.
    pub url: String,
    /// The service already had the file: nothing was sent.
    pub instant: bool,
    pub file_sha1: String,
    pub file_size: u64,
    pub parts_total: usize,
    /// Parts this run stored.
    pub parts_uploaded: usize,
    /// Parts the server already held when asked (resume), or did not need (instant upload).
    pub parts_skipped: usize,
    /// Part bytes this run sent and the server answered, retries included.
    pub bytes_sent: u64,
    /// Requests sent again after a transient failure.
    pub retries: u64,
    pub elapsed: Duration,
}

/// An upload between InitUpload and FinishUpload.
#[derive(Debug)]
pub struct Upload {
    transport: Arc<Transport>,
    path: PathBuf,
    file: File,
    stamp: FileStamp,
    plan: PartPlan,
    sha1: String,
    /// Part MD5s at `plan.part_size`: from the hashing pass, the cache, or computed by whoever
    /// first reads the part.
    part_md5: Vec<OnceLock<String>>,
    cache: Option<(FingerprintCache, FileIdentity)>,
    /// MD5s computed since the last cache save.
    unsaved_md5s: AtomicUsize,
    init_params: Vec<(String, String)>,
    states: Vec<AtomicU8>,
    instant: Mutex<Option<(String, String)>>,
    bytes_done: AtomicU64,
    bytes_sent: AtomicU64,
    retries: AtomicU64,
    /// Serialises progress callbacks, so reported values only ever grow.
    progress_lock: Mutex<()>,
    cancel: CancelToken,
    started: Instant,
    result: Mutex<Option<UploadResult>>,
}

impl Upload {
    /// Checks the file, hashes it and calls InitUpload. Bad input fails here, before any request.
    pub(crate) fn begin(
        transport: Arc<Transport>,
        path: &Path,
        options: &UploadOptions,
        progress: ProgressFn<'_>,
        cancel: CancelToken,
    ) -> Result<Upload> {
        let started = Instant::now();
        let meta = check_file(path)?;
        let mut init_params = options.init_params(path)?;
        let file = File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                Error::io_kind_message(
                    e.kind(),
                    format!(
                        "cannot upload {}: permission denied; the file must be readable by this process",
                        path.display()
                    ),
                )
            } else {
                Error::io(format_args!("cannot open {}", path.display()), &e)
            }
        })?;
        let meta_now = file
            .metadata()
            .map_err(|e| Error::io(format_args!("cannot stat {}", path.display()), &e))?;
        let stamp = FileStamp::of(&meta_now);
        if stamp.size != meta.len() {
            return Err(changed(path));
        }
        let size = stamp.size;
        let part_size = transport.options().part_size;
        let cache = transport.options().fingerprint_cache.clone().map(|dir| {
            (
                FingerprintCache::new(dir),
                FileIdentity::new(path, stamp.clone()),
            )
        });

        let _ = progress(Progress {
            phase: Phase::Hashing,
            done: 0,
            total: size,
        });
        let cached = cache.as_ref().and_then(|(c, id)| c.load(id, part_size));
        let fp = match cached {
            Some(fp) => {
                log::debug!(
                    "fingerprint of {} from the cache: sha1 {}",
                    path.display(),
                    fp.sha1
                );
                let _ = progress(Progress {
                    phase: Phase::Hashing,
                    done: size,
                    total: size,
                });
                fp
            }
            None => {
                let fp = fingerprint::compute(&file, size, part_size, &mut |done| {
                    !cancel.is_cancelled()
                        && progress(Progress {
                            phase: Phase::Hashing,
                            done,
                            total: size,
                        })
                })?;
                log::debug!(
                    "hashed {} ({size} bytes) in {} ms: sha1 {}",
                    path.display(),
                    started.elapsed().as_millis(),
                    fp.sha1
                );
                if let Some((c, id)) = &cache {
                    c.store(id, &fp);
                }
                fp
            }
        };

        init_params.extend([
            ("fileSha".to_owned(), fp.sha1.clone()),
            ("fileSize".to_owned(), size.to_string()),
        ]);
        let mut params = init_params.clone();
        params.push(("dataSize".to_owned(), part_size.to_string()));
        let retries = AtomicU64::new(0);
        let outcome = init(&transport, &params, &|| cancel.is_cancelled(), &retries)?;

        let mut plan = PartPlan::new(size, part_size)?;
        let mut md5s = fp.part_md5;
        if let InitOutcome::Resume { data_size, .. } = &outcome {
            if *data_size != part_size {
                // The first attempt fixed another part size and the service insists on it. Our
                // MD5s are for other boundaries; parts get hashed again as they are needed.
                log::info!(
                    "resume: the server fixed the part size at {data_size} bytes (ours is {part_size})"
                );
                plan = PartPlan::new(size, *data_size)?;
                md5s = vec![None; plan.count()];
            }
        }
        let plan_count = plan.count();
        let upload = Upload {
            states: (0..plan_count).map(|_| AtomicU8::new(NEEDED)).collect(),
            part_md5: md5s
                .into_iter()
                .map(|m| m.map_or_else(OnceLock::new, OnceLock::from))
                .collect(),
            transport,
            path: path.to_owned(),
            file,
            stamp,
            plan,
            sha1: fp.sha1,
            cache,
            unsaved_md5s: AtomicUsize::new(0),
            init_params,
            instant: Mutex::new(None),
            bytes_done: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            retries,
            progress_lock: Mutex::new(()),
            cancel,
            started,
            result: Mutex::new(None),
        };
        upload.apply_init(outcome)?;
        upload.check_unchanged()?;
        Ok(upload)
    }

    /// Marks parts skipped or needed from what InitUpload said.
    fn apply_init(&self, outcome: InitOutcome) -> Result<()> {
        match outcome {
            InitOutcome::New => {
                log::debug!("InitUpload: new upload of {} parts", self.plan.count());
            }
            InitOutcome::Instant { file_id, url } => {
                log::info!("InitUpload: the service already has this file (instant upload)");
                for s in &self.states {
                    s.store(SKIPPED, Ordering::SeqCst);
                }
                self.bytes_done.store(self.plan.file_size, Ordering::SeqCst);
                *lock(&self.instant) = Some((file_id, url));
            }
            InitOutcome::Resume { parts, .. } => {
                // The server's parts that fit our plan; the others will be sent again.
                let (fitting, misfits): (Vec<_>, Vec<_>) = parts.into_iter().partition(|l| {
                    self.plan
                        .part_at(l.offset)
                        .is_some_and(|p| p.len == l.data_size)
                });
                let indexes: Vec<usize> = fitting
                    .iter()
                    .filter_map(|l| self.plan.part_at(l.offset).map(|p| p.index))
                    .collect();
                self.hash_parts(&indexes)?;
                let (mut kept, mut bad) = (0usize, misfits.len());
                for (listed, &index) in fitting.iter().zip(&indexes) {
                    let ours = self.part_md5[index].get().map(String::as_str);
                    if ours == Some(listed.data_md5.as_str()) {
                        if self.states[index].swap(SKIPPED, Ordering::SeqCst) != SKIPPED {
                            kept += 1;
                            self.bytes_done
                                .fetch_add(listed.data_size, Ordering::SeqCst);
                        }
                    } else {
                        bad += 1;
                        log::warn!(
                            "resume: the server's part at offset {} (md5 {}) does not match the file; it will be sent again",
                            listed.offset,
                            listed.data_md5
                        );
                    }
                }
                for listed in &misfits {
                    log::warn!(
                        "resume: the server's part at offset {} ({} bytes) does not fit the file's parts; it will be sent again",
                        listed.offset,
                        listed.data_size
                    );
                }
                log::info!(
                    "resume: the server holds {kept} of {} parts{}",
                    self.plan.count(),
                    if bad > 0 {
                        format!(", {bad} mismatched will be re-sent")
                    } else {
                        String::new()
                    }
                );
            }
        }
        Ok(())
    }

    /// How many parts the file has.
    pub fn part_count(&self) -> usize {
        self.plan.count()
    }

    /// The part at `index`, if any.
    pub fn part(&self, index: usize) -> Option<Part> {
        self.plan.part(index)
    }

    /// The part size agreed with the server (ours, or the one a resumed upload fixed).
    pub fn part_size(&self) -> u64 {
        self.plan.part_size
    }

    /// False once the part is stored or the server already had it.
    pub fn part_needed(&self, index: usize) -> bool {
        self.states
            .get(index)
            .is_some_and(|s| s.load(Ordering::SeqCst) == NEEDED)
    }

    /// Indexes of the parts still to send, in order.
    pub fn parts_needed(&self) -> Vec<usize> {
        (0..self.states.len())
            .filter(|&i| self.part_needed(i))
            .collect()
    }

    /// Whether InitUpload found the file already on the service.
    pub fn is_instant(&self) -> bool {
        lock(&self.instant).is_some()
    }

    /// Bytes the server holds (stored or skipped); never decreases.
    pub fn bytes_done(&self) -> u64 {
        self.bytes_done
            .load(Ordering::SeqCst)
            .min(self.plan.file_size)
    }

    pub fn bytes_total(&self) -> u64 {
        self.plan.file_size
    }

    pub fn file_sha1(&self) -> &str {
        &self.sha1
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A token that stops this upload from another thread.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// Reads, checks and sends part `index` (with retries). Sending a part that is no longer
    /// needed does nothing and succeeds.
    pub fn upload_part(&self, index: usize) -> Result<()> {
        let mut buf = AlignedBuf::new();
        self.send_part(index, &mut buf, None, &|| self.cancel.is_cancelled())
    }

    /// Sends every needed part, `concurrency` at a time (the client's setting when None). A new part
    /// starts as soon as any finishes. `progress` gets [`Phase::Uploading`] reports.
    pub fn upload_parts(&self, concurrency: Option<usize>, progress: ProgressFn<'_>) -> Result<()> {
        let needed = self.parts_needed();
        self.report(progress, 0);
        if needed.is_empty() {
            return Ok(());
        }
        let workers = concurrency
            .unwrap_or(self.transport.options().concurrency)
            .clamp(1, crate::config::MAX_CONCURRENCY)
            .min(needed.len());
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let stop = || failed.load(Ordering::SeqCst) || self.cancel.is_cancelled();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    // One buffer per worker, reused for every part it must hash before sending;
                    // untouched (no memory) when every MD5 is known.
                    let mut buf = AlignedBuf::new();
                    loop {
                        if stop() {
                            return;
                        }
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(&index) = needed.get(k) else {
                            return;
                        };
                        if let Err(e) = self.send_part(index, &mut buf, Some(progress), &stop) {
                            let mut slot = lock(&first_error);
                            // A worker stopped because another failed reports "cancelled"; keep
                            // the failure that started it.
                            if slot
                                .as_ref()
                                .is_none_or(|f| f.kind() == ErrorKind::Cancelled)
                            {
                                *slot = Some(e);
                            }
                            failed.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                });
            }
        });
        if self.unsaved_md5s.load(Ordering::SeqCst) > 0 {
            // Stopped or done: what was hashed serves the next run.
            self.save_fingerprint();
        }
        match first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            // send_part already turned a failure on a changed file into FileChanged.
            Some(e) => Err(e),
            None if self.cancel.is_cancelled() => Err(cancelled()),
            None => Ok(()),
        }
    }

    fn send_part(
        &self,
        index: usize,
        buf: &mut AlignedBuf,
        progress: Option<ProgressFn<'_>>,
        stop: &dyn Fn() -> bool,
    ) -> Result<()> {
        let part = self.plan.part(index).ok_or_else(|| {
            Error::invalid_input(format!(
                "part index {index} is out of range: the file has {} parts",
                self.plan.count()
            ))
        })?;
        if !self.part_needed(index) {
            return Ok(());
        }
        if stop() {
            return Err(cancelled());
        }
        self.check_unchanged()?;
        // With the MD5 known, the bytes go from the file to the socket; otherwise they are read
        // here to be hashed, and sent from this buffer.
        let (body, md5) = match self.part_md5[index].get() {
            Some(md5) => (
                PartBody::FileRange {
                    file: &self.file,
                    offset: part.offset,
                    len: part.len,
                },
                md5.clone(),
            ),
            None => {
                self.read_part(index, buf)?;
                let md5 = self.md5_from(index, buf.as_slice());
                (PartBody::Bytes(buf.as_slice()), md5)
            }
        };
        let params = [
            ("fileSha".to_owned(), self.sha1.clone()),
            ("offset".to_owned(), part.offset.to_string()),
            ("dataSize".to_owned(), part.len.to_string()),
            ("dataMd5".to_owned(), md5),
        ];
        let what = format!("part {index} (offset {})", part.offset);
        self.transport
            .call(
                "UploadPart",
                &params,
                Some(body),
                stop,
                &what,
                &self.retries,
                &mut |body| {
                    self.bytes_sent.fetch_add(part.len, Ordering::SeqCst);
                    protocol::parse_part(body)
                },
            )
            .map_err(|e| self.explain(e))?;
        if self.states[index]
            .compare_exchange(NEEDED, STORED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.add_done(progress, part.len);
        }
        Ok(())
    }

    /// Computes the MD5s of `indexes` not known yet (a resume without a cache entry must read what
    /// the server lists before it can skip it): groups of eight parts side by side in SIMD lanes,
    /// one group per core at a time.
    fn hash_parts(&self, indexes: &[usize]) -> Result<()> {
        let unknown: Vec<Part> = indexes
            .iter()
            .filter(|&&i| self.part_md5[i].get().is_none())
            .map(|&i| self.plan.part(i).expect("index from the plan"))
            .collect();
        let groups: Vec<&[Part]> = unknown.chunks(md5_lanes::MAX_LANES).collect();
        let next = AtomicUsize::new(0);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        // Hashing is all CPU: more threads than cores would only add buffers.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self
            .transport
            .options()
            .concurrency
            .min(cores)
            .min(groups.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    while let Some(group) = groups.get(next.fetch_add(1, Ordering::SeqCst)) {
                        let hashed = fingerprint::md5_parts(
                            &self.file,
                            group,
                            &|| lock(&failure).is_some(),
                            &mut |index, md5| {
                                self.record_md5(index, || md5);
                            },
                        );
                        if let Err((offset, e)) = hashed {
                            *lock(&failure) = Some(self.read_error(offset, &e));
                            return;
                        }
                    }
                });
            }
        });
        match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Reads part `index` into `buf`.
    fn read_part(&self, index: usize, buf: &mut AlignedBuf) -> Result<()> {
        let part = self.plan.part(index).expect("index from the plan");
        read_at(&self.file, buf.resize(part.len as usize), part.offset)
            .map_err(|e| self.read_error(part.offset, &e))
    }

    /// What a failed read of the file at `offset` means: the file got shorter, or an I/O error.
    fn read_error(&self, offset: u64, e: &std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            changed(&self.path)
        } else {
            Error::io(
                format_args!("cannot read {} at offset {offset}", self.path.display()),
                e,
            )
        }
    }

    /// Counts `len` more bytes the server holds, reporting them when there is a callback.
    fn add_done(&self, progress: Option<ProgressFn<'_>>, len: u64) {
        match progress {
            Some(p) => self.report(p, len),
            None => {
                self.bytes_done.fetch_add(len, Ordering::SeqCst);
            }
        }
    }

    /// The MD5 of part `index`, whose bytes are `data`: the known one, or computed now.
    fn md5_from(&self, index: usize, data: &[u8]) -> String {
        self.record_md5(index, || md5_hex(data))
    }

    /// The MD5 of part `index`: the known one, or `compute()`'s, kept (and saved to the
    /// fingerprint cache every so often, so a crash does not lose them all).
    fn record_md5(&self, index: usize, compute: impl FnOnce() -> String) -> String {
        let mut fresh = false;
        let md5 = self.part_md5[index]
            .get_or_init(|| {
                fresh = true;
                compute()
            })
            .clone();
        if fresh && self.unsaved_md5s.fetch_add(1, Ordering::SeqCst) + 1 >= CACHE_SAVE_EVERY {
            self.save_fingerprint();
        }
        md5
    }

    /// Adds `delta` to the bytes done and reports, under one lock so reports never go backwards.
    /// A false from the callback cancels the upload.
    fn report(&self, progress: ProgressFn<'_>, delta: u64) {
        let _guard = lock(&self.progress_lock);
        let done =
            (self.bytes_done.fetch_add(delta, Ordering::SeqCst) + delta).min(self.plan.file_size);
        let go_on = progress(Progress {
            phase: Phase::Uploading,
            done,
            total: self.plan.file_size,
        });
        if !go_on {
            log::info!("the progress callback asked to stop the upload");
            self.cancel.cancel();
        }
    }

    /// Calls FinishUpload. Should the service say parts are missing, asks InitUpload once more what it
    /// holds, sends the rest and finishes again. Calling it again after success returns the same
    /// result.
    pub fn finish(&self) -> Result<UploadResult> {
        if let Some(r) = lock(&self.result).clone() {
            return Ok(r);
        }
        if self.cancel.is_cancelled() {
            return Err(cancelled());
        }
        let missing = self.parts_needed().len();
        if missing > 0 {
            return Err(Error::invalid_input(format!(
                "{missing} of {} parts are still needed; send them before finishing",
                self.plan.count()
            )));
        }
        self.check_unchanged()?;
        let result = match self.finish_once() {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::Server && !self.is_instant() => {
                log::warn!("FinishUpload failed ({e}); asking InitUpload what the server holds");
                let mut params = self.init_params.clone();
                params.push(("dataSize".to_owned(), self.plan.part_size.to_string()));
                let outcome = init(
                    &self.transport,
                    &params,
                    &|| self.cancel.is_cancelled(),
                    &self.retries,
                )?;
                match &outcome {
                    InitOutcome::Resume { data_size, .. } if *data_size != self.plan.part_size => {
                        return Err(self.explain(e));
                    }
                    _ => {}
                }
                let instant = matches!(outcome, InitOutcome::Instant { .. });
                if !instant {
                    // Forget what we believed stored; the server's list is the truth now.
                    for s in &self.states {
                        let _ =
                            s.compare_exchange(STORED, NEEDED, Ordering::SeqCst, Ordering::SeqCst);
                        let _ =
                            s.compare_exchange(SKIPPED, NEEDED, Ordering::SeqCst, Ordering::SeqCst);
                    }
                }
                self.apply_init(outcome)?;
                let missing = self.parts_needed();
                if missing.is_empty() && !self.is_instant() {
                    return Err(self.explain(e));
                }
                log::info!("re-sending {} parts the server lacks", missing.len());
                self.upload_parts(None, &crate::progress::no_progress)?;
                self.finish_once().map_err(|e| self.explain(e))?
            }
            Err(e) => return Err(self.explain(e)),
        };
        *lock(&self.result) = Some(result.clone());
        self.save_fingerprint();
        Ok(result)
    }

    fn finish_once(&self) -> Result<UploadResult> {
        let params = [("fileSha".to_owned(), self.sha1.clone())];
        let mut answer = None;
        self.transport.call(
            "FinishUpload",
            &params,
            None,
            &|| self.cancel.is_cancelled(),
            "",
            &self.retries,
            &mut |body| {
                answer = Some(protocol::parse_finish(body)?);
                Ok(())
            },
        )?;
        let (file_id, url) = answer.expect("set on success");
        let instant = self.is_instant();
        Ok(UploadResult {
            file_id,
            url,
            instant,
            file_sha1: self.sha1.clone(),
            file_size: self.plan.file_size,
            parts_total: self.plan.count(),
            parts_uploaded: self.count_in(STORED),
            parts_skipped: self.count_in(SKIPPED),
            bytes_sent: self.bytes_sent.load(Ordering::SeqCst),
            retries: self.retries.load(Ordering::SeqCst),
            elapsed: self.started.elapsed(),
        })
    }

    /// A failure while the file no longer matches its hash is reported as the file changing:
    /// that, not the server's complaint, is what the user must fix.
    fn explain(&self, e: Error) -> Error {
        if matches!(e.kind(), ErrorKind::Cancelled | ErrorKind::FileChanged) {
            return e;
        }
        match self.check_unchanged() {
            Err(changed) => changed,
            Ok(()) => e,
        }
    }

    fn count_in(&self, state: u8) -> usize {
        self.states
            .iter()
            .filter(|s| s.load(Ordering::SeqCst) == state)
            .count()
    }

    /// Records every MD5 now known, so a later re-upload or resume need not hash again.
    fn save_fingerprint(&self) {
        if let Some((cache, id)) = &self.cache {
            self.unsaved_md5s.store(0, Ordering::SeqCst);
            cache.store(
                id,
                &Fingerprint {
                    sha1: self.sha1.clone(),
                    file_size: self.plan.file_size,
                    part_size: self.plan.part_size,
                    part_md5: self.part_md5.iter().map(|m| m.get().cloned()).collect(),
                },
            );
        }
    }

    fn check_unchanged(&self) -> Result<()> {
        let now = std::fs::metadata(&self.path)
            .map(|m| FileStamp::of(&m))
            .map_err(|e| Error::io(format_args!("cannot stat {}", self.path.display()), &e))?;
        if now != self.stamp {
            return Err(changed(&self.path));
        }
        Ok(())
    }
}

fn changed(path: &Path) -> Error {
    Error::new(
        ErrorKind::FileChanged,
        format!(
            "{} changed while it was being uploaded (size, modification time or identity); upload it again once it is complete",
            path.display()
        ),
    )
}

fn init(
    transport: &Transport,
    params: &[(String, String)],
    stop: &dyn Fn() -> bool,
    retries: &AtomicU64,
) -> Result<InitOutcome> {
    let mut outcome = None;
    transport.call("InitUpload", params, None, stop, "", retries, &mut |body| {
        outcome = Some(protocol::parse_init(body)?);
        Ok(())
    })?;
    Ok(outcome.expect("set on success"))
}

/// Everything that makes a path unusable, found before any request is sent.
fn check_file(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file",
            std::io::ErrorKind::PermissionDenied => "permission denied",
            _ => "cannot access it",
        };
        Error::io_kind_message(
            e.kind(),
            format!("cannot upload {}: {what} ({e})", path.display()),
        )
    })?;
    if meta.is_dir() {
        return Err(Error::io_kind_message(
            std::io::ErrorKind::IsADirectory,
            format!(
                "cannot upload {}: it is a directory, not a file",
                path.display()
            ),
        ));
    }
    if !meta.is_file() {
        return Err(Error::invalid_input(format!(
            "cannot upload {}: it is not a regular file (a pipe, socket or device); the upload needs a file it can read twice",
            path.display()
        )));
    }
    if meta.len() == 0 {
        return Err(Error::invalid_input(format!(
            "cannot upload {}: the file is empty, and the service refuses empty files",
            path.display()
        )));
    }
    Ok(meta)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
