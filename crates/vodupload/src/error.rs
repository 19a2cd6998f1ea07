//! The one error type of the crate.
//!
//! Callers branch on [`ErrorKind`]; people read [`Error`]'s `Display`, which always says what went
//! wrong and, where there is one, what to do about it. No secret ever reaches a message: messages are
//! built from parameters the crate chose to show, never from a request's full query.

use std::fmt;

/// What kind of failure an [`Error`] is. Stable: the C, Python and PHP faces map it one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument or configuration value is wrong (bad part size, bad name, bad endpoint...).
    InvalidInput,
    /// The local file could not be read, or is not a regular non-empty file.
    Io,
    /// The file changed (size, mtime or content) while it was being uploaded.
    FileChanged,
    /// The connection failed, was reset, or TLS failed.
    Network,
    /// A request did not complete within its timeout.
    Timeout,
    /// The service rejected the credentials or the signature (-10002, 4100, 4300).
    Auth,
    /// The service answered with an error code (see [`Error::server`]).
    Server,
    /// The service answered something that is not the protocol (HTML, malformed JSON, missing fields).
    Protocol,
    /// The caller asked to stop (progress callback or cancel flag).
    Cancelled,
}

impl ErrorKind {
    /// A short lowercase name, for logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Io => "io",
            ErrorKind::FileChanged => "file_changed",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Auth => "auth",
            ErrorKind::Server => "server",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// The error code, message and retry hint a service response carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: i64,
    pub message: String,
    pub code_desc: String,
    pub can_retry: bool,
}

/// Any failure of the crate.
pub struct Error {
    kind: ErrorKind,
    message: String,
    server: Option<ServerError>,
    io_kind: Option<std::io::ErrorKind>,
    /// Whether sending the same request again could succeed; decided where the error is made,
    /// because only there is it known (an HTTP 502 may pass, an HTTP 404 will not).
    transient: bool,
}

impl Error {
    /// An error of `kind`; faces use it for failures of their own (a NULL argument, say).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            server: None,
            io_kind: None,
            transient: matches!(kind, ErrorKind::Network | ErrorKind::Timeout),
        }
    }

    pub(crate) fn transient(mut self, transient: bool) -> Self {
        self.transient = transient;
        self
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn io(context: impl fmt::Display, err: &std::io::Error) -> Self {
        let mut e = Error::new(ErrorKind::Io, format!("{context}: {err}"));
        e.io_kind = Some(err.kind());
        e
    }

    pub(crate) fn io_kind_message(kind: std::io::ErrorKind, message: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::Io, message);
        e.io_kind = Some(kind);
        e
    }

    pub(crate) fn from_server(action: &str, server: ServerError) -> Self {
        let kind = if is_auth_code(server.code) {
            ErrorKind::Auth
        } else {
            ErrorKind::Server
        };
        let hint = match server.code {
            -10002 | 4100 => {
                ": check the SecretId/SecretKey pair, and use `vodupload sign` to compare the string to sign"
            }
            4300 => ": the SecretId has no permission for this action",
            4500 => ": the request timestamp or nonce was refused; check the system clock",
            4400 => ": the request rate is above the service's limit",
            _ => "",
        };
        let msg = format!(
            "{action} failed with code {}{}{}{hint}",
            server.code,
            if server.message.is_empty() { "" } else { ": " },
            server.message,
        );
        Error {
            kind,
            message: msg,
            transient: server.can_retry && kind != ErrorKind::Auth,
            server: Some(server),
            io_kind: None,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The service's answer, when the failure is one.
    pub fn server(&self) -> Option<&ServerError> {
        self.server.as_ref()
    }

    /// The OS error kind, for [`ErrorKind::Io`] (lets faces map NotFound to their own idiom).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.io_kind
    }

    /// The human-readable message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether retrying the same request could succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    pub(crate) fn with_context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// [`Error::with_context`], first dropping `redundant` from the message's start when it is
    /// there (the context already says it).
    pub(crate) fn with_context_over(mut self, context: impl fmt::Display, redundant: &str) -> Self {
        if let Some(rest) = self.message.strip_prefix(redundant) {
            self.message = rest.to_owned();
        }
        self.with_context(context)
    }
}

/// Codes that mean "your credentials or signature are wrong": retrying cannot help.
pub(crate) fn is_auth_code(code: i64) -> bool {
    matches!(code, -10002 | 4100 | 4300)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(s) = &self.server {
            d.field("server", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_codes_are_auth_and_final() {
        let e = Error::from_server(
            "InitUpload",
            ServerError {
                code: -10002,
                message: "signature error".into(),
                code_desc: String::new(),
                can_retry: false,
            },
        );
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(!e.is_transient());
        assert!(e.to_string().contains("-10002"), "{e}");
    }

    #[test]
    fn can_retry_is_transient() {
        let e = Error::from_server(
            "UploadPart",
            ServerError {
                code: -10004,
                message: "write cache failed".into(),
                code_desc: String::new(),
                can_retry: true,
            },
        );
        assert_eq!(e.kind(), ErrorKind::Server);
        assert!(e.is_transient());
    }
}
