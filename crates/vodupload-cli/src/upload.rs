//! `vodupload upload`: one file or many, with a progress bar on a terminal, or JSON lines.
//!
//! Ctrl-C (or SIGTERM) stops cleanly: the parts already on the server stay there, the command
//! says how many and exits 130, and running it again resumes (it says so at once).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use vodupload::settings::Value;
use vodupload::{
    CancelToken, Client, Credentials, ErrorKind, Phase, Progress, ProgressFn, UploadOptions,
    UploadResult,
};
use vodupload_emulator::{Emulator, EmulatorConfig};

use crate::Failure;
use crate::client_args::ClientArgs;

#[derive(Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct UploadArgs {
    /// The video files; a directory with --recursive.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Upload every file under the directories given, in name order.
    #[arg(long, short)]
    recursive: bool,
    /// Files uploaded at once, 1 to 64 (each with its own parts in flight) [default: 1].
    #[arg(long, value_name = "N")]
    jobs: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    pub(crate) verbosity: crate::verbosity::Verbosity,
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
    /// Print the result as JSON: one object per file, one line each.
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

const AFTER_HELP: &str = "\
Exit status: 0 success; 2 invalid input (a bad option, name, part size, an empty file...); 3 the
local file (missing, unreadable, changed during the upload); 4 network or timeout; 5
authentication (-10002: wrong key or signature); 6 the service or an answer that is not the
protocol; 130 interrupted (Ctrl-C: the parts on the server stay, and running the same command
again resumes). With several files, the worst of them.

--json prints, per file, one line: {\"path\", \"file_id\", \"url\", \"instant\", \"file_sha1\",
\"file_size\", \"parts_total\", \"parts_uploaded\", \"parts_skipped\", \"bytes_sent\", \"retries\",
\"concurrency_peak\", \"elapsed_ms\"}, or for a file that failed {\"path\", \"error\":
{\"kind\", \"message\", \"exit_status\"}}.

Every option's rule and the message a bad value gets: docs/options.md.";

pub(crate) fn run(a: UploadArgs) -> Result<(), Failure> {
    // Kept alive until the uploads end: dropping it stops the server.
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
    let jobs = match &a.jobs {
        Some(j) => vodupload::config::check_jobs(Value::Text(j))?,
        None => 1,
    };
    let client = Client::new(credentials, options)?;
    let upload_options = upload_options(&a)?;
    let paths = expand(&a.files, a.recursive)?;
    let cancel = CancelToken::new();
    stop_on_signals(&cancel);
    if paths.len() == 1 {
        one_file(&a, &client, &upload_options, &paths[0], &cancel)
    } else {
        many_files(&a, &client, &upload_options, &paths, jobs, &cancel)
    }
}

/// The upload options of the flags, each through the core's rule.
fn upload_options(a: &UploadArgs) -> Result<UploadOptions, Failure> {
    let mut o = UploadOptions::default();
    let texts = [
        ("name", &a.name),
        ("file_type", &a.file_type),
        ("class_id", &a.class_id),
    ];
    for (name, value) in texts {
        if let Some(v) = value {
            o.set(name, Value::Text(v))?;
        }
    }
    for tag in &a.tags {
        o.set("tags", Value::Text(tag))?;
    }
    for (name, on) in [
        ("transcode", a.transcode),
        ("screenshot", a.screenshot),
        ("watermark", a.watermark),
    ] {
        o.set(name, Value::Bool(on))?;
    }
    Ok(o)
}

/// The files to upload: those given, and with `recursive` every regular file under the
/// directories given, in name order.
fn expand(given: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for path in given {
        if path.is_dir() {
            if !recursive {
                // A local file problem (3), as the core's "is a directory" is in every face.
                return Err(Failure {
                    message: format!(
                        "cannot upload {}: it is a directory, not a file; pass --recursive to upload the files in it",
                        path.display()
                    ),
                    code: 3,
                    kind: ErrorKind::Io.as_str(),
                });
            }
            walk(path, &mut out)?;
        } else {
            // Anything else goes to the upload, which says what is wrong with it.
            out.push(path.clone());
        }
    }
    if out.is_empty() {
        return Err(Failure::usage(
            "no file to upload: the directories given hold none".to_owned(),
        ));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::from_io(format!("cannot read the directory {}", dir.display()), &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        // Not through symbolic links to directories: a loop would never end.
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// The first Ctrl-C (or SIGTERM) stops the uploads at their next request boundary; a second
/// one ends the process at once.
fn stop_on_signals(cancel: &CancelToken) {
    let cancel = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            std::process::exit(130);
        }
        cancel.cancel();
    });
}

fn one_file(
    a: &UploadArgs,
    client: &Client,
    upload_options: &UploadOptions,
    path: &Path,
    cancel: &CancelToken,
) -> Result<(), Failure> {
    #[cfg(unix)]
    let timings = a
        .timings_fd
        .map(|fd| crate::bench::timings::Recorder::open(fd, client.options().part_size))
        .transpose()?;
    let bar = (!a.quiet && !a.json && std::io::stderr().is_terminal()).then(|| new_bar(None));
    let progress = |p: Progress| {
        #[cfg(unix)]
        if let Some(t) = &timings {
            t.progress(p);
        }
        if let Some(bar) = &bar {
            show(bar, p);
        }
        true
    };
    let say = |line: String| match &bar {
        Some(bar) => bar.println(line),
        None if !a.quiet => eprintln!("{line}"),
        None => {}
    };
    let result = upload_one(client, path, upload_options, &progress, cancel, &say);
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

/// `jobs` files at a time; every file is tried, and the command ends with the worst status.
fn many_files(
    a: &UploadArgs,
    client: &Client,
    upload_options: &UploadOptions,
    paths: &[PathBuf],
    jobs: usize,
    cancel: &CancelToken,
) -> Result<(), Failure> {
    let bars = (!a.quiet && !a.json && std::io::stderr().is_terminal()).then(MultiProgress::new);
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Result<UploadResult, Failure>>>> =
        Mutex::new((0..paths.len()).map(|_| None).collect());
    // Lines on stdout and stderr from several threads, whole.
    let print = Mutex::new(());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(paths.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = paths.get(i) else { return };
                    if cancel.is_cancelled() {
                        return;
                    }
                    let bar = bars.as_ref().map(|m| m.add(new_bar(Some(path))));
                    let progress = |p: Progress| {
                        if let Some(bar) = &bar {
                            show(bar, p);
                        }
                        true
                    };
                    let say = |line: String| {
                        let line = format!("{}: {line}", path.display());
                        match (&bars, a.quiet) {
                            (Some(m), _) => {
                                let _ = m.println(line);
                            }
                            (None, false) => eprintln!("{line}"),
                            (None, true) => {}
                        }
                    };
                    let outcome = upload_one(client, path, upload_options, &progress, cancel, &say);
                    if let (Some(m), Some(bar)) = (&bars, &bar) {
                        m.remove(bar);
                    }
                    {
                        let _lines = print.lock().unwrap_or_else(|e| e.into_inner());
                        report(a, path, &outcome, bars.as_ref());
                    }
                    outcomes.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    summarize(a, paths, &outcomes)
}

/// One file's line: its result, or why it failed.
fn report(
    a: &UploadArgs,
    path: &Path,
    outcome: &Result<UploadResult, Failure>,
    bars: Option<&MultiProgress>,
) {
    let line = match (outcome, a.json) {
        (Ok(r), true) => {
            let mut j = result_json(r);
            j["path"] = serde_json::json!(path.to_string_lossy());
            println!("{j}");
            return;
        }
        (Err(f), true) => {
            println!(
                "{}",
                serde_json::json!({
                    "path": path.to_string_lossy(),
                    "error": {"kind": f.kind, "message": f.message, "exit_status": f.code},
                })
            );
            return;
        }
        (Ok(_), false) if a.quiet => return,
        (Ok(r), false) => format!(
            "{}: {} {} ({} of {} parts sent)",
            path.display(),
            if r.instant { "instant" } else { "uploaded" },
            r.file_id,
            r.parts_uploaded,
            r.parts_total
        ),
        (Err(f), false) => format!("{}: failed: {}", path.display(), f.message),
    };
    match bars {
        Some(m) => {
            let _ = m.println(line);
        }
        None if outcome.is_ok() => println!("{line}"),
        None => eprintln!("{line}"),
    }
}

/// The summary line, and the exit status of the worst failure.
fn summarize(
    a: &UploadArgs,
    paths: &[PathBuf],
    outcomes: &[Option<Result<UploadResult, Failure>>],
) -> Result<(), Failure> {
    let uploaded = outcomes
        .iter()
        .flatten()
        .filter(|o| o.as_ref().is_ok_and(|r| !r.instant))
        .count();
    let instant = outcomes
        .iter()
        .flatten()
        .filter(|o| o.as_ref().is_ok_and(|r| r.instant))
        .count();
    let failed = outcomes.iter().flatten().filter(|o| o.is_err()).count();
    let skipped = outcomes.iter().filter(|o| o.is_none()).count();
    if !a.quiet || failed + skipped > 0 {
        eprintln!(
            "{} files: {uploaded} uploaded, {instant} already on the service, {failed} failed{}",
            paths.len(),
            if skipped > 0 {
                format!(", {skipped} not started (interrupted)")
            } else {
                String::new()
            }
        );
    }
    let worst = outcomes
        .iter()
        .flatten()
        .filter_map(|o| o.as_ref().err())
        .max_by_key(|f| f.code);
    match worst {
        Some(f) => Err(Failure {
            message: format!(
                "{failed} of {} files failed; the last reason: {}",
                paths.len(),
                f.message
            ),
            code: f.code,
            kind: f.kind,
        }),
        None if skipped > 0 => Err(Failure {
            message: format!(
                "interrupted: {skipped} of {} files were not started; run the same command to go on",
                paths.len()
            ),
            code: 130,
            kind: ErrorKind::Cancelled.as_str(),
        }),
        None => Ok(()),
    }
}

/// One upload, step by step so it can say when it resumes and, when interrupted, what the
/// server holds.
fn upload_one(
    client: &Client,
    path: &Path,
    options: &UploadOptions,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
    say: &dyn Fn(String),
) -> Result<UploadResult, Failure> {
    let up = client.begin(path, options, progress, cancel).map_err(|e| {
        if e.kind() == ErrorKind::Cancelled {
            Failure::interrupted("interrupted while hashing, before anything was sent; run the same command to start again".to_owned())
        } else {
            e.into()
        }
    })?;
    let total = up.part_count();
    let held = |up: &vodupload::Upload| total - up.parts_needed().len();
    if !up.is_instant() && held(&up) > 0 {
        say(format!(
            "resuming: the server holds {} of {total} parts",
            held(&up)
        ));
    }
    match up.upload_parts(None, progress) {
        Err(e) if e.kind() == ErrorKind::Cancelled => Err(Failure::interrupted(format!(
            "interrupted: {} of {total} parts are on the server; run the same command to resume",
            held(&up)
        ))),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(up.finish()?),
    }
}

fn show(bar: &ProgressBar, p: Progress) {
    bar.set_length(p.total);
    bar.set_position(p.done);
    bar.set_message(match p.phase {
        Phase::Hashing => "hashing".to_owned(),
        Phase::Uploading if p.concurrency > 0 => format!("uploading ({} in flight)", p.concurrency),
        Phase::Uploading => "uploading".to_owned(),
    });
}

fn new_bar(path: Option<&Path>) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let prefix = path.map_or(String::new(), |p| {
        let name = p.file_name().unwrap_or(p.as_os_str()).to_string_lossy();
        format!("{name:.24} ")
    });
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{prefix}{{msg:>9}} [{{bar:40}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} eta {{eta}}"
        ))
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
