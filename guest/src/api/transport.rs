//! The abstract HTTP transport (wasi:http in the component, a fake in tests) and bounded body
//! reading.

use super::ApiError;

/// A response whose body is read in chunks.
pub trait BodyStream {
    /// The next chunk, or `None` at the end of the body.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError>;
}

/// Sends GET requests. `url` is absolute (`https://10.96.0.1:443/version?x=y`); `headers` are
/// lower-case names with values.
pub trait Transport {
    /// Sends a GET and returns the status and the body as a stream.
    fn get(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<(u16, Box<dyn BodyStream>), ApiError>;
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
