//! The file's identity for the service: SHA-1 of the whole file and the MD5 of each part, from one
//! read of the file.
//!
//! SHA-1 is sequential and must finish before InitUpload; the part MD5s are independent, so they
//! run on a second thread fed with the same buffers. The buffers circulate between the two threads
//! (a fixed pool), so memory is a few parts whatever the file size.

use std::fs::File;
use std::sync::mpsc;

use md5::{Digest as _, Md5};
use sha1::Sha1;

use crate::error::{Error, ErrorKind, Result};
use crate::plan::PartPlan;

/// Buffers in flight between the reading/SHA-1 thread and the MD5 thread.
const POOL: usize = 3;

/// What the service knows a file by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Lowercase hex SHA-1 of the whole file.
    pub sha1: String,
    pub file_size: u64,
    pub part_size: u64,
    /// Lowercase hex MD5 of each part, in order.
    pub part_md5: Vec<String>,
}

/// Reads `file` (of `file_size` bytes) once, with positional reads. `progress(bytes_read)` is called per
/// part; returning false stops with [`ErrorKind::Cancelled`]. With `with_sha1` false only the part
/// MD5s are computed (a resume at a part size other than ours needs just those).
pub fn compute(
    file: &File,
    file_size: u64,
    part_size: u64,
    with_sha1: bool,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Fingerprint> {
    let plan = PartPlan::new(file_size, part_size)?;
    let (to_md5, md5_in) = mpsc::sync_channel::<(Vec<u8>, usize)>(POOL);
    let (to_reader, free) = mpsc::sync_channel::<Vec<u8>>(POOL);
    for _ in 0..POOL.min(plan.count().max(1)) {
        to_reader
            .send(Vec::with_capacity(part_size as usize))
            .expect("the pool fits the channel");
    }

    std::thread::scope(|s| {
        let md5_thread = s.spawn(move || {
            let mut out = Vec::new();
            for (buf, len) in md5_in {
                out.push(hex(&Md5::digest(&buf[..len])));
                // The reader may have finished; then nobody needs the buffer back.
                let _ = to_reader.send(buf);
            }
            out
        });

        let mut sha = Sha1::new();
        let mut read_total = 0u64;
        let result = (|| {
            for part in plan.parts() {
                let mut buf = free.recv().map_err(|_| {
                    Error::new(ErrorKind::Io, "the MD5 worker stopped unexpectedly")
                })?;
                buf.resize(part.len as usize, 0);
                read_at(file, &mut buf, part.offset).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        Error::new(
                            ErrorKind::FileChanged,
                            format!(
                                "the file got shorter while it was read (expected {file_size} bytes, it ended near {})",
                                part.offset
                            ),
                        )
                    } else {
                        Error::io(format_args!("cannot read at offset {}", part.offset), &e)
                    }
                })?;
                if with_sha1 {
                    sha.update(&buf);
                }
                let len = buf.len();
                to_md5.send((buf, len)).map_err(|_| {
                    Error::new(ErrorKind::Io, "the MD5 worker stopped unexpectedly")
                })?;
                read_total += part.len;
                if !progress(read_total) {
                    return Err(Error::new(
                        ErrorKind::Cancelled,
                        "the upload was cancelled while the file was being hashed",
                    ));
                }
            }
            Ok(())
        })();
        drop(to_md5);
        let md5s = md5_thread.join().expect("the MD5 thread does not panic");
        result?;
        Ok(Fingerprint {
            sha1: if with_sha1 {
                hex(&sha.finalize())
            } else {
                String::new()
            },
            file_size,
            part_size,
            part_md5: md5s,
        })
    })
}

/// Positional read of exactly `buf.len()` bytes: no shared file cursor, so parallel parts and a
/// second hashing pass never disturb each other.
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
        let data: Vec<u8> = (0..1_300_000u32)
            .map(|i| (i * 7 + i / 1000) as u8)
            .collect();
        let f = file_with(&data);
        let mut calls = Vec::new();
        let fp = compute(&f, data.len() as u64, 524_288, true, &mut |n| {
            calls.push(n);
            true
        })
        .unwrap();
        assert_eq!(fp.sha1, hex(&Sha1::digest(&data)));
        assert_eq!(fp.part_md5.len(), 3);
        assert_eq!(fp.part_md5[0], md5_hex(&data[..524_288]));
        assert_eq!(fp.part_md5[2], md5_hex(&data[1_048_576..]));
        assert_eq!(calls, [524_288, 1_048_576, 1_300_000]);
    }

    #[test]
    fn known_vectors() {
        let f = file_with(b"abc");
        let fp = compute(&f, 3, 524_288, true, &mut |_| true).unwrap();
        assert_eq!(fp.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(fp.part_md5, ["900150983cd24fb0d6963f7d28e17f72"]);
    }

    #[test]
    fn shorter_file_is_file_changed() {
        let f = file_with(&[1u8; 100]);
        let e = compute(&f, 200, 524_288, true, &mut |_| true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileChanged);
    }

    #[test]
    fn cancel_stops() {
        let f = file_with(&vec![0u8; 2_000_000]);
        let e = compute(&f, 2_000_000, 524_288, true, &mut |_| false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
    }
}
