//! The proxy's credentials on a forwarded request, as client-go's bearer round-tripper
//! (`transport/round_trippers.go`, `bearerAuthRoundTripper`) adds them: a client's own
//! `Authorization` header is forwarded unchanged and no token is added.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use pod_introspect_kube::incluster::TokenError;

use super::body::ProxyBody;
use super::responses::status;
use crate::proxy::upstream::Upstream;

/// Adds the upstream's `Authorization` to `headers` unless the client sent one. Returns the
/// header that was added (so a `401` can re-read the token and replay), `None` when the client's
/// own header or no credentials are used.
///
/// Errors: the token file was never readable (answer with [`unavailable`]).
pub(super) fn add(
    upstream: &Upstream,
    headers: &mut HeaderMap,
) -> Result<Option<HeaderValue>, TokenError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Ok(None);
    }
    let added = upstream.authorization()?;
    if let Some(h) = &added {
        headers.insert(header::AUTHORIZATION, h.clone());
    }
    Ok(added)
}

/// The `503 ServiceUnavailable` `Status` answer when the proxy has no credentials; logs a
/// warning naming the token file, never the token.
pub(super) fn unavailable(e: &TokenError) -> Response<ProxyBody> {
    tracing::warn!("cannot authenticate to the API server: {e}");
    status(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        format!("the proxy has no credentials for the API server: {e}"),
    )
}
