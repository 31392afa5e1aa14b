"""Enforcement against the simulator with the real binary (issue: core)."""
import datetime
import unittest

import signal

from rcw_e2e import ITWIN_A, ITWIN_B, Sim, Workspace, job, main, wait_for

H = 3600
POLICIES = [
    {"name": "pointclouds-2h", "match": {"types": ["PointCloudConversion"]},
     "exempt": {"name_regex": "-keep$"}, "limits": {"max_runtime": "2h"}},
    {"name": "queued-30m", "limits": {"max_queued": "30m"}},
]


def workload(sim):
    """Two violators among compliant, exempt, ended and unwatched jobs."""
    ids = sim.add_jobs([
        job(name="runaway", created_ago=3 * H + 300, queue_seconds=300, run_seconds=10 * H),
        job(name="healthy", created_ago=H, queue_seconds=60, run_seconds=10 * H),
        job(name="stuck-queue", type="MeshSampling", created_ago=2700, queue_seconds=5 * H,
            run_seconds=H),
        job(name="fresh-queue", type="MeshSampling", created_ago=600, queue_seconds=5 * H,
            run_seconds=H),
        job(name="big-keep", created_ago=4 * H, queue_seconds=60, run_seconds=10 * H),
        job(name="done", created_ago=5 * H, queue_seconds=60, run_seconds=H),
        job(name="other-itwin", itwin=ITWIN_B, created_ago=5 * H, queue_seconds=60,
            run_seconds=10 * H),
    ])
    return dict(zip(["runaway", "healthy", "stuck", "fresh", "keep", "done", "other"], ids))


class Enforcement(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)

    def workspace(self, **kw):
        ws = Workspace(self.sim, policies=kw.pop("policies", POLICIES), **kw)
        self.addCleanup(ws.close)
        return ws

    def test_exactly_the_violators_are_cancelled(self):
        ids = workload(self.sim)
        ws = self.workspace()
        proc = ws.once()
        deleted = sorted(r["job_id"] for r in self.sim.deletes())
        # The journal tells the same story at log level info/warn.
        self.assertIn("violation job=%s" % ids["runaway"], proc.stderr)
        self.assertIn("cancel_result job=%s" % ids["runaway"], proc.stderr)
        self.assertEqual(deleted, sorted([ids["runaway"], ids["stuck"]]))
        results = {e["job_id"]: e for e in ws.events("cancel_result")}
        self.assertEqual(results[ids["runaway"]]["outcome"], "cancelled")
        self.assertEqual(results[ids["runaway"]]["policy"], "pointclouds-2h")
        self.assertEqual(results[ids["runaway"]]["limit"], "max_runtime")
        self.assertEqual(results[ids["stuck"]]["policy"], "queued-30m")
        self.assertEqual(results[ids["stuck"]]["limit"], "max_queued")
        violations = {e["job_id"]: e for e in ws.events("violation")}
        self.assertIn(ids["keep"], violations)  # exempt: recorded, never cancelled
        self.assertIs(violations[ids["keep"]].get("exempt"), True)
        self.assertNotIn("exempt", violations[ids["runaway"]])
        # The cancellations are followed until the jobs are Cancelled.
        self.sim.advance(60)
        ws.once()
        confirmed = sorted(e["job_id"] for e in ws.events("cancel_confirmed"))
        self.assertEqual(confirmed, sorted([ids["runaway"], ids["stuck"]]))
        self.assertEqual(len(self.sim.deletes()), 2)
        states = self.sim.jobs()
        self.assertEqual(states[ids["runaway"]]["state"], "Cancelled")
        self.assertEqual(states[ids["healthy"]]["state"], "Active")

    def test_an_api_clock_months_behind_the_host_is_listed_in_its_own_time(self):
        # The first listing's window comes from the host clock; the first answer's Date
        # header moves "now" back by months, so the daemon lists again, once, in API time,
        # and judges the jobs in API time.
        self.sim.close()
        self.sim = Sim("--start", "2026-06-01T00:00:00Z")
        self.addCleanup(self.sim.close)
        ids = workload(self.sim)
        ws = self.workspace()
        proc = ws.once()
        self.assertIn("listing again with the corrected time", proc.stderr)
        lists = [r for r in self.sim.requests() if r["op"] == "list_jobs"]
        self.assertEqual(len(lists), 2)
        self.assertIn("2026-05-", lists[1]["query"]["$filter"])  # lookback 7d before June 1
        deleted = sorted(r["job_id"] for r in self.sim.deletes())
        self.assertEqual(deleted, sorted([ids["runaway"], ids["stuck"]]))

    def test_jobs_are_judged_as_of_the_listings_start(self):
        # Page 1 shows "ending" Active 20 s under pointclouds-2h; page 2 is trickled, and
        # meanwhile the API's clock moves on by 50 s, in which "ending" finishes; page 3's
        # Date header carries them (under a minute: no second listing). Judged at the
        # listing's end, "ending" would be over its limit and a DELETE would reach a job
        # that has ended.
        ids = self.sim.add_jobs([
            job(name="ending", created_ago=2 * H, queue_seconds=20, run_seconds=2 * H - 20 + 10),
            job(name="mesh-1", type="MeshSampling", created_ago=3 * H, queue_seconds=60,
                run_seconds=10 * H),
            job(name="mesh-2", type="MeshSampling", created_ago=4 * H, queue_seconds=60,
                run_seconds=10 * H),
        ])
        self.sim.faults([{"match": {"op": "list_jobs"}, "after": 1, "count": 1, "kind": "slow",
                          "bytes_per_second": 400}])
        ws = self.workspace(watch={"page_size": 1})
        proc = ws.start("--once")
        self.addCleanup(proc.kill)
        wait_for(lambda: any(r["op"] == "list_jobs" for r in self.sim.requests()),
                 what="the first page")
        self.sim.advance(50)  # while page 2 trickles
        proc.communicate(timeout=60)
        lists = [r for r in self.sim.requests() if r["op"] == "list_jobs"]
        self.assertEqual(len(lists), 3)
        first, last = (datetime.datetime.fromisoformat(r["sim_ts"].replace("Z", "+00:00"))
                       for r in (lists[0], lists[2]))
        self.assertGreaterEqual((last - first).total_seconds(), 50)
        self.assertEqual(self.sim.deletes(), [])
        self.assertNotIn(ids[0], {e["job_id"] for e in ws.events("violation")})

    def test_dry_run_sends_no_delete_and_audits_what_it_would_do(self):
        ids = workload(self.sim)
        ws = self.workspace()
        ws.once("--dry-run")
        self.assertEqual(self.sim.deletes(), [])
        results = [e for e in ws.events("cancel_result") if e.get("dry_run")]
        self.assertEqual(sorted(e["job_id"] for e in results),
                         sorted([ids["runaway"], ids["stuck"]]))
        self.assertTrue(all(e["outcome"] == "dry_run" for e in results))
        # A second cycle does not repeat the lines.
        ws.once("--dry-run")
        self.assertEqual(len(ws.events("cancel_result")), 2)

    def test_report_action_never_cancels(self):
        workload(self.sim)
        report = [dict(p, action="report") for p in POLICIES]
        ws = self.workspace(policies=report)
        ws.once()
        self.assertEqual(self.sim.deletes(), [])
        self.assertEqual(len([e for e in ws.events("cancel_result")
                              if e["outcome"] == "dry_run"]), 2)

    def test_max_cancels_per_cycle_takes_the_worst_first(self):
        ids = self.sim.add_jobs([
            job(name="a", created_ago=3 * H, queue_seconds=60, run_seconds=10 * H),
            job(name="b", created_ago=6 * H, queue_seconds=60, run_seconds=10 * H),
            job(name="c", created_ago=60, queue_seconds=60, run_seconds=10 * H),
            job(name="d", created_ago=60, queue_seconds=60, run_seconds=10 * H),
        ])
        ws = self.workspace(enforcement={"max_cancels_per_cycle": 1})
        proc = ws.once(check=False)
        # The one held back still runs: work left for the next run.
        self.assertEqual(proc.returncode, 75, proc.stderr)
        self.assertIn("1 violators held back by the safety limits (max_per_cycle 1)", proc.stderr)
        self.assertEqual([r["job_id"] for r in self.sim.deletes()], [ids[1]])
        blocked = ws.events("cancel_blocked")
        self.assertEqual([(e["job_id"], e["outcome"]) for e in blocked],
                         [(ids[0], "max_per_cycle")])

    def test_max_cancels_per_hour(self):
        self.sim.add_jobs([job(name=str(i), created_ago=3 * H + i, queue_seconds=60,
                               run_seconds=10 * H) for i in range(3)] +
                          [job(name="ok%d" % i, created_ago=60) for i in range(5)])
        ws = self.workspace(enforcement={"max_cancels_per_hour": 2})
        self.assertEqual(ws.once(check=False).returncode, 75)
        self.assertEqual(len(self.sim.deletes()), 2)
        proc = ws.once(check=False)
        self.assertEqual(proc.returncode, 75, proc.stderr)
        self.assertIn("(max_per_hour 1)", proc.stderr)
        self.assertEqual(len(self.sim.deletes()), 2)
        self.assertTrue(any(e["outcome"] == "max_per_hour" for e in ws.events("cancel_blocked")))

    def test_circuit_breaker_cancels_none(self):
        self.sim.add_jobs([job(name=str(i), created_ago=3 * H, queue_seconds=60,
                               run_seconds=10 * H) for i in range(3)] +
                          [job(name="ok", created_ago=60)])
        ws = self.workspace()
        proc = ws.once(check=False)
        self.assertEqual(proc.returncode, 75, proc.stderr)
        self.assertIn("(circuit_breaker 3)", proc.stderr)
        self.assertEqual(self.sim.deletes(), [])
        blocked = ws.events("cancel_blocked")
        self.assertEqual(len(blocked), 3)
        self.assertTrue(all(e["outcome"] == "circuit_breaker" for e in blocked))

    def test_a_lone_runaway_is_cancelled_with_the_default_enforcement(self):
        # The commonest case there is: one job over its limit and every other job of the
        # listing ended. "1 of 1" must not trip the circuit breaker.
        ids = self.sim.add_jobs([job(name="runaway", created_ago=3 * H, queue_seconds=60,
                                     run_seconds=10 * H)] +
                                [job(name="done%d" % i, created_ago=5 * H, queue_seconds=60,
                                     run_seconds=H) for i in range(3)])
        ws = self.workspace(policies=[{"name": "runtime-2h", "limits": {"max_runtime": "2h"}}])
        ws.once()
        self.assertEqual([r["job_id"] for r in self.sim.deletes()], [ids[0]])
        self.assertEqual(ws.events("cancel_blocked"), [])

    def test_two_runaways_of_three_running_jobs_are_cancelled(self):
        ids = self.sim.add_jobs([job(name="r%d" % i, created_ago=3 * H + i, queue_seconds=60,
                                     run_seconds=10 * H) for i in range(2)] +
                                [job(name="ok", created_ago=60)])
        ws = self.workspace(policies=[{"name": "runtime-2h", "limits": {"max_runtime": "2h"}}])
        ws.once()
        self.assertEqual(sorted(r["job_id"] for r in self.sim.deletes()), sorted(ids[:2]))

    def test_a_policy_that_would_cancel_most_of_twenty_running_jobs_trips_the_breaker(self):
        self.sim.add_jobs([job(name="r%d" % i, created_ago=3 * H + i, queue_seconds=60,
                               run_seconds=10 * H) for i in range(15)] +
                          [job(name="ok%d" % i, created_ago=60) for i in range(5)])
        ws = self.workspace(policies=[{"name": "runtime-2h", "limits": {"max_runtime": "2h"}}])
        self.assertEqual(ws.once(check=False).returncode, 75)
        self.assertEqual(self.sim.deletes(), [])
        blocked = ws.events("cancel_blocked")
        self.assertEqual(len(blocked), 15)
        self.assertIn("15 of 20", blocked[-1]["message"])
        self.assertIn("circuit_breaker_min_jobs 3", blocked[-1]["message"])

    def deadline_jobs(self):
        # "almost" is 8 s short of 2 h at the first poll; the next poll is 10 minutes away.
        return self.sim.add_jobs([job(name="almost", created_ago=2 * H - 8 + 60, queue_seconds=60,
                                      run_seconds=10 * H),
                                  job(name="worst", created_ago=3 * H, queue_seconds=60,
                                      run_seconds=10 * H),
                                  job(name="held", created_ago=2 * H + 1800, queue_seconds=60,
                                      run_seconds=10 * H)] +
                                 [job(name="ok%d" % i, created_ago=60) for i in range(4)])

    def test_a_limit_crossed_between_polls_is_enforced_at_the_deadline(self):
        ids = self.deadline_jobs()
        ws = self.workspace(watch={"poll_interval": "10m"})
        proc = ws.spawn()
        try:
            wait_for(lambda: len(self.sim.deletes()) >= 3, timeout=30,
                     what="the DELETE at the deadline")
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(15), 0)
        requests = self.sim.requests()
        deletes = [r for r in requests if r["method"] == "DELETE"]
        self.assertEqual(sorted(r["job_id"] for r in deletes[:2]), sorted([ids[1], ids[2]]))
        self.assertEqual(deletes[2]["job_id"], ids[0])
        self.assertEqual(len([r for r in requests if r["op"] == "list_jobs"]), 1)
        gets = [r for r in requests if r["op"] == "get_job"]
        self.assertEqual([r["job_id"] for r in gets], [ids[0]])  # re-read before the DELETE
        self.assertLess(requests.index(gets[0]), requests.index(deletes[2]))
        violation = [e for e in ws.events("violation") if e["job_id"] == ids[0]][0]
        self.assertGreater(violation["observed"], 7200)

    def test_a_deadline_recheck_shares_the_polls_max_cancels_per_cycle(self):
        # One cancellation per cycle: the poll spends it on "worst" and holds "held" back;
        # "almost", crossing before the next poll, is held back too (a re-check used to get a
        # fresh quota of its own), and "held" is neither re-read nor cancelled.
        ids = self.deadline_jobs()
        ws = self.workspace(watch={"poll_interval": "10m"},
                            enforcement={"max_cancels_per_cycle": 1})
        proc = ws.spawn()
        try:
            wait_for(lambda: any(e["job_id"] == ids[0] for e in ws.events("cancel_blocked")),
                     timeout=30, what="the re-check holding the crossing job back")
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(15), 0)
        requests = self.sim.requests()
        self.assertEqual([r["job_id"] for r in requests if r["method"] == "DELETE"], [ids[1]])
        self.assertEqual([r["job_id"] for r in requests if r["op"] == "get_job"], [ids[0]])
        blocked = {e["job_id"]: e["outcome"] for e in ws.events("cancel_blocked")}
        self.assertEqual(blocked, {ids[2]: "max_per_cycle", ids[0]: "max_per_cycle"})


if __name__ == "__main__":
    main()
