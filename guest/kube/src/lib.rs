//! Runtime-free Kubernetes logic shared by the pod-introspect guest (wasm32-wasip2) and host.
//!
//! Everything here is pure Kubernetes format and arithmetic, written from the kubelet's source so the
//! guest (reader) and the host's kubelet simulation (writer) agree with a real kubelet, not merely with
//! each other:
//!
//! - [`go_quote`]: Go `strconv.Quote` / `strconv.Unquote`, the quoting of label and annotation values.
//! - [`map_file`]: the `metadata.labels` / `metadata.annotations` file format
//!   (kubernetes `pkg/fieldpath/fieldpath.go`, `FormatMap`).
//! - [`quantity`]: resource quantities, divisors and the ceiling rounding of `resourceFieldRef`
//!   (kubernetes `pkg/api/v1/resource/helpers.go`, `ExtractContainerResourceValue`).
//! - [`atomic_writer`]: the `..data` symlink layout of downwardAPI, projected and ServiceAccount volumes
//!   (kubernetes `pkg/volume/util/atomic_writer.go`): reading one consistent version, and writing one.
//! - [`fields`]: the fieldPaths, resource names, conventional file names and env var names.
//! - [`incluster`]: in-cluster config: the API server URL rules and the ServiceAccount token source.
//! - [`contract`]: the host↔guest contract: `POD_INTROSPECT_*` env names, the default downwardAPI
//!   directories, the directory list syntax and the `POD_INTROSPECT_FIELDS` grammar.
//! - [`spec_fields`]: where the pod's spec puts each Downward API field of a container (env vars
//!   of any name, mounted downwardAPI items) with its divisor, as `POD_INTROSPECT_FIELDS` mappings.
//! - [`cli_output`]: the JSON and messages the command lines print (host `info`/`api` and the
//!   guest's `wasi:cli/run` alike).
//! - [`status`]: the API server's `Status` error body, written and read.
//! - [`watch`]: one line of a watch response, read.
//! - [`discovery`]: API discovery (aggregated and legacy) read, a resource name resolved as
//!   kubectl resolves it, and the request paths of a resource.
//! - [`leader_election`]: client-go's leader election over a Lease, as a state machine.
//! - [`events`]: an `events.k8s.io/v1` Event about a pod, its repeats and their series patch.
//! - [`names`]: apimachinery's name and label validation, with the API server's messages.
//! - [`percent`], [`gopath`], [`duration`]: Go's URL unescaping, `path.Clean` and
//!   `time.ParseDuration`; [`micro_time`]: `metav1.Time` / `MicroTime` text.
//! - `kubeconfig` (feature `kubeconfig`): reading the current context of a kubeconfig, and
//!   rendering one.
#![deny(missing_docs)]

pub mod atomic_writer;
pub mod cli_output;
pub mod contract;
pub mod credential_file;
pub mod discovery;
pub mod duration;
pub mod events;
pub mod fields;
pub mod go_quote;
pub mod gopath;
pub mod incluster;
#[cfg(feature = "kubeconfig")]
pub mod kubeconfig;
pub mod leader_election;
pub mod map_file;
pub mod micro_time;
pub mod names;
pub mod percent;
pub mod quantity;
pub mod spec_fields;
pub mod status;
pub mod watch;
