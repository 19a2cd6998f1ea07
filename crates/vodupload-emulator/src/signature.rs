//! The server's side of the request signature, written from the protocol's description and
//! independent of the client's implementation, so a canonicalisation bug on either side shows up
//! as a refused request instead of passing every test.
//!
//! The string to sign is the HTTP method in capitals, the host, the path, `?`, then every
//! parameter except `Signature` as `name=value` joined with `&`: sorted by name as sent (bytes),
//! values raw (decoded), and in names each `_` written as `.`. The provider's own PHP SDK, which
//! worked against the service, does the same (it sorts the names, then swaps the characters).

use base64::Engine as _;
use hmac::{Hmac, Mac};

use crate::protocol::SignatureMethod;

/// The string to sign of a request with these decoded query parameters.
pub(crate) fn string_to_sign(
    method: &str,
    host: &str,
    path: &str,
    params: &[(String, String)],
) -> String {
    with_query(method, host, path, &canonical_query(params))
}

/// The string to sign from a [`canonical_query`] already computed.
pub(crate) fn with_query(method: &str, host: &str, path: &str, canonical_query: &str) -> String {
    let mut s = method.to_ascii_uppercase();
    s.push_str(host);
    s.push_str(path);
    s.push('?');
    s.push_str(canonical_query);
    s
}

/// The `name=value&...` part, which does not depend on the host: computed once per request even
/// when several hosts are tried.
pub(crate) fn canonical_query(params: &[(String, String)]) -> String {
    let mut signed: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "Signature").collect();
    // Names are unique (the query parser refuses repeats), so no tie needs breaking.
    signed.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in signed.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(k.chars().map(|c| if c == '_' { '.' } else { c }));
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `Base64(HMAC(secret_key, string_to_sign))`.
pub(crate) fn compute(string_to_sign: &str, secret_key: &str, method: SignatureMethod) -> String {
    let mac = match method {
        SignatureMethod::HmacSha1 => {
            let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret_key.as_bytes())
                .expect("HMAC takes keys of any length");
            m.update(string_to_sign.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 => {
            let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret_key.as_bytes())
                .expect("HMAC takes keys of any length");
            m.update(string_to_sign.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// Compares in time that depends only on the lengths, so answers leak nothing about how much of
/// a forged signature was right.
pub(crate) fn signatures_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The Host header without its port (`[::1]:80` → `[::1]`, `a.b:80` → `a.b`).
pub(crate) fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(i) => &host[..=i],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The provider's documented example (a GET on another host, same algorithm).
    #[test]
    fn known_answer() {
        let p = owned(&[
            ("limit", "20"),
            ("offset", "0"),
            ("Action", "DescribeInstances"),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
            ("Nonce", "11886"),
            ("Timestamp", "1465185768"),
            ("instanceIds.0", "ins-09dx96dg"),
            ("Region", "gz"),
            ("Signature", "ignored"),
        ]);
        let s = string_to_sign("get", "cvm.api.qcloud.com", "/v2/index.php", &p);
        assert_eq!(
            s,
            "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0"
        );
        assert_eq!(
            compute(
                &s,
                "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA",
                SignatureMethod::HmacSha1
            ),
            "NSI3UqqD99b/UJb4tbG/xZpRW64="
        );
    }

    #[test]
    fn names_sorted_as_sent_then_underscores_become_dots() {
        // `_` (0x5F) sorts after `A` (0x41); `.` (0x2E) would sort before it.
        let p = owned(&[("tag_1", "x"), ("tagA", "y")]);
        assert_eq!(canonical_query(&p), "tagA=y&tag.1=x");
    }

    #[test]
    fn hmac_sha256_is_32_bytes() {
        let s = compute("x", "k", SignatureMethod::HmacSha256);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .unwrap();
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn constant_time_compare() {
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "ab"));
    }

    #[test]
    fn hosts() {
        assert_eq!(host_without_port("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_without_port("localhost"), "localhost");
        assert_eq!(host_without_port("[::1]:99"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
    }
}
