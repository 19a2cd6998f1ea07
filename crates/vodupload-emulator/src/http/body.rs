//! Reading a request body (Content-Length or chunked) within time bounds: the body has
//! `timeout` from its first read, plus one second for every `min_rate` bytes received, so a
//! client sending at a steady rate above `min_rate` is never cut off, and one trickling a byte a
//! second is, after `timeout`.

use std::time::Duration;

use bytes::{Buf as _, Bytes};
use tokio::time::Instant;

use super::head::Head;
use super::io::{ConnIo, ReadError};

/// How long bodies may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// Zero: no limit at all.
    pub timeout: Duration,
    /// Bytes per second that extend the deadline by one second; zero: a fixed deadline.
    pub min_rate: u64,
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(u64),
    Chunked,
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Slower than the limits allow.
    TooSlow,
    /// Broken framing (a bad chunk size, say).
    Malformed(String),
    /// The client closed the connection, or it failed, or it was evicted.
    Gone,
}

/// Reads the framing headers; `Err` is a reason to answer 400 and close (they would make the
/// end of this request, and so the start of the next, ambiguous).
pub(crate) fn framing(head: &Head) -> Result<Framing, String> {
    let te: Vec<String> = head
        .headers_named("transfer-encoding")
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut lengths = head.headers_named("content-length").flat_map(|v| {
        String::from_utf8_lossy(v)
            .split(',')
            .map(|t| t.trim().to_string())
            .collect::<Vec<_>>()
    });
    let first = lengths.next();
    if !te.is_empty() {
        if first.is_some() {
            return Err("both Transfer-Encoding and Content-Length".into());
        }
        if head.http10 || te.last().map(String::as_str) != Some("chunked") || te.len() > 1 {
            return Err(format!(
                "Transfer-Encoding {} is not supported (only chunked)",
                te.join(", ")
            ));
        }
        return Ok(Framing::Chunked);
    }
    let Some(first) = first else {
        return Ok(Framing::Length(0));
    };
    let n: u64 = (!first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()))
        .then(|| first.parse().ok())
        .flatten()
        .ok_or_else(|| format!("Content-Length {first:?} is not a number"))?;
    if lengths.any(|l| l != first) {
        return Err("several different Content-Length values".into());
    }
    Ok(Framing::Length(n))
}

#[derive(Debug, Clone, Copy)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailer,
    Done,
}

/// A chunk-size line, or a trailer field, longer than this is refused.
const MAX_LINE: usize = 8 * 1024;
/// Trailer fields in all.
const MAX_TRAILER: usize = 16 * 1024;

/// The state of one request's body; its bytes come from the connection passed to each call.
#[derive(Debug)]
pub(crate) struct BodyReader {
    state: State,
    limits: BodyLimits,
    started: Option<Instant>,
    received: u64,
    /// Time the emulator itself held the body back (a thin link): not the client's slowness.
    excused: Duration,
    trailer_bytes: usize,
    /// `Expect: 100-continue` was asked and not yet answered.
    pending_continue: bool,
    /// A read failed: what is left of the body will never be read.
    failed: Option<BodyFailure>,
}

/// How a body read ended badly, for the connection's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFailure {
    TooSlow,
    Other,
}

impl BodyReader {
    pub(crate) fn new(framing: Framing, limits: BodyLimits, expects_continue: bool) -> BodyReader {
        let state = match framing {
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        };
        BodyReader {
            state,
            limits,
            started: None,
            received: 0,
            excused: Duration::ZERO,
            trailer_bytes: 0,
            pending_continue: expects_continue && !matches!(state, State::Done),
            failed: None,
        }
    }

    pub(crate) fn failed(&self) -> Option<BodyFailure> {
        self.failed
    }

    /// Moves the deadline by `held`, time the emulator kept the body waiting.
    pub(crate) fn excuse(&mut self, held: Duration) {
        self.excused += held;
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn deadline(&self) -> Instant {
        let started = self.started.unwrap_or_else(Instant::now);
        if self.limits.timeout.is_zero() {
            // Effectively never.
            return started + Duration::from_secs(365 * 24 * 3600);
        }
        let extra = if self.limits.min_rate == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(self.received as f64 / self.limits.min_rate as f64)
        };
        started + self.limits.timeout + extra + self.excused
    }

    async fn fill(&mut self, io: &mut ConnIo) -> Result<(), BodyError> {
        if self.started.is_none() {
            self.started = Some(Instant::now());
            io.slot.waiting();
        }
        if self.pending_continue {
            self.pending_continue = false;
            io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| BodyError::Gone)?;
        }
        match io.fill(self.deadline()).await {
            Ok(0) => Err(BodyError::Gone),
            Ok(_) => Ok(()),
            Err(ReadError::TimedOut) => Err(BodyError::TooSlow),
            Err(ReadError::Evicted | ReadError::Io) => Err(BodyError::Gone),
        }
    }

    /// The next piece of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self, io: &mut ConnIo) -> Result<Option<Bytes>, BodyError> {
        if self.failed.is_some() {
            return Err(BodyError::Gone);
        }
        let r = self.next_piece(io).await;
        if let Err(e) = &r {
            self.failed = Some(match e {
                BodyError::TooSlow => BodyFailure::TooSlow,
                _ => BodyFailure::Other,
            });
        }
        r
    }

    async fn next_piece(&mut self, io: &mut ConnIo) -> Result<Option<Bytes>, BodyError> {
        loop {
            match self.state {
                State::Done => {
                    io.slot.working();
                    return Ok(None);
                }
                State::Length(rem) | State::ChunkData(rem) => {
                    if io.buf.is_empty() {
                        self.fill(io).await?;
                    }
                    let n = (rem.min(io.buf.len() as u64)) as usize;
                    let data = io.buf.split_to(n).freeze();
                    self.received += n as u64;
                    let left = rem - n as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), l) => State::Length(l),
                        (_, 0) => State::ChunkEnd,
                        (_, l) => State::ChunkData(l),
                    };
                    return Ok(Some(data));
                }
                State::ChunkSize => {
                    let line = self.line(io).await?;
                    let size = line.split(|&b| b == b';').next().unwrap_or(&[]);
                    let size = std::str::from_utf8(size)
                        .unwrap_or("")
                        .trim_matches([' ', '\t']);
                    let n = (!size.is_empty() && size.len() <= 16)
                        .then(|| u64::from_str_radix(size, 16).ok())
                        .flatten()
                        .ok_or_else(|| {
                            BodyError::Malformed(format!(
                                "bad chunk size {:?}",
                                String::from_utf8_lossy(&line)
                            ))
                        })?;
                    self.state = if n == 0 {
                        State::Trailer
                    } else {
                        State::ChunkData(n)
                    };
                }
                State::ChunkEnd => {
                    let line = self.line(io).await?;
                    if !line.is_empty() {
                        return Err(BodyError::Malformed(
                            "chunk data longer than its size".into(),
                        ));
                    }
                    self.state = State::ChunkSize;
                }
                State::Trailer => {
                    let line = self.line(io).await?;
                    self.trailer_bytes += line.len() + 2;
                    if self.trailer_bytes > MAX_TRAILER {
                        return Err(BodyError::Malformed("trailer fields too long".into()));
                    }
                    if line.is_empty() {
                        self.state = State::Done;
                    }
                }
            }
        }
    }

    /// One line of chunked framing, without its line end.
    async fn line(&mut self, io: &mut ConnIo) -> Result<Vec<u8>, BodyError> {
        loop {
            if let Some(nl) = io.buf.iter().position(|&b| b == b'\n') {
                let mut line = io.buf.split_to(nl + 1).to_vec();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if io.buf.len() > MAX_LINE {
                return Err(BodyError::Malformed("chunk framing line too long".into()));
            }
            self.fill(io).await?;
        }
    }

    /// When the rest of a Content-Length body is already in the buffer, drops it and says so:
    /// the connection can then serve another request.
    pub(crate) fn skip_buffered(&mut self, io: &mut ConnIo) -> bool {
        match self.state {
            State::Done => true,
            State::Length(rem) if rem <= io.buf.len() as u64 => {
                io.buf.advance(rem as usize);
                self.state = State::Done;
                true
            }
            _ => false,
        }
    }

    /// Reads and drops the rest of the body, at most `cap` more bytes and within `within`; true
    /// if it all came.
    pub(crate) async fn discard(&mut self, io: &mut ConnIo, cap: u64, within: Duration) -> bool {
        let until = Instant::now() + within;
        let mut dropped = 0u64;
        let drained = tokio::time::timeout_at(until, async {
            while let Ok(Some(b)) = self.chunk(io).await {
                dropped += b.len() as u64;
                if dropped > cap {
                    return false;
                }
            }
            self.is_done()
        })
        .await;
        drained.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(fields: &str) -> Head {
        super::super::head::parse(format!("POST / HTTP/1.1\r\n{fields}\r\n").as_bytes()).unwrap()
    }

    #[test]
    fn framings() {
        assert_eq!(framing(&head("")).unwrap(), Framing::Length(0));
        assert_eq!(
            framing(&head("Content-Length: 12\r\n")).unwrap(),
            Framing::Length(12)
        );
        assert_eq!(
            framing(&head("Content-Length: 5\r\nContent-Length: 5\r\n")).unwrap(),
            Framing::Length(5)
        );
        assert!(framing(&head("Content-Length: 5\r\nContent-Length: 6\r\n")).is_err());
        assert!(framing(&head("Content-Length: -1\r\n")).is_err());
        assert_eq!(
            framing(&head("Transfer-Encoding: chunked\r\n")).unwrap(),
            Framing::Chunked
        );
        assert!(framing(&head("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n")).is_err());
        assert!(framing(&head("Transfer-Encoding: gzip\r\n")).is_err());
    }
}
