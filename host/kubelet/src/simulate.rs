//! `simulate`: from a Pod manifest to a container root the guest can read, as the API server and
//! the kubelet would prepare it for one container.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Container;
use pod_introspect_kube::go_quote;

use crate::SimulateError;
use crate::env::make_environment;
use crate::error::FieldErrors;
use crate::manifest::{PodFacts, apply_defaults, check_quantities, decode};
use crate::node::{NodeAllocatable, ParsedAllocatable};
use crate::sandbox::{ContainerSandbox, PodIdentity};
use crate::validation::validate_pod;
use crate::volumes::{VolumeContext, WrittenVolume, write_volumes};

/// The annotation kubectl reads to pick a pod's default container.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// What [`simulate`] needs.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// The manifest text, YAML or JSON, one document, already read by the caller.
    pub pod_yaml: String,
    /// The manifest's file name, used in every error message (e.g. `pod.yaml`).
    pub manifest_name: String,
    /// The container's root filesystem: a volume mounted at `M` is written at `root/M`, and the
    /// sandbox description at `root/.pod-introspect/container.json`. Created when missing.
    pub root: PathBuf,
    /// The container to play (`--container`); `None` picks the one the annotation
    /// `kubectl.kubernetes.io/default-container` names, else the first container.
    pub container: Option<String>,
    /// The node allocatable reported for unset cpu/memory/ephemeral-storage limits.
    pub node_allocatable: NodeAllocatable,
    /// The cluster the pod is registered in (`simulate --cluster`): its ServiceAccount `token`
    /// and `ca.crt` go into the ServiceAccount volume and its address into the `kubernetes`
    /// Service env vars. `None`: only `namespace` is written and no Service env is set.
    pub api_server: Option<ApiServerAccess>,
}

/// What the kubelet gives a container to reach the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiServerAccess {
    /// The bound ServiceAccount token (the `token` file), a JWT.
    pub token: String,
    /// The cluster CA bundle (the `ca.crt` file), PEM.
    pub ca_crt: String,
    /// `KUBERNETES_SERVICE_HOST`: an IP, IPv6 unbracketed (e.g. `127.0.0.1`, `::1`).
    pub service_host: String,
    /// `KUBERNETES_SERVICE_PORT`.
    pub service_port: u16,
}

/// What [`simulate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulateReport {
    /// `metadata.name`.
    pub pod: String,
    /// The namespace (`default` when the manifest sets none).
    pub namespace: String,
    /// The container played.
    pub container: String,
    /// The volumes written, in volumeMount order, then the ServiceAccount volume.
    pub volumes: Vec<WrittenVolume>,
    /// The sandbox description written: `root/.pod-introspect/container.json`.
    pub sandbox_file: PathBuf,
    /// Human-readable notes: what was not simulated, which container was picked and why, and
    /// hints such as the divisor hint for resource files.
    pub notes: Vec<String>,
}

/// Picks the container: `requested`, else the default-container annotation, else the first.
fn choose_container<'a>(
    pod: &'a k8s_openapi::api::core::v1::Pod,
    requested: Option<&str>,
    manifest: &str,
    notes: &mut Vec<String>,
) -> Result<&'a Container, SimulateError> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let spec = pod.spec.as_ref();
    let containers: Vec<&Container> = spec
        .map(|s| s.containers.iter().collect())
        .unwrap_or_default();
    let all: Vec<&Container> = spec
        .map(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .collect()
        })
        .unwrap_or_default();
    if let Some(requested) = requested {
        return all
            .into_iter()
            .find(|c| c.name == requested)
            .ok_or_else(|| {
                let available: Vec<&str> = spec
                    .map(|s| {
                        s.containers
                            .iter()
                            .chain(s.init_containers.iter().flatten())
                            .map(|c| c.name.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                SimulateError::ContainerNotFound {
                    manifest: manifest.to_string(),
                    pod: name.clone(),
                    container: requested.to_string(),
                    available: available.join(", "),
                }
            });
    }
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION));
    if let Some(annotated) = annotated {
        if let Some(c) = containers.iter().find(|c| &c.name == annotated) {
            notes.push(format!(
                "container {}: named by the annotation {DEFAULT_CONTAINER_ANNOTATION}",
                go_quote::quote(&c.name)
            ));
            return Ok(c);
        }
        notes.push(format!(
            "the annotation {DEFAULT_CONTAINER_ANNOTATION} names {}, which is not a container of the pod; using the first container",
            go_quote::quote(annotated)
        ));
    }
    let first = containers
        .first()
        .copied()
        .ok_or_else(|| SimulateError::Manifest {
            manifest: manifest.to_string(),
            message: "the pod has no containers".to_string(),
        })?;
    if containers.len() > 1 {
        let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
        notes.push(format!(
            "Defaulted container {} out of: {}",
            go_quote::quote(&first.name),
            names.join(", ")
        ));
    }
    Ok(first)
}

/// Plays the API server and the kubelet for one container of the Pod in `opts.pod_yaml`.
///
/// Decodes and defaults the manifest, validates what the simulation uses (errors in the API
/// server's words, all at once), resolves the container's env, writes its downwardAPI and
/// projected volumes and the ServiceAccount `namespace` file under `opts.root` in the
/// AtomicWriter layout, and writes the sandbox description
/// (`root/.pod-introspect/container.json`).
///
/// Re-running for the same pod (same name and namespace in the root's existing sandbox file)
/// keeps the pod's uid and swaps each volume's `..data` to a new version, as the kubelet does
/// after a label or annotation edit; files the manifest does not mention are left alone.
///
/// Errors: [`SimulateError::Manifest`] (not a v1 Pod, YAML error with line and column, malformed
/// quantity or IP), [`SimulateError::Invalid`] (API-server validation), [`SimulateError::ContainerNotFound`],
/// [`SimulateError::Kubelet`] (e.g. a `resourceFieldRef.containerName` that names no container),
/// [`SimulateError::NodeAllocatable`], [`SimulateError::Io`] naming the path.
pub fn simulate(opts: &SimulateOptions) -> Result<SimulateReport, SimulateError> {
    let manifest = opts.manifest_name.as_str();
    let mut pod = decode(&opts.pod_yaml, manifest)?;
    check_quantities(&pod, manifest)?;
    apply_defaults(&mut pod);
    let errors = validate_pod(&pod);
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    if !errors.is_empty() {
        return Err(SimulateError::Invalid {
            manifest: manifest.to_string(),
            pod: pod_name,
            errors: FieldErrors::dedup(errors),
        });
    }
    if pod_name.is_empty() {
        return Err(SimulateError::Manifest {
            manifest: manifest.to_string(),
            message: "metadata.generateName is not simulated: the API server would make up the name; set metadata.name".to_string(),
        });
    }
    let allocatable =
        ParsedAllocatable::new(&opts.node_allocatable).map_err(SimulateError::NodeAllocatable)?;

    let mut notes = Vec::new();
    let container = choose_container(&pod, opts.container.as_deref(), manifest, &mut notes)?;

    let namespace = pod
        .metadata
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| crate::manifest::DEFAULT_NAMESPACE.to_string());
    let previous = match ContainerSandbox::load(&opts.root) {
        Ok(previous) => previous,
        Err(e) => {
            notes.push(format!("replacing the unreadable sandbox description: {e}"));
            None
        }
    };
    let previous_uid = previous
        .as_ref()
        .filter(|p| p.pod.name == pod_name && p.pod.namespace == namespace)
        .map(|p| p.pod.uid.clone());
    let same_pod_as_before = previous_uid.is_some();
    if let Some(other) = previous.as_ref().filter(|_| !same_pod_as_before) {
        notes.push(format!(
            "the root held pod {}/{} before; its volumes that this pod does not mount are left in place",
            other.pod.namespace, other.pod.name
        ));
    }
    // A uid in the manifest (an object the API server returned, `simulate --cluster`) is the
    // pod's identity; otherwise the one of the previous run in this root is kept.
    let uid = pod
        .metadata
        .uid
        .clone()
        .filter(|u| !u.is_empty())
        .or(previous_uid)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let facts = PodFacts::new(&pod, uid, manifest)?;

    let service_env = opts
        .api_server
        .as_ref()
        .map(|a| crate::env::kubernetes_service_env(&a.service_host, a.service_port))
        .unwrap_or_default();
    let env =
        make_environment(&pod, &facts, container, &allocatable, &service_env).map_err(|e| {
            SimulateError::Kubelet {
                manifest: manifest.to_string(),
                message: format!(
                    "the kubelet cannot start container {} (CreateContainerConfigError): {e}",
                    go_quote::quote(&container.name)
                ),
            }
        })?;
    notes.extend(env.notes);
    // Only worth saying when the container's env refers to them.
    let refers_to_service_env = container.env.iter().flatten().any(|e| {
        e.value
            .as_deref()
            .is_some_and(|v| v.contains("$(KUBERNETES_"))
    });
    if opts.api_server.is_none() && refers_to_service_env {
        notes.push(
            "env: the `kubernetes` Service variables (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, ...) are not set without --cluster, so $(KUBERNETES_...) references stay as written".to_string(),
        );
    }
    if let Some(group) = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.as_ref())
        .and_then(|c| c.fs_group)
    {
        notes.push(format!(
            "securityContext.fsGroup {group} is not simulated: files keep the simulating user's owner and group (a kubelet would chgrp them to {group}, add group read to their modes and set setgid on directories)"
        ));
    }

    std::fs::create_dir_all(&opts.root)
        .map_err(|e| SimulateError::io("failed to create directory", &opts.root, e))?;
    let volumes = write_volumes(&VolumeContext {
        manifest,
        root: &opts.root,
        pod: &pod,
        facts: &facts,
        allocatable: &allocatable,
        container,
        env: &env.entries,
        same_pod_as_before,
        api_server: opts.api_server.as_ref(),
    })?;
    notes.extend(volumes.notes);

    let sandbox = ContainerSandbox {
        pod: PodIdentity {
            name: facts.name.clone(),
            namespace: facts.namespace.clone(),
            uid: facts.uid.clone(),
        },
        container: container.name.clone(),
        env: env.entries,
        mounts: volumes.mounts,
        fields: spec_field_mappings(&pod, &container.name),
    };
    notes.extend(downward_dirs_note(&sandbox, &opts.root));
    let sandbox_file = sandbox.save(&opts.root)?;
    Ok(SimulateReport {
        pod: facts.name,
        namespace: facts.namespace,
        container: container.name.clone(),
        volumes: volumes.written,
        sandbox_file,
        notes,
    })
}

/// The container's Downward API fields as the spec places them (env vars of any name, mounted
/// downwardAPI items, each resource with its divisor), in `POD_INTROSPECT_FIELDS` entry syntax:
/// see [`pod_introspect_kube::spec_fields::container_mappings`].
fn spec_field_mappings(pod: &k8s_openapi::api::core::v1::Pod, container: &str) -> Vec<String> {
    let Ok(pod) = serde_json::to_value(pod) else {
        return Vec::new();
    };
    pod_introspect_kube::spec_fields::container_mappings(&pod, container)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The note for downwardAPI volumes that the guest would not search under another runtime: `info
/// --root` tells the guest where the volumes `container.json` names are, and `pod-introspect` in a
/// cluster finds them in `/proc/self/mountinfo`, but under `wasmtime run`, Spin or wasmCloud
/// nothing does, so the container's env must list them in `POD_INTROSPECT_DOWNWARD_DIRS` (or they
/// must be at a default directory). With that env set here too, the host keeps it as it is, so
/// the volumes it leaves out are not read here either.
fn downward_dirs_note(sandbox: &ContainerSandbox, root: &std::path::Path) -> Option<String> {
    use pod_introspect_kube::contract::{self, DOWNWARD_DIRS_ENV};
    let mounted = sandbox.downward_dirs(root);
    let declared = sandbox
        .env
        .iter()
        .rev()
        .find(|e| e.name == DOWNWARD_DIRS_ENV)
        .map(|e| e.value.as_str());
    let searched = contract::downward_dirs(declared);
    let unread: Vec<&str> = mounted
        .iter()
        .filter(|d| !searched.contains(d))
        .map(String::as_str)
        .collect();
    if unread.is_empty() {
        return None;
    }
    let unread_text = unread.join(", ");
    Some(match declared {
        None => format!(
            "downwardAPI volume(s) at {unread_text}: `pod-introspect info --root` tells the guest about them (and `pod-introspect` in a cluster finds them in /proc/self/mountinfo), but under another runtime (wasmtime run, Spin, wasmCloud) the guest searches only {} unless the container's env says otherwise; add env {DOWNWARD_DIRS_ENV}={} to the container",
            contract::join_dirs(contract::DEFAULT_DOWNWARD_DIRS),
            contract::join_dirs(&mounted)
        ),
        Some(value) => {
            let mut all = contract::parse_dirs(value);
            all.extend(unread.iter().map(|d| d.to_string()));
            format!(
                "the container's env {DOWNWARD_DIRS_ENV}={value} leaves out the downwardAPI volume(s) at {unread_text}, so the guest does not read them (here or in a cluster); set it to {}",
                contract::join_dirs(&all)
            )
        }
    })
}
