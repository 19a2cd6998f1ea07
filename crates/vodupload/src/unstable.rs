//! Internals reachable from outside the crate for the fuzz targets and the bench only: not part
//! of the API, not covered by semver, may change or go in any release.

pub mod fingerprint;
pub mod protocol;

/// The time each of `calls` bookings takes through the shared pacing store at `pacing_url`, at a
/// rate that never makes one wait: what sharing the pacing costs per request. The bench's probe.
pub fn pacing_round_trips(
    pacing_url: &str,
    calls: usize,
) -> crate::Result<Vec<std::time::Duration>> {
    let store = crate::pacing::PacingStore::parse(pacing_url)?;
    let redis = crate::pacing::RedisPacing::new(
        &store.url,
        "bench",
        &format!("bench-{}", std::process::id()),
    );
    (0..calls)
        .map(|_| {
            let started = std::time::Instant::now();
            redis
                .book(crate::pacing::Class::Part, 1_000_000)
                .map(|_| started.elapsed())
                .map_err(|why| {
                    crate::Error::new(
                        crate::ErrorKind::Network,
                        format!("the pacing store {} failed: {why}", redis.name()),
                    )
                })
        })
        .collect()
}
