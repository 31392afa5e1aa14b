"""The state database with the real binary (issue 11): restarts and kill -9 keep the
ledger exactly-once, the files of 0.1.x are imported once, a newer or corrupt state.db
is refused."""
import datetime
import json
import os
import random
import signal
import sqlite3
import unittest

from rcw_e2e import ITWIN_A, USER, Sim, Workspace, job, main, wait_for

H = 3600
POLICIES = [{"name": "runtime-100h", "limits": {"max_runtime": "100h"}}]


def ended_jobs(sim):
    """{id: (endedDateTime in ms, processingUnits)} of the sim's ended jobs."""
    out = {}
    for jid, j in sim.jobs().items():
        info = j.get("executionInfo") or {}
        if j["state"] not in ("Queued", "Active") and info.get("processingUnits") is not None:
            ended = datetime.datetime.fromisoformat(info["endedDateTime"].replace("Z", "+00:00"))
            out[jid] = (int(ended.timestamp() * 1000), info["processingUnits"])
    return out


class State(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)

    def workspace(self, **kw):
        ws = Workspace(self.sim, policies=kw.pop("policies", POLICIES), **kw)
        self.addCleanup(ws.close)
        return ws

    def ledger(self, ws):
        return {r["job_id"]: r for r in ws.read_state_db()["ledger"]}

    def assert_exactly_once(self, ws):
        rows = ws.read_state_db()["ledger"]
        ids = [r["job_id"] for r in rows]
        self.assertEqual(len(ids), len(set(ids)), "a job counted twice")
        # The history (backtest) has one row per ended job too, in the same transaction.
        history = ws.read_state_db()["history"]
        self.assertEqual(sorted(r["job_id"] for r in history), sorted(ids))
        want = ended_jobs(self.sim)
        got = {r["job_id"]: (r["ended"], r["pu"]) for r in rows}
        self.assertEqual(got, want)

    def test_restarts_and_kill_9_keep_the_ledger_exactly_once(self):
        self.sim.add_jobs([job(name="done-%d" % i, created_ago=5 * H, queue_seconds=60,
                               run_seconds=H + i) for i in range(20)])
        self.sim.add_jobs([job(name="running", created_ago=H, queue_seconds=60,
                               run_seconds=2 * H)])
        ws = self.workspace()
        ws.once()
        db = ws.read_state_db()
        self.assertEqual(db["user_version"], 3)
        self.assertEqual(len(db["ledger"]), 20)
        self.assert_exactly_once(ws)
        # The database is in WAL mode (a reader never blocks the daemon).
        con = sqlite3.connect("file:%s?mode=ro" % ws.db_path, uri=True)
        self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        con.close()
        ws.once()  # a restart counts nothing again
        self.assert_exactly_once(ws)

        # kill -9 at varying moments of the daemon's first cycle, jobs ending in between.
        for round_ in range(3):
            # Created after the last listing (as real jobs are: an incremental listing
            # asks only for jobs created after its horizon), ended already.
            self.sim.add_jobs([job(name="more-%d-%d" % (round_, i), created_ago=300,
                                   queue_seconds=10, run_seconds=60) for i in range(10)])
            self.sim.advance(H)
            before = len(self.ledger(ws))
            started = len(ws.events("started"))
            listed = len(self.sim.requests())
            proc = ws.spawn()
            if round_ == 0:  # once the new rows are committed
                wait_for(lambda: len(self.ledger(ws)) > before, what="new ledger rows")
            elif round_ == 1:  # as soon as it has started: before or during the listing
                wait_for(lambda: len(ws.events("started")) > started, what="started")
            else:  # once the listing has begun
                wait_for(lambda: len(self.sim.requests()) > listed + 1, interval=0.005,
                         what="a list request")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        ws.once()
        self.assert_exactly_once(ws)
        self.assertEqual(len(self.ledger(ws)), 51)  # 20 + 30, and "running" has ended

    def test_files_of_0_1_are_imported_once_and_renamed_aside(self):
        ids = self.sim.add_jobs([job(name="done-%d" % i, created_ago=5 * H, queue_seconds=60,
                                     run_seconds=H) for i in range(3)])
        ws = self.workspace()
        os.makedirs(ws.state, exist_ok=True)
        ended = ended_jobs(self.sim)
        end_text = datetime.datetime.fromtimestamp(
            ended[ids[0]][0] / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        entry = {"job_id": ids[0], "ended": end_text, "pu": 7.5, "itwin_id": ITWIN_A,
                 "user_id": USER, "type": "PointCloudConversion", "name": "done-0"}
        older = dict(entry, job_id="0d1e2f3a-0000-4000-8000-000000000001", pu=2.25)
        state = {"version": 1, "first_seen_active": {}, "warned": [], "violated": [],
                 "budget_warned": [], "budget_exceeded": [], "followed": [older["job_id"]],
                 "pending": [], "cancel_times": [], "ledger": [older], "rates": []}
        state_text = json.dumps(state)
        ledger_text = json.dumps(entry) + "\n" + json.dumps(dict(entry, pu=99)) + "\n"
        with open(os.path.join(ws.state, "state.json"), "w") as f:
            f.write(state_text)
        with open(os.path.join(ws.state, "ledger.jsonl"), "w") as f:
            f.write(ledger_text)

        # `plan` reads them as they are: no state.db, nothing renamed.
        ws.run("plan", "-c", ws.config)
        self.assertFalse(os.path.exists(ws.db_path))
        self.assertTrue(os.path.exists(os.path.join(ws.state, "state.json")))

        ws.once()
        self.assertFalse(os.path.exists(os.path.join(ws.state, "state.json")))
        self.assertFalse(os.path.exists(os.path.join(ws.state, "ledger.jsonl")))
        with open(os.path.join(ws.state, "state.json.imported")) as f:
            self.assertEqual(f.read(), state_text)
        with open(os.path.join(ws.state, "ledger.jsonl.imported")) as f:
            self.assertEqual(f.read(), ledger_text)
        ledger = self.ledger(ws)
        # The imported sighting is the one counted: not the repeat, not the listing's.
        self.assertEqual(ledger[ids[0]]["pu"], 7.5)
        self.assertEqual(ledger[older["job_id"]]["pu"], 2.25)
        self.assertEqual(set(ledger), {older["job_id"], *ids})
        self.assertEqual(ws.read_state_db()["meta"].get("legacy_imported"), "1")
        ws.once()
        self.assertEqual(self.ledger(ws), ledger)

    def test_a_database_of_a_newer_version_is_refused_with_exit_78(self):
        ws = self.workspace()
        os.makedirs(ws.state, exist_ok=True)
        con = sqlite3.connect(ws.db_path)
        con.execute("PRAGMA user_version = 99")
        con.close()
        with open(ws.db_path, "rb") as f:
            before = f.read()
        proc = ws.once(check=False)
        self.assertEqual(proc.returncode, 78, proc.stderr)
        self.assertIn("written by a newer rc-watchdog", proc.stderr)
        self.assertIn(ws.db_path, proc.stderr)
        with open(ws.db_path, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.sim.requests(), [])

    def test_a_corrupt_database_is_refused_with_exit_1_and_left_alone(self):
        ws = self.workspace()
        os.makedirs(ws.state, exist_ok=True)
        junk = random.Random(3).randbytes(16384)
        with open(ws.db_path, "wb") as f:
            f.write(junk)
        proc = ws.once(check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(ws.db_path, proc.stderr)
        self.assertIn("not a database", proc.stderr)
        with open(ws.db_path, "rb") as f:
            self.assertEqual(f.read(), junk)
        self.assertEqual(self.sim.requests(), [])


if __name__ == "__main__":
    main()
