//! The query string, decoded from the raw bytes of the request target. Clients send all sorts:
//! percent-encoded UTF-8 (the norm), raw UTF-8, or raw Latin-1 (the provider's Node.js SDK, for
//! a name such as `café`). Every problem is a -10001 answer, never a transport error.

use std::collections::HashSet;

use super::Reply;

/// At most this many bytes of query string are looked at.
pub(crate) const MAX_QUERY_BYTES: usize = 32 * 1024;
/// At most this many parameters.
pub(crate) const MAX_PARAMS: usize = 256;

/// The decoded query string, in the order sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub list: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` (anything else, `+` included, stays as it is). Invalid escapes are kept literally.
fn percent_decode(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hi = (b[i + 1] as char).to_digit(16);
            let lo = (b[i + 2] as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Why bytes are not UTF-8, said so the sender can fix it.
fn not_utf8(what: &str, bytes: &[u8]) -> Reply {
    let bad = match std::str::from_utf8(bytes) {
        Ok(_) => 0,
        Err(e) => bytes[e.valid_up_to()],
    };
    Reply::common(format!(
        "{what} is not valid UTF-8 (byte 0x{bad:02X}): send each value as the percent-encoded bytes of its UTF-8 form{}",
        if bad >= 0xA0 {
            " (this looks like Latin-1)"
        } else {
            ""
        }
    ))
}

/// Parses a raw query string.
pub(crate) fn parse_query(query: &[u8]) -> Result<Params, Reply> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Reply::common(format!(
            "query string too long: {} bytes, at most {MAX_QUERY_BYTES}",
            query.len()
        )));
    }
    let mut list: Vec<(String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for piece in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &b""[..]),
        };
        let k = String::from_utf8(percent_decode(k))
            .map_err(|e| not_utf8("a parameter name", e.as_bytes()))?;
        let v = String::from_utf8(percent_decode(v)).map_err(|e| {
            not_utf8(
                &format!("the value of parameter {}", printable(&k)),
                e.as_bytes(),
            )
        })?;
        if k.is_empty() {
            return Err(Reply::common("empty parameter name in the query string"));
        }
        if !seen.insert(k.clone()) {
            return Err(Reply::common(format!(
                "parameter {} given more than once",
                printable(&k)
            )));
        }
        list.push((k, v));
        if list.len() > MAX_PARAMS {
            return Err(Reply::common(format!(
                "too many parameters: at most {MAX_PARAMS}"
            )));
        }
    }
    Ok(Params { list })
}

/// A parameter name or value made safe to echo in a message or a log line.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode() {
        assert_eq!(percent_decode(b"a%20b+c%2F"), b"a b+c/");
        assert_eq!(percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(percent_decode(b"%41"), b"A");
        assert_eq!(percent_decode(b"%"), b"%");
        assert_eq!(percent_decode(b"x%4"), b"x%4");
        let p = parse_query(b"a=1&&b=%E4%B8%AD&c").unwrap();
        assert_eq!(p.get("b"), Some("中"));
        assert_eq!(p.get("c"), Some(""));
        assert!(parse_query(b"a=%FF").is_err());
        assert!(parse_query(b"a=1&a=2").is_err());
    }

    #[test]
    fn raw_bytes() {
        // Raw UTF-8 is decoded like its percent-encoded form.
        let p = parse_query("n=中".as_bytes()).unwrap();
        assert_eq!(p.get("n"), Some("中"));
        // Raw Latin-1: a -10001 that says what to do.
        let e = parse_query(b"fileName=caf\xe9").unwrap_err();
        assert_eq!(e.code, -10001);
        assert!(e.message().contains("fileName"), "{}", e.message());
        assert!(e.message().contains("0xE9"), "{}", e.message());
        assert!(e.message().contains("Latin-1"), "{}", e.message());
    }
}
