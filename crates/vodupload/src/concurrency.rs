//! How many parts are in flight at once: a fixed number, or chosen as the upload goes ("auto").
//!
//! The right number is what fills the path from here to the upload host: about the delivery rate
//! times the time one part takes when nothing else is in flight (the bandwidth-delay product, in
//! parts), plus a little. That is ~1 part on a LAN and ~25 across an ocean at the service's rate
//! cap; nobody knows it in advance, and it changes. So "auto" measures it, the way TCP and BBR
//! find a path's capacity:
//!
//! - **Rounds.** Completions are counted in rounds of `limit` parts (about one flight). Each
//!   round's delivery rate is its bytes over its duration.
//! - **Start.** From one part in flight, the limit grows by [`STARTUP_GAIN`] after every round
//!   whose rate beat the best so far by at least [`GROWTH`]; a round that does not is measured
//!   again, and after [`STALE_ROUNDS`] such rounds the rate has stopped rising: the link, the
//!   server or the pacer (which keeps the service's per-minute caps) is the limit. 27 parts in
//!   flight are reached in four rounds (1, 3, 9, 27).
//! - **Plateau.** The limit is then set from the measurement, not from where the start stopped
//!   (which can be almost three times too high): best rate × the fastest part time seen, in parts, times
//!   [`HEADROOM`], rounded up. More would only queue: in the server, the pacer or the link, where
//!   it holds memory and makes timeouts likelier.
//! - **Probing.** Every [`PROBE_EVERY`] rounds (and [`PROBE_EVERY_PARTS`] parts) at the
//!   plateau, one round runs a quarter higher;
//!   the higher limit is kept only if that round's rate is [`PROBE_GAIN`] better (the path got
//!   faster, or the first estimate was low).
//! - **Backing off.** A timeout, a network error or a 4400 (over the service's rate) cuts the
//!   limit to [`BACKOFF`] of itself, as TCP does on loss, and the plateau is re-measured from
//!   there.
//!
//! The limit never exceeds [`MAX_LIMIT`], a bound from memory (each part in flight holds a
//! 512 KiB send buffer: 32 MiB at most). One controller serves all the uploads of a client, so
//! several uploads share one window instead of each ramping up on its own. The state machine is
//! driven with the clock by its caller, so tests run it against a simulated link.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crate::config::MAX_CONCURRENCY;

/// How many parts a client keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    /// Measured and adjusted as the uploads go (the default): see the module documentation.
    #[default]
    Auto,
    /// This many parts per upload, 1 to 64.
    Fixed(usize),
}

/// The most parts in flight "auto" allows.
pub const MAX_LIMIT: usize = MAX_CONCURRENCY;
/// How much the limit grows after a round of the start: BBR's start-up gain, 2/ln 2, the
/// smallest that still doubles the delivery rate every round trip although each round's rate is
/// only known once the round is over. Plain doubling (TCP's slow start) reaches the rate cap 150
/// ms away two round trips later, which costs a sixth of a 512 MiB upload.
const STARTUP_GAIN: f64 = 2.89;
/// A round must beat the best rate by this factor for the start to go on growing.
const GROWTH: f64 = 1.25;
/// Rounds without [`GROWTH`] that end the start.
const STALE_ROUNDS: u32 = 2;
/// Parts in flight beyond the measured bandwidth-delay product: one part's jitter and the gap
/// between a part's answer and the next part's first byte.
const HEADROOM: f64 = 1.25;
/// Rounds at the plateau between two probes, and parts at least: at a small limit rounds are
/// short, and a probe every few parts would keep the limit moving.
const PROBE_EVERY: u32 = 8;
const PROBE_EVERY_PARTS: usize = 64;
/// How much better a probe round must be for its limit to be kept.
const PROBE_GAIN: f64 = 1.05;
/// What a congestion signal leaves of the limit.
const BACKOFF: f64 = 0.7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Plateau,
    /// One round at a higher limit; the limit and best rate to return to.
    Probe {
        back_to: usize,
        best_before: u64,
    },
}

/// The "auto" state machine; times are seconds on the caller's clock.
#[derive(Debug, Clone)]
pub(crate) struct AutoLimit {
    limit: usize,
    stage: Stage,
    round_start: f64,
    round_bytes: u64,
    round_done: usize,
    /// Best round rate, bytes per second.
    best_rate: f64,
    stale: u32,
    rounds_at_plateau: u32,
    parts_at_plateau: usize,
    /// The fastest a part has been answered: the path's delay with nothing queued.
    fastest_part: f64,
    /// Mean bytes per part of the best round, to turn its rate into parts.
    best_part_bytes: f64,
}

impl AutoLimit {
    pub(crate) fn new(now: f64) -> Self {
        AutoLimit {
            limit: 1,
            stage: Stage::Start,
            round_start: now,
            round_bytes: 0,
            round_done: 0,
            best_rate: 0.0,
            stale: 0,
            rounds_at_plateau: 0,
            parts_at_plateau: 0,
            fastest_part: f64::INFINITY,
            best_part_bytes: 1.0,
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// A part of `bytes` was answered `secs` after it was sent.
    pub(crate) fn on_part(&mut self, now: f64, bytes: u64, secs: f64) {
        if secs > 0.0 {
            self.fastest_part = self.fastest_part.min(secs);
        }
        self.round_bytes += bytes;
        self.round_done += 1;
        if self.round_done < self.limit {
            return;
        }
        let elapsed = (now - self.round_start).max(1e-6);
        let rate = self.round_bytes as f64 / elapsed;
        let part_bytes = self.round_bytes as f64 / self.round_done as f64;
        self.new_round(now);
        match self.stage {
            Stage::Start => {
                if rate >= self.best_rate * GROWTH {
                    self.best_rate = rate;
                    self.best_part_bytes = part_bytes;
                    self.stale = 0;
                    self.set((self.limit as f64 * STARTUP_GAIN).ceil() as usize);
                } else {
                    self.best_rate = self.best_rate.max(rate);
                    self.stale += 1;
                    if self.stale >= STALE_ROUNDS {
                        self.settle();
                    }
                }
            }
            Stage::Plateau => {
                self.best_rate = self.best_rate.max(rate);
                self.rounds_at_plateau += 1;
                self.parts_at_plateau += self.limit;
                if self.rounds_at_plateau >= PROBE_EVERY
                    && self.parts_at_plateau >= PROBE_EVERY_PARTS
                    && self.limit < MAX_LIMIT
                {
                    self.rounds_at_plateau = 0;
                    self.parts_at_plateau = 0;
                    self.stage = Stage::Probe {
                        back_to: self.limit,
                        best_before: self.best_rate as u64,
                    };
                    self.set(self.limit + self.limit.div_ceil(4));
                }
            }
            Stage::Probe {
                back_to,
                best_before,
            } => {
                self.stage = Stage::Plateau;
                if rate >= best_before as f64 * PROBE_GAIN {
                    self.best_rate = rate;
                } else {
                    self.set(back_to);
                }
            }
        }
    }

    /// A timeout, a network error or a 4400: too much in flight for the path or the service.
    pub(crate) fn on_congestion(&mut self, now: f64) {
        let cut = ((self.limit as f64) * BACKOFF).floor() as usize;
        self.set(cut);
        self.stage = Stage::Plateau;
        self.rounds_at_plateau = 0;
        self.parts_at_plateau = 0;
        // The old best may not be reachable any more; the plateau measures again.
        self.best_rate *= BACKOFF;
        self.new_round(now);
    }

    /// Ends the start: the limit the measurements call for.
    fn settle(&mut self) {
        let parts_per_sec = self.best_rate / self.best_part_bytes.max(1.0);
        let fastest = if self.fastest_part.is_finite() {
            self.fastest_part
        } else {
            0.0
        };
        let needed = (parts_per_sec * fastest * HEADROOM).ceil() as usize;
        // Never above where the rate stopped rising: more measured no better.
        self.set(needed.min(self.limit));
        self.stage = Stage::Plateau;
        self.rounds_at_plateau = 0;
        self.parts_at_plateau = 0;
    }

    fn set(&mut self, limit: usize) {
        self.limit = limit.clamp(1, MAX_LIMIT);
    }

    fn new_round(&mut self, now: f64) {
        self.round_start = now;
        self.round_bytes = 0;
        self.round_done = 0;
    }
}

/// A window of parts in flight, shared by the threads (and uploads) that send through it.
#[derive(Debug)]
pub(crate) struct Window {
    state: Mutex<WindowState>,
    freed: Condvar,
    epoch: Instant,
}

#[derive(Debug)]
struct WindowState {
    auto: AutoLimit,
    in_flight: usize,
}

/// What became of a part sent under a permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answered with success: `bytes` of part.
    Sent { bytes: u64 },
    /// Timed out, lost its connection, or was refused for the rate (4400).
    Congested,
    /// Anything else (a stop, a file error, a server error): no signal about the path.
    Other,
}

impl Window {
    pub(crate) fn new() -> Self {
        Window {
            state: Mutex::new(WindowState {
                auto: AutoLimit::new(0.0),
                in_flight: 0,
            }),
            freed: Condvar::new(),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WindowState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for room in the window; None once `stop()` says so (checked every 50 ms).
    pub(crate) fn acquire(&self, stop: &dyn Fn() -> bool) -> Option<Permit<'_>> {
        let mut state = self.lock();
        loop {
            if stop() {
                return None;
            }
            if state.in_flight < state.auto.limit() {
                state.in_flight += 1;
                return Some(Permit {
                    window: self,
                    sent: self.now(),
                });
            }
            state = self
                .freed
                .wait_timeout(state, std::time::Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The current limit.
    pub(crate) fn limit(&self) -> usize {
        self.lock().auto.limit()
    }
}

/// Room for one part in a [`Window`]; give it back with [`Permit::done`].
#[derive(Debug)]
pub(crate) struct Permit<'w> {
    window: &'w Window,
    sent: f64,
}

impl Permit<'_> {
    pub(crate) fn done(self, outcome: Outcome) {
        let window = self.window;
        let now = window.now();
        {
            let mut state = window.lock();
            state.in_flight -= 1;
            match outcome {
                Outcome::Sent { bytes } => state.auto.on_part(now, bytes, now - self.sent),
                Outcome::Congested => state.auto.on_congestion(now),
                Outcome::Other => {}
            }
        }
        window.freed.notify_all();
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    /// A permit dropped without an outcome (a panic unwinding) still frees its place.
    fn drop(&mut self) {
        self.window.lock().in_flight -= 1;
        self.window.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// A path of `rtt` seconds whose bottleneck delivers `bandwidth` bytes per second, shared
    /// by the parts in flight, and a server that answers at most `server_pps` parts a second.
    /// Runs `parts` parts under "auto"; returns the limits of the start (until the first
    /// plateau) and the limit of the plateau at the end, and the parts spent probing.
    fn simulate(
        rtt: f64,
        bandwidth: f64,
        server_pps: f64,
        parts: usize,
    ) -> (Vec<usize>, usize, usize) {
        let mut auto = AutoLimit::new(0.0);
        let mut now = 0.0;
        let mut start = vec![auto.limit()];
        let mut probing = 0;
        for _ in 0..parts {
            let n = auto.limit() as f64;
            // With n in flight the rate is the smallest of what the window allows, what the
            // bottleneck carries, and what the server answers; a part then takes n / rate.
            let window_pps = n / (rtt + MIB as f64 / bandwidth);
            let pps = window_pps.min(bandwidth / MIB as f64).min(server_pps);
            now += 1.0 / pps;
            auto.on_part(now, MIB, n / pps);
            match auto.stage {
                Stage::Start => start.push(auto.limit()),
                Stage::Probe { .. } => probing += 1,
                Stage::Plateau => {}
            }
        }
        start.dedup();
        let plateau = match auto.stage {
            Stage::Probe { back_to, .. } => back_to,
            _ => auto.limit(),
        };
        (start, plateau, probing)
    }

    /// The fewest parts in flight that reach 95% of what the path can carry.
    fn enough(rtt: f64, bandwidth: f64, server_pps: f64) -> usize {
        (1..=MAX_LIMIT)
            .find(|&n| {
                let pps = (n as f64 / (rtt + MIB as f64 / bandwidth))
                    .min(bandwidth / MIB as f64)
                    .min(server_pps);
                pps >= 0.95 * (bandwidth / MIB as f64).min(server_pps)
            })
            .unwrap_or(MAX_LIMIT)
    }

    #[test]
    fn finds_the_plateau_at_every_distance() {
        // (round trip, bandwidth bytes/s, server parts/s): a LAN, a continent, an ocean, a thin
        // link, an ocean behind the service's rate cap.
        for (rtt, bw, server) in [
            (0.001, 1e9, 400.0),
            (0.040, 1e9, 400.0),
            (0.150, 1e9, 400.0),
            (0.005, 20e6, 400.0),
            (0.150, 1e9, 166.0),
        ] {
            let (start, plateau, probing) = simulate(rtt, bw, server, 2000);
            let best = enough(rtt, bw, server);
            println!(
                "rtt {rtt} bw {bw} server {server}: start {start:?} plateau {plateau} enough {best} probing {probing}"
            );
            assert!(
                plateau >= best && plateau <= (2 * best).max(best + 1),
                "rtt {rtt}, bandwidth {bw}, server {server}: plateau {plateau}, enough {best}, start {start:?}"
            );
            // Slow start: the plateau is reached within a few rounds, not one step at a time.
            assert!(start.len() <= 8, "{start:?}");
            // Probing costs little: a small share of the parts run above the plateau.
            assert!(probing <= 2000 / 5, "{probing} parts probing");
        }
    }

    #[test]
    fn congestion_cuts_and_the_limit_stays_in_bounds() {
        let mut auto = AutoLimit::new(0.0);
        let mut now = 0.0;
        for _ in 0..200 {
            now += 0.001;
            auto.on_part(now, MIB, 0.001 * auto.limit() as f64);
        }
        let before = auto.limit();
        auto.on_congestion(now);
        assert_eq!(auto.limit(), ((before as f64 * BACKOFF) as usize).max(1));
        for _ in 0..20 {
            auto.on_congestion(now);
        }
        assert_eq!(auto.limit(), 1, "never below one part");
        for _ in 0..10_000 {
            now += 0.0001;
            auto.on_part(now, MIB, 0.0001);
            assert!(auto.limit() <= MAX_LIMIT);
        }
    }

    #[test]
    fn the_window_holds_parts_to_the_limit() {
        let w = Window::new();
        assert_eq!(w.limit(), 1);
        let first = w.acquire(&|| false).unwrap();
        // The second waits; with stop it gives up instead of blocking.
        assert!(w.acquire(&|| true).is_none());
        first.done(Outcome::Sent { bytes: MIB });
        // One round of one part at a fresh best rate: the start grows the limit, 1 to 3.
        assert_eq!(w.limit(), 3);
        let a = w.acquire(&|| false).unwrap();
        let b = w.acquire(&|| false).unwrap();
        drop(a);
        b.done(Outcome::Other);
        assert_eq!(w.lock().in_flight, 0);
    }
}
