//! Prints the MD5 throughput of one stream (md-5) and of full lanes, over the same bytes in
//! memory: `cargo run --release -p md5-lanes --example throughput [KiB per message]`.

use std::time::Instant;

fn main() {
    let kib: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("KiB per message, a number"))
        .unwrap_or(1024);
    let len = kib << 10;
    let n = md5_lanes::MAX_LANES;
    let msgs: Vec<Vec<u8>> = (0..n)
        .map(|i| (0..len).map(|j| (j * 31 + i * 7 + j / 977) as u8).collect())
        .collect();
    let total = (n * len) as f64;
    for round in 0..3 {
        let t = Instant::now();
        let one: Vec<_> = msgs.iter().map(|m| md5_lanes::md5(m)).collect();
        let single = t.elapsed();
        let t = Instant::now();
        let rows: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let lanes = md5_lanes::Lanes::new(n).finish(&rows);
        let many = t.elapsed();
        assert_eq!(one, lanes);
        println!(
            "round {round}: one stream {:.2} GB/s; {n} lanes ({}) {:.2} GB/s",
            total / single.as_secs_f64() / 1e9,
            if md5_lanes::simd_available() {
                "AVX2"
            } else {
                "portable"
            },
            total / many.as_secs_f64() / 1e9
        );
    }
}
