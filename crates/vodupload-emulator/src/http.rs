//! The HTTP side: accept loop, TLS, routing, the three actions, file downloads, faults.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use md5::Digest as _;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWriteExt as _, ReadBuf};
use tokio_rustls::TlsAcceptor;
use vodupload::signature::{sign_string, signatures_equal, string_to_sign};

use crate::events::{EventQueue, Notifier, NotifyCounters};
use crate::faults::{Fault, FaultInjector};
use crate::protocol::{self, Action, Params, Reply};
use crate::store::{self, Assembled, CommitError, Key, Store};
use crate::{EmulatorConfig, Stats};

/// Bodies of requests that carry no part are read and discarded up to this size so the
/// connection can be reused; anything longer closes it.
const DRAIN_CAP: u64 = protocol::MAX_ANY_PART_SIZE + 1;

#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    requests: AtomicU64,
    init_calls: AtomicU64,
    part_calls: AtomicU64,
    finish_calls: AtomicU64,
    pull_calls: AtomicU64,
    confirm_calls: AtomicU64,
    events_created: AtomicU64,
    events_confirmed: AtomicU64,
    parts_stored: AtomicU64,
    part_bytes_stored: AtomicU64,
    faults_injected: AtomicU64,
    errors_returned: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl StatsCounters {
    fn snapshot(&self, notify: &NotifyCounters) -> Stats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            requests: g(&self.requests),
            init_calls: g(&self.init_calls),
            part_calls: g(&self.part_calls),
            finish_calls: g(&self.finish_calls),
            pull_calls: g(&self.pull_calls),
            confirm_calls: g(&self.confirm_calls),
            events_created: g(&self.events_created),
            events_confirmed: g(&self.events_confirmed),
            notify_attempts: g(&notify.attempts),
            notify_delivered: g(&notify.delivered),
            notify_failed: g(&notify.failed),
            parts_stored: g(&self.parts_stored),
            part_bytes_stored: g(&self.part_bytes_stored),
            faults_injected: g(&self.faults_injected),
            errors_returned: g(&self.errors_returned),
        }
    }
}

/// Everything the request handlers share.
pub(crate) struct Shared {
    pub(crate) stats: StatsCounters,
    credentials: HashMap<String, String>,
    canonical_host: String,
    rate_limit: bool,
    any_part_size: bool,
    clock_offset_secs: i64,
    quiet: bool,
    scheme: &'static str,
    addr: SocketAddr,
    faults: FaultInjector,
    store: Store,
    events: EventQueue,
    /// Set when a callback URL is configured.
    notifier: Option<Notifier>,
    notify_counters: Arc<NotifyCounters>,
    replay: protocol::ReplayCache,
    rates: protocol::RateLimiter,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: &EmulatorConfig,
        credentials: Vec<(String, String)>,
        scheme: &'static str,
        addr: SocketAddr,
        store: Store,
        events: EventQueue,
        notifier: Option<Notifier>,
        notify_counters: Arc<NotifyCounters>,
    ) -> Shared {
        Shared {
            stats: StatsCounters::default(),
            credentials: credentials.into_iter().collect(),
            canonical_host: config.canonical_host.clone(),
            rate_limit: config.rate_limit,
            any_part_size: config.any_part_size,
            clock_offset_secs: config.clock_offset_secs,
            quiet: config.quiet,
            scheme,
            addr,
            faults: FaultInjector::new(config.faults.clone()),
            store,
            events,
            notifier,
            notify_counters,
            replay: protocol::ReplayCache::default(),
            rates: protocol::RateLimiter::default(),
        }
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> Stats {
        self.stats.snapshot(&self.notify_counters)
    }

    /// The emulator's clock.
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        let off = Duration::from_secs(self.clock_offset_secs.unsigned_abs());
        if self.clock_offset_secs >= 0 {
            now.checked_add(off).unwrap_or(now)
        } else {
            now.checked_sub(off).unwrap_or(SystemTime::UNIX_EPOCH)
        }
    }

    fn now_unix(&self) -> i64 {
        match self.now().duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        }
    }

    fn date_header(&self) -> HeaderValue {
        HeaderValue::from_str(&httpdate::fmt_http_date(self.now()))
            .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
    }

    fn file_url(&self, host: &str, file_id: &str, file_type: &str) -> String {
        format!(
            "{}://{}/vod/{file_id}/f0.{file_type}",
            self.scheme,
            if host.is_empty() {
                self.addr.to_string()
            } else {
                host.to_string()
            }
        )
    }
}

/// The service's way of saying "close the connection without answering".
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose (fault injection)")
    }
}

impl std::error::Error for DropConnection {}

/// A response body: bytes in memory, or a finished file streamed from disk.
pub(crate) enum RespBody {
    Bytes(Option<Bytes>),
    File {
        file: tokio::fs::File,
        remaining: u64,
    },
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RespBody::Bytes(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            RespBody::File { file, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let n = (*remaining).min(256 * 1024) as usize;
                let mut buf = vec![0u8; n];
                let mut rb = ReadBuf::new(&mut buf);
                match Pin::new(file).poll_read(cx, &mut rb) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) => {
                        let got = rb.filled().len();
                        if got == 0 {
                            return Poll::Ready(Some(Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "stored file shorter than its metadata",
                            ))));
                        }
                        buf.truncate(got);
                        *remaining -= got as u64;
                        Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RespBody::Bytes(b) => b.is_none(),
            RespBody::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            RespBody::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

/// Accepts connections until `stop` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("vodupload-emulator: cannot use the listener: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            r = listener.accept() => match r {
                Ok((tcp, _peer)) => {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(connection(tcp, acceptor.clone(), shared.clone()));
                }
                Err(_) => {
                    // Out of file descriptors and the like: breathe, then go on.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let svc = service_fn(move |req| handle(shared.clone(), req));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(60))
        .keep_alive(true);
    match acceptor {
        Some(acceptor) => {
            let tls =
                match tokio::time::timeout(Duration::from_secs(20), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    _ => return,
                };
            let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
        }
        None => {
            let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, DropConnection> {
    bump(&shared.stats.requests, 1);
    let path = req.uri().path();
    if path == "/v2/index.php" || path == "/v3/index.php" {
        api(&shared, req).await
    } else if path.starts_with("/vod/") {
        Ok(download(&shared, req).await)
    } else {
        let method = req.method().clone();
        let path = path.to_string();
        drain(req.into_body(), 1024 * 1024).await;
        let reply = Reply::error(
            protocol::E_NOT_FOUND,
            format!("no such path {}", protocol::printable(&path)),
            false,
        );
        log(
            &shared,
            &method,
            &path,
            "-",
            &format!("404 {}", reply.code),
            Instant::now(),
            None,
        );
        Ok(json_response(&shared, StatusCode::NOT_FOUND, &reply, None))
    }
}

fn json_response(
    shared: &Shared,
    status: StatusCode,
    reply: &Reply,
    truncate: Option<()>,
) -> Response<RespBody> {
    let mut bytes = reply.to_bytes();
    if truncate.is_some() {
        bytes.truncate(bytes.len() / 2);
    }
    let len = bytes.len();
    let mut resp = Response::new(RespBody::Bytes(Some(Bytes::from(bytes))));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::DATE, shared.date_header());
    if reply.close {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn bad_gateway(shared: &Shared) -> Response<RespBody> {
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let mut resp = Response::new(RespBody::Bytes(Some(Bytes::from_static(html.as_bytes()))));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(html.len()));
    h.insert(header::DATE, shared.date_header());
    resp
}

fn log(
    shared: &Shared,
    method: &Method,
    path: &str,
    action: &str,
    outcome: &str,
    started: Instant,
    fault: Option<Fault>,
) {
    let fault = match fault {
        None | Some(Fault::None) => String::new(),
        Some(f) => format!(" fault={f:?}"),
    };
    let ms = started.elapsed().as_millis();
    // Verbose: straight to stderr. Quiet (library use): only through `log`, at debug level.
    if shared.quiet {
        log::debug!("{method} {path} {action} -> {outcome} {ms}ms{fault}");
    } else {
        eprintln!("{method} {path} {action} -> {outcome} {ms}ms{fault}");
    }
}

/// Reads and discards a body up to `cap` bytes; false if it was longer (or broken).
async fn drain(mut body: Incoming, cap: u64) -> bool {
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    n += d.len() as u64;
                    if n > cap {
                        return false;
                    }
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// One request to /v2/index.php or /v3/index.php.
async fn api(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, DropConnection> {
    let started = Instant::now();
    let (head, body) = req.into_parts();
    let method = head.method.clone();
    let path = head.uri.path().to_string();
    let host = head
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| head.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let content_length = head
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let params = protocol::parse_query(head.uri.query().unwrap_or(""));
    let action = params
        .as_ref()
        .ok()
        .and_then(|p| p.get("Action"))
        .and_then(Action::parse);
    let action_name = action.map_or("-", Action::name);
    match action {
        Some(Action::Init) => bump(&shared.stats.init_calls, 1),
        Some(Action::Part) => bump(&shared.stats.part_calls, 1),
        Some(Action::Finish) => bump(&shared.stats.finish_calls, 1),
        Some(Action::PullEvent) => bump(&shared.stats.pull_calls, 1),
        Some(Action::ConfirmEvent) => bump(&shared.stats.confirm_calls, 1),
        None => {}
    }

    let latency = shared.faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let fault = if action.is_some() {
        shared.faults.decide()
    } else {
        Fault::None
    };
    if fault != Fault::None {
        bump(&shared.stats.faults_injected, 1);
    }
    match fault {
        Fault::Fail => {
            let drained = drain(body, DRAIN_CAP).await;
            let mut reply = Reply::error(
                protocol::E_WRITE_CACHE,
                "write cache failed (injected fault)",
                true,
            );
            reply.close = !drained;
            bump(&shared.stats.errors_returned, 1);
            log(
                shared,
                &method,
                &path,
                action_name,
                &reply.code.to_string(),
                started,
                Some(fault),
            );
            return Ok(json_response(shared, StatusCode::OK, &reply, None));
        }
        Fault::Http502 => {
            drain(body, DRAIN_CAP).await;
            bump(&shared.stats.errors_returned, 1);
            log(
                shared,
                &method,
                &path,
                action_name,
                "HTTP 502",
                started,
                Some(fault),
            );
            return Ok(bad_gateway(shared));
        }
        Fault::DropBefore => {
            log(
                shared,
                &method,
                &path,
                action_name,
                "dropped",
                started,
                Some(fault),
            );
            return Err(DropConnection);
        }
        _ => {}
    }

    let mut body = Some(body);
    let mut reply = match params {
        Err(r) => r,
        Ok(params) => {
            process(
                shared,
                &method,
                &path,
                &host,
                &params,
                &mut body,
                content_length,
            )
            .await
        }
    };
    if let Some(b) = body.take()
        && !reply.close
        && !drain(b, DRAIN_CAP).await
    {
        reply.close = true;
    }
    if !reply.is_success() {
        bump(&shared.stats.errors_returned, 1);
    }
    match fault {
        Fault::DropAfter => {
            log(
                shared,
                &method,
                &path,
                action_name,
                &format!("{} then dropped", reply.code),
                started,
                Some(fault),
            );
            Err(DropConnection)
        }
        Fault::Slow => {
            tokio::time::sleep(Duration::from_millis(shared.faults.slow_ms())).await;
            log(
                shared,
                &method,
                &path,
                action_name,
                &reply.code.to_string(),
                started,
                Some(fault),
            );
            Ok(json_response(shared, StatusCode::OK, &reply, None))
        }
        Fault::Truncate => {
            log(
                shared,
                &method,
                &path,
                action_name,
                &format!("{} truncated", reply.code),
                started,
                Some(fault),
            );
            Ok(json_response(shared, StatusCode::OK, &reply, Some(())))
        }
        _ => {
            let outcome = if reply.is_success() {
                reply.code.to_string()
            } else {
                format!("{} ({})", reply.code, reply.message())
            };
            log(shared, &method, &path, action_name, &outcome, started, None);
            Ok(json_response(shared, StatusCode::OK, &reply, None))
        }
    }
}

/// Common checks (method, Action, common parameters, signature, clock, replay, rate), then the
/// action itself.
async fn process(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    host: &str,
    params: &Params,
    body: &mut Option<Incoming>,
    content_length: Option<u64>,
) -> Reply {
    if method != Method::GET && method != Method::POST {
        return Reply::error(
            protocol::E_PROTOCOL_NOT_SUPPORTED,
            format!("HTTP method {method} is not supported: use POST"),
            false,
        );
    }
    let action = match params.get("Action") {
        None | Some("") => return Reply::common("missing parameter Action"),
        Some(a) => match Action::parse(a) {
            Some(a) => a,
            None => {
                return Reply::error(
                    protocol::E_PROTOCOL_NOT_SUPPORTED,
                    format!(
                        "unknown Action {}: this host serves InitUpload, UploadPart, FinishUpload, PullEvent and ConfirmEvent",
                        protocol::printable(a)
                    ),
                    false,
                );
            }
        },
    };
    if action == Action::Part && method != Method::POST {
        return Reply::error(
            protocol::E_PROTOCOL_NOT_SUPPORTED,
            "UploadPart must be sent with POST, the part's bytes as the body",
            false,
        );
    }
    let common = match protocol::common_params(params) {
        Ok(c) => c,
        Err(r) => return r,
    };

    // Signature (-10002).
    let Some(secret_key) = shared.credentials.get(&common.secret_id) else {
        return Reply::error(protocol::E_SIGNATURE, "unknown SecretId", false);
    };
    let mut hosts: Vec<&str> = vec![shared.canonical_host.as_str()];
    for h in [host, protocol::host_without_port(host)] {
        if !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    let signed = hosts.iter().any(|h| {
        let s = string_to_sign(method.as_str(), h, path, &params.list);
        signatures_equal(
            &sign_string(&s, secret_key, common.signature_method),
            &common.signature,
        )
    });
    if !signed {
        return Reply::error(protocol::E_SIGNATURE, "signature mismatch", false);
    }

    // Clock and replay (4500).
    let skew = common.timestamp as i128 - shared.now_unix() as i128;
    if skew.abs() > protocol::MAX_CLOCK_SKEW_SECS as i128 {
        return Reply::error(
            protocol::E_REPLAY,
            format!(
                "request expired: Timestamp is {}s {} the server's clock (at most {}s allowed)",
                skew.abs(),
                if skew < 0 { "behind" } else { "ahead of" },
                protocol::MAX_CLOCK_SKEW_SECS
            ),
            false,
        );
    }
    if shared.replay.seen(&common.signature) {
        return Reply::error(
            protocol::E_REPLAY,
            "replayed request: this Signature was already used by a successful request (use a new Nonce)",
            false,
        );
    }

    // Frequency (4400).
    if shared.rate_limit && !shared.rates.admit(&common.secret_id, action) {
        return Reply::error(
            protocol::E_FREQUENCY,
            format!(
                "{} called too often: at most {} calls per minute per SecretId",
                action.name(),
                action.rate_limit().unwrap_or(0)
            ),
            true,
        );
    }

    let reply = match action {
        Action::Init => init_upload(shared, &common.secret_id, host, params).await,
        Action::Part => upload_part(shared, &common.secret_id, params, body, content_length).await,
        Action::Finish => finish_upload(shared, &common.secret_id, host, params).await,
        Action::PullEvent => pull_event(shared, &common.secret_id),
        Action::ConfirmEvent => confirm_event(shared, &common.secret_id, params),
    };
    if reply.is_success() {
        shared.replay.record(&common.signature);
    }
    reply
}

fn write_failed(e: &io::Error) -> Reply {
    Reply::error(
        protocol::E_WRITE_CACHE,
        format!("write cache failed: {e}"),
        true,
    )
}

fn file_reply(shared: &Shared, code: i64, host: &str, f: &store::FileMeta) -> Reply {
    Reply::success(code).with("fileId", json!(f.file_id)).with(
        "url",
        json!(shared.file_url(host, &f.file_id, &f.session.file_type)),
    )
}

async fn init_upload(shared: &Shared, secret_id: &str, host: &str, params: &Params) -> Reply {
    let meta =
        match protocol::init_params(params, secret_id, shared.any_part_size, shared.now_unix()) {
            Ok(m) => m,
            Err(r) => return r,
        };
    let key = meta.key();
    let lock = shared.store.key_lock(&key);
    let _guard = lock.lock().await;
    if let Some(f) = shared.store.finished(&key) {
        return file_reply(shared, 2, host, &f);
    }
    if let Some((old, parts)) = shared.store.session(&key) {
        if old.file_size != meta.file_size {
            return Reply::protocol(format!(
                "fileSize {} differs from the fileSize {} of the upload already started for this fileSha",
                meta.file_size, old.file_size
            ));
        }
        if !parts.is_empty() {
            let list: Vec<serde_json::Value> = parts
                .iter()
                .map(|(o, p)| json!({"offset": o, "dataSize": p.len, "dataMd5": p.md5}))
                .collect();
            return Reply::success(1)
                .with("dataSize", json!(old.data_size))
                .with("listParts", serde_json::Value::Array(list));
        }
    }
    match shared.store.put_session(meta) {
        Ok(()) => Reply::success(0),
        Err(e) => write_failed(&e),
    }
}

enum BodyProblem {
    TooLong,
    Client,
    Io(io::Error),
}

/// Streams a part body into `dest`, never accepting more than `expected` bytes; returns its length
/// and MD5.
async fn read_part(
    body: &mut Incoming,
    expected: u64,
    dest: &std::path::Path,
) -> Result<(u64, String), BodyProblem> {
    let file = tokio::fs::File::create(dest)
        .await
        .map_err(BodyProblem::Io)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut md5 = md5::Md5::new();
    let mut len = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyProblem::Client)?;
        if let Ok(data) = frame.into_data() {
            if len + data.len() as u64 > expected {
                return Err(BodyProblem::TooLong);
            }
            md5.update(&data);
            out.write_all(&data).await.map_err(BodyProblem::Io)?;
            len += data.len() as u64;
        }
    }
    out.flush().await.map_err(BodyProblem::Io)?;
    out.into_inner().shutdown().await.map_err(BodyProblem::Io)?;
    Ok((len, store::md5_hex(&md5.finalize())))
}

async fn upload_part(
    shared: &Shared,
    secret_id: &str,
    params: &Params,
    body: &mut Option<Incoming>,
    content_length: Option<u64>,
) -> Reply {
    let pp = match protocol::part_params(params) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let key: Key = (secret_id.to_string(), pp.file_sha.clone());
    let Some((session, _)) = shared.store.session(&key) else {
        let why = if shared.store.finished(&key).is_some() {
            "this file is already finished (FinishUpload was called)"
        } else {
            "call InitUpload first"
        };
        return Reply::protocol(format!(
            "no upload session for fileSha {}: {why}",
            pp.file_sha
        ));
    };
    let expected = match protocol::check_part_against(&session, &pp) {
        Ok(len) => len,
        Err(r) => return r,
    };
    if let Some(cl) = content_length
        && cl != expected
    {
        let r = Reply::packet(format!(
            "Content-Length {cl} does not match the part's length {expected}"
        ));
        // A longer body is not read at all.
        return if cl > expected { r.closing() } else { r };
    }
    let Some(mut incoming) = body.take() else {
        return Reply::packet("request body missing");
    };
    let tmp = shared.store.temp_file("part");
    let (len, md5) = match read_part(&mut incoming, expected, tmp.path()).await {
        Ok(v) => v,
        Err(BodyProblem::TooLong) => {
            return Reply::packet(format!(
                "the body is longer than the part's length {expected}"
            ))
            .closing();
        }
        Err(BodyProblem::Client) => {
            return Reply::packet("the request body could not be read in full").closing();
        }
        Err(BodyProblem::Io(e)) => {
            let mut r = write_failed(&e);
            if !drain(incoming, DRAIN_CAP).await {
                r.close = true;
            }
            return r;
        }
    };
    if len != expected {
        return Reply::packet(format!(
            "the body is {len} bytes, the part's length is {expected}"
        ));
    }
    if md5 != pp.data_md5 {
        return Reply::packet(format!(
            "dataMd5 mismatch: the body's MD5 is {md5}, dataMd5 says {}",
            pp.data_md5
        ));
    }
    let lock = shared.store.key_lock(&key);
    let _guard = lock.lock().await;
    match shared
        .store
        .commit_part(&session, pp.offset, store::PartInfo { len, md5 }, tmp)
    {
        Ok(()) => {
            bump(&shared.stats.parts_stored, 1);
            bump(&shared.stats.part_bytes_stored, len);
            Reply::success(0)
        }
        Err(CommitError::SessionChanged) => Reply::protocol(
            "the upload session was finished or restarted while this part was being sent",
        ),
        Err(CommitError::Io(e)) => write_failed(&e),
    }
}

async fn finish_upload(
    shared: &Arc<Shared>,
    secret_id: &str,
    host: &str,
    params: &Params,
) -> Reply {
    let sha = match protocol::file_sha(params) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let key: Key = (secret_id.to_string(), sha.clone());
    let lock = shared.store.key_lock(&key);
    let _guard = lock.lock().await;
    if let Some(f) = shared.store.finished(&key) {
        return file_reply(shared, 0, host, &f);
    }
    let Some((meta, parts)) = shared.store.session(&key) else {
        return Reply::protocol(format!(
            "no upload session for fileSha {sha}: call InitUpload first"
        ));
    };
    let total = meta.part_count();
    let have: std::collections::HashSet<u64> = parts.iter().map(|(o, _)| *o).collect();
    let missing: Vec<u64> = (0..total)
        .map(|i| i * meta.data_size)
        .filter(|o| !have.contains(o))
        .collect();
    if let Some(first) = missing.first() {
        return Reply::protocol(format!(
            "parts missing: {} of {total}, first missing offset {first}",
            missing.len()
        ));
    }
    // Reading every part and writing the file is blocking work: do it on the blocking pool
    // (the key lock stays held meanwhile, so nothing else touches this session).
    let result = {
        let shared = shared.clone();
        let key = key.clone();
        tokio::task::spawn_blocking(move || shared.store.assemble(&key))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(format!("assembly task failed: {e}"))))
    };
    match result {
        Ok(Assembled::Done(f)) => {
            // Still under the key lock: the event exists before anyone can see the file finished.
            upload_completed(shared, secret_id, host, &f);
            file_reply(shared, 0, host, &f)
        }
        Ok(Assembled::ShaMismatch { actual }) => {
            shared.store.clear_parts(&key);
            Reply::protocol(format!(
                "assembled file does not match fileSha: its SHA-1 is {actual}; the stored parts were deleted, upload them again"
            ))
        }
        Err(e) => write_failed(&e),
    }
}

/// Queues the "Video Upload Completed" event of a file just assembled, and hands it to the
/// callback thread. One event per file: a FinishUpload repeated for a finished file (a retry, or
/// after an instant upload) creates none. The upload has succeeded whatever happens here, so a
/// failure to store the event is logged, not answered.
fn upload_completed(shared: &Shared, secret_id: &str, host: &str, f: &store::FileMeta) {
    let content = crate::events::new_file_upload(
        &f.file_id,
        &shared.file_url(host, &f.file_id, &f.session.file_type),
        &f.session.file_name,
    );
    let body = serde_json::to_vec(&content).unwrap_or_default();
    match shared.events.push(secret_id, content) {
        Ok(_) => bump(&shared.stats.events_created, 1),
        Err(e) => {
            let line = format!("cannot store the upload event of file {}: {e}", f.file_id);
            if shared.quiet {
                log::error!("{line}");
            } else {
                eprintln!("{line}");
            }
        }
    }
    if let Some(n) = &shared.notifier {
        n.send(body);
    }
}

/// PullEvent: the oldest unconfirmed events of this SecretId (at most 16), which stay queued
/// until confirmed. `eventContent` is the event as a JSON object.
fn pull_event(shared: &Shared, secret_id: &str) -> Reply {
    let list: Vec<serde_json::Value> = shared
        .events
        .pull(secret_id, crate::events::MAX_PULL)
        .into_iter()
        .map(|e| json!({"msgHandle": e.msg_handle, "eventContent": e.event_content}))
        .collect();
    Reply::success(0).with("eventList", serde_json::Value::Array(list))
}

/// ConfirmEvent: removes the events whose `msgHandle.N` are given. Unknown or already confirmed
/// handles are ignored, so a retried ConfirmEvent succeeds.
fn confirm_event(shared: &Shared, secret_id: &str, params: &Params) -> Reply {
    let handles = match protocol::confirm_handles(params, crate::events::MAX_CONFIRM) {
        Ok(h) => h,
        Err(r) => return r,
    };
    match shared.events.confirm(secret_id, &handles) {
        Ok(n) => {
            bump(&shared.stats.events_confirmed, n);
            Reply::success(0)
        }
        Err(e) => write_failed(&e),
    }
}

/// GET/HEAD of a finished file's url.
async fn download(shared: &Shared, req: Request<Incoming>) -> Response<RespBody> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let not_found = |shared: &Shared, status: StatusCode, msg: &str| {
        let reply = Reply::error(protocol::E_NOT_FOUND, msg, false);
        log(
            shared,
            &method,
            &path,
            "-",
            &status.as_u16().to_string(),
            started,
            None,
        );
        json_response(shared, status, &reply, None)
    };
    if method != Method::GET && method != Method::HEAD {
        return not_found(shared, StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    // /vod/{fileId}/f0.{ext}
    let segs: Vec<&str> = path.trim_start_matches("/vod/").split('/').collect();
    let found = match segs.as_slice() {
        [id, name] => name.strip_prefix("f0.").and_then(|ext| {
            shared
                .store
                .file_by_id(id)
                .filter(|(m, _)| m.session.file_type.eq_ignore_ascii_case(ext))
        }),
        _ => None,
    };
    let Some((meta, data_path)) = found else {
        return not_found(shared, StatusCode::NOT_FOUND, "no such file");
    };
    let file = match tokio::fs::File::open(&data_path).await {
        Ok(f) => f,
        Err(_) => return not_found(shared, StatusCode::NOT_FOUND, "no such file"),
    };
    let len = meta.session.file_size;
    // For HEAD hyper sends the headers only.
    let mut resp = Response::new(RespBody::File {
        file,
        remaining: len,
    });
    let h = resp.headers_mut();
    let ctype = match meta.session.file_type.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "flv" => "video/x-flv",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ts" => "video/mp2t",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::DATE, shared.date_header());
    log(shared, &method, &path, "-", "200", started, None);
    resp
}
