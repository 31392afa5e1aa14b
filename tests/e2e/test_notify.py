"""Per-job alerts to a real Prometheus Alertmanager (issue 12), with the real
daemon and the simulator. Alertmanager routes on the `team` label (from
notify.owners) to one webhook per team, else to a catch-all, and the webhook
sink (alertmanager.py) records what each receiver got and when.

1. A job past warn_at reaches its owner as RcWatchdogJobNearLimit (with
   cancel_at) before the simulator gets its DELETE; RcWatchdogJobCancelled
   follows, and NearLimit resolves.
2. An exempt job and a job of a `report` policy reach their owners as
   RcWatchdogJobOverLimit; nothing is cancelled.
3. Alertmanager down: the DELETE goes out on time anyway, and the Cancelled
   notice arrives once Alertmanager is back; also after the daemon was
   killed (SIGKILL) meanwhile and started again on the same state.
4. Two Alertmanagers both get every alert.
5. A silence on one job_id stops its messages, not its cancellation.

Jobs run on the simulator's real-time clock; limits are seconds long, polls
1 s, resend_interval 2 s. Skips only when Alertmanager is not installed
(scripts/setup.sh installs it).
"""
import signal
import time
import unittest

import alertmanager as am
from rcw_e2e import ITWIN_A, USER, Sim, Workspace, job, main, metric, scrape, wait_for, \
    wait_for_metrics

OTHER_USER = "7c1e5b1a-8d2f-4e3a-9b6c-0d1e2f3a4b5c"
LIMIT = 30      # seconds: max_runtime of the cancelling policy
WAIT = 60       # seconds: outer bound of every wait (busy machines, sanitizers)
NEAR, CANCELLED, OVER = ("RcWatchdogJobNearLimit", "RcWatchdogJobCancelled",
                         "RcWatchdogJobOverLimit")
OWNERS = [
    {"match": {"users": [USER]}, "labels": {"team": "survey", "owner_email": "ana@example.com"}},
    {"match": {"users": [OTHER_USER]}, "labels": {"team": "mesh"}},
]
CANCEL = {"name": "runtime-30s", "match": {"users": [USER]},
          "exempt": {"name_regex": "-keep$"},
          "limits": {"max_runtime": "%ds" % LIMIT}, "warn_at": 0.5}
REPORT = {"name": "report-only", "match": {"users": [OTHER_USER]},
          "limits": {"max_runtime": "%ds" % LIMIT}, "action": "report"}


def running(name, seconds, user=USER):
    """A job Active for `seconds` now (queued 1 s before), running for hours."""
    return job(name=name, user_id=user, created_ago=seconds + 1, queue_seconds=1,
               run_seconds=10 * 3600)


@unittest.skipUnless(am.available(), "prometheus-alertmanager is not installed "
                                     "(scripts/setup.sh installs it)")
class Notify(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.sink = am.WebhookSink()
        self.addCleanup(self.sink.close)

    def alertmanager(self, prefix=""):
        a = am.Alertmanager(self.sink, teams=["survey", "mesh"], prefix=prefix)
        self.addCleanup(a.close)
        return a.start()

    def workspace(self, ams, policies=(CANCEL, REPORT)):
        ws = Workspace(self.sim, policies=list(policies),
                       # Jobs are added while the daemon runs, with start times in the
                       # past: every listing full, so each poll sees them.
                       watch={"poll_interval": "1s", "full_listing_interval": "1s"})
        self.addCleanup(ws.close)
        ws.doc["notify"] = {
            "alertmanager": {"urls": [a.url for a in ams], "timeout": "2s",
                             "resend_interval": "2s"},
            "external_labels": {"env": "test"},
            "owners": OWNERS,
        }
        ws.write_config()
        return ws

    def daemon(self, ws):
        """The daemon, running; returns (process, metrics port)."""
        proc = ws.spawn()
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait()))
        port = wait_for_metrics(proc, timeout=WAIT, log=ws.log)
        return proc, port

    def deletes(self, job_id):
        return [r for r in self.sim.deletes() if r["job_id"] == job_id]

    def wait_delete(self, job_id, ws):
        return wait_for(lambda: self.deletes(job_id), timeout=WAIT,
                        what="the DELETE of %s\n%s" % (job_id, ws.log()[-3000:]))[0]

    def wait_alert(self, path, name, job_id, status="firing"):
        return self.sink.wait_for_alert(path=path, status=status, alertname=name, job_id=job_id)

    def polls(self):
        return len([r for r in self.sim.requests()
                    if r["op"] == "list_jobs" and "continuationToken" not in r["query"]])

    def wait_polls(self, n=2):
        before = self.polls()
        wait_for(lambda: self.polls() >= before + n, timeout=WAIT, what="%d more polls" % n)

    def notifications_metric(self, port, outcome):
        return metric(scrape(port), "rc_watchdog_notifications_total", {"outcome": outcome}) or 0

    # 1 ------------------------------------------------------------------------------------
    def test_near_limit_reaches_the_owner_before_the_delete_then_cancelled(self):
        a = self.alertmanager()
        ws = self.workspace([a])
        # Past warn_at (15 s of 30 s) at the first poll; crosses the limit ~12 s later.
        jid = self.sim.add_jobs([running("survey-hall-7", LIMIT // 2 + 3)])[0]
        self.daemon(ws)

        near = self.wait_alert("/team/survey", NEAR, jid)
        self.assertEqual(self.deletes(jid), [], "the DELETE went out before the warning")
        labels = near.labels
        for key, value in {"job_name": "survey-hall-7", "itwin_id": ITWIN_A, "user_id": USER,
                           "type": "PointCloudConversion", "policy": "runtime-30s",
                           "limit": "max_runtime", "env": "test", "team": "survey",
                           "owner_email": "ana@example.com"}.items():
            self.assertEqual(labels.get(key), value, "label %s of %s" % (key, labels))
        self.assertTrue(labels.get("severity"), labels)
        for key in ("summary", "description", "observed", "threshold", "cancel_at"):
            self.assertTrue(near.annotations.get(key), "annotation %s of %s" % (
                key, near.annotations))
        started = am.parse_time(self.sim.jobs()[jid]["executionInfo"]["startedDateTime"])
        cancel_at = am.parse_time(near.annotations["cancel_at"])
        self.assertAlmostEqual(cancel_at, started + LIMIT, delta=2.0)

        delete = self.wait_delete(jid, ws)
        self.assertLess(near.received, delete["real_ts"])
        self.assertGreaterEqual(delete["sim_epoch"], cancel_at - 1.0)  # not before it said

        cancelled = self.wait_alert("/team/survey", CANCELLED, jid)
        self.assertGreaterEqual(cancelled.received, delete["real_ts"])
        self.assertEqual(cancelled.labels.get("policy"), "runtime-30s")
        self.assertEqual(cancelled.labels.get("team"), "survey")
        held = a.alerts(alertname=CANCELLED, job_id=jid)
        self.assertEqual([x["status"]["state"] for x in held], ["active"])
        self.assertGreater(am.parse_time(held[0]["endsAt"]), time.time())
        # The warning is over once the job is cancelled.
        self.wait_alert("/team/survey", NEAR, jid, status="resolved")
        self.assertEqual(self.sink.notifications("/catch-all", job_id=jid), [])

    # 2 ------------------------------------------------------------------------------------
    def test_exempt_and_report_only_jobs_reach_their_owners_uncancelled(self):
        a = self.alertmanager()
        ws = self.workspace([a])
        keep, report = self.sim.add_jobs([running("archive-keep", 2 * LIMIT),
                                          running("long-report", 2 * LIMIT, user=OTHER_USER)])
        self.daemon(ws)
        over_keep = self.wait_alert("/team/survey", OVER, keep)
        over_report = self.wait_alert("/team/mesh", OVER, report)
        self.assertEqual(over_keep.labels.get("policy"), "runtime-30s")
        self.assertEqual(over_report.labels.get("policy"), "report-only")
        for n in (over_keep, over_report):
            self.assertEqual(n.labels.get("limit"), "max_runtime")
            self.assertEqual(n.labels.get("env"), "test")
        self.wait_polls(2)
        self.assertEqual(self.sim.deletes(), [])
        self.assertEqual(self.sink.notifications(alertname=CANCELLED), [])

    # 3 ------------------------------------------------------------------------------------
    def test_alertmanager_down_delays_no_delete_and_the_notice_follows(self):
        a = self.alertmanager()
        ws = self.workspace([a])
        _, port = self.daemon(ws)
        self.wait_polls(1)
        self.assertEqual(a.stop(), 0, a.log())

        added = time.time()
        jid = self.sim.add_jobs([running("runaway", 2 * LIMIT)])[0]
        delete = self.wait_delete(jid, ws)
        self.assertLess(delete["real_ts"] - added, 15, "the DELETE waited on Alertmanager")
        wait_for(lambda: self.notifications_metric(port, "failed") >= 1, timeout=WAIT,
                 what="a failed notification")
        wait_for(lambda: (metric(scrape(port), "rc_watchdog_notifications_queued") or 0) >= 1,
                 timeout=WAIT, what="rc_watchdog_notifications_queued >= 1")
        self.assertEqual(self.sink.notifications(job_id=jid), [])

        a.start()  # the same port
        cancelled = self.wait_alert("/team/survey", CANCELLED, jid)
        self.assertGreater(cancelled.received, delete["real_ts"])
        wait_for(lambda: self.notifications_metric(port, "sent") >= 1, timeout=WAIT,
                 what="a sent notification")

    def test_a_cancelled_notice_survives_sigkill_while_alertmanager_is_down(self):
        a = self.alertmanager()
        ws = self.workspace([a])
        proc, port = self.daemon(ws)
        self.wait_polls(1)
        self.assertEqual(a.stop(), 0, a.log())

        jid = self.sim.add_jobs([running("runaway", 2 * LIMIT)])[0]
        self.wait_delete(jid, ws)
        # The cycle that cancelled it has tried to tell Alertmanager: recorded by then.
        wait_for(lambda: self.notifications_metric(port, "failed") >= 1, timeout=WAIT,
                 what="a failed notification")
        proc.send_signal(signal.SIGKILL)
        proc.wait(WAIT)

        a.start()
        self.daemon(ws)  # the same state directory
        cancelled = self.wait_alert("/team/survey", CANCELLED, jid)
        self.assertEqual(cancelled.labels.get("policy"), "runtime-30s")

    # 4 ------------------------------------------------------------------------------------
    def test_two_alertmanagers_both_get_every_alert(self):
        one, two = self.alertmanager("/one"), self.alertmanager("/two")
        ws = self.workspace([one, two])
        runaway, keep, report = self.sim.add_jobs([
            running("runaway", 2 * LIMIT), running("archive-keep", 2 * LIMIT),
            running("long-report", 2 * LIMIT, user=OTHER_USER)])
        self.daemon(ws)
        expected = [("/team/survey", CANCELLED, runaway), ("/team/survey", OVER, keep),
                    ("/team/mesh", OVER, report)]
        for prefix in ("/one", "/two"):
            for path, name, jid in expected:
                self.wait_alert(prefix + path, name, jid)
        for instance in (one, two):
            held = {(x["labels"]["alertname"], x["labels"]["job_id"]) for x in instance.alerts()}
            self.assertLessEqual({(n, j) for _, n, j in expected}, held)
        self.assertEqual([r["job_id"] for r in self.sim.deletes()], [runaway])

    # 5 ------------------------------------------------------------------------------------
    def test_a_silence_stops_the_messages_not_the_cancellation(self):
        a = self.alertmanager()
        ws = self.workspace([a])
        quiet, loud = self.sim.add_jobs([running("quiet", 2 * LIMIT),
                                         running("loud", 2 * LIMIT)])
        silence = a.silence({"job_id": quiet})
        self.daemon(ws)
        self.wait_delete(quiet, ws)
        self.wait_delete(loud, ws)
        self.wait_alert("/team/survey", CANCELLED, loud)
        # Alertmanager has the silenced job's notice, and holds it back.
        held = self.sink.wait_for(
            lambda: [x for x in a.alerts(job_id=quiet, alertname=CANCELLED)
                     if x["status"]["state"] == "suppressed"],
            timeout=WAIT, what="the silenced job's Cancelled alert held in Alertmanager")
        self.assertEqual(held[0]["status"]["silencedBy"], [silence])
        self.wait_polls(2)  # and re-sent meanwhile: still nothing
        self.assertEqual(self.sink.notifications(job_id=quiet), [])


if __name__ == "__main__":
    main()
