#!/usr/bin/env bash
# Idle CPU of a component waiting for its pod to change: `pod-introspect watch-pod` (the bundled
# guest's `pod-changes`, one readlink of `..data` per volume per second) against the anchor
# `wasmtime run` of the same guest's own `watch-pod`, on the same simulated pod, both over the
# same SECONDS (default 60) with nothing changing, both pinned to CPU 0. CPU is utime+stime from
# /proc/PID/stat. Then one label change, to show both were really following.
#
# Needs: the wasmtime CLI 48 for the anchor (`cargo install wasmtime-cli@48.0.8 --locked`;
# WASMTIME=/path/to/wasmtime if not on PATH). Usage: bench/watch-pod-idle.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
wasmtime=${WASMTIME:-$(command -v wasmtime || command -v "$HOME/.cache/pod-introspect/tools/bin/wasmtime" || true)}
target=${CARGO_TARGET_DIR:-target}

cargo build --release -p pod-introspect >&2
host=$target/release/pod-introspect
guest=$(find "$target/release/build" -path '*guest-target*' -name pod_introspect_guest.wasm -not -path '*/deps/*' | head -1)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
export POD_INTROSPECT_CACHE_DIR="$work/cache"
root="$work/root"
cp examples/dapi-volume.yaml "$work/pod.yaml"
"$host" simulate --pod "$work/pod.yaml" --root "$root" >/dev/null
"$host" info --root "$root" --env-clear >/dev/null   # fills the compile cache

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

taskset -c 0 "$host" watch-pod --root "$root" --env-clear > "$work/ours.out" 2> "$work/ours.err" &
pids+=($!)
names=("pod-introspect watch-pod")
if [ -n "$wasmtime" ]; then
  # Precompiled, so the anchor's figure is its polling, not Cranelift.
  "$wasmtime" compile "$guest" -o "$work/guest.cwasm"
  taskset -c 0 "$wasmtime" run --allow-precompiled -S http --dir "$root/etc/podinfo::/etc/podinfo" \
    "$work/guest.cwasm" watch-pod > "$work/anchor.out" 2> "$work/anchor.err" &
  pids+=($!)
  names+=("wasmtime run guest.wasm watch-pod")
else
  echo "skipped: the anchor (no wasmtime CLI; set WASMTIME=...)" >&2
fi
# Both print the `following` line once they hold the view; give up after 120 s (a first compile).
ready() { # file
    local i
    for i in $(seq 600); do grep -q "watch-pod: following" "$1" && return 0; sleep 0.2; done
    echo "no 'watch-pod: following' line in $1 after 120 s:" >&2; cat "$1" >&2; exit 1
}
ready "$work/ours.err"
if [ -n "$wasmtime" ]; then ready "$work/anchor.err"; fi
sleep 2
before=(); for p in "${pids[@]}"; do before+=("$(ticks "$p")"); done
sleep "$secs"
after=(); for p in "${pids[@]}"; do after+=("$(ticks "$p")"); done

echo "Idle for $secs s, 1 s poll interval, pinned to CPU 0"
echo
echo "| follower | CPU ms over ${secs} s | % of a core | CPU µs per poll | role |"
echo "|---|---:|---:|---:|---:|"
anchor=""
for i in "${!pids[@]}"; do
  ms=$(( (${after[$i]} - ${before[$i]}) * 1000 / hz ))
  pct=$(awk -v ms="$ms" -v s="$secs" 'BEGIN { printf "%.4f", ms / (s * 10) }')
  per=$(awk -v ms="$ms" -v s="$secs" 'BEGIN { printf "%.0f", ms * 1000 / s }')
  if [ $i -eq 0 ]; then ratio="measured"; else ratio="anchor"; anchor=$ms; fi
  echo "| ${names[$i]} | $ms | $pct | $per | $ratio |"
done
if [ -n "$anchor" ] && [ "$anchor" -gt 0 ]; then
  ours=$(( (${after[0]} - ${before[0]}) * 1000 / hz ))
  awk -v o="$ours" -v a="$anchor" 'BEGIN { printf "\nours / anchor: %.2fx\n", o / a }'
fi
echo "(CPU time has a resolution of 1000/$hz ms.)"

sed -i 's/zone: us-est-coast/zone: us-west-coast/' "$work/pod.yaml"
"$host" simulate --pod "$work/pod.yaml" --root "$root" >/dev/null
sleep 2
echo
echo "after one label change:"
echo "  ours:   $(cat "$work/ours.out")"
if [ -n "$wasmtime" ]; then echo "  anchor: $(cat "$work/anchor.out")"; fi
