//! UploadPart: everything about the part is checked from the head (session, offset, size,
//! Content-Length) before its body is read; the body then goes to a work file through the
//! blocking pool (hashing and writing there), and the part is committed in O(1).

use std::io::{self, Write as _};
use std::sync::Arc;

use bytes::Bytes;
use md5::Digest as _;

use super::blocking;
use crate::app::App;
use crate::http::{BodyError, Request};
use crate::protocol::{self, Params, Reply};
use crate::stats::add;
use crate::store::temp::TempFile;
use crate::store::{CommitError, Key, Md5};

/// Body bytes gathered before they are handed to the blocking pool: enough to make each hand-over
/// worth it, small enough that many concurrent uploads cost little memory.
const FLUSH_BYTES: usize = 256 * 1024;

pub(super) async fn handle(
    app: &Arc<App>,
    req: &mut Request<'_>,
    secret_id: &str,
    params: &Params,
) -> Reply {
    let pp = match protocol::part_params(params) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let key: Key = (secret_id.to_string(), pp.file_sha.clone());
    let Some(session) = app.store.session(&key) else {
        let why = if app.store.finished(&key).is_some() {
            "this file is already finished (FinishUpload was called)"
        } else {
            "call InitUpload first"
        };
        return Reply::protocol(format!(
            "no upload session for fileSha {}: {why}",
            pp.file_sha
        ));
    };
    let meta = session.meta();
    let expected = match protocol::check_part_against(&meta, &pp) {
        Ok(len) => len,
        Err(r) => return r,
    };
    if let Some(cl) = req.announced_length()
        && cl != expected
    {
        return Reply::packet(format!(
            "Content-Length {cl} does not match the part's length {expected}"
        ));
    }

    let (tmp, md5) = match receive(app, req, expected).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if md5 != pp.data_md5 {
        return Reply::packet(format!(
            "dataMd5 mismatch: the body's MD5 is {}, dataMd5 says {}",
            crate::store::hex(&md5),
            crate::store::hex(&pp.data_md5)
        ));
    }
    let index = pp.offset / meta.data_size;
    let (a, s) = (app.clone(), session.clone());
    let committed = blocking(move || {
        let r = s.commit_part(&meta, index, md5, tmp, a.now_unix());
        if r.is_ok() {
            a.store.hook().at("part:committed");
        }
        Ok(r)
    })
    .await;
    match committed {
        Ok(Ok(())) => {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            app.counters.part_stored(now_ms);
            add(&app.counters.part_bytes_stored, expected);
            // Off the answer's path: the SHA-1 runs ahead while the client sends more parts.
            tokio::task::spawn_blocking(move || session.advance_hash());
            Reply::success(0)
        }
        Ok(Err(CommitError::SessionChanged)) => Reply::protocol(
            "the upload session was finished or restarted while this part was being sent",
        ),
        Ok(Err(CommitError::Io(e))) | Err(e) => Reply::write_failed(&e),
    }
}

/// Reads the body into a work file: exactly `expected` bytes, within the body limits. Returns
/// the file and the body's MD5.
async fn receive(
    app: &Arc<App>,
    req: &mut Request<'_>,
    expected: u64,
) -> Result<(TempFile, Md5), Reply> {
    let mut sink = PartSink::new(app.store.part_temp_file());
    let mut len = 0u64;
    loop {
        match req.body_chunk().await {
            Ok(Some(data)) => {
                len += data.len() as u64;
                if len > expected {
                    return Err(Reply::packet(format!(
                        "the body is longer than the part's length {expected}"
                    )));
                }
                sink.push(data).await.map_err(|e| Reply::write_failed(&e))?;
            }
            Ok(None) => break,
            Err(BodyError::TooSlow) => {
                return Err(Reply::error(
                    protocol::E_PACKET_SIZE,
                    format!(
                        "the body arrived too slowly: {len} of {expected} bytes within the time allowed ({} s, plus 1 s per {} bytes)",
                        app.limits.body.timeout.as_secs(),
                        app.limits.body.min_rate
                    ),
                    true,
                ));
            }
            Err(BodyError::Malformed(why)) => {
                return Err(Reply::packet(format!(
                    "the request body could not be read: {why}"
                )));
            }
            Err(BodyError::Gone) => {
                return Err(Reply::packet("the request body could not be read in full"));
            }
        }
    }
    if len != expected {
        return Err(Reply::packet(format!(
            "the body is {len} bytes, the part's length is {expected}"
        )));
    }
    sink.finish(app.clone())
        .await
        .map_err(|e| Reply::write_failed(&e))
}

/// Where a part's body goes while it arrives: a work file, written and MD5-hashed on the
/// blocking pool a few hundred KiB at a time.
struct PartSink {
    work: Option<SinkWork>,
    pending: Vec<Bytes>,
    pending_len: usize,
}

struct SinkWork {
    tmp: TempFile,
    file: Option<std::fs::File>,
    md5: md5::Md5,
}

impl SinkWork {
    fn write(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(std::fs::File::create(self.tmp.path())?),
        };
        for c in chunks {
            self.md5.update(c);
            file.write_all(c)?;
        }
        Ok(())
    }
}

impl PartSink {
    fn new(tmp: TempFile) -> PartSink {
        PartSink {
            work: Some(SinkWork {
                tmp,
                file: None,
                md5: md5::Md5::new(),
            }),
            pending: Vec::new(),
            pending_len: 0,
        }
    }

    async fn push(&mut self, data: Bytes) -> io::Result<()> {
        self.pending_len += data.len();
        self.pending.push(data);
        if self.pending_len >= FLUSH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> io::Result<()> {
        let chunks = std::mem::take(&mut self.pending);
        self.pending_len = 0;
        let mut work = self
            .work
            .take()
            .ok_or_else(|| io::Error::other("part sink reused"))?;
        self.work = Some(
            blocking(move || {
                work.write(&chunks)?;
                Ok(work)
            })
            .await?,
        );
        Ok(())
    }

    /// The work file, complete, and the body's MD5.
    async fn finish(mut self, app: Arc<App>) -> io::Result<(TempFile, Md5)> {
        let chunks = std::mem::take(&mut self.pending);
        let mut work = self
            .work
            .take()
            .ok_or_else(|| io::Error::other("part sink reused"))?;
        blocking(move || {
            work.write(&chunks)?;
            if let Some(f) = work.file.take() {
                drop(f);
            } else {
                // An empty body still makes a (then empty) work file.
                std::fs::File::create(work.tmp.path())?;
            }
            app.store.hook().at("part:body-written");
            Ok((work.tmp, work.md5.finalize().into()))
        })
        .await
    }
}
