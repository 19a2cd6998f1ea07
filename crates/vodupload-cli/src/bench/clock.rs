//! The clocks the bench reads: one that two processes can compare, and CPU time.

use std::time::Duration;

/// CLOCK_MONOTONIC. Unlike `Instant`, its readings in two processes can be compared, so a stamp
/// taken in the upload child means the same in the bench.
pub(crate) fn monotonic() -> Duration {
    read(libc::CLOCK_MONOTONIC)
}

/// CPU time of the calling thread: other load on the machine barely changes it, unlike wall time.
pub(super) fn thread_cpu() -> Duration {
    read(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn read(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both clock ids are constants the OS defines.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

pub(super) fn timeval(t: libc::timeval) -> Duration {
    Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000)
}
