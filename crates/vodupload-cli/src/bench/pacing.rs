//! What sharing the pacing through Redis costs a request: the round trip of one booking, timed
//! over many, at a rate that never makes a booking wait (so only the store's cost is measured).

use crate::Failure;

use super::stats::Spread;

/// Bookings timed.
const CALLS: usize = 2000;

pub(super) fn run(url: &str) -> Result<(), Failure> {
    let times = vodupload::unstable::pacing_round_trips(url, CALLS)?;
    let spread = Spread::of_durations(times).expect("CALLS > 0");
    println!(
        "shared pacing: {CALLS} bookings through the store, one round trip each: best {:.0} µs, \
         median {:.0} µs, worst {:.0} µs per request",
        spread.best * 1e6,
        spread.median * 1e6,
        spread.worst * 1e6
    );
    Ok(())
}
