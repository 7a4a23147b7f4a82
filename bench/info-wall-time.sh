#!/usr/bin/env bash
# Whole-process wall time of `pod-introspect info` against the anchor `wasmtime run` of the same
# guest component on the same simulated pod, measured in one run with hyperfine.
#
# Needs: hyperfine (Debian package), and for the anchor the wasmtime CLI 48
# (`cargo install wasmtime-cli@48.0.8 --locked`; set WASMTIME=/path/to/wasmtime if not on PATH).
# Usage: bench/info-wall-time.sh [RUNS]   (default 30). Prints a markdown table of medians and
# ratios against `wasmtime run` (cold), and checks both print the same JSON.
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
  cmp "$work/info.json" "$work/wasmtime.json" && echo "same JSON from both" >&2
  "$wasmtime" compile -o "$work/guest.cwasm" "$guest"
  cmds=("$wasmtime run -S http $dirs $envflags $guest" "$wasmtime run -S http --allow-precompiled $dirs $envflags $work/guest.cwasm" "${cmds[@]}")
  names=("wasmtime run (cold)" "wasmtime run (precompiled)" "${names[@]}")
fi

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "${cmds[@]}" >&2
python3 - "$work/h.json" "${names[@]}" <<'PY'
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
anchor = statistics.median(res[0]["times"])
print(f"| command | median (ms) | ratio to {names[0]} |")
print("|---|---|---|")
for n, r in zip(names, res):
    m = statistics.median(r["times"])
    print(f"| {n} | {m*1000:.1f} | {m/anchor:.2f} |")
PY
ls -l "$guest" | awk '{print "guest component: " $5 " bytes"}'
