//! Which of the parts an InitUpload resume lists can be trusted to skip.
//!
//! The list comes from the network, so it is checked entry by entry against the file's own
//! parts: an entry must start on one of our part boundaries, inside the file, with our length
//! for that part; an offset listed twice is not trusted at all (the server's state for it is
//! ambiguous). Entries that fail are not errors: the part is simply sent again. Whether a kept
//! entry's MD5 matches the file is the caller's check, once the MD5s are known.

use std::collections::HashMap;

use crate::plan::PartPlan;
use crate::protocol::ListedPart;

/// The outcome of sorting a listed-parts answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Sorted {
    /// Our part index and the server's MD5 for it, in list order.
    pub(crate) fitting: Vec<(usize, String)>,
    /// Entries outside the file, off our boundaries, or of another length.
    pub(crate) misfits: Vec<ListedPart>,
    /// Offsets listed more than once.
    pub(crate) duplicated: Vec<u64>,
}

/// Sorts `listed` against `plan`; see the module documentation.
pub(crate) fn sort(plan: &PartPlan, listed: Vec<ListedPart>) -> Sorted {
    let mut times: HashMap<u64, usize> = HashMap::with_capacity(listed.len());
    for l in &listed {
        *times.entry(l.offset).or_default() += 1;
    }
    let mut out = Sorted::default();
    for l in listed {
        let count = times.get(&l.offset).copied().unwrap_or(0);
        if count > 1 {
            if count != usize::MAX {
                out.duplicated.push(l.offset);
                // Report each duplicated offset once.
                times.insert(l.offset, usize::MAX);
            }
            continue;
        }
        match plan.part_at(l.offset) {
            Some(p) if p.len == l.data_size => out.fitting.push((p.index, l.data_md5)),
            _ => out.misfits.push(l),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(offset: u64, data_size: u64, md5: &str) -> ListedPart {
        ListedPart {
            offset,
            data_size,
            data_md5: md5.into(),
        }
    }

    #[test]
    fn only_our_parts_listed_once_are_kept() {
        // 2.5 parts of 1 MiB: the last is 524288 bytes.
        let plan = PartPlan::new(2_621_440, 1_048_576).unwrap();
        let got = sort(
            &plan,
            vec![
                listed(0, 1_048_576, "a"),
                listed(2_097_152, 524_288, "c"),
                // beyond the file
                listed(3_145_728, 1_048_576, "x"),
                // overlapping two of our parts
                listed(524_288, 1_048_576, "x"),
                // our boundary, another length
                listed(1_048_576, 524_288, "x"),
                // the last part at full length
                listed(2_097_152, 1_048_576, "x"),
            ],
        );
        // The last part was listed twice (once with a wrong length): not trusted at all.
        assert_eq!(got.fitting, vec![(0, "a".to_owned())]);
        assert_eq!(got.duplicated, vec![2_097_152]);
        assert_eq!(got.misfits.len(), 3);
    }

    #[test]
    fn a_duplicate_is_dropped_even_when_both_agree() {
        let plan = PartPlan::new(2_097_152, 1_048_576).unwrap();
        let got = sort(
            &plan,
            vec![
                listed(1_048_576, 1_048_576, "b"),
                listed(0, 1_048_576, "a"),
                listed(1_048_576, 1_048_576, "b"),
                listed(1_048_576, 1_048_576, "b"),
            ],
        );
        assert_eq!(got.fitting, vec![(0, "a".to_owned())]);
        assert_eq!(got.duplicated, vec![1_048_576]);
        assert!(got.misfits.is_empty());
    }
}
