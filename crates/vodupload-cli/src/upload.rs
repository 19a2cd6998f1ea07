//! `vodupload upload`: one file, with a progress bar on a terminal or one JSON object with --json.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use vodupload::settings::Value;
use vodupload::{CancelToken, Client, Credentials, Phase, Progress, UploadOptions, UploadResult};
use vodupload_emulator::{Emulator, EmulatorConfig};

use crate::Failure;
use crate::client_args::ClientArgs;

#[derive(Args)]
pub(crate) struct UploadArgs {
    /// The video file.
    file: PathBuf,
    #[command(flatten)]
    client: ClientArgs,
    /// Video name, without extension, at most 40 bytes [default: the file's name].
    #[arg(long)]
    name: Option<String>,
    /// Video type, e.g. mp4 [default: the file's extension].
    #[arg(long = "type", value_name = "TYPE")]
    file_type: Option<String>,
    /// A tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// The category id, 0 or more.
    #[arg(long, value_name = "ID")]
    class_id: Option<String>,
    /// Ask the service to transcode the video once uploaded.
    #[arg(long)]
    transcode: bool,
    /// Ask the service to take screenshots of the video.
    #[arg(long)]
    screenshot: bool,
    /// Ask the service to watermark the video.
    #[arg(long)]
    watermark: bool,
    /// Start an emulator in-process (temporary state, random credentials) and upload to it.
    #[arg(long)]
    emulator: bool,
    /// Print one JSON object with the result instead of text.
    #[arg(long)]
    json: bool,
    /// No progress bar and no text on success.
    #[arg(long, short)]
    quiet: bool,
    /// Internal (`vodupload bench`): write timing events, one JSON line each, to this inherited
    /// descriptor.
    #[cfg(unix)]
    #[arg(long, hide = true)]
    timings_fd: Option<i32>,
}

pub(crate) fn run(a: UploadArgs) -> Result<(), Failure> {
    // Kept alive until the upload ends: dropping it stops the server.
    let mut _emulator = None;
    let mut options = a.client.options()?;
    let credentials = if a.emulator {
        let emu = Emulator::start(EmulatorConfig::default())
            .map_err(|e| Failure::other(format!("cannot start the embedded emulator: {e}")))?;
        let (id, key) = emu.credentials()[0].clone();
        options.set("endpoint", Value::Text(&emu.endpoint()))?;
        _emulator = Some(emu);
        Credentials::new(id, key)?
    } else {
        a.client.credentials()?
    };
    let client = Client::new(credentials, options)?;
    let mut upload_options = UploadOptions::default();
    let texts = [
        ("name", &a.name),
        ("file_type", &a.file_type),
        ("class_id", &a.class_id),
    ];
    for (name, value) in texts {
        if let Some(v) = value {
            upload_options.set(name, Value::Text(v))?;
        }
    }
    for tag in &a.tags {
        upload_options.set("tags", Value::Text(tag))?;
    }
    for (name, on) in [
        ("transcode", a.transcode),
        ("screenshot", a.screenshot),
        ("watermark", a.watermark),
    ] {
        upload_options.set(name, Value::Bool(on))?;
    }

    #[cfg(unix)]
    let timings = a
        .timings_fd
        .map(|fd| crate::bench::timings::Recorder::open(fd, client.options().part_size))
        .transpose()?;
    let bar = (!a.quiet && !a.json && std::io::stderr().is_terminal()).then(new_bar);
    let progress = |p: Progress| {
        #[cfg(unix)]
        if let Some(t) = &timings {
            t.progress(p);
        }
        if let Some(bar) = &bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(match p.phase {
                Phase::Hashing => "hashing",
                Phase::Uploading => "uploading",
            });
        }
        true
    };
    let result = client.upload(&a.file, &upload_options, &progress, &CancelToken::new());
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let r = result?;
    #[cfg(unix)]
    if let Some(t) = &timings {
        t.finished();
    }
    if a.json {
        println!("{}", result_json(&r));
    } else if !a.quiet {
        print_result(&r);
    }
    Ok(())
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>9} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar
}

pub(crate) fn result_json(r: &UploadResult) -> serde_json::Value {
    serde_json::json!({
        "file_id": r.file_id,
        "url": r.url,
        "instant": r.instant,
        "file_sha1": r.file_sha1,
        "file_size": r.file_size,
        "parts_total": r.parts_total,
        "parts_uploaded": r.parts_uploaded,
        "parts_skipped": r.parts_skipped,
        "bytes_sent": r.bytes_sent,
        "retries": r.retries,
        "concurrency_peak": r.concurrency_peak,
        "elapsed_ms": r.elapsed.as_millis() as u64,
    })
}

pub(crate) fn print_result(r: &UploadResult) {
    println!("file id: {}", r.file_id);
    println!("url:     {}", r.url);
    println!(
        "{}: {} parts, {} uploaded, {} already on the server, {} bytes sent in {:.2} s",
        if r.instant {
            "instant upload"
        } else {
            "uploaded"
        },
        r.parts_total,
        r.parts_uploaded,
        r.parts_skipped,
        r.bytes_sent,
        r.elapsed.as_secs_f64()
    );
}
