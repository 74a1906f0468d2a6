"""Python helpers for integration tests: an `eddy up` on port-0 listeners and a temp data dir,
and TAP-style results (the same contract as tests/lib/eddy.sh).

    from eddy_up import Eddy, ok, check
    with Eddy("--default-partitions", "2") as e:
        e.kafka  # "127.0.0.1:PORT"; e.cql the same, e.cql_host and e.cql_port its parts
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EDDY_BIN = os.environ.get("EDDY_BIN", os.path.join(ROOT, "build", "asan", "eddy"))
failures = 0


def ok(name):
    print("ok - " + name, flush=True)


def not_ok(name, why=""):
    global failures
    failures += 1
    print("not ok - " + name, flush=True)
    for line in str(why).splitlines()[:20]:
        print("#   " + line, flush=True)


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        not_ok(name, why)
    return cond


def wait_for(fn, seconds=60, step=0.1):
    """Retries fn until it returns a true value (returned) or the time is up (None)."""
    end = time.time() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.time() >= end:
            return None
        time.sleep(step)


class Eddy:
    def __init__(self, *flags, data=None, keep=False):
        self.flags = list(flags)
        self.keep = keep  # keep the temporary directory (and the data) after exit
        self.tmp = tempfile.mkdtemp(prefix="eddy-it-")
        self.data = data or os.path.join(self.tmp, "data")
        self.proc = None

    def start(self):
        self.log_path = os.path.join(self.tmp, "eddy.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [EDDY_BIN, "up", "--data", self.data, "--kafka-listen", "127.0.0.1:0",
             "--cql-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"] + self.flags,
            stdout=subprocess.DEVNULL, stderr=self.log)
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("eddy up exited early:\n" + open(self.log_path).read())
            return "eddy: ready" in open(self.log_path, errors="replace").read()
        if not wait_for(ready, 60):
            raise RuntimeError("eddy up did not become ready")
        text = open(self.log_path, errors="replace").read()
        self.kafka = None
        self.addr = {}
        for line in text.splitlines():
            if line.startswith("eddy: kafka listening on ") and not self.kafka:
                self.kafka = line.split()[-1]
            if line.startswith("eddy: ") and " listening on " in line:
                proto, hostport = line[6:].split(" listening on ")
                self.addr.setdefault(proto, hostport.strip())
        self.http_addr, self.cql_addr = self.addr.get("http"), self.addr.get("cql")
        self.cql = self.cql_addr
        self.cql_host, _, port = (self.cql or ":").rpartition(":")
        self.cql_port = int(port) if port else None
        return self

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if not self.proc:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self.proc = None
        self.log.close()
        return rc

    def log_text(self):
        return open(self.log_path, errors="replace").read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def expect(name, fn):
    """Runs fn(); ok when it returns, not ok with the exception (an assert says why)."""
    try:
        fn()
        ok(name)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure is the test's failure
        not_ok(name, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        return False


class Http:
    """A kept-alive HTTP/1.1 connection (http.client) to HOST:PORT; call() returns (status, the
    body parsed as JSON when it is JSON else text, the response)."""

    def __init__(self, hostport):
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        if (r.getheader("Connection") or "").lower() == "close":
            self.close()
        text = data.decode("utf-8", "replace")
        try:
            return r.status, json.loads(text) if text else None, r
        except ValueError:
            return r.status, text, r

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


def finish():
    sys.exit(1 if failures else 0)
