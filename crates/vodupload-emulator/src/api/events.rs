//! PullEvent and ConfirmEvent: the reliable queue of "upload completed" events.

use std::sync::Arc;

use serde_json::{Value, json};

use super::blocking;
use crate::app::App;
use crate::events::{MAX_CONFIRM, MAX_PULL};
use crate::protocol::{self, Params, Reply};
use crate::stats::add;

/// The oldest unconfirmed events of this SecretId (at most 16), which stay queued until
/// confirmed. `eventContent` is the event as a JSON object.
pub(super) fn pull(app: &App, secret_id: &str) -> Reply {
    let list: Vec<Value> = app
        .events
        .pull(secret_id, MAX_PULL)
        .into_iter()
        .map(|e| json!({"msgHandle": e.msg_handle, "eventContent": e.event_content}))
        .collect();
    Reply::success(0).with("eventList", Value::Array(list))
}

/// Removes the events whose `msgHandle.N` are given. Unknown or already confirmed handles are
/// ignored, so a retried ConfirmEvent succeeds.
pub(super) async fn confirm(app: &Arc<App>, secret_id: &str, params: &Params) -> Reply {
    let handles = match protocol::confirm_handles(params, MAX_CONFIRM) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let a = app.clone();
    let id = secret_id.to_string();
    let confirmed = blocking(move || {
        let n = a.events.confirm(&id, &handles, a.now_unix())?;
        a.store.hook().at("confirm:removed");
        Ok(n)
    })
    .await;
    match confirmed {
        Ok(n) => {
            add(&app.counters.events_confirmed, n);
            Reply::success(0)
        }
        Err(e) => Reply::write_failed(&e),
    }
}
