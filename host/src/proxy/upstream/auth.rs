//! The bearer token the proxy adds: client-go `transport/token_source.go`
//! (`cachingTokenSource`) through the shared [`TokenSource`]: re-read when a minute old, trimmed,
//! empty is an error, a failed re-read keeps the last good token, and a `401` forces the next use
//! to re-read. The token only ever lives in a `sensitive` header value; it is never formatted
//! into a message.

use crate::credential_files::CredentialPath;
use pod_introspect_kube::credential_file;
use std::sync::Mutex;
use std::time::Instant;

use http::HeaderValue;
use pod_introspect_kube::incluster::{TokenError, TokenSource};

use super::spec::{Credentials, UpstreamError};

/// The bearer token with client-go's caching rules, as a ready `Authorization` header value.
pub(super) struct TokenState {
    path: CredentialPath,
    origin: Instant,
    inner: Mutex<TokenInner>,
}

struct TokenInner {
    source: TokenSource,
    current: Option<(String, HeaderValue)>,
}

impl TokenState {
    fn header(&self) -> Result<HeaderValue, TokenError> {
        let now = self.origin.elapsed();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let path = &self.path;
        let token = inner
            .source
            .token(now, || path.read(credential_file::MAX_TOKEN_BYTES))?;
        if let Some((t, h)) = &inner.current
            && *t == token
        {
            return Ok(h.clone());
        }
        let mut header =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| TokenError::Read {
                path: path.display().to_string(),
                message: "the token holds characters not allowed in an HTTP header".into(),
            })?;
        header.set_sensitive(true);
        inner.current = Some((token, header.clone()));
        Ok(header)
    }

    fn invalidate(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .source
            .invalidate();
    }
}

/// How requests are authenticated, ready to use.
pub(super) enum Auth {
    None,
    Fixed(HeaderValue),
    File(TokenState),
}

impl Auth {
    /// From the spec's credentials. Errors: [`UpstreamError::Tls`] for a fixed token that
    /// cannot be a header value.
    pub(super) fn new(credentials: &Credentials) -> Result<Auth, UpstreamError> {
        Ok(match credentials {
            Credentials::None => Auth::None,
            Credentials::Token(t) => {
                let mut h =
                    HeaderValue::from_str(&format!("Bearer {}", t.trim())).map_err(|_| {
                        UpstreamError::Tls(
                            "the token holds characters not allowed in a header".into(),
                        )
                    })?;
                h.set_sensitive(true);
                Auth::Fixed(h)
            }
            Credentials::TokenFile(path) => Auth::File(TokenState {
                path: path.clone(),
                origin: Instant::now(),
                inner: Mutex::new(TokenInner {
                    source: TokenSource::for_file(path.display().to_string()),
                    current: None,
                }),
            }),
        })
    }

    /// The `Authorization` value to add, `None` without credentials.
    ///
    /// Errors: [`TokenError`] when the token file was never readable (a later failed re-read
    /// keeps the last good token).
    pub(super) fn authorization(&self) -> Result<Option<HeaderValue>, TokenError> {
        match self {
            Auth::None => Ok(None),
            Auth::Fixed(h) => Ok(Some(h.clone())),
            Auth::File(t) => t.header().map(Some),
        }
    }

    /// After a `401` for a request sent with `sent`: forces a re-read of the token file and
    /// returns the new header if it differs (the request is then worth retrying once).
    pub(super) fn refresh_after_401(&self, sent: &HeaderValue) -> Option<HeaderValue> {
        let Auth::File(t) = self else {
            return None;
        };
        t.invalidate();
        match t.header() {
            Ok(h) if h != sent => Some(h),
            _ => None,
        }
    }
}
