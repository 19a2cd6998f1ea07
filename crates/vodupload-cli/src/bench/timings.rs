//! The structured channel from a measured upload to the bench: one JSON object per line on a pipe
//! whose write end the upload inherits (`vodupload upload --timings-fd N`, hidden). Every event is
//! stamped where it happens, with CLOCK_MONOTONIC in nanoseconds (`t_ns`), so a reader that is
//! slow to get the line (a busy machine) cannot make a figure longer.
//!
//! The upload derives its events from the core's progress reports, which are part of the core's
//! API, rather than from its log, whose wording is free to change:
//! - `hashed` (`from_cache`): the hashing phase reached the whole file. The core reports a
//!   fingerprint taken from the cache as one jump from nothing to the whole file, and its own
//!   hashing once per part read; for a file of a single part the two look alike, and `from_cache`
//!   is null.
//! - `init` (`done`, `total`): the first report of the uploading phase, which the core makes as
//!   soon as InitUpload's answer is applied: `done` is what the server already holds. On a resume
//!   this comes after the answer's part list has been read and matched against the file.
//! - `part` (`done`): every later report; each one is a part the server answered.
//! - `finish`: the upload call returned successfully, FinishUpload answered.
//!
//! The `--measure` intermediary adds `spawn`, just before it starts the upload (times count from
//! it), and `ended` (`exit` or `signal`, `user_us`, `sys_us`, `max_rss`), once it has reaped the
//! upload: the CPU time and peak RSS come from the upload's `rusage`.

use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use vodupload::{Phase, Progress};

use super::clock::monotonic;
use crate::Failure;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Spawn,
    Hashed {
        from_cache: Option<bool>,
    },
    Init {
        done: u64,
        total: u64,
    },
    /// A part answered: bytes done, and the parts the upload may have in flight by then.
    Part {
        done: u64,
        concurrency: u32,
    },
    Finish,
    Ended(Ended),
}

/// How the upload process ended and what it used.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Ended {
    pub exit: Option<i32>,
    pub signal: Option<i32>,
    pub user: Duration,
    pub sys: Duration,
    pub max_rss: u64,
}

impl Event {
    /// The line for the channel, newline included.
    pub(crate) fn line(&self, at: Duration) -> String {
        let t_ns = at.as_nanos() as u64;
        let v = match self {
            Event::Spawn => json!({"event": "spawn", "t_ns": t_ns}),
            Event::Hashed { from_cache } => {
                json!({"event": "hashed", "t_ns": t_ns, "from_cache": from_cache})
            }
            Event::Init { done, total } => {
                json!({"event": "init", "t_ns": t_ns, "done": done, "total": total})
            }
            Event::Part { done, concurrency } => {
                json!({"event": "part", "t_ns": t_ns, "done": done, "concurrency": concurrency})
            }
            Event::Finish => json!({"event": "finish", "t_ns": t_ns}),
            Event::Ended(e) => json!({
                "event": "ended",
                "t_ns": t_ns,
                "exit": e.exit,
                "signal": e.signal,
                "user_us": e.user.as_micros() as u64,
                "sys_us": e.sys.as_micros() as u64,
                "max_rss": e.max_rss,
            }),
        };
        format!("{v}\n")
    }

    /// One line of the channel: its stamp and event.
    pub(crate) fn parse(line: &str) -> Result<(Duration, Event), String> {
        let bad = |why: &str| format!("bad timings line ({why}): {line:?}");
        let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let u64_of = |k: &str| v.get(k).and_then(Value::as_u64).ok_or_else(|| bad(k));
        let i32_of = |k: &str| v.get(k).and_then(Value::as_i64).map(|n| n as i32);
        let at = Duration::from_nanos(u64_of("t_ns")?);
        let event = match v.get("event").and_then(Value::as_str) {
            Some("spawn") => Event::Spawn,
            Some("hashed") => Event::Hashed {
                from_cache: v.get("from_cache").and_then(Value::as_bool),
            },
            Some("init") => Event::Init {
                done: u64_of("done")?,
                total: u64_of("total")?,
            },
            Some("part") => Event::Part {
                done: u64_of("done")?,
                concurrency: u64_of("concurrency")? as u32,
            },
            Some("finish") => Event::Finish,
            Some("ended") => Event::Ended(Ended {
                exit: i32_of("exit"),
                signal: i32_of("signal"),
                user: Duration::from_micros(u64_of("user_us")?),
                sys: Duration::from_micros(u64_of("sys_us")?),
                max_rss: u64_of("max_rss")?,
            }),
            _ => return Err(bad("unknown event")),
        };
        Ok((at, event))
    }
}

/// Writes one event as one `write`: lines under PIPE_BUF never interleave. A failed write is
/// ignored: the upload must not fail because the bench stopped listening.
pub(crate) fn send(out: &File, at: Duration, event: &Event) {
    let _ = (&*out).write_all(event.line(at).as_bytes());
}

/// Takes over the channel's descriptor, `--timings-fd N`, leaving it inheritable or not.
pub(crate) fn open_fd(fd: i32, inheritable: bool) -> Result<File, Failure> {
    if fd <= 2 {
        return Err(Failure::usage(format!(
            "--timings-fd {fd}: stdin, stdout and stderr cannot carry the timings"
        )));
    }
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(Failure::usage(format!(
            "--timings-fd {fd}: not an open descriptor"
        )));
    }
    let flags = if inheritable {
        flags & !libc::FD_CLOEXEC
    } else {
        flags | libc::FD_CLOEXEC
    };
    // SAFETY: F_SETFD only sets the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_SETFD, flags) };
    // SAFETY: the descriptor is open (checked above) and the command line handed it to this
    // process for this channel alone: nothing else here owns or closes it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// The upload's side: turns the core's progress reports into events.
#[derive(Debug)]
pub(crate) struct Recorder {
    out: File,
    part_size: u64,
    state: Mutex<RecorderState>,
}

#[derive(Debug, Default)]
struct RecorderState {
    /// A hashing report short of the whole file was seen: the core is reading the file.
    hashing_partly: bool,
    hashed: bool,
    init: bool,
}

impl Recorder {
    pub(crate) fn open(fd: i32, part_size: u64) -> Result<Recorder, Failure> {
        Ok(Recorder {
            out: open_fd(fd, false)?,
            part_size,
            state: Mutex::new(RecorderState::default()),
        })
    }

    pub(crate) fn progress(&self, p: Progress) {
        // Before the lock: the moment the core reported, not the moment it was our turn.
        let at = monotonic();
        let event = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match p.phase {
                Phase::Hashing if s.hashed => None,
                Phase::Hashing if p.done >= p.total => {
                    s.hashed = true;
                    let from_cache = (p.total > self.part_size).then_some(!s.hashing_partly);
                    Some(Event::Hashed { from_cache })
                }
                Phase::Hashing => {
                    s.hashing_partly |= p.done > 0;
                    None
                }
                Phase::Uploading if !s.init => {
                    s.init = true;
                    Some(Event::Init {
                        done: p.done,
                        total: p.total,
                    })
                }
                Phase::Uploading => Some(Event::Part {
                    done: p.done,
                    concurrency: p.concurrency as u32,
                }),
            }
        };
        if let Some(e) = event {
            send(&self.out, at, &e);
        }
    }

    pub(crate) fn finished(&self) {
        send(&self.out, monotonic(), &Event::Finish);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder(fd: i32) -> Recorder {
        Recorder::open(fd, 100).unwrap_or_else(|f| panic!("{}", f.message))
    }

    #[test]
    fn events_round_trip() {
        let events = [
            Event::Spawn,
            Event::Hashed {
                from_cache: Some(true),
            },
            Event::Hashed { from_cache: None },
            Event::Init {
                done: 1 << 20,
                total: 3 << 20,
            },
            Event::Part {
                done: 2 << 20,
                concurrency: 7,
            },
            Event::Finish,
            Event::Ended(Ended {
                exit: None,
                signal: Some(9),
                user: Duration::from_micros(1234),
                sys: Duration::from_micros(56),
                max_rss: 10 << 20,
            }),
        ];
        for (i, e) in events.iter().enumerate() {
            let at = Duration::from_nanos(1_000_000_007 + i as u64);
            let line = e.line(at);
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            assert_eq!(Event::parse(line.trim_end()), Ok((at, e.clone())));
        }
    }

    #[test]
    fn bad_lines_are_refused() {
        for line in [
            "",
            "DEBUG InitUpload attempt 1 ok in 3 ms",
            r#"{"event":"part","t_ns":5}"#,
            r#"{"event":"lunch","t_ns":5}"#,
            r#"{"event":"finish"}"#,
        ] {
            assert!(Event::parse(line).is_err(), "{line:?}");
        }
    }

    /// The reports the core makes for a 3-part file hashed, then resumed with one part held.
    #[test]
    fn progress_becomes_events() {
        let (r, w) = std::io::pipe().unwrap();
        let fd = {
            use std::os::fd::IntoRawFd;
            w.into_raw_fd()
        };
        let rec = recorder(fd);
        let report = |phase, done| {
            rec.progress(Progress {
                phase,
                done,
                total: 300,
                concurrency: if phase == Phase::Uploading { 3 } else { 0 },
            })
        };
        for done in [0, 100, 200, 300] {
            report(Phase::Hashing, done);
        }
        for done in [100, 200, 300] {
            report(Phase::Uploading, done);
        }
        rec.finished();
        drop(rec);
        let text = std::io::read_to_string(r).unwrap();
        let events: Vec<Event> = text.lines().map(|l| Event::parse(l).unwrap().1).collect();
        assert_eq!(
            events,
            [
                Event::Hashed {
                    from_cache: Some(false)
                },
                Event::Init {
                    done: 100,
                    total: 300
                },
                Event::Part {
                    done: 200,
                    concurrency: 3,
                },
                Event::Part {
                    done: 300,
                    concurrency: 3,
                },
                Event::Finish,
            ]
        );
    }

    #[test]
    fn a_jump_to_the_whole_file_is_the_cache() {
        for (total, from_cache) in [(300, Some(true)), (100, None)] {
            let (r, w) = std::io::pipe().unwrap();
            let fd = {
                use std::os::fd::IntoRawFd;
                w.into_raw_fd()
            };
            let rec = recorder(fd);
            for done in [0, total] {
                rec.progress(Progress {
                    phase: Phase::Hashing,
                    done,
                    total,
                    concurrency: 0,
                });
            }
            drop(rec);
            let text = std::io::read_to_string(r).unwrap();
            assert_eq!(
                Event::parse(text.trim_end()).unwrap().1,
                Event::Hashed { from_cache }
            );
        }
    }

    #[test]
    fn standard_streams_and_closed_descriptors_are_refused() {
        assert!(Recorder::open(1, 100).is_err());
        assert!(Recorder::open(1_000_000, 100).is_err());
    }
}
