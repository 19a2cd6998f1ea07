//! Starting and stopping an emulator.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::app::{ActiveLimits, App};
use crate::config::EmulatorConfig;
use crate::events::{self, Deliveries, EventQueue, NotifyCounters};
use crate::http::BodyLimits;
use crate::http::conn_table::ConnTable;
use crate::protocol::InitRules;
use crate::store::Store;
use crate::{Stats, tls};

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
    app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    notes: Vec<String>,
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
        config.validate()?;
        let credentials = if config.credentials.is_empty() {
            vec![generate_credential()]
        } else {
            config.credentials.clone()
        };
        let notes = std::sync::Mutex::new(Vec::new());
        let warn = |line: String| {
            log::warn!("{line}");
            notes.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        };
        let (temp_dir, state_dir, store, events) = open_state(&config, &warn)?;

        let (acceptor, ca_pem) = match &config.tls {
            None => (None, None),
            Some(setup) => {
                let (acceptor, pem) = tls::build(setup, &config.canonical_host)?;
                (Some(acceptor), pem)
            }
        };
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let listener = bind(config.listen)?;
        let addr = listener
            .local_addr()
            .map_err(|e| EmulatorError::new(format!("cannot read the bound address: {e}")))?;
        let reachable = reachable(addr);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(64)
            .thread_name("vodupload-emulator")
            .enable_all()
            .build()
            .map_err(|e| EmulatorError::new(format!("cannot start the async runtime: {e}")))?;
        let notify_counters = Arc::new(NotifyCounters::default());
        let deliveries = Arc::new(Deliveries::default());
        let notifier = start_notifier(&config, &notify_counters, &deliveries)?;
        let limits = active_limits(&config, &warn);
        let app = Arc::new(App {
            counters: Default::default(),
            recent: Default::default(),
            credentials: credentials.iter().cloned().collect::<HashMap<_, _>>(),
            canonical_host: config.canonical_host.clone(),
            rate_limit: config.rate_limit,
            init_rules: InitRules {
                any_part_size: config.any_part_size,
                max_file_size: config.max_file_size,
            },
            clock_offset_secs: config.clock_offset_secs,
            quiet: config.quiet,
            base_url: match &config.public_url {
                Some(u) => u.trim_end_matches('/').to_string(),
                None => format!("{scheme}://{reachable}"),
            },
            faults: crate::faults::FaultInjector::new(config.faults.clone()),
            link: (config.faults.bandwidth_bytes_per_sec > 0).then(|| {
                crate::link::SharedLink::new(config.faults.bandwidth_bytes_per_sec as f64)
            }),
            store,
            events,
            notifier,
            notify_counters,
            notify_shown: config.notify_url.as_deref().map(events::redact_url),
            deliveries,
            replay: Default::default(),
            rates: crate::api::RateLimiter::new(config.rates),
            key_locks: Default::default(),
            limits,
            inspector: config.inspector,
            conns: Arc::new(ConnTable::new()),
            started: Instant::now(),
            endpoint: format!("{scheme}://{reachable}/v2/index.php"),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let app2 = app.clone();
        let thread = std::thread::Builder::new()
            .name("vodupload-emulator".into())
            .spawn(move || {
                runtime.block_on(crate::http::serve(listener, acceptor, app2, stop_rx));
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
            app,
            stop: Some(stop_tx),
            thread: Some(thread),
            notes: notes.into_inner().unwrap_or_else(|p| p.into_inner()),
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
        self.app.endpoint()
    }

    /// The inspector page: `{scheme}://127.0.0.1:PORT/` (its JSON at `_emulator/state`).
    pub fn inspector_url(&self) -> String {
        format!("{}://{}/", self.scheme, reachable(self.addr))
    }

    /// The accepted `(SecretId, SecretKey)` pairs (the generated one when none were configured).
    pub fn credentials(&self) -> &[(String, String)] {
        &self.credentials
    }

    /// The PEM of the self-signed certificate, when [`TlsSetup::SelfSigned`](crate::TlsSetup::SelfSigned) was used.
    pub fn ca_cert_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Where parts and finished files are kept.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.app.stats()
    }

    /// The connection limit in force: the configured one, possibly lowered to fit the process's
    /// open-file limit.
    pub fn max_connections(&self) -> usize {
        self.app.limits.max_connections
    }

    /// What starting found worth saying: a lowered connection limit, things in the state
    /// directory that are not the emulator's and were left alone. Also logged (`log::warn`).
    pub fn startup_notes(&self) -> &[String] {
        &self.notes
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(self) {
        drop(self)
    }

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

fn bind(listen: SocketAddr) -> Result<std::net::TcpListener, EmulatorError> {
    let listener = std::net::TcpListener::bind(listen).map_err(|e| {
        EmulatorError::new(format!("cannot bind {listen}: {}", describe_io_error(&e)))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| EmulatorError::new(format!("cannot configure the listener: {e}")))?;
    Ok(listener)
}

/// The thread that POSTs events to the callback URL, when there is one.
fn start_notifier(
    config: &EmulatorConfig,
    counters: &Arc<NotifyCounters>,
    deliveries: &Arc<Deliveries>,
) -> Result<Option<events::Notifier>, EmulatorError> {
    let Some(url) = &config.notify_url else {
        return Ok(None);
    };
    events::Notifier::start(
        url.clone(),
        config.quiet,
        counters.clone(),
        deliveries.clone(),
    )
    .map(Some)
    .map_err(|e| EmulatorError::new(format!("cannot start the notification thread: {e}")))
}

/// The state directory (a temporary one unless configured), opened, and its event queue.
type OpenState = (Option<tempfile::TempDir>, PathBuf, Store, EventQueue);

fn open_state(config: &EmulatorConfig, warn: &dyn Fn(String)) -> Result<OpenState, EmulatorError> {
    let (temp_dir, state_dir) = match &config.state_dir {
        Some(dir) => (None, dir.clone()),
        None => {
            let t = tempfile::Builder::new()
                .prefix("vodupload-emulator-")
                .tempdir()
                .map_err(|e| {
                    EmulatorError::new(format!("cannot create a temporary state directory: {e}"))
                })?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let store = Store::open(&state_dir, config.step_hook.clone(), warn).map_err(|e| {
        EmulatorError::new(format!(
            "cannot use state directory {}: {e}",
            state_dir.display()
        ))
    })?;
    let events = EventQueue::open(store.root(), &|id| store.has_file(id), warn).map_err(|e| {
        EmulatorError::new(format!(
            "cannot use the event queue in {}: {e}",
            state_dir.display()
        ))
    })?;
    Ok((temp_dir, state_dir, store, events))
}

/// The bound address, with the loopback address of its family when it is unspecified.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// File descriptors kept for everything but connections (runtime, listener, state files, the
/// callback thread).
const FD_RESERVE: u64 = 64;

/// The configured limits, the connection bound lowered when the process may not open that many
/// files: each connection needs a descriptor, and a request in progress one or two more (a part
/// being written, a file being read).
fn active_limits(config: &EmulatorConfig, warn: &dyn Fn(String)) -> ActiveLimits {
    let l = config.limits;
    let mut max = l.max_connections;
    if let Some(files) = open_file_limit() {
        let fit = (files.saturating_sub(FD_RESERVE) / 2).max(4) as usize;
        if fit < max {
            warn(format!(
                "at most {fit} connections (not {max}): the open-file limit is {files} (ulimit -n)"
            ));
            max = fit;
        }
    }
    ActiveLimits {
        max_connections: max,
        header_timeout: l.header_timeout,
        idle_timeout: l.idle_timeout,
        body: BodyLimits {
            timeout: l.body_timeout,
            min_rate: l.min_body_rate,
        },
    }
}

/// The soft limit on open files, where the system tells it without a system call binding.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn generate_credential() -> (String, String) {
    use rand::Rng as _;
    use rand::distr::Alphanumeric;
    let mut rng = rand::rng();
    let mut word = || -> String {
        (&mut rng)
            .sample_iter(Alphanumeric)
            .take(32)
            .map(char::from)
            .collect()
    };
    let id = word();
    let key = word();
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
