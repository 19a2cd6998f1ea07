//! Canonicalisation: for any parameters, the string to sign is stable under reordering, ignores
//! `Signature`, and the wire encoding round-trips every value exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vodupload::signature::{SignatureMethod, encode_query, sign, string_to_sign};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut params: Vec<(String, String)> = text
        .split('\u{1}')
        .filter_map(|kv| kv.split_once('\u{2}'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let s1 = string_to_sign("POST", "vod2.qcloud.com", "/v2/index.php", &params);
    let sig1 = sign("POST", "vod2.qcloud.com", "/v2/index.php", &params, "key", SignatureMethod::HmacSha1);
    params.reverse();
    params.push(("Signature".into(), "ignored".into()));
    // Reordering is invisible to the signature unless two keys canonicalise alike (then their
    // relative order is the caller's).
    let mut keys: Vec<String> = params.iter().map(|(k, _)| k.replace('_', ".")).collect();
    keys.sort();
    keys.dedup();
    if keys.len() == params.len() {
        assert_eq!(s1, string_to_sign("POST", "vod2.qcloud.com", "/v2/index.php", &params));
        let sig2 = sign("POST", "vod2.qcloud.com", "/v2/index.php", &params, "key", SignatureMethod::HmacSha1);
        assert_eq!(sig1, sig2);
    }
    // Every encoded byte is unreserved or a %XX escape, and decoding gives the value back.
    let q = encode_query(&params);
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').expect("k=v");
        for part in [k, v] {
            assert!(part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        }
    }
    let decoded: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect();
    assert_eq!(decoded, params);
});

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
