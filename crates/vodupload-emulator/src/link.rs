//! A thin link shared by every connection (`--bandwidth`): request bodies cross it one after
//! another at a fixed rate, as they would cross the one uplink between a backend and the upload
//! host.
//!
//! The model is a FIFO queue in front of a wire: a piece of body read from a socket is held
//! until the wire, busy with what came before it, has carried its last byte. Holding it back
//! stops the connection's reads, so TCP's own flow control makes the sender feel the limit, as
//! on a real thin link. An idle wire earns no credit: a link is never faster than its rate.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct SharedLink {
    bytes_per_sec: f64,
    /// When the wire has carried everything queued so far.
    free_at: Mutex<Option<Instant>>,
}

impl SharedLink {
    pub(crate) fn new(bytes_per_sec: f64) -> SharedLink {
        SharedLink {
            bytes_per_sec,
            free_at: Mutex::new(None),
        }
    }

    /// Waits until `bytes` more have crossed the wire; returns how long that took, which the
    /// body's deadline must not count against the client.
    pub(crate) async fn carry(&self, bytes: usize) -> Duration {
        let now = Instant::now();
        let done = {
            let mut free_at = self.free_at.lock().unwrap_or_else(|p| p.into_inner());
            let start = free_at.map_or(now, |t| t.max(now));
            let done = start + Duration::from_secs_f64(bytes as f64 / self.bytes_per_sec);
            *free_at = Some(done);
            done
        };
        tokio::time::sleep_until(done).await;
        done - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pieces_from_many_connections_share_the_rate() {
        let link = std::sync::Arc::new(SharedLink::new(1_000_000.0));
        let start = Instant::now();
        // Four connections, 250 KB each at once: together one second of wire.
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let link = link.clone();
                tokio::spawn(async move { link.carry(250_000).await })
            })
            .collect();
        let mut waits = Vec::new();
        for t in tasks {
            waits.push(t.await.unwrap());
        }
        waits.sort();
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // First in line waits its own quarter second, the last the whole second.
        assert_eq!(waits[0], Duration::from_millis(250));
        assert_eq!(waits[3], Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_wire_earns_no_burst() {
        let link = SharedLink::new(1_000_000.0);
        link.carry(100_000).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        // After five idle seconds, 500 KB still take half a second.
        assert_eq!(link.carry(500_000).await, Duration::from_millis(500));
    }
}
