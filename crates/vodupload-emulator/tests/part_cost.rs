//! UploadPart costs the same whatever the number of parts already stored: measured as the bytes
//! allocated per request (this whole process: the emulator runs in it), which does not depend
//! on the machine's speed the way a time would.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use vodupload_emulator::{Emulator, EmulatorConfig};

struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sends parts `from..to` (one byte each) on one connection, pipelined in batches, and checks
/// every answer.
fn send_parts(c: &Client, sha: &str, from: u64, to: u64) {
    let mut s = connect(c.addr);
    let mut i = from;
    while i < to {
        let end = (i + 200).min(to);
        let mut batch = Vec::new();
        for offset in i..end {
            let byte = [(offset % 251) as u8];
            let t = c.target(
                "POST",
                "UploadPart",
                &[
                    ("fileSha", sha),
                    ("offset", &offset.to_string()),
                    ("dataSize", "1"),
                    ("dataMd5", &md5_hex(&byte)),
                ],
            );
            write!(
                batch,
                "POST {t} HTTP/1.1\r\nHost: {}\r\nContent-Length: 1\r\n\r\n",
                c.addr
            )
            .unwrap();
            batch.push(byte[0]);
        }
        s.write_all(&batch).unwrap();
        for offset in i..end {
            let (_, _, body) = read_answer(&mut s).unwrap();
            let v = body_json(&body);
            assert_eq!(v["code"], 0, "part {offset}: {v}");
        }
        i = end;
    }
}

#[test]
fn upload_part_costs_the_same_after_many_parts() {
    const PARTS: u64 = 10_000;
    const MEASURED: u64 = 300;
    let emu = Emulator::start(EmulatorConfig {
        any_part_size: true,
        rate_limit: false,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let c = Client::new(&emu);
    let sha = "ab".repeat(20);
    assert_eq!(
        c.call(
            "POST",
            "InitUpload",
            &[
                ("fileName", "many"),
                ("fileSha", &sha),
                ("fileSize", &PARTS.to_string()),
                ("dataSize", "1"),
                ("fileType", "mp4")
            ],
            b"",
        )
        .code(),
        0
    );
    let measure = |from: u64| {
        let before = ALLOCATED.load(Ordering::Relaxed);
        send_parts(&c, &sha, from, from + MEASURED);
        (ALLOCATED.load(Ordering::Relaxed) - before) / MEASURED
    };
    send_parts(&c, &sha, 0, 100);
    let early = measure(100);
    send_parts(&c, &sha, 100 + MEASURED, PARTS - MEASURED);
    let late = measure(PARTS - MEASURED);
    eprintln!(
        "bytes allocated per UploadPart: {early} with ~100 parts stored, {late} with ~{} stored",
        PARTS - MEASURED
    );
    // A copy of the part table per request would add ~700 KB here; a resize of a growing
    // table now and then stays far below the margin.
    assert!(
        late < early + 16 * 1024,
        "UploadPart allocates {late} bytes with {} parts stored, {early} with 100",
        PARTS - MEASURED
    );
    assert_eq!(emu.stats().parts_stored, PARTS);
}
