//! TLS for guests' https requests: rustls (ring) trusting only the certificates of the pod's
//! ServiceAccount `ca.crt`, re-read when the file changes, plus the explicit
//! `--insecure-skip-tls-verify` mode.
//!
//! Trust follows client-go: `rest.InClusterConfig()` trusts exactly the PEM bundle in
//! `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt` (no system roots), and newer client-go
//! (`transport/cert_rotation.go`, `transport/transport.go`) reloads the CA when the file changes so a
//! CA rotation bundle (old + new CA in one file) is honoured without a restart. Server names follow
//! kube-rs `Config::incluster()`: the certificate is verified against the address actually dialled,
//! so an IP literal is checked against the certificate's IP SANs.

use crate::trust::{AcceptAnyServerCert, FileStamp, provider, roots_from_pem};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use sha2::{Digest, Sha256};
use wasmtime_wasi_http::Error;

use super::policy::Target;

/// ALPN protocols offered, in preference order: HTTP/2 first, as the API server prefers it.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The client configuration built from one version of a CA file.
struct CaEntry {
    stamp: FileStamp,
    digest: [u8; 32],
    config: Arc<ClientConfig>,
}

/// Process-wide cache: CA file path → the configuration for its current content.
fn ca_cache() -> &'static Mutex<HashMap<PathBuf, CaEntry>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, CaEntry>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The rustls client configuration for an https request.
///
/// With `insecure` the shared accept-any-certificate configuration (a warning is logged the first
/// time it is used in the process). Otherwise a configuration whose only roots are the PEM
/// certificates in `ca_file`: the file is stat'ed on every call and re-read when its size, mtime
/// or inode changed; a configuration is rebuilt only when the content (SHA-256) differs.
///
/// Errors: `TlsCertificateError` (and a `warn!` naming the file) when there is no CA file, it
/// cannot be read, it is not valid PEM, or it holds no usable certificate. There is no fallback to
/// system roots or to skipping verification.
pub(crate) async fn client_config(
    ca_file: Option<&Path>,
    insecure: bool,
    target: &Target,
) -> Result<Arc<ClientConfig>, Error> {
    if insecure {
        return insecure_config();
    }
    let Some(path) = ca_file else {
        tracing::warn!(
            target = %target,
            "refused https request: no CA file is configured to verify the server certificate \
             (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)"
        );
        return Err(Error::TlsCertificateError);
    };
    let fail = |what: String| {
        tracing::warn!(
            target = %target,
            ca_file = %path.display(),
            "refused https request: cannot use the CA file to verify the server certificate: {what}"
        );
        Error::TlsCertificateError
    };
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    let stamp = FileStamp::of(&meta);
    let cached_digest = {
        let cache = ca_cache().lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(path) {
            Some(entry) if entry.stamp == stamp => return Ok(entry.config.clone()),
            Some(entry) => Some(entry.digest),
            None => None,
        }
    };
    let pem = tokio::fs::read(path)
        .await
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    let digest: [u8; 32] = Sha256::digest(&pem).into();
    let mut cache = ca_cache().lock().unwrap_or_else(|p| p.into_inner());
    if cached_digest == Some(digest)
        && let Some(entry) = cache.get_mut(path)
        && entry.digest == digest
    {
        entry.stamp = stamp;
        return Ok(entry.config.clone());
    }
    let roots = roots_from_pem(&pem).map_err(fail)?;
    let count = roots.len();
    let config = build_config(|builder| builder.with_root_certificates(roots))?;
    tracing::debug!(
        ca_file = %path.display(),
        certificates = count,
        "loaded the CA bundle for outbound https"
    );
    cache.insert(
        path.to_path_buf(),
        CaEntry {
            stamp,
            digest,
            config: config.clone(),
        },
    );
    Ok(config)
}

/// A client configuration with ring, the safe default protocol versions, no client certificate
/// and ALPN `h2`, `http/1.1`; `verify` chooses the server certificate verification.
fn build_config(
    verify: impl FnOnce(
        rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>,
    ) -> rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
) -> Result<Arc<ClientConfig>, Error> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InternalError(Some(format!("TLS configuration: {e}"))))?;
    let mut config = verify(builder).with_no_client_auth();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The configuration that accepts any server certificate, built once per process.
fn insecure_config() -> Result<Arc<ClientConfig>, Error> {
    static INSECURE: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = INSECURE.get() {
        return Ok(config.clone());
    }
    let algorithms = provider().signature_verification_algorithms;
    let config = build_config(|builder| {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert { algorithms }))
    })?;
    let mut first = false;
    let config = INSECURE
        .get_or_init(|| {
            first = true;
            config
        })
        .clone();
    if first {
        tracing::warn!(
            "--insecure-skip-tls-verify: server certificates of outbound https requests are NOT \
             verified; anyone on the network path can read the guest's requests and tokens"
        );
    }
    Ok(config)
}

/// The name the server certificate must carry: the IP address itself for an IP literal (matched
/// against IP SANs, as kube-rs does for the in-cluster service IP), else the DNS name.
pub(crate) fn server_name(target: &Target) -> Result<ServerName<'static>, Error> {
    if let Some(ip) = target.ip {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(target.host.clone()).map_err(|_| Error::DnsError {
        rcode: Some(format!("invalid DNS name {:?}", target.host)),
        info_code: None,
    })
}

/// Maps a failed TLS handshake to the wasi-http error, logging the cause at warn level.
///
/// Certificate problems (unknown issuer, name mismatch, expired, ...) become
/// `TlsCertificateError` with the rustls text in the log (e.g. "invalid peer certificate:
/// UnknownIssuer"); an alert from the server becomes `TlsAlertReceived`; a connection closed or
/// reset during the handshake `ConnectionTerminated`; anything else `TlsProtocolError`.
pub(crate) fn handshake_error(err: io::Error, target: &Target, ca_file: Option<&Path>) -> Error {
    let ca = ca_file.map_or_else(|| "none".to_string(), |p| p.display().to_string());
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(
            e @ (rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::InvalidCertRevocationList(_)),
        ) => {
            tracing::warn!(
                target = %target,
                ca_file = %ca,
                "TLS handshake failed: {e}; the server certificate is not trusted by the CA file"
            );
            Error::TlsCertificateError
        }
        Some(rustls::Error::AlertReceived(alert)) => {
            tracing::warn!(target = %target, "TLS handshake failed: the server sent alert {alert:?}");
            Error::TlsAlertReceived {
                alert_id: Some(u8::from(*alert)),
                alert_message: Some(format!("{alert:?}")),
            }
        }
        Some(e) => {
            tracing::warn!(target = %target, "TLS handshake failed: {e}");
            Error::TlsProtocolError
        }
        None => match err.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => {
                tracing::warn!(target = %target, "TLS handshake failed: the connection was closed: {err}");
                Error::ConnectionTerminated
            }
            _ => {
                tracing::warn!(target = %target, "TLS handshake failed: {err}");
                Error::TlsProtocolError
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        let t = |s: &str| super::super::policy::Target::of(&s.parse().unwrap()).unwrap();
        assert_eq!(
            server_name(&t("https://[::1]:8443/")).unwrap(),
            ServerName::IpAddress(std::net::Ipv6Addr::LOCALHOST.into())
        );
        assert_eq!(
            server_name(&t("https://10.96.0.1/")).unwrap(),
            ServerName::IpAddress(std::net::Ipv4Addr::new(10, 96, 0, 1).into())
        );
        assert_eq!(
            server_name(&t("https://Kubernetes.Default.Svc/")).unwrap(),
            ServerName::try_from("kubernetes.default.svc").unwrap()
        );
    }
}
