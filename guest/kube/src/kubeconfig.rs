//! Kubeconfig files (client-go `clientcmd` v1 format): the current context's cluster and user,
//! read for `proxy --kubeconfig` and `simulate --cluster`, and the admin kubeconfig the
//! API-server emulator writes. Behind the `kubeconfig` feature (YAML and base64; the guest does
//! not enable it).
//!
//! Upstream: client-go `tools/clientcmd/api/v1/types.go` (field names) and
//! `tools/clientcmd/loader.go` (`ResolveLocalPaths`: relative file paths are relative to the
//! kubeconfig's directory). Read: cluster `server`, `certificate-authority`,
//! `certificate-authority-data`, `insecure-skip-tls-verify`, `tls-server-name`; user `token`,
//! `tokenFile`, `client-certificate[-data]`, `client-key[-data]`; context `namespace`. `exec`
//! and `auth-provider` users are refused (they need client-go's plugins). A `*-data` field wins
//! over its file field, as in client-go.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// The cluster and context name in generated kubeconfigs.
pub const CLUSTER_NAME: &str = "pod-introspect-dev";

#[derive(Deserialize)]
struct File {
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
    cluster: ClusterFields,
}

#[derive(Deserialize)]
struct ClusterFields {
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
    context: ContextFields,
}

#[derive(Deserialize)]
struct ContextFields {
    cluster: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: UserFields,
}

#[derive(Deserialize, Default)]
struct UserFields {
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

/// Inline bytes (a `*-data` field, base64-decoded) or a file path (resolved against the
/// kubeconfig's directory).
#[derive(Clone, PartialEq, Eq)]
pub enum DataOrFile {
    /// The decoded bytes of a `*-data` field.
    Data(Vec<u8>),
    /// An absolute path, or one relative to the kubeconfig's directory, made absolute by
    /// [`Kubeconfig::parse`]'s `dir`.
    File(PathBuf),
}

impl std::fmt::Debug for DataOrFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataOrFile::Data(d) => write!(f, "Data({} bytes)", d.len()),
            DataOrFile::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// The current context of a kubeconfig, resolved. `Debug` never shows a token or key.
#[derive(Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// The current context's name.
    pub context: String,
    /// The context's default namespace (empty: none set).
    pub namespace: String,
    /// The cluster's `server` URL as written.
    pub server: String,
    /// `certificate-authority-data` or `certificate-authority`.
    pub certificate_authority: Option<DataOrFile>,
    /// `insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
    /// `tls-server-name`, when set and not empty.
    pub tls_server_name: Option<String>,
    /// The user's `token`, when set and not empty.
    pub token: Option<String>,
    /// The user's `tokenFile`, when set (and no `token`).
    pub token_file: Option<PathBuf>,
    /// `client-certificate-data` or `client-certificate`.
    pub client_certificate: Option<DataOrFile>,
    /// `client-key-data` or `client-key`.
    pub client_key: Option<DataOrFile>,
}

impl std::fmt::Debug for Kubeconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kubeconfig")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .finish_non_exhaustive()
    }
}

impl Kubeconfig {
    /// Parses kubeconfig YAML `text` and resolves its current context; relative file paths are
    /// joined to `dir` (the kubeconfig's directory).
    ///
    /// Errors (a message to prefix with the file name): not YAML of this shape, no
    /// `current-context`, a context naming a missing cluster or user, an `exec` or
    /// `auth-provider` user, a `*-data` field that is not base64.
    pub fn parse(text: &str, dir: &Path) -> Result<Kubeconfig, String> {
        let file: File = serde_saphyr::from_str(text)
            .map_err(|e| format!("not a kubeconfig (apiVersion: v1, kind: Config): {e}"))?;
        if file.current_context.is_empty() {
            return Err("no current-context is set (kubectl config use-context NAME)".into());
        }
        let ctx = file
            .contexts
            .iter()
            .find(|c| c.name == file.current_context)
            .ok_or_else(|| {
                format!(
                    "current-context {:?} is not among its contexts",
                    file.current_context
                )
            })?;
        let cluster = &file
            .clusters
            .iter()
            .find(|c| c.name == ctx.context.cluster)
            .ok_or_else(|| {
                format!(
                    "context {:?} names cluster {:?}, which is not defined",
                    ctx.name, ctx.context.cluster
                )
            })?
            .cluster;
        let default_user = UserFields::default();
        let user = if ctx.context.user.is_empty() {
            &default_user
        } else {
            let named = file
                .users
                .iter()
                .find(|u| u.name == ctx.context.user)
                .ok_or_else(|| {
                    format!(
                        "context {:?} names user {:?}, which is not defined",
                        ctx.name, ctx.context.user
                    )
                })?;
            if named.user.exec.is_some() || named.user.auth_provider.is_some() {
                return Err(format!(
                    "user {:?} authenticates with an exec or auth-provider plugin, which is not \
                     supported; give it a token, tokenFile or client certificate",
                    named.name
                ));
            }
            &named.user
        };
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        let pick = |what: &str, data: &Option<String>, file: &Option<String>| match (
            data.as_deref(),
            file.as_deref(),
        ) {
            (Some(d), _) if !d.is_empty() => STANDARD
                .decode(d.trim())
                .map(|b| Some(DataOrFile::Data(b)))
                .map_err(|e| format!("{what}-data is not valid base64: {e}")),
            (_, Some(f)) if !f.is_empty() => Ok(Some(DataOrFile::File(resolve(f)))),
            _ => Ok(None),
        };
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let token = non_empty(&user.token);
        Ok(Kubeconfig {
            context: ctx.name.clone(),
            namespace: ctx.context.namespace.clone(),
            server: cluster.server.clone(),
            certificate_authority: pick(
                "certificate-authority",
                &cluster.certificate_authority_data,
                &cluster.certificate_authority,
            )?,
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
            tls_server_name: non_empty(&cluster.tls_server_name),
            token_file: match token {
                Some(_) => None,
                None => non_empty(&user.token_file).map(|f| resolve(&f)),
            },
            token,
            client_certificate: pick(
                "client-certificate",
                &user.client_certificate_data,
                &user.client_certificate,
            )?,
            client_key: pick("client-key", &user.client_key_data, &user.client_key)?,
        })
    }
}

/// `s` as a YAML double-quoted scalar (YAML 1.2 §7.3.1) that reads back as `s`: `"` and `\\`
/// escaped, and every character YAML does not allow raw (outside `c-printable`: C0 and C1
/// controls, DEL, U+FFFE, U+FFFF) or reads as a line break or byte-order mark (`\n`, `\r`, U+0085,
/// U+2028, U+2029, U+FEFF) written as a `\xNN`, `\uNNNN` or `\UNNNNNNNN` escape.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let cp = u32::from(c);
        let raw = matches!(cp, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..)
            && !matches!(c, '"' | '\\' | '\u{2028}' | '\u{2029}' | '\u{feff}');
        match c {
            _ if raw => out.push(c),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ if cp <= 0xff => out.push_str(&format!("\\x{cp:02x}")),
            _ if cp <= 0xffff => out.push_str(&format!("\\u{cp:04x}")),
            _ => out.push_str(&format!("\\U{cp:08x}")),
        }
    }
    out.push('"');
    out
}

/// Renders a kubeconfig: cluster [`CLUSTER_NAME`] at `server` trusting `ca_pem`
/// (`certificate-authority-data`, base64 of the PEM), user `user` with bearer `token`, context
/// [`CLUSTER_NAME`] (current) with `namespace`. [`Kubeconfig::parse`] reads it back.
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

    /// Found by fuzz/fuzz_targets/kubeconfig.rs: a DEL in the server made render write a YAML
    /// double-quoted scalar with a raw U+007F, which YAML does not allow, so parse refused it.
    /// Every character YAML 1.2 does not print raw (c-printable) must be escaped.
    #[test]
    fn render_escapes_what_yaml_does_not_allow_raw() {
        let odd = "\u{7f}\u{80}\u{85}\u{9f}\u{a0}\u{2028}\u{2029}\u{feff}\u{fffe}\u{ffff}\u{0}\t\n\"\\é😀";
        let text = render("\u{7f}", "ca", "admin", odd, odd);
        assert!(text.contains(r#"server: "\x7f""#), "{text}");
        let k = Kubeconfig::parse(&text, Path::new("/kube")).unwrap();
        assert_eq!(k.server, "\u{7f}");
        assert_eq!(k.token.as_deref(), Some(odd));
        assert_eq!(k.namespace, odd);
    }

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

    #[test]
    fn reads_back_what_it_renders() {
        let dir = Path::new("/k");
        let text = render("https://[::1]:6443", "PEM", "admin", "s3cret", "demo");
        let k = Kubeconfig::parse(&text, dir).unwrap();
        assert_eq!(k.context, CLUSTER_NAME);
        assert_eq!(k.namespace, "demo");
        assert_eq!(k.server, "https://[::1]:6443");
        assert_eq!(
            k.certificate_authority,
            Some(DataOrFile::Data(b"PEM".to_vec()))
        );
        assert_eq!(k.token.as_deref(), Some("s3cret"));
        assert_eq!(k.token_file, None);
        assert!(!format!("{k:?}").contains("s3cret"));
    }

    #[test]
    fn files_are_relative_to_the_kubeconfig_and_errors_say_what_is_wrong() {
        let dir = Path::new("/home/u/.kube");
        let k = Kubeconfig::parse(
            "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n\
             clusters: [{name: k, cluster: {server: 'https://10.0.0.1', certificate-authority: ca.pem, tls-server-name: ''}}]\n\
             users: [{name: u, user: {tokenFile: tok, client-certificate: /abs/c.pem, client-key-data: a2V5}}]\n",
            dir,
        )
        .unwrap();
        assert_eq!(
            k.certificate_authority,
            Some(DataOrFile::File(dir.join("ca.pem")))
        );
        assert_eq!(k.token_file, Some(dir.join("tok")));
        assert_eq!(k.tls_server_name, None);
        assert_eq!(
            k.client_certificate,
            Some(DataOrFile::File(PathBuf::from("/abs/c.pem")))
        );
        assert_eq!(k.client_key, Some(DataOrFile::Data(b"key".to_vec())));

        let err = |text: &str| Kubeconfig::parse(text, dir).unwrap_err();
        assert!(
            err(
                "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n\
                 clusters: [{name: k, cluster: {server: 'https://10.0.0.1'}}]\n\
                 users: [{name: u, user: {exec: {command: aws}}}]\n"
            )
            .contains("exec or auth-provider")
        );
        assert!(err("current-context: x\n").contains("not among its contexts"));
        assert!(err("clusters: []\n").contains("no current-context"));
        assert!(
            err("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n")
                .contains("names cluster \"k\", which is not defined")
        );
        assert!(
            err(
                "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n\
                 clusters: [{name: k, cluster: {server: x, certificate-authority-data: '!!'}}]\n"
            )
            .contains("certificate-authority-data is not valid base64")
        );
        assert!(err("- a\n").contains("not a kubeconfig"));
    }
}
