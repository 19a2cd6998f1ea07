//! Answers, and how they are written: status line, headers, then the body from memory or read
//! from a finished file's parts (on the blocking pool).

use std::io;
use std::sync::Arc;

use bytes::Bytes;

use super::io::ConnIo;
use crate::protocol::Reply;
use crate::store::FileRecord;

#[derive(Debug)]
pub(crate) enum RespBody {
    Bytes(Bytes),
    /// `len` bytes of a finished file from `start`.
    File {
        file: Arc<FileRecord>,
        start: u64,
        len: u64,
    },
}

#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: RespBody,
    /// Close the connection after this answer.
    pub close: bool,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

impl Response {
    pub(crate) fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: RespBody::Bytes(body.into()),
            close: false,
        }
    }

    /// A protocol answer: JSON, HTTP `status` (200 on the API path).
    pub(crate) fn reply(status: u16, reply: &Reply) -> Response {
        Response::bytes(status, "application/json", reply.to_bytes())
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::bytes(
            status,
            "application/json",
            serde_json::to_vec(value).unwrap_or_default(),
        )
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    fn body_len(&self) -> u64 {
        match &self.body {
            RespBody::Bytes(b) => b.len() as u64,
            RespBody::File { len, .. } => *len,
        }
    }

    /// The status line and headers.
    pub(crate) fn head_bytes(&self, date: &str) -> Vec<u8> {
        let mut h = format!(
            "HTTP/1.1 {} {}\r\nDate: {date}\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.body_len()
        );
        for (k, v) in &self.headers {
            h.push_str(k);
            h.push_str(": ");
            h.push_str(v);
            h.push_str("\r\n");
        }
        if self.close {
            h.push_str("Connection: close\r\n");
        }
        h.push_str("\r\n");
        h.into_bytes()
    }

    /// Writes the whole answer; only the head when `head_only` (a HEAD request).
    pub(crate) async fn write(
        &self,
        io: &mut ConnIo,
        date: &str,
        head_only: bool,
    ) -> io::Result<()> {
        let head = self.head_bytes(date);
        match &self.body {
            RespBody::Bytes(b) if !head_only && b.len() <= 64 * 1024 => {
                // One write: a small answer goes out in one packet.
                let mut all = head;
                all.extend_from_slice(b);
                io.write_all(&all).await?;
            }
            RespBody::Bytes(b) => {
                io.write_all(&head).await?;
                if !head_only {
                    io.write_all(b).await?;
                }
            }
            RespBody::File { file, start, len } => {
                io.write_all(&head).await?;
                if !head_only {
                    write_file(io, file, *start, *len).await?;
                }
            }
        }
        io.flush().await
    }
}

/// Streams a range of a finished file, reading its parts on the blocking pool.
async fn write_file(
    io: &mut ConnIo,
    file: &Arc<FileRecord>,
    start: u64,
    len: u64,
) -> io::Result<()> {
    const CHUNK: u64 = 256 * 1024;
    let mut pos = start;
    let end = start + len;
    while pos < end {
        let want = CHUNK.min(end - pos);
        let f = file.clone();
        let data = tokio::task::spawn_blocking(move || read_range(&f, pos, want))
            .await
            .map_err(io::Error::other)??;
        io.write_all(&data).await?;
        pos += data.len() as u64;
    }
    Ok(())
}

/// Up to `want` bytes from `pos`, from the one part holding `pos`.
fn read_range(file: &FileRecord, pos: u64, want: u64) -> io::Result<Vec<u8>> {
    use std::io::{Read as _, Seek as _};
    let (path, within, part_len) = file.locate(pos);
    let n = want.min(part_len - within) as usize;
    let mut buf = vec![0u8; n];
    let mut f = std::fs::File::open(path)?;
    f.seek(io::SeekFrom::Start(within))?;
    f.read_exact(&mut buf)?;
    Ok(buf)
}
