//! Plays the Kubernetes API server and kubelet for one container of a Pod manifest, so that a
//! WebAssembly guest can then read the Downward API from the container's root as it would in a
//! cluster.
//!
//! [`simulate`] takes the manifest text and a root directory and
//!
//! 1. decodes the Pod (YAML or JSON) and applies the API server's defaulting that the kubelet's
//!    output depends on (requests default to limits, fieldRef `apiVersion` to `v1`);
//! 2. validates what it uses with the API server's rules and messages, reporting all errors as
//!    `pod.yaml: Pod "NAME" is invalid: [err1, err2]` (see [`SimulateError::Invalid`]);
//! 3. resolves the container's env as the kubelet does (`$(VAR)` expansion, `fieldRef`,
//!    `resourceFieldRef` with divisors and node-allocatable fallback);
//! 4. writes its `downwardAPI` and `projected` volumes and the ServiceAccount `namespace` file at
//!    `root/<mountPath>` in the kubelet's AtomicWriter layout (`..data` symlink swapped on every
//!    re-run, so a label edit shows up as a new version);
//! 5. writes the [`ContainerSandbox`] description to `root/.pod-introspect/container.json`, which
//!    the host's `info` and `run --root` load with [`ContainerSandbox::load`].
//!
//! The formats and arithmetic (label files, quantities, the AtomicWriter) come from the
//! `pod-introspect-kube` crate, shared with the guest. Each module names the kubernetes
//! source it follows.
//!
//! Not simulated, with a note in [`SimulateReport::notes`]: ConfigMaps, Secrets, ServiceAccount
//! tokens and `ca.crt`, `envFrom`, the Service env vars, volume types other than downwardAPI and
//! projected, and `generateName`.
#![deny(missing_docs)]

mod beneath;
pub(crate) mod env;
mod error;
mod expansion;
mod field_values;
mod manifest;
mod names;
mod node;
mod sandbox;
mod simulate;
mod validation;
mod volumes;

pub use env::kubernetes_service_env;
pub use error::{BadValue, FieldError, FieldErrorType, FieldErrors, SimulateError};
pub use manifest::{
    DEFAULT_HOST_IPS, DEFAULT_NAMESPACE, DEFAULT_NODE_NAME, DEFAULT_POD_IPS,
    DEFAULT_SERVICE_ACCOUNT,
};
pub use node::{DEFAULT_CPU, DEFAULT_EPHEMERAL_STORAGE, DEFAULT_MEMORY, NodeAllocatable};
pub use sandbox::{
    ContainerSandbox, EnvEntry, MountKind, PodIdentity, SANDBOX_FILE, STATE_DIR, SandboxMount,
    sandbox_path,
};
pub use simulate::{
    ApiServerAccess, DEFAULT_CONTAINER_ANNOTATION, SimulateOptions, SimulateReport, simulate,
};
pub use volumes::{SERVICE_ACCOUNT_VOLUME_NAME, WrittenVolume};
