//! [`Transport`] over `wasi:http/outgoing-handler` (WASI 0.2), the only network import the guest
//! has: the runtime decides TLS trust and which hosts may be reached.

use crate::api::{ApiError, BodyStream, Request, Response, Transport};
use crate::world::wasi::http::outgoing_handler;
use crate::world::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use crate::world::wasi::io::streams::{InputStream, StreamError};

/// Connect timeout asked of the runtime, in nanoseconds (10 s).
const CONNECT_TIMEOUT_NS: u64 = 10_000_000_000;

/// The wasi:http transport.
pub struct WasiHttp;

/// A response body being read. Field order is drop order: the stream before its body, the body
/// before its response, as wasi:http requires of child resources.
struct WasiBody {
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    _response: IncomingResponse,
    url: String,
}

impl Drop for WasiBody {
    fn drop(&mut self) {
        drop(self.stream.take());
        if let Some(body) = self.body.take() {
            let _ = IncomingBody::finish(body);
        }
    }
}

impl BodyStream for WasiBody {
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        let Some(stream) = self.stream.as_ref() else {
            return Ok(None);
        };
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) if chunk.is_empty() => continue,
                Ok(chunk) => return Ok(Some(chunk)),
                Err(StreamError::Closed) => {
                    self.stream = None;
                    return Ok(None);
                }
                Err(StreamError::LastOperationFailed(e)) => {
                    // The runtime's debug string may carry a host backtrace: keep its first line.
                    let detail = e.to_debug_string();
                    let detail = detail.lines().next().unwrap_or("").trim();
                    return Err(ApiError::Transport(format!(
                        "reading the response of {} failed: {detail}",
                        self.url
                    )));
                }
            }
        }
    }
}

fn split_url(url: &str) -> Result<(Scheme, &str, &str), ApiError> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (Scheme::Http, r)
    } else {
        return Err(ApiError::Invalid(format!("{url}: not an http(s) URL")));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok((scheme, authority, path))
}

/// The API error for a wasi:http error code, naming the URL's host.
fn error_code(code: ErrorCode, authority: &str) -> ApiError {
    match code {
        ErrorCode::TlsCertificateError => ApiError::Tls(format!(
            "TLS with {authority} failed: the server certificate could not be verified against the pod's ServiceAccount ca.crt (an unknown issuer, a name or IP that is not among its SANs, an expired certificate, or an unreadable or empty ca.crt; the runtime's log names the cause)"
        )),
        ErrorCode::TlsProtocolError => {
            ApiError::Tls(format!("TLS with {authority} failed: protocol error"))
        }
        ErrorCode::TlsAlertReceived(a) => ApiError::Tls(format!(
            "TLS with {authority} failed: alert {} {}",
            a.alert_id.map(|i| i.to_string()).unwrap_or_default(),
            a.alert_message.unwrap_or_default()
        )),
        ErrorCode::HttpRequestDenied => ApiError::Transport(format!(
            "the runtime refused a request to {authority}: it is not an allowed outbound host"
        )),
        ErrorCode::ConnectionRefused => ApiError::Transport(format!(
            "connection to {authority} refused: is the API server up?"
        )),
        ErrorCode::ConnectionTimeout => {
            ApiError::Transport(format!("connecting to {authority} timed out"))
        }
        ErrorCode::HttpResponseTimeout | ErrorCode::ConnectionReadTimeout => {
            ApiError::Transport(format!("{authority} did not answer in time"))
        }
        ErrorCode::DestinationNotFound | ErrorCode::DnsError(_) => {
            ApiError::Transport(format!("{authority}: host not found"))
        }
        other => ApiError::Transport(format!("request to {authority} failed: {other:?}")),
    }
}

/// The wasi:http method for an upper-case method name.
fn method(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    }
}

impl Transport for WasiHttp {
    fn send(&mut self, req: Request<'_>) -> Result<Response, ApiError> {
        let url = req.url;
        let (scheme, authority, path) = split_url(url)?;
        let entries: Vec<(String, Vec<u8>)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect();
        let fields = Fields::from_list(&entries).map_err(|e| {
            ApiError::Invalid(format!("request headers refused by the runtime: {e:?}"))
        })?;
        let request = OutgoingRequest::new(fields);
        let invalid = |what: &str| ApiError::Invalid(format!("{url}: invalid {what}"));
        request
            .set_method(&method(req.method))
            .map_err(|()| invalid("method"))?;
        request
            .set_scheme(Some(&scheme))
            .map_err(|()| invalid("scheme"))?;
        request
            .set_authority(Some(authority))
            .map_err(|()| invalid("host"))?;
        request
            .set_path_with_query(Some(path))
            .map_err(|()| invalid("path"))?;
        let body = request.body().map_err(|()| invalid("body"))?;
        let options = RequestOptions::new();
        // Not every runtime supports setting timeouts; theirs apply then.
        let timeout_ns = req
            .timeout
            .map(|t| u64::try_from(t.as_nanos()).unwrap_or(u64::MAX).max(1));
        let _ = options.set_connect_timeout(Some(
            timeout_ns.map_or(CONNECT_TIMEOUT_NS, |t| t.min(CONNECT_TIMEOUT_NS)),
        ));
        if let Some(t) = timeout_ns {
            let _ = options.set_first_byte_timeout(Some(t));
            let _ = options.set_between_bytes_timeout(Some(t));
        }
        let future = outgoing_handler::handle(request, Some(options))
            .map_err(|e| error_code(e, authority))?;
        let written = match req.body {
            Some(bytes) => write_body(&body, bytes, url),
            None => Ok(()),
        };
        let response = match written {
            Ok(()) => {
                OutgoingBody::finish(body, None).map_err(|e| error_code(e, authority))?;
                await_response(&future, url, authority)?
            }
            // The server may answer before it reads the body (kube-apiserver authorizes first:
            // an early 403, or a 413) and close the stream: its answer is the outcome, as Go's
            // Transport returns a response that arrived while the body was being written. Only
            // when none came is the write's failure the error.
            Err(write_failed) => {
                drop(body);
                await_response(&future, url, authority).map_err(|_| write_failed)?
            }
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let body = response
            .consume()
            .map_err(|()| ApiError::Transport(format!("{url}: no response body")))?;
        let stream = body
            .stream()
            .map_err(|()| ApiError::Transport(format!("{url}: no body stream")))?;
        Ok(Response {
            status,
            headers,
            body: Box::new(WasiBody {
                stream: Some(stream),
                body: Some(body),
                _response: response,
                url: url.to_string(),
            }),
        })
    }
}

/// Blocks (on the future's pollable) until the response head arrives.
fn await_response(
    future: &FutureIncomingResponse,
    url: &str,
    authority: &str,
) -> Result<IncomingResponse, ApiError> {
    loop {
        match future.get() {
            Some(Ok(Ok(r))) => return Ok(r),
            Some(Ok(Err(e))) => return Err(error_code(e, authority)),
            Some(Err(())) => {
                return Err(ApiError::Transport(format!(
                    "{url}: response already taken"
                )));
            }
            None => future.subscribe().block(),
        }
    }
}

/// Writes a request body through the outgoing body's stream, in pieces the stream accepts
/// (`check-write`), blocking as wasi:io asks.
fn write_body(body: &OutgoingBody, bytes: &[u8], url: &str) -> Result<(), ApiError> {
    let stream = body
        .write()
        .map_err(|()| ApiError::Transport(format!("{url}: no request body stream")))?;
    let failed = |e: StreamError| {
        let detail = match e {
            StreamError::Closed => "the stream was closed".to_string(),
            StreamError::LastOperationFailed(e) => e
                .to_debug_string()
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        };
        ApiError::Transport(format!(
            "sending the request body to {url} failed: {detail}"
        ))
    };
    // `blocking-write-and-flush` takes at most 4096 bytes per call (wasi:io/streams).
    for chunk in bytes.chunks(4096) {
        stream.blocking_write_and_flush(chunk).map_err(failed)?;
    }
    drop(stream);
    Ok(())
}
