//! Command-line interface (clap).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Runs WebAssembly components in a pod-shaped sandbox and tells them who they are: the
/// Kubernetes Downward API, and the Kubernetes API through TLS that trusts the cluster CA.
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
    /// The guest reads downwardAPI volume files (--downward, then POD_INTROSPECT_DOWNWARD_DIRS, or
    /// the downwardAPI/projected volumes --root's container.json mounts, or /etc/podinfo and
    /// /etc/downward), env
    /// vars set with fieldRef/resourceFieldRef (POD_NAME, POD_NAMESPACE, ...) and the ServiceAccount
    /// namespace file. Keys: name, namespace, uid, labels, annotations, nodeName,
    /// serviceAccountName, hostIP, hostIPs, podIP, podIPs, resources, sources, errors; a field the
    /// pod does not expose is absent. Exit status 0 even when some fields had errors, unless
    /// --strict. When no Downward API source is found at all (a wrong or empty --root), stderr
    /// says where the guest looked.
    Info(InfoArgs),
    /// Run any wasi:cli/run component in the same pod-shaped sandbox. A component that imports
    /// pod-introspect:pod/pod-introspect or wasi:config/store gets them from the bundled guest,
    /// linked in before it runs (no manual composition needed; --no-link turns this off).
    Run(RunArgs),
    /// Write COMPONENT with the bundled guest linked into its pod-introspect and wasi:config/store
    /// imports (what `run` does before running), for runtimes that cannot link it themselves:
    /// `wasmtime run`/`serve`, Spin without component dependencies, wasmCloud, jco. The same as
    /// `wac plug COMPONENT --plug pod_introspect_guest.wasm -o OUT`.
    Link(LinkArgs),
    /// Play the kubelet for one container of a Pod manifest: write its downwardAPI, projected and
    /// ServiceAccount volumes (AtomicWriter layout) and its env under --root.
    ///
    /// Re-run it after editing labels or annotations to swap the volumes' `..data` link to a new
    /// version, as the kubelet does.
    Simulate(SimulateArgs),
    /// Simulate the bundled example pod in a temporary root and show what the guest learns.
    Demo(DemoArgs),
    /// Talk to the Kubernetes API through the bundled guest, as a pod does: in-cluster config
    /// (KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount token and ca.crt) or
    /// POD_INTROSPECT_API_URL (an ambassador such as kubectl proxy). Prints JSON, one line per
    /// document (watch: per event) unless --pretty.
    Api(ApiArgs),
    /// Serve a Kubernetes API-server emulator over HTTPS (for tests, demos and local development):
    /// the built-in core, apps, RBAC, coordination, discovery and events resources with every verb
    /// (patch and server-side apply included), watch, discovery, OpenAPI, ServiceAccount tokens
    /// and RBAC. kubectl works against it with the kubeconfig it writes.
    DevCluster(DevClusterArgs),
    /// A drop-in for `kubectl proxy` in a pod (ambassador sidecar): serves the Kubernetes API on
    /// loopback HTTP with kubectl proxy's flags, defaults and request filter, and forwards to the
    /// API server with the pod's ServiceAccount token (re-read on rotation) and cluster CA.
    ///
    /// In-cluster config by default (KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount
    /// volume); --kubeconfig on a workstation. Prints `Starting to serve on HOST:PORT`.
    Proxy(ProxyArgs),
    /// Follow the pod's Downward API view and print one JSON line per change: the labels,
    /// annotations and fields that changed, each with its old and new value, the volumes'
    /// `..data` versions, and errors of a malformed new version (whose fields keep their last
    /// good value). Runs until SIGTERM or Ctrl-C. The bundled guest's `pod-changes` does the
    /// work: one readlink of `..data` per volume per --interval.
    WatchPod(WatchPodArgs),
}

/// `watch-pod` flags.
#[derive(Debug, Args)]
pub struct WatchPodArgs {
    /// The sandbox flags (as `info`: --root, --downward, --env, ...; no deadline unless
    /// --timeout is given).
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// How often the volumes' `..data` links are read, in milliseconds (the kubelet's own
    /// update is periodic, about a minute plus its cache TTL).
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub interval: u32,
    /// Run this command (with `sh -c`) on each change, the change's JSON line on its stdin, as
    /// configmap-reload sidecars do; one at a time, a failure logged and the watch kept.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
}

/// `api` flags.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The sandbox flags.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Indent the JSON (every subcommand prints one line per document by default).
    #[arg(long, global = true)]
    pub pretty: bool,
    /// What to ask.
    #[command(subcommand)]
    pub call: ApiCall,
}

/// The API calls. RESOURCE is a kubectl-style name resolved through discovery: plural
/// (`deployments`), singular, short name (`deploy`), kind, `RESOURCE.GROUP`
/// (`leases.coordination.k8s.io`) or `RESOURCE.VERSION.GROUP`.
#[derive(Debug, Subcommand)]
pub enum ApiCall {
    /// GET /version.
    Version,
    /// Get one object (RESOURCE NAME), list a resource (RESOURCE), or GET any API path
    /// (a PATH starting with /, e.g. /api/v1/namespaces/default/pods, printed as
    /// {"status", "body"}).
    Get(GetArgs),
    /// List a resource (every page, as kubectl get does, unless --limit).
    List(ListArgs),
    /// List pods (in this pod's namespace unless -n or -A).
    Pods(PodsArgs),
    /// This pod's own object, found by the name and namespace the Downward API gives.
    #[command(name = "self")]
    SelfPod,
    /// Watch a resource: list, then watch from the list's resourceVersion; a 410 Gone on a
    /// reconnect lists again and goes on (client-go's reflector). With --resource-version a 410
    /// is reported (kind gone, status 1) for the caller to list again. One JSON line per event.
    Watch(WatchArgs),
    /// Create the object in FILE (YAML or JSON).
    Create(FileArgs),
    /// Replace (PUT) the object in FILE; with metadata.resourceVersion set, a stale one fails
    /// with a conflict.
    Replace(FileArgs),
    /// Server-side apply the object in FILE.
    Apply(ApplyArgs),
    /// Patch an object.
    Patch(PatchArgs),
    /// Delete an object (RESOURCE NAME), or every object a selector matches (RESOURCE -l SEL
    /// or --all: deletecollection).
    Delete(DeleteArgs),
    /// Set (KEY=VALUE) or remove (KEY-) labels of this pod, as `kubectl label`.
    Label(SelfMapArgs),
    /// Set (KEY=VALUE) or remove (KEY-) annotations of this pod, as `kubectl annotate`.
    Annotate(SelfMapArgs),
    /// Take part in leader election on a coordination.k8s.io/v1 Lease (client-go
    /// tools/leaderelection): one JSON line per transition, until SIGTERM or SIGINT, then the
    /// Lease is released if held.
    LeaderElect(LeaderElectArgs),
    /// Record an events.k8s.io/v1 Event about this pod (a repeat updates the existing Event's
    /// series instead of adding one).
    Event(EventArgs),
}

/// `api get` flags.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// RESOURCE, or an API PATH starting with /.
    #[arg(value_name = "RESOURCE|PATH")]
    pub target: String,
    /// The object's name (with RESOURCE); without it the resource is listed.
    pub name: Option<String>,
    /// A query parameter NAME=VALUE (with PATH). Repeatable.
    #[arg(long = "query", value_name = "NAME=VALUE")]
    pub query: Vec<String>,
    /// The namespace and selector flags (with RESOURCE).
    #[command(flatten)]
    pub select: SelectorArgs,
    /// A subresource to get, e.g. status or scale.
    #[arg(long, value_name = "NAME")]
    pub subresource: Option<String>,
}

/// `api list` flags.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The resource.
    pub resource: String,
    /// The namespace and selector flags.
    #[command(flatten)]
    pub select: SelectorArgs,
    /// One page of at most N objects; the output's metadata.continue fetches the next.
    #[arg(long, value_name = "N", conflicts_with = "chunk_size")]
    pub limit: Option<u32>,
    /// The continue token of the previous page (with --limit).
    #[arg(long = "continue", value_name = "TOKEN", requires = "limit")]
    pub continue_token: Option<String>,
    /// Page size when fetching every page (kubectl's --chunk-size).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub chunk_size: u32,
    /// resourceVersion of the list (0: from the server's cache).
    #[arg(long, value_name = "RV")]
    pub resource_version: Option<String>,
}

/// The file of `create`, `replace` and `apply`, and the flags they share.
#[derive(Debug, Args, Clone)]
pub struct FileArgs {
    /// The object, YAML or JSON; `-` reads stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: PathBuf,
    /// The namespace, when the object names none (default: this pod's namespace).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Validate and admit, do not store (dryRun=All).
    #[arg(long)]
    pub dry_run: bool,
    /// The field manager recorded in managedFields.
    #[arg(long, value_name = "NAME")]
    pub field_manager: Option<String>,
}

/// `api apply` flags.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The file and the shared flags; --field-manager is required.
    #[command(flatten)]
    pub file: FileArgs,
    /// Take fields other managers own instead of failing with a conflict (force=true).
    #[arg(long)]
    pub force_conflicts: bool,
}

/// `api patch` flags.
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// The resource.
    pub resource: String,
    /// The object's name.
    pub name: String,
    /// The patch type, as kubectl's --type.
    #[arg(long = "type", value_name = "TYPE", default_value = "strategic", value_parser = ["json", "merge", "strategic"])]
    pub patch_type: String,
    /// The patch, JSON.
    #[arg(short = 'p', long = "patch", value_name = "JSON")]
    pub patch: String,
    /// The namespace (default: this pod's namespace).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// A subresource to patch, e.g. status or scale.
    #[arg(long, value_name = "NAME")]
    pub subresource: Option<String>,
    /// Validate and admit, do not store (dryRun=All).
    #[arg(long)]
    pub dry_run: bool,
    /// The field manager recorded in managedFields.
    #[arg(long, value_name = "NAME")]
    pub field_manager: Option<String>,
}

/// `api delete` flags.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The resource.
    pub resource: String,
    /// The object's name; without it, -l, --field-selector or --all delete a collection.
    pub name: Option<String>,
    /// The namespace and selector flags.
    #[command(flatten)]
    pub select: SelectorArgs,
    /// Delete every object of the resource in the namespace (with no NAME).
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
    /// gracePeriodSeconds (0: at once; negative: the object's own, as kubectl's -1).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub grace_period: Option<i64>,
    /// propagationPolicy, as kubectl's --cascade: background, foreground or orphan.
    #[arg(long, value_name = "POLICY", value_parser = ["background", "foreground", "orphan"])]
    pub cascade: Option<String>,
    /// Delete only if the object still has this UID (preconditions.uid).
    #[arg(long, value_name = "UID")]
    pub uid: Option<String>,
    /// Delete only if the object is unchanged since this resourceVersion
    /// (preconditions.resourceVersion).
    #[arg(long, value_name = "RV")]
    pub resource_version: Option<String>,
    /// Do not delete, only check (dryRun=All).
    #[arg(long)]
    pub dry_run: bool,
}

/// `api label` / `api annotate` arguments.
#[derive(Debug, Args)]
pub struct SelfMapArgs {
    /// The object: `self`, this pod.
    #[arg(value_parser = ["self"])]
    pub target: String,
    /// KEY=VALUE to set, KEY- to remove. One or more.
    #[arg(required = true, value_name = "KEY=VALUE|KEY-")]
    pub changes: Vec<String>,
    /// Replace a key's existing value; without it a change of value is refused, as kubectl does.
    #[arg(long)]
    pub overwrite: bool,
}

/// `api leader-elect` flags.
#[derive(Debug, Args)]
pub struct LeaderElectArgs {
    /// The Lease's name.
    #[arg(long, value_name = "NAME")]
    pub lease: String,
    /// The Lease's namespace (default: this pod's namespace).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// holderIdentity (default: this pod's name).
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// leaseDuration, a Go duration.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub lease_duration: String,
    /// renewDeadline (default: 2/3 of --lease-duration).
    #[arg(long, value_name = "DURATION")]
    pub renew_deadline: Option<String>,
    /// retryPeriod (default: 1/5 of --lease-duration).
    #[arg(long, value_name = "DURATION")]
    pub retry_period: Option<String>,
}

/// `api event` flags.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// reason, e.g. ConfigReloaded.
    #[arg(long, value_name = "REASON")]
    pub reason: String,
    /// The message (the Event's note).
    #[arg(long, value_name = "TEXT")]
    pub message: String,
    /// The Event's type.
    #[arg(long = "type", value_name = "TYPE", default_value = "Normal", value_parser = ["Normal", "Warning"])]
    pub event_type: String,
    /// action (default: the reason).
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// reportingController (default: pod-introspect.dev/component).
    #[arg(long, value_name = "NAME")]
    pub reporting_controller: Option<String>,
}

/// Namespace and selector flags, as kubectl's.
#[derive(Debug, Args, Clone)]
pub struct SelectorArgs {
    /// The namespace (default: this pod's namespace).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Label selector, e.g. `app=web,tier in (a,b),!canary`.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Field selector, e.g. `spec.nodeName=node-1,status.phase=Running`.
    #[arg(long, value_name = "SELECTOR")]
    pub field_selector: Option<String>,
}

/// `api pods` flags.
#[derive(Debug, Args)]
pub struct PodsArgs {
    /// The namespace and selector flags.
    #[command(flatten)]
    pub select: SelectorArgs,
    /// At most this many pods (one page); the output's metadata.continue fetches the next.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// The continue token of the previous page.
    #[arg(long = "continue", value_name = "TOKEN")]
    pub continue_token: Option<String>,
}

/// `api watch` flags.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The resource, e.g. pods, configmaps, leases.coordination.k8s.io.
    pub resource: String,
    /// The namespace and selector flags.
    #[command(flatten)]
    pub select: SelectorArgs,
    /// Start after this resourceVersion (from a list).
    #[arg(long, value_name = "RV")]
    pub resource_version: Option<String>,
    /// Ask for BOOKMARK events (allowWatchBookmarks).
    #[arg(long)]
    pub bookmarks: bool,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// timeoutSeconds of each watch request (the watch resumes from the last resourceVersion).
    #[arg(long, value_name = "SECONDS")]
    pub timeout_seconds: Option<u32>,
}

/// `dev-cluster` flags.
#[derive(Debug, Args)]
pub struct DevClusterArgs {
    /// Address to serve on (loopback only is sensible; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: std::net::SocketAddr,
    /// Directory for the cluster CA, the signing key, DIR/kubeconfig (admin, for kubectl) and
    /// DIR/ca.crt; kept across restarts. Without it everything is in memory.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// RBAC rules (YAML) replacing the default (each ServiceAccount may get, list and watch pods
    /// in its own namespace).
    #[arg(long, value_name = "FILE")]
    pub rbac: Option<PathBuf>,
}

/// Flags shared by the commands that run a guest.
#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Serve every container path P from DIR/P, as if DIR were the container's root filesystem
    /// (e.g. the --root given to `simulate`). Without it, container paths are host paths.
    #[arg(global = true, long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// An extra downwardAPI volume directory (container path), searched before the others
    /// (POD_INTROSPECT_DOWNWARD_DIRS, or the volumes container.json mounts, or /etc/podinfo and
    /// /etc/downward). Repeatable.
    #[arg(global = true, long, value_name = "PATH")]
    pub downward: Vec<String>,
    /// Do not pass the host's environment to the guest. The simulated container's env (from
    /// DIR/.pod-introspect/container.json under --root) is still passed, and wins over the host's.
    #[arg(global = true, long)]
    pub env_clear: bool,
    /// Set an env var for the guest, after the container's env. Repeatable.
    #[arg(global = true, long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Stop the guest after this many seconds (0: no deadline). Default: 30, and none for
    /// `api watch`.
    #[arg(global = true, long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Cap each guest instance's linear memory, in MiB.
    #[arg(global = true, long, value_name = "MIB", default_value_t = 256)]
    pub max_memory: usize,
    /// Also allow outgoing HTTP to this origin (scheme://host:port). Repeatable. The API server
    /// from KUBERNETES_SERVICE_HOST/PORT and POD_INTROSPECT_API_URL are always allowed.
    #[arg(global = true, long, value_name = "URL")]
    pub allow_outbound: Vec<String>,
    /// Do not verify the API server's certificate. Insecure: for debugging only; logs a warning.
    #[arg(global = true, long)]
    pub insecure_skip_tls_verify: bool,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    crate::sandbox::parse_env_flag(s).map_err(|e| e.to_string())
}

/// `info` flags.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The sandbox flags.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Exit with status 1 when any field had an error, or no Downward API source was found.
    #[arg(long)]
    pub strict: bool,
    /// Indent the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// Fill what the Downward API does not expose from this pod's object in the Kubernetes API
    /// (sources then say `api:`).
    #[arg(long)]
    pub api: bool,
}

/// `run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The component (.wasm) to run; it must export wasi:cli/run. Its imports of
    /// pod-introspect:pod/pod-introspect@0.1.x and wasi:config/store@0.2.0-rc.1 are satisfied by
    /// linking the bundled guest into it (as `wac plug` would).
    #[arg(value_name = "COMPONENT.wasm")]
    pub component: PathBuf,
    /// Run the component as it is, without linking the bundled guest into its pod-introspect and
    /// wasi:config/store imports (use when it was composed already, or to see the raw imports).
    #[arg(long)]
    pub no_link: bool,
    /// The sandbox flags.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Arguments passed to the component (after `--`).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// `link` flags.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The component (.wasm) whose imports to satisfy.
    #[arg(value_name = "COMPONENT.wasm")]
    pub component: PathBuf,
    /// Where to write the linked component.
    #[arg(short, long, value_name = "OUT.wasm")]
    pub output: PathBuf,
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
    /// Register the pod (and its ServiceAccount) in the running `dev-cluster --state DIR`, and
    /// write the ServiceAccount token, ca.crt and the KUBERNETES_SERVICE_* env it issues.
    #[arg(long, value_name = "DIR")]
    pub cluster: Option<PathBuf>,
    /// With --cluster: keep running as the pod's kubelet. Watch the pod on the cluster and, on
    /// every change of what its volumes project (`kubectl label`/`annotate`), rewrite them with
    /// an AtomicWriter swap (at once; a kubelet's periodic sync takes up to about a minute plus
    /// its cache TTL). The ServiceAccount token is renewed at 80% of its lifetime, as the
    /// kubelet's token manager does. Stops on SIGTERM/Ctrl-C, or when the pod is deleted.
    #[arg(long, requires = "cluster")]
    pub follow: bool,
}

/// `demo` flags.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the simulated root in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// `--request-read-timeout`: a Go duration greater than zero.
fn parse_read_timeout(value: &str) -> Result<std::time::Duration, String> {
    match pod_introspect_kube::duration::parse(value)? {
        d if d.is_zero() => Err("must be greater than 0 (e.g. 30s, 1m)".into()),
        d => Ok(d),
    }
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (tracing-subscriber's JSON format).
    Json,
}

/// `proxy` flags: kubectl proxy's (same names, short forms and defaults; filter lists are
/// comma-separated unanchored regular expressions, an empty value matches nothing), then
/// pod-introspect's own.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The port on which to run the proxy. Set to 0 to pick a random port (printed).
    #[arg(short = 'p', long, default_value_t = 8001)]
    pub port: u16,
    /// The IP address on which to serve on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Regular expression for hosts that the proxy should accept (the Host header without its
    /// port; IPv6 literals keep their brackets).
    #[arg(long, default_value = crate::proxy::filter::DEFAULT_ACCEPT_HOSTS, value_name = "REGEXES")]
    pub accept_hosts: String,
    /// Regular expression for paths that the proxy should accept.
    #[arg(long, default_value = crate::proxy::filter::DEFAULT_ACCEPT_PATHS, value_name = "REGEXES")]
    pub accept_paths: String,
    /// Regular expression for paths that the proxy should reject. Paths specified here will be
    /// rejected even accepted by --accept-paths.
    #[arg(long, default_value = crate::proxy::filter::DEFAULT_REJECT_PATHS, value_name = "REGEXES")]
    pub reject_paths: String,
    /// Regular expression for HTTP methods that the proxy should reject (example
    /// --reject-methods='POST,PUT,PATCH').
    #[arg(long, default_value = crate::proxy::filter::DEFAULT_REJECT_METHODS, value_name = "REGEXES")]
    pub reject_methods: String,
    /// Prefix to serve the proxied API under.
    #[arg(long, default_value = "/")]
    pub api_prefix: String,
    /// Also serve static files from the given directory under the specified prefix.
    #[arg(short = 'w', long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// Prefix to serve static files under, if static file directory is specified.
    #[arg(short = 'P', long, default_value = "/static/")]
    pub www_prefix: String,
    /// Unix socket on which to run the proxy.
    #[arg(short = 'u', long, value_name = "PATH")]
    pub unix_socket: Option<PathBuf>,
    /// If true, disable request filtering in the proxy. This is dangerous, and can leave you
    /// vulnerable to XSRF attacks, when used with an accessible port.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = clap::ArgAction::Set)]
    pub disable_filter: bool,
    /// TCP keep-alive period of connections to the API server (Go duration: 30s, 1m30s; 0: off).
    #[arg(long, default_value = "0", value_parser = pod_introspect_kube::duration::parse)]
    pub keepalive: std::time::Duration,
    /// If true, prepend the server URL's path (kubeconfig servers behind a gateway) to requests.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = clap::ArgAction::Set)]
    pub append_server_path: bool,
    /// Use this kubeconfig's current context instead of in-cluster config.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Read the ServiceAccount volume from DIR/var/run/secrets/... and KUBERNETES_SERVICE_HOST/
    /// PORT from DIR/.pod-introspect/container.json (else the process env), e.g. a root made by
    /// `simulate --cluster`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Reject with 403 every method but GET, HEAD and OPTIONS, and every upgrade request
    /// (exec, attach, port-forward over SPDY or WebSocket, GET included); also with
    /// --disable-filter.
    #[arg(long)]
    pub read_only: bool,
    /// Time a client has to send a request: its headers (else the connection is closed) and,
    /// counted from the headers, its whole body (else 408 and the API server request is
    /// cancelled). Go duration (30s, 1m); kubectl proxy has no limit.
    #[arg(long, default_value = "1m", value_parser = parse_read_timeout, value_name = "DURATION")]
    pub request_read_timeout: std::time::Duration,
    /// Answer lists and watches of --cache-resources from one upstream list+watch per resource
    /// and namespace scope, shared by every client, as kube-apiserver's watch cache does
    /// (`resourceVersion=0` and NotOlderThan lists, every watch); other requests pass through.
    #[arg(long)]
    pub watch_cache: bool,
    /// With --watch-cache: the resources to cache, comma-separated kubectl names
    /// (`pods,configmaps,leases.coordination.k8s.io`; short names of built-in kinds too).
    #[arg(long, value_name = "RESOURCES")]
    pub cache_resources: Option<String>,
    /// With --watch-cache: events kept per cache, so a client can re-watch from an older
    /// resourceVersion (older than the window: 410 Gone, the client lists again).
    #[arg(long, value_name = "EVENTS", default_value_t = crate::proxy::watch_cache::DEFAULT_WINDOW)]
    pub watch_cache_size: usize,
    /// With --watch-cache: how often watches with allowWatchBookmarks get a bookmark (Go
    /// duration; the API server's is about a minute).
    #[arg(long, default_value = "1m", value_parser = pod_introspect_kube::duration::parse, value_name = "DURATION")]
    pub watch_cache_bookmark_interval: std::time::Duration,
    /// Serve /healthz, /livez and /readyz (API server reachable) and /metrics (Prometheus
    /// text) on this port for probes and scrapes.
    #[arg(long, value_name = "PORT")]
    pub health_port: Option<u16>,
    /// The address of the --health-port listener (the kubelet probes the pod IP).
    #[arg(long, default_value = "0.0.0.0", value_name = "IP")]
    pub health_address: std::net::IpAddr,
    /// Log format on stderr: text or json. Access logs are the `access` target at info level
    /// (`--log warn,access=info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Threads serving requests. 1 (the default) runs everything on one thread, which suits a
    /// sidecar with a CPU limit of a core or less and avoids cross-thread wake-ups; N > 1 uses a
    /// work-stealing pool of N; 0 uses one thread per CPU.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub threads: usize,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT before exiting.
    #[arg(long, value_name = "SECONDS", default_value_t = 25)]
    pub shutdown_grace: u64,
}
