//! `vodupload bench` runs end to end on tiny sizes and prints every table with every column, in
//! every mode (quiet, under load, the long resume). No timing is compared with a target: a debug
//! build on a shared machine says nothing about speed. What is checked is that each figure is
//! there, and that figures which contain one another are consistent.

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

/// The header line of the table whose first columns are `first`.
fn header<'o>(out: &'o str, first: &[&str]) -> &'o str {
    out.lines()
        .find(|l| cells(l).starts_with(first))
        .unwrap_or_else(|| panic!("no table starting with {first:?}:\n{out}"))
}

/// The rows of the table whose first columns are `first`.
fn table<'o>(out: &'o str, first: &[&str]) -> Vec<&'o str> {
    out.lines()
        .skip_while(|l| !cells(l).starts_with(first))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// The cells of a table row: columns are two or more spaces apart.
fn cells(row: &str) -> Vec<&str> {
    row.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// "1234 ms" or "12.3 s", in milliseconds.
fn ms(cell: &str) -> f64 {
    if let Some(v) = cell.strip_suffix(" ms") {
        v.parse().unwrap_or_else(|_| panic!("not a time: {cell:?}"))
    } else if let Some(v) = cell.strip_suffix(" s") {
        v.parse::<f64>()
            .unwrap_or_else(|_| panic!("not a time: {cell:?}"))
            * 1000.0
    } else {
        panic!("not a time: {cell:?}")
    }
}

/// The first columns of the size table without --load.
const SIZES: &[&str] = &["file", "runs", "SHA-1 alone"];

fn number(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
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
        "--bandwidth",
        "8",
        "--bandwidth-latency-ms",
        "5",
        "--sweep",
        "auto,1,2",
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
            "targets (",
            "time to InitUpload <= 1.15 x SHA-1 alone",
            "client CPU/GiB <= 1.3 x (SHA-1 + MD5, one stream each)",
            "s/GiB beyond the core's own hashing",
            "peak RSS <= ",
            "cached re-upload/resume starts in < 50 ms",
            "throughput near-linear in concurrency 1 -> 2",
            "auto >= 85% of the best fixed concurrency's throughput, at every latency",
            "5 ms: ",
            "behind a thin link, auto's highest plateau <= 2 x the smallest fixed concurrency",
            "8.0 MB/s: ",
            "no 4400 from the emulator in the sweeps",
            "a link of 8.0 MB/s shared by every connection, 5 ms added to every answer",
            "slowest upload under load <= 4 x the quiet median:   not measured (--load 2)",
            "resume of a long part list: fingerprint ready to first part answered < 1000 ms",
            "not measured (--resume-parts 16384)",
            "breakdown",
            "4 MiB quiet run 1: ",
            "3 MiB quiet run 1: ",
        ],
    );
    assert!(!out.contains("issue #"), "{out}");
    assert!(!out.contains("under load run"), "{out}");
    let h = header(&out, SIZES);
    for col in [
        "SHA-1 alone",
        "to InitUpload",
        "ratio",
        "upload wall",
        "sending",
        "CPU s/GiB",
        "beyond hashing",
        "peak RSS",
    ] {
        assert!(h.contains(col), "no column {col:?} in {h:?}");
    }
    assert!(
        !cells(h).contains(&"load"),
        "no load column without --load: {h:?}"
    );
    // One row per size (one run each), the larger one sparse.
    let rows = table(&out, SIZES);
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].starts_with("4 MiB sparse  1 run"), "{out}");
    assert!(rows[1].starts_with("3 MiB  "), "{out}");
    for r in &rows {
        let c = cells(r);
        assert_eq!(c.len(), cells(h).len(), "{r}");
        // Start to InitUpload answered takes in hashing the file, and is within the whole run.
        let (to_init, wall) = (ms(c[3]), ms(c[5]));
        assert!(to_init <= wall, "{r}");
        assert!(wall > 0.0, "{r}");
        assert!(number(c[7]) > 0.0, "CPU per GiB: {r}");
        assert!(
            c[10].ends_with(" MiB") && c[10] != "0.0 MiB",
            "peak RSS: {r}"
        );
    }

    // The cache runs: measured for both sizes, from the cache and instant.
    let cache = [
        "file",
        "runs",
        "cached re-upload",
        "from cache",
        "cached resume",
    ];
    header(&out, &cache);
    let rows = table(&out, &cache);
    assert_eq!(rows.len(), 2, "{out}");
    assert!(!out.contains("not instant"), "{out}");
    for r in &rows {
        let c = cells(r);
        assert_eq!(c[1], "1 run", "{out}");
        assert!(ms(c[2]) > 0.0, "{out}");
        assert_eq!(c[3], "1 of 1", "fingerprint from the cache: {out}");
        // The kill halfway may land after the last part: then no resume, but never a rehash.
        assert!(c[5] == "1 of 1" || c[5] == "-", "{out}");
    }

    let h = header(&out, &["concurrency", "sending"]);
    for col in [
        "sending",
        "slowest",
        "throughput",
        "speed-up",
        "ideal",
        "efficiency",
        "plateau",
        "to plateau",
        "4400s",
        "wall",
    ] {
        assert!(h.contains(col), "no column {col:?} in {h:?}");
    }
    // Two sweeps (5 ms; the thin link), each auto then 1 and 2; one table each.
    let sweep: Vec<&str> = out
        .split("\n\n")
        .flat_map(|block| table(block, &["concurrency", "sending"]))
        .collect();
    assert_eq!(sweep.len(), 6, "{out}");
    for (i, r) in sweep.iter().enumerate() {
        assert!(r.contains(" MB/s"), "{r}");
        let c = cells(r);
        assert_eq!(c.len(), cells(h).len(), "{r}");
        // Best and slowest of one run are the same run.
        assert_eq!(c[1], c[2], "{r}");
        // The client paces under the service's rates: the emulator refused nothing.
        assert_eq!(c[9], "0", "{r}");
        if i % 3 == 0 {
            assert_eq!(c[0], "auto", "{r}");
            // Where auto settled: a number of parts in flight, 1 to 64.
            let plateau: u32 = c[7].parse().unwrap_or_else(|_| panic!("plateau: {r}"));
            assert!((1..=64).contains(&plateau), "{r}");
        } else {
            assert_eq!(c[7], "-", "{r}");
        }
    }
    // Behind 8 MB/s nothing goes faster than the link (2 MiB: at least 262 ms).
    for r in &sweep[3..] {
        let mbs = number(cells(r)[3].trim_end_matches(" MB/s"));
        assert!(mbs <= 8.0 * 1.01, "{r}");
    }
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

/// Quiet then under load, two runs each: best, median and worst rows, the load table, the load
/// targets; and the resume of a long part list.
#[test]
fn load_mode_and_long_resume() {
    let out = bench(&[
        "--size",
        "3MiB",
        "--runs",
        "2",
        "--load",
        "1",
        "--concurrency",
        "2",
        "--resume-parts",
        "64",
    ]);
    assert_has(
        &out,
        &[
            "load: each size also runs with 1 threads spinning at normal priority",
            "hash speeds under load (1 busy threads)",
            "floor under load (1 busy threads): SHA-1 + MD5 one stream each",
            "slowest upload under load (1 busy threads) <= 4 x the quiet median wall",
            "client CPU/GiB under load <= 0.9 x (SHA-1 + MD5, one stream each, under the same load)",
            "3 MiB quiet run 2: ",
            "3 MiB under load run 2: ",
            "resume of 64 parts, the first upload: ",
            " killed at ",
            "resume of 64 parts, run 1: ",
            "cached re-upload after quiet run 2: ",
        ],
    );

    let h = header(&out, &["file", "load"]);
    assert!(h.contains("runs"), "{h}");
    let rows = table(&out, &["file", "load"]);
    let labels: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            let c = cells(r);
            (c[1], c[2])
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("quiet", "best of 2"),
            ("quiet", "median"),
            ("quiet", "worst"),
            ("1 busy", "best of 2"),
            ("1 busy", "median"),
            ("1 busy", "worst"),
        ],
        "{out}"
    );
    for group in rows.chunks(3) {
        // Each column's best is no worse than its median, nor its median than its worst.
        for col in [4, 6] {
            let v: Vec<f64> = group.iter().map(|r| ms(cells(r)[col])).collect();
            assert!(v[0] <= v[1] && v[1] <= v[2], "column {col}: {v:?}\n{out}");
        }
        let cpu: Vec<f64> = group.iter().map(|r| number(cells(r)[8])).collect();
        assert!(
            cpu[0] > 0.0 && cpu[0] <= cpu[1] && cpu[1] <= cpu[2],
            "{out}"
        );
    }

    let h = header(&out, &["file", "quiet median wall"]);
    for col in [
        "loaded best",
        "loaded median",
        "loaded slowest",
        "slowest/quiet median",
        "loaded CPU s/GiB best",
        "worst/loaded floor",
    ] {
        assert!(h.contains(col), "no column {col:?} in {h:?}");
    }
    let rows = table(&out, &["file", "quiet median wall"]);
    assert_eq!(rows.len(), 1, "{out}");
    let c = cells(rows[0]);
    assert_eq!(c.len(), 10, "{}", rows[0]);
    let (quiet, best, median, slowest) = (ms(c[1]), ms(c[2]), ms(c[3]), ms(c[4]));
    assert!(quiet > 0.0 && best <= median && median <= slowest, "{out}");
    assert!(number(c[5]) > 0.0 && number(c[9]) > 0.0, "{out}");
    assert_has(&out, &[&format!("3 MiB: {} ", c[5])]);

    let h = header(&out, &["runs", "start to fingerprint"]);
    for col in [
        "fingerprint to InitUpload",
        "InitUpload to first part",
        "fingerprint to first part",
        "parts held",
        "from cache",
    ] {
        assert!(h.contains(col), "no column {col:?} in {h:?}");
    }
    assert_has(
        &out,
        &["resume with a long part list: 64 parts of 512 KiB (32 MiB sparse)"],
    );
    let rows = table(&out, &["runs", "start to fingerprint"]);
    assert_eq!(rows.len(), 3, "{out}");
    let c = cells(rows[0]);
    assert_eq!(c[0], "best of 2");
    // From the fingerprint to the first part takes in InitUpload and, after it, the first part.
    let (init, to_part, restart) = (ms(c[2]), ms(c[3]), ms(c[4]));
    assert!(
        restart >= init && restart >= to_part && restart > 0.0,
        "{out}"
    );
    // Killed once most parts were answered, then resumed from the cache both times.
    let held: Vec<f64> = c[5].split(" to ").map(number).collect();
    assert!(held.iter().all(|&h| (32.0..64.0).contains(&h)), "{out}");
    assert_eq!(c[6], "2 of 2", "{out}");
    assert!(
        out.contains("resume of a long part list: fingerprint ready to first part answered < 1000 ms (reading and matching the list in linear time):   64 parts: "),
        "{out}"
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["bench", "--size", "12 parsecs"][..],
        &["bench", "--part-size", "1000"],
        &["bench", "--resume-parts", "3"],
        &["bench", "--runs", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
        .args(["bench", "--size", "12 parsecs"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown unit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The timings channel of `upload` takes only a descriptor it can own: not stdout (the JSON
/// result goes there), not one that is closed. Refused before any upload.
#[test]
fn upload_timings_fd_must_be_an_open_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.mp4");
    std::fs::write(&file, b"0123456789").unwrap();
    for fd in ["1", "987"] {
        let out = Command::new(env!("CARGO_BIN_EXE_vodupload"))
            .args(["upload", "--emulator", "--no-cache", "--timings-fd", fd])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--timings-fd {fd}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--timings-fd"),
            "{out:?}"
        );
    }
}
