//! Resuming a video of many GiB: 8 GiB sparse files at 512 KiB parts (16,384 parts), most of
//! them already on the server, resume and finish through the one-call and the step-by-step API,
//! and the served copy's SHA-1 matches. The resume answer lists every stored part, about 1.3 MB.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use vodupload::{CancelToken, ErrorKind, Phase, Progress, UploadOptions};

mod common;
use common::*;

const SIZE: u64 = 8 << 30;
const PART: u64 = 524_288;
const PARTS: usize = (SIZE / PART) as usize;
/// Parts stored before the upload stops.
const STORED_FIRST: usize = 15_000;

/// Each test stores up to 8 GiB in its emulator: one at a time keeps the disk use bounded.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// An 8 GiB sparse file (no disk space) with a few bytes from `seed` scattered in it, so each
/// test's file has its own SHA-1.
fn sparse_video(dir: &Path, seed: u64) -> PathBuf {
    let path = dir.join(format!("large-{seed}.mp4"));
    let mut f = std::fs::File::create(&path).unwrap();
    f.set_len(SIZE).unwrap();
    let mut rng = Rng::new(seed);
    for _ in 0..16 {
        f.seek(SeekFrom::Start(rng.below(SIZE - 8))).unwrap();
        f.write_all(&rng.next().to_le_bytes()).unwrap();
    }
    path
}

#[test]
fn an_8_gib_video_resumes_in_one_call() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let file = sparse_video(dir.path(), 81);
    let emu = emulator();
    let cache = dir.path().join("cache");
    let client = client_for(&emu, |o| {
        o.part_size = PART;
        o.fingerprint_cache = Some(cache.clone());
    });

    let stop_at = STORED_FIRST as u64 * PART;
    let stop = |p: Progress| p.phase == Phase::Hashing || p.done < stop_at;
    let e = upload_with(&client, &file, &stop).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    let stored = emu.stats().parts_stored as usize;
    assert!(
        stored >= STORED_FIRST,
        "{stored} parts stored before the stop"
    );

    let r = upload_with(&client, &file, &vodupload::no_progress).unwrap();
    assert_eq!(r.parts_total, PARTS);
    assert_eq!(
        r.parts_skipped, stored,
        "every stored part is skipped: {r:?}"
    );
    assert_eq!(r.parts_uploaded, PARTS - stored);
    assert_eq!(r.bytes_sent, (PARTS - stored) as u64 * PART);
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
}

#[test]
fn an_8_gib_video_resumes_step_by_step() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let file = sparse_video(dir.path(), 82);
    let emu = emulator();
    // No fingerprint cache: the resume must hash the listed parts to check them.
    let client = client_for(&emu, |o| o.part_size = PART);
    let options = UploadOptions::default();

    let first = client
        .begin(
            &file,
            &options,
            &vodupload::no_progress,
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(first.part_count(), PARTS);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= STORED_FIRST || failed.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Err(e) = first.upload_part(i) {
                        failed.store(true, Ordering::SeqCst);
                        panic!("part {i}: {e}");
                    }
                }
            });
        }
    });
    drop(first);

    let again = client
        .begin(
            &file,
            &options,
            &vodupload::no_progress,
            &CancelToken::new(),
        )
        .unwrap();
    let needed = again.parts_needed();
    assert_eq!(needed, (STORED_FIRST..PARTS).collect::<Vec<_>>());
    assert_eq!(again.bytes_done(), STORED_FIRST as u64 * PART);
    for i in needed {
        again.upload_part(i).unwrap();
    }
    let r = again.finish().unwrap();
    assert_eq!(
        (r.parts_skipped, r.parts_uploaded),
        (STORED_FIRST, PARTS - STORED_FIRST)
    );
    assert_eq!(sha1_url(&r.url, None), sha1_file(&file));
}
