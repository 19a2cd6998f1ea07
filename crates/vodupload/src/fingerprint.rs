//! The file's identity for the service: SHA-1 of the whole file and the MD5 of each part.
//!
//! SHA-1 is sequential and InitUpload waits for it, so it sets the pace: the reading thread feeds
//! it and never waits for anything else. The part MD5s are independent; a second thread computes
//! those it can from the same buffers while SHA-1 runs (using the other core), and any part it had
//! no time for is hashed later by whoever sends the part, from the bytes it reads to send anyway.
//! Either way each byte is MD5'd once and SHA-1'd once, and memory is a few parts.

use std::fs::File;
use std::sync::mpsc;

use md5::{Digest as _, Md5};
use sha1::Sha1;

use crate::error::{Error, ErrorKind, Result};
use crate::plan::PartPlan;

/// Buffers that may wait for the MD5 thread; beyond that SHA-1 goes on without it.
const MD5_QUEUE: usize = 3;

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

/// Reads `file` (of `file_size` bytes) once, with positional reads, for its SHA-1 and as many part
/// MD5s as the second core gets done meanwhile. `progress(bytes_read)` is called per part;
/// returning false stops with [`ErrorKind::Cancelled`].
pub fn compute(
    file: &File,
    file_size: u64,
    part_size: u64,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Fingerprint> {
    let plan = PartPlan::new(file_size, part_size)?;
    let (to_md5, md5_in) = mpsc::sync_channel::<(usize, Vec<u8>)>(MD5_QUEUE);
    let (give_back, free) = mpsc::channel::<Vec<u8>>();
    for _ in 0..MD5_QUEUE.min(plan.count()) {
        give_back
            .send(Vec::with_capacity(part_size as usize))
            .expect("the receiver is alive");
    }

    std::thread::scope(|s| {
        let md5_thread = s.spawn(move || {
            let mut out = Vec::new();
            for (index, buf) in md5_in {
                out.push((index, hex(&Md5::digest(&buf))));
                // The reader may be done; then nobody needs the buffer back.
                let _ = give_back.send(buf);
            }
            out
        });

        let mut sha = Sha1::new();
        let mut current: Vec<u8> = Vec::with_capacity(part_size as usize);
        let result = (|| {
            for part in plan.parts() {
                current.resize(part.len as usize, 0);
                read_at(file, &mut current, part.offset).map_err(|e| {
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
                sha.update(&current);
                // Hand the part to the MD5 thread only if a spare buffer is free, i.e. the thread
                // keeps up; otherwise reuse ours and leave this MD5 for the sender.
                if let Ok(spare) = free.try_recv() {
                    let full = std::mem::replace(&mut current, spare);
                    if to_md5.send((part.index, full)).is_err() {
                        return Err(Error::new(ErrorKind::Io, "the MD5 thread stopped"));
                    }
                }
                if !progress(part.offset + part.len) {
                    return Err(Error::new(
                        ErrorKind::Cancelled,
                        "the upload was cancelled while the file was being hashed",
                    ));
                }
            }
            Ok(())
        })();
        drop(to_md5);
        let done = md5_thread.join().expect("the MD5 thread does not panic");
        result?;
        let mut part_md5 = vec![None; plan.count()];
        for (index, md5) in done {
            part_md5[index] = Some(md5);
        }
        Ok(Fingerprint {
            sha1: hex(&sha.finalize()),
            file_size,
            part_size,
            part_md5,
        })
    })
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
    hex(&Md5::digest(data))
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
        assert!(
            fp.part_md5.iter().any(Option::is_some),
            "the MD5 thread did some"
        );
        assert_eq!(calls.len(), 7);
        assert_eq!(*calls.last().unwrap(), 3_300_000);
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
