//! `vodupload demo`: the whole flow against an embedded emulator, with nothing to set up.

use std::io::Write;
use std::time::Instant;

use clap::Args;
use sha1::{Digest, Sha1};
use vodupload::{CancelToken, Client, ClientOptions, Credentials, UploadOptions, no_progress};
use vodupload_emulator::{Emulator, EmulatorConfig};

use crate::Failure;
use crate::upload::print_result;

#[derive(Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    pub(crate) verbosity: crate::verbosity::Verbosity,
    /// Size of the generated video, in MiB.
    #[arg(long, default_value_t = 48)]
    size_mib: u64,
}

pub(crate) fn run(a: DemoArgs) -> Result<(), Failure> {
    let fail = |what: &str, e: &dyn std::fmt::Display| Failure::other(format!("{what}: {e}"));
    let dir = tempfile::tempdir().map_err(|e| fail("cannot make a temporary directory", &e))?;
    let path = dir.path().join("demo.mp4");
    let size = a.size_mib.max(1) * 1024 * 1024 + 12_345;
    let mut file =
        std::fs::File::create(&path).map_err(|e| fail("cannot create the demo file", &e))?;
    let mut sha = Sha1::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        rand::fill(&mut chunk[..n]);
        sha.update(&chunk[..n]);
        file.write_all(&chunk[..n])
            .map_err(|e| fail("cannot write the demo file", &e))?;
        left -= n as u64;
    }
    drop(file);
    let local_sha: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!(
        "generated {} ({size} bytes, sha1 {local_sha})",
        path.display()
    );

    let emu = Emulator::start(EmulatorConfig::default())
        .map_err(|e| fail("cannot start the embedded emulator", &e))?;
    println!("emulator listening at {}", emu.endpoint());
    let (id, key) = emu.credentials()[0].clone();
    let mut options = ClientOptions::default();
    options.endpoint = emu.endpoint();
    let client = Client::new(Credentials::new(id, key)?, options)?;

    let t = Instant::now();
    let r = client.upload(
        &path,
        &UploadOptions::default(),
        &no_progress,
        &CancelToken::new(),
    )?;
    print_result(&r);
    println!(
        "throughput: {:.0} MiB/s",
        size as f64 / 1048576.0 / t.elapsed().as_secs_f64()
    );

    let served = ureq_get_sha1(&r.url).map_err(|e| fail("cannot fetch the uploaded copy", &e))?;
    if served != local_sha {
        return Err(Failure::other(format!(
            "the copy served at {} has sha1 {served}, not {local_sha}",
            r.url
        )));
    }
    println!("the copy served at the url has the same sha1: ok");

    let again = client.upload(
        &path,
        &UploadOptions::default(),
        &no_progress,
        &CancelToken::new(),
    )?;
    print_result(&again);
    if !again.instant || again.file_id != r.file_id {
        return Err(Failure::other("the second upload was not instant".into()));
    }
    Ok(())
}

/// SHA-1 of what a url serves, streamed.
fn ureq_get_sha1(url: &str) -> Result<String, String> {
    let mut resp = ureq::get(url).call().map_err(|e| e.to_string())?;
    let mut sha = Sha1::new();
    std::io::copy(&mut resp.body_mut().as_reader(), &mut sha).map_err(|e| e.to_string())?;
    Ok(sha.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
