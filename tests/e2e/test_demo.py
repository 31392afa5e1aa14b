"""scripts/demo.sh, shortened to 15 s: it exits 0, reports at least one
cancellation with its reason, names the audit log and the metrics URL, and
leaves no process behind; with Alertmanager installed, the webhook it runs got
the cancellation of survey-hall-7."""
import os
import re
import subprocess
import tempfile
import unittest

import alertmanager as am
from rcw_e2e import BINARY, SOURCE_DIR, main

DEMO = os.path.join(SOURCE_DIR, "scripts", "demo.sh")


def processes_naming(text):
    """Command lines of running processes that contain `text` (from /proc: no procps needed)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


class Demo(unittest.TestCase):
    def test_short_demo(self):
        with tempfile.TemporaryDirectory(prefix="rcw-demo-") as d:
            demo_dir = os.path.join(d, "demo")
            env = dict(os.environ, DEMO_SECONDS="15", DEMO_DIR=demo_dir,
                       RCW_BINARY=os.path.abspath(BINARY))
            proc = subprocess.run(["bash", DEMO], capture_output=True, text=True, timeout=120,
                                  env=env, stdin=subprocess.DEVNULL)
            out = proc.stdout
            self.assertEqual(proc.returncode, 0, out + proc.stderr)

            # Live events and the summary, with the reason of each cancellation.
            self.assertRegex(out, r"CANCELLED\s+\w{8} survey-hall-7")
            m = re.search(r"Cancelled: (\d+) jobs", out)
            self.assertIsNotNone(m, out)
            self.assertGreaterEqual(int(m.group(1)), 1)
            self.assertRegex(out, r"survey-hall-7\s+PointCloudConversion\s+pointclouds-2h\s+"
                                  r"max_runtime\s+3h\d\dm\s+2h00m")
            self.assertIn("rc-watchdog exited with status 0", out)

            audit = os.path.join(demo_dir, "state", "audit.jsonl")
            self.assertIn("Audit log:   " + audit, out)
            self.assertTrue(os.path.getsize(audit) > 0)
            self.assertRegex(out, r"Metrics:\s+http://127\.0\.0\.1:\d+/metrics")
            self.assertRegex(out, r'rc_watchdog_cancellations_total\{outcome="cancelled",'
                                  r'policy="pointclouds-2h"\} [1-9]')

            # With Alertmanager installed, the owners were told (scripts/demo.sh's webhook).
            if am.available():
                self.assertRegex(out, r"Notifications to owners \(Alertmanager webhook\): [1-9]")
                self.assertRegex(out, r"firing\s+RcWatchdogJobCancelled\s+survey-hall-7\s+site-a")
                self.assertIn("Webhook:     " + os.path.join(demo_dir, "webhook.jsonl"), out)
            else:
                self.assertIn("Alertmanager is not installed", out)

            # Nothing left running that the demo started (their command lines name demo_dir).
            self.assertEqual(processes_naming(demo_dir), [])


if __name__ == "__main__":
    main()
