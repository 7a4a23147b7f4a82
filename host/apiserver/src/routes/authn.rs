//! Bearer-token authentication: the admin token, or a signed ServiceAccount token whose
//! ServiceAccount (and bound Pod) still exist with the same UID (`pkg/serviceaccount/claims.go`).

use http::{Request, header};

use super::lock;
use crate::rbac::UserInfo;
use crate::server::Shared;
use crate::tokens::now_unix;

/// Authenticates the `Authorization: Bearer` header. `Ok(None)` is anonymous (no header).
pub(super) fn authenticate(
    shared: &Shared,
    req: &Request<hyper::body::Incoming>,
) -> Result<Option<UserInfo>, ()> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    // `bearertoken.go` `AuthenticateRequest`: the trimmed header split on single spaces; the
    // token is the second part, so `Bearer  TOKEN` (two spaces) carries an empty token and is
    // no credential at all (anonymous), as is any other scheme.
    let mut parts = value.trim().splitn(3, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("");
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Ok(None);
    }
    let admin = shared.signer.admin_token().as_bytes();
    if token.len() == admin.len()
        && token
            .bytes()
            .zip(admin)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    {
        return Ok(Some(UserInfo::admin()));
    }
    let claims = shared.signer.verify(token, now_unix()).map_err(|_| ())?;
    let k = &claims.kubernetes;
    let store = lock(shared);
    // Like the legacy/bound token validator: the ServiceAccount (and a bound pod) must still
    // exist with the same UID (`pkg/serviceaccount/claims.go`).
    let sa = store
        .service_account(&k.namespace, &k.serviceaccount.name)
        .ok_or(())?;
    if sa.metadata.uid.as_deref() != Some(k.serviceaccount.uid.as_str()) {
        return Err(());
    }
    if let Some(pod_ref) = &k.pod {
        let pod = store.pod(&k.namespace, &pod_ref.name).ok_or(())?;
        if pod.metadata.uid.as_deref() != Some(pod_ref.uid.as_str()) {
            return Err(());
        }
    }
    Ok(Some(UserInfo::service_account(
        &k.namespace,
        &k.serviceaccount.name,
    )))
}
