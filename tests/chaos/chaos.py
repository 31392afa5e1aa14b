#!/usr/bin/env python3
"""The operators' chaos test: rc-watchdog lives through a simulated day of random reloads on
a faulty API, and every DELETE the simulator receives must be justified by a config the
daemon may have had in force when it was sent, on data no older than one poll interval.

  python3 tests/chaos/chaos.py                      # the short CI form: seeds 1, 2 and 3
  python3 tests/chaos/chaos.py --seeds 1-20 --days 2 --speed 900
  python3 tests/chaos/chaos.py --recheck DIR        # the checker again on a kept run
  scripts/chaos.sh                                  # the long form

The reloads (configs.py) exempt jobs whose DELETE is pending, switch policies to report, turn
dry run on and off, remove and re-add iTwins, rename, delete and restore policies, and raise
and lower lookback. The API (tests/sim/rc_sim.py) serves upper-case ids and duplicate jobs,
moves jobs between pages while a listing is paged, fails DELETEs (503, 429, resets, lost
answers), lists and GETs, and rate-limits everything in bursts while deadlines cross between
polls. The checker (checker.py) works from the simulator's request log and the config
history only. Environment: RCW_BINARY, RCW_SOURCE_DIR. Exit 0 when every seed holds.
See docs/RELIABILITY.md, "The operators' chaos test".
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("RCW_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))

import checker  # noqa: E402
import rcw_e2e  # noqa: E402
from configs import Configs  # noqa: E402
from jobs import T0, Jobs, rfc3339  # noqa: E402

BINARY = os.environ.get("RCW_BINARY", os.path.join(SOURCE_DIR, "build", "rc-watchdog"))


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return seeds


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1,2,3", help="e.g. 1,2,3 or 1-20 (default 1,2,3)")
    p.add_argument("--days", type=float, default=1.0, help="simulated days per seed")
    p.add_argument("--jobs", type=int, default=500, help="jobs per simulated day")
    p.add_argument("--speed", type=float, default=1800, help="sim seconds per real second")
    p.add_argument("--tick", type=float, default=1.0, help="rc_sim --tick (real seconds)")
    p.add_argument("--poll", type=int, default=2, help="watch.poll_interval in seconds")
    p.add_argument("--page-size", type=int, default=20, help="watch.page_size")
    p.add_argument("--reload-every", type=float, nargs=2, default=(1.0, 3.0),
                   metavar=("MIN", "MAX"), help="real seconds between untargeted reloads")
    p.add_argument("--workdir", help="keep every seed's files under this directory")
    p.add_argument("--json", help="write the per-seed figures to this file")
    return p.parse_args(argv)


def fault_rules(rough):
    """DELETEs fail often, so that cancellations wait in backoff when a reload comes."""
    k = 2.0 if rough else 1.0
    return [
        {"match": {"op": "cancel_job"}, "kind": "status", "status": 503, "probability": 0.2 * k},
        {"match": {"op": "cancel_job"}, "kind": "ratelimit", "retry_after": 1,
         "probability": 0.1 * k},
        {"match": {"op": "cancel_job"}, "kind": "status", "status": 503, "process": True,
         "probability": 0.04},
        {"match": {"op": "cancel_job"}, "kind": "reset", "probability": 0.02},
        {"match": {"op": "get_job"}, "kind": "status", "status": 503, "probability": 0.05 * k},
        {"match": {"op": "list_jobs"}, "kind": "status", "status": 500, "probability": 0.02 * k},
        {"match": {"op": "list_jobs"}, "kind": "truncated", "probability": 0.005 * k},
        {"match": {}, "kind": "hang", "hang_seconds": 2.5, "probability": 0.001},
    ]


class AuditTail:
    """Counts the daemon's config_loaded / config_rejected lines as they are appended: the
    daemon's confirmation of a reload (read for that alone)."""

    def __init__(self, path):
        self.path, self.pos, self.buf = path, 0, ""
        self.events = []

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except FileNotFoundError:
            return
        self.buf += data
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") in ("config_loaded", "config_rejected"):
                self.events.append(e)


class Pending:
    """DELETEs that failed (the daemon will retry them) for jobs not yet cancelled, from the
    simulator's request log."""

    def __init__(self, sim):
        self.sim, self.since = sim, 0
        self.failed = {}  # job key -> real time of the last failed DELETE

    def update(self):
        entries = self.sim.control("GET", "requests?op=cancel_job&since=%d" % self.since)
        entries = entries["requests"]
        for e in entries:
            if e["duration_ms"] is None:
                continue  # still in flight (e.g. a hang): read again next time
            key = (e["job_id"] or "").lower()
            if e["status"] == 200:
                self.failed.pop(key, None)
            elif e["status"] in (None, 429, 500, 502, 503) and e.get("job") and \
                    e["job"]["state"] in ("Queued", "Active"):
                self.failed[key] = e["real_ts"]
        unfinished = [e["seq"] for e in entries if e["duration_ms"] is None]
        if unfinished:
            self.since = min(unfinished) - 1
        elif entries:
            self.since = entries[-1]["seq"]

    def recent(self, within):
        now = time.time()
        return [k for k, t in self.failed.items() if now - t <= within]


class Run:
    """One seed: simulator, daemon, weather, reloads; then the checker."""

    def __init__(self, seed, args, workdir, log):
        self.seed, self.args, self.workdir, self.log = seed, args, workdir, log
        self.rng = random.Random(seed ^ 0xC4A05)
        self.jobs = Jobs(seed, int(args.jobs * args.days), args.days)
        self.specs = {s["id"]: s for s in self.jobs.specs}
        self.versions, self.clock = [], []
        self.problems = []

    def start_sim(self):
        scenario = os.path.join(self.workdir, "scenario.json")
        with open(scenario, "w") as f:
            json.dump({"config": {"hide_future_jobs": True, "cancel_delay": 30,
                                  "request_log_max": 1000000}}, f)
        self.sim = rcw_e2e.Sim("--speed", "0", "--tick", str(self.args.tick), "--start",
                               rfc3339(T0), "--token-lifetime", "172800", "--seed",
                               str(self.seed), "--scenario", scenario)
        self.sim.add_jobs(self.jobs.specs)

    def base_config(self):
        self.ws = rcw_e2e.Workspace(self.sim)
        base = {k: v for k, v in self.ws.doc.items() if k in ("auth", "metrics", "state")}
        base["api"] = dict(self.ws.doc["api"], timeout="2s", max_requests_per_minute=3000,
                           max_requests_per_hour=150000)
        base["watch"] = {"poll_interval": "%ds" % self.args.poll,
                         "page_size": self.args.page_size}
        base["enforcement"] = {"max_cancels_per_cycle": 20, "max_cancels_per_hour": 5000,
                               "max_cancel_fraction": 1.0,
                               "retry": {"initial": "1s", "max": "4s", "max_attempts": 8}}
        base["log"] = {"level": "info"}
        return base

    def write(self):
        doc = self.configs.doc()
        written = time.time()
        self.ws.write_config(doc)
        return doc, written

    def reload(self, targets):
        changes = self.configs.reload([self.specs_by_key[k] for k in targets])
        doc, written = self.write()
        seen = len(self.audit.events)
        os.kill(self.daemon.pid, signal.SIGHUP)
        deadline = time.monotonic() + 60
        while len(self.audit.events) == seen:
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                raise RuntimeError("reload v%d not confirmed" % (len(self.versions)))
            time.sleep(0.01)
            self.audit.poll()
        outcome = "loaded" if self.audit.events[seen]["event"] == "config_loaded" else "rejected"
        if outcome == "rejected":
            self.problems.append("reload v%d rejected: %s" % (
                len(self.versions), self.audit.events[seen].get("message", "")[:300]))
        self.versions.append({"version": len(self.versions), "doc": doc, "written": written,
                              "confirmed": time.time(), "outcome": outcome,
                              "mutations": changes})

    def wait_ready(self):
        port = rcw_e2e.wait_for(lambda: (rcw_e2e.listening_ports(self.daemon.pid) or [None])[0],
                                timeout=30, what="the daemon's metrics port")
        rcw_e2e.wait_for(lambda: (rcw_e2e.metric(rcw_e2e.scrape(port), "rc_watchdog_polls_total",
                                                 {"outcome": "success"}) or 0) >= 1,
                         timeout=60, what="the daemon's first poll")

    def sample_clock(self):
        now = self.sim.control("GET", "clock")["now_epoch"]
        self.clock.append((time.time(), now))  # the clock had reached `now` by then
        return now

    def live(self):
        a = self.args
        weather_at = 0.0
        next_reload = time.monotonic() + self.rng.uniform(*a.reload_every)
        last_reload = 0.0
        self.overlaps = collections.Counter()
        while True:
            now_sim = self.sample_clock()
            if now_sim >= self.jobs.t_end:
                return
            if self.daemon.poll() is not None:
                raise RuntimeError("the daemon exited with status %s" % self.daemon.returncode)
            mono = time.monotonic()
            if mono >= weather_at:
                rough, overlap = self.rng.random() < 0.4, self.rng.choice((0, 1, 1, 2))
                self.sim.control("POST", "faults", {"rules": fault_rules(rough)})
                self.sim.control("POST", "config", {"page_overlap": overlap})
                self.overlaps[overlap] += 1
                weather_at = mono + self.rng.uniform(4, 12)
            self.pending.update()
            targets = self.pending.recent(3.0)
            if mono >= next_reload or (targets and mono - last_reload > 0.4 and
                                       self.rng.random() < 0.35):
                self.reload(self.rng.sample(targets, min(3, len(targets))))
                last_reload = time.monotonic()
                next_reload = last_reload + self.rng.uniform(*a.reload_every)
            time.sleep(0.1)

    def execute(self):
        a = self.args
        self.start_sim()
        self.specs_by_key = {k.lower(): v for k, v in self.specs.items()}
        try:
            self.configs = Configs(self.rng, self.jobs, self.base_config())
            doc, written = self.write()
            self.versions.append({"version": 0, "doc": doc, "written": None, "confirmed": None,
                                  "outcome": "loaded", "mutations": []})
            self.daemon = self.ws.spawn()
            self.audit = AuditTail(os.path.join(self.ws.state, "audit.jsonl"))
            self.pending = Pending(self.sim)
            self.wait_ready()
            bursts = {"period": round(self.rng.uniform(6, 12), 2),
                      "length": round(self.rng.uniform(1, 2.5), 2)}
            self.sim.control("POST", "config", {"rate_bursts": bursts})
            self.sim.control("POST", "clock", {"speed": a.speed})
            self.log("seed %d: %d jobs, %d iTwins (+1 never watched), budget limit %g PU, "
                     "429 bursts %s, speed %gx: about %.0f s" % (
                         self.seed, len(self.jobs.specs), len(self.jobs.itwins),
                         self.configs.budget["limit"], bursts, a.speed,
                         a.days * 86400 / a.speed))
            self.live()
            self.sim.control("DELETE", "faults")
            self.sim.control("POST", "config", {"rate_bursts": None, "page_overlap": 0})
            self.sim.control("POST", "clock", {"speed": 0})
            self.daemon.send_signal(signal.SIGTERM)
            self.exit_status = self.daemon.wait(30)
        except Exception as e:  # noqa: BLE001 - reported as the seed's failure
            self.problems.append("harness: %s: %s" % (type(e).__name__, e))
            self.exit_status = None
        finally:
            if getattr(self, "daemon", None) is not None and self.daemon.poll() is None:
                self.daemon.kill()
                self.daemon.wait()
        requests = self.sim.control("GET", "requests")
        sim_jobs = self.sim.control("GET", "jobs")["jobs"]
        self.sim.close()
        files = {"versions.json": self.versions, "requests.json": requests["requests"],
                 "sim-jobs.json": sim_jobs, "specs.json": self.jobs.specs, "clock.json": self.clock,
                 "run.json": {"seed": self.seed, "args": vars(a), "problems": self.problems,
                              "exit_status": self.exit_status, "dropped": requests["dropped"],
                              "mutations": dict(self.configs.kinds)
                              if hasattr(self, "configs") else {}}}
        for name, value in files.items():
            with open(os.path.join(self.workdir, name), "w") as f:
                json.dump(value, f)
        for name in ("daemon.log", "state"):
            src = os.path.join(self.ws.dir.name, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(self.workdir, name))
            elif os.path.exists(src):
                shutil.copy(src, self.workdir)
        self.ws.close()
        return check_dir(self.workdir)


def check_dir(workdir):
    """Runs the checker on a run's files; -> (ok, report lines, figures)."""
    def load(name):
        with open(os.path.join(workdir, name)) as f:
            return json.load(f)
    run, versions, requests = load("run.json"), load("versions.json"), load("requests.json")
    specs, sim_jobs, clock = load("specs.json"), load("sim-jobs.json"), load("clock.json")
    poll = run["args"]["poll"]
    c = checker.Checker(versions, requests, specs, sim_jobs, clock, poll)
    results = c.run()
    bad = [r for r in results if not r["ok"]]
    by = collections.Counter(r["by"].split(":")[0].split(" ")[0] for r in results if r["ok"])
    two = sum(1 for r in results if len(r["versions"]) > 1)
    causes = collections.Counter(r["cause"] for r in bad if "cause" in r)
    doubles = c.double_sends()
    lines, ok = [], True

    def verdict(passed, name, text, details=()):
        nonlocal ok
        ok &= bool(passed)
        lines.append("  [%s] %s: %s" % ("ok" if passed else "FAIL", name, text))
        lines.extend("         " + d for d in details)

    api = [r for r in requests if r["op"] in ("list_jobs", "get_job", "cancel_job", "token")]
    ops = collections.Counter(r["op"] for r in api)
    faults = collections.Counter(r["fault"] for r in api if r["fault"])
    bursts = sum(1 for r in api if r["status"] == 429 and not r["fault"])
    upper = sum(1 for r in c.deletes if (r["job_id"] or "") != (r["job_id"] or "").lower())
    cancelled = sum(1 for j in sim_jobs if j["cancelled_at"])
    loaded = [v for v in versions if v["outcome"] == "loaded"]
    lines.append("  %d API requests (%s); faults %s; %d answered 429 by a burst" % (
        len(api), ", ".join("%s %d" % kv for kv in sorted(ops.items())),
        ", ".join("%s %d" % kv for kv in sorted(faults.items())) or "none", bursts))
    lines.append("  %d reloads (%s); %d jobs cancelled" % (
        len(versions) - 1, ", ".join("%s %d" % kv for kv in sorted(run["mutations"].items())),
        cancelled))
    verdict(not run["problems"] and run["exit_status"] == 0 and run["dropped"] == 0,
            "0 the daemon lived through every reload",
            "exit status %s after SIGTERM; %d of %d reloads confirmed as loaded; %d log entries "
            "dropped" % (run["exit_status"], len(loaded) - 1, len(versions) - 1, run["dropped"]),
            run["problems"])
    details = []
    numbered = {v.number: v for v in c.versions}
    for r in bad:
        details += checker.describe(numbered, r)
    verdict(not bad, "1 every DELETE justified",
            "%d DELETEs (%d sent with an upper-case id), justified by %s; %d judged under two "
            "possible configs (a reload in flight); unjustified %d%s" % (
                len(results), upper, ", ".join("%s %d" % kv for kv in sorted(by.items())) or "-",
                two, len(bad), " (%s)" % ", ".join("%s %d" % kv for kv in sorted(causes.items()))
                if causes else ""), details)
    verdict(not doubles, "2 no DELETE doubled",
            "DELETEs of a job within one poll interval (%ds) after an accepted one: %d" % (
                poll, len(doubles)),
            ["job %s: DELETE seq %d answered 200 at real %.3f, then seq %d (sent as %s) %.3f s "
             "later" % ((a["job_id"] or "").lower(), a["seq"], a["real_ts"], b["seq"],
                        b["job_id"], b["real_ts"] - a["real_ts"]) for a, b in doubles])
    figures = {"seed": run["seed"], "ok": ok, "deletes": len(results), "unjustified": len(bad),
               "causes": dict(causes), "doubled": len(doubles), "reloads": len(versions) - 1,
               "two_configs": two, "cancelled": cancelled, "upper_case_deletes": upper,
               "by": dict(by)}
    return ok, lines, figures


def main(argv=None):
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--recheck":
        ok, lines, _ = check_dir(sys.argv[2])
        print("\n".join(lines))
        return 0 if ok else 1
    args = parse_args(argv)
    seeds = parse_seeds(args.seeds)
    print("chaos: seeds %s (replay one: tests/chaos/chaos.py --seeds N --days %g --jobs %d "
          "--speed %g --tick %g --poll %d --page-size %d)" % (
              args.seeds, args.days, args.jobs, args.speed, args.tick, args.poll,
              args.page_size), flush=True)
    if not os.access(BINARY, os.X_OK):
        print("chaos: no rc-watchdog binary at %s (set RCW_BINARY)" % BINARY, file=sys.stderr)
        return 2
    started = time.monotonic()

    def log(text):
        print("[%6.1fs] %s" % (time.monotonic() - started, text), flush=True)

    root = args.workdir or tempfile.mkdtemp(prefix="rcw-chaos-")
    all_figures, failed = [], []
    for seed in seeds:
        workdir = os.path.join(root, "seed-%d" % seed)
        if os.path.exists(workdir):
            print("chaos: %s exists; give a new or empty --workdir" % workdir, file=sys.stderr)
            return 2
        os.makedirs(workdir)
        ok, lines, figures = Run(seed, args, workdir, log).execute()
        all_figures.append(figures)
        log("seed %d: %s" % (seed, "holds" if ok else "FAILED (files in %s)" % workdir))
        print("\n".join(lines), flush=True)
        if not ok:
            failed.append(seed)
        elif not args.workdir:
            shutil.rmtree(workdir)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_figures, f, indent=2, sort_keys=True)
    total = sum(f["deletes"] for f in all_figures)
    print("chaos: %d seeds, %d DELETEs judged, %d reloads; %s" % (
        len(seeds), total, sum(f["reloads"] for f in all_figures),
        "PASSED" if not failed else "FAILED seeds %s (files under %s)" % (
            ",".join(map(str, failed)), root)), flush=True)
    if not failed and not args.workdir:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
