//! TLS for guests' https requests: rustls (ring) trusting only the certificates of the pod's
//! ServiceAccount `ca.crt`, plus the explicit `--insecure-skip-tls-verify` mode.
//!
//! The CA file follows the one rule of [`crate::trust`] (shared with the proxy): re-read when it
//! changes, the last good bundle kept while a changed file cannot be used, fail closed when no
//! version was ever good. Server names and ALPN are [`crate::trust`]'s too.

use crate::credential_files::CredentialPath;
use crate::trust::{self, ALPN, CaWatcher, Verify};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use wasmtime_wasi_http::Error;

use super::policy::Target;
use super::pool::TrustKey;

/// The configuration built from one version of a CA file and its generation: unique in the
/// process, larger for each newly built bundle. The connection pool keys connections by it, so
/// a connection verified with an older bundle is never reused after the file changed.
#[derive(Clone)]
struct Verified {
    config: Arc<ClientConfig>,
    generation: u64,
}

/// CA file path → its watcher.
type Watchers = Mutex<HashMap<CredentialPath, Arc<CaWatcher<Verified>>>>;

/// Process-wide: CA file path → its watcher, shared by every guest store of the process.
fn watcher(path: &CredentialPath) -> Arc<CaWatcher<Verified>> {
    static WATCHERS: OnceLock<Watchers> = OnceLock::new();
    let mut map = WATCHERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(path.clone())
        .or_insert_with(|| Arc::new(CaWatcher::new(path)))
        .clone()
}

/// The rustls client configuration for an https request, and the trust it stands for in the
/// connection pool ([`TrustKey::Insecure`], or [`TrustKey::Ca`] with the bundle's generation).
///
/// With `insecure` the shared accept-any-certificate configuration (a warning is logged the first
/// time it is used in the process). Otherwise a configuration whose only roots are the PEM
/// certificates in `ca_file`, with [`crate::trust`]'s CA file rule.
///
/// Errors: `TlsCertificateError` (and a `warn!` naming the file and the reason) when there is
/// no CA file, or no version of it was ever usable (missing, unreadable, not PEM, no usable
/// certificate). There is no fallback to system roots or to skipping verification.
pub(crate) async fn client_config(
    ca_file: Option<&CredentialPath>,
    insecure: bool,
    target: &Target,
) -> Result<(Arc<ClientConfig>, TrustKey), Error> {
    if insecure {
        return insecure_config().map(|config| (config, TrustKey::Insecure));
    }
    let Some(path) = ca_file else {
        tracing::warn!(
            target = %target,
            "refused https request: no CA file is configured to verify the server certificate \
             (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)"
        );
        return Err(Error::TlsCertificateError);
    };
    static GENERATION: AtomicU64 = AtomicU64::new(0);
    watcher(path)
        .current(|roots| {
            let config = trust::client_config(&Verify::Roots(roots), None, ALPN)?;
            let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
            Ok(Verified { config, generation })
        })
        .map(|v| {
            let trust = TrustKey::Ca {
                file: path.clone(),
                generation: v.generation,
            };
            (v.config, trust)
        })
        .map_err(|what| {
            tracing::warn!(
                target = %target,
                ca_file = %path.display(),
                "refused https request: cannot use the CA file to verify the server certificate: {what}"
            );
            Error::TlsCertificateError
        })
}

/// The configuration that accepts any server certificate, built once per process.
fn insecure_config() -> Result<Arc<ClientConfig>, Error> {
    static INSECURE: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = INSECURE.get() {
        return Ok(config.clone());
    }
    let config = trust::client_config(&Verify::AcceptAny, None, ALPN)
        .map_err(|e| Error::InternalError(Some(e)))?;
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

/// The name the server certificate must carry ([`trust::server_name`]): the IP address itself for
/// an IP literal (matched against IP SANs, as kube-rs does for the in-cluster service IP), else
/// the DNS name.
pub(crate) fn server_name(target: &Target) -> Result<ServerName<'static>, Error> {
    if let Some(ip) = target.ip {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    trust::server_name(&target.host).map_err(|_| Error::DnsError {
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
pub(crate) fn handshake_error(
    err: io::Error,
    target: &Target,
    ca_file: Option<&CredentialPath>,
) -> Error {
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
