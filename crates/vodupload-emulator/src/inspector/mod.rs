//! The inspector: what arrived, for a person (`/`, an HTML page that works offline) and for a
//! program (`/_emulator/state`, the same as JSON), and a readiness answer for CI
//! (`/_emulator/health`). It shows identifiers and results, never a key, a Signature or a query
//! string.

mod html;
mod snapshot;

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::app::App;
use crate::http::{Request, Response};
use crate::protocol::{E_NOT_FOUND, Reply};
use crate::stats::RequestRecord;

pub(crate) use snapshot::Snapshot;

const HEALTH: &[u8] = b"/_emulator/health";
const STATE: &[u8] = b"/_emulator/state";

/// The paths the inspector answers.
pub(crate) fn serves(path: &[u8]) -> bool {
    path == b"/" || path == b"/index.html" || path.starts_with(b"/_emulator/")
}

pub(crate) async fn handle(app: &Arc<App>, req: &mut Request<'_>) -> Response {
    let started = Instant::now();
    let path = req.head.path.clone();
    let resp = if req.head.method != "GET" && req.head.method != "HEAD" {
        Response::reply(405, &Reply::error(E_NOT_FOUND, "use GET", false))
            .with_header("Allow", "GET, HEAD")
    } else if path == HEALTH {
        Response::json(
            200,
            &json!({
                "status": "ready",
                "version": env!("CARGO_PKG_VERSION"),
                "endpoint": app.endpoint(),
                "uptimeSecs": app.started.elapsed().as_secs(),
            }),
        )
    } else if path == STATE || path == b"/" || path == b"/index.html" {
        let a = app.clone();
        let snap = tokio::task::spawn_blocking(move || Snapshot::take(&a)).await;
        match snap {
            Ok(s) if path == STATE => {
                Response::json(200, &serde_json::to_value(&s).unwrap_or_default())
            }
            Ok(s) => html::page(&s),
            Err(e) => Response::reply(
                500,
                &Reply::error(
                    crate::protocol::E_READ_CACHE,
                    format!("inspector failed: {e}"),
                    true,
                ),
            ),
        }
    } else {
        Response::reply(
            404,
            &Reply::error(E_NOT_FOUND, "no such inspector path", false),
        )
    }
    .with_header("Cache-Control", "no-store");
    let mut rec = RequestRecord::new(&req.head.method, &String::from_utf8_lossy(&path));
    rec.result = format!("HTTP {}", resp.status);
    rec.ms = started.elapsed().as_millis() as u64;
    // Health probes every second would push everything else out of the log.
    if path != HEALTH {
        app.record(rec);
    }
    resp
}
