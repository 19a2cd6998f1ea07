//! `vodupload upload`: one file, with a progress bar on a terminal or one JSON object with --json.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use vodupload::{
    CancelToken, Client, ClientOptions, Credentials, Phase, Progress, RateLimits, SignatureMethod,
    UploadOptions, UploadResult,
};
use vodupload_emulator::{Emulator, EmulatorConfig};

use crate::Failure;

#[derive(Args)]
pub(crate) struct UploadArgs {
    /// The video file.
    file: PathBuf,
    /// Upload API URL [default: https://vod2.qcloud.com/v2/index.php].
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long, default_value = vodupload::config::DEFAULT_REGION)]
    region: String,
    /// SecretId [default: $TENCENTCLOUD_SECRET_ID].
    #[arg(long)]
    secret_id: Option<String>,
    /// SecretKey [default: $TENCENTCLOUD_SECRET_KEY]. Prefer the variable: arguments show in `ps`.
    #[arg(long)]
    secret_key: Option<String>,
    /// 524288 or 1048576.
    #[arg(long, default_value_t = vodupload::plan::DEFAULT_PART_SIZE)]
    part_size: u64,
    /// Parts in flight at once.
    #[arg(long, default_value_t = vodupload::config::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Tries per request, the first included.
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Video name (without extension) [default: the file's name].
    #[arg(long)]
    name: Option<String>,
    /// Video type, e.g. mp4 [default: the file's extension].
    #[arg(long = "type")]
    file_type: Option<String>,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[arg(long)]
    class_id: Option<i64>,
    #[arg(long)]
    transcode: bool,
    #[arg(long)]
    screenshot: bool,
    #[arg(long)]
    watermark: bool,
    /// Trust only the CA certificates in this PEM file (as curl --cacert).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// HmacSHA1 or HmacSHA256.
    #[arg(long, default_value = "HmacSHA1")]
    signature_method: String,
    /// Do not pace requests under the service's published rates.
    #[arg(long)]
    no_rate_limit: bool,
    /// Where to cache file fingerprints (SHA-1 and part MD5s) so a re-run does not rehash
    /// [default: $XDG_CACHE_HOME/vodupload or ~/.cache/vodupload].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not use the fingerprint cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
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
    let (credentials, endpoint) = if a.emulator {
        let emu = Emulator::start(EmulatorConfig::default())
            .map_err(|e| Failure::other(format!("cannot start the embedded emulator: {e}")))?;
        let (id, key) = emu.credentials()[0].clone();
        let endpoint = emu.endpoint();
        _emulator = Some(emu);
        (Credentials::new(id, key)?, Some(endpoint))
    } else {
        (
            Credentials::resolve(a.secret_id.as_deref(), a.secret_key.as_deref())?,
            a.endpoint.clone(),
        )
    };
    let mut options = ClientOptions::default();
    if let Some(e) = endpoint {
        options.endpoint = e;
    }
    options.region = a.region.clone();
    options.part_size = a.part_size;
    options.concurrency = a.concurrency;
    options.max_attempts = a.retries;
    options.request_timeout = Duration::from_secs(a.timeout);
    options.ca_file = a.ca_file.clone();
    options.signature_method = SignatureMethod::parse(&a.signature_method)?;
    if a.no_rate_limit {
        options.rate_limits = RateLimits::unlimited();
    }
    if !a.no_cache {
        options.fingerprint_cache = a.cache_dir.clone().or_else(default_cache_dir);
    }
    let client = Client::new(credentials, options)?;
    let upload_options = UploadOptions {
        name: a.name.clone(),
        file_type: a.file_type.clone(),
        tags: a.tags.clone(),
        class_id: a.class_id,
        transcode: a.transcode,
        screenshot: a.screenshot,
        watermark: a.watermark,
    };

    #[cfg(unix)]
    let timings = a
        .timings_fd
        .map(|fd| crate::bench::timings::Recorder::open(fd, a.part_size))
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

/// The per-user cache directory, by the XDG convention.
fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("vodupload").join("fingerprints"))
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
        "parts_total": r.parts_total,
        "parts_uploaded": r.parts_uploaded,
        "parts_skipped": r.parts_skipped,
        "bytes_sent": r.bytes_sent,
        "retries": r.retries,
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
