//! The command line as a user meets it: Ctrl-C and the rerun that resumes, several files at once,
//! `--help` for every option, `-v` after the subcommand, completions and the man page. Every
//! upload here goes to a `vodupload emulator` child process over a real socket.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::*;

fn upload_cmd(emu: &EmuProc, files: &[&Path], extra: &[&str], cache: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("upload")
        .args(files)
        .args([
            "--endpoint",
            &emu.endpoint(),
            "--secret-id",
            ID,
            "--secret-key",
            KEY,
        ])
        .args(extra)
        .env_remove("RUST_LOG")
        .env("XDG_CACHE_HOME", cache);
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn ctrl_c_says_what_the_server_holds_and_the_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let file = random_file(dir.path(), "interrupt.mp4", 24 * MIB + 3, 21);
    let emu = EmuProc::start(
        &dir.path().join("state"),
        "127.0.0.1:0",
        &["--latency-ms", "60"],
    );
    let mut child = upload_cmd(&emu, &[&file], &["--concurrency", "2"], &cache)
        .env("RUST_LOG", "vodupload=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut stored = 0;
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("UploadPart") && line.contains(" ok in ") {
            stored += 1;
            if stored == 4 {
                // SIGINT, as a terminal's Ctrl-C sends it.
                let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
                assert!(sent.success());
            }
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(
        stored >= 4,
        "the upload ended before 4 parts were stored:\n{stderr}"
    );
    assert_eq!(status.code(), Some(130), "{stderr}");
    let said = stderr
        .lines()
        .find(|l| l.contains("interrupted: "))
        .unwrap_or_else(|| panic!("no 'interrupted' line:\n{stderr}"));
    // "vodupload: interrupted: N of 25 parts are on the server; run the same command to resume"
    let held: u64 = said
        .split("interrupted: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {said:?}"));
    assert!(
        said.ends_with(" of 25 parts are on the server; run the same command to resume"),
        "{said}"
    );
    // The parts confirmed before the signal are held, and the count is no more than were stored.
    assert!(
        (4..=stored as u64).contains(&held),
        "{held} of {stored}: {said}"
    );

    let out = upload_cmd(&emu, &[&file], &["--json"], &cache)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("resuming: the server holds {held} of 25 parts")),
        "{err}"
    );
    let j = json_of(&out);
    assert_eq!(j["parts_skipped"], held);
    assert_eq!(j["parts_uploaded"], 25 - held);
    assert_eq!(sha1_url(j["url"].as_str().unwrap(), None), sha1_file(&file));
}

#[test]
fn several_files_one_json_line_each_a_summary_and_the_worst_status() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let videos = dir.path().join("videos");
    std::fs::create_dir_all(videos.join("sub")).unwrap();
    let a = random_file(&videos, "a.mp4", 3 * MIB + 1, 31);
    let b = random_file(&videos.join("sub"), "b.mp4", 2 * MIB + 9, 32);
    let c = random_file(dir.path(), "c.mp4", 5 * MIB, 33);
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.path().join("missing.mp4");
    let emu = EmuProc::start(&dir.path().join("state"), "127.0.0.1:0", &[]);

    // A directory needs --recursive, and says so: a local file problem, as in every face.
    let out = upload_cmd(&emu, &[&videos], &[], &cache).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("pass --recursive"),
        "{}",
        text(&out.stderr)
    );

    let out = upload_cmd(
        &emu,
        &[&videos, &c, &empty, &missing],
        &["--recursive", "--jobs", "2", "--json"],
        &cache,
    )
    .output()
    .unwrap();
    let err = text(&out.stderr);
    // The worst failure: the missing file's (3, local file) over the empty one's (2, input).
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("5 files: 3 uploaded, 0 already on the service, 2 failed"),
        "{err}"
    );
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 5, "{}", text(&out.stdout));
    let by_path = |p: &Path| {
        lines
            .iter()
            .find(|j| j["path"] == p.to_str().unwrap())
            .unwrap_or_else(|| panic!("no line for {}", p.display()))
    };
    for file in [&a, &b, &c] {
        let j = by_path(file);
        assert_eq!(j["instant"], false, "{j}");
        assert_eq!(sha1_url(j["url"].as_str().unwrap(), None), sha1_file(file));
    }
    assert_eq!(by_path(&empty)["error"]["exit_status"], 2);
    assert_eq!(by_path(&empty)["error"]["kind"], "invalid_input");
    assert_eq!(by_path(&missing)["error"]["exit_status"], 3);
    assert!(
        by_path(&missing)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing.mp4"),
        "{}",
        by_path(&missing)
    );

    // Again, the good files only: all already on the service, exit 0.
    let out = upload_cmd(&emu, &[&videos, &c], &["-r", "--jobs", "3"], &cache)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("3 files: 0 uploaded, 3 already on the service, 0 failed"),
        "{err}"
    );
    assert_eq!(text(&out.stdout).matches(": instant ").count(), 3);

    // --jobs is checked by the core's rule before anything is read.
    let out = upload_cmd(&emu, &[&c], &["--jobs", "0"], &cache)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("jobs"), "{}", text(&out.stderr));
}

#[test]
fn verbose_is_accepted_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let file = random_file(dir.path(), "v.mp4", MIB + 1, 41);
    let run = |args: &[&str]| {
        let out = Command::new(bin())
            .args(args)
            .arg(&file)
            .env_remove("RUST_LOG")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let quiet = run(&["upload", "--emulator", "--quiet"]);
    assert!(!quiet.contains("DEBUG"), "{quiet}");
    let after = run(&["upload", "--emulator", "--quiet", "-vv"]);
    let before = run(&["-vv", "upload", "--emulator", "--quiet"]);
    for log in [&after, &before] {
        assert!(log.contains("DEBUG") && log.contains("InitUpload"), "{log}");
        assert!(!log.contains("Signature="), "a signature was logged: {log}");
    }
}

/// The subcommands whose options a user types.
const SUBCOMMANDS: [&[&str]; 8] = [
    &["upload"],
    &["emulator"],
    &["sign"],
    &["events", "pull"],
    &["events", "confirm"],
    &["events", "parse"],
    &["demo"],
    &["bench"],
];

#[test]
fn every_option_of_every_subcommand_has_help_text() {
    for sub in SUBCOMMANDS {
        let out = Command::new(bin())
            .args(sub)
            .arg("--help")
            .output()
            .unwrap();
        let sub = sub.join(" ");
        assert!(out.status.success());
        let help = text(&out.stdout);
        let lines: Vec<&str> = help.lines().collect();
        let mut options = 0;
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !(t.starts_with("--")
                || (t.starts_with('-') && t.chars().nth(1).is_some_and(char::is_alphabetic)))
            {
                continue;
            }
            if line.len() - t.len() != 2 {
                continue; // a wrapped line of text, not an option
            }
            options += 1;
            // The text follows the option after two spaces or more, or (long help) on the line
            // below, indented further.
            let same_line = t.split("  ").skip(1).any(|s| !s.trim().is_empty());
            let next = lines.get(i + 1).copied().unwrap_or("");
            let below = next.len() - next.trim_start().len() > 2 && !next.trim().is_empty();
            let has_text = same_line || below;
            assert!(
                has_text,
                "`vodupload {sub} --help`: {t} has no text:\n{help}"
            );
        }
        assert!(
            options >= 2,
            "no options found in `vodupload {sub} --help`:\n{help}"
        );
    }
    // The limits, exit statuses and JSON keys of `upload`.
    let help = text(
        &Command::new(bin())
            .args(["upload", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    for needle in [
        "Exit status",
        "130",
        "\"parts_skipped\"",
        "\"exit_status\"",
        "1 to 64",
    ] {
        assert!(
            help.contains(needle),
            "`upload --help` lacks {needle}:\n{help}"
        );
    }
}

#[test]
fn completions_and_the_man_page_come_from_the_same_definitions() {
    let run = |args: &[&str]| {
        let out = Command::new(bin()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    for shell in ["bash", "zsh", "fish"] {
        let script = run(&["completions", shell]);
        // fish names long options without their dashes.
        for needle in ["upload", "concurrency", "recursive", "jobs", "emulator"] {
            assert!(script.contains(needle), "{shell} completions lack {needle}");
        }
    }
    // bash parses what it would source.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("vodupload.bash");
    std::fs::write(&script, run(&["completions", "bash"])).unwrap();
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(
        checked.success(),
        "the bash completion script does not parse"
    );

    let man = run(&["man"]);
    assert!(
        man.starts_with(".ie") || man.starts_with(".TH"),
        "{}",
        &man[..200.min(man.len())]
    );
    for needle in [".TH vodupload 1", "vodupload\\-upload", "completions"] {
        assert!(man.contains(needle), "the man page lacks {needle}");
    }
    let out = Command::new(bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bash"), "{}", text(&out.stderr));
}
