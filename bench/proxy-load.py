#!/usr/bin/env python3
"""`pod-introspect proxy` against `kubectl proxy` under load, one run, same API-server emulator.

Started here: `pod-introspect dev-cluster --state DIR` (its CA, signing key and admin kubeconfig
survive a restart), then both proxies with `--kubeconfig DIR/kubeconfig --port=0`. With 2+ CPUs
the proxies are pinned to CPU 0 and the emulator and this load generator to the others
(`taskset`), so a proxy never competes with its load. Measured for BOTH proxies:

  a. 300 watches open through the proxy, then 10 probes (`GET /version`, 5 s limit each):
     watches whose response head arrived, probes answered 200, probe latency p50/max.
  b. 1,000 concurrent keep-alive connections for SECONDS against PATH: requests done, errors
     (non-200 or a broken connection), latency p50/p99, the proxy's VmRSS before/after
     (/proc/PID/status) and its CPU time per request (utime+stime from /proc/PID/stat).
  c. 50 connections of load through each proxy at once while the emulator is killed (SIGKILL)
     and restarted on the same port with the same --state: ms from the restart (spawn) to the
     first 200 through each proxy, and the errors each proxy's clients saw.

Python 3 standard library only (asyncio, raw HTTP/1.1). The generator is the same for both
proxies, so the ratios compare the proxies; absolute figures are bounded by this generator.

Usage: bench/proxy-load.py HOST_BINARY [--kubectl PATH] [--seconds 15] [--connections 1000]
                                       [--path /api/v1/namespaces/default/pods]
Output: a markdown table on stdout, progress on stderr.
"""

import argparse
import asyncio
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cpus():
    return sorted(os.sched_getaffinity(0))


def pinned(cmd, which):
    """cmd under `taskset -c which` when taskset exists and there are 2+ CPUs."""
    if which is None or not shutil.which("taskset"):
        return cmd
    return ["taskset", "-c", which] + cmd


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Cluster:
    def __init__(self, host, state, cpu):
        self.host, self.state, self.cpu = host, state, cpu
        self.proc = None
        self.listen = "127.0.0.1:0"

    def start(self):
        kc = os.path.join(self.state, "kubeconfig")
        first = not os.path.exists(kc)
        self.proc = subprocess.Popen(
            pinned([self.host, "dev-cluster", "--listen", self.listen, "--state", self.state], self.cpu),
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(os.path.dirname(self.state), "cluster.err"), "a"))
        if first:
            for _ in range(200):
                if os.path.exists(kc) and "server:" in open(kc).read():
                    break
                time.sleep(0.05)
            for line in open(kc):
                if line.strip().startswith("server:"):
                    self.listen = line.split("https://", 1)[1].strip().strip('"').rstrip("/")
        return kc

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class Proxy:
    def __init__(self, name, cmd, cpu):
        self.name = name
        self.proc = subprocess.Popen(pinned(cmd, cpu), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("Starting to serve on "), f"{name}: {line!r}"
        host, port = line.split()[-1].rsplit(":", 1)
        self.addr = (host, int(port))
        # With taskset the child is taskset itself only until exec: same pid.
        self.pid = self.proc.pid

    def stop(self):
        self.proc.kill()
        self.proc.wait()


async def read_response(reader):
    """Reads one response; returns the status. Handles Content-Length and chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        i = lower.find(b"content-length:")
        if i >= 0:
            n = int(lower[i + 15:lower.index(b"\r\n", i)])
            await reader.readexactly(n)
    return status


def request(path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


async def watches_and_probes(addr, n_watches=300, n_probes=10):
    opened, conns = 0, []

    async def watch():
        nonlocal opened
        r, w = await asyncio.open_connection(*addr)
        conns.append(w)
        w.write(request("/api/v1/namespaces/default/pods?watch=1"))
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
        if head[9:12] == b"200":
            opened += 1

    await asyncio.gather(*(watch() for _ in range(n_watches)), return_exceptions=True)
    ok, lat = 0, []
    for _ in range(n_probes):
        t = time.perf_counter()
        try:
            r, w = await asyncio.open_connection(*addr)
            w.write(request("/version"))
            if await asyncio.wait_for(read_response(r), 5) == 200:
                ok += 1
                lat.append((time.perf_counter() - t) * 1000)
            w.close()
        except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
    for w in conns:
        w.close()
    lat.sort()
    return opened, ok, (lat[len(lat) // 2] if lat else None), (lat[-1] if lat else None)


async def load(addr, path, conns, seconds, stop_at_first_200=None):
    """`conns` keep-alive loops for `seconds`; (done, errors, sorted latencies in ms).
    stop_at_first_200: a dict that gets "first" = perf_counter() of the first 200 after "armed"."""
    lat, errors = [], 0
    deadline = time.perf_counter() + seconds
    req = request(path)

    async def one():
        nonlocal errors
        r = w = None
        while time.perf_counter() < deadline:
            try:
                if w is None:
                    r, w = await asyncio.wait_for(asyncio.open_connection(*addr), 5)
                t = time.perf_counter()
                w.write(req)
                status = await asyncio.wait_for(read_response(r), 10)
                now = time.perf_counter()
                if status == 200:
                    lat.append((now - t) * 1000)
                    if stop_at_first_200 is not None and stop_at_first_200.get("armed") and "first" not in stop_at_first_200:
                        stop_at_first_200["first"] = now
                else:
                    errors += 1
                    if stop_at_first_200 is not None:
                        await asyncio.sleep(0.01)
            except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                if w is not None:
                    w.close()
                r = w = None
                await asyncio.sleep(0.01)
        if w is not None:
            w.close()

    await asyncio.gather(*(one() for _ in range(conns)))
    lat.sort()
    return len(lat) + errors, errors, lat


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p))] if lat else float("nan")


async def restart_under_load(cluster, proxies, kill_after=3.0, total=15.0):
    marks = {p.name: {} for p in proxies}
    tasks = [asyncio.create_task(load(p.addr, "/version", 50, total, marks[p.name])) for p in proxies]
    await asyncio.sleep(kill_after)
    cluster.kill()
    # Errors counted from the kill on.
    await asyncio.sleep(1.0)
    t0 = time.perf_counter()
    for m in marks.values():
        m["armed"] = True
    cluster.start()
    results = await asyncio.gather(*tasks)
    out = {}
    for p, (done, errors, _) in zip(proxies, results):
        first = marks[p.name].get("first")
        out[p.name] = ((first - t0) * 1000 if first else None, errors, done)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("--kubectl", default="/usr/bin/kubectl")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--path", default="/api/v1/namespaces/default/pods")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * args.connections + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    cs = cpus()
    proxy_cpu, rest_cpu = (str(cs[0]), ",".join(map(str, cs[1:]))) if len(cs) > 1 else (None, None)
    if rest_cpu:
        os.sched_setaffinity(0, {int(c) for c in rest_cpu.split(",")})
    work = tempfile.mkdtemp(prefix="proxy-load-")
    os.environ["HOME"] = os.path.join(work, "home")
    os.environ["KUBECACHEDIR"] = os.path.join(work, "kubecache")
    os.makedirs(os.environ["HOME"])
    state = os.path.join(work, "state")
    cluster = Cluster(args.host, state, rest_cpu)
    kc = cluster.start()
    proxies = []
    try:
        proxies = [
            Proxy("kubectl proxy", [args.kubectl, "proxy", "--kubeconfig", kc, "--port=0"], proxy_cpu),
            Proxy("pod-introspect proxy", [args.host, "proxy", "--kubeconfig", kc, "--port=0"], proxy_cpu),
        ]
        log(f"emulator {cluster.listen}; " + ", ".join(f"{p.name} {p.addr[0]}:{p.addr[1]}" for p in proxies))
        res = {}
        for p in proxies:
            res[p.name, "a"] = asyncio.run(watches_and_probes(p.addr))
            log(p.name, "a", res[p.name, "a"])
        for p in proxies:
            rss0, cpu0 = rss_kib(p.pid), cpu_seconds(p.pid)
            done, errors, lat = asyncio.run(load(p.addr, args.path, args.connections, args.seconds))
            rss1, cpu1 = rss_kib(p.pid), cpu_seconds(p.pid)
            res[p.name, "b"] = (done, errors, pct(lat, 0.5), pct(lat, 0.99), rss0, rss1,
                                (cpu1 - cpu0) * 1e6 / max(done, 1))
            log(p.name, "b", res[p.name, "b"])
        c = asyncio.run(restart_under_load(cluster, proxies))
        for p in proxies:
            res[p.name, "c"] = c[p.name]
            log(p.name, "c", c[p.name])
    finally:
        for p in proxies:
            p.stop()
        if cluster.proc and cluster.proc.poll() is None:
            cluster.kill()
        shutil.rmtree(work, ignore_errors=True)

    k, o = proxies[0].name, proxies[1].name
    kv = subprocess.run([args.kubectl, "version", "--client"], capture_output=True, text=True).stdout.splitlines()
    print(f"{len(cs)} CPUs (proxies on CPU {proxy_cpu}, emulator + load on {rest_cpu}); "
          f"{kv[0] if kv else 'kubectl'}; b: {args.connections} connections x {args.seconds:g}s GET {args.path}")
    print()
    print("| workload | metric | kubectl proxy | pod-introspect proxy | ours / kubectl |")
    print("|---|---|---|---|---|")

    def row(w, m, kvv, ovv, fmt="{:.0f}", ratio=True):
        def f(v):
            return "n/a" if v is None else fmt.format(v)
        r = f"{ovv / kvv:.2f}x" if ratio and kvv not in (None, 0) and ovv is not None else "n/a"
        print(f"| {w} | {m} | {f(kvv)} | {f(ovv)} | {r} |")

    a = "a. 300 watches + 10 probes"
    row(a, "watches opened (of 300)", res[k, "a"][0], res[o, "a"][0])
    row(a, "probes answered 200 (of 10)", res[k, "a"][1], res[o, "a"][1])
    row(a, "probe latency p50 (ms)", res[k, "a"][2], res[o, "a"][2], "{:.2f}")
    row(a, "probe latency max (ms)", res[k, "a"][3], res[o, "a"][3], "{:.2f}")
    b = f"b. {args.connections} connections"
    row(b, "requests done", res[k, "b"][0], res[o, "b"][0])
    row(b, "errors", res[k, "b"][1], res[o, "b"][1], ratio=False)
    row(b, "latency p50 (ms)", res[k, "b"][2], res[o, "b"][2], "{:.2f}")
    row(b, "latency p99 (ms)", res[k, "b"][3], res[o, "b"][3], "{:.2f}")
    row(b, "RSS before (MiB)", res[k, "b"][4] / 1024, res[o, "b"][4] / 1024, "{:.1f}")
    row(b, "RSS after (MiB)", res[k, "b"][5] / 1024, res[o, "b"][5] / 1024, "{:.1f}")
    row(b, "CPU per request (us)", res[k, "b"][6], res[o, "b"][6], "{:.1f}")
    cc = "c. emulator restart under load"
    row(cc, "restart to first 200 (ms)", res[k, "c"][0], res[o, "c"][0], "{:.0f}")
    row(cc, "errors seen by clients", res[k, "c"][1], res[o, "c"][1], ratio=False)
    row(cc, "requests done", res[k, "c"][2], res[o, "c"][2])


if __name__ == "__main__":
    main()
