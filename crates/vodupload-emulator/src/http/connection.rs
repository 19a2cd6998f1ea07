//! One connection: TLS handshake, then requests one after the other (keep-alive) until the
//! client closes, a limit is hit, or an answer has to close it.
//!
//! An answer given before the request's body was read (an error found in the head) closes the
//! connection: the body is not read first. After the answer, what the client is still sending is
//! read and dropped for a short, bounded while, so its send does not fail before it reads the
//! answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf as _, Bytes};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::body::{self, BodyError, BodyFailure, BodyReader, Framing};
use super::conn_table::Registration;
use super::head::{self, Head, MAX_HEAD};
use super::io::{ConnIo, ReadError, Stream};
use super::response::Response;
use crate::app::App;
use crate::link::SharedLink;
use crate::protocol::Reply;
use crate::stats::{RequestRecord, bump};

/// After an early answer, at most this much of the rest of the body is read and dropped...
const LINGER_BYTES: u64 = crate::protocol::MAX_ANY_PART_SIZE + (1 << 20);
/// ...within this long.
const LINGER_TIME: Duration = Duration::from_secs(10);

/// A request as the handlers see it: its head, and its body to read (or not).
pub(crate) struct Request<'c> {
    pub head: Head,
    io: &'c mut ConnIo,
    body: BodyReader,
    framing: Framing,
    link: Option<&'c SharedLink>,
}

impl Request<'_> {
    /// The next piece of the body; `None` at its end. Behind a thin link (`--bandwidth`), a
    /// piece comes once the link has carried it.
    pub(crate) async fn body_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        let piece = self.body.chunk(self.io).await?;
        if let (Some(link), Some(bytes)) = (self.link, &piece) {
            let held = link.carry(bytes.len()).await;
            self.body.excuse(held);
        }
        Ok(piece)
    }

    /// The body's length, when the client announced it (Content-Length).
    pub(crate) fn announced_length(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            Framing::Chunked => None,
        }
    }
}

/// What a handler decided.
#[derive(Debug)]
pub(crate) enum Outcome {
    Respond(Response),
    /// Close the connection without a word (fault injection).
    Drop,
}

enum HeadRead {
    Head(Head),
    /// The client closed, went silent, or was evicted: nothing to answer.
    Gone,
    Bad(String),
    TooLarge,
    /// A TLS ClientHello on a plain-HTTP listener: an https:// client pointed at an http://
    /// emulator. No HTTP answer can reach it; closing at once spares it the header timeout.
    TlsOnPlain,
}

pub(crate) async fn run(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    reg: Registration,
) {
    let plain = tls.is_none();
    let stream: Box<dyn Stream> = match tls {
        None => Box::new(tcp),
        Some(acceptor) => {
            let handshake = tokio::time::timeout(app.limits.header_timeout, acceptor.accept(tcp));
            tokio::select! {
                _ = reg.slot.evicted() => return,
                r = handshake => match r {
                    Ok(Ok(tls)) => Box::new(tls),
                    _ => return,
                },
            }
        }
    };
    let mut io = ConnIo::new(stream, reg.slot.clone());
    let mut first = true;
    loop {
        let head = match read_head(&mut io, &app, first, plain).await {
            HeadRead::Head(h) => h,
            HeadRead::Gone => return,
            HeadRead::TlsOnPlain => {
                bump(&app.counters.requests);
                bump(&app.counters.errors_returned);
                let mut rec = RequestRecord::new("-", "-");
                rec.result =
                    "closed: a TLS handshake on this plain-HTTP port (the client must use http://)"
                        .into();
                app.record(rec);
                io.shutdown().await;
                return;
            }
            HeadRead::Bad(why) => {
                bump(&app.counters.requests);
                let _ = refuse(&mut io, &app, 400, &format!("malformed request: {why}")).await;
                return;
            }
            HeadRead::TooLarge => {
                bump(&app.counters.requests);
                let msg = format!("request head larger than {MAX_HEAD} bytes");
                let _ = refuse(&mut io, &app, 431, &msg).await;
                return;
            }
        };
        first = false;
        let framing = match body::framing(&head) {
            Ok(f) => f,
            Err(why) => {
                bump(&app.counters.requests);
                let _ = refuse(&mut io, &app, 400, &why).await;
                return;
            }
        };
        let reader = BodyReader::new(framing, app.limits.body, head.expects_continue());
        let mut req = Request {
            head,
            io: &mut io,
            body: reader,
            framing,
            link: app.link.as_ref(),
        };
        let outcome = crate::router::route(&app, &mut req).await;
        let Request { head, mut body, .. } = req;
        if body.failed() == Some(BodyFailure::TooSlow) {
            bump(&app.counters.requests_timed_out);
        }
        let Outcome::Respond(mut resp) = outcome else {
            return;
        };
        let complete = body.skip_buffered(&mut io);
        resp.close |= !complete || head.wants_close();
        if resp
            .write(&mut io, &app.date_header(), head.is_head())
            .await
            .is_err()
        {
            return;
        }
        if resp.close {
            io.shutdown().await;
            if !complete && body.failed().is_none() {
                body.discard(&mut io, LINGER_BYTES, LINGER_TIME).await;
            }
            return;
        }
    }
}

/// `plain`: a plain-HTTP connection, where an https:// client's handshake may arrive first.
async fn read_head(io: &mut ConnIo, app: &App, first: bool, plain: bool) -> HeadRead {
    io.slot.waiting();
    let limits = &app.limits;
    let mut started: Option<Instant> = None;
    let mut scanned = 0;
    loop {
        // Blank lines before a request line are allowed (and ignored).
        while io.buf.starts_with(b"\r\n") || io.buf.starts_with(b"\n") {
            let n = if io.buf[0] == b'\r' { 2 } else { 1 };
            io.buf.advance(n);
            scanned = 0;
        }
        if started.is_none() && !io.buf.is_empty() {
            started = Some(Instant::now());
        }
        // A TLS record: content type 22 (handshake), then major version 3.
        if first && plain && io.buf.len() >= 2 && io.buf[0] == 0x16 && io.buf[1] == 0x03 {
            return HeadRead::TlsOnPlain;
        }
        if let Some(end) = head::head_end(&io.buf, scanned) {
            let bytes = io.buf.split_to(end);
            io.slot.working();
            return match head::parse(&bytes) {
                Ok(h) => HeadRead::Head(h),
                Err(e) => HeadRead::Bad(e.0),
            };
        }
        scanned = io.buf.len();
        if io.buf.len() > MAX_HEAD {
            return HeadRead::TooLarge;
        }
        let deadline = match started {
            Some(t) => t + limits.header_timeout,
            None if first => Instant::now() + limits.header_timeout,
            None => Instant::now() + limits.idle_timeout,
        };
        match io.fill(deadline).await {
            Ok(0) => return HeadRead::Gone,
            Ok(_) => {}
            Err(ReadError::TimedOut) => {
                if started.is_some() {
                    bump(&app.counters.requests_timed_out);
                }
                return HeadRead::Gone;
            }
            Err(ReadError::Evicted | ReadError::Io) => return HeadRead::Gone,
        }
    }
}

/// Answers a request that cannot be read (the protocol's JSON, -10001) and closes.
async fn refuse(io: &mut ConnIo, app: &App, status: u16, why: &str) -> std::io::Result<()> {
    bump(&app.counters.errors_returned);
    let mut rec = RequestRecord::new("-", "-");
    rec.result = format!("HTTP {status} {}", crate::protocol::E_COMMON);
    app.record(rec);
    let resp = Response::reply(status, &Reply::common(why)).closing();
    resp.write(io, &app.date_header(), false).await?;
    io.shutdown().await;
    Ok(())
}
