"""Cancellation outcomes under API faults, and crash recovery (issue: core)."""
import os
import signal
import time
import unittest

from rcw_e2e import ITWIN_A, ITWIN_B, Sim, Workspace, job, main, wait_for

H = 3600
POLICIES = [{"name": "runtime-2h", "limits": {"max_runtime": "2h"}}]


def runaway():
    return job(name="runaway", created_ago=3 * H, queue_seconds=60, run_seconds=10 * H)


def compliant(n):
    return [job(name="ok%d" % i, created_ago=60) for i in range(n)]


class Faults(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.ws = Workspace(self.sim, policies=POLICIES)
        self.addCleanup(self.ws.close)

    def result(self, job_id):
        results = [e for e in self.ws.events("cancel_result") if e["job_id"] == job_id]
        return results[-1] if results else None

    def test_429_storm_is_waited_out(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "ratelimit", "retry_after": 1,
                          "count": 2}])
        self.ws.once()
        self.assertEqual(self.result(target)["outcome"], "cancelled")
        requests = self.sim.requests()
        self.assertEqual([r for r in requests if r.get("early")], [])
        self.assertEqual(len([r for r in requests if r["method"] == "DELETE"]), 3)

    def test_rate_limit_tighter_than_a_listing_still_reaches_every_itwin(self):
        # The API admits 6 requests per 4 s; a whole listing takes 13 (4 pages in each of
        # two iTwins of compliant jobs, the runaway's page in the third, and the token). A
        # poll cut short by the 429 must be resumed where it stopped by the next one: polls
        # that start over at the first iTwin never list the last, and its runaway runs on.
        itwin_c = "7d3c2b1a-0f9e-4d8c-b7a6-5e4f3d2c1b0a"
        jobs = ([job(name="a%d" % i, itwin=ITWIN_A, created_ago=60) for i in range(4)] +
                [job(name="b%d" % i, itwin=ITWIN_B, created_ago=60) for i in range(4)] +
                [job(name="runaway", itwin=itwin_c, created_ago=3 * H, queue_seconds=60,
                     run_seconds=10 * H)])
        target = self.sim.add_jobs(jobs)[-1]
        self.sim.control("POST", "config", {"rate_limit": 6, "rate_window": 4})
        ws = Workspace(self.sim, policies=POLICIES,
                       watch={"itwins": [ITWIN_A, ITWIN_B, itwin_c], "page_size": 1,
                              "poll_interval": "5s"})
        self.addCleanup(ws.close)
        proc = ws.spawn()
        try:
            wait_for(lambda: self.sim.deletes(), timeout=60, what="the runaway's DELETE")
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(15), 0)
        requests = self.sim.requests()
        self.assertEqual([r["job_id"] for r in requests if r["method"] == "DELETE"], [target])
        self.assertTrue(any(r["status"] == 429 for r in requests))  # the limit did bite
        self.assertEqual([r["seq"] for r in requests if r.get("early")], [])

    def test_once_repolls_when_a_retry_would_go_out_on_stale_data(self):
        # The DELETE gets a 429 with retry-after 3 s, past the 2 s poll interval: the
        # retry may not go out on the first listing's data. --once lists again when the
        # retry comes due, sends it on the fresh data, and exits 0 with the job cancelled.
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "ratelimit", "retry_after": 3,
                          "count": 1}])
        ws = Workspace(self.sim, policies=POLICIES, watch={"poll_interval": "2s"})
        self.addCleanup(ws.close)
        proc = ws.once(check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        results = [e["outcome"] for e in ws.events("cancel_result") if e["job_id"] == target]
        self.assertEqual(results[-1], "cancelled")
        requests = self.sim.requests()
        self.assertGreaterEqual(len([r for r in requests if r["op"] == "list_jobs"]), 2)
        self.assertEqual(len([r for r in requests if r["method"] == "DELETE"]), 2)
        self.assertEqual([r for r in requests if r.get("early")], [])

    def test_once_exits_75_when_work_is_left_at_max_wait(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "ratelimit", "retry_after": 60}])
        proc = self.ws.once("--max-wait", "2s", check=False)
        self.assertEqual(proc.returncode, 75, proc.stderr)
        self.assertIn("1 cancellations without a final outcome", proc.stderr)
        self.assertEqual(len(self.sim.deletes()), 1)
        self.assertEqual(self.result(target)["outcome"], "retry")

    def test_once_exits_75_on_an_incomplete_listing(self):
        self.sim.add_jobs([runaway()] + compliant(3))
        self.sim.faults([{"match": {"op": "list_jobs"}, "kind": "status", "status": 500}])
        proc = self.ws.once(check=False)
        self.assertEqual(proc.returncode, 75, proc.stderr)
        self.assertIn("last poll incomplete", proc.stderr)
        self.assertEqual(self.sim.deletes(), [])

    def test_listing_longer_than_the_request_ceiling_completes(self):
        # api.max_requests_per_minute 20 (18 of them for listing) and one iTwin of 21
        # pages: the token and 17 pages fit in the first minute. The listing waits for the
        # client-side gate and goes on with the next page, instead of starting over at
        # page 1 on every poll and never seeing the runaway on the last page. The API
        # (20 a minute) refuses nothing. Takes a minute of real time.
        jobs = [job(name="ok%d" % i, created_ago=60 + i) for i in range(20)] + [runaway()]
        target = self.sim.add_jobs(jobs)[-1]  # the oldest: listed last
        self.sim.control("POST", "config", {"rate_limit": 20, "rate_window": 60})
        ws = Workspace(self.sim, policies=POLICIES, watch={"page_size": 1})
        ws.doc["api"]["max_requests_per_minute"] = 20
        ws.write_config()
        self.addCleanup(ws.close)
        ws.once(timeout=300)
        requests = self.sim.requests()
        self.assertEqual([r["status"] for r in requests if r["status"] == 429], [])
        self.assertEqual(len([r for r in requests if r["op"] == "list_jobs"]), 21)
        self.assertEqual([r["job_id"] for r in requests if r["method"] == "DELETE"], [target])
        cancelled = [e for e in ws.events("cancel_result") if e["job_id"] == target]
        self.assertEqual(cancelled[-1]["outcome"], "cancelled")

    def test_sigterm_during_a_paced_listing_stops_at_once(self):
        # The listing waits for the client-side gate after 17 pages; SIGTERM ends that
        # wait, and the daemon, at once (not after the ~45 s the wait had left).
        self.sim.add_jobs([job(name="ok%d" % i, created_ago=60 + i) for i in range(21)])
        ws = Workspace(self.sim, policies=POLICIES, watch={"page_size": 1})
        ws.doc["api"]["max_requests_per_minute"] = 20
        ws.write_config()
        self.addCleanup(ws.close)
        proc = ws.spawn()
        try:
            wait_for(lambda: len([r for r in self.sim.requests() if r["op"] == "list_jobs"]) >= 17,
                     timeout=30, what="17 pages listed")
        finally:
            proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        self.assertEqual(proc.wait(30), 0)
        self.assertLess(time.monotonic() - start, 10, ws.log())
        self.assertEqual(len(ws.events("stopped")), 1)
        self.assertIn("interrupted", ws.log())  # it was waiting, not between requests

    def test_saving_job_is_not_cancellable_and_not_retried(self):
        # Ran 3h of a 3h0m20s run: it is saving its output (save_seconds 30).
        target = self.sim.add_jobs([job(name="saving", created_ago=3 * H + 70, queue_seconds=60,
                                        run_seconds=3 * H + 20)] + compliant(3))[0]
        self.ws.once()
        self.assertEqual(self.result(target)["outcome"], "not_cancellable")
        self.assertEqual(self.result(target)["http_status"], 422)
        self.assertEqual(len(self.sim.deletes()), 1)

    def test_unknown_job_is_not_found(self):
        proc = self.ws.run("cancel", "-c", self.ws.config,
                           "00000000-0000-4000-8000-000000000000", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not_found: 1", proc.stdout)
        self.assertEqual(self.ws.events("cancel_result")[-1]["outcome"], "not_found")

    def test_manual_cancel_describes_the_job_it_cancelled(self):
        # `rc-watchdog cancel` knows only the id; the job the DELETE answers
        # with names its iTwin, type, name and user on the audit lines after it.
        target = self.sim.add_jobs([job(name="by-hand", created_ago=600, queue_seconds=60,
                                        run_seconds=10 * H)] + compliant(2))[0]
        proc = self.ws.run("cancel", "-c", self.ws.config, target.upper(), check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("cancelled: 1", proc.stdout)
        self.assertEqual(len(self.sim.deletes()), 1)
        line = self.result(target.lower())
        self.assertEqual(line["outcome"], "cancelled")
        self.assertEqual(line["policy"], "manual")
        self.assertEqual(line["name"], "by-hand")
        self.assertEqual(line["itwin_id"], ITWIN_A.lower())
        self.assertEqual(line["type"], "PointCloudConversion")
        self.assertTrue(line["user_id"])

    def test_5xx_is_retried_with_backoff(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "status", "status": 503,
                          "count": 1}])
        self.ws.once()
        results = [e["outcome"] for e in self.ws.events("cancel_result") if e["job_id"] == target]
        self.assertEqual(results, ["retry", "cancelled"])

    def test_5xx_until_max_attempts_fails(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "status", "status": 500}])
        self.ws.once()
        self.assertEqual(self.result(target)["outcome"], "failed")
        self.assertEqual(len(self.sim.deletes()), 3)  # retry.max_attempts

    def test_expired_token_is_renewed_once(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "status", "status": 401,
                          "count": 1, "body": '{"error":{"code":"Unauthorized","message":"x"}}'}])
        self.ws.once()
        self.assertEqual(self.result(target)["outcome"], "cancelled")
        tokens = [r for r in self.sim.requests() if r["op"] == "token"]
        self.assertEqual(len(tokens), 2)

    def test_unparseable_listing_cancels_nothing(self):
        self.sim.add_jobs([runaway()] + compliant(3))
        self.sim.faults([{"match": {"op": "list_jobs"}, "kind": "malformed"}])
        proc = self.ws.once(check=False)
        self.assertEqual(proc.returncode, 75)  # the listing was incomplete
        self.assertEqual(self.sim.deletes(), [])

    def test_kill_9_during_a_cancellation_then_restart_finishes_once(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "hang", "hang_seconds": 30,
                          "count": 1}])
        proc = self.ws.start()
        try:
            wait_for(lambda: self.sim.deletes(), what="the first DELETE")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
        self.sim.control("DELETE", "faults")
        self.ws.once()
        self.sim.advance(60)
        self.ws.once()
        self.ws.once()
        confirmed = [e for e in self.ws.events("cancel_confirmed") if e["job_id"] == target]
        self.assertEqual(len(confirmed), 1)
        self.assertEqual(self.sim.jobs()[target]["state"], "Cancelled")
        requested = [e for e in self.ws.events("cancel_requested") if e["job_id"] == target]
        self.assertEqual(len(requested), len(self.sim.deletes()))


if __name__ == "__main__":
    main()
