//! Internals reachable from outside the crate for the fuzz targets and the bench only: not part
//! of the API, not covered by semver, may change or go in any release.

pub mod fingerprint;
pub mod protocol;
