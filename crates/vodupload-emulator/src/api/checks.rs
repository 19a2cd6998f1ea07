//! The checks every API request passes before its action runs, in the service's order: method,
//! Action, common parameters (-10001), signature (-10002), clock and replay (4500), rate (4400).

use crate::app::App;
use crate::http::Head;
use crate::protocol::{
    self, Action, Common, E_FREQUENCY, E_PROTOCOL_NOT_SUPPORTED, E_REPLAY, E_SIGNATURE, Params,
    Reply,
};
use crate::signature;
use crate::stats::bump;

/// A request that passed: its action, and its common parameters. Its Signature is reserved.
#[derive(Debug)]
pub(crate) struct Checked {
    pub action: Action,
    pub common: Common,
}

pub(crate) fn check(app: &App, head: &Head, params: &Params) -> Result<Checked, Reply> {
    let method = head.method.as_str();
    if method != "GET" && method != "POST" {
        return Err(Reply::error(
            E_PROTOCOL_NOT_SUPPORTED,
            format!(
                "HTTP method {} is not supported: use POST",
                protocol::printable(method)
            ),
            false,
        ));
    }
    let action = match params.get("Action") {
        None | Some("") => return Err(Reply::common("missing parameter Action")),
        Some(a) => Action::parse(a).ok_or_else(|| {
            Reply::error(
                E_PROTOCOL_NOT_SUPPORTED,
                format!(
                    "unknown Action {}: this host serves InitUpload, UploadPart, FinishUpload, PullEvent and ConfirmEvent",
                    protocol::printable(a)
                ),
                false,
            )
        })?,
    };
    if action == Action::Part && method != "POST" {
        return Err(Reply::error(
            E_PROTOCOL_NOT_SUPPORTED,
            "UploadPart must be sent with POST, the part's bytes as the body",
            false,
        ));
    }
    let common = protocol::common_params(params)?;
    check_signature(app, head, params, &common)?;

    let in_millis = common.timestamp >= protocol::MILLISECOND_TIMESTAMPS_FROM;
    let secs = if in_millis {
        common.timestamp / 1000
    } else {
        common.timestamp
    };
    let skew = secs as i128 - app.now_unix() as i128;
    if skew.abs() > protocol::MAX_CLOCK_SKEW_SECS as i128 {
        return Err(Reply::error(
            E_REPLAY,
            format!(
                "request expired: Timestamp{} is {}s {} the server's clock (at most {}s allowed)",
                if in_millis {
                    ", read as milliseconds,"
                } else {
                    ""
                },
                skew.abs(),
                if skew < 0 { "behind" } else { "ahead of" },
                protocol::MAX_CLOCK_SKEW_SECS
            ),
            false,
        ));
    }
    if !app.replay.reserve(&common.signature) {
        bump(&app.counters.replays_refused);
        return Err(Reply::error(
            E_REPLAY,
            "replayed request: this Signature was already used (use a new Nonce for every request, retries included)",
            false,
        ));
    }
    if app.rate_limit && !app.rates.admit(&common.secret_id, action) {
        app.replay.release(&common.signature);
        bump(&app.counters.rate_limited);
        return Err(Reply::error(
            E_FREQUENCY,
            format!(
                "{} called too often: at most {} calls per minute per SecretId, spread out",
                action.name(),
                app.rates.rates().per_minute(action).unwrap_or(0)
            ),
            true,
        ));
    }
    if in_millis {
        bump(&app.counters.millisecond_timestamps);
    }
    Ok(Checked { action, common })
}

/// Valid if it matches the string to sign built with the canonical host, or with the Host header
/// as received (with and without its port), and with the path requested.
fn check_signature(app: &App, head: &Head, params: &Params, common: &Common) -> Result<(), Reply> {
    let Some(secret_key) = app.credentials.get(&common.secret_id) else {
        return Err(Reply::error(E_SIGNATURE, "unknown SecretId", false));
    };
    let host = head.host();
    let mut hosts: Vec<&str> = vec![app.canonical_host.as_str()];
    for h in [host, signature::host_without_port(host)] {
        if !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    let path = head.path_lossy();
    let query = signature::canonical_query(&params.list);
    let signed = hosts.iter().any(|h| {
        let s = signature::with_query(&head.method, h, &path, &query);
        signature::signatures_equal(
            &signature::compute(&s, secret_key, common.signature_method),
            &common.signature,
        )
    });
    if signed {
        Ok(())
    } else {
        Err(Reply::error(E_SIGNATURE, "signature mismatch", false))
    }
}
