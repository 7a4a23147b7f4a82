//! `--kubeconfig FILE`: the current context of a client-go kubeconfig, for running the proxy on
//! a workstation.
//!
//! The file is read by [`pod_introspect_kube::kubeconfig`] (client-go
//! `tools/clientcmd/api/v1/types.go` field names, `tools/clientcmd/loader.go` relative paths);
//! this module reads the files it names and builds the [`UpstreamSpec`]. Supported: cluster
//! `server`, `certificate-authority`, `certificate-authority-data`, `insecure-skip-tls-verify`,
//! `tls-server-name`; user `token`, `tokenFile`, `client-certificate[-data]`,
//! `client-key[-data]`. `exec` and `auth-provider` users are refused with a message (they need
//! client-go's plugins).

use std::path::Path;

use crate::credential_files::CredentialPath;

use pod_introspect_kube::kubeconfig::{DataOrFile, Kubeconfig};

use super::upstream::{
    CaSource, ClientIdentity, Credentials, UpstreamError, UpstreamSpec, parse_server,
};

/// Loads the current context of `path` (see the module documentation).
pub(crate) fn load(path: &Path) -> Result<UpstreamSpec, UpstreamError> {
    let err = |message: String| UpstreamError::Kubeconfig {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let config = Kubeconfig::parse(&text, dir).map_err(err)?;
    let ca = match config.certificate_authority {
        Some(DataOrFile::Data(pem)) => CaSource::Pem(pem),
        Some(DataOrFile::File(file)) => CaSource::File(CredentialPath::host(file)),
        None => CaSource::None,
    };
    let read = |what: &str, source: Option<DataOrFile>| match source {
        Some(DataOrFile::Data(d)) => Ok(Some(d)),
        Some(DataOrFile::File(f)) => std::fs::read(&f)
            .map(Some)
            .map_err(|e| err(format!("{what} {}: cannot read it: {e}", f.display()))),
        None => Ok(None),
    };
    let cert = read("client-certificate", config.client_certificate)?;
    let key = read("client-key", config.client_key)?;
    let identity = match (cert, key) {
        (Some(cert_pem), Some(key_pem)) => Some(ClientIdentity { cert_pem, key_pem }),
        (None, None) => None,
        _ => {
            return Err(err(
                "a client certificate needs both the certificate and the key".into(),
            ));
        }
    };
    let credentials = match (config.token, config.token_file) {
        (Some(t), _) => Credentials::Token(t),
        (None, Some(f)) => Credentials::TokenFile(CredentialPath::host(f)),
        (None, None) => Credentials::None,
    };
    let server = parse_server(&config.server).map_err(|e| err(e.to_string()))?;
    Ok(UpstreamSpec {
        server,
        ca,
        insecure: config.insecure_skip_tls_verify,
        tls_server_name: config.tls_server_name,
        identity,
        credentials,
        origin: format!("kubeconfig {} context {}", path.display(), config.context),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulators_kubeconfig_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        let text = pod_introspect_kube::kubeconfig::render(
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
        assert_eq!(
            spec.ca,
            CaSource::File(CredentialPath::host(dir.path().join("ca.pem")))
        );
        assert_eq!(
            spec.credentials,
            Credentials::TokenFile(CredentialPath::host(dir.path().join("tok")))
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
