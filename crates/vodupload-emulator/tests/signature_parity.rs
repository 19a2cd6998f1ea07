//! The emulator checks signatures with its own canonicaliser. Here it is held against the
//! protocol's words, against the client's canonicaliser on random parameter sets (unicode,
//! reserved characters, empty values, `_` and `.` in names), against the provider's documented
//! example, and end to end: what the client signs, the emulator accepts.

mod common;

use common::*;
use vodupload::signature as client;
use vodupload_emulator::server_signature as server;
use vodupload_emulator::{Emulator, EmulatorConfig};

/// xorshift64: reproducible sets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const NAME_PIECES: &[&str] = &[
    "a", "b", "Z", "tag", "1", "0", "_", ".", "-", "x", "名", "é",
];
const VALUE_PIECES: &[&str] = &[
    "", "a", "0", " ", "+", "&", "=", "?", "/", "%", "%20", "#", "~", "中文", "café", "🎬", "\"",
    "'", "<", ">", "\\", ",", ";", "@", ".", "_",
];

/// 1 to 12 parameters with distinct names.
fn random_set(rng: &mut Rng) -> Vec<(String, String)> {
    let n = 1 + rng.next() % 12;
    let mut set: Vec<(String, String)> = Vec::new();
    while (set.len() as u64) < n {
        let name: String = (0..1 + rng.next() % 5)
            .map(|_| rng.pick(NAME_PIECES))
            .collect();
        let value: String = (0..rng.next() % 4)
            .map(|_| rng.pick(VALUE_PIECES))
            .collect();
        if name != "Signature" && !set.iter().any(|(k, _)| *k == name) {
            set.push((name, value));
        }
    }
    set
}

/// The protocol's steps, word for word: every parameter but Signature, sorted by name (bytes),
/// then `_` becomes `.` in names, joined `k=v` with `&`, values raw, after METHOD + host + path + `?`.
fn as_the_protocol_says(method: &str, host: &str, path: &str, p: &[(String, String)]) -> String {
    let mut v: Vec<&(String, String)> = p.iter().filter(|(k, _)| k != "Signature").collect();
    v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let joined: Vec<String> = v
        .iter()
        .map(|(k, val)| format!("{}={val}", k.replace('_', ".")))
        .collect();
    format!("{}{host}{path}?{}", method.to_uppercase(), joined.join("&"))
}

/// Whether swapping `_` for `.` in names leaves them distinct and in the same order (then the
/// place where a canonicaliser swaps them cannot matter).
fn order_survives_the_swap(p: &[(String, String)]) -> bool {
    let mut by_sent: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
    by_sent.sort();
    let swapped: Vec<String> = by_sent.iter().map(|k| k.replace('_', ".")).collect();
    swapped.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn the_server_follows_the_protocol_text_on_random_sets() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        let p = random_set(&mut rng);
        assert_eq!(
            server::string_to_sign("post", "vod2.qcloud.com", "/v2/index.php", &p),
            as_the_protocol_says("post", "vod2.qcloud.com", "/v2/index.php", &p),
            "{p:?}"
        );
    }
}

#[test]
fn client_and_server_agree_on_random_sets() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut compared = 0;
    for _ in 0..5000 {
        let mut p = random_set(&mut rng);
        if !order_survives_the_swap(&p) {
            continue;
        }
        p.push(("Signature".into(), "not signed".into()));
        for (method, host, path) in [
            ("POST", "vod2.qcloud.com", "/v2/index.php"),
            ("get", "127.0.0.1:8080", "/v3/index.php"),
        ] {
            assert_eq!(
                client::string_to_sign(method, host, path, &p),
                server::string_to_sign(method, host, path, &p),
                "{p:?}"
            );
        }
        compared += 1;
    }
    assert!(compared > 1000, "only {compared} sets compared");
}

/// The protocol sorts names as sent, then swaps `_` for `.` (as the provider's PHP SDK, which
/// worked against the service, does): the order differs from swapping first when a name with `_`
/// sorts against one with a character between `.` and `_` at the same place (`tag_1` and
/// `tagA`), and for names that become one (`a_b` and `a.b`).
#[test]
fn client_and_server_agree_when_underscores_reorder_names() {
    let owned = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    for p in [
        owned(&[("tag_1", "x"), ("tagA", "y")]),
        owned(&[("a.b", "1"), ("a_b", "2")]),
    ] {
        assert_eq!(
            client::string_to_sign("POST", "h", "/p", &p),
            server::string_to_sign("POST", "h", "/p", &p),
            "{p:?}"
        );
    }
}

#[test]
fn the_documented_example() {
    let p: Vec<(String, String)> = [
        ("Action", "DescribeInstances"),
        ("Nonce", "11886"),
        ("Region", "gz"),
        ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
        ("Timestamp", "1465185768"),
        ("instanceIds.0", "ins-09dx96dg"),
        ("limit", "20"),
        ("offset", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let want = "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0";
    assert_eq!(
        server::string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", &p),
        want
    );
    assert_eq!(
        client::string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", &p),
        want
    );
    assert_eq!(
        client::sign_string(
            want,
            "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA",
            client::SignatureMethod::HmacSha1
        ),
        "NSI3UqqD99b/UJb4tbG/xZpRW64="
    );
}

/// Over the wire: percent-encoded by the client, decoded and canonicalised by the emulator.
#[test]
fn what_the_client_signs_the_emulator_accepts() {
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let mut c = Client::new(&emu);
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut sent = 0;
    while sent < 300 {
        let extra: Vec<(String, String)> = random_set(&mut rng)
            .into_iter()
            .map(|(k, v)| (format!("x{k}"), v))
            .collect();
        if !order_survives_the_swap(&extra) {
            continue;
        }
        if sent % 2 == 1 {
            c.method = client::SignatureMethod::HmacSha256;
        } else {
            c.method = client::SignatureMethod::HmacSha1;
        }
        let mut params: Vec<(&str, &str)> = extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.push(("fileSha", "0000000000000000000000000000000000000000"));
        let r = c.call("POST", "FinishUpload", &params, b"").json();
        // Signed right: the emulator gets as far as the missing session.
        assert_eq!(r["code"], -10003, "{extra:?}: {r}");
        sent += 1;
    }
}
