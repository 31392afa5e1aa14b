#!/usr/bin/env python3
"""Soak test: rc-watchdog against the API simulator for simulated days, with random faults,
429 storms and kill -9 + restart, then invariants checked against independent expectations.

  python3 tests/soak/soak.py                      # the short CI version (one simulated day)
  python3 tests/soak/soak.py --days 7 --jobs 5600 --restarts 12 --seed 1
  scripts/soak.sh                                 # the long version with its figures

Environment: RCW_BINARY (the rc-watchdog executable), RCW_SOURCE_DIR. Exit 0 when every
invariant holds, 1 otherwise; the seed is printed first so a failure can be replayed.
See docs/RELIABILITY.md for the design, the invariants and the figures of a long run.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("RCW_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))

import checks  # noqa: E402
import rcw_e2e  # noqa: E402
from workload import T0, Workload  # noqa: E402

BINARY = os.environ.get("RCW_BINARY", os.path.join(SOURCE_DIR, "build", "rc-watchdog"))
SIM = os.path.join(SOURCE_DIR, "tests", "sim", "rc_sim.py")
CLIENT_ID, CLIENT_SECRET = "rcw-test", "s3cret"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=float, default=1.0, help="simulated days (default 1)")
    p.add_argument("--jobs", type=int, default=1200, help="jobs over the run (default 1200)")
    p.add_argument("--itwins", type=int, default=20, help="watched iTwins (default 20)")
    p.add_argument("--speed", type=float, default=600, help="sim seconds per real second")
    p.add_argument("--tick", type=float, default=1.0,
                   help="real seconds per sim clock tick (rc_sim --tick; default 1)")
    p.add_argument("--restarts", type=int, default=4, help="kill -9 + restart (default 4)")
    p.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    p.add_argument("--poll", type=int, default=2, help="watch.poll_interval in seconds")
    p.add_argument("--page-size", type=int, default=50, help="watch.page_size")
    p.add_argument("--rss-limit-mib", type=float, default=64, help="peak VmRSS bound")
    p.add_argument("--workdir", help="keep everything here (default: a temporary directory)")
    p.add_argument("--json", help="also write the figures as JSON to this file")
    return p.parse_args(argv)


def now_real():
    return time.time()


class Sim:
    def __init__(self, args, workdir, seed):
        self.log = open(os.path.join(workdir, "sim.err"), "w")
        scenario = os.path.join(workdir, "scenario.json")
        with open(scenario, "w") as f:
            json.dump({"config": {"hide_future_jobs": True, "cancel_delay": 30}}, f)
        self.base_rate = 4000
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--speed", "0", "--tick", str(args.tick),
             "--start", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0)), "--token-lifetime", "14400",
             "--rate-limit", str(self.base_rate), "--seed", str(seed), "--scenario", scenario],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError("simulator did not start: " + line)
        self.url = line[len("listening on "):]

    def ctl(self, method, path, body=None, timeout=120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_sim/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode() or "null")

    def now(self):
        return self.ctl("GET", "clock")["now_epoch"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def fault_rules(rough):
    """Random faults on every API and token request (the first matching rule that fires
    wins). The weather alternates between calm and rough spells: 5xx, resets and broken
    pages are 15x likelier in rough ones, so that over the run more than 10 % of the API
    requests get a 5xx, while calm spells still give complete listings, which budgets need."""
    def p(calm):
        return calm * 15 if rough else calm
    return [
        {"match": {"op": "token"}, "kind": "status", "status": 503, "probability": 0.2},
        {"match": {"op": "token"}, "kind": "reset", "probability": 0.05},
        {"match": {"op": "token"}, "kind": "malformed", "probability": 0.05},
        {"match": {"op": "list_jobs"}, "kind": "malformed", "probability": p(0.002)},
        {"match": {"op": "list_jobs"}, "kind": "truncated", "probability": p(0.002)},
        {"match": {"op": "cancel_job"}, "kind": "status", "status": 503, "process": True,
         "probability": p(0.007)},
        {"match": {}, "kind": "hang", "hang_seconds": 3, "probability": 0.0015},
        {"match": {}, "kind": "reset", "probability": p(0.002)},
        {"match": {}, "kind": "ratelimit", "retry_after": 2, "probability": 0.004},
        {"match": {}, "kind": "status", "status": 500, "probability": p(0.012)},
        {"match": {}, "kind": "status", "status": 502, "probability": p(0.004)},
        {"match": {}, "kind": "status", "status": 503, "probability": p(0.004)},
    ]


def binary_sanitizer(path):
    """'tsan', 'asan' or '' by the runtime's entry point in the executable (a dynamic
    symbol with g++, the linked-in runtime with clang)."""
    with open(path, "rb") as f:
        data = f.read()
    return "tsan" if b"__tsan_init" in data else "asan" if b"__asan_init" in data else ""


class Daemon:
    def __init__(self, workdir, config):
        self.workdir, self.config = workdir, config
        self.proc = None
        self.lifetimes = []  # (start real, end real or None)
        self.rss = []        # (real ts, kB, lifetime index)
        # "asan" or "tsan" when the binary is instrumented. Read from the binary, not from
        # the process's memory map: a first sample taken before exec (or before the loader
        # mapped libasan) saw no runtime, and the ASan daemon's RSS was then judged against
        # the plain bound.
        self.sanitizer = binary_sanitizer(BINARY)

    def start(self):
        log = open(os.path.join(self.workdir, "daemon.log"), "a")
        self.proc = subprocess.Popen([BINARY, "run", "-c", self.config], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()
        self.lifetimes.append([now_real(), None])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.lifetimes[-1][1] = now_real()

    def sample(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.rss.append((now_real(), int(line.split()[1]), len(self.lifetimes) - 1))
        except OSError:
            pass

    def metrics_port(self):
        ports = rcw_e2e.listening_ports(self.proc.pid)
        return ports[0] if ports else None


def write_config(workdir, sim, w, args):
    secret = os.path.join(workdir, "client-secret")
    with open(secret, "w") as f:
        f.write(CLIENT_SECRET + "\n")
    os.chmod(secret, 0o600)
    doc = {
        "api": {"base_url": sim.url + "/reality-conversion", "timeout": "2s",
                "max_requests_per_minute": 3000, "max_requests_per_hour": 150000},
        "auth": {"token_url": sim.url + "/connect/token", "client_id": CLIENT_ID,
                 "client_secret_file": secret},
        "watch": {"itwins": w.watched, "poll_interval": f"{args.poll}s",
                  "page_size": args.page_size, "lookback": "2d"},
        "enforcement": {"max_cancels_per_cycle": 10, "max_cancels_per_hour": 100,
                        "max_cancel_fraction": 0.5,
                        "retry": {"initial": "1s", "max": "5s", "max_attempts": 8}},
        "metrics": {"listen": "127.0.0.1:0"},
        "state": {"directory": os.path.join(workdir, "state")},
        "log": {"level": "info"},
        "policies": w.config_policies(),
        "budgets": [b.config() for b in w.budgets],
        "estimates": {"learn": True, "pu_per_hour": {"MeshSampling": 25}},
    }
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as f:
        f.write(json.dumps(doc, indent=2) + "\n")  # JSON is YAML
    return path, doc


class Plan:
    """When (real seconds from the start) to kill the daemon, and how; when to storm."""

    MODES = ("random", "during_delete", "random", "during_list", "during_delete_unprocessed")

    def __init__(self, rng, duration, restarts):
        self.kills = []
        if restarts:
            slots = sorted(rng.uniform(0.08, 0.9) * duration for _ in range(restarts))
            for n, at in enumerate(slots):
                self.kills.append({"at": at, "mode": self.MODES[n % len(self.MODES)],
                                   "downtime": rng.uniform(0.2, 3.0)})
        self.weather = []  # (from, rough?): pairs of equally long rough and calm spells
        t = 0.0
        while t < duration:
            spell = rng.uniform(5, 20)
            self.weather += [(t, True), (t + spell, False)]
            t += 2 * spell
        self.revokes = []
        t = rng.uniform(5, 20)
        while t < duration * 0.95:
            self.revokes.append(t)
            t += rng.uniform(10, 30)
        self.storms = []
        t = rng.uniform(10, 30)
        while t < duration * 0.92:
            self.storms.append({"at": t, "seconds": rng.uniform(3, 6)})
            t += rng.uniform(25, 60)


class Conditions:
    """The run's weather (rough and calm fault spells), 429 storms and token revocations,
    applied on schedule by step(). A kill that waits for its moment (a DELETE or a list
    page in flight) keeps stepping them, so a storm or a rough spell never outlasts its plan
    (a storm frozen for a 40 s wait once kept the API at 15 requests per 5 s that long)."""

    def __init__(self, sim, plan):
        self.sim = sim
        self.weather, self.storms = list(plan.weather), list(plan.storms)
        self.revokes = list(plan.revokes)
        self.rules = fault_rules(self.weather.pop(0)[1])
        self.one_shot = None  # a kill's hang rule, kept first while it waits to fire
        self.storm_end = None
        self.revoked = 0

    def post_rules(self):
        extra = [self.one_shot] if self.one_shot else []
        self.sim.ctl("POST", "faults", {"rules": extra + self.rules})

    def step(self, elapsed):
        if self.storm_end is not None and elapsed >= self.storm_end:
            self.sim.ctl("POST", "config", {"rate_limit": self.sim.base_rate, "rate_window": 60})
            self.storm_end = None
        if self.storms and elapsed >= self.storms[0]["at"]:
            storm = self.storms.pop(0)
            self.sim.ctl("POST", "config", {"rate_limit": 15, "rate_window": 5})
            self.storm_end = elapsed + storm["seconds"]
        if self.weather and elapsed >= self.weather[0][0]:
            self.rules = fault_rules(self.weather.pop(0)[1])
            if not self.one_shot_fired():  # a fired one-shot is not re-armed
                self.post_rules()
        if self.revokes and elapsed >= self.revokes[0]:
            self.revokes.pop(0)
            self.sim.ctl("DELETE", "tokens")  # as if IMS rotated its keys: 401, then renewal
            self.revoked += 1

    def one_shot_fired(self):
        if not self.one_shot:
            return False
        rules = self.sim.ctl("GET", "faults")["rules"]
        return bool(rules) and rules[0]["fired"] > 0

    def wait_fired(self, timeout, elapsed):
        """Waits until the one-shot rule fired (True) or `timeout` passed (False), stepping
        the conditions meanwhile; elapsed() gives the run's real seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.one_shot_fired():
                return True
            self.step(elapsed())
            time.sleep(0.02)
        return False


def kill_and_restart(cond, daemon, kill, log, elapsed):
    mode = kill["mode"]
    fired = None
    if mode != "random":
        op = "list_jobs" if mode == "during_list" else "cancel_job"
        cond.one_shot = {"match": {"op": op}, "kind": "hang", "hang_seconds": 20, "count": 1,
                         "process": mode == "during_delete"}
        cond.post_rules()
        fired = cond.wait_fired(40, elapsed)
        time.sleep(0.05)
    kill["sim_ts"] = cond.sim.now()
    daemon.kill9()
    kill["fired"] = fired
    if mode != "random":
        cond.one_shot = None
        cond.post_rules()
    time.sleep(kill["downtime"])
    daemon.start()
    log("kill -9 #%d (%s%s), restarted after %.1fs" % (
        len(daemon.lifetimes) - 1, mode, "" if fired in (None, True) else ", did not fire",
        kill["downtime"]))


def scrape_after_polls(daemon, polls, timeout):
    """Waits for `polls` more successful polls; returns the metrics text then."""
    port = None
    deadline = time.monotonic() + timeout
    while port is None and time.monotonic() < deadline:
        port = daemon.metrics_port()
        time.sleep(0.1)
    if port is None:
        raise RuntimeError("no metrics port")
    # A listening port is not readiness (rcw_e2e.wait_for_metrics): the first
    # scrapes may be refused or answered 404 while /metrics is registered.
    text = None
    while time.monotonic() < deadline:
        text = rcw_e2e.scrape(port)
        if text and "rc_watchdog_polls_total" in text:
            break
        time.sleep(0.1)
    if not text:
        raise RuntimeError("no answer on /metrics")
    first = rcw_e2e.metric(text, "rc_watchdog_polls_total", {"outcome": "success"}) or 0
    while time.monotonic() < deadline:
        text = rcw_e2e.scrape(port)
        done = (rcw_e2e.metric(text, "rc_watchdog_polls_total", {"outcome": "success"}) or 0
                if text else 0)
        if done >= first + polls:
            return text
        time.sleep(0.1)
    raise RuntimeError("the daemon did not complete %d polls in %ds" % (polls, timeout))


def load_data(workdir, w, doc, sim_jobs, requests, run):
    a = run["args"]
    state_dir = doc["state"]["directory"]
    return checks.Data(
        workload=w, config=doc, sim_jobs=sim_jobs, requests=requests,
        audit_path=os.path.join(state_dir, "audit.jsonl"),
        state_path=os.path.join(state_dir, "state.db"), metrics_text=run["metrics_text"],
        lifetimes=run["lifetimes"], rss=run["rss"], kills=run["kills"], storms=run["storms"],
        live_end=run["live_end"], final=run["final"], speed=a["speed"], poll=a["poll"],
        rss_limit_kib=a["rss_limit_mib"] * 1024, exit_status=run["exit_status"],
        revoked=run["revoked"], unexpected_exits=run["unexpected_exits"], wall=run["wall"],
        seed=run["seed"], tick=a["tick"], sanitizer=run.get("sanitizer", ""))


def recheck(workdir):
    """Runs the checks again on a kept run (--workdir): for working on the checks."""
    def load(name):
        with open(os.path.join(workdir, name)) as f:
            return json.load(f)
    run = load("run.json")
    a = run["args"]
    w = Workload(run["seed"], a["jobs"], a["days"], a["itwins"])
    report = checks.run_all(load_data(workdir, w, load("config.json"), load("sim-jobs.json"),
                                      load("requests.json"), run))
    print(report.text())
    return 0 if report.ok else 1


def main(argv=None):
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--recheck":
        return recheck(sys.argv[2])
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**9)
    print("soak: seed %d (replay: tests/soak/soak.py --seed %d --days %g --jobs %d --itwins %d "
          "--speed %g --tick %g --restarts %d --poll %d --page-size %d)" % (
              seed, seed, args.days, args.jobs, args.itwins, args.speed, args.tick, args.restarts,
              args.poll, args.page_size), flush=True)
    if not os.access(BINARY, os.X_OK):
        print("soak: no rc-watchdog binary at %s (set RCW_BINARY)" % BINARY, file=sys.stderr)
        return 2
    tmp = None
    if args.workdir:
        workdir = args.workdir
        os.makedirs(workdir, exist_ok=True)
        if os.listdir(workdir):  # a previous run's state and audit log would mix into this one
            print("soak: --workdir %s is not empty; give a new or empty directory" % workdir,
                  file=sys.stderr)
            return 2
    else:
        tmp = tempfile.TemporaryDirectory(prefix="rcw-soak-")
        workdir = tmp.name
    started = time.monotonic()

    def log(text):
        print("[%6.1fs] %s" % (time.monotonic() - started, text), flush=True)

    w = Workload(seed, args.jobs, args.days, args.itwins)
    rng = random.Random(seed ^ 0x5eed)
    duration = args.days * 86400 / args.speed
    plan = Plan(rng, duration, args.restarts)
    sim = Sim(args, workdir, seed)
    daemon = Daemon(workdir, "")
    ok = False
    try:
        sim.ctl("POST", "jobs", {"jobs": w.sim_specs()})
        config, doc = write_config(workdir, sim, w, args)
        daemon.config = config
        check = subprocess.run([BINARY, "check-config", "-c", config], capture_output=True,
                               text=True)
        if check.returncode != 0:
            print("soak: check-config failed:\n" + check.stdout + check.stderr, file=sys.stderr)
            return 1
        cond = Conditions(sim, plan)
        cond.post_rules()
        log("workdir %s; %d jobs over %g days, %d watched iTwins (+%d unwatched), speed %gx "
            "(tick %gs), about %.0fs" % (workdir, args.jobs, args.days, args.itwins,
                                         len(w.unwatched), args.speed, args.tick, duration))
        sim.ctl("POST", "clock", {"speed": args.speed})
        daemon.start()
        run_start = time.monotonic()

        def elapsed_now():
            return time.monotonic() - run_start

        kills = list(plan.kills)
        unexpected_exits = []
        last_report = 0
        while True:
            elapsed = elapsed_now()
            sim_now = sim.now()
            if sim_now >= w.t_end:
                break
            if not daemon.alive():
                unexpected_exits.append((daemon.proc.returncode, sim_now))
                log("daemon exited by itself with status %s; restarting" % daemon.proc.returncode)
                daemon.lifetimes[-1][1] = now_real()
                daemon.start()
            daemon.sample()
            cond.step(elapsed)
            if kills and elapsed >= kills[0]["at"]:
                kill_and_restart(cond, daemon, kills.pop(0), log, elapsed_now)
            if elapsed - last_report >= 30:
                last_report = elapsed
                log("sim %s, daemon RSS %s kB" % (
                    time.strftime("%a %H:%M", time.gmtime(sim_now)),
                    daemon.rss[-1][1] if daemon.rss else "?"))
            time.sleep(0.25)
        # Quiet end: no faults, clock frozen a minute later (cancellations complete), then
        # three successful polls so the final state reflects the final data.
        sim.ctl("DELETE", "faults")
        sim.ctl("POST", "config", {"rate_limit": sim.base_rate, "rate_window": 60})
        live_end = sim.ctl("POST", "clock", {"speed": 0})["now_epoch"]
        final = sim.ctl("POST", "clock", {"advance": 60})["now_epoch"]
        log("live phase over at sim %s; quiet polls" % time.strftime(
            "%a %H:%M", time.gmtime(live_end)))
        metrics_text = scrape_after_polls(daemon, 3, 120)
        daemon.sample()
        daemon.proc.send_signal(signal.SIGTERM)
        rc = daemon.proc.wait(30)
        daemon.lifetimes[-1][1] = now_real()
        state_dir = doc["state"]["directory"]
        sim_jobs, requests = sim.ctl("GET", "jobs")["jobs"], sim.ctl("GET", "requests")
        for name, value in (("sim-jobs.json", sim_jobs), ("requests.json", requests),
                            ("config.json", doc)):
            with open(os.path.join(workdir, name), "w") as f:
                json.dump(value, f)
        run = {"args": vars(args), "seed": seed, "metrics_text": metrics_text,
               "lifetimes": daemon.lifetimes, "rss": daemon.rss, "kills": plan.kills,
               "storms": plan.storms, "live_end": live_end, "final": final, "exit_status": rc,
               "revoked": cond.revoked, "unexpected_exits": unexpected_exits,
               "wall": time.monotonic() - started, "sanitizer": daemon.sanitizer or ""}
        with open(os.path.join(workdir, "run.json"), "w") as f:
            json.dump(run, f)
        report = checks.run_all(load_data(workdir, w, doc, sim_jobs, requests, run))
        print(report.text(), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report.figures, f, indent=2, sort_keys=True)
        ok = report.ok
        if not ok:
            print("soak: FAILED (seed %d); files kept in %s" % (seed, workdir), flush=True)
            if tmp is not None:
                tmp_keep = tempfile.mkdtemp(prefix="rcw-soak-failed-")
                subprocess.run(["cp", "-a", workdir + "/.", tmp_keep])
                print("soak: copied to %s" % tmp_keep, flush=True)
        return 0 if ok else 1
    finally:
        if daemon.alive():
            daemon.proc.kill()
            daemon.proc.wait()
        sim.close()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
