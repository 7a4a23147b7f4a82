//! `/openapi/v2` in the protobuf form client-go asks for
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, gnostic's
//! `openapiv2.Document`, `github.com/google/gnostic-models/openapiv2/OpenAPIv2.proto`).
//!
//! client-go's `OpenAPISchema` asks only for protobuf, and kubectl 1.27's `apply` fails when
//! that download fails (`the server could not find the requested resource`). Every kubectl
//! this emulator supports takes what matters from OpenAPI v3 (validation, the strategic
//! patch metadata, `explain`) and falls back to its built-in types for the rest, so this
//! document carries only `swagger: "2.0"` and `info` (fields 1 and 2): a valid Document
//! without paths or definitions. The JSON `/openapi/v2` has the full Swagger document.

/// The media type.
pub const MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// Appends a length-delimited field.
fn ld(tag: u32, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(((tag << 3) | 2) as u8);
    let mut n = bytes.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(bytes);
}

/// The encoded document: `swagger` (1) = `2.0`, `info` (2) = {`title` (1) = `Kubernetes`,
/// `version` (2) = [`super::INFO_VERSION`]}.
pub fn document() -> Vec<u8> {
    let mut info = Vec::new();
    ld(1, b"Kubernetes", &mut info);
    ld(2, super::INFO_VERSION.as_bytes(), &mut info);
    let mut doc = Vec::new();
    ld(1, b"2.0", &mut doc);
    ld(2, &info, &mut doc);
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_swagger_2_0_with_its_info() {
        let mut want = vec![0x0a, 3];
        want.extend_from_slice(b"2.0");
        let info_len = 2 + 10 + 2 + super::super::INFO_VERSION.len();
        want.extend_from_slice(&[0x12, info_len as u8, 0x0a, 10]);
        want.extend_from_slice(b"Kubernetes");
        want.extend_from_slice(&[0x12, super::super::INFO_VERSION.len() as u8]);
        want.extend_from_slice(super::super::INFO_VERSION.as_bytes());
        assert_eq!(super::document(), want);
    }
}
