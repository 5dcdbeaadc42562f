"""A real cluster on loopback for the gateway's end-to-end tests.

redis-server, `fogm2m node` x N, `fogm2m fleet` and `fogm2m gateway`, each a
child process on free loopback ports, in a temporary directory; stopped
(SIGTERM, then SIGKILL) and removed on exit, also when a test fails or the
run is interrupted. Nothing else on the machine is touched.

As a module:  with GatewayCluster(devices=5) as c: c.get("/api/clients")
As a script:  gateway_cluster.py [--devices N] [--nodes N] -- COMMAND...
              runs COMMAND with GATEWAY_URL, GATEWAY_TOKEN, REDIS_PORT,
              COAP_PORT (the first node's) and FOGM2M_BINARY set, and exits
              with its status.
"""
import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY_DIR = os.environ.get("FOGM2M_BINARY_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build"))
FOGM2M = os.path.join(BINARY_DIR, "cli", "fogm2m")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayCluster:
    def __init__(self, devices=5, nodes=1, gateway_args=(), fleet_args=(), token=None):
        self.devices = devices
        self.nodes = nodes
        self.gateway_args = list(gateway_args)
        self.fleet_args = list(fleet_args)
        self.token = token or secrets.token_hex(16)
        self.procs = []
        self.dir = None

    # ---- lifecycle -------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def spawn(self, name, argv, env=None):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, start_new_session=True)
        p.name = name
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.dir, name + ".log")) as f:
            return f.read()

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="fogm2m-gateway-test-")
        self.redis_port = free_port()
        self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", self.dir])
        self.wait_for(lambda: self.tcp_open(self.redis_port), "redis-server")
        redis = "127.0.0.1:%d" % self.redis_port
        self.coap_ports = []
        for i in range(self.nodes):
            port = free_port(socket.SOCK_DGRAM)
            self.coap_ports.append(port)
            self.spawn("node%d" % (i + 1), [FOGM2M, "node", "--id", "node-%d" % (i + 1), "--redis",
                                            redis, "--coap-port", str(port), "--no-dtls",
                                            "--device-timeout-ms", "2000"])
        self.http_port = free_port()
        env = dict(os.environ, FOGM2M_GATEWAY_TOKEN=self.token)
        self.spawn("gateway", [FOGM2M, "gateway", "--redis", redis, "--http-port",
                               str(self.http_port)] + self.gateway_args, env=env)
        self.wait_for(lambda: self.tcp_open(self.http_port), "gateway")
        time.sleep(0.3)  # nodes subscribe
        if self.devices:
            self.spawn("fleet", [FOGM2M, "fleet", "--server", "127.0.0.1:%d" % self.coap_ports[0],
                                 "-n", str(self.devices), "-q"] + self.fleet_args)
            self.wait_for(lambda: len(self.clients()) == self.devices,
                          "%d registrations" % self.devices, timeout=20)

    def stop(self):
        # Devices first, while their node can still answer their De-register:
        # a fleet whose node is gone waits out its stop timeout.
        for p in self.procs:
            if p.name == "fleet" and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        for p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def kill(self, name, sig=signal.SIGKILL):
        for p in self.procs:
            if p.name == name:
                os.killpg(p.pid, sig)
                if sig in (signal.SIGKILL, signal.SIGTERM):
                    p.wait()

    # ---- helpers ---------------------------------------------------------
    @staticmethod
    def tcp_open(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def wait_for(self, predicate, what, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError("%s exited (%s) while waiting for %s:\n%s" %
                                       (p.name, p.returncode, what, self.log(p.name)[-2000:]))
            try:
                if predicate():
                    return
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError("timed out waiting for " + what)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def request(self, method, path, body=None, headers=None, auth=True, timeout=15):
        """(status, headers, body bytes)."""
        h = dict(headers or {})
        if auth:
            h["Authorization"] = "Bearer " + self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def get(self, path, **kw):
        status, _, body = self.request("GET", path, **kw)
        if status != 200:
            raise ValueError("GET %s: %d %s" % (path, status, body[:200]))
        return json.loads(body)

    def clients(self):
        return self.get("/api/clients")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    with GatewayCluster(devices=args.devices, nodes=args.nodes) as c:
        env = dict(os.environ, GATEWAY_URL=c.url, GATEWAY_TOKEN=c.token,
                   REDIS_PORT=str(c.redis_port), COAP_PORT=str(c.coap_ports[0]),
                   FOGM2M_BINARY=FOGM2M)
        sys.stdout.flush()
        status = subprocess.call(command, env=env)
    sys.exit(status)


if __name__ == "__main__":
    main()
