//! How a file is cut into parts (docs/protocol.md, "Cutting a file into parts").

use crate::error::{Error, Result};

/// The part sizes the service accepts.
pub const ALLOWED_PART_SIZES: [u64; 2] = [524_288, 1_048_576];
/// 1 MiB: fewer requests than the provider SDKs' 512 KiB, and accepted by the service.
pub const DEFAULT_PART_SIZE: u64 = 1_048_576;

/// Checks a part size against the service's rules.
pub fn validate_part_size(part_size: u64) -> Result<u64> {
    if ALLOWED_PART_SIZES.contains(&part_size) {
        Ok(part_size)
    } else {
        Err(part_size_error(part_size))
    }
}

/// The one message for a part size the service does not take.
pub(crate) fn part_size_error(part_size: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!(
        "part size {part_size} is not accepted by the service: use 524288 (512 KiB) or 1048576 (1 MiB)"
    ))
}

/// One part: where it starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: usize,
    pub offset: u64,
    pub len: u64,
}

/// The parts of a file of `file_size` bytes at `part_size`: all full but the last, which is ≤
/// `part_size`. A zero-size file has no parts (the service refuses it; callers check first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub file_size: u64,
    pub part_size: u64,
}

impl PartPlan {
    /// A plan; `part_size` must be non-zero (any size is allowed here so an emulator started with
    /// "any part size" can share the code; the client validates against the service's rules).
    pub fn new(file_size: u64, part_size: u64) -> Result<Self> {
        if part_size == 0 {
            return Err(Error::invalid_input("part size must be greater than 0"));
        }
        Ok(PartPlan {
            file_size,
            part_size,
        })
    }

    /// How many parts there are.
    pub fn count(&self) -> usize {
        self.file_size.div_ceil(self.part_size) as usize
    }

    /// Part `index`, or None past the end.
    pub fn part(&self, index: usize) -> Option<Part> {
        let offset = (index as u64).checked_mul(self.part_size)?;
        if offset >= self.file_size {
            return None;
        }
        Some(Part {
            index,
            offset,
            len: self.part_size.min(self.file_size - offset),
        })
    }

    /// The part starting at `offset`, if `offset` is a part boundary inside the file.
    pub fn part_at(&self, offset: u64) -> Option<Part> {
        if !offset.is_multiple_of(self.part_size) {
            return None;
        }
        self.part((offset / self.part_size) as usize)
    }

    /// Every part in order.
    pub fn parts(&self) -> impl Iterator<Item = Part> + '_ {
        (0..self.count()).map(|i| self.part(i).expect("index below count"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_worked_example() {
        let plan = PartPlan::new(6_000_000, 1_048_576).unwrap();
        let parts: Vec<Part> = plan.parts().collect();
        assert_eq!(parts.len(), 6);
        let offsets: Vec<u64> = parts.iter().map(|p| p.offset).collect();
        assert_eq!(
            offsets,
            [0, 1_048_576, 2_097_152, 3_145_728, 4_194_304, 5_242_880]
        );
        assert!(parts[..5].iter().all(|p| p.len == 1_048_576));
        assert_eq!(parts[5].len, 757_120);
        assert_eq!(parts.iter().map(|p| p.len).sum::<u64>(), 6_000_000);
    }

    #[test]
    fn exact_multiple_has_no_short_part() {
        let plan = PartPlan::new(2 * 524_288, 524_288).unwrap();
        assert_eq!(plan.count(), 2);
        assert_eq!(plan.part(1).unwrap().len, 524_288);
        assert!(plan.part(2).is_none());
    }

    #[test]
    fn tiny_and_empty() {
        assert_eq!(PartPlan::new(1, 524_288).unwrap().count(), 1);
        assert_eq!(PartPlan::new(0, 524_288).unwrap().count(), 0);
        assert!(PartPlan::new(10, 0).is_err());
    }

    #[test]
    fn part_at_boundaries() {
        let plan = PartPlan::new(6_000_000, 1_048_576).unwrap();
        assert_eq!(plan.part_at(5_242_880).unwrap().index, 5);
        assert!(plan.part_at(100).is_none());
        assert!(plan.part_at(6_291_456).is_none());
    }

    #[test]
    fn part_size_rules() {
        assert!(validate_part_size(524_288).is_ok());
        assert!(validate_part_size(1_048_576).is_ok());
        let e = validate_part_size(1000).unwrap_err();
        assert!(e.to_string().contains("524288"), "{e}");
    }
}
