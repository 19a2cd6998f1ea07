//! The emulator the measured uploads go to: in this process, its state in the bench's working
//! directory, rate limits off, optionally with latency added to every answer.

use std::path::PathBuf;

use vodupload_emulator::{Emulator, EmulatorConfig, Faults, TlsSetup};

use crate::Failure;

/// One emulator; its state directory is removed when it is dropped.
pub(super) struct Server {
    emu: Option<Emulator>,
    state: PathBuf,
    /// The self-signed certificate to trust, over HTTPS.
    pub ca_file: Option<PathBuf>,
}

impl Server {
    /// `name` names its state directory (and certificate) in `work`.
    pub(super) fn start(
        work: &std::path::Path,
        name: &str,
        https: bool,
        latency_ms: u64,
    ) -> Result<Server, Failure> {
        let state = work.join(name);
        let _ = std::fs::remove_dir_all(&state);
        let ca_file = https.then(|| work.join(format!("{name}-ca.pem")));
        let mut config = EmulatorConfig::default();
        config.state_dir = Some(state.clone());
        config.rate_limit = false;
        config.faults = Faults {
            latency_ms,
            ..Faults::default()
        };
        config.tls = ca_file
            .clone()
            .map(|p| TlsSetup::SelfSigned { cert_out: Some(p) });
        let emu = Emulator::start(config)
            .map_err(|e| Failure::other(format!("cannot start the in-process emulator: {e}")))?;
        Ok(Server {
            emu: Some(emu),
            state,
            ca_file,
        })
    }

    pub(super) fn endpoint(&self) -> String {
        self.emu.as_ref().expect("running").endpoint()
    }

    pub(super) fn credentials(&self) -> (String, String) {
        self.emu.as_ref().expect("running").credentials()[0].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.emu.take());
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
