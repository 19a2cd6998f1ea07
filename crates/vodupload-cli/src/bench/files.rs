//! The files the bench uploads, reading them as the core does, and keeping the disk out of the
//! measurements.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use super::MIB;
use super::clock::thread_cpu;
use crate::Failure;

/// Random content, or (sparse) a hole, which reads as zeros and takes no disk space; either way
/// with a few random bytes at the start so that two files differ. Written back before it returns,
/// so the measurements do not share the disk with it.
pub(super) fn make(path: &Path, size: u64, sparse: bool) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::other(format!("cannot write {}: {e}", path.display()));
    let mut f = File::create(path).map_err(fail)?;
    if sparse {
        f.set_len(size).map_err(fail)?;
    } else {
        let mut chunk = vec![0u8; MIB as usize];
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            rand::fill(&mut chunk[..n]);
            f.write_all(&chunk[..n]).map_err(fail)?;
            left -= n as u64;
        }
    }
    drop(f);
    touch_prefix(path)?;
    File::open(path).and_then(|f| f.sync_all()).map_err(fail)
}

/// Overwrites the first bytes with random ones: another file for the service, and for the
/// fingerprint cache (its mtime and ctime change).
pub(super) fn touch_prefix(path: &Path) -> Result<(), Failure> {
    let touch = || -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        let len = f.metadata()?.len().min(16) as usize;
        let mut b = [0u8; 16];
        rand::fill(&mut b[..]);
        f.write_all_at(&b[..len], 0)
    };
    touch().map_err(|e| Failure::other(format!("cannot modify {}: {e}", path.display())))
}

/// Wall and thread CPU time of one pass over a file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pass {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Reads the whole file a part at a time with positional reads into a cache-line-aligned buffer,
/// as the core does; with `sha1`, hashes it too.
pub(super) fn read(path: &Path, size: u64, part: u64, sha1: bool) -> Result<Pass, Failure> {
    let fail = |e: std::io::Error| Failure::other(format!("cannot read {}: {e}", path.display()));
    let start = Instant::now();
    let cpu = thread_cpu();
    let f = File::open(path).map_err(fail)?;
    // Aligned as the core's buffers are: a buffer 16 bytes into a page (where a large allocation
    // lands) makes the copies out of the page cache ~10% slower.
    let mut store = vec![0u8; part as usize + 64];
    let at = store.as_ptr().align_offset(64);
    let buf = &mut store[at..at + part as usize];
    let mut h = Sha1::new();
    let mut off = 0;
    while off < size {
        let n = (size - off).min(part) as usize;
        f.read_exact_at(&mut buf[..n], off).map_err(fail)?;
        if sha1 {
            h.update(&buf[..n]);
        }
        off += n as u64;
    }
    std::hint::black_box(h.finalize());
    Ok(Pass {
        wall: start.elapsed(),
        cpu: thread_cpu() - cpu,
    })
}

/// The core's own hashing pass (`fingerprint::compute`: SHA-1, and part MD5s on a side thread
/// as spare CPU allows), in this process: its wall time and how many part MD5s got done.
pub(super) fn core_hashing(
    path: &Path,
    size: u64,
    part: u64,
) -> Result<(Duration, usize), Failure> {
    let fail = |e: String| Failure::other(format!("cannot hash {}: {e}", path.display()));
    let f = File::open(path).map_err(|e| fail(e.to_string()))?;
    let start = Instant::now();
    let fp = vodupload::unstable::fingerprint::compute(&f, size, part, &mut |_| true)
        .map_err(|e| fail(e.to_string()))?;
    Ok((
        start.elapsed(),
        fp.part_md5.iter().filter(|m| m.is_some()).count(),
    ))
}

/// Writes back the dirty data of the filesystem holding `dir` and waits for it (Linux `syncfs`;
/// `sync` elsewhere), so that the write-back of earlier runs (the emulator writes every part and
/// the whole file) does not compete with the next measurement.
pub(super) fn settle(dir: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(d) = File::open(dir) {
        use std::os::fd::AsRawFd;
        // SAFETY: plain syscall on a descriptor we own for the duration of the call.
        unsafe { libc::syncfs(d.as_raw_fd()) };
        return;
    }
    let _ = dir;
    // SAFETY: plain syscall without arguments.
    unsafe { libc::sync() };
}

/// Bytes an unprivileged process may still write on the filesystem holding `dir`.
pub(super) fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `s` is valid for writes.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}

/// Fails early, with the figures, when `dir` cannot hold `need` bytes: better than an emulator
/// that runs out of space an hour into a run.
pub(super) fn check_space(dir: &Path, need: u64, what: &str) -> Result<(), Failure> {
    match free_space(dir) {
        Some(free) if free < need => Err(Failure::other(format!(
            "{what} needs about {} free in {}, which has {}; choose another --dir",
            super::fmt::size(need),
            dir.display(),
            super::fmt::size(free)
        ))),
        _ => Ok(()),
    }
}
