//! [`ClusterError`], and the `Status` error bodies exactly as kube-apiserver writes them: the
//! wire type and its constructors live in [`pod_introspect_kube::status`] (shared with the proxy
//! and the guest) and are re-exported here.

use std::path::PathBuf;

pub use pod_introspect_kube::status::{
    CONTINUE_EXPIRED_MESSAGE, Status, StatusCause, StatusDetails,
};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Reading or writing a file under `state_dir` failed.
    #[error("failed to access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Binding the listen address failed. The OS error is part of the message and not also a
    /// `source`, so a printed error chain says it once.
    #[error("failed to listen on {addr}: {error}")]
    Bind {
        /// The requested address.
        addr: std::net::SocketAddr,
        /// The underlying error.
        error: std::io::Error,
    },
    /// Generating or loading a certificate or key failed.
    #[error("PKI error: {0}")]
    Pki(String),
    /// Building the TLS configuration failed.
    #[error("TLS configuration error: {0}")]
    Tls(#[from] rustls::Error),
    /// The RBAC rules text could not be parsed or is invalid.
    #[error("invalid RBAC rules: {0}")]
    Rbac(String),
    /// An API operation failed the way the API server would answer it (NotFound, Conflict,
    /// AlreadyExists, Invalid, ...). The [`Status`] is the body the server would send.
    #[error("{}", .0.message)]
    Api(Box<Status>),
}

impl ClusterError {
    /// The HTTP status code of an [`ClusterError::Api`] error, `None` for the others.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api(s) => Some(s.code),
            _ => None,
        }
    }
}

impl From<Status> for ClusterError {
    fn from(s: Status) -> Self {
        ClusterError::Api(Box::new(s))
    }
}
