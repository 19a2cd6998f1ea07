//! What an emulator is started with.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::EmulatorError;
use crate::api::Rates;
use crate::hooks::StepHook;

/// The largest `fileSize` InitUpload accepts by default: 64 GiB. The provider's documents for
/// this upload host give no limit; this one is far above any video a test uploads, and bounds
/// what one signed request can make the emulator account for (131,072 parts of 512 KiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 30;

/// Everything an [`Emulator`](crate::Emulator) needs to start. `Default` gives a plain-HTTP
/// server on a free loopback port, a temporary state directory, one random credential, no faults,
/// rate limits on, the inspector on, and the limits of [`Limits::default`].
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free one. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Where parts and finished files are kept: a new or empty directory, or one that already
    /// holds an emulator state (anything else is refused). `None`: a temporary directory deleted
    /// when the [`Emulator`](crate::Emulator) is dropped.
    pub state_dir: Option<PathBuf>,
    /// Accepted `(SecretId, SecretKey)` pairs. Empty: one random pair is generated.
    pub credentials: Vec<(String, String)>,
    /// `None`: plain HTTP.
    pub tls: Option<TlsSetup>,
    /// The host a client signs with when it does not sign the host it connected to.
    /// Default `vod2.qcloud.com`.
    pub canonical_host: String,
    /// Where clients reach the emulator's files: the `url` answers and the events' `fileUrl` are
    /// `{public_url}/vod/{fileId}/f0.{type}`. `http(s)://host[:port][/prefix]`. `None`: the
    /// address it listens on (loopback when it listens on all addresses). Never taken from a
    /// request's Host header, which the client controls.
    pub public_url: Option<String>,
    /// Injected faults; all zero by default.
    pub faults: Faults,
    /// Enforce the per-SecretId call rates ([`EmulatorConfig::rates`]). Default true.
    pub rate_limit: bool,
    /// The rates enforced, calls a minute per SecretId, spread out (one call every 60 s / rate,
    /// bursts of a tenth of a second's worth). Default: the service's published UploadPart
    /// 10,000, InitUpload and FinishUpload 100 each.
    pub rates: Rates,
    /// Accept any part size from 1 byte to 64 MiB instead of only 512 KiB and 1 MiB. Default false.
    pub any_part_size: bool,
    /// InitUpload refuses a larger `fileSize`. Default [`DEFAULT_MAX_FILE_SIZE`].
    pub max_file_size: u64,
    /// Connection and time limits.
    pub limits: Limits,
    /// Serve the inspector (`/`, `/_emulator/state`, `/_emulator/health`). Default true.
    pub inspector: bool,
    /// The emulator's clock is the system clock plus this many seconds (timestamp checks and the
    /// `Date` header), at most ten years either way. Default 0.
    pub clock_offset_secs: i64,
    /// Don't log requests to stderr. Default true.
    pub quiet: bool,
    /// Where to POST each "Video Upload Completed" event (`http://` or `https://`): JSON body,
    /// `Content-Type: application/json`, 5 s timeout, 2 retries (after a connection failure,
    /// a timeout or a non-2xx status; the answer's body is ignored), from a background thread
    /// that never holds up an answer. Failures are logged (stderr unless quiet, else `log`) and
    /// counted in [`Stats`](crate::Stats); the event stays in the PullEvent queue either way.
    /// Deliveries still pending when the emulator stops are dropped (the queue keeps the
    /// events). Default None.
    pub notify_url: Option<String>,
    /// Called at each named step of the durable work (see `hooks::STEPS`); for crash tests.
    #[doc(hidden)]
    pub step_hook: StepHook,
}

/// How many connections, and how long each may take to send. Every limit answers a client that
/// holds resources without using them; the defaults are far from what a working client needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most. When they are all taken, a new one evicts the connection that
    /// has waited longest (at least a second) for its client; if none has, the new one is
    /// answered HTTP 503 (code 4400, canRetry 1). Also kept below what the process's open-file
    /// limit allows. Default 512.
    pub max_connections: usize,
    /// A request head (and a TLS handshake) must arrive within this, counted from its first
    /// byte (on a new connection, from the connection). Default 10 s.
    pub header_timeout: Duration,
    /// A kept-alive connection may wait this long for its next request. Default 30 s.
    pub idle_timeout: Duration,
    /// A request body has this long from its first read, plus a second per `min_body_rate` bytes
    /// received; past that it is answered -10006 (canRetry 1) and the connection closed. Zero:
    /// no limit. Default 20 s.
    pub body_timeout: Duration,
    /// Bytes per second that keep a body within its time (see `body_timeout`); zero makes
    /// `body_timeout` a fixed deadline. Default 65,536 (64 KiB/s).
    pub min_body_rate: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(20),
            min_body_rate: 64 * 1024,
        }
    }
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
            .field("public_url", &self.public_url)
            .field("faults", &self.faults)
            .field("rate_limit", &self.rate_limit)
            .field("rates", &self.rates)
            .field("any_part_size", &self.any_part_size)
            .field("max_file_size", &self.max_file_size)
            .field("limits", &self.limits)
            .field("inspector", &self.inspector)
            .field("clock_offset_secs", &self.clock_offset_secs)
            .field("quiet", &self.quiet)
            .field(
                "notify_url",
                &self.notify_url.as_deref().map(crate::events::redact_url),
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
            public_url: None,
            faults: Faults::default(),
            rate_limit: true,
            rates: Rates::default(),
            any_part_size: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            limits: Limits::default(),
            inspector: true,
            clock_offset_secs: 0,
            quiet: true,
            notify_url: None,
            step_hook: StepHook::default(),
        }
    }
}

/// How the emulator gets its TLS certificate.
#[derive(Debug, Clone)]
pub enum TlsSetup {
    /// A PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    Files { cert: PathBuf, key: PathBuf },
    /// A fresh self-signed certificate for `localhost`, `127.0.0.1` and the canonical host; its
    /// PEM is also written to `cert_out` when given (and available from
    /// [`Emulator::ca_cert_pem`](crate::Emulator::ca_cert_pem)).
    SelfSigned { cert_out: Option<PathBuf> },
}

/// Fault injection, decided per protocol request from an RNG seeded with `seed` (so a
/// single-threaded sequence of requests always sees the same faults). Rates are probabilities in
/// `0.0..=1.0`. Faults apply to the protocol actions (the three of an upload, PullEvent and
/// ConfirmEvent), never to file downloads, the inspector or event callbacks.
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
    /// Bytes a second that request bodies, all connections together, may arrive at (a thin
    /// uplink); zero: no limit.
    pub bandwidth_bytes_per_sec: u64,
}

impl Faults {
    /// [`Faults::bandwidth_bytes_per_sec`] from MB/s (10^6 bytes), as people rate links: 0.001 to
    /// 100000, so that a typo (0, a negative, NaN) is refused rather than taken for no limit or
    /// a link that never delivers.
    pub fn bandwidth_from_mb_per_s(mb: f64) -> Result<u64, EmulatorError> {
        if mb.is_finite() && (0.001..=100_000.0).contains(&mb) {
            Ok((mb * 1e6).round() as u64)
        } else {
            Err(EmulatorError::new(format!(
                "--bandwidth {mb} is not a rate this emulator can keep: give MB/s between 0.001 and 100000 (e.g. 12.5 for 100 Mbit/s)"
            )))
        }
    }
}

/// Ten years either way: more than any clock skew worth testing, and the emulator's clock stays
/// a date an HTTP `Date` header can carry (after 1970, before the year 10000).
const MAX_CLOCK_OFFSET_SECS: u64 = 10 * 365 * 86_400;

impl EmulatorConfig {
    /// Checks what can be checked before anything is opened or bound.
    pub(crate) fn validate(&self) -> Result<(), EmulatorError> {
        validate_faults(&self.faults)?;
        if self.canonical_host.is_empty() {
            return Err(EmulatorError::new("the canonical host must not be empty"));
        }
        for (id, key) in &self.credentials {
            if id.is_empty() || key.is_empty() {
                return Err(EmulatorError::new(
                    "a credential needs a non-empty SecretId and SecretKey",
                ));
            }
        }
        if let Some(url) = &self.notify_url {
            crate::events::check_notify_url(url).map_err(EmulatorError::new)?;
        }
        if let Some(url) = &self.public_url {
            check_public_url(url).map_err(EmulatorError::new)?;
        }
        if self.clock_offset_secs.unsigned_abs() > MAX_CLOCK_OFFSET_SECS {
            return Err(EmulatorError::new(format!(
                "the clock offset {} s is more than ten years ({MAX_CLOCK_OFFSET_SECS} s) either way: give a smaller one (a few hours tests any client's clock correction)",
                self.clock_offset_secs
            )));
        }
        if self.max_file_size == 0 {
            return Err(EmulatorError::new(
                "the largest file size must be at least 1 byte",
            ));
        }
        let l = &self.limits;
        if l.max_connections == 0 {
            return Err(EmulatorError::new(
                "the connection limit must be at least 1",
            ));
        }
        if l.header_timeout.is_zero() || l.idle_timeout.is_zero() {
            return Err(EmulatorError::new(
                "the header and idle timeouts must be greater than zero",
            ));
        }
        Ok(())
    }
}

pub(crate) fn validate_faults(f: &Faults) -> Result<(), EmulatorError> {
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

/// `http(s)://host[:port][/prefix]`, nothing else.
fn check_public_url(url: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "the public URL {url:?} must be http(s)://HOST[:PORT][/PREFIX], without user, query or fragment"
        )
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty()
        || url.contains(['?', '#', '@', ' '])
        || url.chars().any(|c| c.is_control())
    {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls() {
        assert!(check_public_url("http://files.test:8080").is_ok());
        assert!(check_public_url("https://cdn.example/vod-prefix/").is_ok());
        for bad in ["ftp://x", "http://", "http://u@h", "http://h/?a", "h:80"] {
            assert!(check_public_url(bad).is_err(), "{bad}");
        }
    }
}
