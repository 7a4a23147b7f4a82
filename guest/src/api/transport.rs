//! The abstract HTTP transport (wasi:http in the component, a fake in tests) and bounded body
//! reading.

use super::ApiError;

/// A response body being read in chunks.
pub trait BodyStream {
    /// The next chunk, or `None` at the end of the body.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError>;
}

/// One request as the client sends it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, ... (upper-case).
    pub method: &'a str,
    /// Absolute URL: `https://10.96.0.1:443/version?x=y`.
    pub url: &'a str,
    /// Lower-case header names with their values.
    pub headers: &'a [(String, String)],
    /// The body, sent whole; `None` sends none.
    pub body: Option<&'a [u8]>,
    /// How long to wait for the response head, and then between body bytes; `None`: the
    /// runtime's defaults.
    pub timeout: Option<std::time::Duration>,
}

/// A response whose head has arrived.
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers, names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, read on demand.
    pub body: Box<dyn BodyStream>,
}

impl Response {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends HTTP requests.
pub trait Transport {
    /// Sends `request` and returns once the response head has arrived.
    fn send(&mut self, request: Request<'_>) -> Result<Response, ApiError>;
}

/// Reads a whole body, refusing more than `limit` bytes.
pub fn read_all(body: &mut dyn BodyStream, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next_chunk()? {
        out.extend_from_slice(&chunk);
        if out.len() > limit {
            return Err(ApiError::Invalid(format!(
                "response body larger than {limit} bytes"
            )));
        }
    }
    Ok(out)
}

/// Largest response body read into memory (a 5,000-pod list is about 25 MB).
pub const MAX_BODY: usize = 256 << 20;
