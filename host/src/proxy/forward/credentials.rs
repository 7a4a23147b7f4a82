//! The proxy's credentials on a forwarded request, as client-go's bearer round-tripper
//! (`transport/round_trippers.go`, `bearerAuthRoundTripper`) adds them: a client's own
//! `Authorization` header is forwarded unchanged and no token is added.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use super::body::ProxyBody;
use super::responses::status;
use crate::proxy::upstream::Upstream;

/// Adds the upstream's `Authorization` to `headers` unless the client sent one. Returns the
/// header that was added (so a `401` can re-read the token and replay), `None` when the client's
/// own header or no credentials are used.
///
/// Errors: a `503 ServiceUnavailable` `Status` response when the token file was never readable
/// (logged as a warning naming the file, never the token).
pub(super) fn add(
    upstream: &Upstream,
    headers: &mut HeaderMap,
) -> Result<Option<HeaderValue>, Response<ProxyBody>> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Ok(None);
    }
    match upstream.authorization() {
        Ok(Some(h)) => {
            headers.insert(header::AUTHORIZATION, h.clone());
            Ok(Some(h))
        }
        Ok(None) => Ok(None),
        Err(e) => {
            tracing::warn!("cannot authenticate to the API server: {e}");
            Err(status(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                format!("the proxy has no credentials for the API server: {e}"),
            ))
        }
    }
}
