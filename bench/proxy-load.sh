#!/usr/bin/env bash
# `pod-introspect proxy` against `kubectl proxy` under load (watches + probes, 1,000 connections,
# an API-server restart under load): see bench/proxy-load.py for what is measured.
#
# Usage: bench/proxy-load.sh [--seconds 15] [--connections 1000] [--path PATH]
# Needs kubectl (KUBECTL=..., default /usr/bin/kubectl) and python3. Output: a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
kubectl_bin=${KUBECTL:-/usr/bin/kubectl}
[ -x "$kubectl_bin" ] || { echo "skipped: no kubectl at $kubectl_bin (set KUBECTL=...)" >&2; exit 0; }
command -v python3 > /dev/null || { echo "skipped: python3 is needed for the load generator" >&2; exit 0; }
cargo build --release -p pod-introspect >&2
exec python3 bench/proxy-load.py "${CARGO_TARGET_DIR:-$PWD/target}/release/pod-introspect" --kubectl "$kubectl_bin" "$@"
