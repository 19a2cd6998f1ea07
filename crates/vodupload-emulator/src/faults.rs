//! Seeded, reproducible fault decisions.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::Faults;

/// What to do to one protocol request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    /// `-10004`, canRetry 1, no work done.
    Fail,
    /// HTTP 502 with HTML, no work done.
    Http502,
    /// Work done, JSON cut in half.
    Truncate,
    /// Work done, answer delayed.
    Slow,
    /// Connection closed before any work.
    DropBefore,
    /// Work done, then the connection closed without an answer.
    DropAfter,
}

impl Fault {
    /// Where the fault is counted in `Counters::faults_by_kind` (fail, drop, http502, truncate,
    /// slow); `None` has no place.
    pub(crate) fn kind_index(self) -> usize {
        match self {
            Fault::Fail | Fault::None => 0,
            Fault::DropBefore | Fault::DropAfter => 1,
            Fault::Http502 => 2,
            Fault::Truncate => 3,
            Fault::Slow => 4,
        }
    }
}

#[derive(Debug)]
pub(crate) struct FaultInjector {
    faults: Faults,
    rng: Mutex<StdRng>,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = Mutex::new(StdRng::seed_from_u64(faults.seed));
        FaultInjector { faults, rng }
    }

    pub(crate) fn latency_ms(&self) -> u64 {
        self.faults.latency_ms
    }

    pub(crate) fn slow_ms(&self) -> u64 {
        self.faults.slow_ms
    }

    /// Draws the same number of values for every request, so the sequence of decisions depends
    /// only on the seed and the number of requests before.
    pub(crate) fn decide(&self) -> Fault {
        let f = &self.faults;
        if f.fail_rate <= 0.0
            && f.http502_rate <= 0.0
            && f.truncate_rate <= 0.0
            && f.slow_rate <= 0.0
            && f.drop_rate <= 0.0
        {
            return Fault::None;
        }
        let r: [f64; 6] = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            std::array::from_fn(|_| rng.random::<f64>())
        };
        if r[0] < f.fail_rate {
            Fault::Fail
        } else if r[1] < f.http502_rate {
            Fault::Http502
        } else if r[2] < f.truncate_rate {
            Fault::Truncate
        } else if r[3] < f.slow_rate {
            Fault::Slow
        } else if r[4] < f.drop_rate {
            if r[5] < 0.5 {
                Fault::DropBefore
            } else {
                Fault::DropAfter
            }
        } else {
            Fault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_rates() {
        let faults = Faults {
            seed: 7,
            drop_rate: 0.5,
            ..Faults::default()
        };
        let a = FaultInjector::new(faults.clone());
        let b = FaultInjector::new(faults);
        let sa: Vec<Fault> = (0..200).map(|_| a.decide()).collect();
        let sb: Vec<Fault> = (0..200).map(|_| b.decide()).collect();
        assert_eq!(sa, sb);
        let drops = sa.iter().filter(|f| **f != Fault::None).count();
        assert!((60..140).contains(&drops), "{drops}");
        assert!(sa.contains(&Fault::DropBefore) && sa.contains(&Fault::DropAfter));

        let all = FaultInjector::new(Faults {
            fail_rate: 1.0,
            ..Faults::default()
        });
        assert!((0..50).all(|_| all.decide() == Fault::Fail));
        let none = FaultInjector::new(Faults::default());
        assert!((0..50).all(|_| none.decide() == Fault::None));
    }
}
