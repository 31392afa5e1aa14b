"""Helpers for the end-to-end tests: the simulator, configs and the real binary.

Each test_*.py in this folder is one ctest entry (see CMakeLists.txt); ctest
passes RCW_BINARY (the rc-watchdog executable) and RCW_SOURCE_DIR.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

SOURCE_DIR = os.environ.get("RCW_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("RCW_BINARY", os.path.join(SOURCE_DIR, "build", "rc-watchdog"))
SIM = os.path.join(SOURCE_DIR, "tests", "sim", "rc_sim.py")
CLIENT_ID = "rcw-test"
CLIENT_SECRET = "s3cret"
ITWIN_A = "ce54f773-67db-4b4f-a98b-368329107429"
ITWIN_B = "0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11"
USER = "3a8670f9-b69f-4a60-b958-f103d580755f"

# docs/metrics.md: every metric name the daemon exports and the dashboard and
# the rules may use (histograms also have _bucket/_sum/_count series).
METRICS = {
    "rc_watchdog_build_info", "rc_watchdog_jobs", "rc_watchdog_polls_total",
    "rc_watchdog_poll_duration_seconds", "rc_watchdog_last_successful_poll_timestamp_seconds",
    "rc_watchdog_violations_total", "rc_watchdog_cancellations_total",
    "rc_watchdog_cancellations_confirmed_total", "rc_watchdog_cancellations_pending",
    "rc_watchdog_cancellations_blocked_total", "rc_watchdog_warnings_total",
    "rc_watchdog_dry_run", "rc_watchdog_api_requests_total",
    "rc_watchdog_api_request_duration_seconds", "rc_watchdog_api_rate_limited_total",
    "rc_watchdog_processing_units_total", "rc_watchdog_budget_spent_processing_units",
    "rc_watchdog_budget_limit_processing_units", "rc_watchdog_config_last_reload_successful",
    "rc_watchdog_config_last_reload_success_timestamp_seconds", "rc_watchdog_clock_skew_seconds",
    "rc_watchdog_listings_total", "rc_watchdog_budget_warn_ratio",
    "rc_watchdog_notifications_total", "rc_watchdog_notifications_queued",
    "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
    "process_start_time_seconds",
}


class Sim:
    """The API simulator as a subprocess on a free loopback port."""

    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory(prefix="rcw-sim-")
        port_file = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--port-file", port_file, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.close()
            raise RuntimeError("simulator did not start: " + line + self.proc.stderr.read())
        self.url = line[len("listening on "):]

    @property
    def base_url(self):
        return self.url + "/reality-conversion"

    @property
    def token_url(self):
        return self.url + "/connect/token"

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_sim/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def add_jobs(self, jobs):
        return self.control("POST", "jobs", {"jobs": jobs})["ids"]

    def jobs(self):
        return {j["id"]: j for j in self.control("GET", "jobs")["jobs"]}

    def requests(self):
        return self.control("GET", "requests")["requests"]

    def deletes(self):
        return [r for r in self.requests() if r["method"] == "DELETE"]

    def advance(self, seconds):
        self.control("POST", "clock", {"advance": seconds})

    def faults(self, rules):
        self.control("POST", "faults", {"rules": rules})

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        self.dir.cleanup()


class Workspace:
    """A state directory, a secret file and a config for one test."""

    def __init__(self, sim, policies=None, budgets=None, enforcement=None, watch=None,
                 extra=""):
        self.dir = tempfile.TemporaryDirectory(prefix="rcw-e2e-")
        self.state = os.path.join(self.dir.name, "state")
        secret = os.path.join(self.dir.name, "client-secret")
        with open(secret, "w") as f:
            f.write(CLIENT_SECRET + "\n")
        doc = {
            "api": {"base_url": sim.base_url, "timeout": "5s"},
            "auth": {"token_url": sim.token_url, "client_id": CLIENT_ID,
                     "client_secret_file": secret},
            "watch": dict({"itwins": [ITWIN_A], "poll_interval": "30s"}, **(watch or {})),
            "enforcement": dict({"retry": {"initial": "1s", "max": "2s", "max_attempts": 3}},
                                **(enforcement or {})),
            "metrics": {"listen": "127.0.0.1:0"},  # 0: any free port
            "state": {"directory": self.state},
            "log": {"level": "debug"},
        }
        if policies:
            doc["policies"] = policies
        if budgets:
            doc["budgets"] = budgets
        self.doc = doc
        self.config = os.path.join(self.dir.name, "config.yaml")
        self.write_config(extra=extra)

    def write_config(self, doc=None, extra=""):
        """(Re)writes the config file from `doc` (default: self.doc, which it
        replaces). `extra` is appended verbatim (e.g. to break the file)."""
        if doc is not None:
            self.doc = doc
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            # JSON is YAML: no YAML library needed here.
            f.write(json.dumps(self.doc, indent=2) + "\n" + extra)
        os.replace(tmp, self.config)  # atomic: a SIGHUP never sees half a file

    @property
    def log_path(self):
        return os.path.join(self.dir.name, "daemon.log")

    def spawn(self, *extra, env=None):
        """Like start(), but stdout and stderr go to log_path (appended), so a
        long-running daemon can never block on a full pipe."""
        with open(self.log_path, "a") as log:
            return subprocess.Popen([BINARY, "run", "-c", self.config, *extra], env=env,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    @property
    def db_path(self):
        return os.path.join(self.state, "state.db")

    def read_state_db(self):
        """The daemon's state.db, read-only: {table: [row dicts]} for every
        table (ledger in the order counted, pending in sending order), and
        "meta" as a dict. The daemon may be running: WAL readers never block it."""
        return read_state_db(self.db_path)

    def audit(self):
        path = os.path.join(self.state, "audit.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def events(self, name):
        return [e for e in self.audit() if e["event"] == name]

    def run(self, *args, timeout=60, check=True):
        proc = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError("rc-watchdog %s exited %d\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc

    def once(self, *extra, **kw):
        return self.run("run", "-c", self.config, "--once", *extra, **kw)

    def start(self, *extra, env=None):
        return subprocess.Popen([BINARY, "run", "-c", self.config, *extra], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def close(self):
        self.dir.cleanup()


def read_state_db(path):
    """See Workspace.read_state_db."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        out = {}
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            order = {"pending": " ORDER BY position", "ledger": " ORDER BY rowid"}.get(t, "")
            out[t] = [dict(r) for r in con.execute("SELECT * FROM %s%s" % (t, order))]
        out["meta"] = {r["key"]: r["value"] for r in out.get("meta", [])}
        out["user_version"] = con.execute("PRAGMA user_version").fetchone()[0]
        return out
    finally:
        con.close()


def job(itwin=ITWIN_A, type="PointCloudConversion", name="job", **kw):
    spec = {"itwin_id": itwin, "user_id": USER, "type": type, "name": name}
    spec.update(kw)
    return spec


def scrape(port, timeout=5, why=None):
    """The text of http://127.0.0.1:PORT/metrics, or None when it does not
    answer 200 (refused, reset, timed out, or an HTTP error such as 404). With
    a list `why`, the reason of a failure is appended to it."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=timeout) as r:
            return r.read().decode()
    except OSError as e:  # urllib.error.HTTPError is an OSError too
        if why is not None:
            why.append(repr(e))
        return None


def metric(text, name, labels=None):
    """The value of sample `name` (with exactly these labels, if given) in
    Prometheus text `text`, or None."""
    for line in (text or "").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        head, _, value = line.rpartition(" ")
        lname, _, rest = head.partition("{")
        if lname != name:
            continue
        got = {}
        for part in rest.rstrip("}").split(","):
            if "=" in part:
                k, _, v = part.partition("=")
                got[k.strip()] = v.strip().strip('"')
        if labels is None or got == labels:
            return float(value)
    return None


def wait_for(predicate, timeout=20, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


def listening_ports(pid):
    """The TCP ports process `pid` listens on (Linux /proc), sorted.

    Finds the port a daemon picked for `metrics.listen: 127.0.0.1:0` (or a
    Prometheus for `--web.listen-address=127.0.0.1:0`) without any race: the
    process's socket inodes, matched against the LISTEN entries of its network
    namespace. Empty while the process has not bound yet.
    """
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue  # closed meanwhile
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        return []
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address rem_address st ... inode: st 0A is LISTEN.
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def wait_for_metrics(proc, timeout=30, log=lambda: ""):
    """The port on which daemon `proc` (started with `metrics.listen:
    127.0.0.1:0`) serves /metrics, once a scrape of it answers 200 with both
    the daemon's registry and its process metrics; raises, with `log()`, if
    the daemon exits first, or after `timeout` seconds (an outer bound only).

    A listening socket is not readiness: prometheus-cpp's Exposer binds and
    starts civetweb's threads in its constructor, and only then does the
    daemon register /metrics (the registry, then the process collector). A
    scrape in between is accepted and answered 404, so a test that scrapes
    once as soon as the port shows up fails whenever the daemon's main thread
    is descheduled in that window (TSan, a busy 2-core machine). Every scrape
    that fails here is a "not yet", retried until the deadline.
    """
    why = []

    def ready():
        if proc.poll() is not None:
            raise AssertionError("rc-watchdog exited %s before serving /metrics\n%s" % (
                proc.returncode, log()))
        for port in listening_ports(proc.pid):
            text = scrape(port, why=why)
            if text and "process_cpu_seconds_total" in text and "rc_watchdog_polls_total" in text:
                return port
        return None

    try:
        return wait_for(ready, timeout=timeout, what="/metrics of pid %d" % proc.pid)
    except AssertionError as e:
        if proc.poll() is not None or not why:
            raise
        raise AssertionError("%s (last scrape: %s)\n%s" % (e, why[-1], log())) from None


def main():
    unittest.main(verbosity=2)

