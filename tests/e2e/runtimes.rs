//! The same guest artifact in other component runtimes and compositions: `pod-introspect run`
//! linking the bundled guest into components that import pod-introspect or wasi:config/store,
//! `wac plug`, the wasmtime CLI, jco (transpile + Node), and `cargo component build`.
//!
//! Each outside tool is looked up on PATH (jco under `tests/jco/node_modules`); where it is missing
//! the test prints `skipped: ...` with how to install it and passes, unless
//! `POD_INTROSPECT_REQUIRE_TOOLS=1`, which `.ci/run` sets after installing them all: then a missing
//! tool fails the test instead of hiding it.

use crate::harness::{PodRoot, skip, stderr, stdout, workspace};
use pod_introspect_guest_artifact::{
    CONFIG_CONSUMER_DRAFT_WASM_PATH, CONFIG_CONSUMER_WASM_PATH, CONFIG_DRAFT_FROM_RC1_WASM_PATH,
    CONFIG_RC1_FROM_DRAFT_WASM_PATH, GUEST_WASM_PATH, POD_GREETER_WASM_PATH, POD_HTTP_WASM_PATH,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A pod root with one downwardAPI volume at /etc/podinfo, written by hand in the kubelet's format
/// (sorted `key="value"` lines with Go %q escapes, no trailing newline; AtomicWriter `..data`).
fn fixture() -> PodRoot {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_12_00_00.123456789",
        &[
            ("labels", "app=\"store\"\ntier=\"web\""),
            (
                "annotations",
                "build=\"v1.2.3\"\nnote=\"say \\\"hi\\\"\\n\\tbye\"",
            ),
            ("name", "web-0"),
            ("namespace", "shop"),
            ("uid", "0b7f3a5c-8a52-4f4e-9d6c-1f2e3d4c5b6a"),
            ("cpu_limit", "2"),
            ("mem_limit", "67108864"),
        ],
    );
    pod
}

/// What the fixture's `info` prints, as every runtime must print it.
const FIXTURE_JSON: &str = concat!(
    r#"{"name":"web-0","namespace":"shop","uid":"0b7f3a5c-8a52-4f4e-9d6c-1f2e3d4c5b6a","#,
    r#""labels":{"app":"store","tier":"web"},"annotations":{"build":"v1.2.3","note":"say \"hi\"\n\tbye"},"#,
    r#""resources":{"limits.cpu":{"value":2,"divisor":"1"},"limits.memory":{"value":67108864,"divisor":"1"}},"#,
    r#""sources":{"limits.cpu":"file:/etc/podinfo/cpu_limit","limits.memory":"file:/etc/podinfo/mem_limit","#,
    r#""metadata.annotations":"file:/etc/podinfo/annotations","metadata.labels":"file:/etc/podinfo/labels","#,
    r#""metadata.name":"file:/etc/podinfo/name","metadata.namespace":"file:/etc/podinfo/namespace","#,
    r#""metadata.uid":"file:/etc/podinfo/uid"},"errors":[]}"#
);

fn root(pod: &PodRoot) -> &str {
    pod.path().to_str().expect("utf-8 temp path")
}

/// `pod-introspect run COMPONENT --root R --env-clear [-- args]`, which must exit 0; its stdout.
fn host_run(pod: &PodRoot, component: &str, extra: &[&str], args: &[&str]) -> String {
    let out = run_component(pod, component, extra, args);
    assert!(out.status.success(), "run {component}: {}", stderr(&out));
    stdout(&out)
}

/// `pod-introspect run COMPONENT --root R --env-clear [extra] [-- args]`, whatever its status.
fn run_component(pod: &PodRoot, component: &str, extra: &[&str], args: &[&str]) -> Output {
    let mut argv = vec!["run", component, "--root", root(pod), "--env-clear"];
    argv.extend_from_slice(extra);
    if !args.is_empty() {
        argv.push("--");
        argv.extend_from_slice(args);
    }
    pod.run(&argv)
}

/// `tool` on PATH, or None after [`pod_introspect_test_support::missing`] said why.
pub(crate) fn tool(name: &str, install: &str) -> Option<PathBuf> {
    pod_introspect_test_support::tool(name, install)
}

fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

fn success(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn info_prints_the_fixture_json() {
    // The anchor the other runtimes are compared with.
    let pod = fixture();
    let out = pod.run(&["info", "--root", root(&pod), "--env-clear"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim_end(), FIXTURE_JSON);
}

#[test]
fn run_links_the_bundled_guest_into_a_pod_introspect_import() {
    let pod = fixture();
    let out = host_run(&pod, POD_GREETER_WASM_PATH, &[], &[]);
    assert_eq!(
        out,
        "pod: web-0\nnamespace: shop\nlabel app: store\nlimits.cpu: 2 (divisor 1)\n"
    );
}

#[test]
fn run_links_the_bundled_guest_into_a_wasi_config_import() {
    let pod = fixture();
    let all = host_run(&pod, CONFIG_CONSUMER_WASM_PATH, &[], &[]);
    assert_eq!(
        all,
        "limits.cpu=2\n\
         limits.memory=67108864\n\
         pod.annotations.build=v1.2.3\n\
         pod.annotations.note=say \"hi\"\n\tbye\n\
         pod.labels.app=store\n\
         pod.labels.tier=web\n\
         pod.name=web-0\n\
         pod.namespace=shop\n\
         pod.uid=0b7f3a5c-8a52-4f4e-9d6c-1f2e3d4c5b6a\n"
    );
    let some = host_run(
        &pod,
        CONFIG_CONSUMER_WASM_PATH,
        &[],
        &["pod.name", "pod.labels.tier", "pod.node-name"],
    );
    assert_eq!(
        some,
        "pod.name=web-0\npod.labels.tier=web\npod.node-name is not set\n"
    );
}

#[test]
fn wasi_config_reports_a_malformed_label_file_as_an_upstream_error() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_12_00_00.1",
        &[("labels", "app=\"store\"\ntier=\"web"), ("name", "web-0")],
    );
    let out = run_component(
        &pod,
        CONFIG_CONSUMER_WASM_PATH,
        &[],
        &["pod.name", "pod.labels.app"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "pod.name=web-0\n");
    assert!(
        stderr(&out).contains("Upstream(\"/etc/podinfo/labels, line 2:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_no_link_leaves_the_imports_to_the_runtime() {
    let pod = fixture();
    let out = pod.run(&[
        "run",
        CONFIG_CONSUMER_WASM_PATH,
        "--no-link",
        "--root",
        root(&pod),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {CONFIG_CONSUMER_WASM_PATH} imports wasi:config/store@0.2.0-rc.1, which \
             --no-link leaves unsatisfied: drop --no-link to link the bundled guest\n"
        )
    );
}

#[test]
fn run_explains_what_it_cannot_run() {
    let pod = PodRoot::new();
    let text = pod.path().join("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    let core = pod.path().join("core.wasm");
    // The smallest core module: magic and version 1, no sections.
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let cases = [
        (
            text.to_str().unwrap(),
            "is not a WebAssembly binary (it does not start with \\0asm)",
        ),
        (
            core.to_str().unwrap(),
            "is a core WebAssembly module, not a component: build it for wasm32-wasip2",
        ),
        (
            POD_HTTP_WASM_PATH,
            "does not export wasi:cli/run (it exports wasi:http/incoming-handler@0.2.12)",
        ),
    ];
    for (file, want) in cases {
        for extra in [&[][..], &["--no-link"][..]] {
            let mut args = vec!["run", file, "--root", root(&pod)];
            args.extend_from_slice(extra);
            let out = pod.run(&args);
            assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
            assert!(
                stderr(&out).starts_with(&format!("error: {file} {want}")),
                "{file} {extra:?}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn wasi_config_get_all_refuses_a_partial_set_and_a_broken_mapping() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_12_00_00.1",
        &[
            ("labels", "app=\"store\"\ntier=\"web"),
            ("name", "web-0"),
            ("cpu_limit", "500"),
        ],
    );
    let consumer = |env: &[&str], keys: &[&str]| {
        let env_flags: Vec<&str> = env.iter().flat_map(|e| ["--env", e]).collect();
        run_component(&pod, CONFIG_CONSUMER_WASM_PATH, &env_flags, keys)
    };
    // get-all: the broken label file fails the whole set, naming file and line.
    let out = consumer(&[], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("Upstream(\"/etc/podinfo/labels, line 2:"),
        "{}",
        stderr(&out)
    );
    // A typo in a declared divisor: every key is an error, not a figure in the wrong unit.
    let mapping = "POD_INTROSPECT_FIELDS=limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1q";
    let out = consumer(&[mapping], &["pod.name"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("Upstream(\"POD_INTROSPECT_FIELDS: ") && stderr(&out).contains("1q"),
        "{}",
        stderr(&out)
    );
    // Declared properly, the divisor and the millicores are there.
    let declared = "POD_INTROSPECT_FIELDS=limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m";
    let out = consumer(
        &[declared],
        &["limits.cpu", "limits.cpu.divisor", "limits.cpu.millicores"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "limits.cpu=500\nlimits.cpu.divisor=1m\nlimits.cpu.millicores=500\n"
    );
}

#[test]
fn wasi_config_reports_an_unreadable_source_as_an_io_error() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_12_00_00.1",
        &[("name", "web-0")],
    );
    // `labels` is a directory where the kubelet would have written a file.
    std::fs::create_dir(pod.host("/etc/podinfo/..2026_11_29_12_00_00.1/labels")).unwrap();
    std::os::unix::fs::symlink("..data/labels", pod.host("/etc/podinfo/labels")).unwrap();
    let out = run_component(&pod, CONFIG_CONSUMER_WASM_PATH, &[], &["pod.labels.app"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("Io(\"cannot read /etc/podinfo/labels"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wasmtime_cli_prints_the_same_json_and_invokes_exports() {
    let Some(wasmtime) = tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8") else {
        return;
    };
    let pod = fixture();
    let dir = format!("{}::/etc/podinfo", pod.host("/etc/podinfo").display());
    let wasmtime_run = |extra: &[&str]| {
        success(
            Command::new(&wasmtime)
                .args(["run", "-S", "http", "--dir", &dir])
                .args(extra)
                .arg(GUEST_WASM_PATH),
        )
    };
    assert_eq!(wasmtime_run(&[]).trim_end(), FIXTURE_JSON);
    assert_eq!(
        wasmtime_run(&["--invoke", "label(\"app\")"]).trim_end(),
        "ok(some(\"store\"))"
    );
    assert_eq!(
        wasmtime_run(&["--invoke", "field(\"metadata.uid\")"]).trim_end(),
        "ok(\"0b7f3a5c-8a52-4f4e-9d6c-1f2e3d4c5b6a\")"
    );
    // The consumer example reads wasmtime's own wasi:config (wasmtime-wasi-config 48) unchanged:
    // the guest exports the version wasmtime implements.
    let from_wasmtime = success(
        Command::new(&wasmtime)
            .args([
                "run",
                "-S",
                "config",
                "-S",
                "config-var=pod.name=from-wasmtime",
            ])
            .arg(CONFIG_CONSUMER_WASM_PATH)
            .args(["pod.name", "pod.uid"]),
    );
    assert_eq!(
        from_wasmtime,
        "pod.name=from-wasmtime\npod.uid is not set\n"
    );
    // The qualified name works for an interface with a plain version...
    assert_eq!(
        wasmtime_run(&[
            "--invoke",
            "pod-introspect:pod/pod-introspect.get-pod@0.2.1(\"a\", \"b\")"
        ])
        .trim_end(),
        "err(not-in-cluster(\"not running in a cluster: KUBERNETES_SERVICE_HOST is not set (the \
         kubelet sets KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT in every container; \
         for a simulated pod, `pod-introspect simulate --cluster DIR` writes them into the pod\\'s \
         env; outside a cluster set POD_INTROSPECT_API_URL, e.g. http://127.0.0.1:8001 for kubectl \
         proxy)\"))"
    );
    // ...but wasmtime 48's WAVE parser rejects `wasi:config/store.get@0.2.0-rc.1(..)` (the `-rc.1`
    // prerelease), and bare `get` is ambiguous with pod-introspect's `get`, so wasi:config is
    // checked through its unambiguous `get-all`.
    assert_eq!(
        wasmtime_run(&["--invoke", "get-all()"]).trim_end(),
        "ok([(\"limits.cpu\", \"2\"), (\"limits.memory\", \"67108864\"), \
         (\"pod.annotations.build\", \"v1.2.3\"), \
         (\"pod.annotations.note\", \"say \\\"hi\\\"\\n\\tbye\"), \
         (\"pod.labels.app\", \"store\"), (\"pod.labels.tier\", \"web\"), \
         (\"pod.name\", \"web-0\"), (\"pod.namespace\", \"shop\"), \
         (\"pod.uid\", \"0b7f3a5c-8a52-4f4e-9d6c-1f2e3d4c5b6a\")])"
    );
}

#[test]
fn wac_plug_composition_runs_in_the_host_and_in_wasmtime() {
    let Some(wac) = tool("wac", "cargo install --locked wac-cli@0.12.0") else {
        return;
    };
    let wac = &wac;
    let pod = fixture();
    let composed = pod.path().join("greeter-composed.wasm");
    success(
        Command::new(wac)
            .args([
                "plug",
                POD_GREETER_WASM_PATH,
                "--plug",
                GUEST_WASM_PATH,
                "-o",
            ])
            .arg(&composed),
    );
    let composed = composed.to_str().unwrap();
    let expected = "pod: web-0\nnamespace: shop\nlabel app: store\nlimits.cpu: 2 (divisor 1)\n";
    // Already composed: our host runs it as it is.
    assert_eq!(host_run(&pod, composed, &["--no-link"], &[]), expected);
    let Some(wasmtime) = tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8") else {
        return;
    };
    let dir = format!("{}::/etc/podinfo", pod.host("/etc/podinfo").display());
    let out = success(
        Command::new(&wasmtime)
            .args(["run", "-S", "http", "--dir", &dir])
            .arg(composed),
    );
    assert_eq!(out, expected);

    // A wasi:config/store consumer, composed the same way, reads the pod in wasmtime too.
    let config = pod.path().join("config-composed.wasm");
    success(
        Command::new(wac)
            .args([
                "plug",
                CONFIG_CONSUMER_WASM_PATH,
                "--plug",
                GUEST_WASM_PATH,
                "-o",
            ])
            .arg(&config),
    );
    let out = success(
        Command::new(&wasmtime)
            .args(["run", "-S", "http", "--dir", &dir])
            .arg(&config)
            .args(["pod.uid", "pod.annotations.note", "limits.memory"]),
    );
    assert_eq!(
        out,
        "pod.uid=0b7f3a5c-8a52-4f4e-9d6c-1f2e3d4c5b6a\n\
         pod.annotations.note=say \"hi\"\n\tbye\n\
         limits.memory=67108864\n"
    );
}

/// The npm prefix `.ci/run` installs jco into (`npm ci --prefix tests/jco`).
fn jco_dir() -> Option<PathBuf> {
    let dir = workspace().join("tests/jco");
    if dir.join("node_modules/.bin/jco").is_file() {
        Some(dir)
    } else {
        skip("jco is not installed (run `npm ci --prefix tests/jco`; it needs Node.js 20+)");
        None
    }
}

/// The guest transpiled by jco: the npm prefix (for `run-transpiled.mjs`) and the output
/// directory holding `guest.js`, or `None` (skipped) without jco.
pub(crate) fn jco_transpiled_guest() -> Option<(PathBuf, tempfile::TempDir)> {
    let dir = jco_dir()?;
    // Transpiled modules import @bytecodealliance/preview2-shim, so they must live under the
    // prefix whose node_modules holds it.
    let out_root = dir.join("out");
    std::fs::create_dir_all(&out_root).unwrap();
    let out = tempfile::Builder::new()
        .prefix("guest-")
        .tempdir_in(&out_root)
        .unwrap();
    success(
        Command::new(dir.join("node_modules/.bin/jco"))
            .args([
                "transpile",
                GUEST_WASM_PATH,
                "--name",
                "guest",
                "--quiet",
                "-o",
            ])
            .arg(out.path()),
    );
    Some((dir, out))
}

#[test]
fn jco_transpiled_guest_prints_the_same_json_under_node() {
    let Some((dir, out)) = jco_transpiled_guest() else {
        return;
    };
    let pod = fixture();
    let map = format!("{}::/etc/podinfo", pod.host("/etc/podinfo").display());
    let node = |args: &[&str]| {
        success(
            Command::new("node")
                .arg(dir.join("run-transpiled.mjs"))
                .arg(out.path().join("guest.js"))
                .arg(&map)
                .args(args),
        )
    };
    assert_eq!(node(&[]).trim_end(), FIXTURE_JSON);
    assert_eq!(node(&["--invoke", "label", "tier"]).trim_end(), "\"web\"");
    assert_eq!(
        node(&["--invoke", "store.get", "pod.labels.app"]).trim_end(),
        "\"store\""
    );
}

/// Runs `cargo component build --release` for the guest in a copy of the workspace (cargo-component
/// writes `src/bindings.rs` into the package it builds) and returns the component's path.
fn cargo_component_build(scratch: &Path) -> PathBuf {
    let ws = workspace();
    for entry in ["Cargo.toml", "Cargo.lock", "rust-toolchain.toml"] {
        std::fs::copy(ws.join(entry), scratch.join(entry)).unwrap();
    }
    for dir in ["wit", "guest", "host", "examples", "tests"] {
        copy_tree(&ws.join(dir), &scratch.join(dir));
    }
    let target = std::env::temp_dir().join("pod-introspect-cargo-component-target");
    let mut cmd = Command::new("cargo");
    cmd.current_dir(scratch.join("guest"))
        .args([
            "component",
            "build",
            "--release",
            "--locked",
            "--target-dir",
        ])
        .arg(&target);
    for var in [
        "CARGO_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let out = output(&mut cmd);
    assert!(
        out.status.success(),
        "cargo component build: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    target.join("wasm32-wasip1/release/pod_introspect_guest.wasm")
}

/// Copies `from` to `to`, skipping build output (`target`, jco's `node_modules` and `out`).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            if !["target", "node_modules", "out"]
                .contains(&entry.file_name().to_str().unwrap_or(""))
            {
                copy_tree(&path, &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// The `export` lines of `wasm-tools component wit COMPONENT`'s world, and the full text of each
/// exported interface (everything after the world).
fn exports_and_interfaces(wasm_tools: &Path, component: &Path) -> (Vec<String>, String) {
    let wit = component_wit(wasm_tools, component);
    let exports = wit
        .lines()
        .filter(|l| l.trim_start().starts_with("export "))
        .map(|l| l.trim().to_string())
        .collect();
    let interfaces = wit
        .split("\npackage ")
        .filter(|p| p.starts_with("pod-introspect:pod") || p.starts_with("wasi:config"))
        .collect::<Vec<_>>()
        .join("\npackage ");
    (exports, interfaces)
}

#[test]
fn cargo_component_build_makes_an_equivalent_component() {
    let Some(_) = tool(
        "cargo-component",
        "cargo install --locked cargo-component@0.21.1",
    ) else {
        return;
    };
    let Some(wasm_tools) = tool("wasm-tools", "cargo install --locked wasm-tools@1.263.0") else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let built = cargo_component_build(scratch.path());
    let primary = Path::new(GUEST_WASM_PATH);
    let (exports, interfaces) = exports_and_interfaces(&wasm_tools, primary);
    assert_eq!(
        exports,
        [
            "export pod-introspect:pod/pod-introspect@0.2.1;",
            "export wasi:cli/run@0.2.12;",
            "export wasi:config/store@0.2.0-rc.1;",
        ]
    );
    let (c_exports, c_interfaces) = exports_and_interfaces(&wasm_tools, &built);
    assert_eq!(c_exports, exports);
    assert!(
        interfaces.contains("interface pod-introspect {"),
        "{interfaces}"
    );
    assert_eq!(c_interfaces, interfaces);
    // Both run and print the same document.
    let pod = fixture();
    assert_eq!(
        host_run(&pod, built.to_str().unwrap(), &[], &[]).trim_end(),
        FIXTURE_JSON
    );
}

#[test]
fn wit_package_validates_with_wasm_tools() {
    let Some(wasm_tools) = tool("wasm-tools", "cargo install --locked wasm-tools@1.263.0") else {
        return;
    };
    let wit = success(
        Command::new(wasm_tools)
            .args(["component", "wit"])
            .arg(workspace().join("wit")),
    );
    assert!(
        wit.starts_with("package pod-introspect:pod@0.2.1;"),
        "{wit}"
    );
    for world in [
        "world introspector {",
        "world introspection {",
        "world pod-aware {",
    ] {
        assert!(wit.contains(world), "{world} missing:\n{wit}");
    }
}

/// `pod-introspect link COMPONENT -o DIR/NAME`, which must succeed: the linked file.
fn link(pod: &PodRoot, component: &str, name: &str) -> PathBuf {
    let linked = pod.path().join(name);
    let out = pod.run(&["link", component, "-o", linked.to_str().unwrap()]);
    assert!(out.status.success(), "link {component}: {}", stderr(&out));
    linked
}

#[test]
fn link_writes_a_component_wasmtime_serve_runs_as_an_http_app() {
    let pod = fixture();
    let linked = pod.path().join("pod-http-linked.wasm");
    let out = pod.run(&["link", POD_HTTP_WASM_PATH, "-o", linked.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("with the pod-introspect guest linked in"));
    // The same command on a wasi:cli/run component gives one `run --no-link` runs as it is.
    let greeter = link(&pod, POD_GREETER_WASM_PATH, "greeter-linked.wasm");
    assert_eq!(
        host_run(&pod, greeter.to_str().unwrap(), &["--no-link"], &[]),
        "pod: web-0\nnamespace: shop\nlabel app: store\nlimits.cpu: 2 (divisor 1)\n"
    );
    let Some(wasmtime) = tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8") else {
        return;
    };
    let dir = format!("{}::/etc/podinfo", pod.host("/etc/podinfo").display());
    let mut serve = Command::new(wasmtime)
        .args(["serve", "-S", "cli", "--addr", "127.0.0.1:0", "--dir", &dir])
        .arg(&linked)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = serving_address(serve.stderr.take().unwrap());
    let get = |path: &str| http_get(&addr, path);
    let (root_status, root_body) = get("/");
    let (label_status, label_body) = get("/labels/app");
    let (missing_status, _) = get("/labels/missing");
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!((root_status, root_body.as_str()), (200, FIXTURE_JSON));
    assert_eq!((label_status, label_body.as_str()), (200, "store"));
    assert_eq!(missing_status, 404);
}

#[test]
fn link_refuses_a_component_with_nothing_to_link() {
    let pod = PodRoot::new();
    let out = pod.run(&[
        "link",
        GUEST_WASM_PATH,
        "-o",
        pod.path().join("x.wasm").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("imports neither pod-introspect:pod/pod-introspect nor wasi:config/store"),
        "{}",
        stderr(&out)
    );
    assert!(!pod.path().join("x.wasm").exists());
}

/// Reads `wasmtime serve`'s stderr until `Serving HTTP on http://ADDR/` and returns ADDR; fails
/// after 60 s. A thread keeps draining stderr afterwards, so the server never writes to a closed
/// pipe.
fn serving_address(stderr: std::process::ChildStderr) -> String {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("http://").nth(1)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(rest.trim_end_matches('/').to_string());
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("wasmtime serve printed no `Serving HTTP on` line within 60 s")
}

/// A plain HTTP/1.1 GET over loopback: (status, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, body.to_string())
}

#[test]
fn link_says_which_import_cannot_be_satisfied_and_why() {
    // Components made by wasm-tools from WIT (`component embed --dummy` + `component new`).
    let Some(wasm_tools) = tool("wasm-tools", "cargo install --locked wasm-tools@1.263.0") else {
        return;
    };
    let pod = PodRoot::new();
    // A component built against wasi-config's earlier 0.2.0-draft (the draft wasmCloud's runtime
    // serves) is not semver-compatible with the guest's 0.2.0-rc.1.
    let draft_store = "package wasi:config@0.2.0-draft;\n\
        interface store {\n\
            variant error { upstream(string), io(string) }\n\
            get: func(key: string) -> result<option<string>, error>;\n\
        }\n";
    // The right name and version, the wrong types (`label` returning a string error).
    let wrong_pod = "package pod-introspect:pod@0.2.0;\n\
        interface pod-introspect {\n\
            label: func(key: string) -> result<option<string>, string>;\n\
        }\n";
    // The right types for a subset of the interface, which links: the mixed case below names
    // only its other import.
    let subset_pod = "package pod-introspect:pod@0.2.0;\n\
        interface pod-introspect {\n\
            info-json: func() -> string;\n\
        }\n";
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 3] = [
        (
            "draft",
            &[("config", draft_store)],
            "import wasi:config/store@0.2.0-draft;",
            "wasi:config/store@0.2.0-draft is not semver-compatible with the guest's \
                 wasi:config/store@0.2.0-rc.1",
        ),
        (
            "wrong",
            &[("pod", wrong_pod)],
            "import pod-introspect:pod/pod-introspect@0.2.0;",
            "pod-introspect:pod/pod-introspect@0.2.0 expects other types than the guest's \
                 pod-introspect:pod/pod-introspect@0.2.1 has",
        ),
        (
            "mixed",
            &[("pod", subset_pod), ("config", draft_store)],
            "import pod-introspect:pod/pod-introspect@0.2.0; import wasi:config/store@0.2.0-draft;",
            // Only the import that failed is named.
            "into DIR/mixed.wasm: wasi:config/store@0.2.0-draft is not semver-compatible with \
                 the guest's wasi:config/store@0.2.0-rc.1. Build it",
        ),
    ];
    for (name, deps, imports, want) in cases {
        let wit = pod.path().join(format!("{name}-wit"));
        for (dep, text) in deps {
            std::fs::create_dir_all(wit.join("deps").join(dep)).unwrap();
            std::fs::write(wit.join("deps").join(dep).join("package.wit"), text).unwrap();
        }
        std::fs::write(
            wit.join("world.wit"),
            format!("package example:{name};\nworld app {{ {imports} }}\n"),
        )
        .unwrap();
        let core = pod.path().join(format!("{name}.core.wasm"));
        let component = pod.path().join(format!("{name}.wasm"));
        success(
            Command::new(&wasm_tools)
                .args(["component", "embed", "--dummy"])
                .arg(&wit)
                .arg("-o")
                .arg(&core),
        );
        success(
            Command::new(&wasm_tools)
                .args(["component", "new"])
                .arg(&core)
                .arg("-o")
                .arg(&component),
        );
        let out_file = pod.path().join(format!("{name}-linked.wasm"));
        let out = pod.run(&[
            "link",
            component.to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]);
        let err = stderr(&out).replace(pod.path().to_str().unwrap(), "DIR");
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("socket"), "wac's vocabulary leaked: {err}");
        assert!(!out_file.exists(), "{name}: nothing is written on error");
    }
}

/// A consumer built against Spin's `wasi:config/store@0.2.0-draft-2024-09-27` reads the pod
/// through the draft-from-rc1 adapter: `run` and `link` plug it in between the consumer and the
/// guest, and the linked component prints the same under `wasmtime run`.
#[test]
fn a_draft_2024_09_27_consumer_is_linked_through_the_version_adapter() {
    let pod = fixture();
    let keys = ["pod.name", "pod.labels.app", "limits.cpu", "pod.missing"];
    let want = "pod.name=web-0\npod.labels.app=store\nlimits.cpu=2\npod.missing is not set\n";
    assert_eq!(
        host_run(&pod, CONFIG_CONSUMER_DRAFT_WASM_PATH, &[], &keys),
        want
    );
    let linked = link(&pod, CONFIG_CONSUMER_DRAFT_WASM_PATH, "draft-linked.wasm");
    let Some(wasmtime) = tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8") else {
        return;
    };
    let dir = format!("{}::/etc/podinfo", pod.host("/etc/podinfo").display());
    let out = success(
        Command::new(&wasmtime)
            .args(["run", "-S", "http", "--dir", &dir])
            .arg(&linked)
            .args(keys),
    );
    assert_eq!(out, want);
}

/// Both adapters in a row under wasmtime: the rc.1 consumer, given a draft store by rc1-from-draft,
/// which draft-from-rc1 serves from wasmtime's own rc.1 `-S config`. Each hop forwards values and
/// `none` unchanged; the imports are checked with wasm-tools.
#[test]
fn the_two_version_adapters_compose_under_wasmtime() {
    let Some(wac) = tool("wac", "cargo install --locked wac-cli@0.12.0") else {
        return;
    };
    let Some(wasm_tools) = tool("wasm-tools", "cargo install --locked wasm-tools@1.263.0") else {
        return;
    };
    let Some(wasmtime) = tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8") else {
        return;
    };
    let pod = PodRoot::new();
    let config_imports = |wasm: &Path| -> Vec<String> {
        world_items(&wasm_tools, wasm)
            .into_iter()
            .filter(|l| {
                l.starts_with("import wasi:config/") || l.starts_with("export wasi:config/")
            })
            .collect()
    };
    assert_eq!(
        config_imports(Path::new(CONFIG_RC1_FROM_DRAFT_WASM_PATH)),
        [
            "import wasi:config/store@0.2.0-draft-2024-09-27;",
            "export wasi:config/store@0.2.0-rc.1;"
        ]
    );
    assert_eq!(
        config_imports(Path::new(CONFIG_DRAFT_FROM_RC1_WASM_PATH)),
        [
            "import wasi:config/store@0.2.0-rc.1;",
            "export wasi:config/store@0.2.0-draft-2024-09-27;"
        ]
    );
    let on_draft = pod.path().join("consumer-on-draft.wasm");
    success(
        Command::new(&wac)
            .args([
                "plug",
                CONFIG_CONSUMER_WASM_PATH,
                "--plug",
                CONFIG_RC1_FROM_DRAFT_WASM_PATH,
                "-o",
            ])
            .arg(&on_draft),
    );
    assert_eq!(
        config_imports(&on_draft),
        ["import wasi:config/store@0.2.0-draft-2024-09-27;"]
    );
    let back_on_rc1 = pod.path().join("consumer-on-rc1.wasm");
    success(
        Command::new(&wac)
            .args(["plug"])
            .arg(&on_draft)
            .args(["--plug", CONFIG_DRAFT_FROM_RC1_WASM_PATH, "-o"])
            .arg(&back_on_rc1),
    );
    assert_eq!(
        config_imports(&back_on_rc1),
        ["import wasi:config/store@0.2.0-rc.1;"]
    );
    let out = success(
        Command::new(&wasmtime)
            .args([
                "run",
                "-S",
                "config",
                "-S",
                "config-var=pod.name=through-two-adapters",
            ])
            .arg(&back_on_rc1)
            .args(["pod.name", "pod.uid"]),
    );
    assert_eq!(out, "pod.name=through-two-adapters\npod.uid is not set\n");
}

/// `wasm-tools component wit COMPONENT`: the component's WIT, its world first.
fn component_wit(wasm_tools: &Path, component: &Path) -> String {
    success(
        Command::new(wasm_tools)
            .args(["component", "wit"])
            .arg(component),
    )
}

/// The world-level `import` and `export` lines of [`component_wit`] that name an interface of a
/// package, trimmed (`import wasi:io/poll@0.2.6;`).
fn world_items(wasm_tools: &Path, component: &Path) -> Vec<String> {
    component_wit(wasm_tools, component)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("import ") || l.starts_with("export "))
        .filter(|l| l.contains(':') && l.contains('/'))
        .map(String::from)
        .collect()
}

/// The world-level imports of `wasm` (`wasi:io/poll@0.2.6`), from [`world_items`].
fn component_imports(wasm_tools: &Path, wasm: &Path) -> Vec<String> {
    world_items(wasm_tools, wasm)
        .iter()
        .filter_map(|l| l.strip_prefix("import ")?.strip_suffix(';'))
        .map(String::from)
        .collect()
}

/// What a runtime serves: `(interface, version)` pairs; a version ending in `.x` stands for any
/// patch of that minor (wasmtime's linker, which both runtimes use, links 0.2.12 to 0.2.6).
fn served_by(served: &[(&str, &str)], import: &str) -> bool {
    let (name, version) = import.split_once('@').unwrap_or((import, ""));
    served.iter().any(|(n, v)| {
        *n == name
            && match v.strip_suffix(".x") {
                Some(minor) => version.starts_with(&format!("{minor}.")),
                None => *v == version,
            }
    })
}

/// WASI 0.2 as both runtimes serve it (Spin v3.6.3 `wit/world.wit`: `include wasi:cli/imports@0.2.6`
/// and `wasi:http/outgoing-handler@0.2.6`; wasmCloud v2.7.0 `crates/wash-runtime/src/engine/mod.rs`:
/// wasmtime-wasi's p2 interfaces and `add_only_http_to_linker_async`).
const WASI_P2: &[(&str, &str)] = &[
    ("wasi:cli/environment", "0.2.x"),
    ("wasi:cli/exit", "0.2.x"),
    ("wasi:cli/stdin", "0.2.x"),
    ("wasi:cli/stdout", "0.2.x"),
    ("wasi:cli/stderr", "0.2.x"),
    ("wasi:cli/terminal-input", "0.2.x"),
    ("wasi:cli/terminal-output", "0.2.x"),
    ("wasi:cli/terminal-stdin", "0.2.x"),
    ("wasi:cli/terminal-stdout", "0.2.x"),
    ("wasi:cli/terminal-stderr", "0.2.x"),
    ("wasi:clocks/monotonic-clock", "0.2.x"),
    ("wasi:clocks/wall-clock", "0.2.x"),
    ("wasi:filesystem/types", "0.2.x"),
    ("wasi:filesystem/preopens", "0.2.x"),
    ("wasi:io/error", "0.2.x"),
    ("wasi:io/poll", "0.2.x"),
    ("wasi:io/streams", "0.2.x"),
    ("wasi:random/random", "0.2.x"),
    ("wasi:random/insecure", "0.2.x"),
    ("wasi:random/insecure-seed", "0.2.x"),
    ("wasi:http/types", "0.2.x"),
    ("wasi:http/outgoing-handler", "0.2.x"),
];

/// The components the examples package for Spin and for wasmCloud import only what that runtime
/// serves: Spin 3.6 its WASI and `wasi:config/store@0.2.0-draft-2024-09-27`, plus the guest for
/// pod-http's `pod-introspect` import (a component dependency in spin.toml); wasmCloud 2.7 its WASI
/// and `wasi:config/store@0.2.0-rc.1`, with pod-http linked ahead of time.
#[test]
fn the_components_for_spin_and_wasmcloud_import_only_what_they_serve() {
    let Some(wasm_tools) = tool("wasm-tools", "cargo install --locked wasm-tools@1.263.0") else {
        return;
    };
    let spin: Vec<(&str, &str)> = WASI_P2
        .iter()
        .copied()
        .chain([("wasi:config/store", "0.2.0-draft-2024-09-27")])
        .collect();
    let wasmcloud: Vec<(&str, &str)> = WASI_P2
        .iter()
        .copied()
        .chain([("wasi:config/store", "0.2.0-rc.1")])
        .collect();
    let pod = fixture();
    let linked = link(&pod, POD_HTTP_WASM_PATH, "pod-http-linked.wasm");
    let linked = linked.to_str().unwrap();
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 7] = [
        // pod-http in spin.toml: its pod-introspect import is the dependency's.
        (
            POD_HTTP_WASM_PATH,
            &spin,
            &["pod-introspect:pod/pod-introspect@0.2.1"],
        ),
        (GUEST_WASM_PATH, &spin, &[]),
        (CONFIG_CONSUMER_DRAFT_WASM_PATH, &spin, &[]),
        (CONFIG_RC1_FROM_DRAFT_WASM_PATH, &spin, &[]),
        (
            pod_introspect_guest_artifact::ENV_FROM_CONFIG_WASM_PATH,
            &spin,
            &[],
        ),
        (linked, &wasmcloud, &[]),
        (CONFIG_CONSUMER_WASM_PATH, &wasmcloud, &[]),
    ];
    // What spin.toml ships as the dependency: the guest composed with env-from-config, which
    // still exports what pod-http imports.
    if let Some(wac) = tool("wac", "cargo install --locked wac-cli@0.12.0") {
        let shipped = pod.path().join("pod_introspect_guest_config.wasm");
        success(
            Command::new(&wac)
                .args([
                    "plug",
                    GUEST_WASM_PATH,
                    "--plug",
                    pod_introspect_guest_artifact::ENV_FROM_CONFIG_WASM_PATH,
                    "-o",
                ])
                .arg(&shipped),
        );
        let imports = component_imports(&wasm_tools, &shipped);
        let missing: Vec<&String> = imports.iter().filter(|i| !served_by(&spin, i)).collect();
        assert!(
            missing.is_empty(),
            "the shipped guest imports what Spin does not serve: {missing:?}"
        );
        let items = world_items(&wasm_tools, &shipped);
        assert!(
            items
                .iter()
                .any(|l| l == "export pod-introspect:pod/pod-introspect@0.2.1;"),
            "{items:?}"
        );
    }
    for (wasm, served, composed) in cases {
        let imports = component_imports(&wasm_tools, Path::new(wasm));
        assert!(!imports.is_empty(), "{wasm}: no imports read");
        let missing: Vec<&String> = imports
            .iter()
            .filter(|i| !served_by(served, i) && !composed.contains(&i.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{wasm} imports what is not served: {missing:?}"
        );
    }
    // And the check refuses what a runtime does not serve.
    assert!(!served_by(&spin, "wasi:config/store@0.2.0-rc.1"));
    assert!(!served_by(
        &wasmcloud,
        "wasi:config/store@0.2.0-draft-2024-09-27"
    ));
    assert!(served_by(&spin, "wasi:io/poll@0.2.12"));
    assert!(!served_by(&spin, "wasi:io/poll@0.3.0"));
}

/// With no downward files and no env, the pod's fields given as runtime-configuration keys (Spin
/// variables; here wasmtime's `-S config-var`) reach the guest through env-from-config composed in
/// front of it (and draft-from-rc1 behind it, wasmtime serving rc.1): `info` names them
/// `config:<key>`, and the guest's own wasi:config export serves them.
#[test]
fn config_keys_are_the_last_source_through_env_from_config() {
    use pod_introspect_guest_artifact::ENV_FROM_CONFIG_WASM_PATH;
    let Some(wac) = tool("wac", "cargo install --locked wac-cli@0.12.0") else {
        return;
    };
    let Some(wasmtime) = tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8") else {
        return;
    };
    let pod = PodRoot::new();
    let on_draft = pod.path().join("guest-on-config.wasm");
    success(
        Command::new(&wac)
            .args([
                "plug",
                GUEST_WASM_PATH,
                "--plug",
                ENV_FROM_CONFIG_WASM_PATH,
                "-o",
            ])
            .arg(&on_draft),
    );
    let composed = pod.path().join("guest-on-rc1.wasm");
    success(
        Command::new(&wac)
            .arg("plug")
            .arg(&on_draft)
            .args(["--plug", CONFIG_DRAFT_FROM_RC1_WASM_PATH, "-o"])
            .arg(&composed),
    );
    // `extra`: wasmtime's own flags, before the component.
    let run = |extra: &[&str]| {
        success(
            Command::new(&wasmtime)
                .args([
                    "run",
                    "-S",
                    "http",
                    "-S",
                    "config",
                    "-S",
                    "config-var=pod_name=web-from-config",
                    "-S",
                    "config-var=pod_namespace=shop",
                    "-S",
                    "config-var=cpu_limit=3",
                    "-S",
                    "config-var=unrelated=x",
                    // Empty is unset (a Spin variable's `default = ""`).
                    "-S",
                    "config-var=pod_uid=",
                ])
                .args(extra)
                .arg(&composed),
        )
    };
    let info: Value = serde_json::from_str(run(&[]).trim()).unwrap();
    assert_eq!(info["name"], "web-from-config");
    assert_eq!(info["namespace"], "shop");
    assert_eq!(info["sources"]["metadata.name"], "config:pod_name");
    assert_eq!(info["sources"]["limits.cpu"], "config:cpu_limit");
    assert_eq!(
        info["resources"]["limits.cpu"],
        json!({"value": 3, "divisor": "1"})
    );
    assert_eq!(info["errors"], json!([]));
    assert!(info.get("uid").is_none(), "pod_uid was not given: {info}");
    assert_eq!(
        run(&["--invoke", "get-all()"]).trim_end(),
        "ok([(\"limits.cpu\", \"3\"), (\"pod.name\", \"web-from-config\"), \
         (\"pod.namespace\", \"shop\")])"
    );
}
