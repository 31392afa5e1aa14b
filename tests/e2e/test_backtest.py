"""Backtest against the daemon (issue 13): the daemon runs a scripted morning of
runaways against the simulator, then `backtest` replays the same config over the
same period from the history the daemon kept. The jobs the daemon cancelled are
exactly the ones the backtest says, each within one poll interval."""
import datetime
import json
import os
import unittest

from rcw_e2e import Sim, Workspace, job, main

H = 3600
POLL = 600  # the daemon polls every 10 minutes of simulated time
START = "2026-11-30T06:00:00Z"
POLICIES = [
    {"name": "runtime-2h", "match": {"types": ["PointCloudConversion"]},
     "exempt": {"name_regex": "-keep$"}, "limits": {"max_runtime": "2h"}},
    {"name": "queued-1h", "match": {"types": ["MeshSampling"]}, "limits": {"max_queued": "1h"}},
    {"name": "report-90m", "match": {"types": ["PointCloudConversion"]},
     "limits": {"max_runtime": "90m"}, "action": "report"},
]
# count_running: false, so the daemon's spend is the ledger's, which the backtest replays.
BUDGETS = [
    {"name": "tiler-daily", "group_by": "all", "match": {"types": ["ContextSceneTiler"]},
     "window": "daily", "limit": 25, "action": "cancel_queued", "count_running": False},
]


def parse(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))


class Backtest(unittest.TestCase):
    def setUp(self):
        self.sim = Sim("--start", START)
        self.addCleanup(self.sim.close)

    def test_the_backtest_names_the_jobs_the_daemon_cancelled(self):
        ids = self.sim.add_jobs([
            job(name="runaway-1", created_ago=0, queue_seconds=60, run_seconds=3 * H),
            job(name="runaway-2", created_ago=1800, queue_seconds=600, run_seconds=5 * H),
            job(name="runaway-3", created_ago=0, queue_seconds=5400, run_seconds=4 * H),
            job(name="short", created_ago=0, queue_seconds=60, run_seconds=H),
            job(name="nearly", created_ago=0, queue_seconds=60, run_seconds=110 * 60),
            job(name="big-keep", created_ago=0, queue_seconds=60, run_seconds=4 * H),
            job(name="stuck", type="MeshSampling", created_ago=0, queue_seconds=3 * H,
                run_seconds=H),
            job(name="brief-queue", type="MeshSampling", created_ago=0, queue_seconds=2400,
                run_seconds=H),
            # 10 PU/h each: 10 PU at 1h01m, 20 more at 2h01m cross the 25-PU budget.
            job(name="tiler-1", type="ContextSceneTiler", created_ago=0, queue_seconds=60,
                run_seconds=H),
            job(name="tiler-2", type="ContextSceneTiler", created_ago=0, queue_seconds=60,
                run_seconds=2 * H),
            job(name="tiler-queued", type="ContextSceneTiler", created_ago=0,
                queue_seconds=3 * H, run_seconds=H),   # Queued at the crossing: cancelled
            job(name="tiler-active", type="ContextSceneTiler", created_ago=0,
                queue_seconds=600, run_seconds=4 * H),  # Active then: cancel_queued spares it
        ])
        names = dict(zip(ids, ["runaway-1", "runaway-2", "runaway-3", "short", "nearly",
                               "big-keep", "stuck", "brief-queue", "tiler-1", "tiler-2",
                               "tiler-queued", "tiler-active"]))
        ws = Workspace(self.sim, policies=POLICIES, budgets=BUDGETS, watch={"poll_interval": "10m"})
        self.addCleanup(ws.close)
        # Six and a half hours, one poll every POLL seconds: every job ends.
        for _ in range(int(6.5 * H) // POLL + 1):
            ws.once(check=False)
            self.sim.advance(POLL)
        ws.once(check=False)
        until = parse(START) + datetime.timedelta(seconds=(int(6.5 * H) // POLL + 1) * POLL)

        cancelled = {}  # job id -> when the daemon first decided to send its DELETE
        for e in ws.events("cancel_requested"):
            if not e.get("dry_run"):  # report-only policies log a dry-run pair
                cancelled.setdefault(e["job_id"], parse(e["ts"]))
        self.assertEqual(sorted(cancelled), sorted({r["job_id"] for r in self.sim.deletes()}))
        self.assertEqual(sorted(names[i] for i in cancelled),
                         ["runaway-1", "runaway-2", "runaway-3", "stuck", "tiler-queued"])
        history = ws.read_state_db()["history"]
        self.assertEqual(sorted(r["job_id"] for r in history), sorted(ids))

        proc = ws.run("backtest", "-c", ws.config, "--since", "8h", "--until",
                      until.strftime("%Y-%m-%dT%H:%M:%SZ"), "--format", "json")
        report = json.loads(proc.stdout)
        self.assertEqual(report["jobs_seen"], len(ids))
        replayed = {j["id"]: j for j in report["jobs"] if j["cancelled"]}
        self.assertEqual(sorted(names[i] for i in replayed), sorted(names[i] for i in cancelled))
        for job_id, at in cancelled.items():
            would = parse(replayed[job_id]["cancel_at"])
            # The daemon acts at its first poll after the crossing.
            self.assertLessEqual(abs((at - would).total_seconds()), POLL + 5,
                                 "%s: daemon %s, backtest %s" % (names[job_id], at, would))
        # Report-only: "nearly" (110 min) and the runaways went past 90 min; never cancelled.
        reported = sorted(names[j["id"]] for j in report["jobs"] if not j["cancelled"])
        self.assertIn("nearly", reported)
        self.assertNotIn("big-keep", [names[i] for i in replayed])
        policies = {p["name"]: p for p in report["policies"]}
        self.assertEqual(policies["runtime-2h"]["jobs_cancelled"], 3)
        self.assertEqual(policies["queued-1h"]["jobs_cancelled"], 1)
        self.assertEqual(policies["report-90m"]["jobs_cancelled"], 0)
        self.assertEqual(policies["report-90m"]["pu_saved"], 0)
        self.assertEqual(len(report["budgets"]), 1)
        crossing = report["budgets"][0]
        self.assertEqual((crossing["name"], crossing["group"], crossing["jobs_cancelled"]),
                         ("tiler-daily", "all", 1))
        self.assertEqual(parse(crossing["crossed_at"]),
                         parse(START) + datetime.timedelta(seconds=2 * H + 60))

        # One job's timeline, and the table.
        runaway = ids[0]
        explain = ws.run("backtest", "-c", ws.config, "--since", "8h", "--until",
                         until.strftime("%Y-%m-%dT%H:%M:%SZ"), "--explain", runaway).stdout
        self.assertIn("cancelled by runtime-2h (max_runtime)", explain)
        table = ws.run("backtest", "-c", ws.config, "--since", "8h", "--until",
                       until.strftime("%Y-%m-%dT%H:%M:%SZ")).stdout
        self.assertIn("runtime-2h", table)
        self.assertIn("biggest savings:", table)

    def test_jobs_files_replay_offline(self):
        ws = Workspace(self.sim, policies=POLICIES)
        self.addCleanup(ws.close)
        jobs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "plan",
                            "jobs.json")
        args = ["backtest", "-c", ws.config, "--until", "2026-11-29T12:00:00Z", "--since", "1d",
                "--format", "json"]
        once = json.loads(ws.run(*args, "--jobs", jobs).stdout)
        twice = json.loads(ws.run(*args, "--jobs", jobs, jobs).stdout)  # one record per job
        self.assertEqual(once, twice)
        self.assertGreater(once["jobs_seen"], 0)
        cancelled = {j["id"]: j for j in once["jobs"] if j["cancelled"]}
        # Active since 09:00, still running at --until: over 2h at 11:00:01.
        runaway = cancelled["11111111-1111-4111-8111-111111111111"]
        self.assertEqual(runaway["policy"], "runtime-2h")
        self.assertEqual(runaway["cancel_at"], "2026-11-29T11:00:01Z")
        self.assertIsNone(once["history_from"])
        self.assertFalse(os.path.exists(ws.db_path))  # offline: the state is not read

    def test_exit_status(self):
        ws = Workspace(self.sim, policies=POLICIES)
        self.addCleanup(ws.close)
        # No state.db yet: the replay runs on nothing, says so, writes nothing.
        proc = ws.run("backtest", "-c", ws.config)
        self.assertIn("no job history yet", proc.stdout)
        self.assertFalse(os.path.exists(ws.db_path))
        # A state directory whose state.db is not a database: 1.
        os.makedirs(ws.state, exist_ok=True)
        with open(ws.db_path, "w") as f:
            f.write("not a database\n" * 100)
        proc = ws.run("backtest", "-c", ws.config, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(ws.db_path, proc.stderr)
        # A config error: 78, with file:line:col.
        ws.write_config(dict(ws.doc, bogus_key=1))
        proc = ws.run("backtest", "-c", ws.config, check=False)
        self.assertEqual(proc.returncode, 78, proc.stderr)
        self.assertIn("bogus_key", proc.stderr)
        # A bad command line: 2.
        proc = ws.run("backtest", "-c", ws.config, "--since", "soon", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)


if __name__ == "__main__":
    main()
