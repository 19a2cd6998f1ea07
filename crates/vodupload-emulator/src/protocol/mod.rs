//! Protocol rules that need no I/O: the answer envelope, query parsing and parameter validation.

mod params;
mod query;
mod reply;

pub(crate) use params::{
    Action, Common, InitRules, SignatureMethod, check_part_against, common_params, confirm_handles,
    file_sha, init_params, part_params,
};
pub(crate) use query::{Params, parse_query, printable};
pub(crate) use reply::Reply;

/// Requests whose Timestamp is further than this from the emulator's clock are refused.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 2 * 3600;
/// A Timestamp this large is read as milliseconds: as seconds it would be after the year 5000, as
/// milliseconds it is after 1973. The protocol says seconds, but the provider's Node.js SDK sends
/// milliseconds and worked against the service, so the service reads them (docs/protocol.md).
pub(crate) const MILLISECOND_TIMESTAMPS_FROM: u64 = 100_000_000_000;
/// Largest part accepted with `any_part_size`.
pub(crate) const MAX_ANY_PART_SIZE: u64 = 64 * 1024 * 1024;
/// The part sizes the service accepts.
pub(crate) const PART_SIZES: [u64; 2] = [524_288, 1_048_576];

pub(crate) const E_COMMON: i64 = -10001;
pub(crate) const E_SIGNATURE: i64 = -10002;
pub(crate) const E_PROTOCOL: i64 = -10003;
pub(crate) const E_WRITE_CACHE: i64 = -10004;
pub(crate) const E_READ_CACHE: i64 = -10005;
pub(crate) const E_PACKET_SIZE: i64 = -10006;
pub(crate) const E_FREQUENCY: i64 = 4400;
pub(crate) const E_REPLAY: i64 = 4500;
pub(crate) const E_PROTOCOL_NOT_SUPPORTED: i64 = 4600;
pub(crate) const E_NOT_FOUND: i64 = 5000;
