//! A reusable read buffer whose start is 64-byte aligned.
//!
//! The kernel copies from the page cache into a buffer 16 bytes into a page (where glibc puts
//! every large allocation) markedly slower than into an aligned one: SHA-1 over a 1 GiB file
//! read into a 1 MiB buffer took 694 ms against 622 ms here (measured, fresh processes). The
//! hashing pass is on the path to InitUpload, so its buffers are aligned.

/// Alignment of the buffer's start: one cache line.
const ALIGN: usize = 64;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct AlignedBuf {
    store: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// An empty buffer: no memory until [`AlignedBuf::resize`].
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Makes the buffer `len` bytes long (new bytes are zero, old ones kept only if it need not
    /// grow) and returns it.
    pub(crate) fn resize(&mut self, len: usize) -> &mut [u8] {
        if self.store.len() < self.start + len {
            self.store = vec![0u8; len + ALIGN];
            self.start = self.store.as_ptr().align_offset(ALIGN);
        }
        self.len = len;
        &mut self.store[self.start..self.start + len]
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.store[self.start..self.start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_aligned_at_every_size() {
        let mut b = AlignedBuf::new();
        assert!(b.as_slice().is_empty());
        for len in [1, 100, 1 << 20, 77, (1 << 20) + 3] {
            let s = b.resize(len);
            assert_eq!(s.len(), len);
            assert_eq!(s.as_ptr() as usize % ALIGN, 0, "{len} bytes");
            s[len - 1] = 9;
            assert_eq!(b.as_slice()[len - 1], 9);
        }
    }
}
