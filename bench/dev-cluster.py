#!/usr/bin/env python3
"""dev-cluster under load, with the Python standard library only (HTTPS with the cluster CA and
the admin token of DIR/kubeconfig).

- list: N ConfigMaps in one namespace, then `GET /api/v1/namespaces/bench/configmaps` repeated
  (p50, max wall time; bytes). Anchor: the same list with 10 objects (per-object cost ratio).
- memory: the server's VmRSS before the objects and its VmHWM (peak) after the lists.
  Anchor: RSS before the objects.
- fan-out: W watches on the namespace; 50 updates of one ConfigMap; for each, the time from the
  PUT's response to the event at every watcher (p50 and max over all deliveries), and the
  server's CPU time per delivered event. Anchor: the same with 1 watcher.
"""
import argparse, base64, http.client, json, os, re, socket, ssl, statistics, subprocess, sys, tempfile, threading, time


def pin(pid, cpu):
    if os.cpu_count() and os.cpu_count() >= 2:
        subprocess.run(["taskset", "-pc", str(cpu), str(pid)], stdout=subprocess.DEVNULL, check=False)


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def mem(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class Api:
    def __init__(self, state):
        text = open(os.path.join(state, "kubeconfig")).read()
        self.token = re.search(r"token: \"?([^\"\s]+)", text).group(1)
        server = re.search(r"server: \"?https://([^:/]+):(\d+)", text)
        self.host, self.port = server.group(1), int(server.group(2))
        self.ctx = ssl.create_default_context(cafile=os.path.join(state, "ca.crt"))

    def conn(self):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)

    def call(self, c, method, path, body=None):
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        return r.status, r.read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--objects", type=int, default=10000)
    p.add_argument("--watchers", type=int, default=100)
    p.add_argument("--lists", type=int, default=20)
    a = p.parse_args()
    state = tempfile.mkdtemp(prefix="devcluster-bench-")
    server = subprocess.Popen([a.binary, "dev-cluster", "--state", state, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        server.stdout.readline()
        pin(server.pid, 0)
        pin(os.getpid(), 1)
        api = Api(state)
        c = api.conn()
        api.call(c, "POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})
        base = "/api/v1/namespaces/bench/configmaps"

        def timed_lists(n):
            times, size = [], 0
            for _ in range(n):
                t = time.perf_counter()
                status, body = api.call(c, "GET", base)
                times.append(time.perf_counter() - t)
                assert status == 200, body[:200]
                size = len(body)
            return statistics.median(times), max(times), size

        for i in range(10):
            api.call(c, "POST", base, {"metadata": {"name": f"cm-{i:05}"}, "data": {"k": "v" * 64}})
        small = timed_lists(a.lists)
        rss_before = mem(server.pid, "VmRSS")
        for i in range(10, a.objects):
            s, b = api.call(c, "POST", base, {"metadata": {"name": f"cm-{i:05}", "labels": {"n": str(i % 10)}},
                                              "data": {"k": "v" * 64}})
            assert s == 201, b[:200]
        big = timed_lists(a.lists)
        peak = mem(server.pid, "VmHWM")
        rss_after = mem(server.pid, "VmRSS")
        for i in range(10, a.objects):
            api.call(c, "DELETE", f"{base}/cm-{i:05}")

        def fanout(watchers, updates=50):
            _, body = api.call(c, "GET", base)
            rv = json.loads(body)["metadata"]["resourceVersion"]
            socks, delays, lock = [], [], threading.Lock()
            arrivals = {}
            for w in range(watchers):
                raw = socket.create_connection((api.host, api.port))
                s = api.ctx.wrap_socket(raw, server_hostname=api.host)
                s.sendall((f"GET {base}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dcm-00000 HTTP/1.1\r\n"
                           f"Host: {api.host}\r\nAuthorization: Bearer {api.token}\r\n\r\n").encode())
                socks.append(s)

            def reader(idx, s):
                buf = b""
                while True:
                    try:
                        chunk = s.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                    for m in re.finditer(rb'"fanout":"(\d+)"', buf):
                        seq = int(m.group(1))
                        with lock:
                            arrivals.setdefault((idx, seq), time.perf_counter())
                    buf = buf[-200:]

            threads = [threading.Thread(target=reader, args=(i, s), daemon=True) for i, s in enumerate(socks)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            cpu0 = cpu_seconds(server.pid)
            sent = {}
            for seq in range(updates):
                # The event may reach a watcher before the PATCH's response reaches us.
                sent[seq] = time.perf_counter()
                c.request("PATCH", f"{base}/cm-00000", body=json.dumps({"data": {"fanout": str(seq)}}).encode(),
                          headers={"Authorization": "Bearer " + api.token, "Content-Type": "application/merge-patch+json"})
                r = c.getresponse()
                r.read()
                time.sleep(0.02)
            deadline = time.time() + 10
            while time.time() < deadline:
                with lock:
                    if len(arrivals) >= watchers * updates:
                        break
                time.sleep(0.05)
            cpu = cpu_seconds(server.pid) - cpu0
            with lock:
                for (idx, seq), t in arrivals.items():
                    delays.append(max(0.0, t - sent[seq]))
            # Shut the sockets down and wait for their readers before closing, so no reader is left
            # blocked on a file descriptor the next run reuses.
            for s in socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            for t in threads:
                t.join(timeout=5)
            for s in socks:
                s.close()
            with lock:
                per = [sum(1 for (i, _) in arrivals if i == w) for w in range(watchers)]
            if min(per) < updates:
                short = [(w, n) for w, n in enumerate(per) if n < updates]
                print(f"watchers short of {updates} events: {short[:10]}", file=sys.stderr)
            n = len(delays)
            return (statistics.median(delays) if delays else float("nan"), max(delays) if delays else float("nan"),
                    n, watchers * updates, cpu / n * 1e6 if n else float("nan"))

        one = fanout(1)
        many = fanout(a.watchers)
        ms = lambda s: f"{s * 1000:.2f} ms"
        print(f"| measurement | value | anchor (same run) | ratio |")
        print(f"|---|---|---|---|")
        print(f"| list of {a.objects} ConfigMaps, p50 / max | {ms(big[0])} / {ms(big[1])} ({big[2] / 1e6:.1f} MB) | list of 10: {ms(small[0])} | {big[0] / small[0]:.0f}x for {a.objects // 10}x the objects |")
        print(f"| dev-cluster RSS | {rss_before:.1f} MiB before, {rss_after:.1f} MiB after, peak {peak:.1f} MiB | before the objects | {peak / rss_before:.2f}x peak |")
        print(f"| watch fan-out, {a.watchers} watchers x 50 updates: delivery p50 / max | {ms(many[0])} / {ms(many[1])} ({many[2]}/{many[3]} events) | 1 watcher: {ms(one[0])} / {ms(one[1])} ({one[2]}/{one[3]}) | {many[0] / one[0]:.2f}x p50 |")
        print(f"| server CPU (PATCH + fan-out) per delivered event | {many[4]:.1f} us | 1 watcher: {one[4]:.1f} us | {many[4] / one[4]:.2f}x |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
