//! One measured upload: `vodupload bench --measure --timings-fd N -- upload ...` as a child of
//! the bench, its timings read from the structured channel (see `timings`), its CPU time and
//! peak RSS from the intermediary (see `child`), its result from its `--json` output.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use vodupload::Concurrency;

use super::Bench;
use super::server::Server;
use super::timings::{Ended, Event};
use crate::Failure;

pub(super) enum Cache<'p> {
    Off,
    Dir(&'p Path),
}

/// What to upload, how, and whether to kill it part-way.
pub(super) struct UploadRun<'p> {
    pub path: &'p Path,
    pub concurrency: Concurrency,
    /// The client paces its calls under the service's default rates (off: `--no-rate-limit`).
    pub paced: bool,
    pub part_size: u64,
    pub cache: Cache<'p>,
    /// SIGKILL the upload once this many parts are answered, as a crash would end it.
    pub kill_after: Option<usize>,
}

/// What one upload did. Times count from the moment the intermediary started it, so they include
/// the process start.
#[derive(Debug, Default, Clone)]
pub(super) struct RunReport {
    /// To the end of the process.
    pub wall: Duration,
    /// The fingerprint was ready (hashed, or read from the cache).
    pub hashed: Option<Duration>,
    /// None: the core's reports cannot tell (a file of one part).
    pub from_cache: Option<bool>,
    /// InitUpload answered and its answer applied.
    pub init: Option<Duration>,
    /// Bytes the server already held, by InitUpload's answer.
    pub held_at_init: u64,
    pub first_part: Option<Duration>,
    pub last_part: Option<Duration>,
    pub parts: usize,
    /// At each part answered: the parts the upload could have in flight by then.
    pub concurrency: Vec<(Duration, u32)>,
    /// The upload call returned: FinishUpload answered.
    pub finish: Option<Duration>,
    pub user: Duration,
    pub sys: Duration,
    pub max_rss: u64,
    /// Ended by the kill it was asked for.
    pub killed: bool,
    /// Its `--json` result, when it ended on its own.
    pub json: Option<serde_json::Value>,
}

impl RunReport {
    pub(super) fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    /// Start to InitUpload answered; the whole run if it never got there.
    pub(super) fn to_init(&self) -> Duration {
        self.init.unwrap_or(self.wall)
    }

    /// Start to the first part answered; when the server already held every part, to
    /// FinishUpload answered: how long until the upload was moving again.
    pub(super) fn to_first_part(&self) -> Duration {
        self.first_part.or(self.finish).unwrap_or(self.wall)
    }

    /// InitUpload answered to the last part answered.
    pub(super) fn sending(&self) -> Option<Duration> {
        Some(self.last_part? - self.init?)
    }

    /// The service already had the file, by the upload's result.
    pub(super) fn instant(&self) -> bool {
        self.json
            .as_ref()
            .and_then(|j| j.get("instant"))
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    pub(super) fn json_u64(&self, key: &str) -> Option<u64> {
        self.json.as_ref()?.get(key)?.as_u64()
    }

    /// Folds the channel's events, stamped in the child, into times since `spawn`.
    fn from_events(events: &[(Duration, Event)]) -> Result<(RunReport, Option<Ended>), String> {
        let start = events
            .iter()
            .find_map(|(at, e)| (*e == Event::Spawn).then_some(*at))
            .ok_or("the intermediary reported no start")?;
        let mut r = RunReport::default();
        let mut ended = None;
        for (at, event) in events {
            let t = at.saturating_sub(start);
            match event {
                Event::Spawn => {}
                Event::Hashed { from_cache } => {
                    r.hashed = Some(t);
                    r.from_cache = *from_cache;
                }
                Event::Init { done, .. } => {
                    r.init = Some(t);
                    r.held_at_init = *done;
                }
                Event::Part { concurrency, .. } => {
                    r.concurrency.push((t, *concurrency));
                    r.first_part.get_or_insert(t);
                    r.last_part = Some(t);
                    r.parts += 1;
                }
                Event::Finish => r.finish = Some(t),
                Event::Ended(e) => {
                    r.wall = t;
                    r.user = e.user;
                    r.sys = e.sys;
                    r.max_rss = e.max_rss;
                    ended = Some(e.clone());
                }
            }
        }
        Ok((r, ended))
    }
}

/// The channel's events, and whether the kill was asked for.
type Collected = Result<(Vec<(Duration, Event)>, bool), String>;

impl Bench<'_> {
    /// Runs one upload through the intermediary and measures it. A failed upload is an error,
    /// except for the kill that was asked for.
    pub(super) fn upload(
        &self,
        server: &Server,
        run: &UploadRun<'_>,
    ) -> Result<RunReport, Failure> {
        let fail = |why: String| Failure::other(format!("upload of {}: {why}", run.path.display()));
        let (reader, writer) = channel().map_err(|e| fail(format!("no timings pipe: {e}")))?;
        let fd = writer.as_raw_fd();
        let mut cmd = self.upload_command(server, run, fd);
        // SAFETY: runs in the forked child before exec, and only calls fcntl, which is
        // async-signal-safe, on a descriptor the parent keeps open until after the spawn.
        unsafe { cmd.pre_exec(move || inherit(fd)) };
        let mut child = cmd
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", self.exe.display())))?;
        // From now on only the intermediary and the upload hold the write end: the reader sees
        // the end of the channel when both are gone.
        drop(writer);
        let control = child.stdin.take().expect("piped");
        let out = read_all(child.stdout.take().expect("piped"));
        let err = read_all(child.stderr.take().expect("piped"));
        let kill_after = run.kill_after;
        let events =
            std::thread::spawn(move || collect(BufReader::new(reader), control, kill_after));
        let _ = child.wait();
        let collected = events
            .join()
            .unwrap_or_else(|_| Err("reader panicked".into()));
        let (out, err) = (joined(out), joined(err));
        let tail = || {
            let lines: Vec<&str> = err.lines().collect();
            lines[lines.len().saturating_sub(10)..].join("\n  ")
        };
        let (events, kill_sent) = collected.map_err(|e| fail(format!("{e}\n  {}", tail())))?;
        let (mut report, ended) =
            RunReport::from_events(&events).map_err(|e| fail(format!("{e}\n  {}", tail())))?;
        let ended = ended.ok_or_else(|| fail(format!("no end reported\n  {}", tail())))?;
        if kill_sent && ended.signal == Some(libc::SIGKILL) {
            report.killed = true;
            return Ok(report);
        }
        if ended.exit != Some(0) {
            return Err(fail(format!(
                "the upload failed ({})\n  {}",
                match (ended.exit, ended.signal) {
                    (Some(code), _) => format!("exit status {code}"),
                    (_, Some(sig)) => format!("signal {sig}"),
                    _ => "no status".to_owned(),
                },
                tail()
            )));
        }
        report.json = serde_json::from_str(out.trim()).ok();
        if report.json.is_none() {
            return Err(fail(format!("no JSON result: {out:?}")));
        }
        Ok(report)
    }

    fn upload_command(&self, server: &Server, run: &UploadRun<'_>, fd: RawFd) -> Command {
        let (id, key) = server.credentials();
        let mut cmd = Command::new(&self.exe);
        cmd.args(["bench", "--measure", "--timings-fd", &fd.to_string()])
            .args(["--", "upload"])
            .arg(run.path)
            .arg("--endpoint")
            .arg(server.endpoint())
            .args(["--json", "--quiet", "--timeout", "600"])
            .args([
                "--concurrency",
                &match run.concurrency {
                    Concurrency::Auto => "auto".to_owned(),
                    Concurrency::Fixed(n) => n.to_string(),
                },
            ])
            .args(["--part-size", &run.part_size.to_string()])
            .args(["--timings-fd", &fd.to_string()]);
        if !run.paced {
            cmd.arg("--no-rate-limit");
        }
        match run.cache {
            Cache::Off => cmd.arg("--no-cache"),
            Cache::Dir(d) => cmd.arg("--cache-dir").arg(d),
        };
        if let Some(ca) = &server.ca_file {
            cmd.arg("--ca-file").arg(ca);
        }
        // Credentials by environment, not on the command line. Warnings only: logging is work
        // the measured CPU time should not include, and nothing is read from it.
        cmd.env("TENCENTCLOUD_SECRET_ID", id)
            .env("TENCENTCLOUD_SECRET_KEY", key)
            .env("RUST_LOG", "vodupload=warn")
            .env("RUST_LOG_STYLE", "never")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// A pipe whose ends are closed on exec, the write end at 3 or above (below that, spawning
/// would overwrite it with the child's stdin, stdout or stderr).
fn channel() -> std::io::Result<(std::io::PipeReader, std::io::PipeWriter)> {
    let (r, mut w) = std::io::pipe()?;
    if w.as_raw_fd() < 3 {
        // std duplicates to the lowest free descriptor at 3 or above.
        w = w.try_clone()?;
    }
    // Room for a few thousand events, so the upload never waits on a reader that is slow to be
    // scheduled: it writes from inside its progress callback. Best effort.
    #[cfg(target_os = "linux")]
    // SAFETY: F_SETPIPE_SZ only resizes the pipe's buffer.
    unsafe {
        libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
    Ok((r, w))
}

/// In the forked child: keep `fd` open across exec.
fn inherit(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: F_SETFD only sets the descriptor's flags.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Reads the channel to its end. Kills from here, as soon as the part that triggers it is read,
/// rather than after a hand-over to another thread.
fn collect(reader: impl BufRead, mut control: ChildStdin, kill_after: Option<usize>) -> Collected {
    let mut events = Vec::new();
    let (mut parts, mut kill_sent) = (0usize, false);
    for line in reader.lines() {
        let line = line.map_err(|e| format!("cannot read the timings: {e}"))?;
        let (at, event) = Event::parse(&line)?;
        if matches!(event, Event::Part { .. }) {
            parts += 1;
            if !kill_sent && kill_after.is_some_and(|n| parts >= n) {
                kill_sent = control
                    .write_all(b"kill\n")
                    .and_then(|()| control.flush())
                    .is_ok();
            }
        }
        events.push((at, event));
    }
    Ok((events, kill_sent))
}

fn read_all(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = from.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn joined(h: JoinHandle<String>) -> String {
    h.join().unwrap_or_default()
}
