//! What every request handler shares: the configuration as it applies to requests, the state,
//! the counters and the protocol's bookkeeping (replays, rates).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::api::{KeyLocks, RateLimiter, ReplayCache};
use crate::events::{Deliveries, EventQueue, Notifier, NotifyCounters};
use crate::faults::FaultInjector;
use crate::http::BodyLimits;
use crate::http::conn_table::ConnTable;
use crate::link::SharedLink;
use crate::protocol::InitRules;
use crate::stats::{Counters, RecentRequests, RequestRecord};
use crate::store::Store;

/// The limits in force (the connection bound possibly lowered by the open-file limit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActiveLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub body: BodyLimits,
}

pub(crate) struct App {
    pub counters: Counters,
    pub recent: RecentRequests,
    pub credentials: HashMap<String, String>,
    pub canonical_host: String,
    pub rate_limit: bool,
    pub init_rules: InitRules,
    pub clock_offset_secs: i64,
    pub quiet: bool,
    /// `{scheme}://{host}[/prefix]` of the files' urls, without a trailing `/`.
    pub base_url: String,
    pub faults: FaultInjector,
    /// `--bandwidth`: the link every request body crosses.
    pub link: Option<SharedLink>,
    pub store: Store,
    pub events: EventQueue,
    /// Set when a callback URL is configured.
    pub notifier: Option<Notifier>,
    pub notify_counters: Arc<NotifyCounters>,
    /// The callback URL without what may carry a token, for the inspector.
    pub notify_shown: Option<String>,
    pub deliveries: Arc<Deliveries>,
    pub replay: ReplayCache,
    pub rates: RateLimiter,
    pub key_locks: KeyLocks,
    pub limits: ActiveLimits,
    pub inspector: bool,
    pub conns: Arc<ConnTable>,
    pub started: Instant,
    /// `{scheme}://{reachable address}/v2/index.php`.
    pub endpoint: String,
}

impl App {
    /// The emulator's clock.
    pub(crate) fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        let off = Duration::from_secs(self.clock_offset_secs.unsigned_abs());
        if self.clock_offset_secs >= 0 {
            now.checked_add(off).unwrap_or(now)
        } else {
            now.checked_sub(off).unwrap_or(SystemTime::UNIX_EPOCH)
        }
    }

    pub(crate) fn now_unix(&self) -> i64 {
        match self.now().duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        }
    }

    pub(crate) fn date_header(&self) -> String {
        httpdate::fmt_http_date(self.now())
    }

    pub(crate) fn file_url(&self, file_id: &str, file_type: &str) -> String {
        format!("{}/vod/{file_id}/f0.{file_type}", self.base_url)
    }

    /// Verbose: one line on stderr. Quiet (library use): through `log`, at debug level.
    pub(crate) fn log_line(&self, line: &str) {
        if self.quiet {
            log::debug!("{line}");
        } else {
            eprintln!("{line}");
        }
    }

    /// Logs a request and keeps it for the inspector.
    pub(crate) fn record(&self, r: RequestRecord) {
        let fault = if r.fault.is_empty() {
            String::new()
        } else {
            format!(" fault={}", r.fault)
        };
        let action = if r.action.is_empty() { "-" } else { &r.action };
        self.log_line(&format!(
            "{} {} {action} -> {} {}ms{fault}",
            r.method, r.path, r.result, r.ms
        ));
        self.recent.push(r);
    }

    pub(crate) fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    pub(crate) fn stats(&self) -> crate::Stats {
        self.counters.snapshot(&self.notify_counters)
    }
}
