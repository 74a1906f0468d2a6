"""Python helpers for integration tests: an `eddy up` on port-0 listeners and a temp data dir,
and TAP-style results (the same contract as tests/lib/eddy.sh).

    from eddy_up import Eddy, ok, check
    with Eddy("--default-partitions", "2") as e:
        e.kafka  # "127.0.0.1:PORT"
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

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
    def __init__(self, *flags, data=None):
        self.flags = list(flags)
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
        for line in text.splitlines():
            if line.startswith("eddy: kafka listening on ") and not self.kafka:
                self.kafka = line.split()[-1]
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
        shutil.rmtree(self.tmp, ignore_errors=True)


def finish():
    sys.exit(1 if failures else 0)
