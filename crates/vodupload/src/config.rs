//! Client-wide settings and their rules: checked once when the client is made, and when a face
//! sets one by name (see [`crate::settings`]). One rule, one message, whatever the face.

use std::path::PathBuf;
use std::time::Duration;

use crate::concurrency::Concurrency;
use crate::error::Result;
use crate::pacing::RateLimits;
use crate::plan::DEFAULT_PART_SIZE;
use crate::settings::{self, CLIENT_OPTIONS, Value, check_count, check_duration};
use crate::signature::SignatureMethod;

/// The provider's upload host, on the path its docs give.
pub const DEFAULT_ENDPOINT: &str = "https://vod2.qcloud.com/v2/index.php";
/// The provider's event API (PullEvent, ConfirmEvent): the general API host, not the upload host.
pub const DEFAULT_EVENTS_ENDPOINT: &str = "https://vod.api.qcloud.com/v2/index.php";
/// Any region works for uploads; `gz` is the documented default (docs/protocol.md).
pub const DEFAULT_REGION: &str = "gz";
/// Upper bound on parallel parts: beyond this a single client only contends with itself.
pub const MAX_CONCURRENCY: usize = 64;
/// Upper bound on tries per request: past this, a failure is not passing.
pub const MAX_ATTEMPTS: u32 = 100;
/// Longest timeout: a day is beyond any part's upload on a working link, and keeps deadlines far
/// from overflowing the clock.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// Longest retry delay.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3_600);

/// Settings for a [`Client`](crate::Client). Start from `Default` and change what you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Full URL of the upload API, e.g. `https://vod2.qcloud.com/v2/index.php`.
    pub endpoint: String,
    pub region: String,
    /// 524288 or 1048576 bytes.
    pub part_size: u64,
    /// Parts in flight: [`Concurrency::Auto`] (the default) measures what the path takes and
    /// adjusts, shared by the client's uploads; [`Concurrency::Fixed`] sends 1 to 64 per upload.
    pub concurrency: Concurrency,
    /// Tries per request, the first included (1..=100).
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
    /// Share the pacing with every process using the same store, for a fleet of app servers
    /// under one SecretId: `redis://[user:password@]host[:port][/db]` (several hosts separated
    /// by commas for a Redis Cluster). If the store fails the pacing goes on locally with one
    /// warning, unless `?strict=true` is added, which makes it an error. None: this process
    /// only.
    pub pacing_url: Option<String>,
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
            concurrency: Concurrency::Auto,
            max_attempts: 5,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(8),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            ca_file: None,
            proxy: None,
            signature_method: SignatureMethod::HmacSha1,
            rate_limits: RateLimits::default(),
            pacing_url: None,
            fingerprint_cache: None,
            events_endpoint: DEFAULT_EVENTS_ENDPOINT.to_owned(),
        }
    }
}

impl ClientOptions {
    /// Sets the option `name` (one of [`settings::CLIENT_OPTIONS`]) from a face's value,
    /// applying the option's rule; on error nothing changes. [`Value::Default`] restores the
    /// default.
    pub fn set(&mut self, name: &str, value: Value<'_>) -> Result<()> {
        let name = settings::find(CLIENT_OPTIONS, name, "client option")?.name;
        let d = ClientOptions::default();
        let v = &value;
        if value == Value::Default {
            match name {
                "endpoint" => self.endpoint = d.endpoint,
                "region" => self.region = d.region,
                "part_size" => self.part_size = d.part_size,
                "concurrency" => self.concurrency = d.concurrency,
                "max_attempts" => self.max_attempts = d.max_attempts,
                "retry_base_delay" => self.retry_base_delay = d.retry_base_delay,
                "retry_max_delay" => self.retry_max_delay = d.retry_max_delay,
                "connect_timeout" => self.connect_timeout = d.connect_timeout,
                "request_timeout" => self.request_timeout = d.request_timeout,
                "ca_file" => self.ca_file = d.ca_file,
                "proxy" => self.proxy = d.proxy,
                "signature_method" => self.signature_method = d.signature_method,
                "rate_limit" => self.rate_limits = d.rate_limits,
                "rate_upload_part" => {
                    self.rate_limits.upload_part_per_minute = d.rate_limits.upload_part_per_minute
                }
                "rate_init_finish" => {
                    self.rate_limits.init_per_minute = d.rate_limits.init_per_minute;
                    self.rate_limits.finish_per_minute = d.rate_limits.finish_per_minute;
                }
                "pacing_url" => self.pacing_url = d.pacing_url,
                "fingerprint_cache" => self.fingerprint_cache = d.fingerprint_cache,
                "events_endpoint" => self.events_endpoint = d.events_endpoint,
                _ => unreachable!("every option has a default"),
            }
            return Ok(());
        }
        match name {
            "endpoint" => self.endpoint = check_endpoint(settings::text(name, v)?)?,
            "region" => self.region = check_region(settings::text(name, v)?)?,
            "part_size" => self.part_size = check_part_size(settings::integer(name, v)?)?,
            "concurrency" => self.concurrency = parse_concurrency(v)?,
            "max_attempts" => self.max_attempts = check_attempts(settings::integer(name, v)?)?,
            "retry_base_delay" | "retry_max_delay" => {
                let d = check_duration(name, settings::seconds(name, v)?, MAX_RETRY_DELAY)?;
                if name == "retry_base_delay" {
                    self.retry_base_delay = d;
                } else {
                    self.retry_max_delay = d;
                }
            }
            "connect_timeout" => {
                self.connect_timeout =
                    check_duration(name, settings::seconds(name, v)?, MAX_TIMEOUT)?
            }
            "request_timeout" => {
                self.request_timeout =
                    check_duration(name, settings::seconds(name, v)?, MAX_TIMEOUT)?
            }
            "ca_file" => self.ca_file = Some(settings::path(name, v)?.to_owned()),
            "proxy" => self.proxy = Some(check_proxy(settings::text(name, v)?)?),
            "signature_method" => {
                self.signature_method = SignatureMethod::parse(settings::text(name, v)?)?
            }
            "rate_limit" => {
                self.rate_limits = if settings::boolean(name, v)? {
                    RateLimits::default()
                } else {
                    RateLimits::unlimited()
                }
            }
            "rate_upload_part" => {
                self.rate_limits.upload_part_per_minute =
                    check_rate(name, settings::integer(name, v)?)?
            }
            "rate_init_finish" => {
                let r = check_rate(name, settings::integer(name, v)?)?;
                self.rate_limits.init_per_minute = r;
                self.rate_limits.finish_per_minute = r;
            }
            "pacing_url" => {
                let url = settings::text(name, v)?;
                crate::pacing::PacingStore::parse(url)?;
                self.pacing_url = Some(url.to_owned());
            }
            "fingerprint_cache" => {
                let dir = settings::path(name, v)?;
                crate::cache::check_dir(dir)?;
                self.fingerprint_cache = Some(dir.to_owned());
            }
            "events_endpoint" => {
                self.events_endpoint = check_events_endpoint(settings::text(name, v)?)?
            }
            _ => unreachable!("every option is handled"),
        }
        Ok(())
    }

    /// Checks every option against its rule, with the messages [`ClientOptions::set`] gives.
    /// [`Client::new`](crate::Client::new) calls it; the CA file is read there.
    pub fn validate(&self) -> Result<()> {
        check_endpoint(&self.endpoint)?;
        check_events_endpoint(&self.events_endpoint)?;
        check_region(&self.region)?;
        check_part_size(self.part_size.into())?;
        if let Concurrency::Fixed(n) = self.concurrency {
            check_concurrency(n as i128)?;
        }
        check_attempts(self.max_attempts.into())?;
        for (name, d, max) in [
            ("retry_base_delay", self.retry_base_delay, MAX_RETRY_DELAY),
            ("retry_max_delay", self.retry_max_delay, MAX_RETRY_DELAY),
            ("connect_timeout", self.connect_timeout, MAX_TIMEOUT),
            ("request_timeout", self.request_timeout, MAX_TIMEOUT),
        ] {
            check_duration(name, d.as_secs_f64(), max)?;
        }
        if let Some(p) = &self.proxy {
            check_proxy(p)?;
        }
        if let Some(p) = &self.pacing_url {
            crate::pacing::PacingStore::parse(p)?;
        }
        check_rate(
            "rate_upload_part",
            self.rate_limits.upload_part_per_minute.into(),
        )?;
        check_rate("rate_init_finish", self.rate_limits.init_per_minute.into())?;
        check_rate(
            "rate_init_finish",
            self.rate_limits.finish_per_minute.into(),
        )?;
        if let Some(dir) = &self.fingerprint_cache {
            crate::cache::check_dir(dir)?;
        }
        Ok(())
    }
}

fn check_endpoint(url: &str) -> Result<String> {
    crate::transport::Endpoint::parse(url)?;
    Ok(url.to_owned())
}

fn check_events_endpoint(url: &str) -> Result<String> {
    crate::transport::Endpoint::parse_as(url, "events endpoint", DEFAULT_EVENTS_ENDPOINT)?;
    Ok(url.to_owned())
}

fn check_region(region: &str) -> Result<String> {
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(crate::Error::invalid_input(format!(
            "region {region:?} is not valid: use e.g. gz, bj, sh, hk, ca"
        )));
    }
    Ok(region.to_owned())
}

fn check_part_size(n: i128) -> Result<u64> {
    u64::try_from(n)
        .ok()
        .filter(|v| crate::plan::ALLOWED_PART_SIZES.contains(v))
        .ok_or_else(|| crate::plan::part_size_error(n))
}

/// Most files one call uploads at once (a command's `--jobs`, Python's `upload_many`): each
/// brings its own parts in flight.
pub const MAX_JOBS: usize = 64;

/// The rule of a file-level concurrency (how many files at once), for the faces that upload
/// several files: 1 to [`MAX_JOBS`].
pub fn check_jobs(value: Value<'_>) -> Result<usize> {
    let n = settings::integer("jobs", &value)?;
    check_count("jobs", n, 1, MAX_JOBS as u64, " files at once").map(|v| v as usize)
}

/// `auto`, or a count.
fn parse_concurrency(v: &Value<'_>) -> Result<Concurrency> {
    if let Value::Text(t) = v {
        if t.trim().eq_ignore_ascii_case("auto") {
            return Ok(Concurrency::Auto);
        }
    }
    let n = settings::integer("concurrency", v).map_err(|_| {
        crate::Error::invalid_input(format!(
            "concurrency must be auto or a number of parts from 1 to {MAX_CONCURRENCY}, not {}",
            settings::describe(v)
        ))
    })?;
    check_concurrency(n).map(Concurrency::Fixed)
}

fn check_concurrency(n: i128) -> Result<usize> {
    check_count("concurrency", n, 1, MAX_CONCURRENCY as u64, "").map(|v| v as usize)
}

fn check_attempts(n: i128) -> Result<u32> {
    check_count(
        "max_attempts",
        n,
        1,
        MAX_ATTEMPTS.into(),
        " (1 means no retries)",
    )
    .map(|v| v as u32)
}

/// Most calls a minute a rate may allow: far beyond any cap the service publishes.
const MAX_RATE: u64 = 1_000_000;

fn check_rate(name: &str, n: i128) -> Result<u32> {
    check_count(name, n, 0, MAX_RATE, " calls a minute (0: not paced)").map(|v| v as u32)
}

fn check_proxy(url: &str) -> Result<String> {
    ureq::Proxy::new(url)
        .map_err(|e| crate::Error::invalid_input(format!("proxy {url:?} is not usable: {e}")))?;
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::CLIENT_OPTIONS;

    #[test]
    fn every_option_can_be_set_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("fp");
        let good = |name: &str| -> Value<'static> {
            match name {
                "endpoint" | "events_endpoint" => Value::Text("http://127.0.0.1:1/v2/index.php"),
                "region" => Value::Text("bj"),
                "part_size" => Value::Int(524_288),
                "concurrency" | "max_attempts" => Value::Text("3"),
                "retry_base_delay" | "retry_max_delay" | "connect_timeout" | "request_timeout" => {
                    Value::Float(1.5)
                }
                "ca_file" => Value::Text("/etc/ssl/certs/ca-certificates.crt"),
                "proxy" => Value::Text("http://127.0.0.1:3128"),
                "signature_method" => Value::Text("HmacSHA256"),
                "rate_limit" => Value::Bool(false),
                "rate_upload_part" | "rate_init_finish" => Value::Int(3000),
                "pacing_url" => Value::Text("redis://127.0.0.1:6379/0?strict=true"),
                "fingerprint_cache" => Value::Default,
                other => panic!("no test value for the option {other}"),
            }
        };
        for s in CLIENT_OPTIONS {
            let mut o = ClientOptions::default();
            let value = if s.name == "fingerprint_cache" {
                Value::Path(&cache)
            } else {
                good(s.name)
            };
            o.set(s.name, value).unwrap();
            assert_ne!(
                format!("{o:?}"),
                format!("{:?}", ClientOptions::default()),
                "{} changed something",
                s.name
            );
            o.validate().unwrap();
            o.set(s.name, Value::Default).unwrap();
            assert_eq!(format!("{o:?}"), format!("{:?}", ClientOptions::default()));
        }
    }

    #[test]
    fn one_message_per_rule_whichever_way_it_is_set() {
        let mut o = ClientOptions::default();
        let e = o.set("request_timeout", Value::Float(0.0)).unwrap_err();
        let mut direct = ClientOptions::default();
        direct.request_timeout = Duration::ZERO;
        assert_eq!(e.to_string(), direct.validate().unwrap_err().to_string());
        assert_eq!(
            e.to_string(),
            "request_timeout must be more than 0 and at most 86400 seconds, not 0"
        );
        for bad in [Value::Int(-5), Value::Text("-5"), Value::Float(-5.0)] {
            assert_eq!(
                o.set("connect_timeout", bad).unwrap_err().to_string(),
                "connect_timeout must be more than 0 and at most 86400 seconds, not -5"
            );
        }
        let e = o.set("concurrency", Value::Int(0)).unwrap_err();
        direct = ClientOptions::default();
        direct.concurrency = Concurrency::Fixed(0);
        assert_eq!(e.to_string(), direct.validate().unwrap_err().to_string());
        assert_eq!(
            o.set("max_attempts", Value::Int(1 << 40))
                .unwrap_err()
                .to_string(),
            "max_attempts 1099511627776 is out of range: use 1 to 100 (1 means no retries)"
        );
        assert_eq!(
            o.set("part_size", Value::Int(-1)).unwrap_err().to_string(),
            "part size -1 is not accepted by the service: use 524288 (512 KiB) or 1048576 (1 MiB)"
        );
        assert!(o.set("proxy", Value::Text("::not a url")).is_err());
        assert_eq!(format!("{o:?}"), format!("{:?}", ClientOptions::default()));
    }
}
