#!/usr/bin/env bash
# Whole-process wall time of `pod-introspect info` against the anchor `wasmtime run` of the same
# guest component on the same simulated pod, measured in one run with hyperfine.
#
# Needs: hyperfine (Debian package), and for the anchor the wasmtime CLI 48
# (`cargo install wasmtime-cli@48.0.8 --locked`; set WASMTIME=/path/to/wasmtime if not on PATH).
# Usage: bench/info-wall-time.sh [RUNS]   (default 30). Prints a markdown table of medians and
# ratios against the two anchors, and checks all print the same JSON:
#   wasmtime run (cold)         -C cache=n: compiles the component with Cranelift on every run
#   wasmtime run (cache)        wasmtime's default on-disk compile cache
#   wasmtime run (precompiled)  `wasmtime compile` once, then `run --allow-precompiled guest.cwasm`
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
wasmtime=${WASMTIME:-$(command -v wasmtime || true)}

cargo build --release -p pod-introspect >&2
host=target/release/pod-introspect
guest=$(find target/release/build -path '*guest-target*' -name pod_introspect_guest.wasm -not -path '*/deps/*' | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export POD_INTROSPECT_CACHE_DIR="$work/cache"
root="$work/root"
"$host" simulate --pod examples/seed-pod.yaml --root "$root" >/dev/null
"$host" info --root "$root" --env-clear > "$work/info.json"   # fills the compile cache

cmds=("$host info --root $root --env-clear")
names=("pod-introspect info")
if [ -n "$wasmtime" ]; then
  # The same sandbox by hand: the container's env and its two volumes, read-only.
  envflags=$(python3 -c 'import json,shlex,sys; print(" ".join("--env " + shlex.quote(e["name"] + "=" + e["value"]) for e in json.load(open(sys.argv[1]))["env"]))' "$root/.pod-introspect/container.json")
  dirs="--dir $root/etc/downward::/etc/downward --dir $root/var/run/secrets/kubernetes.io/serviceaccount::/var/run/secrets/kubernetes.io/serviceaccount"
  eval "$wasmtime run -S http $dirs $envflags $guest" > "$work/wasmtime.json"
  cmp "$work/info.json" "$work/wasmtime.json" && echo "same JSON from pod-introspect info and wasmtime run" >&2
  "$wasmtime" compile -o "$work/guest.cwasm" "$guest"
  eval "$wasmtime run -S http --allow-precompiled $dirs $envflags $work/guest.cwasm" > "$work/precompiled.json"
  cmp "$work/info.json" "$work/precompiled.json"
  cmds=("$wasmtime run -C cache=n -S http $dirs $envflags $guest" "$wasmtime run -S http $dirs $envflags $guest" "$wasmtime run -S http --allow-precompiled $dirs $envflags $work/guest.cwasm" "${cmds[@]}")
  names=("wasmtime run (cold)" "wasmtime run (cache)" "wasmtime run (precompiled)" "${names[@]}")
fi

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "${cmds[@]}" >&2
python3 - "$work/h.json" "${names[@]}" <<'PY'
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
medians = [statistics.median(r["times"]) for r in res]
# Anchors: the first command, and the precompiled one when wasmtime was measured.
anchors = [0, 2] if len(names) > 2 else [0]
print("| command | median (ms) | " + " | ".join(f"ratio to {names[a]}" for a in anchors) + " |")
print("|---|---|" + "---|" * len(anchors))
for n, m in zip(names, medians):
    print(f"| {n} | {m*1000:.1f} | " + " | ".join(f"{m/medians[a]:.2f}" for a in anchors) + " |")
PY
ls -l "$guest" | awk '{print "guest component: " $5 " bytes"}'
