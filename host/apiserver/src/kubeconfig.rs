//! The admin kubeconfig written to `state_dir/kubeconfig` (client-go `clientcmd` v1 format).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The cluster and context name in generated kubeconfigs.
pub const CLUSTER_NAME: &str = "pod-introspect-dev";

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Renders a kubeconfig: cluster [`CLUSTER_NAME`] at `server` trusting `ca_pem`
/// (`certificate-authority-data`, base64 of the PEM), user `user` with bearer `token`, context
/// [`CLUSTER_NAME`] (current) with `namespace`.
pub fn render(server: &str, ca_pem: &str, user: &str, token: &str, namespace: &str) -> String {
    let ca = STANDARD.encode(ca_pem.as_bytes());
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {cluster}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
         users:\n\
         - name: {user}\n  user:\n    token: {token}\n\
         contexts:\n\
         - name: {cluster}\n  context:\n    cluster: {cluster}\n    user: {user}\n    namespace: {namespace}\n\
         current-context: {cluster}\n\
         preferences: {{}}\n",
        cluster = CLUSTER_NAME,
        server = quote(server),
        user = quote(user),
        token = quote(token),
        namespace = quote(namespace),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_parseable_yaml() {
        let text = render(
            "https://127.0.0.1:6443",
            "PEM",
            "admin",
            "tok.en",
            "default",
        );
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(v["current-context"], CLUSTER_NAME);
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:6443"
        );
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            STANDARD.encode("PEM")
        );
        assert_eq!(v["users"][0]["user"]["token"], "tok.en");
        assert_eq!(v["contexts"][0]["context"]["namespace"], "default");
    }
}
