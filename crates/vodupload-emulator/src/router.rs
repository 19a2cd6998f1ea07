//! Which handler a request goes to, by path.

use std::sync::Arc;
use std::time::Instant;

use crate::app::App;
use crate::http::{Outcome, Request, Response};
use crate::protocol::{self, Reply};
use crate::stats::{RequestRecord, bump};

pub(crate) async fn route(app: &Arc<App>, req: &mut Request<'_>) -> Outcome {
    bump(&app.counters.requests);
    let path = req.head.path.as_slice();
    match path {
        b"/v2/index.php" | b"/v3/index.php" => crate::api::handle(app, req).await,
        p if p.starts_with(b"/vod/") => Outcome::Respond(crate::download::handle(app, req).await),
        p if app.inspector && crate::inspector::serves(p) => {
            Outcome::Respond(crate::inspector::handle(app, req).await)
        }
        _ => Outcome::Respond(not_found(app, req)),
    }
}

fn not_found(app: &App, req: &Request<'_>) -> Response {
    let started = Instant::now();
    let path = req.head.path_lossy();
    let reply = Reply::error(
        protocol::E_NOT_FOUND,
        format!("no such path {}", protocol::printable(&path)),
        false,
    );
    let mut rec = RequestRecord::new(&req.head.method, &path);
    rec.result = format!("HTTP 404 {}", reply.code);
    rec.ms = started.elapsed().as_millis() as u64;
    app.record(rec);
    Response::reply(404, &reply)
}
