#!/usr/bin/env bash
# `pod-introspect dev-cluster` under the loads of issue 11: a list of 10,000 ConfigMaps (p50 time,
# peak RSS) and watch fan-out to 100 watchers; see bench/dev-cluster.py for what is measured and
# which anchor each ratio is against (measured in the same run).
#
# Usage: bench/dev-cluster.sh [--objects 10000] [--watchers 100] [--lists 20]
# Needs python3. The server is pinned to CPU 0 and the client to CPU 1 (taskset) when there are
# two CPUs. Output: a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 > /dev/null || { echo "skipped: python3 is needed for the client" >&2; exit 0; }
cargo build --release -p pod-introspect >&2
exec python3 bench/dev-cluster.py "${CARGO_TARGET_DIR:-$PWD/target}/release/pod-introspect" "$@"
