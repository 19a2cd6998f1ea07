//! Request signing for the legacy v2 API family (docs/protocol.md, "The signature").
//!
//! The string to sign uses RAW parameter values while the wire uses percent-encoded ones; mixing the
//! two up is the classic cause of -10002, which is why both halves live here side by side.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::Error;

/// The HMAC used for `Signature`. `HmacSHA1` is the service's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureMethod {
    #[default]
    HmacSha1,
    HmacSha256,
}

impl SignatureMethod {
    /// The value of the `SignatureMethod` request parameter.
    pub fn as_param(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HmacSHA1",
            SignatureMethod::HmacSha256 => "HmacSHA256",
        }
    }

    /// Parses `HmacSHA1` / `HmacSHA256` (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.eq_ignore_ascii_case("HmacSHA1") {
            Ok(SignatureMethod::HmacSha1)
        } else if s.eq_ignore_ascii_case("HmacSHA256") {
            Ok(SignatureMethod::HmacSha256)
        } else {
            Err(Error::invalid_input(format!(
                "unknown signature method {s:?}: use HmacSHA1 or HmacSHA256"
            )))
        }
    }
}

/// Builds the string to sign: `METHOD + host + path + "?" + k=v&...`, keys sorted bytewise,
/// `_` in keys replaced by `.`, values raw. `Signature` itself is left out if present.
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    host: &str,
    path: &str,
    params: &[(K, V)],
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k.as_ref() != "Signature")
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // Sorted on the names as sent, and only then `_` → `.` (docs/protocol.md, "The signature"):
    // names that differ there (`tag_1` and `tagA`) would order the other way round otherwise.
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let pairs: Vec<(String, &str)> = pairs
        .into_iter()
        .map(|(k, v)| (k.replace('_', "."), v))
        .collect();
    let mut s = String::with_capacity(64 + pairs.len() * 24);
    s.push_str(&method.to_ascii_uppercase());
    s.push_str(host);
    s.push_str(path);
    s.push('?');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// HMAC of `string_to_sign` keyed with `secret_key`, Base64-encoded.
pub fn sign_string(string_to_sign: &str, secret_key: &str, method: SignatureMethod) -> String {
    let mac = match method {
        SignatureMethod::HmacSha1 => {
            let mut m = Hmac::<sha1::Sha1>::new_from_slice(secret_key.as_bytes())
                .expect("HMAC accepts keys of any length");
            m.update(string_to_sign.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret_key.as_bytes())
                .expect("HMAC accepts keys of any length");
            m.update(string_to_sign.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// Signs a request: the convenience of [`string_to_sign`] then [`sign_string`].
pub fn sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    host: &str,
    path: &str,
    params: &[(K, V)],
    secret_key: &str,
    signature_method: SignatureMethod,
) -> String {
    sign_string(
        &string_to_sign(method, host, path, params),
        secret_key,
        signature_method,
    )
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`, so a space is `%20`, never `+`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one query component the way the service expects.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Encodes `k=v&...` for the wire, in the order given.
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut q = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            q.push('&');
        }
        q.push_str(&percent_encode(k.as_ref()));
        q.push('=');
        q.push_str(&percent_encode(v.as_ref()));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN_STRING: &str = "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0";

    fn known_params() -> Vec<(&'static str, &'static str)> {
        // Deliberately unsorted and with `_` in a key, to exercise both canonicalisation rules.
        vec![
            ("limit", "20"),
            ("offset", "0"),
            ("Action", "DescribeInstances"),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
            ("Nonce", "11886"),
            ("Timestamp", "1465185768"),
            ("instanceIds_0", "ins-09dx96dg"),
            ("Region", "gz"),
        ]
    }

    #[test]
    fn known_answer_string_to_sign() {
        assert_eq!(
            string_to_sign(
                "get",
                "cvm.api.qcloud.com",
                "/v2/index.php",
                &known_params()
            ),
            KNOWN_STRING
        );
    }

    #[test]
    fn known_answer_signature() {
        let sig = sign_string(
            KNOWN_STRING,
            "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA",
            SignatureMethod::HmacSha1,
        );
        assert_eq!(sig, "NSI3UqqD99b/UJb4tbG/xZpRW64=");
    }

    #[test]
    fn signature_param_is_not_signed() {
        let mut p = known_params();
        p.push(("Signature", "whatever"));
        assert_eq!(
            string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", &p),
            KNOWN_STRING
        );
    }

    #[test]
    fn sha256_differs_and_is_32_bytes() {
        let s = sign_string(KNOWN_STRING, "k", SignatureMethod::HmacSha256);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(s, sign_string(KNOWN_STRING, "k", SignatureMethod::HmacSha1));
    }

    #[test]
    fn raw_values_signed_encoded_values_sent() {
        let p = [("name", "a b+c/d"), ("Action", "X")];
        assert_eq!(
            string_to_sign("POST", "h", "/p", &p),
            "POSTh/p?Action=X&name=a b+c/d"
        );
        assert_eq!(encode_query(&p), "name=a%20b%2Bc%2Fd&Action=X");
        assert_eq!(
            percent_encode("NSI3UqqD99b/UJb4tbG/xZpRW64="),
            "NSI3UqqD99b%2FUJb4tbG%2FxZpRW64%3D"
        );
    }

    #[test]
    fn method_parse() {
        assert_eq!(
            SignatureMethod::parse("hmacsha256").unwrap(),
            SignatureMethod::HmacSha256
        );
        assert!(SignatureMethod::parse("MD5").is_err());
    }
}
