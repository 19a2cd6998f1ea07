//! One upload in progress: hash + InitUpload ([`Upload::begin`]), the parts still needed, sending
//! them (one at a time or in parallel), FinishUpload.
//!
//! Every method takes `&self` and is safe to call from several threads: the one-call upload runs
//! its parallel parts through the same [`Upload::upload_part`] path the step-by-step API exposes.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use md5_lanes::MAX_LANES;

use crate::body::PartBody;
use crate::cache::{FileIdentity, FingerprintCache};
use crate::concurrency::{Concurrency, Outcome, Window};
use crate::error::{Error, ErrorKind, Result};
use crate::fingerprint::{self, Fingerprint};
use crate::options::UploadOptions;
use crate::part_md5s::PartMd5s;
use crate::plan::{Part, PartPlan};
use crate::progress::{CancelToken, Phase, Progress, ProgressFn};
use crate::protocol::{self, InitOutcome, ListedPart};
use crate::stamp::FileStamp;
use crate::transport::{Request, Transport, cancelled};

const NEEDED: u8 = 0;
const STORED: u8 = 1;
const SKIPPED: u8 = 2;
/// Newly computed part MD5s between two saves of the fingerprint cache, at least: a crash loses
/// at most this many, which a resume must then read and hash again before it can skip them.
const CACHE_SAVE_EVERY: usize = 16;
/// ... and at most this many saves per upload: an entry holds every part's MD5, so saving every
/// 16 of 100,000 parts would rewrite the cache 6,000 times.
const CACHE_SAVES_MAX: usize = 64;
/// Bytes of each part a sender reads per round when it hashes a batch of parts in lanes: its
/// buffer is eight times this, 512 KiB, whatever the part size.
const SENDER_LANE_CHUNK: usize = 64 * 1024;
/// Warnings logged per kind of unusable listed part: a hostile list could hold 100,000.
const LOGGED_PER_KIND: usize = 5;

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
    /// The most parts this upload had in flight at once.
    pub concurrency_peak: usize,
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
    /// needs one first.
    md5s: Arc<PartMd5s>,
    cache: Option<(FingerprintCache, FileIdentity)>,
    /// MD5s computed since the last cache save.
    unsaved_md5s: AtomicUsize,
    init_params: Vec<(String, String)>,
    states: Vec<AtomicU8>,
    instant: Mutex<Option<(String, String)>>,
    bytes_done: AtomicU64,
    bytes_sent: AtomicU64,
    retries: AtomicU64,
    /// Parts this upload has in flight now, the most it had, and how many it may have (the fixed
    /// number, or what the client's window allows).
    in_flight: AtomicUsize,
    in_flight_peak: AtomicUsize,
    chosen: AtomicUsize,
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
        let (file, stamp) = open_unchanged(path, &meta)?;
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
            concurrency: 0,
        });
        let plan = PartPlan::new(size, part_size)?;
        let (sha1, md5s) = fingerprint(&file, path, plan, cache.as_ref(), progress, &cancel)?;

        init_params.extend([
            ("fileSha".to_owned(), sha1.clone()),
            ("fileSize".to_owned(), size.to_string()),
        ]);
        let mut params = init_params.clone();
        params.push(("dataSize".to_owned(), part_size.to_string()));
        let retries = AtomicU64::new(0);
        let outcome = init(
            &transport,
            &params,
            size,
            &|| cancel.is_cancelled(),
            &retries,
        )?;

        let (mut plan, mut md5s) = (plan, md5s);
        if let InitOutcome::Resume { data_size, .. } = &outcome {
            if *data_size != part_size {
                // The first attempt fixed another part size and the service insists on it. Our
                // MD5s are for other boundaries; parts get hashed again as they are needed.
                log::info!(
                    "resume: the server fixed the part size at {data_size} bytes (ours is {part_size})"
                );
                plan = PartPlan::new(size, *data_size)?;
                md5s = Arc::new(PartMd5s::new(plan.count()));
            }
        }
        let plan_count = plan.count();
        let upload = Upload {
            states: (0..plan_count).map(|_| AtomicU8::new(NEEDED)).collect(),
            md5s,
            transport,
            path: path.to_owned(),
            file,
            stamp,
            plan,
            sha1,
            cache,
            unsaved_md5s: AtomicUsize::new(0),
            init_params,
            instant: Mutex::new(None),
            bytes_done: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            retries,
            in_flight: AtomicUsize::new(0),
            in_flight_peak: AtomicUsize::new(0),
            chosen: AtomicUsize::new(0),
            progress_lock: Mutex::new(()),
            cancel,
            started,
            result: Mutex::new(None),
        };
        upload.apply_init(outcome)?;
        upload.check_unchanged()?;
        Ok(upload)
    }

    /// The concurrency of this call: its parts-in-flight cap, the number reported as chosen, and
    /// the client's window when it is "auto".
    fn sending_mode(&self, concurrency: Option<Concurrency>) -> (usize, usize, Option<&Window>) {
        match concurrency.unwrap_or(self.transport.options().concurrency) {
            Concurrency::Fixed(n) => {
                let n = n.clamp(1, crate::config::MAX_CONCURRENCY);
                (n, n, None)
            }
            Concurrency::Auto => {
                let w = self.transport.window();
                (crate::concurrency::MAX_LIMIT, w.limit(), Some(w))
            }
        }
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
            InitOutcome::Resume { parts, .. } => self.apply_resume(parts)?,
        }
        Ok(())
    }

    /// Skips the listed parts that fit the file's parts and whose MD5 matches the file's;
    /// everything else will be sent again.
    fn apply_resume(&self, listed: Vec<ListedPart>) -> Result<()> {
        let listed_count = listed.len();
        let sorted = crate::resume::sort(&self.plan, listed);
        let indexes: Vec<usize> = sorted.fitting.iter().map(|(i, _)| *i).collect();
        self.hash_parts(&indexes)?;
        let (mut kept, mut mismatched) = (0usize, 0usize);
        for (index, server_md5) in &sorted.fitting {
            if self.md5s.get_hex(*index).as_ref() == Some(server_md5) {
                if self.states[*index].swap(SKIPPED, Ordering::SeqCst) != SKIPPED {
                    kept += 1;
                    let len = self.plan.part(*index).map_or(0, |p| p.len);
                    self.bytes_done.fetch_add(len, Ordering::SeqCst);
                }
            } else {
                mismatched += 1;
                if mismatched <= LOGGED_PER_KIND {
                    log::warn!(
                        "resume: the server's part {index} (md5 {server_md5}) does not match the file; it will be sent again"
                    );
                }
            }
        }
        for (n, listed) in sorted.misfits.iter().enumerate().take(LOGGED_PER_KIND) {
            log::warn!(
                "resume: the server lists a part at offset {} of {} bytes, which is not one of the file's parts; ignored{}",
                listed.offset,
                listed.data_size,
                if n + 1 == LOGGED_PER_KIND {
                    " (further ones not logged)"
                } else {
                    ""
                }
            );
        }
        for offset in sorted.duplicated.iter().take(LOGGED_PER_KIND) {
            log::warn!(
                "resume: the server lists offset {offset} more than once; that part will be sent again"
            );
        }
        log::info!(
            "resume: the server holds {kept} of {} parts ({listed_count} listed; {mismatched} with another MD5, {} not the file's parts, {} listed twice: all sent again)",
            self.plan.count(),
            sorted.misfits.len(),
            sorted.duplicated.len()
        );
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
    /// needed does nothing and succeeds. When its MD5 is not known yet, it is computed together
    /// with those of the next few parts still needed, side by side in lanes, so a caller going
    /// through the parts one by one hashes each byte once at the lanes' speed.
    pub fn upload_part(&self, index: usize) -> Result<()> {
        self.send_part(index, None, &|| self.cancel.is_cancelled())
            .map(|_| ())
    }

    /// Sends every needed part, as `concurrency` says, or the client's setting when None (with
    /// [`Concurrency::Auto`], as many as the client's shared window allows, which it adjusts as
    /// parts are answered). A new part starts as soon as any finishes.
    /// `progress` gets [`Phase::Uploading`] reports.
    ///
    /// A sender that meets a part whose MD5 is unknown takes it with up to seven more such parts,
    /// hashes them side by side in lanes at its own (normal) priority, sends the first and leaves
    /// the rest, MD5s known, to whichever sender is free first.
    pub fn upload_parts(
        &self,
        concurrency: Option<Concurrency>,
        progress: ProgressFn<'_>,
    ) -> Result<()> {
        let needed = self.parts_needed();
        let (most, chosen, window) = self.sending_mode(concurrency);
        self.chosen.store(chosen, Ordering::SeqCst);
        self.report(progress, 0);
        if needed.is_empty() {
            return Ok(());
        }
        let workers = most.min(needed.len());
        let next = AtomicUsize::new(0);
        let hashed: Mutex<VecDeque<usize>> = Mutex::new(VecDeque::new());
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let stop = || failed.load(Ordering::SeqCst) || self.cancel.is_cancelled();
        let next_part = || -> Result<Option<usize>> {
            if let Some(index) = lock(&hashed).pop_front() {
                return Ok(Some(index));
            }
            let batch = self.take_batch(&needed, &next);
            let Some((&first, rest)) = batch.split_first() else {
                return Ok(None);
            };
            if !rest.is_empty() {
                self.hash_batch(batch)?;
                lock(&hashed).extend(rest);
            }
            Ok(Some(first))
        };
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        if stop() {
                            return;
                        }
                        // With auto, wait for room in the client's window first.
                        let permit = match window {
                            Some(w) => match w.acquire(&stop) {
                                Some(p) => {
                                    self.chosen.store(w.limit(), Ordering::SeqCst);
                                    Some(p)
                                }
                                None => return,
                            },
                            None => None,
                        };
                        let sent = match next_part() {
                            Ok(None) => {
                                if let Some(p) = permit {
                                    p.done(Outcome::Other);
                                }
                                return;
                            }
                            Ok(Some(index)) => self.send_counted(index, progress, &stop),
                            Err(e) => Err(e),
                        };
                        if let Some(p) = permit {
                            p.done(outcome_of(&sent));
                        }
                        if let Err(e) = sent {
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

    /// [`Upload::send_part`], counting this upload's parts in flight.
    fn send_counted(
        &self,
        index: usize,
        progress: ProgressFn<'_>,
        stop: &dyn Fn() -> bool,
    ) -> Result<Sent> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.in_flight_peak.fetch_max(now, Ordering::SeqCst);
        let sent = self.send_part(index, Some(progress), stop);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        sent
    }

    /// The next parts of `needed` for one sender: one part whose MD5 is known, or a run of up to
    /// eight whose MD5s are not (to hash together).
    fn take_batch<'n>(&self, needed: &'n [usize], next: &AtomicUsize) -> &'n [usize] {
        let mut k = next.load(Ordering::SeqCst);
        loop {
            let Some(&index) = needed.get(k) else {
                return &[];
            };
            let n = if self.md5s.is_known(index) {
                1
            } else {
                needed[k..]
                    .iter()
                    .take(MAX_LANES)
                    .take_while(|&&i| !self.md5s.is_known(i))
                    .count()
            };
            match next.compare_exchange(k, k + n, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return &needed[k..k + n],
                Err(now) => k = now,
            }
        }
    }

    fn send_part(
        &self,
        index: usize,
        progress: Option<ProgressFn<'_>>,
        stop: &dyn Fn() -> bool,
    ) -> Result<Sent> {
        let part = self.plan.part(index).ok_or_else(|| {
            Error::invalid_input(format!(
                "part index {index} is out of range: the file has {} parts",
                self.plan.count()
            ))
        })?;
        if !self.part_needed(index) {
            return Ok(Sent::default());
        }
        if stop() {
            return Err(cancelled());
        }
        self.check_unchanged()?;
        let md5 = match self.md5s.get_hex(index) {
            Some(md5) => md5,
            None => {
                // With the next parts still needed: the caller will want them soon.
                let batch: Vec<usize> = (index..self.plan.count())
                    .filter(|&i| self.part_needed(i))
                    .take_while(|&i| !self.md5s.is_known(i))
                    .take(MAX_LANES)
                    .collect();
                self.hash_batch(&batch)?;
                self.md5s
                    .get_hex(index)
                    .expect("hash_batch publishes every MD5 it computes")
            }
        };
        // The bytes go from the file straight to the socket.
        let body = PartBody {
            file: &self.file,
            offset: part.offset,
            len: part.len,
        };
        let params = [
            ("fileSha".to_owned(), self.sha1.clone()),
            ("offset".to_owned(), part.offset.to_string()),
            ("dataSize".to_owned(), part.len.to_string()),
            ("dataMd5".to_owned(), md5),
        ];
        let what = format!("part {index} (offset {})", part.offset);
        let congested = AtomicU32::new(0);
        let request = Request {
            body: Some(body),
            what: &what,
            congested: Some(&congested),
            ..Request::upload("UploadPart", &params)
        };
        self.transport
            .call(request, stop, &self.retries, &mut |body| {
                self.bytes_sent.fetch_add(part.len, Ordering::SeqCst);
                protocol::parse_part(body)
            })
            .map_err(|e| self.explain(e))?;
        if self.states[index]
            .compare_exchange(NEEDED, STORED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.add_done(progress, part.len);
        }
        Ok(Sent {
            bytes: part.len,
            congested: congested.load(Ordering::SeqCst) > 0,
        })
    }

    /// Computes the MD5s of `batch` (at most eight parts) that are not known yet, side by side in
    /// lanes, on this thread: never waiting for another thread that may be computing them.
    fn hash_batch(&self, batch: &[usize]) -> Result<()> {
        let parts: Vec<Part> = batch
            .iter()
            .filter(|&&i| !self.md5s.is_known(i))
            .filter_map(|&i| {
                self.md5s.claim(i);
                self.plan.part(i)
            })
            .collect();
        fingerprint::md5_parts(
            &self.file,
            &parts,
            SENDER_LANE_CHUNK,
            &|| false,
            &mut |index, md5| self.record_md5(index, md5),
        )
        .map_err(|(offset, e)| self.read_error(offset, &e))
    }

    /// Computes the MD5s of `indexes` not known yet (a resume without a cache entry must read what
    /// the server lists before it can skip it): groups of eight parts side by side in SIMD lanes,
    /// one group per core at a time.
    fn hash_parts(&self, indexes: &[usize]) -> Result<()> {
        let unknown: Vec<usize> = indexes
            .iter()
            .copied()
            .filter(|&i| !self.md5s.is_known(i))
            .collect();
        let groups: Vec<&[usize]> = unknown.chunks(MAX_LANES).collect();
        let next = AtomicUsize::new(0);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        // Hashing is all CPU: more threads than cores would only add buffers.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = cores.min(groups.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    while let Some(group) = groups.get(next.fetch_add(1, Ordering::SeqCst)) {
                        if lock(&failure).is_some() {
                            return;
                        }
                        if let Err(e) = self.hash_batch(group) {
                            *lock(&failure) = Some(e);
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

    /// Publishes the MD5 of part `index`, and saves the fingerprint cache every so often, so a
    /// crash does not lose them all.
    fn record_md5(&self, index: usize, md5: md5_lanes::Digest) {
        let every = CACHE_SAVE_EVERY.max(self.plan.count() / CACHE_SAVES_MAX);
        if self.md5s.set(index, md5)
            && self.unsaved_md5s.fetch_add(1, Ordering::SeqCst) + 1 >= every
        {
            self.save_fingerprint();
        }
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
            concurrency: self.chosen.load(Ordering::SeqCst),
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
                    self.plan.file_size,
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
            Request::upload("FinishUpload", &params),
            &|| self.cancel.is_cancelled(),
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
            concurrency_peak: self.in_flight_peak.load(Ordering::SeqCst),
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
            cache.store(id, &fingerprint_of(&self.sha1, self.plan, &self.md5s));
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

/// What sending one part did, for the concurrency window.
#[derive(Debug, Default, Clone, Copy)]
struct Sent {
    /// Part bytes the server confirmed; 0 when the part needed nothing.
    bytes: u64,
    /// Some attempt timed out, lost its connection or was refused for the rate.
    congested: bool,
}

/// The signal a part's fate gives the concurrency window.
fn outcome_of(sent: &Result<Sent>) -> Outcome {
    match sent {
        Ok(s) if s.congested => Outcome::Congested,
        Ok(s) if s.bytes > 0 => Outcome::Sent { bytes: s.bytes },
        Ok(_) => Outcome::Other,
        Err(e) if crate::transport::is_congestion(e) => Outcome::Congested,
        Err(_) => Outcome::Other,
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

/// What the fingerprint cache keeps of an upload.
fn fingerprint_of(sha1: &str, plan: PartPlan, md5s: &PartMd5s) -> Fingerprint {
    Fingerprint {
        sha1: sha1.to_owned(),
        file_size: plan.file_size,
        part_size: plan.part_size,
        part_md5: md5s.to_hex(),
    }
}

/// InitUpload for a file of `file_size` bytes: its answer may list every stored part.
fn init(
    transport: &Transport,
    params: &[(String, String)],
    file_size: u64,
    stop: &dyn Fn() -> bool,
    retries: &AtomicU64,
) -> Result<InitOutcome> {
    let mut outcome = None;
    let request = Request {
        answer_limit: protocol::init_answer_limit(file_size),
        ..Request::upload("InitUpload", params)
    };
    transport.call(request, stop, retries, &mut |body| {
        outcome = Some(protocol::parse_init(body)?);
        Ok(())
    })?;
    Ok(outcome.expect("set on success"))
}

/// Everything that makes a path unusable, found before any request is sent.
/// Opens the file checked as `meta`, and stamps it; a size that changed in between means the
/// file is being written.
fn open_unchanged(path: &Path, meta: &std::fs::Metadata) -> Result<(File, FileStamp)> {
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
    Ok((file, stamp))
}

/// The file's SHA-1 and part MD5s: from the fingerprint cache, or by reading the file (the MD5s
/// that the idle-priority thread did not finish stay unknown, for the senders), then cached.
fn fingerprint(
    file: &File,
    path: &Path,
    plan: PartPlan,
    cache: Option<&(FingerprintCache, FileIdentity)>,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<(String, Arc<PartMd5s>)> {
    let size = plan.file_size;
    let report = |done| {
        progress(Progress {
            phase: Phase::Hashing,
            done,
            total: size,
            concurrency: 0,
        })
    };
    if let Some(fp) = cache.and_then(|(c, id)| c.load(id, plan.part_size)) {
        log::debug!(
            "fingerprint of {} from the cache: sha1 {}",
            path.display(),
            fp.sha1
        );
        let _ = report(size);
        return Ok((fp.sha1, Arc::new(PartMd5s::from_hex(&fp.part_md5))));
    }
    let started = Instant::now();
    let md5s = Arc::new(PartMd5s::new(plan.count()));
    let sha1 = fingerprint::hash_file(file, plan, &md5s, &mut |done| {
        !cancel.is_cancelled() && report(done)
    })?;
    log::debug!(
        "hashed {} ({size} bytes) in {} ms: sha1 {sha1}, {} of {} part MD5s done meanwhile",
        path.display(),
        started.elapsed().as_millis(),
        md5s.known_count(),
        plan.count()
    );
    if let Some((c, id)) = cache {
        c.store(id, &fingerprint_of(&sha1, plan, &md5s));
    }
    Ok((sha1, md5s))
}

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
