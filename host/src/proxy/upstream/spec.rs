//! What the proxy is told about the API server: [`UpstreamSpec`] from the in-cluster env (or
//! `--root`'s simulated pod) or a kubeconfig, and [`UpstreamError`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::credential_files::CredentialPath;

use http::Uri;
use pod_introspect_kube::incluster::{self, TokenError};

/// Why the upstream cannot be configured or reached. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// Neither `--kubeconfig` nor in-cluster configuration is usable (the message is the
    /// proxy's: see [`location_message`]).
    #[error("{}", location_message(.0))]
    Location(incluster::LocationError),
    /// The kubeconfig cannot be read or used.
    #[error("--kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `--root DIR`'s container description cannot be read.
    #[error("--root {path}: {message}")]
    Root {
        /// The root.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No usable CA bundle, client certificate, or TLS setting.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// No ServiceAccount token can be read (and none was read before).
    #[error("{0}")]
    Token(#[from] TokenError),
    /// The server URL is not usable.
    #[error("API server URL {url:?}: {message}")]
    Url {
        /// The URL as configured.
        url: String,
        /// What is wrong.
        message: String,
    },
}

/// Where the trust anchors for the API server's certificate come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    /// A PEM bundle on disk, re-read when it changes (the pod's `ca.crt`).
    File(CredentialPath),
    /// PEM bytes (`certificate-authority-data`).
    Pem(Vec<u8>),
    /// None configured: https fails unless `insecure`.
    None,
}

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header is added.
    None,
    /// A bearer token file with client-go's caching and re-read rules (ServiceAccount token,
    /// kubeconfig `tokenFile`).
    TokenFile(CredentialPath),
    /// A fixed bearer token (kubeconfig `token`).
    Token(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::TokenFile(p) => f.debug_tuple("TokenFile").field(p).finish(),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

/// A client certificate and key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// The private key, PEM.
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientIdentity(<redacted>)")
    }
}

/// Everything needed to talk to the API server.
#[derive(Debug, Clone)]
pub struct UpstreamSpec {
    /// The server URL, e.g. `https://10.96.0.1:443`; a path (kubeconfig servers behind a
    /// gateway) is prepended only with `--append-server-path`.
    pub server: Uri,
    /// Trust anchors.
    pub ca: CaSource,
    /// Accept any server certificate (kubeconfig `insecure-skip-tls-verify`); logs a warning.
    pub insecure: bool,
    /// Verify the certificate against this name instead of the URL's host.
    pub tls_server_name: Option<String>,
    /// Client certificate authentication.
    pub identity: Option<ClientIdentity>,
    /// Bearer token source.
    pub credentials: Credentials,
    /// Where this came from, for the startup log (`in-cluster`, `kubeconfig FILE context C`).
    pub origin: String,
}

impl UpstreamSpec {
    /// In-cluster configuration (see the module documentation). `root` is `--root`; `env` the
    /// process env lookup, consulted after `DIR/.pod-introspect/container.json`.
    ///
    /// Errors: [`UpstreamError::Location`] when `KUBERNETES_SERVICE_HOST`/`PORT` are missing or
    /// bad; [`UpstreamError::Root`] when the container description is malformed.
    pub fn in_cluster(
        root: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<UpstreamSpec, UpstreamError> {
        let container_env = match root {
            Some(dir) => pod_introspect_kubelet::ContainerSandbox::load(dir)
                .map_err(|e| UpstreamError::Root {
                    path: dir.to_path_buf(),
                    message: e.to_string(),
                })?
                .map(|c| c.env)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let lookup = |name: &str| {
            if name == incluster::API_URL_ENV {
                return None;
            }
            container_env
                .iter()
                .rev()
                .find(|e| e.name == name)
                .map(|e| e.value.clone())
                .or_else(|| env(name))
        };
        let location = incluster::api_location(lookup).map_err(UpstreamError::Location)?;
        let server = parse_server(&location.base_url)?;
        Ok(UpstreamSpec {
            server,
            ca: CaSource::File(CredentialPath::in_container(root, incluster::CA_FILE)),
            insecure: false,
            tls_server_name: None,
            identity: None,
            credentials: Credentials::TokenFile(CredentialPath::in_container(
                root,
                incluster::TOKEN_FILE,
            )),
            origin: format!("in-cluster ({})", location.base_url),
        })
    }

    /// The current context of a kubeconfig file (see the module documentation).
    ///
    /// Errors: [`UpstreamError::Kubeconfig`] naming the problem: unreadable, not YAML, no
    /// current context, a context naming a missing cluster or user, an `exec` or
    /// `auth-provider` user (not supported: use a token or client certificate), bad base64.
    pub fn from_kubeconfig(path: &Path) -> Result<UpstreamSpec, UpstreamError> {
        crate::proxy::kubeconfig::load(path)
    }
}

impl UpstreamSpec {
    /// Whether the server is reached over TLS, the only transport credentials are sent on.
    ///
    /// client-go reads a kubeconfig user's credentials (token, token file, client certificate)
    /// only when the transport is TLS (`tools/clientcmd/client_config.go`, `ClientConfig`: "only
    /// try to read the auth information if we are secure", `rest.IsConfigTransportTLS`), so
    /// `kubectl proxy` sends none to an `http://` server; the proxy does the same and says so at
    /// startup ([`Upstream::new`](super::Upstream::new)).
    pub fn is_tls(&self) -> bool {
        self.server.scheme() == Some(&http::uri::Scheme::HTTPS)
    }

    /// Whether credentials are configured that [`is_tls`](Self::is_tls) keeps from being sent.
    pub fn withholds_credentials(&self) -> bool {
        !self.is_tls() && (self.credentials != Credentials::None || self.identity.is_some())
    }
}

/// Parses a server URL (`https://host:port[/path]`, `http://...`).
pub(crate) fn parse_server(url: &str) -> Result<Uri, UpstreamError> {
    let bad = |message: &str| UpstreamError::Url {
        url: url.to_string(),
        message: message.to_string(),
    };
    let uri: Uri = url.parse().map_err(|_| bad("not a valid URL"))?;
    match uri.scheme_str() {
        Some("https") | Some("http") => {}
        _ => return Err(bad("the scheme must be https:// or http://")),
    }
    if uri.authority().is_none() {
        return Err(bad("the host is missing"));
    }
    Ok(uri)
}

/// The proxy's message for a [`incluster::LocationError`]. Unlike the guest's, it does not
/// suggest `POD_INTROSPECT_API_URL` (the proxy is what that variable points at) but the proxy's
/// own ways: in a pod the kubelet's env, with `--root` what `simulate --cluster` writes, else
/// `--kubeconfig`.
pub fn location_message(e: &incluster::LocationError) -> String {
    match e {
        incluster::LocationError::NotInCluster { missing } => format!(
            "not running in a cluster: {missing} is not set (the kubelet sets {} and {} in \
             every container; for a simulated pod, `pod-introspect simulate --cluster DIR` writes \
             them into --root's pod; outside a pod give --kubeconfig FILE)",
            incluster::SERVICE_HOST_ENV,
            incluster::SERVICE_PORT_ENV
        ),
        other => other.to_string(),
    }
}
