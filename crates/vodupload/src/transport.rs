//! One signed request, sent with retries: the only place that talks HTTP.
//!
//! Every attempt is signed afresh (new Nonce and Timestamp), because the service refuses a
//! replayed signature; the body is borrowed (bytes, or a range of the file read afresh), so a
//! retry can always send it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::body::{BodyReader, PartBody};
use crate::concurrency::Window;
use crate::config::{ClientOptions, MAX_CONCURRENCY};
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};
use crate::pacing::Pacer;
use crate::protocol::preview;
use crate::signature::{encode_query, sign};

/// ureq's send buffer per connection. A part whose MD5 is known is read from the file straight
/// into it and written to the socket from it: 512 KiB (ureq's default is 128) means fewer, larger
/// reads and writes, which cut the system time of sending by a fifth here (measured); it also
/// bounds memory: one buffer per connection, whatever the part size.
const OUTPUT_BUFFER: usize = 512 * 1024;
/// Largest answer read unless the request says otherwise: the service's answers are a few hundred
/// bytes, but for InitUpload's part list (see [`crate::protocol::init_answer_limit`]).
const SMALL_ANSWER_LIMIT: u64 = 256 * 1024;
/// A clock this far from the server's is corrected when the server refuses a timestamp.
const SKEW_TOLERANCE_SECS: i64 = 300;

/// Which of the client's two endpoints a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `options.endpoint`: InitUpload, UploadPart, FinishUpload; paced by `rate_limits`.
    Upload,
    /// `options.events_endpoint`: PullEvent, ConfirmEvent; not paced.
    Events,
}

impl Api {
    /// How messages name the server.
    fn noun(self) -> &'static str {
        match self {
            Api::Upload => "the upload host",
            Api::Events => "the event API",
        }
    }
}

/// One request as the client means it; [`Transport::call`] signs it, sends it and retries it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub api: Api,
    pub action: &'a str,
    /// The action's own parameters (the common ones and the signature are added per attempt).
    pub params: &'a [(String, String)],
    /// UploadPart's bytes.
    pub body: Option<PartBody<'a>>,
    /// Names the request in logs and errors, e.g. "part 3 (offset 3145728)"; may be empty.
    pub what: &'a str,
    /// The largest answer accepted, in bytes.
    pub answer_limit: u64,
    /// Counts the attempts that timed out, lost their connection or were refused for the rate
    /// (4400): the concurrency window's congestion signal, even when a retry then succeeds.
    pub congested: Option<&'a AtomicU32>,
}

impl<'a> Request<'a> {
    /// `action` on the upload host, without a body, with a small answer expected.
    pub(crate) fn upload(action: &'a str, params: &'a [(String, String)]) -> Self {
        Request {
            api: Api::Upload,
            action,
            params,
            body: None,
            what: "",
            answer_limit: SMALL_ANSWER_LIMIT,
            congested: None,
        }
    }

    /// `action` on the event API.
    pub(crate) fn events(action: &'a str, params: &'a [(String, String)]) -> Self {
        Request {
            api: Api::Events,
            ..Request::upload(action, params)
        }
    }

    /// The request's name in messages: the action, and what it is about when known.
    fn name(&self) -> String {
        if self.what.is_empty() {
            self.action.to_owned()
        } else {
            format!("{} {}", self.action, self.what)
        }
    }
}

/// The parsed endpoint: what is signed and where requests go.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub url: String,
    /// The authority as written (with `:port` only if given), as the string to sign wants it.
    pub host: String,
    pub path: String,
    /// `localhost` or a loopback address: an emulator on this machine.
    pub loopback: bool,
}

impl Endpoint {
    pub(crate) fn parse(s: &str) -> Result<Self> {
        Endpoint::parse_as(s, "endpoint", crate::config::DEFAULT_ENDPOINT)
    }

    /// `what` names the option in errors; `example` is a good value.
    pub(crate) fn parse_as(s: &str, what: &str, example: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "{what} {s:?} is not a usable URL ({why}); expected e.g. {example}"
            ))
        };
        let uri: ureq::http::Uri = s.parse().map_err(|_| bad("it does not parse"))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(bad("the scheme must be http or https")),
        }
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .filter(|h| !h.is_empty() && !h.contains('@'))
            .ok_or_else(|| bad("it has no host"))?;
        if uri.query().is_some() {
            return Err(bad("it must not carry a query string"));
        }
        let path = match uri.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        };
        let name = uri.host().unwrap_or_default();
        let loopback = name.eq_ignore_ascii_case("localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        Ok(Endpoint {
            url: format!("{}://{host}{path}", uri.scheme_str().unwrap_or("https")),
            host,
            path,
            loopback,
        })
    }
}

/// A response that arrived, whatever its status.
struct RawResponse {
    status: u16,
    date: Option<SystemTime>,
    /// Where a 3xx pointed.
    location: Option<String>,
    body: Vec<u8>,
}

/// Shared by every upload of a client: the connection pool, pacing and clock correction.
#[derive(Debug)]
pub(crate) struct Transport {
    agent: Agent,
    endpoint: Endpoint,
    events_endpoint: Endpoint,
    credentials: Credentials,
    options: ClientOptions,
    pacer: Arc<Pacer>,
    /// The parts in flight of every upload with [`Concurrency::Auto`](crate::Concurrency).
    window: Window,
    /// Seconds to add to the local clock, learnt from the server's Date header after a 4500.
    clock_offset: AtomicI64,
}

impl Transport {
    pub(crate) fn new(credentials: Credentials, options: ClientOptions) -> Result<Arc<Self>> {
        options.validate()?;
        let endpoint = Endpoint::parse(&options.endpoint)?;
        let events_endpoint = Endpoint::parse_as(
            &options.events_endpoint,
            "events endpoint",
            crate::config::DEFAULT_EVENTS_ENDPOINT,
        )?;
        let mut tls = TlsConfig::builder();
        if let Some(path) = &options.ca_file {
            tls = tls.root_certs(load_ca_file(path)?);
        }
        let proxy = match &options.proxy {
            Some(p) => Some(
                ureq::Proxy::new(p)
                    .map_err(|e| Error::invalid_input(format!("proxy {p:?} is not usable: {e}")))?,
            ),
            // A server on this machine (an emulator) is reached directly whatever HTTP_PROXY
            // says, as Go's ProxyFromEnvironment does: a proxy elsewhere cannot reach our
            // loopback, and a local one was set for the outside world.
            None if endpoint.loopback => None,
            None => ureq::Proxy::try_from_env(),
        };
        let config = Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is never right here: the request would lose its body and its signature
            // (signed for another host), and a body-less GET elsewhere could "succeed".
            .max_redirects(0)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.request_timeout))
            .output_buffer_size(OUTPUT_BUFFER)
            .max_idle_connections(MAX_CONCURRENCY * 2)
            .max_idle_connections_per_host(MAX_CONCURRENCY * 2)
            .user_agent(concat!("vodupload/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .proxy(proxy)
            .build();
        let store = options
            .pacing_url
            .as_deref()
            .map(crate::pacing::PacingStore::parse)
            .transpose()?;
        let pacer = Pacer::shared(
            &endpoint.url,
            credentials.secret_id(),
            options.rate_limits,
            store.as_ref(),
        );
        Ok(Arc::new(Transport {
            window: Window::new(),
            agent: config.new_agent(),
            endpoint,
            events_endpoint,
            pacer,
            credentials,
            options,
            clock_offset: AtomicI64::new(0),
        }))
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub(crate) fn window(&self) -> &Window {
        &self.window
    }

    /// Sends `req` until it succeeds, fails for good, or the attempts run out; `parse` checks each
    /// answer that arrived with a 2xx status. `retries` counts the attempts after the first.
    /// Only [`Api::Upload`] is paced.
    pub(crate) fn call(
        &self,
        req: Request<'_>,
        stop: &dyn Fn() -> bool,
        retries: &AtomicU64,
        parse: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let action = req.action;
        let what = req.what;
        let max = self.options.max_attempts;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if stop() {
                return Err(cancelled());
            }
            if req.api == Api::Upload && !self.pacer.wait(action, stop)? {
                return Err(cancelled());
            }
            let started = Instant::now();
            let outcome = self.send_once(&req, stop);
            let elapsed = started.elapsed().as_millis();
            let err = match outcome {
                Ok(resp) if (200..300).contains(&resp.status) => match parse(&resp.body) {
                    Ok(()) => {
                        log::debug!(
                            "{action} {what} attempt {attempt}: HTTP {} ok in {elapsed} ms",
                            resp.status
                        );
                        return Ok(());
                    }
                    Err(e) => {
                        if e.server().is_some_and(|s| s.code == 4500)
                            && self.correct_clock(resp.date)
                        {
                            // The refusal was our clock, not a replay: the same attempt budget
                            // continues with the corrected time.
                            continue;
                        }
                        e
                    }
                },
                Ok(resp) => http_status_error(&req, &resp),
                // A send cut short because the caller stopped is no failure of the request.
                Err(_) if stop() => return Err(cancelled()),
                Err(e) => e,
            };
            log::debug!("{action} {what} attempt {attempt}: failed in {elapsed} ms: {err}");
            if let Some(c) = req.congested {
                if is_congestion(&err) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            if !err.is_transient() || attempt >= max {
                return Err(if attempt > 1 && err.is_transient() {
                    err.with_context_over(
                        format!("{} failed after {attempt} attempts", req.name()),
                        &format!("{action}: "),
                    )
                } else {
                    err
                });
            }
            let delay = self.backoff(attempt);
            log::info!(
                "retrying {action} {what} in {} ms (attempt {}/{max}): {err}",
                delay.as_millis(),
                attempt + 1
            );
            retries.fetch_add(1, Ordering::Relaxed);
            if !sleep_unless(delay, stop) {
                return Err(cancelled());
            }
        }
    }

    fn send_once(&self, request: &Request<'_>, stop: &dyn Fn() -> bool) -> Result<RawResponse> {
        let (api, action) = (request.api, request.action);
        let endpoint = match api {
            Api::Upload => &self.endpoint,
            Api::Events => &self.events_endpoint,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + self.clock_offset.load(Ordering::Relaxed);
        let nonce: u32 = rand::random_range(1..=u32::MAX);
        let mut all: Vec<(String, String)> = Vec::with_capacity(request.params.len() + 8);
        all.push(("Action".into(), action.into()));
        all.push(("Region".into(), self.options.region.clone()));
        all.push(("Timestamp".into(), now.to_string()));
        all.push(("Nonce".into(), nonce.to_string()));
        all.push(("SecretId".into(), self.credentials.secret_id().into()));
        if self.options.signature_method != crate::SignatureMethod::HmacSha1 {
            all.push((
                "SignatureMethod".into(),
                self.options.signature_method.as_param().into(),
            ));
        }
        all.extend(request.params.iter().cloned());
        let signature = sign(
            "POST",
            &endpoint.host,
            &endpoint.path,
            &all,
            self.credentials.secret_key(),
            self.options.signature_method,
        );
        all.push(("Signature".into(), signature));
        let url = format!("{}?{}", endpoint.url, encode_query(&all));
        let req = self
            .agent
            .post(&url)
            .header("Content-Type", "application/octet-stream");
        let mut reader: Option<BodyReader<'_>> = None;
        let result = match request.body {
            Some(b) => {
                // Through a reader that checks `stop`, so a cancel lands mid-part on a slow link;
                // the explicit length keeps the body length-delimited, not chunked, which also
                // lets ureq read it straight into its output buffer.
                let r = reader.insert(b.reader(stop));
                req.header("Content-Length", b.len.to_string())
                    .send(ureq::SendBody::from_reader(r))
            }
            None => req.send_empty(),
        };
        if let Some((offset, e)) = reader.as_mut().and_then(BodyReader::take_file_error) {
            // Our file failed us, not the network: no retry can help.
            return Err(Error::io(
                format_args!("cannot read the file at offset {offset} to send it"),
                &e,
            ));
        }
        let mut resp = result.map_err(|e| map_ureq_error(action, endpoint, &self.options, e))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let date = header("date").and_then(|d| httpdate::parse_http_date(&d).ok());
        let location = header("location");
        let limit = request.answer_limit;
        let body = resp
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "{action}: {}'s answer is larger than {limit} bytes, more than this request can legitimately get; is the endpoint right?",
                        api.noun()
                    ),
                ),
                e => map_ureq_error(action, endpoint, &self.options, e),
            })?;
        Ok(RawResponse {
            status,
            date,
            location,
            body,
        })
    }

    /// Adopts the server's clock when ours is far off; true if that changed anything.
    fn correct_clock(&self, server_date: Option<SystemTime>) -> bool {
        let Some(server) = server_date else {
            return false;
        };
        let server = server
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let offset = server - local;
        let old = self.clock_offset.load(Ordering::Relaxed);
        if (offset - old).abs() <= SKEW_TOLERANCE_SECS {
            return false;
        }
        self.clock_offset.store(offset, Ordering::Relaxed);
        log::warn!(
            "the upload host refused our timestamp: the local clock is {offset} s off the server's Date; correcting and retrying"
        );
        true
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.retry_base_delay.as_millis() as u64;
        let max = self.options.retry_max_delay.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << (attempt - 1).min(20)).min(max);
        // "Equal jitter": at least half the delay, so retries still back off, spread so parallel
        // parts that failed together do not retry together.
        Duration::from_millis(exp / 2 + rand::random_range(0..=exp / 2))
    }
}

/// Whether `e` says too much was in flight: a timeout, a lost connection, or the service's 4400.
pub(crate) fn is_congestion(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Network)
        || e.server().is_some_and(|s| s.code == 4400)
}

pub(crate) fn cancelled() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "the upload was cancelled; the parts already sent stay on the server, so running it again resumes",
    )
}

fn sleep_unless(d: Duration, stop: &dyn Fn() -> bool) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop() {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(20)));
    }
}

fn http_status_error(req: &Request<'_>, resp: &RawResponse) -> Error {
    let (action, api, status, body) = (req.action, req.api, resp.status, &resp.body);
    if (300..400).contains(&status) {
        // Only where it points: a hostile server could echo our query (and its Signature).
        let to = resp.location.as_deref().map_or("nowhere".to_owned(), |l| {
            format!("{:?}", l.split(['?', '#']).next().unwrap_or_default())
        });
        return Error::new(
            ErrorKind::Protocol,
            format!(
                "{action}: {} answered HTTP {status}, a redirect to {to}; redirects are not followed (the request would lose its body and signature): set the endpoint to the final URL",
                api.noun()
            ),
        )
        .transient(false);
    }
    let retry = status >= 500 || status == 429 || status == 408;
    Error::new(
        ErrorKind::Protocol,
        format!(
            "{action}: {} answered HTTP {status}{}: {:?}",
            api.noun(),
            if retry {
                ""
            } else {
                " (check the endpoint URL)"
            },
            preview(body)
        ),
    )
    .transient(retry)
}

fn map_ureq_error(
    action: &str,
    endpoint: &Endpoint,
    options: &ClientOptions,
    e: ureq::Error,
) -> Error {
    use ureq::Error as U;
    let host = &endpoint.host;
    // Certificate failures surface as several variants (Tls, Rustls, Io); they share the word.
    let text = e.to_string();
    if matches!(e, U::Tls(_) | U::Rustls(_)) || text.contains("certificate") {
        return Error::new(
            ErrorKind::Network,
            format!(
                "{action}: TLS with {host} failed: {text}; if this is your own server, pass its CA certificate (ca_file / --ca-file)"
            ),
        )
        .transient(false);
    }
    match e {
        // Say which limit ran out, in the option's words, so the user knows what to raise.
        U::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => Error::new(
            ErrorKind::Timeout,
            format!(
                "{action}: could not connect to {host} within {} s (connect_timeout)",
                options.connect_timeout.as_secs_f64()
            ),
        ),
        U::Timeout(_) => Error::new(
            ErrorKind::Timeout,
            format!(
                "{action}: {host} did not answer within {} s (request_timeout: sending the request and reading the answer)",
                options.request_timeout.as_secs_f64()
            ),
        ),
        U::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Error::new(
                ErrorKind::Timeout,
                format!("{action}: timed out talking to {host}: {io}"),
            )
        }
        U::HostNotFound => Error::new(
            ErrorKind::Network,
            format!("{action}: cannot resolve the host {host}"),
        ),
        U::ConnectionFailed => Error::new(
            ErrorKind::Network,
            format!("{action}: cannot connect to {host}"),
        ),
        U::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::HostUnreachable
            ) =>
        {
            Error::new(
                ErrorKind::Network,
                format!(
                    "{action}: cannot connect to {host} ({io}); is the endpoint right and the server up?"
                ),
            )
        }
        U::Io(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof
                && endpoint.url.starts_with("https://") =>
        {
            // What a plain-HTTP server (an emulator started without TLS) does to a handshake.
            Error::new(
                ErrorKind::Network,
                format!(
                    "{action}: {host} closed the connection ({io}); if that server speaks plain HTTP, use an http:// endpoint"
                ),
            )
        }
        U::BadUri(u) => Error::invalid_input(format!("{action}: bad request URI {u}")),
        other => Error::new(
            ErrorKind::Network,
            format!("{action}: talking to {host} failed: {other}"),
        ),
    }
}

fn load_ca_file(path: &std::path::Path) -> Result<RootCerts> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::io(
            format_args!("cannot read the CA file {}", path.display()),
            &e,
        )
    })?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(Error::invalid_input(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(RootCerts::new_with_certs(&certs))
}
