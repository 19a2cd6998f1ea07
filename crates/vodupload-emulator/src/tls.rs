//! TLS setup: PEM files or a fresh self-signed certificate (rustls with the ring provider).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::{EmulatorError, TlsSetup};

/// Builds the acceptor; also returns the certificate's PEM when it was self-signed.
pub(crate) fn build(
    setup: &TlsSetup,
    canonical_host: &str,
) -> Result<(TlsAcceptor, Option<String>), EmulatorError> {
    let (certs, key, pem) = match setup {
        TlsSetup::Files { cert, key } => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    EmulatorError::new(format!(
                        "cannot read TLS certificate {}: {e}",
                        cert.display()
                    ))
                })?;
            if certs.is_empty() {
                return Err(EmulatorError::new(format!(
                    "no certificate found in {}",
                    cert.display()
                )));
            }
            let k = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                EmulatorError::new(format!("cannot read TLS key {}: {e}", key.display()))
            })?;
            (certs, k, None)
        }
        TlsSetup::SelfSigned { cert_out } => {
            let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
            if !names.iter().any(|n| n == canonical_host) {
                names.push(canonical_host.to_string());
            }
            let ck = rcgen::generate_simple_self_signed(names).map_err(|e| {
                EmulatorError::new(format!("cannot generate a self-signed certificate: {e}"))
            })?;
            let pem = ck.cert.pem();
            if let Some(out) = cert_out {
                std::fs::write(out, &pem).map_err(|e| {
                    EmulatorError::new(format!(
                        "cannot write the certificate to {}: {e}",
                        out.display()
                    ))
                })?;
            }
            let key =
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
            (vec![ck.cert.der().clone()], key, Some(pem))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EmulatorError::new(format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            EmulatorError::new(format!("the TLS certificate or key is not usable: {e}"))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), pem))
}
