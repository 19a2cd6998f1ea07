//! `vodupload`: upload videos to the VOD upload host, run the local emulator, sign requests.

mod bench;
mod client_args;
mod demo;
mod events;
mod sign;
mod upload;
mod verbosity;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vodupload",
    version,
    about = "Upload large videos to the VOD service (InitUpload → UploadPart × N → FinishUpload)"
)]
struct Cli {
    #[command(flatten)]
    verbosity: verbosity::Verbosity,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Upload a file (resumes what the server already holds; instant if it has it all).
    Upload(upload::UploadArgs),
    /// Run the local emulator of the upload host in the foreground.
    Emulator(vodupload_emulator::EmulatorArgs),
    /// Print the string to sign and the signature of a request (debugging -10002).
    Sign(sign::SignArgs),
    /// Read the "Video Upload Completed" events kept for the app (`events pull [--confirm]
    /// [--json]`), confirm them, or check a callback's event JSON (`events parse`).
    Events(events::EventsArgs),
    /// Generate a video-sized random file, upload it to an embedded emulator, check the copy, upload
    /// it again (instant), and print what happened.
    Demo(demo::DemoArgs),
    /// Measure uploads to an in-process emulator (time to InitUpload, client CPU per GiB, peak
    /// RSS, cached resume, throughput against concurrency) against this machine's SHA-1 and MD5.
    Bench(bench::BenchArgs),
    /// Print a shell completion script: `vodupload completions bash > /etc/bash_completion.d/vodupload`
    /// (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff): `vodupload man > /usr/local/share/man/man1/vodupload.1`.
    Man,
}

#[derive(clap::Args)]
struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `-v` before the subcommand, or after it (the emulator has its own --verbose).
    let after = match &cli.command {
        Command::Upload(a) => a.verbosity.verbose,
        Command::Sign(a) => a.verbosity.verbose,
        Command::Events(a) => a.verbosity(),
        Command::Demo(a) => a.verbosity.verbose,
        Command::Bench(a) => a.verbosity.verbose,
        Command::Emulator(_) | Command::Completions(_) | Command::Man => 0,
    };
    init_logging(cli.verbosity.verbose.saturating_add(after));
    let result = match cli.command {
        Command::Upload(a) => upload::run(a),
        Command::Emulator(a) => {
            vodupload_emulator::run_cli(a).map_err(|e| Failure::other(e.to_string()))
        }
        Command::Sign(a) => sign::run(a),
        Command::Events(a) => events::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Completions(a) => {
            clap_complete::generate(
                a.shell,
                &mut Cli::command(),
                "vodupload",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| Failure::other(format!("cannot write the man page: {e}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("vodupload: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn init_logging(verbose: u8) {
    // Warnings always: they are the things a user must know (a resume that re-sends parts, a
    // corrected clock, pacing that fell back from Redis to this process alone).
    let default = match verbose {
        0 => "vodupload=warn",
        1 => "vodupload=info",
        _ => "vodupload=debug,vodupload_emulator=debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default))
        .format_target(false)
        // ureq logs whole request URLs, whose query carries the Signature: never show them,
        // whatever RUST_LOG asks for.
        .filter_module("ureq", log::LevelFilter::Off)
        .filter_module("ureq_proto", log::LevelFilter::Off)
        .init();
}

/// A failed command: its one-line reason and exit status.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
    /// The error's kind as the core names it (`ErrorKind::as_str`), for JSON.
    pub(crate) kind: &'static str,
}

impl Failure {
    pub(crate) fn other(message: String) -> Self {
        Failure {
            message,
            code: 1,
            kind: "other",
        }
    }

    pub(crate) fn usage(message: String) -> Self {
        Failure {
            message,
            code: 2,
            kind: vodupload::ErrorKind::InvalidInput.as_str(),
        }
    }

    /// Stopped by Ctrl-C or SIGTERM: 130, as a shell reports a process ended by SIGINT.
    pub(crate) fn interrupted(message: String) -> Self {
        Failure {
            message,
            code: 130,
            kind: vodupload::ErrorKind::Cancelled.as_str(),
        }
    }

    /// A local I/O failure: exit status 3, as the core's I/O errors.
    pub(crate) fn from_io(context: String, e: &std::io::Error) -> Self {
        Failure {
            message: format!("{context}: {e}"),
            code: 3,
            kind: vodupload::ErrorKind::Io.as_str(),
        }
    }
}

impl From<vodupload::Error> for Failure {
    /// Exit statuses by kind, so scripts can tell "fix your input" from "try later".
    fn from(e: vodupload::Error) -> Self {
        use vodupload::ErrorKind as K;
        let code = match e.kind() {
            K::InvalidInput => 2,
            K::Io | K::FileChanged => 3,
            K::Network | K::Timeout => 4,
            K::Auth => 5,
            K::Server | K::Protocol => 6,
            K::Cancelled => 130,
            _ => 1,
        };
        Failure {
            message: e.to_string(),
            code,
            kind: e.kind().as_str(),
        }
    }
}
