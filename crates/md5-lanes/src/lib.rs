//! MD5 of several equal-length messages at once, one message per SIMD lane.
//!
//! One MD5 is a chain of 64 dependent steps per 64-byte block, so a single stream cannot use
//! more than a sliver of a modern core (the `md-5` crate does about 0.6 GB/s, OpenSSL 0.75).
//! An upload's part MD5s are independent and all but the last have the same length, so eight of
//! them can run side by side in the eight 32-bit lanes of an AVX2 register: the same chain
//! length, eight times the bytes. Where AVX2 is missing (or on other architectures) [`Lanes`]
//! hashes the messages one after the other with `md-5`, with the same results.
//!
//! ```
//! let parts: [&[u8]; 3] = [b"abc", b"def", b"ghi"];
//! let mut lanes = md5_lanes::Lanes::new(parts.len());
//! let digests = lanes.finish(&parts);
//! assert_eq!(digests[0], md5_lanes::md5(b"abc"));
//! ```

#[cfg(target_arch = "x86_64")]
mod avx2;

use md5::{Digest as _, Md5};

/// The most messages one [`Lanes`] hashes at once.
pub const MAX_LANES: usize = 8;

/// An MD5 digest.
pub type Digest = [u8; 16];

/// MD5 of one message with the `md-5` crate: the reference the lanes agree with.
pub fn md5(data: &[u8]) -> Digest {
    Md5::digest(data).into()
}

/// Whether this CPU hashes [`MAX_LANES`] messages for about the price of one; when false,
/// [`Lanes`] still works, one message at a time.
pub fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// MD5 state of `n` (1 to [`MAX_LANES`]) messages of equal length, fed side by side.
#[derive(Clone)]
pub struct Lanes {
    n: usize,
    /// Bytes fed to each message so far (always a multiple of 64 between calls).
    len: u64,
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    /// Word `w` (a, b, c, d) of lane `l` is `state[w][l]`.
    #[cfg(target_arch = "x86_64")]
    Avx2([[u32; MAX_LANES]; 4]),
    Portable(Vec<Md5>),
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("n", &self.n)
            .field("len", &self.len)
            .field("simd", &self.is_simd())
            .finish()
    }
}

#[cfg(target_arch = "x86_64")]
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

impl Lanes {
    /// State for `n` messages.
    ///
    /// # Panics
    /// If `n` is 0 or more than [`MAX_LANES`].
    pub fn new(n: usize) -> Self {
        assert!(
            (1..=MAX_LANES).contains(&n),
            "md5-lanes hashes 1 to {MAX_LANES} messages at once, not {n}"
        );
        Self::with_simd(n, simd_available() && n > 1)
    }

    /// `simd` only where [`simd_available`]; the tests also run the portable engine here.
    fn with_simd(n: usize, simd: bool) -> Self {
        let engine = if simd {
            #[cfg(target_arch = "x86_64")]
            {
                Engine::Avx2(INIT.map(|w| [w; MAX_LANES]))
            }
            #[cfg(not(target_arch = "x86_64"))]
            unreachable!("no SIMD engine on this architecture")
        } else {
            Engine::Portable(vec![Md5::new(); n])
        };
        Lanes { n, len: 0, engine }
    }

    /// Whether these lanes run on the SIMD engine.
    pub fn is_simd(&self) -> bool {
        !matches!(self.engine, Engine::Portable(_))
    }

    /// How many messages these lanes hash.
    pub fn count(&self) -> usize {
        self.n
    }

    /// Feeds the next bytes of every message: `rows[i]` continues message `i`.
    ///
    /// # Panics
    /// Unless there are exactly [`count`](Self::count) rows, all of the same length, a multiple
    /// of 64 (only the bytes given to [`finish`](Self::finish) may be ragged).
    pub fn update(&mut self, rows: &[&[u8]]) {
        let len = self.check_rows(rows);
        assert!(
            len.is_multiple_of(64),
            "md5-lanes: update takes whole 64-byte blocks, got {len} bytes"
        );
        self.feed(rows, len);
        self.len += len as u64;
    }

    /// Feeds the last bytes of every message (same length for all, any length) and returns the
    /// digests in the order of the rows.
    ///
    /// # Panics
    /// As [`update`](Self::update), except that the length may be anything.
    pub fn finish(mut self, rows: &[&[u8]]) -> Vec<Digest> {
        let len = self.check_rows(rows);
        let whole = len - len % 64;
        if whole > 0 {
            let heads: Vec<&[u8]> = rows.iter().map(|r| &r[..whole]).collect();
            self.feed(&heads, whole);
        }
        match &mut self.engine {
            Engine::Portable(hashers) => rows
                .iter()
                .zip(hashers.drain(..))
                .map(|(row, mut h)| {
                    h.update(&row[whole..]);
                    h.finalize().into()
                })
                .collect(),
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2(state) => {
                // The tail, 0x80, zeros, then the length in bits: one block, or two when the tail
                // leaves fewer than 9 bytes free.
                let tail = len - whole;
                let total_bits = (self.len + len as u64).wrapping_mul(8);
                let padded = if tail < 56 { 64 } else { 128 };
                let mut last = vec![0u8; padded * rows.len()];
                for (block, row) in last.chunks_mut(padded).zip(rows) {
                    block[..tail].copy_from_slice(&row[whole..]);
                    block[tail] = 0x80;
                    block[padded - 8..].copy_from_slice(&total_bits.to_le_bytes());
                }
                let blocks: Vec<&[u8]> = last.chunks(padded).collect();
                avx2_feed(state, &blocks, padded);
                (0..self.n)
                    .map(|lane| {
                        let mut d = [0u8; 16];
                        for (w, word) in state.iter().enumerate() {
                            d[w * 4..w * 4 + 4].copy_from_slice(&word[lane].to_le_bytes());
                        }
                        d
                    })
                    .collect()
            }
        }
    }

    fn check_rows(&self, rows: &[&[u8]]) -> usize {
        assert_eq!(
            rows.len(),
            self.n,
            "md5-lanes: {} rows for {} messages",
            rows.len(),
            self.n
        );
        let len = rows[0].len();
        assert!(
            rows.iter().all(|r| r.len() == len),
            "md5-lanes: the rows differ in length"
        );
        len
    }

    fn feed(&mut self, rows: &[&[u8]], len: usize) {
        match &mut self.engine {
            Engine::Portable(hashers) => {
                for (h, row) in hashers.iter_mut().zip(rows) {
                    h.update(&row[..len]);
                }
            }
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2(state) => avx2_feed(state, rows, len),
        }
    }
}

/// Runs the AVX2 kernel over `len` bytes (a multiple of 64) of each row; lanes beyond the rows
/// repeat the first row and their results are never read.
#[cfg(target_arch = "x86_64")]
fn avx2_feed(state: &mut [[u32; MAX_LANES]; 4], rows: &[&[u8]], len: usize) {
    // What the kernel's reads rely on: cheap beside hashing even one block per row.
    assert!(len.is_multiple_of(64) && !rows.is_empty() && rows.iter().all(|r| r.len() >= len));
    let ptrs: [*const u8; MAX_LANES] =
        std::array::from_fn(|i| rows.get(i).unwrap_or(&rows[0]).as_ptr());
    // SAFETY: the engine exists only where `simd_available()` found AVX2, and every pointer
    // addresses at least `len` readable bytes (asserted above).
    unsafe { avx2::compress(state, &ptrs, len / 64) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut rand::rngs::StdRng, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        rng.fill(&mut v[..]);
        v
    }

    #[test]
    fn known_answers() {
        // Each RFC 1321 vector in every lane count.
        for (msg, hex) in [
            (&b""[..], "d41d8cd98f00b204e9800998ecf8427e"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            for n in 1..=MAX_LANES {
                let rows = vec![msg; n];
                let simd = simd_available();
                for d in Lanes::with_simd(n, simd).finish(&rows) {
                    let got: String = d.iter().map(|b| format!("{b:02x}")).collect();
                    assert_eq!(got, hex, "{n} lanes of {msg:?}");
                }
            }
        }
    }

    /// Every lane count, lengths around the padding boundaries and across several updates,
    /// distinct data per lane: the lanes agree with md-5 byte for byte.
    #[test]
    fn agrees_with_md5_crate() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let engines: &[bool] = if simd_available() {
            &[false, true]
        } else {
            &[false]
        };
        for (&simd, n) in engines
            .iter()
            .flat_map(|s| (1..=MAX_LANES).map(move |n| (s, n)))
        {
            for len in [
                0usize, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4096, 65_599,
            ] {
                let msgs: Vec<Vec<u8>> = (0..n).map(|_| random(&mut rng, len)).collect();
                let mut lanes = Lanes::with_simd(n, simd);
                assert_eq!(lanes.is_simd(), simd);
                // Feed in uneven whole-block steps, then the rest.
                let mut at = 0;
                let mut step = 64;
                while len - at >= step + 64 {
                    let rows: Vec<&[u8]> = msgs.iter().map(|m| &m[at..at + step]).collect();
                    lanes.update(&rows);
                    at += step;
                    step = (step * 3) % 4096 + 64;
                    step -= step % 64;
                }
                let rows: Vec<&[u8]> = msgs.iter().map(|m| &m[at..]).collect();
                let got = lanes.finish(&rows);
                for (i, m) in msgs.iter().enumerate() {
                    assert_eq!(
                        got[i],
                        md5(m),
                        "{n} lanes (simd {simd}), {len} bytes, lane {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn simd_is_used_where_available() {
        assert_eq!(Lanes::new(8).is_simd(), simd_available());
        assert!(
            !Lanes::new(1).is_simd(),
            "one message gains nothing from lanes"
        );
    }

    #[test]
    #[should_panic(expected = "whole 64-byte blocks")]
    fn ragged_update_is_refused() {
        Lanes::new(2).update(&[&[0u8; 10], &[0u8; 10]]);
    }

    #[test]
    #[should_panic(expected = "differ in length")]
    fn unequal_rows_are_refused() {
        Lanes::new(2).update(&[&[0u8; 64], &[0u8; 128]]);
    }
}
