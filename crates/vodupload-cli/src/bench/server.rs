//! The emulator the measured uploads go to: in this process, its state in the bench's working
//! directory, standing in for the network and the service the run asks for.

use std::path::PathBuf;

use vodupload_emulator::{Emulator, EmulatorConfig, Faults, TlsSetup};

use crate::Failure;

/// What the emulator stands in for. The default: a quiet LAN to a service without caps.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Network {
    /// Added to every answer.
    pub latency_ms: u64,
    /// Request bodies, all connections together, arrive no faster; zero: no limit.
    pub bandwidth_bytes_per_sec: u64,
    /// The service's default call rates enforced (4400 beyond them).
    pub caps: bool,
}

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
        net: Network,
    ) -> Result<Server, Failure> {
        let state = work.join(name);
        let _ = std::fs::remove_dir_all(&state);
        let ca_file = https.then(|| work.join(format!("{name}-ca.pem")));
        let mut config = EmulatorConfig::default();
        config.state_dir = Some(state.clone());
        config.rate_limit = net.caps;
        config.faults = Faults {
            latency_ms: net.latency_ms,
            bandwidth_bytes_per_sec: net.bandwidth_bytes_per_sec,
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

    /// Calls the emulator refused as over the service's rate (4400).
    pub(super) fn rate_limited(&self) -> u64 {
        self.emu.as_ref().expect("running").stats().rate_limited
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
