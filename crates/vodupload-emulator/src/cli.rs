//! The `vodupload emulator` command line (also the `vodupload-emulator` binary).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use crate::api::{
    DEFAULT_BURST_SECS, DEFAULT_INIT_FINISH_PER_MINUTE, DEFAULT_UPLOAD_PART_PER_MINUTE,
};
use crate::config::validate_faults;
use crate::{Emulator, EmulatorConfig, EmulatorError, Faults, Limits, Rates, StepHook, TlsSetup};

/// Runs a local server that speaks the VOD upload protocol (InitUpload, UploadPart,
/// FinishUpload) and enforces it strictly, for tests and demos. It also serves the event queue
/// (PullEvent, ConfirmEvent) and can POST each upload's event to a callback URL.
#[derive(Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for parts, finished files and events, kept across restarts and crashes: a new
    /// or empty directory, or one an emulator already uses (anything else is refused) [default:
    /// a temporary directory deleted on exit].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// An accepted credential, SecretId:SecretKey (repeatable; default: one random credential,
    /// printed at start).
    #[arg(long = "credential", value_name = "ID:KEY")]
    pub credentials: Vec<String>,

    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(
        long,
        value_name = "PEM",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a fresh self-signed certificate (localhost, 127.0.0.1 and the canonical
    /// host), written to this file so clients can trust it.
    #[arg(long, value_name = "CERT_OUT.pem")]
    pub tls_self_signed: Option<PathBuf>,

    /// The host name clients may sign with instead of the one they connect to.
    #[arg(long, value_name = "HOST", default_value = "vod2.qcloud.com")]
    pub canonical_host: String,

    /// Base of the file urls in answers and events: http:// or https://, a host, maybe a port
    /// and a path prefix. For clients that reach the emulator by another address than the one it
    /// listens on [default: the listening address, loopback when listening on all addresses].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// The largest fileSize InitUpload accepts (bytes, or with a unit: 64GiB, 500MiB).
    #[arg(long, value_name = "SIZE", default_value = "64GiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Open connections at most (also kept below what the open-file limit allows); when all
    /// are taken, the one waiting longest for its client is closed to make room.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,

    /// Seconds a request head (or TLS handshake) may take from its first byte.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().header_timeout.as_secs())]
    pub header_timeout_secs: u64,

    /// Seconds a kept-alive connection may wait for its next request.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    pub idle_timeout_secs: u64,

    /// Seconds a request body may take, plus one per --min-body-rate bytes received (0: no
    /// limit).
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().body_timeout.as_secs())]
    pub body_timeout_secs: u64,

    /// Bytes per second that keep a body within its time (0: --body-timeout-secs is a fixed
    /// deadline).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().min_body_rate)]
    pub min_body_rate: u64,

    /// Don't serve the inspector (the page at /, /_emulator/state, /_emulator/health).
    #[arg(long)]
    pub no_inspector: bool,

    /// Probability of answering -10004 (canRetry=1) without doing the work.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub fail_rate: f64,

    /// Probability of closing the connection without an answer (half before, half after the work).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub drop_rate: f64,

    /// Probability of answering HTTP 502 with an HTML page.
    #[arg(long = "http502-rate", value_name = "P", default_value_t = 0.0)]
    pub http502_rate: f64,

    /// Probability of answering with the JSON cut in half (after doing the work).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub truncate_rate: f64,

    /// Probability of delaying the answer by --slow-ms (after doing the work).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub slow_rate: f64,

    /// Delay of a slow answer, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub slow_ms: u64,

    /// Latency added to every protocol answer, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,

    /// Bandwidth of a thin link, in MB/s (10^6 bytes), shared by every connection: request
    /// bodies arrive no faster [default: no limit].
    #[arg(long, value_name = "MB_PER_S")]
    pub bandwidth: Option<f64>,

    /// Seed of the fault decisions (same seed, same sequence of faults).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Don't enforce the call rates (--rate-upload-part, --rate-init-finish).
    #[arg(long)]
    pub no_rate_limit: bool,

    /// UploadPart calls a minute per SecretId on average (one every 60 s / N, in bursts of up to
    /// --rate-burst-secs of them); beyond it, 4400 with canRetry=1.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_UPLOAD_PART_PER_MINUTE)]
    pub rate_upload_part: u32,

    /// InitUpload and FinishUpload calls a minute per SecretId, each, the same way.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_INIT_FINISH_PER_MINUTE)]
    pub rate_init_finish: u32,

    /// The burst each rate allows, in seconds' worth of calls: 60 accepts a minute's calls at
    /// once; 1 holds callers to the rate itself.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_BURST_SECS)]
    pub rate_burst_secs: u32,

    /// Accept any part size up to 64 MiB, not only 524288 and 1048576.
    #[arg(long)]
    pub any_part_size: bool,

    /// Run the emulator's clock this many seconds ahead (negative: behind) of the system clock, at
    /// most ten years (315360000) either way.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub clock_offset_secs: i64,

    /// POST each "Video Upload Completed" event (JSON) to this http:// or https:// URL: 5 s
    /// timeout, 2 retries, the answer's body ignored, never holding up FinishUpload. Deliveries
    /// and failures are logged with --verbose. Events are also served by PullEvent either way.
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,

    /// Log each request to stderr (method, action, code, duration; never keys or signatures).
    #[arg(short, long)]
    pub verbose: bool,
}

/// By hand, so the SecretKeys given with `--credential` never reach a log or a panic message.
impl std::fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self
            .credentials
            .iter()
            .map(|c| c.split_once(':').map_or("?", |(id, _)| id))
            .collect();
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field("state", &self.state)
            .field("credential_ids", &ids)
            .finish_non_exhaustive()
    }
}

impl EmulatorArgs {
    /// Checks the arguments and turns them into a configuration (`quiet` unless --verbose).
    pub fn into_config(self) -> Result<EmulatorConfig, EmulatorError> {
        let mut credentials = Vec::new();
        for c in &self.credentials {
            match c.split_once(':') {
                Some((id, key)) if !id.is_empty() && !key.is_empty() => {
                    credentials.push((id.to_string(), key.to_string()))
                }
                _ => {
                    return Err(EmulatorError::new(format!(
                        "--credential must be SECRET_ID:SECRET_KEY, got {:?}",
                        redact(c)
                    )));
                }
            }
        }
        let tls = match (self.tls_cert, self.tls_key, self.tls_self_signed) {
            (Some(cert), Some(key), None) => Some(TlsSetup::Files { cert, key }),
            (None, None, Some(out)) => Some(TlsSetup::SelfSigned {
                cert_out: Some(out),
            }),
            (None, None, None) => None,
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(EmulatorError::new(
                    "--tls-cert and --tls-key must be given together",
                ));
            }
            (Some(_), Some(_), Some(_)) => {
                return Err(EmulatorError::new(
                    "use either --tls-cert/--tls-key or --tls-self-signed, not both",
                ));
            }
        };
        if self.slow_rate > 0.0 && self.slow_ms == 0 {
            return Err(EmulatorError::new(
                "--slow-rate needs --slow-ms (how long a slow answer is delayed)",
            ));
        }
        let faults = Faults {
            seed: self.seed,
            fail_rate: self.fail_rate,
            drop_rate: self.drop_rate,
            http502_rate: self.http502_rate,
            truncate_rate: self.truncate_rate,
            slow_rate: self.slow_rate,
            slow_ms: self.slow_ms,
            latency_ms: self.latency_ms,
            bandwidth_bytes_per_sec: self
                .bandwidth
                .map(Faults::bandwidth_from_mb_per_s)
                .transpose()?
                .unwrap_or(0),
        };
        validate_faults(&faults)?;
        if self.canonical_host.is_empty() {
            return Err(EmulatorError::new("--canonical-host must not be empty"));
        }
        Ok(EmulatorConfig {
            listen: self.listen,
            state_dir: self.state,
            credentials,
            tls,
            canonical_host: self.canonical_host,
            public_url: self.public_url,
            faults,
            rate_limit: !self.no_rate_limit,
            rates: Rates {
                upload_part_per_minute: self.rate_upload_part,
                init_finish_per_minute: self.rate_init_finish,
                burst_secs: self.rate_burst_secs,
            },
            any_part_size: self.any_part_size,
            max_file_size: self.max_file_size,
            limits: Limits {
                max_connections: self.max_connections,
                header_timeout: Duration::from_secs(self.header_timeout_secs),
                idle_timeout: Duration::from_secs(self.idle_timeout_secs),
                body_timeout: Duration::from_secs(self.body_timeout_secs),
                min_body_rate: self.min_body_rate,
            },
            inspector: !self.no_inspector,
            clock_offset_secs: self.clock_offset_secs,
            quiet: !self.verbose,
            notify_url: self.notify_url,
            step_hook: match std::env::var(PAUSE_AT_ENV) {
                Ok(step) if !step.is_empty() => StepHook::pause_at(step),
                _ => StepHook::default(),
            },
        })
    }
}

/// Names a step (see `hooks::STEPS`) where the process stops for good, to be killed there: how
/// the crash tests reach each point of the durable work. For tests only.
const PAUSE_AT_ENV: &str = "VODUPLOAD_EMULATOR_PAUSE_AT";

/// "64GiB", "500MiB", "4096": bytes, with binary units (K, M, G, T, with or without "iB" or
/// "B"), as the emulator's size flags and `vodupload bench` take them.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size: use e.g. 4096, 500MiB, 64GiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u => {
            return Err(format!(
                "unknown unit {u:?} in {s:?}: use B, KiB, MiB, GiB or TiB"
            ));
        }
    };
    match n.checked_mul(mult) {
        Some(0) => Err(format!("{s:?}: the size must be at least 1 byte")),
        Some(v) => Ok(v),
        None => Err(format!("{s:?} is too large")),
    }
}

/// Shows the SecretId of a malformed credential argument, never its key.
fn redact(c: &str) -> String {
    match c.split_once(':') {
        Some((id, _)) => format!("{id}:…"),
        None if c.len() > 8 => format!("{}…", &c[..c.char_indices().nth(4).map_or(0, |x| x.0)]),
        None => "…".to_string(),
    }
}

/// Runs the emulator in the foreground until SIGINT or SIGTERM. Prints `credential ID:KEY` for a
/// generated credential, then exactly one `listening on {scheme}://ADDR` line, on stdout.
pub fn run_cli(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let config = args.into_config()?;
    let config_inspector = config.inspector;
    let generated = config.credentials.is_empty();
    let temp_state = config.state_dir.is_none();
    let cert_out = match &config.tls {
        Some(TlsSetup::SelfSigned { cert_out }) => cert_out.clone(),
        _ => None,
    };
    // Signal handlers first, so a signal right after the "listening" line is not lost.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EmulatorError::new(format!("cannot start the async runtime: {e}")))?;
    let signals = rt.block_on(async { Signals::new() })?;

    let emulator = Emulator::start(config)?;
    for note in emulator.startup_notes() {
        eprintln!("vodupload-emulator: {note}");
    }
    if temp_state {
        eprintln!(
            "no --state given: using the temporary directory {} (deleted on exit)",
            emulator.state_dir().display()
        );
    }
    if let Some(out) = cert_out {
        eprintln!("self-signed certificate written to {}", out.display());
    }
    let mut stdout = std::io::stdout().lock();
    let print = |stdout: &mut std::io::StdoutLock<'_>, line: String| {
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|e| EmulatorError::new(format!("cannot write to stdout: {e}")))
    };
    if generated {
        for (id, key) in emulator.credentials() {
            print(&mut stdout, format!("credential {id}:{key}"))?;
        }
    }
    print(
        &mut stdout,
        format!("listening on {}://{}", emulator.scheme(), emulator.addr()),
    )?;
    if config_inspector {
        eprintln!("inspector: {}", emulator.inspector_url());
    }
    drop(stdout);

    let which = rt.block_on(signals.wait());
    eprintln!("{which}: shutting down");
    emulator.shutdown();
    Ok(())
}

struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, EmulatorError> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| EmulatorError::new(format!("cannot handle SIGTERM: {e}")))?,
            #[cfg(unix)]
            int: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| EmulatorError::new(format!("cannot handle SIGINT: {e}")))?,
        })
    }

    #[cfg(unix)]
    async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}

#[cfg(test)]
mod debug_tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: super::EmulatorArgs,
    }

    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("64GiB"), Ok(64 << 30));
        assert_eq!(super::parse_size("4096"), Ok(4096));
        assert!(super::parse_size("0").is_err());
        assert!(super::parse_size("1XB").is_err());
        assert_eq!(super::parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(super::parse_size("1G"), Ok(1 << 30));
        assert_eq!(super::parse_size("8gib"), Ok(8 << 30));
        assert_eq!(super::parse_size("2 KiB"), Ok(2048));
        assert!(super::parse_size("1.5G").is_err());
        assert!(super::parse_size("12 parsecs").is_err());
        assert!(super::parse_size("").is_err());
    }

    #[test]
    fn debug_hides_the_keys() {
        let w = Wrap::parse_from(["x", "--credential", "AKIDone:very-secret-key"]);
        let d = format!("{:?}", w.args);
        assert!(
            d.contains("AKIDone") && !d.contains("very-secret-key"),
            "{d}"
        );
    }
}
