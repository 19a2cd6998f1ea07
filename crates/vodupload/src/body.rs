//! A part's body as the HTTP client reads it: a range of the file, read straight into the
//! client's send buffer, that gives up once the caller stops.
//!
//! Every part's MD5 is known before it is sent (the hashing pass, the cache, or the sender's own
//! lanes), and nothing else needs the bytes but the socket, so they go from the page cache into
//! ureq's output buffer with one positional read: no part-sized buffer per sender, and no copy
//! from it into ureq's. The range is read afresh for every attempt, so retries need nothing kept.

use std::fs::File;
use std::io::Read;

use crate::positional::read_at_most;

/// What an UploadPart sends: `len` bytes of `file` from `offset`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartBody<'a> {
    pub(crate) file: &'a File,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl<'a> PartBody<'a> {
    /// A reader over the body from its start, checking `stop` every 64 KiB.
    pub(crate) fn reader(self, stop: &'a dyn Fn() -> bool) -> BodyReader<'a> {
        BodyReader {
            body: self,
            at: 0,
            stop,
            since_check: 0,
            file_error: None,
        }
    }
}

/// See [`PartBody::reader`].
pub(crate) struct BodyReader<'a> {
    body: PartBody<'a>,
    at: u64,
    stop: &'a dyn Fn() -> bool,
    since_check: usize,
    /// A failed read of the file, kept so the caller can tell it from a network failure (the
    /// HTTP client reports both as I/O errors).
    file_error: Option<(u64, std::io::Error)>,
}

impl BodyReader<'_> {
    /// The file read that failed while sending, with its offset in the file.
    pub(crate) fn take_file_error(&mut self) -> Option<(u64, std::io::Error)> {
        self.file_error.take()
    }
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        const CHECK_EVERY: usize = 64 * 1024;
        if self.since_check >= CHECK_EVERY {
            self.since_check = 0;
            if (self.stop)() {
                // Not `Interrupted`: readers' callers retry that kind.
                return Err(std::io::Error::other("upload cancelled"));
            }
        }
        let left = self.body.len - self.at;
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let pos = self.body.offset + self.at;
        let n = match read_at_most(self.body.file, &mut buf[..want], pos) {
            Ok(0) => {
                let e = std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ended before the part did",
                );
                self.file_error = Some((pos, e));
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            Ok(n) => n,
            Err(e) => {
                let kind = e.kind();
                self.file_error = Some((pos, e));
                return Err(kind.into());
            }
        };
        self.at += n as u64;
        self.since_check += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(data: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        f
    }

    fn read_all(mut r: impl Read, step: usize) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn a_file_range_reads_exactly_its_bytes() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let f = file_with(&data);
        let body = PartBody {
            file: &f,
            offset: 1000,
            len: 200_000,
        };
        for step in [1, 4096, 131_072, 1 << 20] {
            let got = read_all(body.reader(&|| false), step).unwrap();
            assert_eq!(got, &data[1000..201_000], "read {step} at a time");
        }
    }

    #[test]
    fn a_file_shorter_than_the_range_is_a_file_error() {
        let f = file_with(&[1u8; 100]);
        let body = PartBody {
            file: &f,
            offset: 50,
            len: 100,
        };
        let mut r = body.reader(&|| false);
        let e = read_all(&mut r, 4096).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        let (at, e) = r.take_file_error().expect("the file error is kept");
        assert_eq!(at, 100);
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn stop_ends_the_body_within_64_kib() {
        let f = file_with(&vec![0u8; 1 << 20]);
        let body = PartBody {
            file: &f,
            offset: 0,
            len: 1 << 20,
        };
        let mut r = body.reader(&|| true);
        let e = read_all(&mut r, 16 * 1024).unwrap_err();
        assert_eq!(e.to_string(), "upload cancelled");
        assert!(r.at <= 80 * 1024, "stopped after {} bytes", r.at);
        assert!(r.take_file_error().is_none(), "a stop is no file error");
    }
}
