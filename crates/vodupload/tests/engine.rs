//! The core's upload engine against an in-process emulator over real sockets: progress,
//! cancellation and resume, the step API, clock skew, threads.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use vodupload::{
    CancelToken, Client, ClientOptions, Credentials, ErrorKind, Phase, Progress, UploadOptions,
    no_progress,
};
use vodupload_emulator::{Emulator, EmulatorConfig, Faults};

mod common;
use common::*;

#[test]
fn progress_is_monotonic_and_reaches_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "p.mp4", 9 * MIB + 3, 1);
    let emu = emulator();
    let client = client_for(&emu, |o| o.concurrency = vodupload::Concurrency::Fixed(4));
    let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        seen.lock().unwrap().push(p);
        true
    };
    let r = upload_with(&client, &file, &progress).unwrap();
    let seen = seen.into_inner().unwrap();
    let uploading: Vec<u64> = seen
        .iter()
        .filter(|p| p.phase == Phase::Uploading)
        .map(|p| p.done)
        .collect();
    assert!(uploading.windows(2).all(|w| w[0] <= w[1]), "{uploading:?}");
    assert_eq!(*uploading.last().unwrap(), r.file_size);
    assert!(
        uploading.len() >= r.parts_total,
        "at least one report per part"
    );
    let hashing: Vec<u64> = seen
        .iter()
        .filter(|p| p.phase == Phase::Hashing)
        .map(|p| p.done)
        .collect();
    assert_eq!(*hashing.last().unwrap(), r.file_size);
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
    // The emulator also takes milliseconds (as the service does); the protocol says seconds.
    let stats = emu.stats();
    assert!(stats.part_calls >= 10, "{stats:?}");
    assert_eq!(
        stats.millisecond_timestamps, 0,
        "Timestamp must be in seconds"
    );
}

#[test]
fn cancel_from_progress_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "c.mp4", 12 * MIB, 2);
    let emu = emulator();
    let client = client_for(&emu, |o| o.concurrency = vodupload::Concurrency::Fixed(2));
    let calls = AtomicUsize::new(0);
    let stop_after_four =
        |p: Progress| p.phase == Phase::Hashing || calls.fetch_add(1, Ordering::SeqCst) < 4;
    let e = upload_with(&client, &file, &stop_after_four).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(e.to_string().contains("resumes"), "{e}");
    let stored = emu.stats().parts_stored;
    assert!(
        (3..12).contains(&stored),
        "parts stored before the stop: {stored}"
    );

    let r = upload_with(&client, &file, &no_progress).unwrap();
    assert!(r.parts_skipped >= 3, "{r:?}");
    assert_eq!(r.parts_skipped + r.parts_uploaded, 12);
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
}

#[test]
fn step_api_with_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "s.flv", 5 * MIB + 100, 3);
    let emu = emulator();
    let client = client_for(&emu, |_| {});
    let up = begin(&client, &file).unwrap();
    assert_eq!(up.part_count(), 6);
    assert_eq!(up.parts_needed(), (0..6).collect::<Vec<_>>());
    // Out of order, and stop half way.
    for i in [4, 1, 0] {
        up.upload_part(i).unwrap();
        assert!(!up.part_needed(i));
    }
    assert_eq!(up.bytes_done(), 3 * MIB);
    let e = up.finish().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(up.upload_part(99).is_err());
    drop(up);

    let up = begin(&client, &file).unwrap();
    assert_eq!(up.parts_needed(), vec![2, 3, 5]);
    assert_eq!(up.bytes_done(), 3 * MIB);
    for i in up.parts_needed() {
        up.upload_part(i).unwrap();
    }
    let r = up.finish().unwrap();
    assert_eq!((r.parts_skipped, r.parts_uploaded), (3, 3));
    assert_eq!(up.finish().unwrap(), r, "finish is idempotent");
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));

    let again = begin(&client, &file).unwrap();
    assert!(again.is_instant());
    assert!(again.parts_needed().is_empty());
    let r2 = again.finish().unwrap();
    assert!(r2.instant);
    assert_eq!(r2.file_id, r.file_id);
}

#[test]
fn resume_adopts_the_servers_part_size() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "ps.mp4", 3 * MIB + 1, 4);
    let emu = emulator();
    let small = client_for(&emu, |o| o.part_size = 524_288);
    let up = begin(&small, &file).unwrap();
    up.upload_part(0).unwrap();
    up.upload_part(3).unwrap();
    drop(up);
    let big = client_for(&emu, |o| o.part_size = MIB);
    let r = upload_with(&big, &file, &no_progress).unwrap();
    assert_eq!(r.parts_total, 7, "the 512 KiB plan of the first attempt");
    assert_eq!(r.parts_skipped, 2);
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
}

#[test]
fn clock_skew_is_corrected_from_the_date_header() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "skew.mp4", MIB + 1, 5);
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        clock_offset_secs: 3 * 3600,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = client_for(&emu, |o| o.max_attempts = 2);
    let r = upload_with(&client, &file, &no_progress).unwrap();
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
    assert!(
        emu.stats().errors_returned >= 1,
        "the first request was refused"
    );
}

#[test]
fn a_file_that_changes_mid_upload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "grow.mp4", 3 * MIB, 6);
    let emu = emulator();
    let client = client_for(&emu, |_| {});
    let up = begin(&client, &file).unwrap();
    up.upload_part(0).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(b"more")
        .unwrap();
    let e = up.upload_part(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FileChanged, "{e}");
    assert!(up.finish().is_err());
}

#[test]
fn eight_threads_share_one_client() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator();
    let client = client_for(&emu, |o| o.concurrency = vodupload::Concurrency::Fixed(2));
    let files: Vec<PathBuf> = (0..8)
        .map(|i| random_file(dir.path(), &format!("t{i}.mp4"), MIB * (i + 1) + i, 10 + i))
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| {
                let client = &client;
                s.spawn(move || upload_with(client, f, &no_progress).unwrap())
            })
            .collect();
        for (h, f) in handles.into_iter().zip(&files) {
            let r = h.join().unwrap();
            assert_eq!(sha1_url(&r.url, None), sha1_file(f));
        }
    });
}

#[test]
fn retries_run_out_on_persistent_faults() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "f.mp4", 1000, 7);
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        faults: Faults {
            fail_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = client_for(&emu, |o| o.max_attempts = 3);
    let e = upload_with(&client, &file, &no_progress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert!(e.server().unwrap().can_retry);
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    assert_eq!(emu.stats().init_calls, 3);
}

#[test]
fn unreachable_endpoint_is_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "u.mp4", 1000, 8);
    // A port nobody listens on: bind, note, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = ClientOptions::default();
    o.endpoint = format!("http://127.0.0.1:{port}/v2/index.php");
    o.max_attempts = 2;
    o.retry_base_delay = Duration::from_millis(1);
    let client = Client::new(Credentials::new("id", "key").unwrap(), o).unwrap();
    let e = upload_with(&client, &file, &no_progress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
}

#[test]
fn fingerprint_cache_skips_hashing_and_never_goes_stale() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "cached.mp4", 4 * MIB + 9, 21);
    let emu = emulator();
    let cache = dir.path().join("fp-cache");
    let client = client_for(&emu, |o| o.fingerprint_cache = Some(cache.clone()));
    let hashing_reports = |client: &Client| {
        let n = AtomicUsize::new(0);
        let progress = |p: Progress| {
            if p.phase == Phase::Hashing {
                n.fetch_add(1, Ordering::SeqCst);
            }
            true
        };
        let r = upload_with(client, &file, &progress).unwrap();
        (n.into_inner(), r)
    };
    let (first, r1) = hashing_reports(&client);
    assert_eq!(first, 1 + 5, "a start report, then one per part read");
    let (second, r2) = hashing_reports(&client);
    assert_eq!(second, 2, "from the cache: start and end, nothing read");
    assert!(r2.instant);
    assert_eq!(r2.file_id, r1.file_id);

    // Same size, new content: the cache must not answer with the old SHA-1.
    std::thread::sleep(Duration::from_millis(20));
    random_file(dir.path(), "cached.mp4", 4 * MIB + 9, 22);
    let (third, r3) = hashing_reports(&client);
    assert_eq!(third, 6, "rehashed");
    assert!(!r3.instant);
    assert_eq!(sha1_url(&r3.url, None), sha1_file(&file));
}

#[test]
fn finish_recovers_parts_the_server_lost() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "lost.mp4", 4 * MIB + 10, 31);
    let state = dir.path().join("state");
    let config = |listen| EmulatorConfig {
        rate_limit: false,
        state_dir: Some(state.clone()),
        credentials: vec![("AKIDlost".into(), "lost-key".into())],
        listen,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config("127.0.0.1:0".parse().unwrap())).unwrap();
    let addr = emu.addr();
    let client = client_for(&emu, |o| o.max_attempts = 8);
    let up = begin(&client, &file).unwrap();
    up.upload_parts(None, &no_progress).unwrap();
    emu.shutdown();

    // The server loses one stored part (its file is gone when it starts again).
    let parts: Vec<PathBuf> = walk(&state)
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("parts")))
        .collect();
    assert_eq!(parts.len(), 5, "{parts:?}");
    std::fs::remove_file(&parts[2]).unwrap();
    let emu = Emulator::start(config(addr)).unwrap();

    let r = up.finish().unwrap();
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
    assert_eq!(
        emu.stats().part_calls,
        1,
        "only the lost part was sent again"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_cancelled_upload_stays_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "cx.mp4", 2 * MIB + 1, 41);
    let emu = emulator();
    let client = client_for(&emu, |_| {});
    let up = begin(&client, &file).unwrap();
    up.upload_part(0).unwrap();
    up.cancel_token().cancel();
    assert_eq!(up.upload_part(1).unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(up.finish().unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(emu.stats().finish_calls, 0);
}

#[test]
fn dots_inside_a_name_are_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "my..clip.v2.mp4", 1000, 51);
    let emu = emulator();
    let r = client_for(&emu, |_| {})
        .upload(
            &file,
            &UploadOptions::default(),
            &no_progress,
            &CancelToken::new(),
        )
        .unwrap();
    assert!(r.url.ends_with(".mp4"), "{}", r.url);
}

#[test]
fn a_resume_with_the_cache_reads_nothing_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "rc.mp4", 12 * MIB + 3, 61);
    let emu = emulator();
    let cache = dir.path().join("fp");
    let client = client_for(&emu, |o| {
        o.fingerprint_cache = Some(cache.clone());
        o.concurrency = vodupload::Concurrency::Fixed(2);
    });
    let calls = AtomicUsize::new(0);
    let stop_after_five =
        |p: Progress| p.phase == Phase::Hashing || calls.fetch_add(1, Ordering::SeqCst) < 5;
    let e = upload_with(&client, &file, &stop_after_five).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);

    // The cancelled run saved the MD5s its senders computed: the resume checks the server's list
    // against them without reading a byte, and starts from what the server holds.
    let first_upload_report = Mutex::new(None);
    let hashing = AtomicUsize::new(0);
    let progress = |p: Progress| {
        match p.phase {
            Phase::Hashing => {
                hashing.fetch_add(1, Ordering::SeqCst);
            }
            Phase::Uploading => {
                first_upload_report.lock().unwrap().get_or_insert(p.done);
            }
        }
        true
    };
    let r = upload_with(&client, &file, &progress).unwrap();
    assert_eq!(
        hashing.into_inner(),
        2,
        "no hashing pass: the SHA-1 came from the cache"
    );
    let start = first_upload_report.into_inner().unwrap().unwrap();
    // Parts go out in any order (the short last one may be among the stored), and nothing was
    // retried: what the server held at the start is what this run did not send.
    assert_eq!(r.retries, 0);
    assert_eq!(
        start,
        r.file_size - r.bytes_sent,
        "the first report already counts the server's parts"
    );
    assert!(r.parts_skipped >= 4, "{r:?}");
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
}

/// With the "auto" concurrency (the default) over a link with latency, the client grows the
/// number of parts in flight from one, reports it in progress, and records its peak; a fixed
/// number is never exceeded.
#[test]
fn auto_concurrency_grows_over_a_slow_link() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "auto.mp4", 40 * MIB, 71);
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        faults: Faults {
            latency_ms: 40,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = client_for(&emu, |o| o.concurrency = vodupload::Concurrency::Auto);
    let seen: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        if p.phase == Phase::Uploading {
            seen.lock().unwrap().push(p.concurrency);
        }
        true
    };
    let r = upload_with(&client, &file, &progress).unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen.first(),
        Some(&1),
        "auto starts with one part: {seen:?}"
    );
    assert!(
        r.concurrency_peak >= 4 && seen.iter().any(|&c| c >= 4),
        "40 ms per answer: more than one part in flight pays; peak {}, reports {seen:?}",
        r.concurrency_peak
    );
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));

    let fixed = client_for(&emu, |o| o.concurrency = vodupload::Concurrency::Fixed(3));
    let other = random_file(dir.path(), "fixed.mp4", 12 * MIB, 72);
    let r = upload_with(&fixed, &other, &no_progress).unwrap();
    assert!((1..=3).contains(&r.concurrency_peak), "{r:?}");
}

/// A FinishUpload whose caller went away (killed, Ctrl-C) while the service was still finishing,
/// then the same upload run again: the rerun's InitUpload and FinishUpload wait for that finish
/// instead of racing it, so the rerun ends with the file and no error is ever answered (it once
/// answered -10004, "write cache failed: No such file or directory", before succeeding).
#[test]
fn a_rerun_during_an_abandoned_finish_waits_for_it() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "abandoned.mp4", 6 * MIB, 81);
    let slow_once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = slow_once.clone();
    let emu = Emulator::start(EmulatorConfig {
        rate_limit: false,
        step_hook: vodupload_emulator::StepHook::new(move |step| {
            if step == "finish:verified" && flag.swap(false, Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(800));
            }
        }),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let client = client_for(&emu, |_| {});
    let up = begin(&client, &file).unwrap();
    for i in up.parts_needed() {
        up.upload_part(i).unwrap();
    }
    let sha1 = up.file_sha1().to_owned();
    drop(up);

    // A FinishUpload sent, and its connection closed before the answer.
    let (id, key) = emu.credentials()[0].clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let mut params = vec![
        ("Action".to_owned(), "FinishUpload".to_owned()),
        ("Region".to_owned(), "gz".to_owned()),
        ("Timestamp".to_owned(), now),
        ("Nonce".to_owned(), "4242".to_owned()),
        ("SecretId".to_owned(), id),
        ("fileSha".to_owned(), sha1),
    ];
    let endpoint = emu.endpoint();
    let authority = endpoint
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let signature = vodupload::signature::sign(
        "POST",
        &authority,
        "/v2/index.php",
        &params,
        &key,
        vodupload::SignatureMethod::HmacSha1,
    );
    params.push(("Signature".to_owned(), signature));
    let query = vodupload::signature::encode_query(&params);
    let mut s = std::net::TcpStream::connect(&authority).unwrap();
    write!(
        s,
        "POST /v2/index.php?{query} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    drop(s);

    // The rerun, while that finish is still under way.
    assert!(
        !slow_once.load(Ordering::SeqCst),
        "the abandoned finish is running"
    );
    let r = upload_with(&client, &file, &no_progress).unwrap();
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
    assert_eq!(
        emu.stats().errors_returned,
        0,
        "no error answered to the rerun: {:?}",
        emu.stats()
    );
}
