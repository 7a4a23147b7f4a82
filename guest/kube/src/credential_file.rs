//! Reading a credential file (the ServiceAccount `token`, the cluster `ca.crt`, a kubeconfig
//! `tokenFile`) safely: one rule for the guest, the proxy and the host's outbound TLS.
//!
//! The rule: the file must be a regular file (a FIFO, socket or device is refused before anything
//! is read, so a FIFO cannot hang the reader), it must not be bigger than its cap, and at most
//! `cap + 1` bytes are ever read (a file that grows while being read is refused too). On Unix the
//! file is opened with `O_NONBLOCK`, so even opening a FIFO returns at once. Where the file is
//! opened is the caller's: the guest opens it through its WASI preopen (which already refuses a
//! symlink that leaves the preopened directory), the host opens it beneath `--root` the same way
//! (`pod_introspect::credential_files`), and both then read it with [`read_open`].
//!
//! The kubelet writes these files itself (`pkg/volume/projected`, AtomicWriter: regular files
//! behind `..data` symlinks), so the rule refuses nothing a real pod has.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::Path;

/// The most bytes a token file may hold: 64 KiB. A bound ServiceAccount token is a JWT of 1–2 KB;
/// a token can only be sent in an `Authorization` header, and the proxy refuses header lists over
/// 64 KiB (`proxy::forward::headers::MAX_HEADER_LIST_BYTES`), so a bigger token could never be used.
pub const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// The most bytes a CA bundle file may hold: 1 MiB, the most a ConfigMap (`kube-root-ca.crt`, which
/// the kubelet projects as `ca.crt`) or a Secret can hold (apimachinery `MaxSecretSize`,
/// `pkg/apis/core/validation` ConfigMap total size).
pub const MAX_CA_BYTES: u64 = 1024 * 1024;

/// Opens `path` for reading (with `O_NONBLOCK` on Unix) and reads it with [`read_open`].
///
/// Errors: a message naming what is wrong (not the path: callers name it), e.g. `No such file or
/// directory (os error 2)`, `it is a FIFO, not a regular file`, `it is 104857600 bytes, more than
/// the 65536 allowed`.
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    read_open(file, cap)
}

/// Reads an opened credential file: refuses a file that is not regular or is bigger than `cap`
/// bytes, and reads at most `cap + 1` bytes (then refuses). Errors as [`read`].
pub fn read_open(file: File, cap: u64) -> Result<Vec<u8>, String> {
    let meta = file.metadata().map_err(|e| e.to_string())?;
    check_metadata(&meta, cap)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e: io::Error| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(too_big(bytes.len() as u64, cap));
    }
    Ok(bytes)
}

/// The file-type and size part of the rule, for callers that stat before reading (the CA
/// watcher compares stamps first). Errors as [`read`].
pub fn check_metadata(meta: &std::fs::Metadata, cap: u64) -> Result<(), String> {
    if !meta.is_file() {
        return Err(format!(
            "it is {}, not a regular file",
            kind(&meta.file_type())
        ));
    }
    if meta.len() > cap {
        return Err(too_big(meta.len(), cap));
    }
    Ok(())
}

fn too_big(len: u64, cap: u64) -> String {
    format!("it is {len} bytes, more than the {cap} allowed")
}

fn kind(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_under_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "abc").unwrap();
        assert_eq!(read(&p, 3).unwrap(), b"abc");
        assert_eq!(
            read(&p, 2).unwrap_err(),
            "it is 3 bytes, more than the 2 allowed"
        );
    }

    #[test]
    fn directories_and_fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read(dir.path(), MAX_TOKEN_BYTES).unwrap_err(),
            "it is a directory, not a regular file"
        );
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            // No writer: a blocking open would wait forever.
            assert_eq!(
                read(&fifo, MAX_TOKEN_BYTES).unwrap_err(),
                "it is a FIFO, not a regular file"
            );
        }
    }
}
