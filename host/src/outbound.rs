//! Outbound HTTP policy for guests: the `wasi:http` send-request hook.
//!
//! The Downward API needs no network, so every outgoing request is refused with
//! `HttpRequestDenied` and logged with its host. Kubernetes API access (TLS trusting the
//! ServiceAccount `ca.crt`, an allow-list of the API server and the ambassador) plugs in here.

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Refuses every outgoing request.
#[derive(Debug, Default)]
pub struct DenyAll;

impl WasiHttpHooks for DenyAll {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        let host = request.uri().host().unwrap_or("<no host>").to_string();
        tracing::warn!(%host, "refused outgoing HTTP request: no outbound host is allowed for this guest");
        Box::new(async { Err(HttpError::HttpRequestDenied) })
    }
}
