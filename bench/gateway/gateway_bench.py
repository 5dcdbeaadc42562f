"""The gateway's figures (issue 18), on a real cluster on loopback:

  1. REST reads per gateway CPU-second: C keep-alive connections read
     /3313/0/5702 for D seconds; the gateway's CPU time from /proc.
  2. Latency the gateway adds: N sequential reads through REST and N through
     the raw bus (a Redis client publishing on LWM2M_REQ and waiting on
     LWM2M_RESP), same devices, same client machine; p50/p99 of both and of
     their difference.

  3. (--sessions N) N STOMP sessions over WebSocket, each subscribed to one
     device's notifications, at 1 notification/s each: delivered rate,
     gateway CPU and memory (the gateway alone: notifications are published
     on the bus by the bench, no node or devices).

Usage: bench/gateway/gateway_bench.py [--devices 20] [--seconds 10]
       [--connections 8] [--sequential 2000] [--sessions N]
       (FOGM2M_BINARY_DIR: build tree; --sessions needs tests/gateway/js's node_modules)
Prints one line per figure and a JSON summary at the end.
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "gateway"))
sys.path.insert(0, HERE)
from gateway_cluster import GatewayCluster  # noqa: E402
from resp import Resp  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def throughput(c, endpoints, seconds, connections):
    pid = [p for p in c.procs if p.name == "gateway"][0].pid
    counts = [0] * connections
    errors = [0] * connections
    stop = time.time() + seconds

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", c.http_port)
        h = {"Authorization": "Bearer " + c.token}
        n = 0
        while time.time() < stop:
            ep = endpoints[(i + n) % len(endpoints)]
            conn.request("GET", "/api/clients/%s/3313/0/5702" % ep, headers=h)
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                counts[i] += 1
            else:
                errors[i] += 1
            n += 1
        conn.close()

    cpu0 = cpu_seconds(pid)
    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    cpu = cpu_seconds(pid) - cpu0
    reads = sum(counts)
    return {"reads": reads, "errors": sum(errors), "wall_s": round(wall, 2),
            "reads_per_s": round(reads / wall), "gateway_cpu_s": round(cpu, 2),
            "reads_per_gateway_cpu_s": round(reads / cpu) if cpu > 0 else None,
            "gateway_rss_mb": round(rss_mb(pid), 1)}


def sequential_rest(c, endpoints, n):
    conn = http.client.HTTPConnection("127.0.0.1", c.http_port)
    h = {"Authorization": "Bearer " + c.token}
    lat = []
    for i in range(n):
        t = time.perf_counter()
        conn.request("GET", "/api/clients/%s/3313/0/5702" % endpoints[i % len(endpoints)], headers=h)
        r = conn.getresponse()
        body = r.read()
        lat.append(time.perf_counter() - t)
        assert r.status == 200, body
    conn.close()
    return lat


def sequential_bus(c, endpoints, n):
    pub, sub = Resp(c.redis_port), Resp(c.redis_port)
    sub.command("SUBSCRIBE", "LWM2M_RESP")
    lat = []
    for i in range(n):
        ticket = "bench-%d" % i
        req = json.dumps({"ep": endpoints[i % len(endpoints)], "ticket": ticket,
                          "req": {"kind": "read", "path": "/3313/0/5702"}})
        t = time.perf_counter()
        pub.command("PUBLISH", "LWM2M_REQ", req)
        while True:
            msg = sub.read()  # ["message", channel, payload]
            body = json.loads(msg[2])
            if body.get("ticket") == ticket and ("rep" in body or "err" in body):
                break
        lat.append(time.perf_counter() - t)
        assert "rep" in body, body
    pub.close()
    sub.close()
    return lat


def stomp_sessions(sessions, seconds):
    """N STOMP sessions, each subscribed to one device's notifications, while
    a publisher puts one notification per device per second on the bus (no
    node or device: the gateway alone is measured)."""
    import resource
    import subprocess
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    with GatewayCluster(devices=0, nodes=0) as c:
        pid = [p for p in c.procs if p.name == "gateway"][0].pid
        client = subprocess.Popen(["node", os.path.join(HERE, "stomp_sessions.mjs"), c.url, c.token,
                                   str(sessions), "ws-", str(seconds + 3)],
                                  stdout=subprocess.PIPE, text=True)
        first = json.loads(client.stdout.readline())
        pub = Resp(c.redis_port)
        stop = threading.Event()

        def publish():
            template = ('{"ticket":"bench","rep":{"code":"CONTENT","coapCode":"2.05",'
                        '"contentFormat":"TEXT","content":{"id":5702,"type":"FLOAT","value":%d},'
                        '"notification":true,"ep":"ws-%d","path":"/3313/0/5702"}}')
            k = 0
            next_t = time.time()
            while not stop.is_set():
                for i in range(sessions):  # one per device per second, spread over the second
                    pub.send("PUBLISH", "LWM2M_RESP", template % (k, i))
                    if i % 100 == 99:
                        for _ in range(100):
                            pub.read()
                        next_t += 100 / sessions
                        delay = next_t - time.time()
                        if delay > 0:
                            time.sleep(delay)
                for _ in range(sessions % 100):
                    pub.read()
                k += 1

        t = threading.Thread(target=publish)
        t.start()
        rates = []
        cpu0, t0 = None, None
        for line in client.stdout:
            rec = json.loads(line)
            if rec["t"] == 3:  # steady state: measure from here
                cpu0, t0 = cpu_seconds(pid), time.time()
            elif rec["t"] > 3:
                rates.append(rec["messages"])
        cpu = cpu_seconds(pid) - cpu0
        wall = time.time() - t0
        rss = rss_mb(pid)
        stop.set()
        t.join()
        client.wait()
    return {"sessions": first["connected"], "connect_errors": first["errors"],
            "connect_s": first["connect_s"], "published_per_s": sessions,
            "delivered_per_s_median": sorted(rates)[len(rates) // 2] if rates else 0,
            "delivered_per_s_min": min(rates) if rates else 0,
            "gateway_cpu_share": round(cpu / wall, 3), "gateway_rss_mb": round(rss, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--sequential", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=0,
                    help="instead: hold this many STOMP sessions at 1 notification/s each")
    args = ap.parse_args()
    if args.sessions:
        r = stomp_sessions(args.sessions, int(args.seconds))
        print("STOMP sessions: %(sessions)d held (%(connect_errors)d failed, connected in "
              "%(connect_s)ss); %(published_per_s)d notifications/s published, %(delivered_per_s_median)d/s "
              "delivered (min %(delivered_per_s_min)d/s); gateway CPU %(gateway_cpu_share)s of a core, "
              "RSS %(gateway_rss_mb)s MB" % r)
        print(json.dumps(r))
        return
    with GatewayCluster(devices=args.devices) as c:
        endpoints = [x["endpoint"] for x in c.clients()]
        sequential_rest(c, endpoints, 200)  # warm-up
        sequential_bus(c, endpoints, 200)
        rest, bus = [], []
        for _ in range(4):  # interleaved, so drift hits both alike
            rest += sequential_rest(c, endpoints, args.sequential // 4)
            bus += sequential_bus(c, endpoints, args.sequential // 4)
        tp = throughput(c, endpoints, args.seconds, args.connections)
    ms = lambda v: round(v * 1000, 3)  # noqa: E731
    summary = {
        "throughput": tp,
        "latency_ms": {
            "rest_p50": ms(percentile(rest, 50)), "rest_p99": ms(percentile(rest, 99)),
            "bus_p50": ms(percentile(bus, 50)), "bus_p99": ms(percentile(bus, 99)),
            "added_p50": ms(percentile(rest, 50) - percentile(bus, 50)),
            "added_p99": ms(percentile(rest, 99) - percentile(bus, 99)),
            "samples_each": len(rest)},
    }
    print("REST reads: %(reads_per_s)d/s over %(wall_s)ss with %(c)d connections; gateway CPU "
          "%(gateway_cpu_s)ss -> %(reads_per_gateway_cpu_s)s reads per gateway CPU-second "
          "(RSS %(gateway_rss_mb)s MB, %(errors)d errors)" % dict(tp, c=args.connections))
    lat = summary["latency_ms"]
    print("latency p50/p99: REST %.3f/%.3f ms, raw bus %.3f/%.3f ms -> gateway adds %.3f/%.3f ms"
          % (lat["rest_p50"], lat["rest_p99"], lat["bus_p50"], lat["bus_p99"], lat["added_p50"],
             lat["added_p99"]))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
