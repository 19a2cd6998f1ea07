//! A server users can run on shared machines: no client holds a connection without sending,
//! errors are answered before bodies are read, and a full connection table does not lock valid
//! clients out. Over real sockets; waits are bounded by the emulator's limits, never timed.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use vodupload_emulator::{Emulator, EmulatorConfig, Faults, Limits};

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("emulator starts")
}

/// Short limits so the tests do not wait long for them.
fn quick_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    }
}

#[test]
fn an_error_is_answered_before_the_body_is_read_then_the_connection_closes() {
    let emu = start(EmulatorConfig::default());
    let mut c = Client::new(&emu);
    c.key = "not-the-key".into();
    let target = c.target(
        "POST",
        "UploadPart",
        &[
            ("fileSha", &"ab".repeat(20)),
            ("offset", "0"),
            ("dataSize", "524288"),
            ("dataMd5", &"00".repeat(16)),
        ],
    );
    let mut s = connect(emu.addr());
    // 60 MB announced, one byte sent: the answer must not wait for the rest.
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: 60000000\r\n\r\nx",
        emu.addr()
    )
    .unwrap();
    let (status, head, body) = read_answer(&mut s).expect("an answer before the body");
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    let v = body_json(&body);
    assert_eq!(v["code"], -10002, "{v}");
    assert!(
        closed_by_server(&mut s),
        "the connection is closed after the answer"
    );
}

#[test]
fn a_body_trickling_in_is_cut_off() {
    let emu = start(EmulatorConfig {
        limits: quick_limits(),
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    let file = data(PART as usize, 1);
    let sha = sha1_hex(&file);
    assert_eq!(c.init(&sha, PART, PART)["code"], 0);
    let target = c.target(
        "POST",
        "UploadPart",
        &[
            ("fileSha", &sha),
            ("offset", "0"),
            ("dataSize", &PART.to_string()),
            ("dataMd5", &md5_hex(&file)),
        ],
    );
    let mut s = connect(emu.addr());
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {PART}\r\n\r\n",
        emu.addr()
    )
    .unwrap();
    // A byte every 200 ms until the emulator answers (it must, within its limits).
    let stop = std::sync::atomic::AtomicBool::new(false);
    let answer = std::thread::scope(|scope| {
        let mut w = s.try_clone().unwrap();
        let stop = &stop;
        scope.spawn(move || {
            for i in 0..PART as usize {
                if stop.load(std::sync::atomic::Ordering::Relaxed)
                    || w.write_all(&file[i..i + 1]).is_err()
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let a = read_answer(&mut s);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        a
    });
    let (status, head, body) = answer.expect("a slow body is answered");
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    let v = body_json(&body);
    assert_eq!(v["code"], -10006, "{v}");
    assert_eq!(v["canRetry"], 1, "{v}");
    assert!(v["message"].as_str().unwrap().contains("too slowly"), "{v}");
    assert!(closed_by_server(&mut s));
    assert_eq!(emu.stats().requests_timed_out, 1);
    assert_eq!(emu.stats().parts_stored, 0);
}

#[test]
fn silent_and_half_sent_heads_are_closed() {
    let emu = start(EmulatorConfig {
        limits: quick_limits(),
        ..EmulatorConfig::default()
    });
    let mut silent = connect(emu.addr());
    let mut half = connect(emu.addr());
    half.write_all(b"POST /v2/index.php?Action=Init").unwrap();
    assert!(
        closed_by_server(&mut silent),
        "a connection that sends nothing"
    );
    assert!(closed_by_server(&mut half), "a head that never ends");
    // Still serving.
    assert_eq!(
        Client::new(&emu).init(&"cd".repeat(20), 10, PART)["code"],
        0
    );
}

#[test]
fn a_full_table_makes_room_by_closing_the_longest_waiting_connection() {
    let emu = start(EmulatorConfig {
        limits: Limits {
            max_connections: 4,
            // Longer than the test: only an eviction closes these connections.
            header_timeout: Duration::from_secs(60),
            ..Limits::default()
        },
        ..EmulatorConfig::default()
    });
    // Four connections, each holding a head it never finishes; the first clearly the oldest.
    let mut slow = Vec::new();
    for n in 1..=4 {
        let mut s = connect(emu.addr());
        s.write_all(b"POST /v2/index.php?").unwrap();
        slow.push(s);
        wait_until("the connection", || emu.stats().connections_accepted == n);
        std::thread::sleep(Duration::from_millis(if n == 1 { 200 } else { 0 }));
    }
    // Old enough to be told from a connection in a normal exchange.
    std::thread::sleep(Duration::from_millis(1200));
    let c = Client::new(&emu);
    let file = data(3000, 2);
    let fin = c.upload(&file, PART);
    assert_eq!(fin["code"], 0, "{fin}");
    assert!(emu.stats().connections_evicted >= 1);
    assert!(
        closed_by_server(&mut slow[0]),
        "the oldest waiter was closed"
    );
}

#[test]
fn when_no_connection_can_be_closed_a_new_one_gets_a_json_503() {
    let emu = start(EmulatorConfig {
        limits: Limits {
            max_connections: 2,
            ..Limits::default()
        },
        faults: Faults {
            slow_rate: 1.0,
            slow_ms: 3000,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    });
    let c = Client::new(&emu);
    // Two requests the server is busy with (not waiting on their clients).
    let busy: Vec<_> = (0..2)
        .map(|i| {
            let mut s = connect(emu.addr());
            let t = c.target(
                "POST",
                "FinishUpload",
                &[("fileSha", &format!("{i}").repeat(40))],
            );
            write!(
                s,
                "POST {t} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
                emu.addr()
            )
            .unwrap();
            s
        })
        .collect();
    wait_until("two requests in progress", || emu.stats().finish_calls == 2);
    let mut third = connect(emu.addr());
    let (status, head, body) = read_answer(&mut third).expect("an answer at once");
    assert_eq!(status, 503);
    assert!(head.contains("retry-after"), "{head}");
    let v = body_json(&body);
    assert_eq!(v["code"], 4400, "{v}");
    assert_eq!(v["canRetry"], 1, "{v}");
    assert_eq!(emu.stats().connections_refused, 1);
    drop(busy);
}

/// A low open-file limit and many stalled connections announcing big bodies that never come must
/// not lock a valid client out.
#[test]
fn many_slow_connections_under_a_low_file_limit_do_not_lock_a_client_out() {
    let state = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_vodupload-emulator");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 128 && exec "$0" --listen 127.0.0.1:0 --credential AKIDfd:fd-key --state "$1""#)
        .arg(bin)
        .arg(state.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .parse()
        .unwrap();

    let c = Client::for_addr(addr, "AKIDfd", "fd-key");
    let sha = "ef".repeat(20);
    let target = c.target(
        "POST",
        "UploadPart",
        &[
            ("fileSha", &sha),
            ("offset", "0"),
            ("dataSize", "524288"),
            ("dataMd5", &"00".repeat(16)),
        ],
    );
    let slow: Vec<_> = (0..140)
        .filter_map(|_| {
            let mut s = std::net::TcpStream::connect(addr).ok()?;
            let _ = write!(
                s,
                "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 60000000\r\n\r\n"
            );
            Some(s)
        })
        .collect();
    assert!(!slow.is_empty());
    std::thread::sleep(Duration::from_millis(1200));
    let file = data((PART + 10) as usize, 3);
    let fin = c.upload(&file, PART);
    assert_eq!(fin["code"], 0, "{fin}");

    child.kill().unwrap();
    child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("the open-file limit is 128"), "{err}");
    drop(slow);
}

#[test]
fn an_https_client_on_the_plain_port_is_closed_at_once_not_held() {
    let emu = start(EmulatorConfig {
        limits: Limits {
            // Longer than the test: only the handshake check closes this connection.
            header_timeout: Duration::from_secs(120),
            ..Limits::default()
        },
        ..EmulatorConfig::default()
    });
    let mut s = connect(emu.addr());
    // The start of a TLS ClientHello: a handshake record, version 3.x.
    s.write_all(&[
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ])
    .unwrap();
    assert!(
        closed_by_server(&mut s),
        "closed without waiting for a head"
    );
    let stats = emu.stats();
    assert_eq!((stats.requests, stats.errors_returned), (1, 1), "{stats:?}");
    assert_eq!(stats.requests_timed_out, 0);
    // A plain request on a new connection is served as ever.
    let c = Client::new(&emu);
    assert_eq!(c.upload(&data(3000, 3), PART)["code"], 0);
}
