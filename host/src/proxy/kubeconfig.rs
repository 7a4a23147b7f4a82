//! `--kubeconfig FILE`: the current context of a client-go kubeconfig, for running the proxy on
//! a workstation.
//!
//! Upstream: client-go `tools/clientcmd/api/v1/types.go` (field names) and
//! `tools/clientcmd/loader.go` (`ResolveLocalPaths`: relative file paths are relative to the
//! kubeconfig's directory). Supported: cluster `server`, `certificate-authority`,
//! `certificate-authority-data`, `insecure-skip-tls-verify`, `tls-server-name`; user `token`,
//! `tokenFile`, `client-certificate[-data]`, `client-key[-data]`. `exec` and `auth-provider`
//! users are refused with a message (they need client-go's plugins).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::upstream::{
    CaSource, ClientIdentity, Credentials, UpstreamError, UpstreamSpec, parse_server,
};

#[derive(Deserialize)]
struct Kubeconfig {
    #[serde(rename = "current-context", default)]
    current_context: String,
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(default)]
    users: Vec<NamedUser>,
}

#[derive(Deserialize)]
struct NamedCluster {
    name: String,
    cluster: Cluster,
}

#[derive(Deserialize)]
struct Cluster {
    #[serde(default)]
    server: String,
    #[serde(rename = "certificate-authority", default)]
    certificate_authority: Option<String>,
    #[serde(rename = "certificate-authority-data", default)]
    certificate_authority_data: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", default)]
    insecure_skip_tls_verify: bool,
    #[serde(rename = "tls-server-name", default)]
    tls_server_name: Option<String>,
}

#[derive(Deserialize)]
struct NamedContext {
    name: String,
    context: Context,
}

#[derive(Deserialize)]
struct Context {
    cluster: String,
    #[serde(default)]
    user: String,
}

#[derive(Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: User,
}

#[derive(Deserialize, Default, Clone)]
struct User {
    #[serde(default)]
    token: Option<String>,
    #[serde(rename = "tokenFile", default)]
    token_file: Option<String>,
    #[serde(rename = "client-certificate", default)]
    client_certificate: Option<String>,
    #[serde(rename = "client-certificate-data", default)]
    client_certificate_data: Option<String>,
    #[serde(rename = "client-key", default)]
    client_key: Option<String>,
    #[serde(rename = "client-key-data", default)]
    client_key_data: Option<String>,
    #[serde(default)]
    exec: Option<serde_json::Value>,
    #[serde(rename = "auth-provider", default)]
    auth_provider: Option<serde_json::Value>,
}

/// Loads the current context of `path` (see the module documentation).
pub(crate) fn load(path: &Path) -> Result<UpstreamSpec, UpstreamError> {
    let err = |message: String| UpstreamError::Kubeconfig {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let config: Kubeconfig = serde_saphyr::from_str(&text).map_err(|e| {
        err(format!(
            "not a kubeconfig (apiVersion: v1, kind: Config): {e}"
        ))
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    if config.current_context.is_empty() {
        return Err(err(
            "no current-context is set (kubectl config use-context NAME)".into(),
        ));
    }
    let ctx = config
        .contexts
        .iter()
        .find(|c| c.name == config.current_context)
        .ok_or_else(|| {
            err(format!(
                "current-context {:?} is not among its contexts",
                config.current_context
            ))
        })?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == ctx.context.cluster)
        .ok_or_else(|| {
            err(format!(
                "context {:?} names cluster {:?}, which is not defined",
                ctx.name, ctx.context.cluster
            ))
        })?;
    let user = if ctx.context.user.is_empty() {
        User::default()
    } else {
        let named = config
            .users
            .iter()
            .find(|u| u.name == ctx.context.user)
            .ok_or_else(|| {
                err(format!(
                    "context {:?} names user {:?}, which is not defined",
                    ctx.name, ctx.context.user
                ))
            })?;
        if named.user.exec.is_some() || named.user.auth_provider.is_some() {
            return Err(err(format!(
                "user {:?} authenticates with an exec or auth-provider plugin, which the proxy \
                 does not run; give it a token, tokenFile or client certificate",
                named.name
            )));
        }
        named.user.clone()
    };
    let b64 = |what: &str, data: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| err(format!("{what} is not valid base64: {e}")))
    };
    let c = &cluster.cluster;
    let ca = match (&c.certificate_authority_data, &c.certificate_authority) {
        (Some(data), _) if !data.is_empty() => {
            CaSource::Pem(b64("certificate-authority-data", data)?)
        }
        (_, Some(file)) if !file.is_empty() => CaSource::File(resolve(file)),
        _ => CaSource::None,
    };
    let read = |what: &str, file: &str| {
        std::fs::read(resolve(file)).map_err(|e| err(format!("{what} {file}: cannot read it: {e}")))
    };
    let cert = match (&user.client_certificate_data, &user.client_certificate) {
        (Some(d), _) if !d.is_empty() => Some(b64("client-certificate-data", d)?),
        (_, Some(f)) if !f.is_empty() => Some(read("client-certificate", f)?),
        _ => None,
    };
    let key = match (&user.client_key_data, &user.client_key) {
        (Some(d), _) if !d.is_empty() => Some(b64("client-key-data", d)?),
        (_, Some(f)) if !f.is_empty() => Some(read("client-key", f)?),
        _ => None,
    };
    let identity = match (cert, key) {
        (Some(cert_pem), Some(key_pem)) => Some(ClientIdentity { cert_pem, key_pem }),
        (None, None) => None,
        _ => {
            return Err(err(
                "a client certificate needs both the certificate and the key".into(),
            ));
        }
    };
    let credentials = match (&user.token, &user.token_file) {
        (Some(t), _) if !t.is_empty() => Credentials::Token(t.clone()),
        (_, Some(f)) if !f.is_empty() => Credentials::TokenFile(resolve(f)),
        _ => Credentials::None,
    };
    let server = parse_server(&c.server).map_err(|e| err(e.to_string()))?;
    Ok(UpstreamSpec {
        server,
        ca,
        insecure: c.insecure_skip_tls_verify,
        tls_server_name: c.tls_server_name.clone().filter(|n| !n.is_empty()),
        identity,
        credentials,
        origin: format!("kubeconfig {} context {}", path.display(), ctx.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulators_kubeconfig_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        let text = pod_introspect_apiserver::kubeconfig::render(
            "https://127.0.0.1:6443",
            "PEM",
            "admin",
            "s3cret",
            "default",
        );
        std::fs::write(&path, text).unwrap();
        let spec = load(&path).unwrap();
        assert_eq!(spec.server.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(spec.ca, CaSource::Pem(b"PEM".to_vec()));
        assert_eq!(spec.credentials, Credentials::Token("s3cret".into()));
        assert!(!format!("{spec:?}").contains("s3cret"));

        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n\
             clusters: [{name: k, cluster: {server: 'https://10.0.0.1', certificate-authority: ca.pem}}]\n\
             users: [{name: u, user: {tokenFile: tok}}]\n",
        )
        .unwrap();
        let spec = load(&path).unwrap();
        assert_eq!(spec.ca, CaSource::File(dir.path().join("ca.pem")));
        assert_eq!(
            spec.credentials,
            Credentials::TokenFile(dir.path().join("tok"))
        );

        std::fs::write(
            &path,
            "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n\
             clusters: [{name: k, cluster: {server: 'https://10.0.0.1'}}]\n\
             users: [{name: u, user: {exec: {command: aws}}}]\n",
        )
        .unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("exec or auth-provider")
        );
        std::fs::write(&path, "current-context: x\n").unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("not among its contexts")
        );
        assert!(
            load(&dir.path().join("nope"))
                .unwrap_err()
                .to_string()
                .contains("cannot read")
        );
    }
}
