"""The Alertmanager harness (alertmanager.py) on its own, and the example
routing of config/alertmanager/alertmanager.yml.

- Alerts posted to a real Alertmanager reach the webhook sink of their team,
  or the catch-all; a silence on job_id stops one job's messages; stopped and
  started again on the same port, Alertmanager takes alerts again and still
  knows its silence (test_notify.py relies on all of it).
- amtool check-config accepts the example, and `amtool config routes test`
  routes each kind of job alert where its comments say.

Skips when the binaries (package prometheus-alertmanager) are missing.
"""
import os
import subprocess
import time
import unittest
import urllib.error

import alertmanager as am
from rcw_e2e import SOURCE_DIR, main

EXAMPLE = os.path.join(SOURCE_DIR, "config", "alertmanager", "alertmanager.yml")


def alert(job_id, name="RcWatchdogJobCancelled", **labels):
    now = time.time()
    return {"labels": dict({"alertname": name, "job_id": job_id, "severity": "warning"},
                           **labels),
            "annotations": {"summary": "job %s" % job_id},
            "startsAt": am.rfc3339(now), "endsAt": am.rfc3339(now + 3600)}


@unittest.skipUnless(am.available(), "prometheus-alertmanager is not installed "
                                     "(scripts/setup.sh installs it)")
class Harness(unittest.TestCase):
    def setUp(self):
        self.sink = am.WebhookSink()
        self.addCleanup(self.sink.close)
        self.am = am.Alertmanager(self.sink, teams=["survey"])
        self.addCleanup(self.am.close)
        self.am.start()

    def test_routes_silences_and_restarts_on_the_same_port(self):
        self.am.post_alerts([alert("job-a", team="survey"), alert("job-b")])
        a = self.sink.wait_for_alert(path="/team/survey", job_id="job-a")
        self.assertEqual(a.alertname, "RcWatchdogJobCancelled")
        self.assertEqual(a.annotations["summary"], "job job-a")
        # A firing alert's endsAt reaches the webhook as Go's zero time; the API has it.
        self.assertTrue(a.ends_at.startswith("0001-01-01"), a.ends_at)
        held = self.am.alerts(job_id="job-a")[0]
        self.assertAlmostEqual(am.parse_time(held["endsAt"]),
                               am.parse_time(held["startsAt"]) + 3600, delta=1)
        self.sink.wait_for_alert(path="/catch-all", job_id="job-b")
        self.assertEqual(self.sink.notifications(job_id="job-a", path="/catch-all"), [])

        # A silence: Alertmanager holds the alert, suppressed, and sends nothing.
        silence = self.am.silence({"job_id": "job-c"})
        self.am.post_alerts([alert("job-c", team="survey"), alert("job-d", team="survey")])
        self.sink.wait_for_alert(job_id="job-d")
        held = self.sink.wait_for(
            lambda: [a for a in self.am.alerts(job_id="job-c")
                     if a["status"]["state"] == "suppressed"],
            what="job-c held, suppressed")
        self.assertEqual(len(held), 1)
        self.assertEqual(held[0]["status"]["silencedBy"], [silence])
        self.assertEqual(self.sink.notifications(job_id="job-c"), [])

        # Stopped: refused. Started again: the same port, the silence kept.
        port = self.am.port
        self.assertEqual(self.am.stop(), 0, self.am.log())
        with self.assertRaises(urllib.error.URLError):
            self.am.post_alerts([alert("job-e")])
        self.am.start()
        self.assertEqual(self.am.port, port)
        self.am.post_alerts([alert("job-c", team="survey"), alert("job-e", team="survey")])
        e = self.sink.wait_for_alert(path="/team/survey", job_id="job-e")
        self.assertGreater(e.received, a.received)
        self.assertEqual(self.am.alerts(job_id="job-c")[0]["status"]["silencedBy"], [silence])
        self.assertEqual(self.sink.notifications(job_id="job-c"), [])

    def test_resolved_alerts_are_sent_too(self):
        first = alert("job-r", team="survey")
        self.am.post_alerts([first])
        self.sink.wait_for_alert(job_id="job-r", status="firing")
        first["endsAt"] = am.rfc3339(time.time())
        self.am.post_alerts([first])
        self.sink.wait_for_alert(path="/team/survey", job_id="job-r", status="resolved")


@unittest.skipUnless(am.AMTOOL, "amtool is not installed (package prometheus-alertmanager)")
class ExampleConfig(unittest.TestCase):
    def amtool(self, *args):
        return subprocess.run([am.AMTOOL, *args], capture_output=True, text=True, timeout=60)

    def test_amtool_accepts_it(self):
        proc = self.amtool("check-config", EXAMPLE)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("SUCCESS", proc.stdout)

    def test_each_job_alert_reaches_the_operators_and_its_owner(self):
        cases = [
            (["team=survey"], "ops-webhook,team-survey"),
            (["team=mesh"], "ops-webhook,team-mesh"),
            (["owner_email=ana@example.com"], "ops-webhook,job-owner"),
            (["team=survey", "owner_email=ana@example.com"], "ops-webhook,team-survey"),
            ([], "ops-webhook"),
        ]
        for name in ("RcWatchdogJobNearLimit", "RcWatchdogJobCancelled",
                     "RcWatchdogJobOverLimit"):
            for labels, receivers in cases:
                proc = self.amtool("config", "routes", "test", "--config.file=" + EXAMPLE,
                                   "--verify.receivers=" + receivers,
                                   "alertname=" + name, "job_id=x", *labels)
                self.assertEqual(proc.returncode, 0, "%s %s: %s%s" % (
                    name, labels, proc.stdout, proc.stderr))
        # Not a job alert: the operators only, even with a team.
        proc = self.amtool("config", "routes", "test", "--config.file=" + EXAMPLE,
                           "--verify.receivers=ops-webhook", "alertname=Other", "team=survey")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


if __name__ == "__main__":
    main()
