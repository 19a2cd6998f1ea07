//! A local HTTP/1.1 (and HTTPS) server that speaks the server side of the legacy VOD upload
//! protocol (`InitUpload` → `UploadPart` × N → `FinishUpload`, see `PROTOCOL.md`) and enforces it
//! strictly: signatures, timestamps, replays, rate limits, every parameter rule, part sizes and
//! MD5s, and the final SHA-1. State (parts and finished files) lives in a directory and survives
//! restarts. Seeded fault injection (errors, dropped connections, 502s, truncated and slow
//! answers) lets clients prove their retry logic against a real socket.
//!
//! Every FinishUpload that completes a file creates the event "Video Upload Completed"
//! (`{"version":"4.0","eventType":"NewFileUpload","data":{"fileId","fileUrl","fileName",
//! "sourceType":"ServerUpload",...}}`). It is POSTed to [`EmulatorConfig::notify_url`] when set,
//! and kept in a queue, persisted in the state directory, that the same endpoint serves with two
//! more signed actions:
//! - `PullEvent` answers `{"code":0,...,"eventList":[{"msgHandle":"…","eventContent":{…event…}}]}`
//!   with the oldest unconfirmed events of the caller's SecretId, at most 16 (an empty list when
//!   there are none; it does not wait for one). Pulled events stay queued until confirmed.
//! - `ConfirmEvent` with `msgHandle.0`, `msgHandle.1`, ... (at most 16) removes those events.
//!   Handles that are unknown or already confirmed are ignored, so a retry is harmless.
//!
//! ```no_run
//! use vodupload_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).unwrap();
//! let (secret_id, secret_key) = emu.credentials()[0].clone();
//! println!("{} {secret_id} {secret_key}", emu.endpoint());
//! ```

mod cli;
mod events;
mod faults;
mod http;
mod protocol;
mod store;
mod tls;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use cli::{EmulatorArgs, run_cli};

/// Everything an [`Emulator`] needs to start. `Default` gives a plain-HTTP server on a free
/// loopback port, a temporary state directory, one random credential, no faults, rate limits on.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free one. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Where parts and finished files are kept. `None`: a temporary directory deleted when the
    /// [`Emulator`] is dropped.
    pub state_dir: Option<PathBuf>,
    /// Accepted `(SecretId, SecretKey)` pairs. Empty: one random pair is generated.
    pub credentials: Vec<(String, String)>,
    /// `None`: plain HTTP.
    pub tls: Option<TlsSetup>,
    /// The host a client signs with when it does not sign the host it connected to.
    /// Default `vod2.qcloud.com`.
    pub canonical_host: String,
    /// Injected faults; all zero by default.
    pub faults: Faults,
    /// Enforce the per-SecretId call rates (UploadPart 10,000/min, Init/Finish 100/min). Default true.
    pub rate_limit: bool,
    /// Accept any part size from 1 byte to 64 MiB instead of only 512 KiB and 1 MiB. Default false.
    pub any_part_size: bool,
    /// The emulator's clock is the system clock plus this many seconds (timestamp checks and the
    /// `Date` header). Default 0.
    pub clock_offset_secs: i64,
    /// Don't log requests to stderr. Default true.
    pub quiet: bool,
    /// Where to POST each "Video Upload Completed" event (`http://` or `https://`): JSON body,
    /// `Content-Type: application/json`, 5 s timeout, 2 retries (after a connection failure,
    /// a timeout or a non-2xx status; the answer's body is ignored), from a background thread
    /// that never holds up an answer. Failures are logged (stderr unless quiet, else `log`) and
    /// counted in [`Stats`]; the event stays in the PullEvent queue either way. Deliveries still
    /// pending when the emulator stops are dropped (the queue keeps the events). Default None.
    pub notify_url: Option<String>,
}

/// Shows the SecretIds, never the SecretKeys.
impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.credentials.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("EmulatorConfig")
            .field("listen", &self.listen)
            .field("state_dir", &self.state_dir)
            .field("secret_ids", &ids)
            .field("tls", &self.tls)
            .field("canonical_host", &self.canonical_host)
            .field("faults", &self.faults)
            .field("rate_limit", &self.rate_limit)
            .field("any_part_size", &self.any_part_size)
            .field("clock_offset_secs", &self.clock_offset_secs)
            .field("quiet", &self.quiet)
            .field(
                "notify_url",
                &self.notify_url.as_deref().map(events::redact_url),
            )
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            state_dir: None,
            credentials: Vec::new(),
            tls: None,
            canonical_host: "vod2.qcloud.com".to_string(),
            faults: Faults::default(),
            rate_limit: true,
            any_part_size: false,
            clock_offset_secs: 0,
            quiet: true,
            notify_url: None,
        }
    }
}

/// How the emulator gets its TLS certificate.
#[derive(Debug, Clone)]
pub enum TlsSetup {
    /// A PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    Files { cert: PathBuf, key: PathBuf },
    /// A fresh self-signed certificate for `localhost`, `127.0.0.1` and the canonical host; its
    /// PEM is also written to `cert_out` when given (and available from [`Emulator::ca_cert_pem`]).
    SelfSigned { cert_out: Option<PathBuf> },
}

/// Fault injection, decided per protocol request from an RNG seeded with `seed` (so a
/// single-threaded sequence of requests always sees the same faults). Rates are probabilities in
/// `0.0..=1.0`. Faults apply to the protocol actions (the three of an upload, PullEvent and
/// ConfirmEvent), never to file downloads or event callbacks.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Answer `-10004 write cache failed` with `canRetry=1`, without doing the work.
    pub fail_rate: f64,
    /// Close the connection without any answer: half before the work is done, half after it
    /// (e.g. the part is stored, then the connection is dropped).
    pub drop_rate: f64,
    /// Answer HTTP 502 with an HTML body, without doing the work.
    pub http502_rate: f64,
    /// Do the work, then answer 200 with the JSON body cut in half.
    pub truncate_rate: f64,
    /// Do the work, then wait `slow_ms` before answering.
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Added to every protocol answer.
    pub latency_ms: u64,
}

/// A snapshot of the emulator's counters.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Every HTTP request, whatever its path.
    pub requests: u64,
    pub init_calls: u64,
    pub part_calls: u64,
    pub finish_calls: u64,
    pub pull_calls: u64,
    pub confirm_calls: u64,
    /// "Video Upload Completed" events queued (one per file finished).
    pub events_created: u64,
    /// Events removed by ConfirmEvent.
    pub events_confirmed: u64,
    /// POSTs to the notify URL, retries included.
    pub notify_attempts: u64,
    /// Events the notify URL accepted (a 2xx answer).
    pub notify_delivered: u64,
    /// Events whose every attempt failed.
    pub notify_failed: u64,
    /// Parts accepted and stored (a re-sent part counts again).
    pub parts_stored: u64,
    pub part_bytes_stored: u64,
    pub faults_injected: u64,
    /// Protocol answers with an error code (negative, or 4000 and up), injected `-10004`s and
    /// HTTP 502s included (not 404s of unknown paths or files).
    pub errors_returned: u64,
}

/// Why the emulator could not start (or run).
#[derive(Debug, Clone)]
pub struct EmulatorError {
    message: String,
}

impl EmulatorError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        EmulatorError {
            message: message.into(),
        }
    }

    /// The message, also given by `Display`.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EmulatorError {}

/// A running emulator. Dropping it (or [`Emulator::shutdown`]) stops the server and joins its
/// thread; a temporary state directory is deleted then.
pub struct Emulator {
    addr: SocketAddr,
    scheme: &'static str,
    credentials: Vec<(String, String)>,
    ca_pem: Option<String>,
    state_dir: PathBuf,
    shared: Arc<http::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    // Declared last: removed only after the server thread has been joined (see Drop).
    temp_dir: Option<tempfile::TempDir>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("scheme", &self.scheme)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts the server on its own background thread (with its own tokio runtime) and returns
    /// once it is listening.
    pub fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        validate_faults(&config.faults)?;
        if config.canonical_host.is_empty() {
            return Err(EmulatorError::new("the canonical host must not be empty"));
        }
        for (id, key) in &config.credentials {
            if id.is_empty() || key.is_empty() {
                return Err(EmulatorError::new(
                    "a credential needs a non-empty SecretId and SecretKey",
                ));
            }
        }
        let credentials = if config.credentials.is_empty() {
            vec![generate_credential()]
        } else {
            config.credentials.clone()
        };

        let (temp_dir, state_dir) = match &config.state_dir {
            Some(dir) => (None, dir.clone()),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("vodupload-emulator-")
                    .tempdir()
                    .map_err(|e| {
                        EmulatorError::new(format!(
                            "cannot create a temporary state directory: {e}"
                        ))
                    })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        if let Some(url) = &config.notify_url {
            events::check_notify_url(url).map_err(EmulatorError::new)?;
        }
        let store = store::Store::open(&state_dir).map_err(|e| {
            EmulatorError::new(format!(
                "cannot use state directory {}: {e}",
                state_dir.display()
            ))
        })?;
        let event_queue = events::EventQueue::open(store.root()).map_err(|e| {
            EmulatorError::new(format!(
                "cannot use the event queue in {}: {e}",
                state_dir.display()
            ))
        })?;

        let (acceptor, ca_pem) = match &config.tls {
            None => (None, None),
            Some(setup) => {
                let (acceptor, pem) = tls::build(setup, &config.canonical_host)?;
                (Some(acceptor), pem)
            }
        };
        let scheme = if acceptor.is_some() { "https" } else { "http" };

        let listener = std::net::TcpListener::bind(config.listen).map_err(|e| {
            EmulatorError::new(format!(
                "cannot bind {}: {}",
                config.listen,
                describe_io_error(&e)
            ))
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| EmulatorError::new(format!("cannot configure the listener: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| EmulatorError::new(format!("cannot read the bound address: {e}")))?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(32)
            .thread_name("vodupload-emulator")
            .enable_all()
            .build()
            .map_err(|e| EmulatorError::new(format!("cannot start the async runtime: {e}")))?;

        let notify_counters = Arc::new(events::NotifyCounters::default());
        let notifier = match &config.notify_url {
            Some(url) => Some(
                events::Notifier::start(url.clone(), config.quiet, notify_counters.clone())
                    .map_err(|e| {
                        EmulatorError::new(format!("cannot start the notification thread: {e}"))
                    })?,
            ),
            None => None,
        };
        let shared = Arc::new(http::Shared::new(
            &config,
            credentials.clone(),
            scheme,
            addr,
            store,
            event_queue,
            notifier,
            notify_counters,
        ));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let shared2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("vodupload-emulator".into())
            .spawn(move || {
                runtime.block_on(http::serve(listener, acceptor, shared2, stop_rx));
                // Connections still open (a slow answer, say) are dropped here.
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|e| EmulatorError::new(format!("cannot start the server thread: {e}")))?;

        Ok(Emulator {
            addr,
            scheme,
            credentials,
            ca_pem,
            state_dir,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
            temp_dir,
        })
    }

    /// The address actually bound (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `"http"` or `"https"`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// `{scheme}://127.0.0.1:PORT/v2/index.php` (the loopback address of the bound family when
    /// bound to an unspecified address, else the bound address).
    pub fn endpoint(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!(
            "{}://{}/v2/index.php",
            self.scheme,
            SocketAddr::new(ip, self.addr.port())
        )
    }

    /// The accepted `(SecretId, SecretKey)` pairs (the generated one when none were configured).
    pub fn credentials(&self) -> &[(String, String)] {
        &self.credentials
    }

    /// The PEM of the self-signed certificate, when [`TlsSetup::SelfSigned`] was used.
    pub fn ca_cert_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Where parts and finished files are kept.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(self) {
        drop(self)
    }

    /// Blocks until the server thread ends (it only ends after a stop request).
    fn stop_and_join(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_and_join();
        // temp_dir (if any) is dropped after this, once nothing writes to it any more.
        let _ = &self.temp_dir;
    }
}

fn validate_faults(f: &Faults) -> Result<(), EmulatorError> {
    for (name, v) in [
        ("fail rate", f.fail_rate),
        ("drop rate", f.drop_rate),
        ("HTTP 502 rate", f.http502_rate),
        ("truncate rate", f.truncate_rate),
        ("slow rate", f.slow_rate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(EmulatorError::new(format!(
                "the {name} must be a probability between 0 and 1, not {v}"
            )));
        }
    }
    Ok(())
}

fn generate_credential() -> (String, String) {
    use rand::Rng as _;
    use rand::distr::Alphanumeric;
    let mut rng = rand::rng();
    let id: String = (&mut rng)
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let key: String = (&mut rng)
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    (format!("AKID{id}"), key)
}

fn describe_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::AddrInUse => "address already in use".to_string(),
        std::io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
        _ => e.to_string(),
    }
}
