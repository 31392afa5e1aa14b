#!/usr/bin/env python3
"""Tests of the chaos test's checker (checker.py) on made-up logs: it must accept what a
correct daemon may send and name what it may not. Run: python3 tests/chaos/test_checker.py"""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checker  # noqa: E402

H = 3600.0
T = 1780000000.0  # sim time of the DELETEs below (2026-05-28T20:26:40Z)
ITWIN, OTHER = "ce54f773-67db-4b4f-a98b-368329107429", "0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11"
JOB = "5e315451-564e-4e8b-a952-45b14e6a9c90"
USER = "3a8670f9-b69f-4a60-b958-f103d580755f"
REAL = 1000.0  # real time of the DELETEs; the sim clock runs 100x: sim = T + (real - REAL) * 100


def doc(**kw):
    d = {"watch": {"itwins": [ITWIN]}, "enforcement": {"dry_run": False},
         "policies": [{"name": "queued-3h", "limits": {"max_queued": "3h"}}], "budgets": []}
    for key, value in kw.items():
        if key == "dry_run":
            d["enforcement"]["dry_run"] = value
        elif key == "itwins":
            d["watch"]["itwins"] = value
        else:
            d[key] = value
    return d


def version(n, d, written=None, confirmed=None, outcome="loaded"):
    return {"version": n, "doc": d, "written": written, "confirmed": confirmed,
            "outcome": outcome, "mutations": ["change %d" % n]}


def spec(queue=4 * H, run=H, created=T - 3.5 * H):
    return {"id": JOB, "type": "MeshSampling", "itwin_id": ITWIN, "user_id": USER,
            "name": "j", "created": "-", "created_epoch": created, "queue_seconds": queue,
            "run_seconds": run}


def delete(seq=1, real=REAL, sim=T, status=200, job_id=JOB, s=None, cancelled_at=None):
    s = s or spec()
    created = s["created_epoch"]
    start = None if s["queue_seconds"] is None else created + s["queue_seconds"]
    started = start if start is not None and start <= sim and \
        (cancelled_at is None or start <= cancelled_at) else None
    state = "Active" if started is not None else "Queued"
    if cancelled_at is not None:
        state = "TerminatingOnCancel"
    return {"seq": seq, "op": "cancel_job", "job_id": job_id, "real_ts": real, "sim_epoch": sim,
            "status": status, "fault": None, "duration_ms": 1.0,
            "job": {"id": JOB, "state": state, "created": created, "started": started,
                    "ended": None, "cancelled_at": cancelled_at, "saving": False,
                    "itwin_id": s["itwin_id"], "user_id": USER, "name": s["name"],
                    "type": s["type"]}}


def clock():
    """(real, sim) samples every 0.5 s of real time."""
    return [(REAL + k / 2, T + k * 50) for k in range(-40, 10)]


def check(versions, deletes, s=None, sim_jobs=(), poll=2):
    c = checker.Checker(versions, deletes, [s or spec()], list(sim_jobs), clock(), poll)
    return c, c.run()


class PolicyTests(unittest.TestCase):
    def test_a_crossed_limit_justifies(self):
        _, (r,) = check([version(0, doc())], [delete()])
        self.assertTrue(r["ok"], r)
        self.assertIn("max_queued 3h00m", r["by"])

    def test_a_limit_not_yet_crossed(self):
        s = spec(created=T - 2.9 * H)
        _, (r,) = check([version(0, doc())], [delete(s=s)], s)
        self.assertFalse(r["ok"])
        self.assertEqual(r["cause"], "no_limit_crossed")
        s = spec(created=T - 3 * H + 2)  # within the daemon's clock slack: accepted
        _, (r,) = check([version(0, doc())], [delete(s=s)], s)
        self.assertTrue(r["ok"], r)

    def test_data_age(self):
        # Started 10 real seconds (1000 sim seconds) before the DELETE: the daemon cannot
        # have seen it Queued within one poll interval (2 s) + slack (2 s).
        s = spec(queue=3.5 * H - 1000)
        _, (r,) = check([version(0, doc())], [delete(s=s)], s)
        self.assertFalse(r["ok"])
        self.assertIn("no limit crossed", " ".join(r["why"][0]))
        # Started 3 real seconds before: it was Queued in data the daemon may still use.
        s = spec(queue=3.5 * H - 300)
        _, (r,) = check([version(0, doc())], [delete(s=s)], s)
        self.assertTrue(r["ok"], r)

    def test_runtime_limit_and_a_cancelled_job(self):
        d = doc(policies=[{"name": "rt", "limits": {"max_runtime": "1h"}, "grace": "30m"}])
        s = spec(queue=0, run=None, created=T - 2 * H)
        _, (r,) = check([version(0, d)], [delete(s=s)], s)
        self.assertTrue(r["ok"], r)
        # A repeat long after the job was cancelled: no Active record in the window.
        _, (r,) = check([version(0, d)], [delete(s=s, cancelled_at=T - 1000)], s)
        self.assertFalse(r["ok"])
        _, (r,) = check([version(0, d)], [delete(s=s, cancelled_at=T - 100)], s)
        self.assertTrue(r["ok"], r)

    def test_exempt_ids_in_any_case(self):
        d = doc(policies=[{"name": "queued-3h", "limits": {"max_queued": "3h"},
                           "exempt": {"ids": [JOB.upper()]}}])
        _, (r,) = check([version(0, d)], [delete()])
        self.assertFalse(r["ok"])
        self.assertEqual(r["cause"], "exempt_id_case")  # served in lower case
        self.assertIn("exempt.ids lists it as " + JOB.upper(), " ".join(r["why"][0]))
        _, (r,) = check([version(0, d)], [delete(job_id=JOB.upper())])
        self.assertEqual(r["cause"], "exempt_id")

    def test_match_and_report(self):
        d = doc(policies=[{"name": "p", "match": {"itwins": [ITWIN.upper()], "users": [USER]},
                           "limits": {"max_queued": "3h"}}])
        self.assertTrue(check([version(0, d)], [delete()])[1][0]["ok"])
        d["policies"][0]["match"]["types"] = ["PointCloudConversion"]
        self.assertFalse(check([version(0, d)], [delete()])[1][0]["ok"])
        d = doc(policies=[{"name": "p", "limits": {"max_queued": "3h"}, "action": "report"}])
        _, (r,) = check([version(0, d)], [delete()])
        self.assertEqual((r["ok"], r["cause"]), (False, "report_policy"))

    def test_dry_run_and_unwatched_itwin(self):
        _, (r,) = check([version(0, doc(dry_run=True))], [delete()])
        self.assertEqual((r["ok"], r["cause"]), (False, "dry_run"))
        _, (r,) = check([version(0, doc(itwins=[OTHER]))], [delete()])
        self.assertEqual((r["ok"], r["cause"]), (False, "unwatched_itwin"))
        _, (r,) = check([version(0, doc(itwins=[OTHER, ITWIN.upper()]))], [delete()])
        self.assertTrue(r["ok"], r)


class ReloadWindowTests(unittest.TestCase):
    def versions(self):
        return [version(0, doc()), version(1, doc(dry_run=True), written=REAL - 0.5,
                                             confirmed=REAL + 0.5)]

    def test_either_config_inside_the_window(self):
        _, (r,) = check(self.versions(), [delete(real=REAL)])
        self.assertEqual((r["ok"], r["version"], r["versions"]), (True, 0, [0, 1]))

    def test_old_config_before_the_write(self):
        _, (r,) = check(self.versions(), [delete(real=REAL - 0.6)])
        self.assertEqual((r["ok"], r["versions"]), (True, [0]))

    def test_new_config_after_the_confirmation(self):
        c, (r,) = check(self.versions(), [delete(real=REAL + 0.6, sim=T + 60)])
        self.assertEqual((r["ok"], r["versions"], r["cause"]), (False, [1], "dry_run"))
        text = "\n".join(checker.describe({v.number: v for v in c.versions}, r))
        self.assertIn("DELETE seq 1 of job " + JOB, text)
        self.assertIn("v1 (written 999.500, confirmed 1000.500; change 1): "
                      "enforcement.dry_run is true", text)

    def test_rejected_config_never_in_force(self):
        vs = [version(0, doc()), version(1, doc(dry_run=True), REAL - 5, REAL - 4, "rejected")]
        self.assertTrue(check(vs, [delete()])[1][0]["ok"])

    def test_deleted_policy_is_a_stale_config(self):
        vs = [version(0, doc()), version(1, doc(policies=[]), REAL - 5, REAL - 4)]
        _, (r,) = check(vs, [delete()])
        self.assertEqual((r["ok"], r["cause"]), (False, "stale_config"))


class BudgetTests(unittest.TestCase):
    BUDGET = {"name": "b", "group_by": "itwin", "match": {"types": ["MeshSampling"]},
              "window": "daily", "limit": 10, "action": "cancel_queued"}

    def ended(self, pu, ended, itwin=ITWIN, job_type="MeshSampling"):
        return {"id": "x", "iTwinId": itwin.upper(), "userId": USER, "type": job_type,
                "name": "e", "executionInfo": {"endedDateTime": checker.iso(ended),
                                               "processingUnits": pu}}

    def test_spent_budget_justifies_a_queued_job(self):
        d = doc(policies=[], budgets=[self.BUDGET])
        s = spec(created=T - 600)
        done = [self.ended(6, T - 3600), self.ended(4, T - 60)]
        _, (r,) = check([version(0, d)], [delete(s=s)], s, done)
        self.assertTrue(r["ok"], r)
        self.assertIn("budget b: 10.00 >= 10 PU", r["by"])

    def test_unspent_budget(self):
        d = doc(policies=[], budgets=[self.BUDGET])
        s = spec(created=T - 600)
        done = [self.ended(6, T - 3600), self.ended(4, T + 3600), self.ended(9, T, OTHER),
                self.ended(9, T, job_type="VectorOptimization")]
        _, (r,) = check([version(0, d)], [delete(s=s)], s, done)
        self.assertEqual((r["ok"], r["cause"]), (False, "budget_not_spent"))
        self.assertIn("at most 6.00 PU spent", " ".join(r["why"][0]))

    def test_window_starts_at_midnight(self):
        d = doc(policies=[], budgets=[self.BUDGET])
        midnight = checker.window_start("daily", T)
        s = spec(created=T - 600)
        done = [self.ended(10, midnight - 1)]
        self.assertFalse(check([version(0, d)], [delete(s=s)], s, done)[1][0]["ok"])


class DoubleSendTests(unittest.TestCase):
    def test_a_second_delete_right_after_an_accepted_one(self):
        ds = [delete(1, real=REAL), delete(2, real=REAL + 0.01, job_id=JOB.upper()),
              delete(3, real=REAL + 5, status=503), delete(4, real=REAL + 5.5)]
        c, _ = check([version(0, doc())], ds)
        self.assertEqual([(a["seq"], b["seq"]) for a, b in c.double_sends()], [(1, 2)])


class HelperTests(unittest.TestCase):
    def test_durations_and_times(self):
        self.assertEqual(checker.seconds("1h30m"), 5400)
        self.assertEqual(checker.seconds("2d"), 172800)
        with self.assertRaises(ValueError):
            checker.seconds("2 hours")
        self.assertEqual(checker.parse_time("2026-04-01T09:56:14.5000000+00:00"),
                         checker.parse_time("2026-04-01T09:56:14Z") + 0.5)

    def test_sim_floor_is_a_lower_bound(self):
        c = checker.Checker([version(0, doc())], [], [], [], [(10.0, 500.0), (11.0, 400.0)], 2)
        self.assertEqual(c.sim_floor(9.9), -checker.INF)
        self.assertEqual(c.sim_floor(11.5), 500.0)  # the clock never goes back

    def test_unmodified_inputs(self):
        vs = [version(0, doc())]
        before = copy.deepcopy(vs)
        check(vs, [delete()])
        self.assertEqual(vs, before)


if __name__ == "__main__":
    unittest.main(verbosity=1)
