//! Kubeconfig files (guest/kube `kubeconfig`, feature `kubeconfig`), read for
//! `proxy --kubeconfig` and `simulate --cluster`. Any text either parses or gives an error;
//! and the kubeconfig `render` writes (the dev-cluster's admin kubeconfig) parses back to the
//! values it was given, for any values.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::kubeconfig::{DataOrFile, Kubeconfig, render};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Kubeconfig::parse(text, Path::new("/kube"));

    // `server\0ca\0user\0token\0namespace`.
    let mut parts = text.splitn(5, '\0');
    let mut next = || parts.next().unwrap_or_default();
    let (server, ca, user, token, namespace) = (next(), next(), next(), next(), next());
    if user.is_empty() {
        // A context without a user means no credentials (client-go), so no token to read back.
        return;
    }
    let rendered = render(server, ca, user, token, namespace);
    let k = Kubeconfig::parse(&rendered, Path::new("/kube"))
        .unwrap_or_else(|e| panic!("render's output does not parse: {e}\n{rendered}"));
    assert_eq!(k.server, server);
    assert_eq!(k.namespace, namespace);
    assert_eq!(k.token.as_deref(), (!token.is_empty()).then_some(token));
    let want_ca = (!ca.is_empty()).then(|| DataOrFile::Data(ca.as_bytes().to_vec()));
    assert_eq!(k.certificate_authority, want_ca);
});
