#!/usr/bin/env python3
"""Issue 13's benchmark: `rc-watchdog backtest` over 35 days of history.

    python3 bench/backtest_bench.py --binary BUILD/rc-watchdog [--days 35] [--per-day 10000]
                                    [--reps 3] [--out FILE.json]

Writes a state.db with the daemon's own schema (the migrations are read from
daemon/state/state_db.cpp) holding DAYS x PER_DAY ended jobs in the history table
(default 350,000: 10,000 a day for 35 days, in 5 iTwins and 4 job types; 1 % run past
2 h, 1 % queue past 1 h, 2 % end Success after 100 min), then times `backtest --since 35d`
(JSON) under two cancelling policies, a report-only one and a daily budget per iTwin.
Prints the median wall time of --reps runs and the process's CPU time and peak RSS
(os.wait4). Target: under 5 s.
"""

import argparse
import datetime
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET_S = 5.0
END = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)
TYPES = ["PointCloudConversion", "MeshSampling", "ContextSceneTiler", "TileMapOptimization"]
ITWINS = [str(uuid.UUID(int=0x11b0a5e1 << 96 | i)) for i in range(5)]
USERS = [str(uuid.UUID(int=i + 1)) for i in range(20)]


def migrations():
    with open(os.path.join(ROOT, "daemon", "state", "state_db.cpp")) as f:
        return re.findall(r'R"sql\((.*?)\)sql"', f.read(), re.S)


def ms(t):
    return int(t.timestamp() * 1000)


def make_db(path, days, per_day, seed=13):
    rnd = random.Random(seed)
    con = sqlite3.connect(path)
    steps = migrations()
    for sql in steps:
        con.executescript(sql)
    con.execute("PRAGMA user_version = %d" % len(steps))
    start = END - datetime.timedelta(days=days)
    rows = []
    for n in range(days * per_day):
        created = start + datetime.timedelta(seconds=rnd.uniform(0, days * 86400 - 6 * 3600))
        roll = rnd.random()
        queued = rnd.uniform(10, 600) if roll > 0.01 else rnd.uniform(3600, 3 * 3600)
        runtime = rnd.uniform(300, 5400)
        state = "Success" if rnd.random() > 0.1 else "Failed"
        if 0.01 < roll <= 0.02:
            runtime = rnd.uniform(2 * 3600, 8 * 3600)
        elif 0.02 < roll <= 0.04:
            runtime, state = 100 * 60, "Success"
        started = created + datetime.timedelta(seconds=queued)
        ended = started + datetime.timedelta(seconds=runtime)
        rows.append((str(uuid.UUID(int=rnd.getrandbits(128))), "job-%d" % n, rnd.choice(TYPES),
                     rnd.choice(ITWINS), rnd.choice(USERS), state, ms(created), ms(started),
                     ms(ended), round(runtime / 3600 * 12, 3)))
    con.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()


CONFIG = """{
  "api": {"base_url": "https://api.bentley.com/reality-conversion"},
  "auth": {"token_url": "https://ims.bentley.com/connect/token", "client_id": "bench"},
  "state": {"directory": "%s"},
  "policies": [
    {"name": "runtime-2h", "limits": {"max_runtime": "2h"}, "exempt": {"name_regex": "-keep$"}},
    {"name": "queued-1h", "match": {"types": ["MeshSampling"]}, "limits": {"max_queued": "1h"}},
    {"name": "report-90m", "limits": {"max_runtime": "90m"}, "action": "report"}
  ],
  "budgets": [
    {"name": "itwin-daily", "group_by": "itwin", "window": "daily", "limit": 19500}
  ]
}
"""


def run(binary, config, days):
    start = time.monotonic()
    proc = subprocess.Popen([binary, "backtest", "-c", config, "--since", "%dd" % days,
                             "--until", END.strftime("%Y-%m-%dT%H:%M:%SZ"), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("backtest exited %d: %s" % (proc.returncode, err.decode()))
    return wall, json.loads(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--binary", required=True)
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--per-day", type=int, default=10000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="rcw-backtest-bench-") as d:
        state = os.path.join(d, "state")
        os.mkdir(state)
        t0 = time.monotonic()
        make_db(os.path.join(state, "state.db"), a.days, a.per_day)
        print("generated %d history rows in %.1f s" % (a.days * a.per_day, time.monotonic() - t0))
        config = os.path.join(d, "config.yaml")
        with open(config, "w") as f:
            f.write(CONFIG % state)
        walls, cpus = [], []
        report = None
        for _ in range(a.reps):
            before = os.times()
            wall, report = run(a.binary, config, a.days)
            after = os.times()
            walls.append(wall)
            cpus.append((after.children_user - before.children_user) +
                        (after.children_system - before.children_system))
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        cancelled = sum(1 for j in report["jobs"] if j["cancelled"])
        print("backtest of %d ended jobs (%d days x %d): %.2f s wall, %.2f s CPU (median of %d); "
              "%d jobs seen, %d cancellations; target < %.0f s: %s" % (
                  a.days * a.per_day, a.days, a.per_day, wall, cpu, a.reps, report["jobs_seen"],
                  cancelled, TARGET_S, "met" if wall < TARGET_S else "MISSED"))
        if a.out:
            with open(a.out, "w") as f:
                json.dump({"rows": a.days * a.per_day, "wall_s": wall, "cpu_s": cpu,
                           "target_s": TARGET_S, "met": wall < TARGET_S}, f)
        return 0 if wall < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
