//! vodupload: put large videos into the VOD service with its server-side chunked upload protocol
//! (InitUpload → UploadPart × N → FinishUpload), with resume, retries and bounded memory.
//!
//! ```no_run
//! use vodupload::{CancelToken, Client, ClientOptions, Credentials, UploadOptions, no_progress};
//! let client = Client::new(Credentials::from_env()?, ClientOptions::default())?;
//! let r = client.upload("video.mp4", &UploadOptions::default(), &no_progress, &CancelToken::new())?;
//! println!("{} {}", r.file_id, r.url);
//! # Ok::<(), vodupload::Error>(())
//! ```

mod aligned;
mod answer_json;
mod body;
mod cache;
mod client;
pub mod concurrency;
pub mod config;
pub mod credentials;
pub mod error;
pub mod events;
mod hex;
pub mod options;
mod pacing;
mod part_md5s;
pub mod plan;
mod positional;
pub mod progress;
mod resume;
pub mod settings;
pub mod signature;
mod stamp;
mod transport;
mod upload;

pub use client::Client;
pub use concurrency::Concurrency;
pub use config::ClientOptions;
pub use credentials::Credentials;
pub use error::{Error, ErrorKind, Result, ServerError};
pub use events::{Event, PulledEvent};
pub use options::UploadOptions;
pub use pacing::RateLimits;
pub use plan::{Part, PartPlan};
pub use progress::{CancelToken, Phase, Progress, ProgressFn, no_progress};
pub use signature::SignatureMethod;
pub use upload::{Upload, UploadResult};

#[doc(hidden)]
pub mod unstable;
use unstable::{fingerprint, protocol};

/// The crate version, as the C and Python faces report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
