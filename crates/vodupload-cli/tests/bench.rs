//! `vodupload bench` runs end to end on tiny sizes and prints every table with every column.
//! No timing is asserted: a debug build on a shared machine says nothing about speed.

use std::process::Command;

fn bench(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
        .arg("bench")
        .args(args)
        .arg("--dir")
        .arg(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("run vodupload bench");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "vodupload bench failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // Its working directory inside --dir is gone.
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "{stdout}"
    );
    stdout
}

fn assert_has(out: &str, needles: &[&str]) {
    for n in needles {
        assert!(out.contains(n), "no {n:?} in the output:\n{out}");
    }
}

/// The header line of the table that starts with `first`, split into columns.
fn header(out: &str, first: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(first))
        .unwrap_or_else(|| panic!("no table starting with {first:?}:\n{out}"))
        .to_owned()
}

#[test]
fn size_table_and_latency_sweep() {
    let out = bench(&[
        "--size",
        "4MiB,3MiB",
        "--sparse-above",
        "3MiB",
        "--latency-ms",
        "5",
        "--sweep",
        "1,2",
        "--sweep-size",
        "2MiB",
    ]);
    assert_has(
        &out,
        &[
            "machine: ",
            "hash speeds (1 thread",
            "sha1 and md-5 crates:  SHA-1 ",
            " GB/s",
            "md5-lanes (the core's MD5: 8 parts side by side",
            "floor: SHA-1 + MD5 one stream each",
            "targets (issue #6):",
            "time to InitUpload <= 1.15 x SHA-1 alone",
            "client CPU/GiB <= 1.3 x (SHA-1 + MD5, one stream each)",
            "s/GiB beyond the core's own hashing",
            "peak RSS <= ",
            "cached re-upload/resume starts in < 50 ms",
            "throughput near-linear in concurrency 1 -> 2",
            "breakdown",
        ],
    );
    let h = header(&out, "file ");
    for col in [
        "SHA-1 alone",
        "to InitUpload",
        "ratio",
        "upload wall",
        "sending",
        "CPU s/GiB",
        "beyond hashing",
        "peak RSS",
        "RSS bound",
        "cached re-upload",
        "cached resume",
    ] {
        assert!(h.contains(col), "no column {col:?} in {h:?}");
    }
    // One row per size, the larger one sparse.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("4 MiB ") || l.starts_with("3 MiB "))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].starts_with("4 MiB sparse"), "{out}");
    assert!(
        rows.iter().all(|r| r.contains(" MiB") && r.contains(" ms")),
        "{out}"
    );
    // The cached re-upload is measured and instant.
    assert!(!out.contains("not instant"), "{out}");
    assert!(!out.contains("NOT from the cache"), "{out}");

    let h = header(&out, "concurrency ");
    for col in [
        "sending",
        "throughput",
        "speed-up",
        "ideal",
        "efficiency",
        "wall",
    ] {
        assert!(h.contains(col), "no column {col:?} in {h:?}");
    }
    let sweep_rows = out
        .lines()
        .filter(|l| l.starts_with("1 ") || l.starts_with("2 "))
        .filter(|l| l.contains(" MB/s"))
        .count();
    assert_eq!(sweep_rows, 2, "{out}");
}

#[test]
fn https_without_sweep() {
    let out = bench(&["--size", "2MiB", "--https", "--concurrency", "2"]);
    assert_has(
        &out,
        &[
            "over HTTPS",
            "concurrency 2",
            "2 MiB ",
            "[HTTPS]",
            "not measured (--latency-ms 50)",
        ],
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
        .args(["bench", "--size", "12 parsecs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown unit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
        .args(["bench", "--part-size", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
