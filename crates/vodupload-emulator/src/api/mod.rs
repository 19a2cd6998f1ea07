//! One request to the API path (`/v2/index.php` or `/v3/index.php`): injected faults, the
//! common checks, the action, then the answer, logged and kept for the inspector.

mod checks;
mod events;
mod finish;
mod init;
mod key_locks;
mod part;
mod rate;
mod replay;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) use key_locks::KeyLocks;
pub(crate) use rate::RateLimiter;
pub use rate::Rates;
pub(crate) use rate::{
    DEFAULT_BURST_SECS, DEFAULT_INIT_FINISH_PER_MINUTE, DEFAULT_UPLOAD_PART_PER_MINUTE,
};
pub(crate) use replay::ReplayCache;

use crate::app::App;
use crate::faults::Fault;
use crate::http::{Outcome, Request, Response};
use crate::protocol::{self, Action, E_WRITE_CACHE, Params, Reply};
use crate::stats::{RequestRecord, bump};

pub(crate) async fn handle(app: &Arc<App>, req: &mut Request<'_>) -> Outcome {
    let started = Instant::now();
    let mut rec = RequestRecord::new(&req.head.method, &req.head.path_lossy());
    let params = protocol::parse_query(&req.head.query);
    let action = params
        .as_ref()
        .ok()
        .and_then(|p| p.get("Action"))
        .and_then(Action::parse);
    if let Ok(p) = &params {
        rec.secret_id = p.get("SecretId").map(short).unwrap_or_default();
        rec.file_sha = p.get("fileSha").map(short).unwrap_or_default();
    }
    rec.action = action.map_or("", Action::name).to_string();
    if let Some(a) = action {
        bump(match a {
            Action::Init => &app.counters.init_calls,
            Action::Part => &app.counters.part_calls,
            Action::Finish => &app.counters.finish_calls,
            Action::PullEvent => &app.counters.pull_calls,
            Action::ConfirmEvent => &app.counters.confirm_calls,
        });
    }

    let latency = app.faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let fault = if action.is_some() {
        app.faults.decide()
    } else {
        Fault::None
    };
    if fault != Fault::None {
        bump(&app.counters.faults_injected);
        bump(&app.counters.faults_by_kind[fault.kind_index()]);
        rec.fault = format!("{fault:?}");
    }
    let finish = |mut rec: RequestRecord, result: String| {
        rec.result = result;
        rec.ms = started.elapsed().as_millis() as u64;
        app.record(rec);
    };
    match fault {
        Fault::Fail => {
            bump(&app.counters.errors_returned);
            let reply = Reply::error(E_WRITE_CACHE, "write cache failed (injected fault)", true);
            finish(rec, reply.code.to_string());
            return Outcome::Respond(Response::reply(200, &reply));
        }
        Fault::Http502 => {
            bump(&app.counters.errors_returned);
            finish(rec, "HTTP 502".into());
            return Outcome::Respond(bad_gateway());
        }
        Fault::DropBefore => {
            finish(rec, "dropped".into());
            return Outcome::Drop;
        }
        _ => {}
    }

    let reply = match params {
        Err(r) => r,
        Ok(params) => process(app, req, &params).await,
    };
    if !reply.is_success() {
        bump(&app.counters.errors_returned);
    }
    let code = reply.code.to_string();
    match fault {
        Fault::DropAfter => {
            finish(rec, format!("{code} then dropped"));
            Outcome::Drop
        }
        Fault::Slow => {
            tokio::time::sleep(Duration::from_millis(app.faults.slow_ms())).await;
            finish(rec, code);
            Outcome::Respond(Response::reply(200, &reply))
        }
        Fault::Truncate => {
            finish(rec, format!("{code} truncated"));
            let mut bytes = reply.to_bytes();
            bytes.truncate(bytes.len() / 2);
            Outcome::Respond(Response::bytes(200, "application/json", bytes))
        }
        _ => {
            let result = if reply.is_success() {
                code
            } else {
                format!("{code} ({})", reply.message())
            };
            finish(rec, result);
            Outcome::Respond(Response::reply(200, &reply))
        }
    }
}

/// The common checks, then the action. A request that fails gives its Signature back.
async fn process(app: &Arc<App>, req: &mut Request<'_>, params: &Params) -> Reply {
    let checked = match checks::check(app, &req.head, params) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let secret_id = checked.common.secret_id.as_str();
    let reply = match checked.action {
        Action::Init => init::handle(app, secret_id, params).await,
        Action::Part => part::handle(app, req, secret_id, params).await,
        Action::Finish => finish::handle(app, secret_id, params).await,
        Action::PullEvent => events::pull(app, secret_id),
        Action::ConfirmEvent => events::confirm(app, secret_id, params).await,
    };
    if !reply.is_success() {
        app.replay.release(&checked.common.signature);
    }
    reply
}

/// An identifier shortened for the log (never a secret: SecretIds and SHA-1s only).
fn short(s: &str) -> String {
    let p = protocol::printable(s);
    p.trim_matches('"').chars().take(40).collect()
}

/// What a failing front end in the provider's infrastructure answers.
fn bad_gateway() -> Response {
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    Response::bytes(502, "text/html", html.as_bytes().to_vec())
}

/// Runs blocking work on the blocking pool; a panic there is a -10004 (canRetry), not a crash.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(format!("the work failed: {e}"))))
}
