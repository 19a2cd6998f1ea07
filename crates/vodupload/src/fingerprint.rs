//! The file's identity for the service: SHA-1 of the whole file and the MD5 of each part.
//!
//! SHA-1 is sequential and InitUpload waits for it, so it sets the pace: the reading thread feeds
//! it and never waits for anything else. The part MD5s are independent, so they are computed
//! eight at a time in the SIMD lanes of one core ([`md5_lanes`], about 8x one stream's speed with
//! AVX2): a second thread, at idle CPU priority, reads and hashes parts from the start while SHA-1
//! runs, and stops when SHA-1 is done; with lanes it normally finishes first. Any part it had no
//! time for is hashed later by whoever sends the part, from the bytes it reads to send anyway.
//! Either way each byte is MD5'd once and SHA-1'd once.
//!
//! The MD5 thread reads the parts itself rather than being handed the SHA-1 thread's buffers:
//! a second read from the page cache costs less than the hand-over (measured), and a thread that
//! shares nothing can never hold the SHA-1 thread up. Being faster, it runs ahead of SHA-1, which
//! on a cold file works as read-ahead for it (measured against making it follow SHA-1: no less
//! CPU, and slower from a cold page cache).

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};

use md5_lanes::{Lanes, MAX_LANES};
use sha1::{Digest as _, Sha1};

use crate::aligned::AlignedBuf;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::{Part, PartPlan};

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
    compute_with(
        file,
        file_size,
        part_size,
        progress,
        SideWork::UntilSha1Done,
    )
}

/// How long the MD5 thread goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SideWork {
    UntilSha1Done,
    /// Every part, however long SHA-1 takes: for tests, where how much an idle-priority thread
    /// gets done depends on what else the machine runs.
    #[cfg_attr(not(test), allow(dead_code))]
    All,
}

fn compute_with(
    file: &File,
    file_size: u64,
    part_size: u64,
    progress: &mut dyn FnMut(u64) -> bool,
    side: SideWork,
) -> Result<Fingerprint> {
    let plan = PartPlan::new(file_size, part_size)?;
    let sha1_done = AtomicBool::new(false);

    std::thread::scope(|s| {
        let md5_thread = s.spawn(|| {
            lower_priority();
            let parts: Vec<Part> = plan.parts().collect();
            let mut out = Vec::new();
            // A read error stops the side work only: the SHA-1 pass reports it.
            let _ = md5_parts(
                file,
                &parts,
                &|| side == SideWork::UntilSha1Done && sha1_done.load(Ordering::Relaxed),
                &mut |index, md5| out.push((index, md5)),
            );
            out
        });

        let result = (|| {
            let mut sha = Sha1::new();
            let mut store = AlignedBuf::new();
            for part in plan.parts() {
                let buf = store.resize(part.len as usize);
                read_at(file, buf, part.offset).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        Error::new(
                            ErrorKind::FileChanged,
                            format!(
                                "the file got shorter while it was read (expected {file_size} bytes, it ended before {})",
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
        })();
        sha1_done.store(true, Ordering::Relaxed);
        let done = md5_thread.join().expect("the MD5 thread does not panic");
        let sha1 = result?;
        let mut part_md5 = vec![None; plan.count()];
        for (index, md5) in done {
            part_md5[index] = Some(md5);
        }
        Ok(Fingerprint {
            sha1,
            file_size,
            part_size,
            part_md5,
        })
    })
}

/// Bytes of each part read per round when hashing parts side by side: the buffer holds this for
/// each of the eight lanes (4 MiB in all), whatever the part size.
const LANE_CHUNK: usize = 512 * 1024;

/// Computes the MD5 of each of `parts` and hands it to `done(index, md5)`, hashing up to eight
/// parts of equal length side by side. Checks `stop()` between groups of parts and returns early
/// when it says so. A read error comes back with the offset it happened at.
pub(crate) fn md5_parts(
    file: &File,
    parts: &[Part],
    stop: &dyn Fn() -> bool,
    done: &mut dyn FnMut(usize, String),
) -> std::result::Result<(), (u64, std::io::Error)> {
    let mut store = AlignedBuf::new();
    let mut rest = parts;
    while let Some(first) = rest.first() {
        if stop() {
            break;
        }
        let n = rest
            .iter()
            .take(MAX_LANES)
            .take_while(|p| p.len == first.len)
            .count();
        let (group, tail) = rest.split_at(n);
        rest = tail;
        let len = first.len as usize;
        let chunk = LANE_CHUNK.min(len);
        // Each row starts on a cache line, as the whole buffer does (see aligned.rs).
        let stride = chunk.next_multiple_of(64);
        let buf = store.resize(stride * n);
        let mut lanes = Lanes::new(n);
        let mut at = 0;
        loop {
            let step = chunk.min(len - at);
            for (row, part) in buf.chunks_mut(stride).zip(group) {
                let offset = part.offset + at as u64;
                read_at(file, &mut row[..step], offset).map_err(|e| (offset, e))?;
            }
            let rows: Vec<&[u8]> = buf.chunks(stride).map(|r| &r[..step]).collect();
            at += step;
            if at == len {
                for (part, md5) in group.iter().zip(lanes.finish(&rows)) {
                    done(part.index, hex(&md5));
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

/// Positional read of exactly `buf.len()` bytes: no shared file cursor, so parallel parts and
/// the hashing pass never disturb each other.
#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Lowercase hex, as every hash parameter of the protocol wants.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
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
        // `SideWork::All` it does every one, in lanes, and they land in the fingerprint.
        assert_eq!(calls.len(), 7);
        assert_eq!(*calls.last().unwrap(), 3_300_000);
        let all =
            compute_with(&f, data.len() as u64, 524_288, &mut |_| true, SideWork::All).unwrap();
        assert_eq!(all.sha1, fp.sha1);
        for p in plan.parts() {
            let range = p.offset as usize..(p.offset + p.len) as usize;
            assert_eq!(
                all.part_md5[p.index].as_deref(),
                Some(md5_hex(&data[range]).as_str()),
                "part {}",
                p.index
            );
        }
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
            let mut got = Vec::new();
            md5_parts(&f, &parts, &|| false, &mut |i, m| got.push((i, m))).unwrap();
            assert_eq!(got.len(), parts.len(), "part size {part_size}");
            for (index, md5) in got {
                let p = plan.part(index).unwrap();
                let range = p.offset as usize..(p.offset + p.len) as usize;
                assert_eq!(md5, md5_hex(&data[range]), "part {index} at {part_size}");
            }
        }
    }

    #[test]
    fn md5_parts_reports_where_a_read_failed() {
        let f = file_with(&[7u8; 1000]);
        let plan = PartPlan::new(3000, 1000).unwrap();
        let parts: Vec<Part> = plan.parts().collect();
        let (offset, e) = md5_parts(&f, &parts, &|| false, &mut |_, _| {}).unwrap_err();
        assert_eq!(offset, 1000);
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        let mut none = 0;
        md5_parts(&f, &parts, &|| true, &mut |_, _| none += 1).unwrap();
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
