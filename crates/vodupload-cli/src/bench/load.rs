//! Load on the machine: the load the bench makes on purpose (`--load N`: busy threads), and a
//! probe of the CPU time other processes take, to tell a quiet run from a disturbed one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::clock::timeval;

/// Threads that spin at normal priority until dropped: the CPU demand of a busy app server,
/// which the upload competes with for the cores. They do arithmetic in registers, so they take
/// CPU time and little memory bandwidth.
#[derive(Debug)]
pub(super) struct Busy {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Busy {
    pub(super) fn start(n: usize) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                            );
                        }
                    }
                })
            })
            .collect();
        Busy { stop, threads }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// How much CPU other processes take meanwhile: all CPUs' busy time (/proc/stat) less this
/// process's (its threads, the emulator and `--load`'s included) and its reaped children's.
/// Linux only; None elsewhere.
#[derive(Debug)]
pub(super) struct LoadProbe {
    busy: Duration,
    own: Duration,
    at: Instant,
}

/// CPU time other processes took, over a wall time.
#[derive(Debug, Clone, Copy)]
pub(super) struct Others {
    pub cpu: Duration,
    pub wall: Duration,
}

impl LoadProbe {
    pub(super) fn start() -> Option<LoadProbe> {
        Some(LoadProbe {
            busy: machine_busy()?,
            own: own_cpu(),
            at: Instant::now(),
        })
    }

    pub(super) fn others(self) -> Option<Others> {
        let busy = machine_busy()?.saturating_sub(self.busy);
        let own = own_cpu().saturating_sub(self.own);
        Some(Others {
            cpu: busy.saturating_sub(own),
            wall: self.at.elapsed(),
        })
    }
}

/// Busy time of all CPUs since boot (user, nice, system, irq, softirq, steal).
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| fields.get(i).copied().unwrap_or(0))
        .sum();
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| Duration::from_secs_f64(busy as f64 / hz as f64))
}

/// User + system time of this process and of its children reaped so far.
fn own_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is valid for writes.
        if unsafe { libc::getrusage(who, &mut u) } == 0 {
            total += timeval(u.ru_utime) + timeval(u.ru_stime);
        }
    }
    total
}

pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

pub(super) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_threads_take_cpu_and_stop() {
        let cpu = || {
            // SAFETY: an all-zero rusage is a valid value, and `u` is valid for writes.
            let u = unsafe {
                let mut u: libc::rusage = std::mem::zeroed();
                libc::getrusage(libc::RUSAGE_SELF, &mut u);
                u
            };
            timeval(u.ru_utime) + timeval(u.ru_stime)
        };
        let before = cpu();
        let busy = Busy::start(2);
        let t = Instant::now();
        // Until the threads have shown up in this process's CPU time: they run.
        while cpu() - before < Duration::from_millis(20) {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "busy threads never ran"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // Dropping joins them: it returns only once they stopped.
        drop(busy);
    }
}
