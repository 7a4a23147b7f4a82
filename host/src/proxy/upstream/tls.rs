//! TLS to the API server: the proxy's use of [`crate::trust`]. Trust anchors are `ca.crt` (with
//! the one CA file rule of [`crate::trust`]: re-read on change, the last good bundle kept while a
//! changed file cannot be used, fail closed when none was ever good), kubeconfig
//! `certificate-authority-data`, or nothing with `insecure-skip-tls-verify`; each version gives
//! two configurations, ALPN [`crate::trust::ALPN`] for the pool and
//! [`crate::trust::ALPN_UPGRADE`] for upgrades.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::spec::{CaSource, UpstreamError, UpstreamSpec};
use crate::trust::{self, ALPN, ALPN_UPGRADE, CaWatcher, Identity, Verify, roots_from_pem};

/// The two client configurations (ALPN h2+http/1.1 for the pool, http/1.1 for upgrades) built
/// from one version of the CA bundle.
#[derive(Clone)]
pub(super) struct TlsConfigs {
    pub(super) pooled: Arc<ClientConfig>,
    pub(super) upgrade: Arc<ClientConfig>,
}

/// Where the trust anchors come from.
enum Anchors {
    /// `ca.crt` or kubeconfig `certificate-authority`, watched.
    File(CaWatcher<TlsConfigs>),
    /// `certificate-authority-data`.
    Pem(Vec<u8>),
    /// `insecure-skip-tls-verify`.
    Insecure,
    /// Nothing configured: https fails.
    None,
}

/// TLS settings of one upstream.
pub(super) struct TlsState {
    anchors: Anchors,
    identity: Option<Identity>,
    /// `tls-server-name`, else the URL's host is verified.
    pub(super) server_name: Option<ServerName<'static>>,
    /// The configurations of [`Anchors::Pem`] and [`Anchors::Insecure`], built on first use.
    fixed: OnceLock<TlsConfigs>,
}

impl TlsState {
    pub(super) fn new(spec: &UpstreamSpec) -> Result<TlsState, UpstreamError> {
        let identity = match &spec.identity {
            Some(id) => {
                let certs = CertificateDer::pem_slice_iter(&id.cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| UpstreamError::Tls(format!("client certificate: {e}")))?;
                if certs.is_empty() {
                    return Err(UpstreamError::Tls(
                        "client certificate: no PEM CERTIFICATE".into(),
                    ));
                }
                let key = PrivateKeyDer::from_pem_slice(&id.key_pem)
                    .map_err(|e| UpstreamError::Tls(format!("client key: {e}")))?;
                Some((certs, key))
            }
            None => None,
        };
        let server_name = match &spec.tls_server_name {
            Some(n) => Some(ServerName::try_from(n.clone()).map_err(|_| {
                UpstreamError::Tls(format!("tls-server-name {n:?} is not a valid name"))
            })?),
            None => None,
        };
        let anchors = match (&spec.ca, spec.insecure) {
            (_, true) => Anchors::Insecure,
            (CaSource::File(path), false) => Anchors::File(CaWatcher::new(path)),
            (CaSource::Pem(pem), false) => Anchors::Pem(pem.clone()),
            (CaSource::None, false) => Anchors::None,
        };
        Ok(TlsState {
            anchors,
            identity,
            server_name,
            fixed: OnceLock::new(),
        })
    }

    fn build(&self, verify: &Verify) -> Result<TlsConfigs, String> {
        Ok(TlsConfigs {
            pooled: trust::client_config(verify, self.identity.as_ref(), ALPN)?,
            upgrade: trust::client_config(verify, self.identity.as_ref(), ALPN_UPGRADE)?,
        })
    }

    fn fixed(&self, verify: impl FnOnce() -> Result<Verify, String>) -> Result<TlsConfigs, String> {
        if let Some(c) = self.fixed.get() {
            return Ok(c.clone());
        }
        let configs = self.build(&verify()?)?;
        Ok(self.fixed.get_or_init(|| configs).clone())
    }

    /// The configurations for a new connection (see the module documentation).
    ///
    /// Errors: no certificate authority configured; the CA file never usable (naming it); a bad
    /// `certificate-authority-data`; a client certificate rustls refuses.
    pub(super) fn configs(&self) -> Result<TlsConfigs, String> {
        match &self.anchors {
            Anchors::Insecure => self.fixed(|| Ok(Verify::AcceptAny)),
            Anchors::Pem(pem) => self.fixed(|| roots_from_pem(pem).map(Verify::Roots)),
            Anchors::None => Err(
                "no certificate authority is configured to verify the API server (in a pod: \
                 /var/run/secrets/kubernetes.io/serviceaccount/ca.crt; in a kubeconfig: \
                 certificate-authority or certificate-authority-data)"
                    .into(),
            ),
            Anchors::File(watcher) => watcher
                .current(|roots| self.build(&Verify::Roots(roots)))
                .map_err(|why| format!("CA file {}: {why}", watcher.path().display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential_files::CredentialPath;
    use crate::proxy::upstream::Credentials;

    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    fn spec(ca: CaSource) -> UpstreamSpec {
        UpstreamSpec {
            server: "https://127.0.0.1:6443".parse().unwrap(),
            ca,
            insecure: false,
            tls_server_name: None,
            identity: None,
            credentials: Credentials::None,
            origin: "test".into(),
        }
    }

    /// The proxy follows the same CA file rule as the outbound sender (`crate::trust`).
    #[test]
    fn ca_file_rule_last_good_kept_never_good_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.crt");
        let tls = TlsState::new(&spec(CaSource::File(CredentialPath::host(&path)))).unwrap();
        let e = tls.configs().err().unwrap();
        assert!(
            e.starts_with(&format!("CA file {}: cannot read it", path.display())),
            "{e}"
        );
        std::fs::write(&path, "garbage").unwrap();
        let e = tls.configs().err().unwrap();
        assert!(e.ends_with("it holds no PEM CERTIFICATE"), "{e}");

        std::fs::write(&path, ca_pem()).unwrap();
        let good = tls.configs().unwrap();
        assert_eq!(
            good.pooled.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(good.upgrade.alpn_protocols, [b"http/1.1".to_vec()]);
        std::fs::write(&path, "garbage").unwrap();
        assert!(Arc::ptr_eq(&tls.configs().unwrap().pooled, &good.pooled));
        std::fs::remove_file(&path).unwrap();
        assert!(Arc::ptr_eq(&tls.configs().unwrap().pooled, &good.pooled));
        std::fs::write(&path, ca_pem()).unwrap();
        assert!(!Arc::ptr_eq(&tls.configs().unwrap().pooled, &good.pooled));

        let none = TlsState::new(&spec(CaSource::None)).unwrap();
        assert!(
            none.configs()
                .err()
                .unwrap()
                .contains("no certificate authority")
        );
        let bad = TlsState::new(&spec(CaSource::Pem(b"x".to_vec()))).unwrap();
        assert!(bad.configs().is_err());
    }
}
