//! Trust in the cluster CA, shared by the guests' wasi:http sender (`outbound`) and the
//! ambassador proxy (`proxy`): the process's ring provider, the PEM bundle of `ca.crt` as a root
//! store, the file stamp that tells when an AtomicWriter update replaced `ca.crt`, and the
//! verifier behind an explicit `--insecure-skip-tls-verify`.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// The ring crypto provider, shared by every client configuration of the process.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Identifies one version of a file on disk without reading it: a kubelet AtomicWriter update
/// swaps `..data` to a new directory, so the resolved file gets a new inode and mtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    dev_ino: (u64, u64),
}

impl FileStamp {
    /// The stamp of `meta` (from `std::fs::metadata`, which follows the symlinks).
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            dev_ino: (meta.dev(), meta.ino()),
        }
    }
}

/// Every certificate of a PEM bundle as a root store (other PEM sections, such as keys, are
/// skipped; a rotation bundle holds old and new CA). Errors with a description when the PEM is
/// malformed or no certificate is usable; unusable certificates beside usable ones are logged.
pub(crate) fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("it is not a valid PEM file: {e}"))?;
    if certs.is_empty() {
        return Err("it holds no PEM CERTIFICATE".to_string());
    }
    let mut roots = RootCertStore::empty();
    let (valid, invalid) = roots.add_parsable_certificates(certs);
    if valid == 0 {
        return Err(format!(
            "none of its {invalid} certificate(s) can be used as a trust anchor"
        ));
    }
    if invalid > 0 {
        tracing::warn!(
            "{invalid} certificate(s) of the CA file cannot be used as trust anchors and are ignored"
        );
    }
    Ok(roots)
}

/// Accepts every server certificate and name, like client-go's `Insecure: true`, but still
/// checks the handshake signatures against the presented certificate's key. Only ever built from
/// an explicit flag or kubeconfig field; the callers log a warning.
#[derive(Debug)]
pub(crate) struct AcceptAnyServerCert {
    /// The provider's signature algorithms.
    pub(crate) algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::roots_from_pem;

    #[test]
    fn pem_bundles() {
        assert!(
            roots_from_pem(b"")
                .unwrap_err()
                .contains("no PEM CERTIFICATE")
        );
        assert!(
            roots_from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .unwrap_err()
                .contains("no PEM CERTIFICATE")
        );
        let bogus = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(roots_from_pem(bogus).unwrap_err().contains("trust anchor"));
    }
}
