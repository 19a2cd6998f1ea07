//! `vod_status`: what every fallible call returns, and how core errors map onto it.

use vodcore::{Error, ErrorKind};

/// The outcome of a call. `VOD_OK` is 0; failures are grouped in bands of a thousand, so a caller
/// can test the band (`status / 1000`) as well as the exact value:
///
/// - 1000s: the call itself was wrong (a NULL or out-of-range argument) or the library failed;
/// - 2000s: the input was refused (the file, the name, a setting), or the file could not be read;
/// - 3000s: the transport failed (connection, TLS, timeout, an answer that is not the protocol);
/// - 4000s: the service refused the request (credentials, or an error code: see
///   `vod_last_server_code`);
/// - 5000s: the caller stopped the upload.
///
/// ABI policy: values are explicit and only ever appended, never renumbered or reused. A newer
/// library may return a value this header does not know: treat it by its band, and show
/// `vod_last_error()`. In C this is a `uint32_t` whose values are named by `enum vod_status`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum vod_status {
    /// Success.
    VOD_OK = 0,
    /// A required pointer was NULL, or an argument is out of its documented range.
    VOD_ERR_INVALID_ARGUMENT = 1000,
    /// The library hit an internal error (a Rust panic, caught at the boundary). The handles involved
    /// are still safe to free; please report it with `vod_last_error()`.
    VOD_ERR_PANIC = 1001,
    /// The output buffer is too small; `vod_last_error()` says how many bytes are needed.
    VOD_ERR_BUFFER_TOO_SMALL = 1002,
    /// An input or setting is refused before anything is sent: an empty or special file, a bad video
    /// name or type, a bad part size, concurrency or endpoint, a string that is not UTF-8, parts
    /// still missing at finish...
    VOD_ERR_INVALID_INPUT = 2000,
    /// The local file could not be read (other than the two cases below).
    VOD_ERR_IO = 2100,
    /// The file does not exist.
    VOD_ERR_NOT_FOUND = 2101,
    /// The file may not be read (permissions).
    VOD_ERR_PERMISSION_DENIED = 2102,
    /// The file changed (size, time or content) while it was being uploaded: upload it again once
    /// it is complete.
    VOD_ERR_FILE_CHANGED = 2200,
    /// The connection failed, was reset, or TLS failed (after the configured retries).
    VOD_ERR_NETWORK = 3000,
    /// A request did not complete in time (after the configured retries).
    VOD_ERR_TIMEOUT = 3100,
    /// The service answered something that is not the protocol (HTML, malformed JSON...).
    VOD_ERR_PROTOCOL = 3200,
    /// The service refused the credentials or the signature (e.g. code -10002, 4100, 4300).
    VOD_ERR_AUTH = 4000,
    /// The service answered with an error code: `vod_last_server_code()` has it.
    VOD_ERR_SERVER = 4100,
    /// The progress callback returned non-zero, or `vod_upload_cancel` was called. The service
    /// keeps the parts it has: running the upload again resumes.
    VOD_ERR_ABORTED = 5000,
    /// A failure this version of the library has no better status for; see `vod_last_error()`.
    VOD_ERR_UNKNOWN = 9000,
}

/// A status received from C: any `uint32_t`, known to this version or not. (Rust may only hold
/// valid enum values, so functions that take a status take this; C sees `vod_status`.)
pub type vod_status_value = u32;

impl vod_status {
    /// The status for a core error.
    pub(crate) fn of(e: &Error) -> vod_status {
        match e.kind() {
            ErrorKind::InvalidInput => vod_status::VOD_ERR_INVALID_INPUT,
            ErrorKind::Io => match e.io_kind() {
                Some(std::io::ErrorKind::NotFound) => vod_status::VOD_ERR_NOT_FOUND,
                Some(std::io::ErrorKind::PermissionDenied) => vod_status::VOD_ERR_PERMISSION_DENIED,
                _ => vod_status::VOD_ERR_IO,
            },
            ErrorKind::FileChanged => vod_status::VOD_ERR_FILE_CHANGED,
            ErrorKind::Network => vod_status::VOD_ERR_NETWORK,
            ErrorKind::Timeout => vod_status::VOD_ERR_TIMEOUT,
            ErrorKind::Protocol => vod_status::VOD_ERR_PROTOCOL,
            ErrorKind::Auth => vod_status::VOD_ERR_AUTH,
            ErrorKind::Server => vod_status::VOD_ERR_SERVER,
            ErrorKind::Cancelled => vod_status::VOD_ERR_ABORTED,
            _ => vod_status::VOD_ERR_UNKNOWN,
        }
    }

    /// Every status, for `vod_strerror`.
    pub(crate) const ALL: [vod_status; 16] = [
        vod_status::VOD_OK,
        vod_status::VOD_ERR_INVALID_ARGUMENT,
        vod_status::VOD_ERR_PANIC,
        vod_status::VOD_ERR_BUFFER_TOO_SMALL,
        vod_status::VOD_ERR_INVALID_INPUT,
        vod_status::VOD_ERR_IO,
        vod_status::VOD_ERR_NOT_FOUND,
        vod_status::VOD_ERR_PERMISSION_DENIED,
        vod_status::VOD_ERR_FILE_CHANGED,
        vod_status::VOD_ERR_NETWORK,
        vod_status::VOD_ERR_TIMEOUT,
        vod_status::VOD_ERR_PROTOCOL,
        vod_status::VOD_ERR_AUTH,
        vod_status::VOD_ERR_SERVER,
        vod_status::VOD_ERR_ABORTED,
        vod_status::VOD_ERR_UNKNOWN,
    ];

    /// A fixed, NUL-terminated description.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            vod_status::VOD_OK => "success\0",
            vod_status::VOD_ERR_INVALID_ARGUMENT => "invalid argument (NULL or out of range)\0",
            vod_status::VOD_ERR_PANIC => "internal error in libvodupload (please report it)\0",
            vod_status::VOD_ERR_BUFFER_TOO_SMALL => "output buffer too small\0",
            vod_status::VOD_ERR_INVALID_INPUT => "invalid input\0",
            vod_status::VOD_ERR_IO => "cannot read the file\0",
            vod_status::VOD_ERR_NOT_FOUND => "no such file\0",
            vod_status::VOD_ERR_PERMISSION_DENIED => "permission denied\0",
            vod_status::VOD_ERR_FILE_CHANGED => "the file changed during the upload\0",
            vod_status::VOD_ERR_NETWORK => "network error\0",
            vod_status::VOD_ERR_TIMEOUT => "timed out\0",
            vod_status::VOD_ERR_PROTOCOL => "unexpected answer from the service\0",
            vod_status::VOD_ERR_AUTH => "authentication failed (SecretId/SecretKey or signature)\0",
            vod_status::VOD_ERR_SERVER => "the service returned an error\0",
            vod_status::VOD_ERR_ABORTED => "aborted by the caller\0",
            vod_status::VOD_ERR_UNKNOWN => "unknown error\0",
        }
    }

    pub(crate) fn from_value(v: vod_status_value) -> Option<vod_status> {
        vod_status::ALL.into_iter().find(|s| *s as u32 == v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_published_ones() {
        // The ABI: these numbers never change.
        let expected: [(vod_status, u32); 16] = [
            (vod_status::VOD_OK, 0),
            (vod_status::VOD_ERR_INVALID_ARGUMENT, 1000),
            (vod_status::VOD_ERR_PANIC, 1001),
            (vod_status::VOD_ERR_BUFFER_TOO_SMALL, 1002),
            (vod_status::VOD_ERR_INVALID_INPUT, 2000),
            (vod_status::VOD_ERR_IO, 2100),
            (vod_status::VOD_ERR_NOT_FOUND, 2101),
            (vod_status::VOD_ERR_PERMISSION_DENIED, 2102),
            (vod_status::VOD_ERR_FILE_CHANGED, 2200),
            (vod_status::VOD_ERR_NETWORK, 3000),
            (vod_status::VOD_ERR_TIMEOUT, 3100),
            (vod_status::VOD_ERR_PROTOCOL, 3200),
            (vod_status::VOD_ERR_AUTH, 4000),
            (vod_status::VOD_ERR_SERVER, 4100),
            (vod_status::VOD_ERR_ABORTED, 5000),
            (vod_status::VOD_ERR_UNKNOWN, 9000),
        ];
        for (s, v) in expected {
            assert_eq!(s as u32, v, "{s:?}");
            assert_eq!(vod_status::from_value(v), Some(s));
            assert!(s.describe().ends_with('\0'));
        }
        assert_eq!(vod_status::from_value(1), None);
    }
}
