#!/usr/bin/env bash
# `pod-introspect proxy` against the anchor `kubectl proxy` (and direct-to-upstream), one run,
# same API-server emulator, same machine:
#
#   GET /version, GET one pod, LIST 500 pods   wrk (HTTP/1.1 keep-alive): requests/s, p50, p99
#   1,000 watch events                         time from the POST that makes the event to the
#                                              event line arriving through each path: p50, p99
#   peak RSS of each proxy process             VmHWM after all of the above
#
# Targets: at least 3x kubectl proxy's requests/s and at most a third of its p99 and RSS; at
# least 0.8x of direct-to-upstream throughput. Both proxies use the emulator's admin kubeconfig;
# direct requests send its token over TLS (wrk does not verify the certificate).
#
# Needs kubectl (default /usr/bin/kubectl), python3 and wrk: when wrk is missing it is installed
# with `apt-get install -y wrk` if possible, else the script stops with a message.
#
# Usage: [PROXY_ARGS="--threads 0"] bench/proxy.sh [SECONDS per wrk run, default 10] [CONNECTIONS, default 32]
# Output: a markdown table on stdout (paste into docs/benchmarks.md with the command line).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
kubectl_bin=${KUBECTL:-/usr/bin/kubectl}

if ! command -v wrk > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "wrk not found; installing it with apt-get install -y wrk" >&2
    apt-get install -y wrk > /dev/null 2>&1 || { apt-get update > /dev/null 2>&1 && apt-get install -y wrk > /dev/null 2>&1; } || true
  fi
  command -v wrk > /dev/null || { echo "skipped: wrk is not installed and could not be installed (apt-get install wrk)" >&2; exit 0; }
fi
[ -x "$kubectl_bin" ] || { echo "skipped: no kubectl at $kubectl_bin (set KUBECTL=...)" >&2; exit 0; }
command -v python3 > /dev/null || { echo "skipped: python3 is needed for the watch latency client" >&2; exit 0; }

cargo build --release -p pod-introspect >&2
host=${CARGO_TARGET_DIR:-$PWD/target}/release/pod-introspect
work=$(mktemp -d)
export HOME="$work/home" KUBECACHEDIR="$work/kubecache"
mkdir -p "$HOME"
pids=()
# Proxies are started in command substitutions (subshells): their pids are in $work/*.pid.
cleanup() {
  for p in "${pids[@]}" $(cat "$work"/*.pid 2> /dev/null); do kill "$p" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$host" dev-cluster --listen 127.0.0.1:0 --state "$work/state" > "$work/cluster.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/state/kubeconfig" ] && break; sleep 0.1; done
direct=$(sed -n 's/^Serving the Kubernetes API on //p' "$work/cluster.log")
token=$(sed -n 's/^ *token: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$work/state/kubeconfig")
kc="$kubectl_bin --kubeconfig $work/state/kubeconfig"

python3 - > "$work/pods.json" << 'PY'
import json
items = [{"apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": f"pod-{i}", "namespace": "bench", "labels": {"app": "bench", "shard": str(i % 10)}},
          "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0",
                                   "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}}
         for i in range(500)]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
PY
$kc create --validate=false -f "$work/pods.json" > /dev/null

# Starts a proxy whose first stdout line is `Starting to serve on HOST:PORT`; prints the URL.
start_proxy() {
  local name=$1
  shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  echo $! > "$work/$name.pid"
  for _ in $(seq 100); do grep -q '^Starting to serve on' "$work/$name.out" 2> /dev/null && break; sleep 0.1; done
  echo "http://$(sed -n 's/^Starting to serve on //p' "$work/$name.out")"
}
kp=$(start_proxy kubectl "$kubectl_bin" proxy --kubeconfig "$work/state/kubeconfig" --port=0)
# PROXY_ARGS: extra flags for pod-introspect proxy, e.g. PROXY_ARGS="--threads 0".
pp=$(start_proxy pod-introspect "$host" proxy --kubeconfig "$work/state/kubeconfig" --port=0 ${PROXY_ARGS:-})
echo "kubectl proxy $kp, pod-introspect proxy $pp, direct $direct" >&2

# wrk's summary as "rps p50_ms p99_ms".
bench() {
  local url=$1
  shift
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" "$url" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { if (bad) print "non-2xx responses: " bad > "/dev/stderr"; printf "%s %.3f %.3f\n", rps, p50, p99 }'
}

declare -A res
paths=("/version" "/api/v1/namespaces/bench/pods/pod-0" "/api/v1/namespaces/bench/pods")
names=("GET /version" "GET one pod" "LIST 500 pods")
for i in 0 1 2; do
  p=${paths[$i]}
  for url in "$kp$p" "$pp$p"; do curl -sf "$url" > /dev/null; done   # warm the pools
  res[k$i]=$(bench "$kp$p")
  res[p$i]=$(bench "$pp$p")
  res[d$i]=$(bench "$direct$p" -H "Authorization: Bearer $token")
  echo "${names[$i]}: kubectl ${res[k$i]} | ours ${res[p$i]} | direct ${res[d$i]}" >&2
done

# Watch latency: open a watch through each path, create 1,000 pods directly on the API server,
# timestamp each POST and each ADDED line; report p50/p99 of the difference.
watch_latency() {
  python3 - "$1" "$direct" "$token" "$work/state/ca.crt" "$2" << 'PY'
import http.client, json, ssl, sys, threading, time, urllib.parse
base, direct, token, ca, prefix = sys.argv[1:6]
N = 1000
def conn(url):
    u = urllib.parse.urlparse(url)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca), timeout=30)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)
auth = {"Authorization": "Bearer " + token}
w = conn(base)
w.request("GET", "/api/v1/namespaces/watch/pods?watch=true&timeoutSeconds=120", headers=auth if base.startswith("https") else {})
resp = w.getresponse()
assert resp.status == 200, resp.status
got, sent, done = {}, {}, threading.Event()
def read():
    while len(got) < N:
        line = resp.readline()
        if not line:
            break
        name = json.loads(line)["object"]["metadata"]["name"]
        if name.startswith(prefix):
            got[name] = time.perf_counter()
    done.set()
threading.Thread(target=read, daemon=True).start()
time.sleep(0.3)
c = conn(direct)
for i in range(N):
    name = f"{prefix}{i}"
    body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "watch"},
                       "spec": {"containers": [{"name": "a", "image": "x"}]}})
    sent[name] = time.perf_counter()
    c.request("POST", "/api/v1/namespaces/watch/pods", body=body, headers={**auth, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
done.wait(30)
lat = sorted((got[n] - sent[n]) * 1000 for n in sent if n in got)
assert len(lat) == N, f"only {len(lat)} of {N} events arrived"
print(f"{lat[len(lat) // 2]:.3f} {lat[int(len(lat) * 0.99) - 1]:.3f}")
PY
}
$kc create namespace watch > /dev/null 2>&1 || true
res[kw]=$(watch_latency "$kp" k-)
res[pw]=$(watch_latency "$pp" p-)
res[dw]=$(watch_latency "$direct" d-)
echo "watch: kubectl ${res[kw]} | ours ${res[pw]} | direct ${res[dw]}" >&2

rss() { awk '/^VmHWM/ { print $2 }' "/proc/$(cat "$work/$1.pid")/status"; }
krss=$(rss kubectl)
prss=$(rss pod-introspect)

echo
echo "$(nproc) CPUs, $(uname -m), wrk -t2 -c$conns -d${secs}s; $("$kubectl_bin" version --client 2> /dev/null | head -1); pod-introspect $("$host" --version | awk '{print $2}') (release)"
echo
echo "| workload | metric | kubectl proxy | pod-introspect proxy | direct | ours / kubectl | ours / direct |"
echo "|---|---|---|---|---|---|---|"
for i in 0 1 2; do
  read -r kr k50 k99 <<< "${res[k$i]}"
  read -r pr p50 p99 <<< "${res[p$i]}"
  read -r dr d50 d99 <<< "${res[d$i]}"
  awk -v n="${names[$i]}" -v kr="$kr" -v pr="$pr" -v dr="$dr" -v k50="$k50" -v p50="$p50" -v d50="$d50" -v k99="$k99" -v p99="$p99" -v d99="$d99" 'BEGIN {
    printf "| %s | requests/s | %.0f | %.0f | %.0f | **%.2fx** | %.2fx |\n", n, kr, pr, dr, pr / kr, pr / dr
    printf "| %s | p50 latency (ms) | %.2f | %.2f | %.2f | %.2fx | %.2fx |\n", n, k50, p50, d50, p50 / k50, p50 / d50
    printf "| %s | p99 latency (ms) | %.2f | %.2f | %.2f | **%.2fx** | %.2fx |\n", n, k99, p99, d99, p99 / k99, p99 / d99 }'
done
read -r k50 k99 <<< "${res[kw]}"
read -r p50 p99 <<< "${res[pw]}"
read -r d50 d99 <<< "${res[dw]}"
awk -v k50="$k50" -v p50="$p50" -v d50="$d50" -v k99="$k99" -v p99="$p99" -v d99="$d99" 'BEGIN {
  printf "| 1,000 watch events | event latency p50 (ms) | %.2f | %.2f | %.2f | %.2fx | %.2fx |\n", k50, p50, d50, p50 / k50, p50 / d50
  printf "| 1,000 watch events | event latency p99 (ms) | %.2f | %.2f | %.2f | %.2fx | %.2fx |\n", k99, p99, d99, p99 / k99, p99 / d99 }'
awk -v k="$krss" -v p="$prss" 'BEGIN {
  printf "| whole run | peak RSS (MiB) | %.1f | %.1f | n/a | **%.2fx** | n/a |\n", k / 1024, p / 1024, p / k }'
