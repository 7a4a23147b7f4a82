#!/usr/bin/env bash
# The ambassador's CPU per request and watch fan-out against kubectl proxy, pinned (proxy on
# CPU 0, emulator and load on CPU 1): see host/benches/proxy_cpu.rs.
# Usage: bench/proxy-cpu.sh [SECONDS CONNS WATCHERS CHANGES PACE_MS]   (defaults 5 8 1000 1000 10)
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p pod-introspect --bench proxy_cpu -- "$@"
