//! Lowercase hex, as every hash parameter of the protocol and the fingerprint cache write it.

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Exactly `2 * N` lowercase hex digits as bytes; None for anything else (uppercase included:
/// what this crate wrote itself is lowercase, so anything else was written by someone else).
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Whether `s` is exactly `len` lowercase hex digits.
pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xfe, 0xff];
        assert_eq!(hex(&bytes), "00017f80feff");
        assert_eq!(parse_hex::<6>("00017f80feff"), Some(bytes));
        assert_eq!(parse_hex::<6>("00017F80FEFF"), None);
        assert_eq!(parse_hex::<6>("00017f80fef"), None);
        assert_eq!(parse_hex::<2>("0g00"), None);
        assert!(is_hex("0a", 2) && !is_hex("0A", 2) && !is_hex("0a", 3));
    }
}
