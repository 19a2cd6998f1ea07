//! A connection's byte stream (TCP or TLS) with its read buffer. Every read has a deadline and
//! gives up when the connection is evicted; every write has a time limit too, so neither a
//! silent client nor one that stops reading can hold a connection.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::time::Instant;

use super::conn_table::ConnSlot;

/// TCP or TLS.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Why no bytes came.
#[derive(Debug)]
pub(crate) enum ReadError {
    TimedOut,
    Evicted,
    /// The connection failed.
    Io,
}

/// A write that does not progress for this long ends the connection.
const WRITE_STALL: Duration = Duration::from_secs(30);
/// Reads ask for at least this much room in the buffer.
const READ_CHUNK: usize = 64 * 1024;

pub(crate) struct ConnIo {
    stream: Box<dyn Stream>,
    pub(crate) buf: BytesMut,
    pub(crate) slot: Arc<ConnSlot>,
}

impl ConnIo {
    pub(crate) fn new(stream: Box<dyn Stream>, slot: Arc<ConnSlot>) -> ConnIo {
        ConnIo {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
            slot,
        }
    }

    /// Appends what the client sends next to the buffer; `Ok(0)` at the end of its stream.
    pub(crate) async fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        if self.slot.is_evicted() {
            return Err(ReadError::Evicted);
        }
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        let slot = &self.slot;
        let stream = &mut self.stream;
        let buf = &mut self.buf;
        tokio::select! {
            biased;
            _ = slot.evicted() => Err(ReadError::Evicted),
            r = tokio::time::timeout_at(deadline, stream.read_buf(buf)) => match r {
                Err(_) => Err(ReadError::TimedOut),
                Ok(Err(_)) => Err(ReadError::Io),
                Ok(Ok(n)) => Ok(n),
            },
        }
    }

    pub(crate) async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        // Bounded per call: callers write at most a few hundred KiB at a time.
        tokio::time::timeout(WRITE_STALL, self.stream.write_all(data))
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    }

    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        tokio::time::timeout(WRITE_STALL, self.stream.flush())
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    }

    /// Ends our side (FIN, or TLS close_notify): the client sees the end of the answer even if
    /// it is still sending.
    pub(crate) async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }
}
