//! Client-wide settings, checked once when the client is made.

use std::path::PathBuf;
use std::time::Duration;

use crate::pacing::RateLimits;
use crate::plan::DEFAULT_PART_SIZE;
use crate::signature::SignatureMethod;

/// The provider's upload host, on the path its docs give.
pub const DEFAULT_ENDPOINT: &str = "https://vod2.qcloud.com/v2/index.php";
/// The provider's event API (PullEvent, ConfirmEvent): the general API host, not the upload host.
pub const DEFAULT_EVENTS_ENDPOINT: &str = "https://vod.api.qcloud.com/v2/index.php";
/// "For VOD gz will do" (PROTOCOL.md).
pub const DEFAULT_REGION: &str = "gz";
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Upper bound on parallel parts: beyond this a single client only contends with itself.
pub const MAX_CONCURRENCY: usize = 64;

/// Settings for a [`Client`](crate::Client). Start from `Default` and change what you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Full URL of the upload API, e.g. `https://vod2.qcloud.com/v2/index.php`.
    pub endpoint: String,
    pub region: String,
    /// 524288 or 1048576 bytes.
    pub part_size: u64,
    /// Parts in flight at once (1..=64).
    pub concurrency: usize,
    /// Tries per request, the first included (≥ 1).
    pub max_attempts: u32,
    /// First retry delay; doubles per retry up to `retry_max_delay`, with jitter.
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    pub connect_timeout: Duration,
    /// Whole-request limit: connect, send the part, read the answer.
    pub request_timeout: Duration,
    /// PEM file whose certificates are the only trusted roots (as curl's `--cacert`).
    pub ca_file: Option<PathBuf>,
    /// `http://host:port` proxy; None: the usual `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` variables.
    pub proxy: Option<String>,
    pub signature_method: SignatureMethod,
    /// Client-side pacing; [`RateLimits::unlimited`] turns it off.
    pub rate_limits: RateLimits,
    /// A directory caching each file's SHA-1 and part MD5s (keyed by path, size, mtime, ctime and
    /// inode), so a re-upload or resume of a large file starts without reading it. None: off.
    pub fingerprint_cache: Option<PathBuf>,
    /// Full URL of the event API that [`Client::pull_events`](crate::Client::pull_events) and
    /// [`Client::confirm_events`](crate::Client::confirm_events) call, signed with the same
    /// credentials (the emulator serves it on its own endpoint). Not paced by `rate_limits`.
    pub events_endpoint: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: 5,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(8),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            ca_file: None,
            proxy: None,
            signature_method: SignatureMethod::HmacSha1,
            rate_limits: RateLimits::default(),
            fingerprint_cache: None,
            events_endpoint: DEFAULT_EVENTS_ENDPOINT.to_owned(),
        }
    }
}
