//! Best, median and worst of one figure over repeated runs.
//!
//! Every figure the bench prints is one where less is better (time, CPU, memory, a ratio of
//! them), so the best is the smallest and the worst the largest.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Spread<T> {
    pub best: T,
    pub median: T,
    pub worst: T,
}

impl Spread<f64> {
    /// None for no values. The median of an even count is the mean of the middle two.
    pub(super) fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            best: v[0],
            median,
            worst: v[n - 1],
        })
    }

    pub(super) fn of_durations(values: impl IntoIterator<Item = Duration>) -> Option<Self> {
        Self::of(values.into_iter().map(|d| d.as_secs_f64()))
    }

    /// The three, in the order the tables print them.
    pub(super) fn all(&self) -> [f64; 3] {
        [self.best, self.median, self.worst]
    }
}

pub(super) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads() {
        assert_eq!(Spread::of([]), None);
        let s = Spread::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.best, s.median, s.worst), (1.0, 2.0, 3.0));
        let s = Spread::of([4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.best, s.median, s.worst), (1.0, 3.0, 10.0));
        let s = Spread::of_durations([Duration::from_millis(5)]).unwrap();
        assert_eq!(s.all(), [0.005; 3]);
    }
}
