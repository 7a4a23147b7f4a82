//! Command-line interface (clap).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Runs WebAssembly components in a pod-shaped sandbox and tells them who they are through the
/// Kubernetes Downward API.
#[derive(Debug, Parser)]
#[command(name = "pod-introspect", version, about, long_about = None)]
pub struct Cli {
    /// Log level filter for the host's own messages (tracing syntax, e.g. `debug`).
    #[arg(
        long,
        global = true,
        env = "POD_INTROSPECT_LOG",
        default_value = "warn"
    )]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bundled guest and print what the pod exposes to this container, as JSON.
    ///
    /// The guest reads downwardAPI volume files (/etc/podinfo, /etc/downward, --downward), env
    /// vars set with fieldRef/resourceFieldRef (POD_NAME, POD_NAMESPACE, ...) and the ServiceAccount
    /// namespace file. Keys: name, namespace, uid, labels, annotations, nodeName,
    /// serviceAccountName, hostIP, hostIPs, podIP, podIPs, resources, sources, errors; a field the
    /// pod does not expose is absent. Exit status 0 even when some fields had errors, unless
    /// --strict.
    Info(InfoArgs),
    /// Run any wasi:cli/run component in the same pod-shaped sandbox.
    Run(RunArgs),
    /// Play the kubelet for one container of a Pod manifest: write its downwardAPI, projected and
    /// ServiceAccount volumes (AtomicWriter layout) and its env under --root.
    ///
    /// Re-run it after editing labels or annotations to swap the volumes' `..data` link to a new
    /// version, as the kubelet does.
    Simulate(SimulateArgs),
    /// Simulate the bundled example pod in a temporary root and show what the guest learns.
    Demo(DemoArgs),
}

/// Flags shared by the commands that run a guest.
#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Serve every container path P from DIR/P, as if DIR were the container's root filesystem
    /// (e.g. the --root given to `simulate`). Without it, container paths are host paths.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// An extra downwardAPI volume directory (container path), searched before /etc/podinfo and
    /// /etc/downward. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub downward: Vec<String>,
    /// Do not pass the host's environment to the guest (the simulated container's env still is).
    #[arg(long)]
    pub env_clear: bool,
    /// Set an env var for the guest, after the container's env. Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Stop the guest after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Cap each guest instance's linear memory, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_memory: usize,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    crate::sandbox::parse_env_flag(s).map_err(|e| e.to_string())
}

/// `info` flags.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Exit with status 1 when any field had an error.
    #[arg(long)]
    pub strict: bool,
    /// Indent the JSON.
    #[arg(long)]
    pub pretty: bool,
}

/// `run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The component (.wasm) to run; it must export wasi:cli/run.
    #[arg(value_name = "COMPONENT.wasm")]
    pub component: PathBuf,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Arguments passed to the component (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// `simulate` flags.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The Pod manifest (YAML or JSON).
    #[arg(long, value_name = "POD.yaml")]
    pub pod: PathBuf,
    /// The container's root filesystem to write into; each volume goes to DIR/<mountPath>.
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
    /// The container to simulate (default: the kubectl.kubernetes.io/default-container
    /// annotation, else the first container).
    #[arg(long, short = 'c', value_name = "NAME")]
    pub container: Option<String>,
    /// The node's allocatable resources, reported for limits the container does not set.
    #[arg(
        long,
        value_name = "cpu=4,memory=8Gi",
        default_value = "cpu=4,memory=8Gi,ephemeral-storage=100Gi"
    )]
    pub node_allocatable: String,
}

/// `demo` flags.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the simulated root in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}
