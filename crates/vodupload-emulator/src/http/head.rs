//! A request's head: the request line read byte for byte (the target is kept as raw bytes, so a
//! client that sends Latin-1 or raw UTF-8 in its query still gets a protocol answer), and the
//! header fields, parsed by `httparse`.

use std::borrow::Cow;

/// A head longer than this is refused (the longest valid query is 32 KiB).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// At most this many header fields.
const MAX_HEADERS: usize = 100;

#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub method: String,
    /// The target's path, raw.
    pub path: Vec<u8>,
    /// The target's query string (after `?`), raw.
    pub query: Vec<u8>,
    pub http10: bool,
    /// Names in lower case.
    pub headers: Vec<(String, Vec<u8>)>,
}

/// A head that cannot be served.
#[derive(Debug)]
pub(crate) struct BadHead(pub String);

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    pub(crate) fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    pub(crate) fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The path for logs and messages.
    pub(crate) fn path_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }

    /// The Host header as received (empty when absent or not text).
    pub(crate) fn host(&self) -> &str {
        self.header_str("host").unwrap_or("")
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name).any(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
    }

    /// The client asked to close after this exchange (or, HTTP/1.0, did not ask to keep it).
    pub(crate) fn wants_close(&self) -> bool {
        if self.http10 {
            !self.has_token("connection", "keep-alive")
        } else {
            self.has_token("connection", "close")
        }
    }

    pub(crate) fn expects_continue(&self) -> bool {
        !self.http10 && self.has_token("expect", "100-continue")
    }

    pub(crate) fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// The length of the head at the start of `buf` (through its blank line), once it is complete.
/// `from` is where the previous look stopped, so a head arriving a byte at a time is not
/// rescanned from its start each time.
pub(crate) fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let mut i = start;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses a complete head (as delimited by [`head_end`]).
pub(crate) fn parse(bytes: &[u8]) -> Result<Head, BadHead> {
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| BadHead("no request line".into()))?;
    let line = bytes[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&bytes[..line_end]);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadHead(
            "the request line is not METHOD TARGET HTTP/1.1".into(),
        ));
    };
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return Err(BadHead("the request method is not a token".into()));
    }
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return Err(BadHead("only HTTP/1.1 and HTTP/1.0 are spoken here".into())),
    };
    // Any byte but controls: the target is decoded later, where a bad byte gets a protocol
    // answer instead of a bare 400.
    if target.is_empty() || target.iter().any(|&b| b < 0x21 || b == 0x7f) {
        return Err(BadHead(
            "the request target is empty or has control characters".into(),
        ));
    }
    let target = strip_absolute_form(target);
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    // A fragment is never sent by a client; drop it like a server would.
    let query = match query.iter().position(|&b| b == b'#') {
        Some(h) => &query[..h],
        None => query,
    };

    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let fields = &bytes[line_end + 1..];
    let headers = match httparse::parse_headers(fields, &mut raw) {
        Ok(httparse::Status::Complete((_, hs))) => hs
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .collect(),
        Ok(httparse::Status::Partial) => return Err(BadHead("incomplete header fields".into())),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(BadHead(format!("more than {MAX_HEADERS} header fields")));
        }
        Err(e) => return Err(BadHead(format!("malformed header fields ({e})"))),
    };
    Ok(Head {
        method: String::from_utf8_lossy(method).into_owned(),
        path: path.to_vec(),
        query: query.to_vec(),
        http10,
        headers,
    })
}

/// `http://host/path?q` (a request through a proxy) → `/path?q`.
fn strip_absolute_form(target: &[u8]) -> &[u8] {
    for scheme in [&b"http://"[..], b"https://"] {
        if target.len() > scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &target[scheme.len()..];
            return match rest.iter().position(|&b| b == b'/' || b == b'?') {
                Some(i) => &rest[i..],
                None => b"/",
            };
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_target_bytes_survive() {
        let h =
            parse(b"POST /v2/index.php?fileName=caf\xe9&a=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(h.path, b"/v2/index.php");
        assert_eq!(h.query, b"fileName=caf\xe9&a=1");
        assert_eq!(h.host(), "x");
        assert!(!h.wants_close());
    }

    #[test]
    fn heads_end_with_crlf_or_lf() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nxx", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nxx", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0), None);
        let b = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(head_end(b, 20), Some(b.len()));
    }

    #[test]
    fn bad_heads() {
        assert!(parse(b"\x00\x01GARBAGE\r\n\r\n").is_err());
        assert!(parse(b"GET / HTTP/2\r\n\r\n").is_err());
        assert!(parse(b"GET /a\x01 HTTP/1.1\r\n\r\n").is_err());
        assert!(parse(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").is_err());
    }

    #[test]
    fn absolute_form_and_http10() {
        let h = parse(b"GET http://h:1/v2/index.php?a=1 HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(h.path, b"/v2/index.php");
        assert_eq!(h.query, b"a=1");
        assert!(h.wants_close());
        let h = parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(!h.wants_close());
    }
}
