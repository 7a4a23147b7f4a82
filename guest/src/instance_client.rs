//! The component instance's API client: in-cluster config ([`api::location_from_env`]) over
//! [`WasiHttp`], made on first use and kept for the instance's lifetime, so the token cache
//! (re-read when a minute old, client-go's rule) lives across export calls.

use crate::api::{self, ApiError, Client};
use crate::wasi_http::WasiHttp;
use std::cell::RefCell;

/// A client from in-cluster config, reading the token file with std::fs.
///
/// Errors: [`ApiError::NotInCluster`] and the others of [`api::location_from_env`].
pub fn new_client() -> Result<Client<WasiHttp>, ApiError> {
    let location = api::location_from_env()?;
    let start = std::time::Instant::now();
    Ok(Client::new(
        WasiHttp,
        location,
        // Through the WASI preopen (a symlink out of it is refused), with the one credential
        // file rule the host's proxy uses too: a regular file, at most MAX_TOKEN_BYTES.
        Box::new(|| {
            use pod_introspect_kube::credential_file;
            credential_file::read(
                std::path::Path::new(pod_introspect_kube::incluster::TOKEN_FILE),
                credential_file::MAX_TOKEN_BYTES,
            )
        }),
        Box::new(move || start.elapsed()),
    ))
}

thread_local! {
    /// One client per instance, so the token cache lives across calls.
    static CLIENT: RefCell<Option<Client<WasiHttp>>> = const { RefCell::new(None) };
}

/// Runs `f` with the instance's client, making it first if needed.
pub fn with_client<R>(
    f: impl FnOnce(&mut Client<WasiHttp>) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    CLIENT.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(new_client()?);
        }
        match slot.as_mut() {
            Some(c) => f(c),
            None => Err(ApiError::Invalid("no client".into())),
        }
    })
}
