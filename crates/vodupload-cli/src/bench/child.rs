//! `vodupload bench --measure --timings-fd N -- upload ...`: the intermediary between the bench and
//! a measured upload. It exists because Linux counts in a process's peak RSS the memory of the
//! process it was exec'd from: an upload spawned by the bench itself, which holds the emulator,
//! would report the bench's peak whenever that is the larger. This process is freshly exec'd and
//! small, so what the upload inherits from it is negligible.
//!
//! It writes `spawn` on the timings channel, runs the upload (which inherits the channel), reaps
//! it with `wait4` and writes `ended` with its `rusage`. A line `kill` on its stdin kills the
//! upload with SIGKILL, as a crash would end it.

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use super::clock::{monotonic, timeval};
use super::timings::{self, Ended, Event};
use crate::Failure;

pub(super) fn measure(timings_fd: i32, command: &[OsString]) -> Result<(), Failure> {
    let channel = timings::open_fd(timings_fd, true)?;
    let exe = std::env::current_exe()
        .map_err(|e| Failure::other(format!("cannot find this executable to run uploads: {e}")))?;
    timings::send(&channel, monotonic(), &Event::Spawn);
    // stdout and stderr are inherited: the bench reads them directly.
    let child = Command::new(exe)
        .args(command)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| Failure::other(format!("cannot start the upload: {e}")))?;
    let pid = child.id() as libc::pid_t;
    // True once the upload is reaped: from then on its pid may belong to another process.
    let reaped = Arc::new(Mutex::new(false));
    kill_on_request(pid, reaped.clone());
    wait_for_exit(pid)?;
    let ended_at = monotonic();
    let (status, usage) = {
        let mut done = reaped.lock().unwrap_or_else(|e| e.into_inner());
        *done = true;
        wait4(pid).map_err(|e| Failure::other(format!("cannot reap the upload: {e}")))?
    };
    let ended = Ended {
        exit: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        max_rss: max_rss_bytes(&usage),
    };
    timings::send(&channel, ended_at, &Event::Ended(ended));
    Ok(())
}

/// Linux reports KiB; macOS, bytes.
fn max_rss_bytes(usage: &libc::rusage) -> u64 {
    if cfg!(target_os = "macos") {
        usage.ru_maxrss as u64
    } else {
        usage.ru_maxrss as u64 * 1024
    }
}

/// Kills `pid` when a line `kill` comes on stdin, unless it has been reaped meanwhile.
fn kill_on_request(pid: libc::pid_t, reaped: Arc<Mutex<bool>>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "kill" {
                let done = reaped.lock().unwrap_or_else(|e| e.into_inner());
                if !*done {
                    // SAFETY: plain syscall on our own child, not reaped yet (lock held).
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
    });
}

/// Waits until `pid` has ended without reaping it, so the kill thread can still trust the pid.
fn wait_for_exit(pid: libc::pid_t) -> Result<(), Failure> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid for writes; the pid is our child.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Failure::other(format!("cannot wait for the upload: {e}")));
        }
    }
}

/// Reaps `pid`, with its resource usage.
fn wait4(pid: libc::pid_t) -> std::io::Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both out-pointers are valid for writes for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
