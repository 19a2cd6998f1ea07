//! The state directory is the emulator's own: it refuses someone else's folder, never follows a
//! symbolic link out of its state, and removes only what it wrote.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use vodupload_emulator::{Emulator, EmulatorConfig};

fn config(dir: &Path) -> EmulatorConfig {
    EmulatorConfig {
        state_dir: Some(dir.to_path_buf()),
        credentials: vec![("AKIDstate".into(), "state-key".into())],
        ..EmulatorConfig::default()
    }
}

/// Someone's folder, with names that happen to be the emulator's.
fn someones_folder(dir: &Path) -> Vec<(&'static str, &'static [u8])> {
    let files: Vec<(&str, &[u8])> = vec![
        ("tmp/draft.txt", b"draft"),
        ("files/photos/cat.jpg", b"cat"),
        ("sessions/notes/todo.txt", b"todo"),
        ("events/calendar.json", b"{}"),
    ];
    for (p, body) in &files {
        let p = dir.join(p);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
    files
}

fn assert_intact(dir: &Path, files: &[(&str, &[u8])]) {
    for (p, body) in files {
        assert_eq!(fs::read(dir.join(p)).unwrap(), *body, "{p} was touched");
    }
}

#[test]
fn a_folder_that_is_not_an_emulator_state_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let files = someones_folder(dir.path());
    let e = Emulator::start(config(dir.path())).unwrap_err();
    assert!(e.to_string().contains("not an emulator state"), "{e}");
    assert_intact(dir.path(), &files);
    assert!(!dir.path().join("vodupload-emulator-state.json").exists());

    // The binary, run with --state . inside it, says so and exits 1.
    let out = Command::new(env!("CARGO_BIN_EXE_vodupload-emulator"))
        .args(["--listen", "127.0.0.1:0", "--state", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an emulator state"), "{err}");
    assert_intact(dir.path(), &files);
}

#[test]
fn a_symbolic_link_in_the_state_is_never_followed() {
    let elsewhere = tempfile::tempdir().unwrap();
    fs::write(elsewhere.path().join("precious.json"), b"keep").unwrap();
    fs::write(elsewhere.path().join("00000000000000000007.json"), b"{").unwrap();

    // A state whose events/ leads elsewhere: refused.
    let dir = tempfile::tempdir().unwrap();
    drop(Emulator::start(config(dir.path())).unwrap());
    fs::remove_dir(dir.path().join("events")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("events")).unwrap();
    let e = Emulator::start(config(dir.path())).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(
        fs::read(elsewhere.path().join("precious.json")).unwrap(),
        b"keep"
    );
    assert_eq!(
        fs::read(elsewhere.path().join("00000000000000000007.json")).unwrap(),
        b"{"
    );

    // Links inside the sub-directories, named like the emulator's own files: left alone, and
    // what they point to too.
    let dir = tempfile::tempdir().unwrap();
    drop(Emulator::start(config(dir.path())).unwrap());
    let target = elsewhere.path().join("precious.json");
    std::os::unix::fs::symlink(&target, dir.path().join("tmp/1-2-0a0b0c0d.part")).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("events/00000000000000000009.json"))
        .unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path(),
        dir.path()
            .join("sessions")
            .join(format!("{}-{}", "a".repeat(40), "b".repeat(40))),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path(),
        dir.path().join("files/1234567890123456789"),
    )
    .unwrap();
    let emu = Emulator::start(config(dir.path())).unwrap();
    let notes = emu.startup_notes().join("\n");
    assert!(notes.contains("left alone"), "{notes}");
    let c = Client::new(&emu);
    assert_eq!(c.upload(&data(100, 1), PART)["code"], 0);
    drop(emu);
    assert!(
        dir.path()
            .join("tmp/1-2-0a0b0c0d.part")
            .symlink_metadata()
            .is_ok()
    );
    assert_eq!(fs::read(&target).unwrap(), b"keep");
    assert_eq!(
        fs::read(elsewhere.path().join("00000000000000000007.json")).unwrap(),
        b"{"
    );
}

#[test]
fn an_emulator_state_is_reused_and_foreign_files_in_it_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = data(3000, 2);
    let id = {
        let emu = Emulator::start(config(dir.path())).unwrap();
        assert!(dir.path().join("vodupload-emulator-state.json").is_file());
        Client::new(&emu).upload(&file, PART)["fileId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Someone drops files into it.
    let files = someones_folder(dir.path());
    let emu = Emulator::start(config(dir.path())).unwrap();
    let c = Client::new(&emu);
    let r = c.init(&sha1_hex(&file), 3000, PART);
    assert_eq!(r["code"], 2, "{r}");
    assert_eq!(r["fileId"], id.as_str());
    let notes = emu.startup_notes().join("\n");
    for name in ["draft.txt", "photos", "notes", "calendar.json"] {
        assert!(notes.contains(name), "{name} not mentioned: {notes}");
    }
    drop(emu);
    assert_intact(dir.path(), &files);

    // A state written by a newer emulator is refused.
    fs::write(
        dir.path().join("vodupload-emulator-state.json"),
        br#"{"format": 2}"#,
    )
    .unwrap();
    let e = Emulator::start(config(dir.path())).unwrap_err();
    assert!(e.to_string().contains("newer emulator"), "{e}");
}
