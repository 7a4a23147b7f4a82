//! Trust in the cluster CA, shared by the guests' wasi:http sender (`outbound`) and the
//! ambassador proxy (`proxy::upstream`): the process's ring provider, one client configuration
//! builder with one ALPN list, one server-name rule, the [`CaWatcher`] that re-reads `ca.crt`,
//! and the verifier behind an explicit `--insecure-skip-tls-verify`.
//!
//! # The CA file rule (both users)
//!
//! Trust follows client-go: `rest.InClusterConfig()` trusts exactly the PEM bundle in
//! `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt` (no system roots; every certificate
//! of the bundle, as a CA rotation bundle holds the old and the new CA), and client-go
//! (`transport/cert_rotation.go`, `transport/transport.go`) reloads it when it changes, keeping
//! the CA it has while the new file cannot be used. So, for every new connection:
//!
//! 1. the file is stat'ed; it is re-read only when its size, mtime or inode changed (a kubelet
//!    AtomicWriter update swaps `..data`, so the resolved file gets a new inode);
//! 2. a configuration is rebuilt only when the content (SHA-256) changed;
//! 3. when the file cannot be stat'ed or read, is not PEM, or holds no usable certificate, the
//!    **last good bundle stays in use** and a warning naming the file is logged (once per
//!    distinct failure); the file is tried again on the next connection;
//! 4. when no version of the file was ever good, the connection **fails closed**: there is
//!    never a fallback to system roots or to skipping verification.
//!
//! Server names follow kube-rs `Config::incluster()`: the certificate is verified against the
//! address actually dialled, so an IP literal is checked against the certificate's IP SANs and
//! anything else as a DNS name ([`server_name`]).

use crate::credential_files::CredentialPath;
use pod_introspect_kube::credential_file;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// ALPN protocols offered for ordinary requests, in preference order: HTTP/2 first, as the API
/// server and client-go prefer it, then HTTP/1.1.
pub(crate) const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];
/// ALPN for connections that will carry an `Upgrade` (exec, attach, port-forward): HTTP/1.1 only,
/// as kubectl's `makeUpgradeTransport` (HTTP/2 cannot carry `Upgrade`).
pub(crate) const ALPN_UPGRADE: &[&[u8]] = &[b"http/1.1"];

/// How a client configuration verifies the server certificate.
pub(crate) enum Verify {
    /// Against these trust anchors (the CA bundle).
    Roots(RootCertStore),
    /// Not at all ([`AcceptAnyServerCert`]); only from an explicit flag or kubeconfig field.
    AcceptAny,
}

/// A client certificate chain and its key.
pub(crate) type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The one client configuration builder: ring, the safe default protocol versions, `verify`,
/// an optional client certificate, and `alpn` ([`ALPN`] or [`ALPN_UPGRADE`]).
///
/// Errors: a description when rustls refuses the protocol versions or the client certificate.
pub(crate) fn client_config(
    verify: &Verify,
    identity: Option<&Identity>,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?;
    let builder = match verify {
        Verify::Roots(roots) => builder.with_root_certificates(roots.clone()),
        Verify::AcceptAny => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert {
                algorithms: provider().signature_verification_algorithms,
            })),
    };
    let mut config = match identity {
        Some((certs, key)) => builder
            .with_client_auth_cert(certs.clone(), key.clone_key())
            .map_err(|e| format!("client certificate: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The name the server certificate must carry for `host` (a URI host, IPv6 with or without
/// brackets): the IP address itself for an IP literal (matched against IP SANs), else the DNS
/// name, lower-cased.
///
/// Errors: `invalid server name "HOST"` when it is neither.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_ascii_lowercase())
        .map_err(|_| format!("invalid server name {bare:?}"))
}

/// One good version of the CA file and what was built from it.
struct Good<T> {
    stamp: FileStamp,
    digest: [u8; 32],
    value: T,
}

struct WatchState<T> {
    good: Option<Good<T>>,
    /// The failure last warned about, so a broken file is logged once, not per connection.
    warned: Option<String>,
}

/// Watches one CA file and keeps what was built from its last good version (`T`: the client
/// configuration(s) of its user), with the rule of the module documentation.
pub(crate) struct CaWatcher<T> {
    path: CredentialPath,
    state: Mutex<WatchState<T>>,
}

impl<T: Clone> CaWatcher<T> {
    /// A watcher of `path`; nothing is read until [`CaWatcher::current`].
    pub(crate) fn new(path: &CredentialPath) -> CaWatcher<T> {
        CaWatcher {
            path: path.clone(),
            state: Mutex::new(WatchState {
                good: None,
                warned: None,
            }),
        }
    }

    /// The file watched.
    pub(crate) fn path(&self) -> &CredentialPath {
        &self.path
    }

    /// What to use for a new connection: built by `build` from the file's certificates when the
    /// file changed (steps 1 and 2 of the rule), else the value built before.
    ///
    /// Errors: why the file cannot be used (`cannot read it: ...`, `it is not a valid PEM
    /// file: ...`, `it holds no PEM CERTIFICATE`, or `build`'s error), only when no version was
    /// ever good (step 4); after a good version the failure is logged and the last good value
    /// returned (step 3).
    pub(crate) fn current(
        &self,
        build: impl FnOnce(RootCertStore) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        // Opened without blocking, beneath `--root` if any; a FIFO, a file over the cap or a
        // symlink out of the root is a failure like an unreadable file.
        let opened = self.path.open().and_then(|file| {
            let meta = file.metadata().map_err(|e| e.to_string())?;
            credential_file::check_metadata(&meta, credential_file::MAX_CA_BYTES)?;
            Ok((file, FileStamp::of(&meta)))
        });
        let (file, stamp) = match opened {
            Ok(opened) => opened,
            Err(e) => return self.keep_or_fail(state, format!("cannot read it: {e}")),
        };
        if let Some(good) = &state.good
            && good.stamp == stamp
        {
            return Ok(good.value.clone());
        }
        let pem = match credential_file::read_open(file, credential_file::MAX_CA_BYTES) {
            Ok(pem) => pem,
            Err(e) => return self.keep_or_fail(state, format!("cannot read it: {e}")),
        };
        let digest: [u8; 32] = Sha256::digest(&pem).into();
        if let Some(good) = state.good.as_mut()
            && good.digest == digest
        {
            good.stamp = stamp;
            state.warned = None;
            return Ok(good.value.clone());
        }
        let (value, count) = match roots_from_pem(&pem).and_then(|roots| {
            let count = roots.len();
            build(roots).map(|v| (v, count))
        }) {
            Ok(built) => built,
            Err(why) => return self.keep_or_fail(state, why),
        };
        if state.good.is_some() {
            tracing::info!(
                ca_file = %self.path.display(),
                certificates = count,
                "the CA bundle changed; new connections trust it"
            );
        } else {
            tracing::debug!(
                ca_file = %self.path.display(),
                certificates = count,
                "loaded the CA bundle"
            );
        }
        state.good = Some(Good {
            stamp,
            digest,
            value: value.clone(),
        });
        state.warned = None;
        Ok(value)
    }

    fn keep_or_fail(&self, state: &mut WatchState<T>, why: String) -> Result<T, String> {
        let Some(good) = &state.good else {
            return Err(why);
        };
        if state.warned.as_deref() != Some(why.as_str()) {
            tracing::warn!(
                ca_file = %self.path.display(),
                "cannot use the changed CA file ({why}); new connections keep trusting the last \
                 good CA bundle until it is fixed"
            );
            state.warned = Some(why);
        }
        Ok(good.value.clone())
    }
}

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
    use super::*;

    fn ca_pem(name: &str) -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    /// Builds "the number of roots and a generation": what the watcher hands out.
    fn counting(
        generation: &mut u32,
    ) -> impl FnOnce(RootCertStore) -> Result<(usize, u32), String> + '_ {
        move |roots| {
            *generation += 1;
            Ok((roots.len(), *generation))
        }
    }

    #[test]
    fn ca_watcher_keeps_the_last_good_bundle_and_never_good_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.crt");
        let watcher: CaWatcher<(usize, u32)> = CaWatcher::new(&CredentialPath::host(&path));
        let mut generation = 0;
        // Never good: missing, then garbage. Both fail (closed), naming the reason.
        let e = watcher.current(counting(&mut generation)).unwrap_err();
        assert!(e.starts_with("cannot read it: "), "{e}");
        std::fs::write(&path, "garbage\n").unwrap();
        let e = watcher.current(counting(&mut generation)).unwrap_err();
        assert_eq!(e, "it holds no PEM CERTIFICATE");
        assert_eq!(generation, 0);

        // Good: one certificate, built once; unchanged file, nothing rebuilt.
        let (a, b) = (ca_pem("A"), ca_pem("B"));
        std::fs::write(&path, &a).unwrap();
        assert_eq!(watcher.current(counting(&mut generation)), Ok((1, 1)));
        assert_eq!(watcher.current(counting(&mut generation)), Ok((1, 1)));

        // Broken after a good one (not PEM, then gone): the last good bundle stays.
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();
        assert_eq!(watcher.current(counting(&mut generation)), Ok((1, 1)));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(watcher.current(counting(&mut generation)), Ok((1, 1)));

        // Fixed with a rotation bundle (old + new): rebuilt with both.
        std::fs::write(&path, format!("{a}{b}")).unwrap();
        assert_eq!(watcher.current(counting(&mut generation)), Ok((2, 2)));
        // Rewritten with the same content (a new inode/mtime): not rebuilt.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, format!("{a}{b}")).unwrap();
        assert_eq!(watcher.current(counting(&mut generation)), Ok((2, 2)));
        assert_eq!(watcher.path().as_host_path(), path);
    }

    #[test]
    fn server_names_ip_sans_for_ip_literals_else_dns() {
        assert_eq!(
            server_name("[::1]").unwrap(),
            ServerName::IpAddress(std::net::Ipv6Addr::LOCALHOST.into())
        );
        assert_eq!(
            server_name("::1").unwrap(),
            ServerName::IpAddress(std::net::Ipv6Addr::LOCALHOST.into())
        );
        assert_eq!(
            server_name("10.96.0.1").unwrap(),
            ServerName::IpAddress(std::net::Ipv4Addr::new(10, 96, 0, 1).into())
        );
        assert_eq!(
            server_name("Kubernetes.Default.Svc").unwrap(),
            ServerName::try_from("kubernetes.default.svc").unwrap()
        );
        assert_eq!(
            server_name("bad name").unwrap_err(),
            "invalid server name \"bad name\""
        );
    }

    #[test]
    fn one_alpn_list_and_builder() {
        let config = client_config(&Verify::AcceptAny, None, ALPN).unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let config =
            client_config(&Verify::Roots(RootCertStore::empty()), None, ALPN_UPGRADE).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

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
