#!/usr/bin/env bash
# Peak memory (max RSS) of `pod-introspect api pods` listing 5,000 pods through the guest, against
# the anchor `kubectl get pods -o json` on the same API-server emulator, same run.
#
# Needs kubectl on PATH and GNU time (/usr/bin/time). Usage: bench/api-memory.sh [PODS] (default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-5000}
cargo build --release -p pod-introspect >&2
host=$PWD/target/release/pod-introspect
work=$(mktemp -d)
export POD_INTROSPECT_CACHE_DIR="$work/cache" HOME="$work/home" KUBECACHEDIR="$work/kubecache"
mkdir -p "$HOME"
"$host" dev-cluster --listen 127.0.0.1:0 --state "$work/state" > "$work/cluster.log" 2>&1 &
cluster=$!
trap 'kill $cluster 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/state/kubeconfig" ] && break; sleep 0.1; done
kc="kubectl --kubeconfig $work/state/kubeconfig"
python3 - "$pods" > "$work/pods.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": f"bench-{i:05d}", "namespace": "bench", "labels": {"app": "bench", "shard": str(i % 10)}},
          "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0",
                                   "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}}
         for i in range(n)]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
$kc create --validate=false -f "$work/pods.json" > /dev/null
cat > "$work/self.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: lister, namespace: bench}
spec:
  containers:
  - name: app
    image: app:1
    env:
    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
Y
"$host" simulate --pod "$work/self.yaml" --root "$work/root" --cluster "$work/state" > /dev/null
"$host" api --root "$work/root" --env-clear version > /dev/null   # fills the compile cache

measure() { /usr/bin/time -f '%M %e' "$@" 2>&1 >/dev/null | tail -1; }
read -r g_kb g_s < <(measure "$host" api --root "$work/root" --env-clear --max-memory 1024 pods)
read -r k_kb k_s < <(measure $kc get pods -n bench -o json)
count=$("$host" api --root "$work/root" --env-clear --max-memory 1024 pods | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
echo "listed $count pods"
echo "| client | max RSS (MiB) | wall (s) | RSS / kubectl |"
echo "|---|---|---|---|"
awk -v g="$g_kb" -v gs="$g_s" -v k="$k_kb" -v ks="$k_s" 'BEGIN {
  printf "| pod-introspect api pods (guest, wasi:http) | %.1f | %s | %.2f |\n", g/1024, gs, g/k
  printf "| kubectl get pods -o json | %.1f | %s | 1.00 |\n", k/1024, ks }'
