//! The accept loop, with the bound on open connections.

use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsAcceptor;

use super::conn_table::EVICT_MIN_WAIT;
use super::response::Response;
use crate::app::App;
use crate::protocol::{E_FREQUENCY, Reply};
use crate::stats::bump;

/// Accepts connections until `stop` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    acceptor: Option<TlsAcceptor>,
    app: Arc<App>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("vodupload-emulator: cannot use the listener: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            r = listener.accept() => match r {
                Ok((tcp, _peer)) => {
                    let _ = tcp.set_nodelay(true);
                    if app.conns.len() >= app.limits.max_connections {
                        if app.conns.evict_longest_waiting(EVICT_MIN_WAIT) {
                            bump(&app.counters.connections_evicted);
                        } else {
                            bump(&app.counters.connections_refused);
                            refuse_busy(&tcp, &app, acceptor.is_some());
                            continue;
                        }
                    }
                    bump(&app.counters.connections_accepted);
                    let reg = app.conns.register();
                    tokio::spawn(super::connection::run(tcp, acceptor.clone(), app.clone(), reg));
                }
                Err(_) => {
                    // Out of file descriptors and the like: breathe, then go on.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Every connection is busy with a client that is not waiting: say so (plain HTTP; over TLS
/// there is no answer without a handshake) and close. The answer fits in the socket's empty send
/// buffer, so the write does not wait.
fn refuse_busy(tcp: &tokio::net::TcpStream, app: &App, tls: bool) {
    if tls {
        return;
    }
    let reply = Reply::error(
        E_FREQUENCY,
        format!(
            "the emulator has {} connections open, its limit: try again shortly",
            app.limits.max_connections
        ),
        true,
    );
    let resp = Response::reply(503, &reply)
        .with_header("Retry-After", "1")
        .closing();
    let mut bytes = resp.head_bytes(&app.date_header());
    bytes.extend_from_slice(&reply.to_bytes());
    let _ = tcp.try_write(&bytes);
}
