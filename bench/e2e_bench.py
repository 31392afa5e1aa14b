#!/usr/bin/env python3
"""End-to-end benchmark: the real rc-watchdog binary against the API simulator (issue 6).

    python3 bench/e2e_bench.py --binary BUILD/rc-watchdog --out FILE.json [--quick]

Three phases, each with its own daemon (stdlib only; the simulator is tests/sim/rc_sim.py):

1. Cycles. N active jobs (Queued/Active, never ending) in one watched iTwin, page_size 1000
   (100,000 jobs = 100 pages), policies and a budget that no job violates. After the first
   cycles, jobs created just inside the lookback edge are added: the next cycle lists them,
   they fall out of the window, and every later cycle must GET each of them (followed jobs).
   Per cycle: wall time (first list request at the simulator -> the daemon's end-of-cycle
   sd_notify STATUS=), daemon CPU (utime+stime of /proc/PID/stat, all threads, the
   simulator excluded), the simulator's own server time, requests by operation from the
   simulator's request log against the minimum (pages + GETs needed + a token only when
   none is valid). Peak RSS is VmHWM; VmRSS is sampled every 0.1 s.
2. Idle. Between cycles (the stretch after a cycle's STATUS= and before the next poll), the
   CPU of every thread (/proc/PID/task/*/schedstat, ns) and its context switches (wake-ups).
3. /metrics. A daemon with 50 policies and 50 budgets grouped by iTwin or user over jobs of
   100 iTwins and 100 users (5,000 budget groups) is scraped repeatedly while idle: time per
   scrape (median, p95, max), bytes, series, daemon CPU per scrape; plain and gzip.
4. Ledger. N jobs in another iTwin, 90 % of them ended (as in a real lookback window): the
   first cycle counts them into the ledger (state.db), every later cycle keeps it and saves only
   what changed. Peak RSS, CPU per cycle (the save included), size of the state database.

The output JSON is {"results": [{"name", "value", "unit", "target", "met", "note"}],
"machine": {...}}; a table is printed. --details FILE also writes the per-cycle data.
When a cycle-CPU target is missed, one more cycle runs under `perf record` and the note names
the rc-watchdog functions the samples fall in; when peak RSS is missed, a second daemon runs
three cycles under heaptrack and the note lists the peak heap consumers (--no-diagnose: skip).
CPU time is the robust figure on a loaded machine; wall times include waiting for the
simulator (slow Python) and for the CPU.
"""

import argparse
import datetime
import gzip
import http.client
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM = os.path.join(ROOT, "tests", "sim", "rc_sim.py")
CLIENT_ID, CLIENT_SECRET = "rcw-test", "s3cret"
ITWIN = "ce54f773-67db-4b4f-a98b-368329107429"
USER = "3a8670f9-b69f-4a60-b958-f103d580755f"
TYPES = ["PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
         "VectorOptimization", "MeshSampling", "ContextSceneTiler"]
TCK = os.sysconf("SC_CLK_TCK")
LOOKBACK_S = 86400


# ---------------------------------------------------------------- /proc

def proc_cpu(pid):
    """utime+stime of the whole process (threads that exited included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def proc_status(pid):
    """VmRSS, VmHWM (kB) and the context switches of /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads", "voluntary_ctxt_switches",
                       "nonvoluntary_ctxt_switches"):
                out[key] = int(value.split()[0])
    return out


def proc_threads(pid):
    """{tid: {comm, cpu_ns, cs}} for every live thread: on-CPU ns from schedstat,
    context switches (voluntary + involuntary) from status."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        base = f"/proc/{pid}/task/{tid}"
        try:
            with open(base + "/comm") as f:
                comm = f.read().strip()
            with open(base + "/schedstat") as f:
                cpu_ns = int(f.read().split()[0])
            cs = 0
            with open(base + "/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        cs += int(line.split()[1])
        except OSError:
            continue  # exited meanwhile
        threads[int(tid)] = {"comm": comm, "cpu_ns": cpu_ns, "cs": cs}
    return threads


class Sampler:
    """VmRSS and CPU of one process over time (cheap /proc reads; never wakes it)."""

    def __init__(self, pid):
        self.pid, self.samples = pid, []

    def sample(self):
        st = proc_status(self.pid)
        s = (time.time(), proc_cpu(self.pid), st["VmRSS"])
        self.samples.append(s)
        return s

    def sleep_until(self, t, step=0.1):
        while True:
            left = t - time.time()
            if left <= 0:
                return
            time.sleep(min(step, left))
            self.sample()


# ---------------------------------------------------------------- processes

class Simulator:
    def __init__(self, tmp, seed):
        port_file = os.path.join(tmp, "sim.port")
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--port-file", port_file,
             "--seed", str(seed + 1000), "--token-lifetime", "864000"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        m = re.match(r"listening on (http://127\.0\.0\.1:(\d+))$", line)
        if not m:
            self.close()
            raise RuntimeError("simulator did not start: %r" % line)
        self.url, self.port = m.group(1), int(m.group(2))

    def control(self, method, path, body=None, timeout=600):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body)
            conn.request(method, "/_sim/" + path, body=data,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read().decode()
            if resp.status != 200:
                raise RuntimeError(f"sim {method} {path}: {resp.status} {text[:300]}")
            return json.loads(text) if text else None
        finally:
            conn.close()

    def requests(self, since=0):
        return self.control("GET", f"requests?since={since}")["requests"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


class Daemon:
    """rc-watchdog run, with a private sd_notify socket to see each cycle end."""

    def __init__(self, binary, tmp, name, doc, wrap=()):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(json.dumps(doc, indent=1) + "\n")  # JSON is YAML
        check = subprocess.run([binary, "check-config", "-c", self.config],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"check-config failed ({check.returncode}):\n{check.stderr}")
        self.notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.log_path = os.path.join(self.dir, "daemon.log")
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        env.pop("WATCHDOG_USEC", None)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([*wrap, binary, "run", "-c", self.config], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.pid = self.proc.pid
        self.started = time.time()

    def wait_cycle_end(self, sampler, timeout):
        """Waits for the end-of-cycle STATUS= (not the READY=1 sent mid-way through the
        first cycle), sampling meanwhile. Returns (time, cpu seconds, status text)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}:\n{self.log_tail()}")
            self.notify.settimeout(0.1)
            try:
                msg = self.notify.recv(65536).decode(errors="replace")
            except socket.timeout:
                sampler.sample()
                continue
            if msg.startswith("STATUS=") and "READY=1" not in msg:
                t, cpu = time.time(), proc_cpu(self.pid)
                sampler.samples.append((t, cpu, proc_status(self.pid)["VmRSS"]))
                return t, cpu, msg[len("STATUS="):]
        raise RuntimeError(f"no cycle end within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n=15):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self):
        if self.proc.poll() is None:
            kids = descendants(self.pid)  # the daemon under a wrapper (heaptrack)
            for pid in kids:
                os.kill(pid, signal.SIGTERM)
            if not kids:
                self.proc.terminate()
            try:
                self.proc.wait(300 if kids else 30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.notify.close()
        return self.proc.returncode


def descendants(pid):
    """Descendant processes of `pid` named rc-watchdog (/proc/PID/task/TID/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open(f"/proc/{k}/comm") as f:
                    if f.read().strip() == "rc-watchdog":
                        out.append(k)
            except OSError:
                pass
        todo.extend(kids)
    return out


def base_config(sim, tmp, name, port, watch, interval):
    secret = os.path.join(tmp, "client-secret")
    if not os.path.exists(secret):
        with open(secret, "w") as f:
            f.write(CLIENT_SECRET + "\n")
    return {
        # The gate must not cut a 100-page listing: 5000/min (the maximum) and 300,000/hour.
        "api": {"base_url": sim.url + "/reality-conversion", "timeout": "60s",
                "max_requests_per_minute": 5000, "max_requests_per_hour": 300000},
        "auth": {"token_url": sim.url + "/connect/token", "client_id": CLIENT_ID,
                 "client_secret_file": secret},
        "watch": {"itwins": watch, "poll_interval": f"{interval}s", "page_size": 1000,
                  "lookback": f"{LOOKBACK_S}s"},
        "metrics": {"listen": f"127.0.0.1:{port}"},
        "state": {"directory": os.path.join(tmp, name + "-state")},
        "log": {"level": "info"},
        "estimates": {"learn": True, "pu_per_hour": {t: 10 + i for i, t in enumerate(TYPES)}},
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port, encoding=None, conn=None):
    """(seconds, body bytes as received, decoded text, connection) for one GET /metrics."""
    headers = {"Accept-Encoding": encoding} if encoding else {}
    for attempt in range(2):
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            t0 = time.perf_counter()
            conn.request("GET", "/metrics", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - t0
            if resp.status != 200:
                raise RuntimeError(f"/metrics answered {resp.status}")
            text = gzip.decompress(body) if resp.getheader("Content-Encoding") == "gzip" else body
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
            return elapsed, len(body), text.decode(), conn
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            conn = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def metric_values(text, name):
    """[(labels dict, value)] of sample `name` in Prometheus text."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        lname, _, rest = head.partition("{")
        if lname == name:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', rest))
            out.append((labels, float(value)))
    return out


# ---------------------------------------------------------------- time helpers

def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    text = text.strip("'")
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError("not an RFC 3339 time: " + text)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    t = datetime.datetime.fromisoformat(m.group(1) + tz).timestamp()
    return t + float(m.group(2) or 0)


def filter_bound(entry):
    """The createdDateTime lower bound of a logged list request."""
    f = entry["query"].get("$filter", "")
    m = re.search(r"createdDateTime gt (\S+)", f)
    if not m:
        raise RuntimeError("list request without a createdDateTime bound: " + f)
    return parse_rfc3339(m.group(1).rstrip(")"))


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


# ---------------------------------------------------------------- diagnosis

SYSCALLS = {0: "read", 7: "poll", 23: "select", 35: "nanosleep", 128: "rt_sigtimedwait",
            202: "futex", 230: "clock_nanosleep", 232: "epoll_wait", 271: "ppoll",
            281: "epoll_pwait"}


def blocked_in(pid):
    """What each thread sleeps in (x86_64 syscall numbers; poll shows its timeout)."""
    out = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
        except OSError:
            continue
        if not fields or not fields[0].isdigit():
            out.append(f"{comm}: running")
            continue
        name = SYSCALLS.get(int(fields[0]), "syscall " + fields[0])
        if name == "poll" and len(fields) > 3:
            timeout = int(fields[3], 16)
            name += " (timeout %s)" % ("none" if timeout >= 2**31 else f"{timeout} ms")
        out.append(f"{comm}: {name}")
    return ", ".join(out)


def short_symbol(text):
    """'rcw::(anonymous namespace)::F(args) [clone]' -> 'rcw::F'."""
    return re.sub(r"\(.*", "", text.strip().replace("(anonymous namespace)::", ""))


def perf_cycle(daemon, sampler, tmp, timeout):
    """perf record (DWARF call graphs) of the daemon over its next cycle, folded to the
    innermost rc-watchdog function of each sample: '27% rcw::Enforcer::Decide, ...'."""
    data = os.path.join(tmp, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-q", "-F", "999", "--call-graph", "dwarf,16384",
                             "-p", str(daemon.pid), "-o", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        daemon.wait_cycle_end(sampler, timeout)
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait(60)
    return perf_fold(data)


def perf_fold(data):
    """The samples of a `perf record --call-graph` file folded to the innermost rc-watchdog
    function of each: '27% rcw::Enforcer::Decide, ... (N samples)'."""
    text = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True,
                          text=True, errors="replace").stdout
    counts, n = {}, 0
    for sample in text.split("\n\n"):
        frames = [ln.strip().split(None, 1)[-1] for ln in sample.splitlines() if ln.strip()]
        if not frames:
            continue
        n += 1
        own = short_symbol(next((f for f in frames if f.startswith("rcw::")), frames[0]))
        counts[own] = counts.get(own, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:8]
    return ", ".join(f"{100 * v / n:.0f}% {k}" for k, v in top) + f" ({n} samples)"


def heap_peaks(args, sim, tmp, ht_dir):
    """Top peak heap consumers of the same daemon under heaptrack for 3 cycles."""
    port = free_port()
    daemon = Daemon(args.binary, tmp, "heaptrack", cycles_config(sim, tmp, port, args.interval),
                    wrap=("heaptrack", "-o", os.path.join(ht_dir, "ht")))
    sampler = Sampler(daemon.pid)
    try:
        for _ in range(3):
            daemon.wait_cycle_end(sampler, 3 * args.interval + 600)
    finally:
        daemon.stop()
    files = [f for f in os.listdir(ht_dir) if f.startswith("ht.")]
    if not files:
        return "heaptrack wrote nothing"
    text = subprocess.run(
        ["heaptrack_print", "-f", os.path.join(ht_dir, files[0]), "--print-peaks", "1",
         "--print-allocators", "0", "--print-temporary", "0", "--print-leaks", "0",
         "--print-histogram", "0", "--print-flamegraph", "0", "-n", "5"],
        capture_output=True, text=True, errors="replace").stdout
    total = re.search(r"peak heap memory consumption: (\S+)", text)
    out = []
    for block in re.split(r"\n(?=\S+ peak memory consumed over)", text):
        m = re.match(r"(\S+) peak memory consumed over (\d+) calls from\n(.*)", block)
        if not m:
            continue
        rcw = [short_symbol(ln) for ln in block.splitlines()[1:] if ln.strip().startswith("rcw::")]
        site = short_symbol(m.group(3))
        rcw = [f for f in dict.fromkeys(rcw) if f != site][:3]
        out.append(f"{m.group(1)} in {m.group(2)} calls from {site}"
                   + "".join(" <- " + f for f in rcw))
    return (f"total peak heap {total.group(1) if total else '?'}; " + "; ".join(out))


# ---------------------------------------------------------------- phase 1 + 2

def generate_jobs(sim, args):
    """N never-ending jobs of one iTwin and ten users, created 2 min to 20 h ago, some still
    Queued (up to 2 h), the rest Active. Returns the simulator's generate time."""
    t0 = time.time()
    users = [USER] + [str(uuid.UUID(int=i + 1)) for i in range(9)]
    sim.control("POST", "jobs", {"generate": {
        "count": args.jobs, "itwins": [ITWIN], "users": users, "seed": args.seed,
        "created_ago": [120, 72000], "queue_seconds": [0, 7200], "run_seconds": None,
        "failed_fraction": 0}})
    return time.time() - t0


def cycles_config(sim, tmp, port, interval):
    """Policies and a budget that every job passes, estimates computed for every job."""
    doc = base_config(sim, tmp, "cycles", port, [ITWIN], interval)
    doc["policies"] = [
        {"name": "pointclouds", "match": {"types": TYPES[:2]},
         "exempt": {"name_regex": "-keep$"},
         "limits": {"max_runtime": "30d", "max_queued": "30d"}, "warn_at": 0.8},
        {"name": "meshes", "match": {"types": ["MeshSampling", "ContextSceneTiler"]},
         "limits": {"max_runtime": "30d", "max_processing_units": 1e9}},
        {"name": "everything", "limits": {"max_queued": "30d", "max_processing_units": 1e9}},
    ]
    doc["budgets"] = [{"name": "per-user", "group_by": "user", "window": "daily",
                       "limit": 1e12, "count_running": True}]
    return doc


def add_edge_jobs(sim, next_poll, k, interval):
    """k Active jobs created so that the poll at `next_poll` lists them and the one after
    does not: the daemon must then follow each with a GET. Returns their creation times."""
    lo, hi = 0.2 * interval, 0.7 * interval
    created = [math.floor(next_poll - LOOKBACK_S + lo + (hi - lo) * i / max(1, k - 1))
               for i in range(k)]
    sim.control("POST", "jobs", {"jobs": [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"rcw-e2e-bench/edge/{i}")),
         "itwin_id": ITWIN, "user_id": USER, "type": TYPES[i % 6], "name": f"edge-{i}",
         "created": rfc3339(t), "queue_seconds": 0, "run_seconds": None}
        for i, t in enumerate(created)]})
    return created


def cycle_start(sim, since):
    """(first list request of the cycle that just ended, new `since`)."""
    reqs = sim.requests(since=since)
    starts = [r for r in reqs if r["op"] == "list_jobs" and "continuationToken" not in r["query"]]
    if len(starts) != 1:
        raise RuntimeError(f"{len(starts)} listings started in one cycle, expected 1")
    return starts[0], (reqs[-1]["seq"] if reqs else since)  # since= is exclusive


def phase_cycles(args, sim, tmp):
    generate_s = generate_jobs(sim, args)
    port = free_port()
    daemon = Daemon(args.binary, tmp, "cycles", cycles_config(sim, tmp, port, args.interval))
    sampler = Sampler(daemon.pid)
    cycles, idle, edge, syscalls, perf = [], [], [], "?", None
    pre_cpu, seq = 0.0, 0  # cycle 1 includes start-up
    try:
        for c in range(args.cycles):
            t_end, cpu_end, status = daemon.wait_cycle_end(sampler, 3 * args.interval + 180)
            first, seq = cycle_start(sim, seq)
            start = first["real_ts"]
            cycles.append({"cycle": c + 1, "start": start, "end": t_end, "cpu": cpu_end - pre_cpu,
                           "wall": t_end - start, "bound": filter_bound(first),
                           "status": status, "rss_kb": proc_status(daemon.pid)["VmRSS"],
                           "edge_present": bool(edge)})
            if c == args.cycles - 1:
                break
            next_poll = max(start + args.interval, time.time())
            if c == args.list_only_cycles - 1 and args.edge_jobs:
                edge = add_edge_jobs(sim, next_poll, args.edge_jobs, args.interval)
            # Idle stretch: from just after this cycle to just before the next poll.
            a_t, b_t = time.time() + 0.3, next_poll - 0.4
            pre_cpu = cpu_end
            if b_t - a_t >= 1.0:
                sampler.sleep_until(a_t)
                a = (time.time(), proc_threads(daemon.pid), proc_cpu(daemon.pid))
                syscalls = blocked_in(daemon.pid)
                sampler.sleep_until(b_t)
                b = (time.time(), proc_threads(daemon.pid), proc_cpu(daemon.pid))
                idle.append((a, b))
                pre_cpu = b[2]
        hwm_kb = proc_status(daemon.pid)["VmHWM"]
        threads_end = proc_threads(daemon.pid)
        _, _, text, conn = scrape(port)
        if conn:
            conn.close()
        log = sim.requests(since=0)
        if args.diagnose and max(c["cpu"] for c in cycles) >= 0.5 and shutil.which("perf"):
            perf = perf_cycle(daemon, sampler, tmp, 3 * args.interval + 180)
    finally:
        rc = daemon.stop()
    return {"generate_s": generate_s, "cycles": cycles, "idle": idle, "edge": edge,
            "hwm_kb": hwm_kb, "samples": sampler.samples, "metrics": text, "requests": log,
            "threads_end": threads_end, "exit": rc, "syscalls": syscalls, "perf": perf}


def account_requests(run, jobs, page_size):
    """Per cycle: requests by operation and the minimum they could be."""
    cycles, edge = run["cycles"], run["edge"]
    log = [r for r in run["requests"] if r["op"] != "other"]
    for i, cyc in enumerate(cycles):
        lo = -math.inf if i == 0 else cyc["start"]
        hi = cycles[i + 1]["start"] if i + 1 < len(cycles) else math.inf
        mine = [r for r in log if lo <= r["real_ts"] < hi]
        ops = {}
        for r in mine:
            ops[r["op"]] = ops.get(r["op"], 0) + 1
        cyc["ops"] = ops
        cyc["requests"] = len(mine)
        cyc["bad_status"] = sum(1 for r in mine if r["status"] not in (200, 201))
        cyc["sim_s"] = sum(r["duration_ms"] or 0 for r in mine) / 1000
        listed = jobs
        gets = 0
        if cyc["edge_present"]:
            first = next(j for j, c in enumerate(cycles) if c["edge_present"])
            for t in edge:
                if t > cyc["bound"]:
                    listed += 1
                elif any(t > cycles[j]["bound"] for j in range(first, i)):
                    gets += 1  # listed by an earlier poll, followed, now out of the window
        cyc["listed"] = listed
        cyc["gets_needed"] = gets
        cyc["minimum"] = {"list_jobs": math.ceil(listed / page_size), "get_job": gets,
                          "token": 1 if i == 0 else 0}
        cyc["min_total"] = sum(cyc["minimum"].values())


def idle_figures(run):
    """CPU seconds per idle second, wake-ups per second and per-thread detail."""
    total_s = cpu_s = 0.0
    per_thread = {}
    for a, b in run["idle"]:
        total_s += b[0] - a[0]
        for tid, tb in b[1].items():
            ta = a[1].get(tid)
            if ta is None:
                continue
            d = per_thread.setdefault(tid, {"comm": tb["comm"], "cpu_ns": 0, "cs": 0})
            d["cpu_ns"] += tb["cpu_ns"] - ta["cpu_ns"]
            d["cs"] += tb["cs"] - ta["cs"]
        cpu_s += b[2] - a[2]
    return total_s, cpu_s, per_thread


# ---------------------------------------------------------------- phase 4

LEDGER_ITWIN = "1ed9e500-0000-4000-8000-00000000beef"


def phase_ledger(args, sim, tmp):
    """The realistic 100k listing: 90 % of the jobs in the lookback window have ended, so the
    first cycle counts 90,000 jobs into the ledger, which every later cycle keeps and checks;
    saves write what changed to state.db. Peak RSS, CPU per cycle, state.db size."""
    ended, running = args.jobs * 9 // 10, args.jobs - args.jobs * 9 // 10
    users = [USER] + [str(uuid.UUID(int=i + 1)) for i in range(9)]
    common = {"itwins": [LEDGER_ITWIN], "users": users, "failed_fraction": 0.1}
    sim.control("POST", "jobs", {"generate": dict(
        common, count=ended, seed=args.seed + 2, created_ago=[7200, 80000],
        queue_seconds=[0, 600], run_seconds=[300, 3600])})
    sim.control("POST", "jobs", {"generate": dict(
        common, count=running, seed=args.seed + 3, created_ago=[120, 72000],
        queue_seconds=[0, 7200], run_seconds=None, name_prefix="running")})
    port = free_port()
    doc = cycles_config(sim, tmp, port, args.interval)
    doc["watch"]["itwins"] = [LEDGER_ITWIN]
    doc["state"]["directory"] = os.path.join(tmp, "ledger-state")
    doc["budgets"].append({"name": "per-itwin-monthly", "group_by": "itwin", "window": "monthly",
                           "limit": 1e12})
    daemon = Daemon(args.binary, tmp, "ledger", doc)
    sampler = Sampler(daemon.pid)
    cycles, pre_cpu = [], 0.0
    try:
        for c in range(args.ledger_cycles):
            t_end, cpu_end, status = daemon.wait_cycle_end(sampler, 3 * args.interval + 180)
            cycles.append({"cycle": c + 1, "cpu": cpu_end - pre_cpu, "status": status,
                           "rss_kb": proc_status(daemon.pid)["VmRSS"]})
            pre_cpu = cpu_end
        hwm_kb = proc_status(daemon.pid)["VmHWM"]
        state_dir = doc["state"]["directory"]
        db = os.path.join(state_dir, "state.db")
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
        try:
            entries = con.execute("SELECT count(*) FROM ledger").fetchone()[0]
        finally:
            con.close()
        # The database with its write-ahead log (the daemon is still running).
        state_bytes = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    finally:
        rc = daemon.stop()
    return {"ended": ended, "running": running, "cycles": cycles, "hwm_kb": hwm_kb,
            "ledger_entries": entries, "state_bytes": state_bytes,
            "samples": sampler.samples, "exit": rc}


def ledger_rows(led):
    cyc = led["cycles"]
    steady = [c["cpu"] for c in cyc[1:]] or [cyc[0]["cpu"]]
    hwm_mb = led["hwm_kb"] / 1024
    setup = (f"{led['ended']} ended + {led['running']} running jobs listed each cycle; "
             f"{led['ledger_entries']} ledger entries saved; state.db + state.db-wal "
             f"{led['state_bytes'] / 1e6:.1f} MB (only changed rows written after a cycle)")
    per_cycle = ", ".join(f"{c['cpu']:.2f}" for c in cyc)
    return [
        row("peak RSS with a 90% ended listing (ledger)", hwm_mb, "MB", "< 64 MB",
            hwm_mb < 64, f"VmHWM after {len(cyc)} cycles; {setup}; " + miss(hwm_mb, 64, "MB")),
        row("cycle CPU with a 90% ended listing (ledger), steady (max)", max(steady),
            "s", "< 0.5 s", max(steady) < 0.5,
            f"cycles after the first (which counts the ledger: {cyc[0]['cpu']:.2f} s incl. "
            f"start-up); CPU per cycle (s): {per_cycle}; includes the state save; "
            + miss(max(steady), 0.5, "s")),
    ]


# ---------------------------------------------------------------- phase 3

def phase_scrape(args, sim, tmp):
    n_itwins, n_users, n_pol = 100, 100, 50
    itwins = [str(uuid.UUID(int=(0x5CA1AB1E << 96) + i)) for i in range(n_itwins)]
    users = [str(uuid.UUID(int=(0xB0D1E5 << 96) + i)) for i in range(n_users)]
    sim.control("POST", "jobs", {"generate": {
        "count": args.scrape_jobs, "itwins": itwins, "users": users, "seed": args.seed + 1,
        "created_ago": [120, 72000], "queue_seconds": [0, 7200], "run_seconds": None,
        "failed_fraction": 0}})
    port = free_port()
    doc = base_config(sim, tmp, "scrape", port, itwins, 600)
    doc["policies"] = [{"name": f"policy-{i:02d}",
                        "match": ({"types": [TYPES[i % 6]]} if i % 3 == 0 else
                                  {"itwins": [itwins[i]]} if i % 3 == 1 else {"users": [users[i]]}),
                        "limits": {"max_runtime": "30d", "max_queued": "30d",
                                   "max_processing_units": 1e9},
                        "warn_at": 0.8} for i in range(n_pol)]
    doc["budgets"] = [{"name": f"budget-{i:02d}", "group_by": "itwin" if i % 2 else "user",
                       "window": ["daily", "weekly", "monthly"][i % 3], "limit": 1e12,
                       "count_running": True} for i in range(n_pol)]
    daemon = Daemon(args.binary, tmp, "scrape", doc)
    sampler = Sampler(daemon.pid)
    out = {"policies": n_pol, "budgets": n_pol, "itwins": n_itwins, "users": n_users}
    try:
        daemon.wait_cycle_end(sampler, 600)
        time.sleep(0.5)
        for enc in (None, "gzip"):
            n = args.scrapes if enc is None else max(10, args.scrapes // 2)
            conn = None
            _, _, text, conn = scrape(port, enc, conn)  # warm-up, not timed
            cpu0, times, sizes = proc_cpu(daemon.pid), [], []
            for _ in range(n):
                t, size, text, conn = scrape(port, enc, conn)
                times.append(t)
                sizes.append(size)
            cpu = proc_cpu(daemon.pid) - cpu0
            if conn:
                conn.close()
            series = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
            out[enc or "plain"] = {
                "n": n, "median_ms": 1000 * statistics.median(times),
                "p95_ms": 1000 * pct(times, 0.95), "max_ms": 1000 * max(times),
                "bytes": statistics.median(sizes), "text_bytes": len(text.encode()),
                "series": len(series), "cpu_ms_per_scrape": 1000 * cpu / n,
                "budget_series": len(metric_values(
                    text, "rc_watchdog_budget_spent_processing_units")),
            }
        out["hwm_kb"] = proc_status(daemon.pid)["VmHWM"]
    finally:
        out["exit"] = daemon.stop()
    return out


# ---------------------------------------------------------------- report

def row(name, value, unit, target=None, met=None, note=""):
    return {"name": name, "value": round(value, 6) if isinstance(value, float) else value,
            "unit": unit, "target": target, "met": met, "note": note}


def miss(value, limit, unit):
    if value < limit:
        return f"{100 * value / limit:.0f}% of the target"
    return f"MISSED by {value - limit:.3f} {unit} ({100 * (value / limit - 1):.0f}% over)"


def cycle_rows(args, run):
    cyc = run["cycles"]
    walls, cpus = [c["wall"] for c in cyc], [c["cpu"] for c in cyc]
    per = "; ".join(f"#{c['cycle']}: wall {c['wall']:.2f} s, cpu {c['cpu']:.2f} s, "
                    f"sim {c['sim_s']:.2f} s" for c in cyc)
    why = f"; hot spots (perf, one more cycle): {run['perf']}" if run.get("perf") else ""
    med, worst = statistics.median(cpus), cpus.index(max(cpus))
    steady = cpus[1:] or cpus
    res = [
        row("cycle wall time (median)", statistics.median(walls), "s", None, None,
            f"{args.jobs} jobs, {math.ceil(args.jobs / 1000)} pages; first list request at the "
            f"simulator -> end-of-cycle STATUS=; includes waiting for the simulator and for a "
            f"CPU on a loaded machine; per cycle: {per}"),
        row("cycle wall time (max)", max(walls), "s", None, None,
            f"cycle {walls.index(max(walls)) + 1} of {len(cyc)}"),
        row("simulator server time per cycle (median)",
            statistics.median(c["sim_s"] for c in cyc), "s", None, None,
            "sum of the simulator's duration_ms over the cycle's requests: the part of the wall "
            "time spent waiting for the (Python) simulator"),
        row("cycle CPU (median)", med, "s", "< 0.5 s", med < 0.5,
            "daemon utime+stime (all threads, not the simulator) from just before the poll to "
            "its STATUS=; " + miss(med, 0.5, "s") + why),
        row("cycle CPU (max)", max(cpus), "s", "< 0.5 s", max(cpus) < 0.5,
            f"cycle {worst + 1}" + (" (includes start-up and the first token)" if worst == 0
                                    else "") + "; " + miss(max(cpus), 0.5, "s")),
        row("cycle CPU excluding the first cycle (max)", max(steady), "s", "< 0.5 s",
            max(steady) < 0.5, miss(max(steady), 0.5, "s")),
    ]
    total = metric_values(run["metrics"], "rc_watchdog_poll_duration_seconds_sum")
    count = metric_values(run["metrics"], "rc_watchdog_poll_duration_seconds_count")
    if total and count and count[0][1]:
        res.append(row("poll duration (daemon metric, mean)", total[0][1] / count[0][1], "s",
                       None, None, f"rc_watchdog_poll_duration_seconds_sum/_count over "
                       f"{count[0][1]:.0f} polls (the daemon's own measure of a cycle)"))
    return res


def memory_rows(args, run):
    cyc = run["cycles"]
    hwm_mb = run["hwm_kb"] / 1024
    rss = [s[2] for s in run["samples"]]
    after = ", ".join(f"{c['rss_kb'] / 1024:.0f}" for c in cyc)
    why = f"; peak heap consumers (heaptrack, 3 cycles): {run['heap']}" if run.get("heap") else ""
    return [row("peak RSS", hwm_mb, "MB", "< 64 MB", hwm_mb < 64,
                f"VmHWM after {len(cyc)} cycles with {args.jobs + len(run['edge'])} jobs; VmRSS "
                f"sampled every 0.1 s: max {max(rss) / 1024:.1f} MB; after each cycle (MB): "
                f"{after}; " + miss(hwm_mb, 64, "MB") + why)]


def request_rows(run):
    cyc = run["cycles"]

    def note(cs):
        return "; ".join(
            f"#{c['cycle']}: {c['requests']} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(c["ops"].items()))
            + f") vs minimum {c['min_total']} ({c['minimum']['list_jobs']} pages"
            + (f" + {c['gets_needed']} GETs" if c["gets_needed"] else "")
            + (" + token" if c["minimum"]["token"] else "") + ")"
            + (f", {c['bad_status']} non-2xx" if c["bad_status"] else "") for c in cs)

    res = []
    groups = (("listing only", [c for c in cyc if not c["gets_needed"]]),
              ("with GETs of followed jobs", [c for c in cyc if c["gets_needed"]]))
    for label, cs in groups:
        if cs:
            ok = all(c["requests"] == c["min_total"] and not c["bad_status"] for c in cs)
            res.append(row(f"requests per cycle ({label}, median)",
                           statistics.median(c["requests"] for c in cs), "requests",
                           "= minimum", ok, note(cs)))
    extra = sum(c["requests"] - c["min_total"] for c in cyc)
    res.append(row("requests over the minimum (all cycles)", extra, "requests", "= minimum",
                   all(c["requests"] == c["min_total"] for c in cyc),
                   f"{sum(c['requests'] for c in cyc)} requests in {len(cyc)} cycles, minimum "
                   f"{sum(c['min_total'] for c in cyc)}"))
    if run["edge"]:
        got = sum(c["ops"].get("get_job", 0) for c in cyc)
        need = sum(c["gets_needed"] for c in cyc)
        res.append(row("GETs of followed jobs", got, "requests", "= needed", got == need,
                       f"{len(run['edge'])} jobs created just inside the lookback edge, listed "
                       f"once, then out of the window; needed {need} GETs over the cycles"))
    with_gets = groups[1][1]
    if with_gets:
        gc = [c["cpu"] for c in with_gets]
        res.append(row("cycle CPU with GETs (median)", statistics.median(gc), "s", "< 0.5 s",
                       max(gc) < 0.5, f"{len(with_gets)} cycles with "
                       f"{with_gets[0]['gets_needed']} GETs each; max {max(gc):.3f} s; "
                       + miss(statistics.median(gc), 0.5, "s")))
    return res


def idle_rows(run):
    idle_s, idle_cpu, threads = idle_figures(run)
    if idle_s <= 0:
        return [row("idle CPU", 0.0, "CPU s per s", "~0", None,
                    "no idle stretch: every cycle took longer than the poll interval")]
    ns = sum(t["cpu_ns"] for t in threads.values())
    cs = sum(t["cs"] for t in threads.values())
    per_s = ns / 1e9 / idle_s
    detail = ", ".join(f"{t['comm']}[{tid}] {t['cpu_ns'] / 1e6:.2f} ms/{t['cs']} switches"
                       for tid, t in sorted(threads.items()))
    alive = ", ".join(f"{t['comm']}[{tid}] {t['cpu_ns'] / 1e9:.2f} s CPU"
                      for tid, t in sorted(run["threads_end"].items()))
    return [
        row("idle CPU", per_s, "CPU s per s", "~0", per_s < 0.001,
            f"{len(run['idle'])} stretches between polls, {idle_s:.1f} s in all: "
            f"{ns / 1e6:.2f} ms on CPU over all threads (schedstat), {idle_cpu:.2f} s by "
            f"/proc/PID/stat ticks; met = below 0.001 (0.1% of a core); threads: {detail}"),
        row("idle wake-ups", cs / idle_s, "per s", None, None,
            f"context switches of all threads over the idle stretches ({cs} in {idle_s:.1f} s); "
            f"blocked in: {run.get('syscalls', '?')}"),
        row("daemon threads", len(run["threads_end"]), "threads", None, None, alive),
    ]


def scrape_rows(args, scr):
    p, g = scr["plain"], scr["gzip"]
    setup = (f"{scr['policies']} policies, {scr['budgets']} budgets (group_by itwin/user) over "
             f"{args.scrape_jobs} jobs in {scr['itwins']} iTwins and {scr['users']} users: "
             f"{p['budget_series']} budget_spent series, {p['series']} series in all, "
             f"{p['text_bytes']} bytes of text")
    return [
        row("/metrics scrape time (median)", p["median_ms"], "ms", None, None,
            f"{p['n']} scrapes over keep-alive while idle (client wall time, loaded machine); "
            + setup),
        row("/metrics scrape time (p95)", p["p95_ms"], "ms", None, None, ""),
        row("/metrics scrape time (max)", p["max_ms"], "ms", None, None, ""),
        row("/metrics scrape daemon CPU", p["cpu_ms_per_scrape"], "ms per scrape", None, None,
            "daemon utime+stime over the scrapes / their number"),
        row("/metrics size", p["bytes"], "bytes", None, None, f"{p['series']} series"),
        row("/metrics series", p["series"], "series", None, None,
            f"{p['budget_series']} of them rc_watchdog_budget_spent_processing_units"),
        row("/metrics scrape time, gzip (median)", g["median_ms"], "ms", None, None,
            f"{g['n']} scrapes with Accept-Encoding: gzip (as Prometheus sends it): "
            f"{g['bytes']:.0f} bytes on the wire, p95 {g['p95_ms']:.1f} ms, max "
            f"{g['max_ms']:.1f} ms, daemon CPU {g['cpu_ms_per_scrape']:.2f} ms per scrape"),
    ]


def build_results(args, run, scr, led):
    account_requests(run, args.jobs, 1000)
    return (cycle_rows(args, run) + memory_rows(args, run) + ledger_rows(led) + request_rows(run)
            + idle_rows(run) + scrape_rows(args, scr))


def machine_info(args, load_start, version):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpu_model": model, "cores": os.cpu_count(), "memory_mb": mem_kb // 1024,
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(), "python": platform.python_version(),
        "daemon_binary": os.path.abspath(args.binary), "daemon_version": version,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "parameters": {
            "quick": args.quick, "jobs": args.jobs, "page_size": 1000,
            "pages_per_poll": math.ceil(args.jobs / 1000), "poll_interval_s": args.interval,
            "cycles": args.cycles, "listing_only_cycles": args.list_only_cycles,
            "followed_jobs": args.edge_jobs, "lookback_s": LOOKBACK_S,
            "max_requests_per_minute": 5000, "max_requests_per_hour": 300000,
            "scrape_jobs": args.scrape_jobs, "scrapes": args.scrapes, "seed": args.seed,
            "clk_tck": TCK,
        },
    }


def print_table(results):
    w = max(len(r["name"]) for r in results)
    print(f"{'result':<{w}}  {'value':>12}  {'unit':<14} {'target':<10} met")
    for r in results:
        v = r["value"]
        vs = f"{v:.4g}" if isinstance(v, float) else str(v)
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        print(f"{r['name']:<{w}}  {vs:>12}  {r['unit']:<14} {r['target'] or '-':<10} {met}")
    for r in results:
        if r["met"] is False:
            print(f"\nMISSED {r['name']}: {r['note']}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True, help="the rc-watchdog executable (Release build)")
    p.add_argument("--out", required=True, help="JSON results file")
    p.add_argument("--quick", action="store_true", help="10k jobs, short intervals (< 1 min)")
    p.add_argument("--details", help="also write per-cycle data and samples to this JSON file")
    p.add_argument("--no-diagnose", dest="diagnose", action="store_false",
                   help="on a missed CPU or RSS target, do not profile with perf / heaptrack")
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--jobs", type=int)
    p.add_argument("--cycles", type=int)
    p.add_argument("--interval", type=int, help="poll_interval in seconds")
    args = p.parse_args()
    q = args.quick
    args.jobs = args.jobs or (10000 if q else 100000)
    args.cycles = args.cycles or (5 if q else 8)
    args.interval = args.interval or (5 if q else 20)
    args.list_only_cycles = max(1, args.cycles // 2)
    args.edge_jobs = 10 if q else 100
    args.scrape_jobs = 2000 if q else 10000
    args.scrapes = 40 if q else 200
    args.ledger_cycles = 3 if q else 4
    if args.cycles < 2:
        p.error("--cycles must be at least 2")
    if not os.access(args.binary, os.X_OK):
        p.error(f"--binary {args.binary}: not an executable")

    load_start = os.getloadavg()
    version = subprocess.run([args.binary, "version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="rcw-e2e-bench-") as tmp:
        sim = Simulator(tmp, args.seed)
        try:
            run = phase_cycles(args, sim, tmp)
            if (args.diagnose and run["hwm_kb"] >= 64 * 1024 and shutil.which("heaptrack")
                    and shutil.which("heaptrack_print")):
                os.makedirs(os.path.join(tmp, "ht"))
                run["heap"] = heap_peaks(args, sim, tmp, os.path.join(tmp, "ht"))
            scr = phase_scrape(args, sim, tmp)
            led = phase_ledger(args, sim, tmp)
        finally:
            sim.close()
    results = build_results(args, run, scr, led)
    machine = machine_info(args, load_start, version)
    machine["bench_seconds"] = round(time.time() - t0, 1)
    machine["simulator_generate_seconds"] = round(run["generate_s"], 2)
    with open(args.out, "w") as f:
        json.dump({"results": results, "machine": machine}, f, indent=1)
        f.write("\n")
    if args.details:
        with open(args.details, "w") as f:
            json.dump({"cycles": [{k: v for k, v in c.items()} for c in run["cycles"]],
                       "edge_created": run["edge"], "scrape": scr,
                       "rss_samples": [(round(t - run["cycles"][0]["start"], 2), cpu, kb)
                                       for t, cpu, kb in run["samples"]]}, f, indent=1)
    print_table(results)
    print(f"\n{machine['cpu_model']}, {machine['cores']} cores, load "
          f"{machine['load_average_start']}"
          f" at start; {machine['bench_seconds']} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
