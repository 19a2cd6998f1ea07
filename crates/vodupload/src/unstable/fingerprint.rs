//! The file's identity for the service: SHA-1 of the whole file and the MD5 of each part.
//!
//! SHA-1 is sequential and InitUpload waits for it, so it sets the pace: the reading thread feeds
//! it and never waits for anything else. The part MD5s are independent, so they are computed
//! eight at a time in the SIMD lanes of one core ([`md5_lanes`], about 8x one stream's speed with
//! AVX2): a second thread, at idle CPU priority, reads and hashes parts from the start while SHA-1
//! runs. On a quiet machine it finishes first. On a busy one it may get no CPU at all, so nothing
//! ever waits for it: when SHA-1 is done the pass returns at once, the thread gives up at its next
//! check (it is never joined), and the parts it had no time for are hashed, in lanes too, by
//! whoever needs them first ([`crate::upload`]'s senders). Either way each byte is MD5'd once and
//! SHA-1'd once, but for the few parts a starved thread had started.
//!
//! The MD5 thread reads the parts itself rather than being handed the SHA-1 thread's buffers:
//! a second read from the page cache costs less than the hand-over (measured), and a thread that
//! shares nothing can never hold the SHA-1 thread up. Being faster, it runs ahead of SHA-1, which
//! on a cold file works as read-ahead for it (measured against making it follow SHA-1: no less
//! CPU, and slower from a cold page cache).

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use md5_lanes::{Digest, Lanes, MAX_LANES};
use sha1::{Digest as _, Sha1};

use crate::aligned::AlignedBuf;
use crate::error::{Error, ErrorKind, Result};
pub use crate::hex::hex;
use crate::part_md5s::PartMd5s;
use crate::plan::{Part, PartPlan};
use crate::positional::read_at;

/// What the service knows a file by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Lowercase hex SHA-1 of the whole file.
    pub sha1: String,
    pub file_size: u64,
    pub part_size: u64,
    /// Lowercase hex MD5 of each part, in order; None where it was not computed yet.
    pub part_md5: Vec<Option<String>>,
}

/// Reads `file` (of `file_size` bytes) with positional reads for its SHA-1, and computes as many
/// part MD5s as spare CPU allows meanwhile. `progress(bytes_read)` is called per part; returning
/// false stops with [`ErrorKind::Cancelled`].
pub fn compute(
    file: &File,
    file_size: u64,
    part_size: u64,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Fingerprint> {
    let plan = PartPlan::new(file_size, part_size)?;
    let md5s = Arc::new(PartMd5s::new(plan.count()));
    let sha1 = hash_file(file, plan, &md5s, progress)?;
    Ok(Fingerprint {
        sha1,
        file_size,
        part_size,
        part_md5: md5s.to_hex(),
    })
}

/// The SHA-1 of the file `plan` describes, publishing part MD5s into `md5s` as spare CPU allows
/// (also after this returns, until the side thread notices).
pub(crate) fn hash_file(
    file: &File,
    plan: PartPlan,
    md5s: &Arc<PartMd5s>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<String> {
    hash_file_with(file, plan, md5s, progress, SideWork::UntilSha1Done).map(|(sha1, _)| sha1)
}

/// How long the MD5 thread goes on.
#[derive(Debug)]
enum SideWork {
    UntilSha1Done,
    /// Every part, however long SHA-1 takes: for tests, where how much an idle-priority thread
    /// gets done depends on what else the machine runs.
    #[cfg_attr(not(test), allow(dead_code))]
    All,
    /// Blocked until the sender says go (or goes away), then as [`SideWork::UntilSha1Done`]: for
    /// tests, an idle-priority thread that gets no CPU at all.
    #[cfg_attr(not(test), allow(dead_code))]
    Starved(std::sync::mpsc::Receiver<()>),
}

/// [`hash_file`], and the MD5 thread's handle, which only tests join.
fn hash_file_with(
    file: &File,
    plan: PartPlan,
    md5s: &Arc<PartMd5s>,
    progress: &mut dyn FnMut(u64) -> bool,
    side: SideWork,
) -> Result<(String, Option<std::thread::JoinHandle<()>>)> {
    let sha1_done = Arc::new(AtomicBool::new(false));
    let md5_thread = start_md5_thread(file, plan, md5s, &sha1_done, side);
    let result = sha1_of(file, plan, progress);
    // Tell the MD5 thread, and never wait for it: see the module documentation.
    sha1_done.store(true, Ordering::Relaxed);
    result.map(|sha1| (sha1, md5_thread))
}

fn sha1_of(file: &File, plan: PartPlan, progress: &mut dyn FnMut(u64) -> bool) -> Result<String> {
    let mut sha = Sha1::new();
    let mut store = AlignedBuf::new();
    for part in plan.parts() {
        let buf = store.resize(part.len as usize);
        read_at(file, buf, part.offset).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::new(
                    ErrorKind::FileChanged,
                    format!(
                        "the file got shorter while it was read (expected {} bytes, it ended before {})",
                        plan.file_size,
                        part.offset + part.len
                    ),
                )
            } else {
                Error::io(format_args!("cannot read at offset {}", part.offset), &e)
            }
        })?;
        sha.update(store.as_slice());
        if !progress(part.offset + part.len) {
            return Err(Error::new(
                ErrorKind::Cancelled,
                "the upload was cancelled while the file was being hashed",
            ));
        }
    }
    Ok(hex(&sha.finalize()))
}

/// Starts the opportunistic MD5 thread on its own handle of the file. None when it cannot be had
/// (no file descriptor or thread left): the senders then hash every part.
fn start_md5_thread(
    file: &File,
    plan: PartPlan,
    md5s: &Arc<PartMd5s>,
    sha1_done: &Arc<AtomicBool>,
    side: SideWork,
) -> Option<std::thread::JoinHandle<()>> {
    let file = file
        .try_clone()
        .map_err(|e| log::debug!("no MD5 thread: cannot duplicate the file handle: {e}"))
        .ok()?;
    let (md5s, sha1_done) = (md5s.clone(), sha1_done.clone());
    std::thread::Builder::new()
        .name("vodupload-md5".into())
        .spawn(move || {
            lower_priority();
            let stop = || !matches!(side, SideWork::All) && sha1_done.load(Ordering::Relaxed);
            if let SideWork::Starved(go) = &side {
                let _ = go.recv();
            }
            for first in (0..plan.count()).step_by(MAX_LANES) {
                if stop() {
                    return;
                }
                let group: Vec<Part> = (first..(first + MAX_LANES).min(plan.count()))
                    .filter(|&i| md5s.claim(i))
                    .filter_map(|i| plan.part(i))
                    .collect();
                // A read error stops the side work only: the SHA-1 pass reports it.
                if md5_parts(&file, &group, LANE_CHUNK, &stop, &mut |index, md5| {
                    md5s.set(index, md5);
                })
                .is_err()
                {
                    return;
                }
            }
        })
        .map_err(|e| log::debug!("no MD5 thread: {e}"))
        .ok()
}

/// Bytes of each part read per round by the hashing pass's MD5 thread: the buffer holds this for
/// each of the eight lanes (4 MiB in all), whatever the part size.
pub(crate) const LANE_CHUNK: usize = 512 * 1024;

/// Computes the MD5 of each of `parts` and hands it to `done(index, md5)`, hashing up to eight
/// parts of equal length side by side, reading about `chunk` bytes of each per round (the
/// buffer is eight times that). Checks `stop()` before each round and returns early when it says so,
/// abandoning the group under way. A read error comes back with the offset it happened at.
pub(crate) fn md5_parts(
    file: &File,
    parts: &[Part],
    chunk: usize,
    stop: &dyn Fn() -> bool,
    done: &mut dyn FnMut(usize, Digest),
) -> std::result::Result<(), (u64, std::io::Error)> {
    let mut store = AlignedBuf::new();
    let mut rest = parts;
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take(MAX_LANES)
            .take_while(|p| p.len == first.len)
            .count();
        let (group, tail) = rest.split_at(n);
        rest = tail;
        let len = first.len as usize;
        // Rounds before the last must be whole MD5 blocks.
        let chunk = if len <= chunk {
            len
        } else {
            chunk.max(64) / 64 * 64
        };
        // Each row starts on a cache line, as the whole buffer does (see aligned.rs).
        let stride = chunk.next_multiple_of(64);
        let buf = store.resize(stride * n);
        let mut lanes = Lanes::new(n);
        let mut at = 0;
        loop {
            if stop() {
                return Ok(());
            }
            let step = chunk.min(len - at);
            for (row, part) in buf.chunks_mut(stride).zip(group) {
                let offset = part.offset + at as u64;
                read_at(file, &mut row[..step], offset).map_err(|e| (offset, e))?;
            }
            let rows: Vec<&[u8]> = buf.chunks(stride).map(|r| &r[..step]).collect();
            at += step;
            if at == len {
                for (part, md5) in group.iter().zip(lanes.finish(&rows)) {
                    done(part.index, md5);
                }
                break;
            }
            lanes.update(&rows);
        }
    }
    Ok(())
}

/// Runs the calling thread only on otherwise idle CPU, so the opportunistic MD5s never slow the
/// SHA-1 that InitUpload waits for, nor anything else on a busy server.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain syscall on the calling thread (pid 0) with a valid parameter struct; a
        // failure only leaves the normal priority.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    }
}

/// Lowercase hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    hex(&md5_lanes::md5(data))
}

/// Lowercase hex SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    hex(&Sha1::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    fn file_with(data: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        f.rewind().unwrap();
        f
    }

    #[test]
    fn matches_one_shot_hashes() {
        let data: Vec<u8> = (0..3_300_000u32)
            .map(|i| (i * 7 + i / 1000) as u8)
            .collect();
        let f = file_with(&data);
        let mut calls = Vec::new();
        let fp = compute(&f, data.len() as u64, 524_288, &mut |n| {
            calls.push(n);
            true
        })
        .unwrap();
        assert_eq!(fp.sha1, sha1_hex(&data));
        assert_eq!(fp.part_md5.len(), 7);
        let plan = PartPlan::new(data.len() as u64, 524_288).unwrap();
        for p in plan.parts() {
            if let Some(m) = &fp.part_md5[p.index] {
                let range = p.offset as usize..(p.offset + p.len) as usize;
                assert_eq!(*m, md5_hex(&data[range]), "part {}", p.index);
            }
        }
        // How many the idle-priority thread did depends on the machine's load; with
        // `SideWork::All` it does every one, in lanes, and publishes them.
        assert_eq!(calls.len(), 7);
        assert_eq!(*calls.last().unwrap(), 3_300_000);
        let md5s = Arc::new(PartMd5s::new(plan.count()));
        let (sha1, thread) = hash_file_with(&f, plan, &md5s, &mut |_| true, SideWork::All).unwrap();
        assert_eq!(sha1, fp.sha1);
        thread.expect("an MD5 thread").join().unwrap();
        for p in plan.parts() {
            let range = p.offset as usize..(p.offset + p.len) as usize;
            assert_eq!(
                md5s.get_hex(p.index),
                Some(md5_hex(&data[range])),
                "part {}",
                p.index
            );
        }
    }

    /// An idle-priority thread can get no CPU at all on a busy machine: the SHA-1 the upload
    /// waits for must not wait for it. Here it is blocked outright until the pass has returned
    /// (were the pass to wait for it, the test would fail on the timeout below, not hang).
    #[test]
    fn a_starved_md5_thread_holds_nothing_up() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
        let f = file_with(&data);
        let plan = PartPlan::new(data.len() as u64, 524_288).unwrap();
        let md5s = Arc::new(PartMd5s::new(plan.count()));
        let (go, wait) = std::sync::mpsc::channel();
        let (result_tx, result_rx) = std::sync::mpsc::channel();
        let file = f.try_clone().unwrap();
        let table = md5s.clone();
        std::thread::spawn(move || {
            let r = hash_file_with(&file, plan, &table, &mut |_| true, SideWork::Starved(wait));
            let _ = result_tx.send(r);
        });
        let (sha1, thread) = result_rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the hashing pass returned while its MD5 thread was starved")
            .unwrap();
        assert_eq!(sha1, sha1_hex(&data));
        assert_eq!(md5s.known_count(), 0, "the starved thread did nothing");
        go.send(()).unwrap();
        thread.expect("an MD5 thread").join().unwrap();
        assert_eq!(
            md5s.known_count(),
            0,
            "once it runs, it sees SHA-1 is done and gives up at once"
        );
    }

    /// Groups of up to eight equal parts, the short last part on its own, parts given out of
    /// order and with gaps (as a resume lists them), sizes that are not multiples of 64: every
    /// MD5 agrees with a one-shot MD5 of the part.
    #[test]
    fn md5_parts_in_lanes_match_one_shot() {
        let data: Vec<u8> = (0..2_500_000u32).map(|i| (i ^ (i >> 9)) as u8).collect();
        let f = file_with(&data);
        for part_size in [524_288u64, 100_003, 1_500_000] {
            let plan = PartPlan::new(data.len() as u64, part_size).unwrap();
            let mut parts: Vec<Part> = plan.parts().collect();
            parts.reverse();
            parts.remove(1);
            // Whole parts per round, and rounds that do not divide a part (nor 64).
            for chunk in [LANE_CHUNK, 65_537] {
                let mut got = Vec::new();
                md5_parts(&f, &parts, chunk, &|| false, &mut |i, m| got.push((i, m))).unwrap();
                assert_eq!(got.len(), parts.len(), "part size {part_size}");
                for (index, md5) in got {
                    let p = plan.part(index).unwrap();
                    let range = p.offset as usize..(p.offset + p.len) as usize;
                    assert_eq!(
                        hex(&md5),
                        md5_hex(&data[range]),
                        "part {index} at {part_size}"
                    );
                }
            }
        }
    }

    #[test]
    fn md5_parts_reports_where_a_read_failed() {
        let f = file_with(&[7u8; 1000]);
        let plan = PartPlan::new(3000, 1000).unwrap();
        let parts: Vec<Part> = plan.parts().collect();
        let (offset, e) = md5_parts(&f, &parts, LANE_CHUNK, &|| false, &mut |_, _| {}).unwrap_err();
        assert_eq!(offset, 1000);
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        let mut none = 0;
        md5_parts(&f, &parts, LANE_CHUNK, &|| true, &mut |_, _| none += 1).unwrap();
        assert_eq!(none, 0, "stop() is asked before any work");
    }

    #[test]
    fn known_vectors() {
        let f = file_with(b"abc");
        let fp = compute(&f, 3, 524_288, &mut |_| true).unwrap();
        assert_eq!(fp.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn shorter_file_is_file_changed() {
        let f = file_with(&[1u8; 100]);
        let e = compute(&f, 200, 524_288, &mut |_| true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileChanged);
    }

    #[test]
    fn cancel_stops() {
        let f = file_with(&vec![0u8; 2_000_000]);
        let e = compute(&f, 2_000_000, 524_288, &mut |_| false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
    }
}
