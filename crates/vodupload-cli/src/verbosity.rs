//! `-v`: how much the core logs to stderr, accepted before the subcommand or after it.

use clap::Args;

/// `-v` (info: requests that fail, retries, resume decisions), `-vv` (debug: every request).
#[derive(Args, Debug, Default, Clone, Copy)]
pub(crate) struct Verbosity {
    /// Log requests, retries and resume decisions to stderr (-vv for every request); RUST_LOG
    /// also works.
    #[arg(short, long = "verbose", action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}
