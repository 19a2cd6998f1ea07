//! A local HTTP/1.1 (and HTTPS) server that speaks the server side of the legacy VOD upload
//! protocol (`InitUpload` → `UploadPart` × N → `FinishUpload`, described in `docs/protocol.md`)
//! and enforces it strictly: signatures, timestamps, replays, rate limits, every parameter rule,
//! part sizes and MD5s, and the final SHA-1. State (parts and finished files) lives in a
//! directory and survives restarts and crashes. Seeded fault injection (errors, dropped
//! connections, 502s, truncated and slow answers) lets clients prove their retry logic against a
//! real socket. An inspector page shows what arrived. User guide: `docs/emulator.md`.
//!
//! Every FinishUpload that completes a file creates the event "Video Upload Completed"
//! (`{"version":"4.0","eventType":"NewFileUpload","data":{"fileId","fileUrl","fileName",
//! "sourceType":"ServerUpload",...}}`). It is POSTed to [`EmulatorConfig::notify_url`] when set,
//! and kept in a queue, persisted in the state directory, that the same endpoint serves with two
//! more signed actions:
//! - `PullEvent` answers `{"code":0,...,"eventList":[{"msgHandle":"…","eventContent":{…event…}}]}`
//!   with the oldest unconfirmed events of the caller's SecretId, at most 16 (an empty list when
//!   there are none; it does not wait for one). Pulled events stay queued until confirmed.
//! - `ConfirmEvent` with `msgHandle.0`, `msgHandle.1`, ... (at most 16) removes those events.
//!   Handles that are unknown or already confirmed are ignored, so a retry is harmless.
//!
//! How a request travels: `http` (accept loop, connection limits, TLS, request heads and bodies
//! with their time limits) → `router` (by path) → `api` (faults, then `api::checks`: method,
//! parameters, signature, clock, replay, rate; then one module per action) or `download` or
//! `inspector`. State: `store` (sessions, parts, finished files) and `events` (the queue and the
//! callback). Rules without I/O: `protocol` and `signature`.
//!
//! ```no_run
//! use vodupload_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).unwrap();
//! let (secret_id, secret_key) = emu.credentials()[0].clone();
//! println!("{} {secret_id} {secret_key}", emu.endpoint());
//! ```

mod api;
mod app;
mod cli;
mod config;
mod download;
mod emulator;
mod events;
mod faults;
mod hooks;
mod http;
mod inspector;
mod link;
mod protocol;
mod router;
mod signature;
mod stats;
mod store;
mod tls;

pub use api::Rates;
pub use cli::{EmulatorArgs, parse_size, run_cli};
pub use config::{DEFAULT_MAX_FILE_SIZE, EmulatorConfig, Faults, Limits, TlsSetup};
pub use emulator::{Emulator, EmulatorError};
#[doc(hidden)]
pub use hooks::{STEPS, StepHook};
pub use stats::Stats;

/// The server's own signature canonicalisation, public so tests can hold it against the
/// client's; not a stable API.
#[doc(hidden)]
pub mod server_signature {
    /// The string to sign of a request with these decoded query parameters.
    pub fn string_to_sign(
        method: &str,
        host: &str,
        path: &str,
        params: &[(String, String)],
    ) -> String {
        crate::signature::string_to_sign(method, host, path, params)
    }
}
