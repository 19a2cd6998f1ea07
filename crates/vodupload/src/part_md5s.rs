//! The part MD5s of one upload, shared by every thread that computes or needs them.
//!
//! The hashing pass's idle-priority thread, the resume check and the senders all fill this in,
//! in any order and at the same time, and no one ever waits for anyone: a thread that needs an
//! MD5 nobody has published yet computes it itself. That is why a slot is plain atomics and not a
//! lock or a `OnceLock`: a thread at idle CPU priority can go without CPU for seconds on a busy
//! machine, and if it were holding a lock, or were half way through initialising a `OnceLock`,
//! every sender would wait for it. Two threads that compute the same part store the same bytes,
//! so the race is harmless.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use md5_lanes::Digest;

use crate::hex::{hex, parse_hex};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct PartMd5s {
    slots: Box<[Slot]>,
}

#[derive(Debug, Default)]
struct Slot {
    /// The digest's two halves, valid once `known` is set.
    high: AtomicU64,
    low: AtomicU64,
    known: AtomicBool,
    /// Someone started on this part; only the opportunistic thread heeds it, to skip parts it
    /// would compute for nothing.
    claimed: AtomicBool,
}

impl PartMd5s {
    /// `count` parts, none known.
    pub(crate) fn new(count: usize) -> Self {
        PartMd5s {
            slots: (0..count).map(|_| Slot::default()).collect(),
        }
    }

    /// From lowercase hex MD5s (a cache entry); anything that is not 32 hex digits is unknown.
    pub(crate) fn from_hex(md5s: &[Option<String>]) -> Self {
        let table = PartMd5s::new(md5s.len());
        for (index, md5) in md5s.iter().enumerate() {
            if let Some(digest) = md5.as_deref().and_then(parse_hex::<16>) {
                table.set(index, digest);
            }
        }
        table
    }

    /// The digest of part `index`, if someone published it.
    pub(crate) fn get(&self, index: usize) -> Option<Digest> {
        let slot = self.slots.get(index)?;
        if !slot.known.load(Ordering::Acquire) {
            return None;
        }
        let mut d = [0u8; 16];
        d[..8].copy_from_slice(&slot.high.load(Ordering::Relaxed).to_be_bytes());
        d[8..].copy_from_slice(&slot.low.load(Ordering::Relaxed).to_be_bytes());
        Some(d)
    }

    pub(crate) fn get_hex(&self, index: usize) -> Option<String> {
        self.get(index).map(|d| hex(&d))
    }

    pub(crate) fn is_known(&self, index: usize) -> bool {
        self.slots
            .get(index)
            .is_some_and(|s| s.known.load(Ordering::Acquire))
    }

    /// Publishes the digest of part `index`; true when this call is the one that made it known.
    pub(crate) fn set(&self, index: usize, digest: Digest) -> bool {
        let slot = &self.slots[index];
        let (high, low) = digest.split_at(8);
        slot.high.store(
            u64::from_be_bytes(high.try_into().expect("8 bytes")),
            Ordering::Relaxed,
        );
        slot.low.store(
            u64::from_be_bytes(low.try_into().expect("8 bytes")),
            Ordering::Relaxed,
        );
        slot.claimed.store(true, Ordering::Relaxed);
        !slot.known.swap(true, Ordering::Release)
    }

    /// Marks part `index` as being computed; false when it already was, or is known.
    pub(crate) fn claim(&self, index: usize) -> bool {
        !self.slots[index].claimed.swap(true, Ordering::Relaxed)
            && !self.slots[index].known.load(Ordering::Acquire)
    }

    /// Every digest as lowercase hex, None where unknown: what the fingerprint cache keeps.
    pub(crate) fn to_hex(&self) -> Vec<Option<String>> {
        (0..self.slots.len()).map(|i| self.get_hex(i)).collect()
    }

    pub(crate) fn known_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.known.load(Ordering::Acquire))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_read_and_claim() {
        let t = PartMd5s::new(3);
        assert_eq!(t.get(0), None);
        assert!(t.claim(1));
        assert!(!t.claim(1), "claimed once");
        let d: Digest = *b"0123456789abcdef";
        assert!(t.set(1, d));
        assert!(!t.set(1, d), "the second publisher is not the first");
        assert_eq!(t.get(1), Some(d));
        assert!(!t.claim(1), "a known part is not claimed again");
        assert!(!t.claim(2) || t.get(2).is_none());
        assert_eq!(t.get(7), None, "out of range is unknown");
        assert_eq!(t.known_count(), 1);
        let back = PartMd5s::from_hex(&t.to_hex());
        assert_eq!(back.get(1), Some(d));
        assert_eq!(back.get(0), None);
        let junk = PartMd5s::from_hex(&[Some("xyz".into()), Some("A".repeat(32))]);
        assert_eq!(junk.known_count(), 0, "only lowercase hex is taken");
    }
}
