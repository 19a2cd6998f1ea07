//! Client-side pacing under the service's rate caps, so a busy backend (or a fleet of them)
//! gets no 4400s.
//!
//! The caps are per account (SecretId): UploadPart 10,000 calls a minute, InitUpload and
//! FinishUpload 100 each. They are kept as rates with the generic cell rate algorithm (GCRA,
//! [`gcra`]): one call every 60 s / cap, with a burst of a tenth of a second's worth. A rate
//! rather than a per-minute count because a count allows a whole minute's calls in one burst,
//! which a service that enforces the rate refuses.
//!
//! Where the budget lives:
//! - in the process (the default): every client of one SecretId on one endpoint shares one
//!   pacer ([`Pacer::shared`]);
//! - in Redis, for a fleet of app servers sharing a SecretId ([`redis_store`]): every process
//!   books its calls with one atomic server-side script on the same key, timed by the Redis
//!   server's clock. If Redis fails or is slow, pacing goes on locally with one warning, unless
//!   the pacing URL says `strict=true`, which makes that an error instead.

mod gcra;
mod redis_store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
pub(crate) use gcra::Gcra;
pub(crate) use redis_store::RedisPacing;
use redis_store::redact;

/// Calls per minute allowed for each action class; 0 turns pacing off for that class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimits {
    pub upload_part_per_minute: u32,
    pub init_per_minute: u32,
    pub finish_per_minute: u32,
}

impl Default for RateLimits {
    /// The service's published peaks (docs/protocol.md, "Transport").
    fn default() -> Self {
        RateLimits {
            upload_part_per_minute: 10_000,
            init_per_minute: 100,
            finish_per_minute: 100,
        }
    }
}

impl RateLimits {
    /// No pacing at all.
    pub fn unlimited() -> Self {
        RateLimits {
            upload_part_per_minute: 0,
            init_per_minute: 0,
            finish_per_minute: 0,
        }
    }
}

/// The action classes the service caps separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Part,
    Init,
    Finish,
}

impl Class {
    fn of(action: &str) -> Class {
        match action {
            "UploadPart" => Class::Part,
            "InitUpload" => Class::Init,
            _ => Class::Finish,
        }
    }

    fn per_minute(self, limits: &RateLimits) -> u32 {
        match self {
            Class::Part => limits.upload_part_per_minute,
            Class::Init => limits.init_per_minute,
            Class::Finish => limits.finish_per_minute,
        }
    }

    pub(crate) fn key_suffix(self) -> &'static str {
        match self {
            Class::Part => "part",
            Class::Init => "init",
            Class::Finish => "finish",
        }
    }
}

/// Where pacing is shared beyond this process, parsed from the `pacing` option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PacingStore {
    /// The Redis URL without our own parameters.
    pub(crate) url: String,
    /// A failing store is an error, not a fallback to local pacing.
    pub(crate) strict: bool,
}

impl PacingStore {
    /// `redis://[user:password@]host[:port][/db][?strict=true]` (also `rediss://` for TLS
    /// when built with it, `redis+unix:///path`).
    pub(crate) fn parse(url: &str) -> Result<PacingStore> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "pacing {} is not usable ({why}); expected e.g. redis://127.0.0.1:6379/0",
                redact(url)
            ))
        };
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut strict = false;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("strict", "true" | "1") => strict = true,
                ("strict", "false" | "0") => strict = false,
                ("strict", _) => return Err(bad("strict must be true or false")),
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        redis_store::check_url(&url).map_err(|e| bad(&e))?;
        Ok(PacingStore { url, strict })
    }
}

/// Paces the three action classes of one account on one endpoint.
#[derive(Debug)]
pub(crate) struct Pacer {
    limits: RateLimits,
    local: [Gcra; 3],
    shared: Option<SharedBudget>,
}

/// The Redis side of a pacer, and what happened to it.
#[derive(Debug)]
struct SharedBudget {
    redis: RedisPacing,
    strict: bool,
    /// While Redis is failing, until when to pace locally before trying it again.
    down_until: Mutex<Option<Instant>>,
}

/// How long pacing stays local after Redis failed, before Redis is tried again.
const RETRY_STORE_AFTER: Duration = Duration::from_secs(5);

/// Who shares one budget: the service counts calls per account, so every client of one SecretId
/// on one endpoint in this process shares one pacer (a C client rebuilt by a setter included).
type PacerKey = (String, String, RateLimits, Option<PacingStore>);

impl Pacer {
    /// The pacer of `secret_id` on `endpoint` at `limits`, shared through `store` when given: the
    /// one other live clients of that account use, or a new one.
    pub(crate) fn shared(
        endpoint: &str,
        secret_id: &str,
        limits: RateLimits,
        store: Option<&PacingStore>,
    ) -> Arc<Pacer> {
        static PACERS: Mutex<Option<HashMap<PacerKey, Weak<Pacer>>>> = Mutex::new(None);
        let mut pacers = PACERS.lock().unwrap_or_else(|e| e.into_inner());
        let pacers = pacers.get_or_insert_with(HashMap::new);
        pacers.retain(|_, p| p.strong_count() > 0);
        let key = (
            endpoint.to_owned(),
            secret_id.to_owned(),
            limits,
            store.cloned(),
        );
        if let Some(p) = pacers.get(&key).and_then(Weak::upgrade) {
            return p;
        }
        let p = Arc::new(Pacer::new(
            limits,
            store.map(|s| SharedBudget {
                redis: RedisPacing::new(&s.url, endpoint, secret_id),
                strict: s.strict,
                down_until: Mutex::new(None),
            }),
        ));
        pacers.insert(key, Arc::downgrade(&p));
        p
    }

    fn new(limits: RateLimits, shared: Option<SharedBudget>) -> Self {
        let gcra = |c: Class| Gcra::per_minute(c.per_minute(&limits));
        Pacer {
            limits,
            local: [gcra(Class::Part), gcra(Class::Init), gcra(Class::Finish)],
            shared,
        }
    }

    /// Blocks until `action` may be sent: Ok(false) if `should_stop` said so first (it is asked
    /// every 50 ms), an error only when a strict shared store fails.
    pub(crate) fn wait(&self, action: &str, should_stop: &dyn Fn() -> bool) -> Result<bool> {
        let class = Class::of(action);
        let per_minute = class.per_minute(&self.limits);
        if per_minute == 0 {
            return Ok(true);
        }
        loop {
            if should_stop() {
                return Ok(false);
            }
            let wait = self.book(class, per_minute)?;
            if wait.is_zero() {
                return Ok(true);
            }
            log::debug!(
                "pacing {action}: waiting {} ms to stay under the service's rate",
                wait.as_millis()
            );
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if should_stop() {
                    return Ok(false);
                }
                std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
            }
        }
    }

    /// Books a call of `class` in the shared budget when there is one and it answers, else
    /// locally; the time to wait before it may go (zero: booked).
    fn book(&self, class: Class, per_minute: u32) -> Result<Duration> {
        let local = &self.local[class as usize];
        let Some(shared) = &self.shared else {
            return Ok(local.book(Instant::now()));
        };
        {
            let down = shared.down_until.lock().unwrap_or_else(|e| e.into_inner());
            if down.is_some_and(|t| Instant::now() < t) {
                return Ok(local.book(Instant::now()));
            }
        }
        match shared.redis.book(class, per_minute) {
            Ok(wait) => {
                let mut down = shared.down_until.lock().unwrap_or_else(|e| e.into_inner());
                if down.take().is_some() {
                    log::warn!(
                        "pacing: {} answers again; pacing is shared again",
                        shared.redis.name()
                    );
                }
                Ok(wait)
            }
            Err(why) if shared.strict => Err(Error::new(
                ErrorKind::Network,
                format!(
                    "the pacing store {} failed ({why}), and pacing is strict: no request goes out unpaced; fix the store or drop strict=true to fall back to local pacing",
                    shared.redis.name()
                ),
            )),
            Err(why) => {
                let mut down = shared.down_until.lock().unwrap_or_else(|e| e.into_inner());
                if down.is_none() {
                    log::warn!(
                        "pacing: {} failed ({why}); pacing locally (this process's share of the account's rate is no longer coordinated) and trying it again every {} s",
                        shared.redis.name(),
                        RETRY_STORE_AFTER.as_secs()
                    );
                }
                *down = Some(Instant::now() + RETRY_STORE_AFTER);
                Ok(local.book(Instant::now()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pacer_per_account_and_endpoint() {
        let l = RateLimits::default();
        let a = Pacer::shared("https://h/v2", "AKID1", l, None);
        let b = Pacer::shared("https://h/v2", "AKID1", l, None);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(
            &a,
            &Pacer::shared("https://h/v2", "AKID2", l, None)
        ));
        assert!(!Arc::ptr_eq(
            &a,
            &Pacer::shared("https://x/v2", "AKID1", l, None)
        ));
        let weak = Arc::downgrade(&a);
        drop((a, b));
        assert!(
            weak.upgrade().is_none(),
            "the registry does not keep pacers alive"
        );
    }

    #[test]
    fn store_urls() {
        let s = PacingStore::parse("redis://127.0.0.1:6379/2?strict=true").unwrap();
        assert_eq!(s.url, "redis://127.0.0.1:6379/2");
        assert!(s.strict);
        assert!(!PacingStore::parse("redis://h").unwrap().strict);
        let e = PacingStore::parse("http://user:hunter2@h/").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("redis://127.0.0.1:6379/0"), "{e}");
        assert!(PacingStore::parse("redis://h?strict=maybe").is_err());
    }

    /// Redis that never answers: the upload goes on, paced locally, without hanging.
    #[test]
    fn a_dead_store_falls_back_to_local_pacing_or_fails_when_strict() {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", dead.local_addr().unwrap());
        drop(dead);
        let limits = RateLimits::default();
        let lenient = PacingStore::parse(&url).unwrap();
        let p = Pacer::shared("https://h/fallback", "AKID", limits, Some(&lenient));
        let started = Instant::now();
        for _ in 0..20 {
            assert!(p.wait("UploadPart", &|| false).unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never hangs on the store"
        );
        let strict = PacingStore::parse(&format!("{url}?strict=true")).unwrap();
        let p = Pacer::shared("https://h/fallback", "AKID", limits, Some(&strict));
        let e = p.wait("UploadPart", &|| false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        assert!(e.to_string().contains("strict"), "{e}");
    }
}
