"""Service integration (rc-watchdog(8) exit codes, docs/audit-log.md): the sd_notify
protocol as systemd sees it, SIGHUP reloads, SIGTERM shutdown, the watchdog
keep-alive, and the command line's exit statuses.

The daemon's notifications are read from an AF_UNIX datagram socket that the
test binds and passes in $NOTIFY_SOCKET, exactly as systemd does. Every wait is
bounded; no sleep stands in for a condition.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from rcw_e2e import (BINARY, CLIENT_SECRET, Sim, Workspace, job, main, metric, scrape,
                     wait_for, wait_for_metrics)

H = 3600
STOP_SECONDS = 10  # SIGTERM -> exit, the bound the contract promises


class NotifySocket:
    """What systemd's notify socket would receive: one entry per datagram,
    (monotonic receive time, {KEY: VALUE})."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rcw-notify-")
        self.path = os.path.join(self.dir.name, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def env(self, watchdog_usec=None):
        env = dict(os.environ)
        env.pop("WATCHDOG_PID", None)
        env.pop("WATCHDOG_USEC", None)
        env["NOTIFY_SOCKET"] = self.path
        if watchdog_usec:
            # No WATCHDOG_PID: sd_watchdog_enabled() then accepts any pid.
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        return env

    def _receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        fields = {}
        for line in data.decode().split("\n"):
            key, sep, value = line.partition("=")
            if sep:
                fields[key] = value
        entry = (time.monotonic(), fields)
        self.messages.append(entry)
        return entry

    def wait(self, predicate, timeout=20, what="a notification"):
        """Receives until a datagram satisfies `predicate(fields)`; returns
        (time, fields). Datagrams received earlier are not looked at again."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; got %r" % (
                    what, [m for _, m in self.messages[-10:]]))
            entry = self._receive(left)
            if entry and predicate(entry[1]):
                return entry

    def collect(self, seconds):
        """Everything received in the next `seconds`."""
        start = len(self.messages)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._receive(deadline - time.monotonic())
        return self.messages[start:]

    def close(self):
        self.sock.close()
        self.dir.cleanup()


def has(key, value=None):
    return lambda m: key in m and (value is None or m[key] == value)


def runaway(name="runaway"):
    return job(name=name, created_ago=3 * H, queue_seconds=60, run_seconds=10 * H)


def compliant(n):
    return [job(name="ok%d" % i, created_ago=60, queue_seconds=10, run_seconds=4 * H)
            for i in range(n)]


def policy(max_runtime):
    return [{"name": "runtime", "limits": {"max_runtime": max_runtime}}]


class ServiceCase(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.notify = NotifySocket()
        self.addCleanup(self.notify.close)
        self.proc = None

    def workspace(self, **kw):
        ws = Workspace(self.sim, **kw)
        self.addCleanup(ws.close)
        return ws

    def spawn(self, ws, watchdog_usec=None):
        proc = ws.spawn(env=self.notify.env(watchdog_usec))
        self.addCleanup(self.reap, proc, ws)
        return proc

    def reap(self, proc, ws):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            print("daemon had to be killed; its log:\n" + ws.log())

    def stop(self, proc, ws, sig=signal.SIGTERM):
        """Sends `sig`, checks STOPPING=1 and exit 0 within STOP_SECONDS."""
        sent = time.monotonic()
        proc.send_signal(sig)
        self.notify.wait(has("STOPPING", "1"), timeout=STOP_SECONDS, what="STOPPING=1")
        try:
            rc = proc.wait(max(0.1, STOP_SECONDS - (time.monotonic() - sent)))
        except subprocess.TimeoutExpired:
            self.fail("no exit within %d s of %s; log:\n%s" % (STOP_SECONDS, sig.name, ws.log()))
        self.assertEqual(rc, 0, ws.log())
        return time.monotonic() - sent

    def list_requests(self):
        return [r for r in self.sim.requests() if r["op"] == "list_jobs"]


class Notifications(ServiceCase):
    def test_ready_status_watchdog_reload_stop(self):
        self.sim.add_jobs(compliant(3))
        ws = self.workspace(policies=policy("2h"))
        proc = self.spawn(ws, watchdog_usec=1_000_000)

        _, ready = self.notify.wait(has("READY", "1"), what="READY=1")
        # READY=1 comes after the first poll: its STATUS already counts the jobs.
        self.assertIn("STATUS", ready)
        self.assertIn("watching 3 jobs", ready["STATUS"])
        self.assertNotIn("failed", ready["STATUS"])
        self.assertTrue(self.list_requests(), "READY=1 before any listing")
        self.assertEqual([m for _, m in self.notify.messages if "READY" in m], [ready])

        # WATCHDOG=1 every half WATCHDOG_USEC (0.5 s), sent by the idle main loop.
        pings = [t for t, m in self.notify.collect(3.0) if m.get("WATCHDOG") == "1"]
        self.assertGreaterEqual(len(pings), 4, "expected a ping every 0.5 s")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 1.0, "a gap between pings reached WATCHDOG_USEC")
        self.assertGreater(min(gaps), 0.2, "pings much more often than WATCHDOG_USEC/2")

        # SIGHUP: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, like
        # systemd's own), then READY=1 again.
        proc.send_signal(signal.SIGHUP)
        _, reloading = self.notify.wait(has("RELOADING", "1"), what="RELOADING=1")
        self.assertIn("MONOTONIC_USEC", reloading)
        now_usec = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        self.assertLess(abs(int(reloading["MONOTONIC_USEC"]) - now_usec), 10e6)
        self.notify.wait(has("READY", "1"), what="READY=1 after the reload")
        wait_for(lambda: ws.events("config_loaded"), what="config_loaded")

        # Pings go on after the reload.
        self.notify.wait(has("WATCHDOG", "1"), timeout=2, what="WATCHDOG=1 after the reload")

        self.stop(proc, ws)
        events = [e["event"] for e in ws.audit()]
        self.assertEqual(events[0], "started")
        self.assertEqual(events[-1], "stopped")
        # Secrets never reach the logs or the audit trail.
        self.assertNotIn(CLIENT_SECRET, ws.log())
        with open(os.path.join(ws.state, "audit.jsonl")) as f:
            self.assertNotIn(CLIENT_SECRET, f.read())

    def test_no_watchdog_pings_without_watchdog_usec(self):
        ws = self.workspace(policies=policy("2h"))
        proc = self.spawn(ws)
        self.notify.wait(has("READY", "1"), what="READY=1")
        later = self.notify.collect(1.5)
        self.assertEqual([m for _, m in later if "WATCHDOG" in m], [])
        self.stop(proc, ws, signal.SIGINT)

    def test_watchdog_pid_of_another_process_means_no_pings(self):
        # systemd sets WATCHDOG_PID to the main pid; a child that inherited
        # the variables (here: a pid that is not the daemon's) must not ping.
        ws = self.workspace(policies=policy("2h"))
        env = self.notify.env(watchdog_usec=1_000_000)
        env["WATCHDOG_PID"] = str(os.getpid())
        proc = ws.spawn(env=env)
        self.addCleanup(self.reap, proc, ws)
        self.notify.wait(has("READY", "1"), what="READY=1")
        later = self.notify.collect(1.5)
        self.assertEqual([m for _, m in later if "WATCHDOG" in m], [])
        self.stop(proc, ws)

    def test_ready_with_status_when_the_api_is_unreachable(self):
        ws = self.workspace(policies=policy("2h"))
        self.sim.close()  # the port now refuses connections
        proc = self.spawn(ws, watchdog_usec=2_000_000)
        _, ready = self.notify.wait(has("READY", "1"), what="READY=1")
        self.assertIn("failed", ready.get("STATUS", ""), ready)
        self.assertIsNone(proc.poll())
        self.notify.wait(has("WATCHDOG", "1"), timeout=3, what="WATCHDOG=1")
        self.stop(proc, ws)

    def test_watchdog_pings_stop_while_the_loop_is_stuck(self):
        timeout = 6
        self.sim.add_jobs(compliant(2))
        ws = self.workspace(policies=policy("2h"), watch={"poll_interval": "1s"})
        ws.doc["api"]["timeout"] = "%ds" % timeout
        ws.write_config()
        # The second listing hangs (longer than api.timeout): the loop is stuck in it.
        self.sim.faults([{"match": {"op": "list_jobs"}, "kind": "hang", "hang_seconds": 60,
                          "after": 1, "count": 1}])
        proc = self.spawn(ws, watchdog_usec=1_000_000)
        self.notify.wait(has("READY", "1"), what="READY=1")

        hung = wait_for(lambda: [r for r in self.sim.requests() if r.get("fault") == "hang"],
                        timeout=10, what="the hanging listing")
        seen_at = time.monotonic()
        during = self.notify.collect(timeout - 2.0)
        pings = [t for t, m in during if m.get("WATCHDOG") == "1"]
        # At most the one ping that may have been in flight when the request began.
        late = [t - seen_at for t in pings if t - seen_at > 0.8]
        self.assertEqual(late, [], "WATCHDOG=1 sent while the loop was stuck in a request")

        # After api.timeout the cycle fails, the loop is back and pings resume.
        _, status = self.notify.wait(lambda m: "failed" in m.get("STATUS", ""), timeout=10,
                                     what="STATUS of the failed poll")
        self.notify.wait(has("WATCHDOG", "1"), timeout=3, what="WATCHDOG=1 after the hang")
        self.assertTrue(hung)
        self.stop(proc, ws)


class Reload(ServiceCase):
    def start_with_metrics(self, ws):
        # metrics.listen 127.0.0.1:0 (the Workspace default): a port picked
        # by free_port() and bound later could be taken in between by any
        # process on the machine (another test's daemon, simulator or
        # Prometheus binding port 0), so the daemon would not start, or the
        # test would scrape another daemon.
        proc = self.spawn(ws)
        self.notify.wait(has("READY", "1"), what="READY=1")
        port = wait_for_metrics(proc, timeout=10, log=ws.log)
        return proc, port

    def reload(self, proc, ws, event):
        before = len(ws.events(event))
        proc.send_signal(signal.SIGHUP)
        self.notify.wait(has("RELOADING", "1"), what="RELOADING=1")
        self.notify.wait(has("READY", "1"), what="READY=1 after the reload")
        wait_for(lambda: len(ws.events(event)) > before, what=event)
        return ws.events(event)[-1]

    def test_good_config_takes_effect(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        ws = self.workspace(policies=policy("12h"), watch={"poll_interval": "1s"})
        proc, port = self.start_with_metrics(ws)
        wait_for(lambda: len(self.list_requests()) >= 2, what="a second poll")
        self.assertEqual(self.sim.deletes(), [])  # 3h of 12h: fine

        ws.doc["policies"] = policy("2h")
        ws.write_config()
        line = self.reload(proc, ws, "config_loaded")
        self.assertIn(ws.config, line.get("message", ""))
        text = scrape(port)
        self.assertEqual(metric(text, "rc_watchdog_config_last_reload_successful"), 1)
        self.assertGreater(metric(text, "rc_watchdog_config_last_reload_success_timestamp_seconds"),
                           0)

        # The new limit applies from the next poll on.
        wait_for(lambda: self.sim.deletes(), timeout=15, what="the DELETE under the new policy")
        self.assertEqual([d["job_id"] for d in self.sim.deletes()], [target])
        violation = [e for e in ws.events("violation") if e["job_id"] == target]
        self.assertEqual(violation[0]["policy"], "runtime")
        self.assertEqual(violation[0]["threshold"], 2 * H)
        self.stop(proc, ws)

    def test_bad_config_is_rejected_and_the_old_one_stays(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        ws = self.workspace(policies=policy("12h"), watch={"poll_interval": "1s"})
        proc, port = self.start_with_metrics(ws)
        good_ts = metric(scrape(port), "rc_watchdog_config_last_reload_success_timestamp_seconds")

        # A stricter policy, but with a typo: the whole file must be refused.
        broken = dict(ws.doc, policies=[{"name": "runtime", "limits": {"max_runtme": "2h"}}])
        ws.write_config(broken)
        line = self.reload(proc, ws, "config_rejected")
        self.assertIn("max_runtme", line.get("message", ""))
        text = scrape(port)
        self.assertEqual(metric(text, "rc_watchdog_config_last_reload_successful"), 0)
        self.assertEqual(
            metric(text, "rc_watchdog_config_last_reload_success_timestamp_seconds"), good_ts)
        self.assertIn("max_runtme", ws.log())

        # Still running, still on the old 12h limit: several polls, no DELETE.
        polls = len(self.list_requests())
        wait_for(lambda: len(self.list_requests()) >= polls + 3, timeout=15,
                 what="three more polls")
        self.assertIsNone(proc.poll())
        self.assertEqual(self.sim.deletes(), [])
        self.assertEqual(ws.events("config_loaded"), [])

        # Fixed: the next reload is accepted and the metric recovers.
        ws.write_config(dict(ws.doc, policies=policy("2h")))
        self.reload(proc, ws, "config_loaded")
        self.assertEqual(metric(scrape(port), "rc_watchdog_config_last_reload_successful"), 1)
        wait_for(lambda: self.sim.deletes(), timeout=15, what="the DELETE under the fixed config")
        self.assertEqual([d["job_id"] for d in self.sim.deletes()], [target])
        self.stop(proc, ws)

    def test_api_and_auth_changes_wait_for_a_restart(self):
        # README: a reload applies policies, budgets, estimates, enforcement,
        # watch and log level; api, auth, metrics and state need a restart.
        other = Sim()
        self.addCleanup(other.close)
        ws = self.workspace(policies=policy("12h"), watch={"poll_interval": "1s"})
        proc, port = self.start_with_metrics(ws)
        ws.doc["api"]["base_url"] = other.base_url
        ws.doc["auth"]["token_url"] = other.token_url
        ws.doc["policies"] = policy("11h")
        ws.write_config()
        self.reload(proc, ws, "config_loaded")
        polls = len(self.list_requests())
        wait_for(lambda: len(self.list_requests()) >= polls + 2, timeout=15,
                 what="two more polls of the running API")
        self.assertEqual(other.requests(), [])
        self.assertIsNotNone(scrape(port))
        self.stop(proc, ws)

        # A restart picks the new API up.
        proc = self.spawn(ws)
        self.notify.wait(has("READY", "1"), what="READY=1 after the restart")
        self.assertTrue([r for r in other.requests() if r["op"] == "list_jobs"])
        self.stop(proc, ws)

    def test_config_deleted_before_reload_is_rejected(self):
        ws = self.workspace(policies=policy("12h"))
        proc, port = self.start_with_metrics(ws)
        os.unlink(ws.config)
        self.reload(proc, ws, "config_rejected")
        self.assertEqual(metric(scrape(port), "rc_watchdog_config_last_reload_successful"), 0)
        self.assertIsNone(proc.poll())
        self.stop(proc, ws)


class Shutdown(ServiceCase):
    def test_sigterm_during_a_cancellation_persists_it_and_a_restart_finishes_it(self):
        target = self.sim.add_jobs([runaway()] + compliant(3))[0]
        ws = self.workspace(policies=policy("2h"))
        ws.doc["api"]["timeout"] = "4s"
        ws.write_config()
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "hang", "hang_seconds": 60}])
        proc = self.spawn(ws, watchdog_usec=1_000_000)
        wait_for(lambda: self.sim.deletes(), what="the first DELETE")
        self.stop(proc, ws)  # exit 0 within 10 s although the DELETE never answers

        saved = ws.read_state_db()
        pending = [p for p in saved["pending"] if p["job_id"] == target]
        self.assertEqual(len(pending), 1, saved["pending"])
        stopped = ws.events("stopped")
        self.assertEqual(len(stopped), 1)
        self.assertIn("1 cancellations pending", stopped[0]["message"])
        self.assertEqual([e for e in ws.events("cancel_result")
                          if e["outcome"] in ("cancelled", "failed")], [])

        # The API recovers; a restart takes the pending cancellation up and finishes it.
        self.sim.control("DELETE", "faults")
        ws.once()
        self.sim.advance(60)
        ws.once()
        self.assertEqual(self.sim.jobs()[target]["state"], "Cancelled")
        confirmed = [e for e in ws.events("cancel_confirmed") if e["job_id"] == target]
        self.assertEqual(len(confirmed), 1)
        requested = [e for e in ws.events("cancel_requested") if e["job_id"] == target]
        self.assertEqual(len(requested), len(self.sim.deletes()))
        self.assertEqual(ws.read_state_db()["pending"], [])

    def test_sigint_stops_like_sigterm(self):
        ws = self.workspace(policies=policy("2h"))
        proc = self.spawn(ws)
        self.notify.wait(has("READY", "1"), what="READY=1")
        self.stop(proc, ws, signal.SIGINT)
        self.assertEqual(ws.audit()[-1]["event"], "stopped")


class LongCycles(ServiceCase):
    """A cycle whose DELETEs hang: READY=1 and SIGTERM must not wait for them."""

    def hanging_deletes(self, n=4, timeout="5s"):
        self.sim.add_jobs([runaway("r%d" % i) for i in range(n)] + compliant(10))
        ws = self.workspace(policies=policy("2h"))
        ws.doc["api"]["timeout"] = timeout
        ws.write_config()
        self.sim.faults([{"match": {"op": "cancel_job"}, "kind": "hang", "hang_seconds": 60}])
        return ws

    def test_sigterm_between_hanging_cancellations_stops_within_10s(self):
        # Four DELETEs that each time out after 5 s: the daemon looks for a
        # pending SIGTERM after each one and leaves the rest pending.
        ws = self.hanging_deletes()
        proc = self.spawn(ws, watchdog_usec=1_000_000)
        wait_for(lambda: self.sim.deletes(), what="the first DELETE")
        self.stop(proc, ws)

    def test_ready_follows_the_first_poll_not_its_cancellations(self):
        # READY=1 must not wait for the first cycle's DELETEs: with the defaults
        # (10 per cycle, api.timeout 30s) they could exceed TimeoutStartSec=90s.
        ws = self.hanging_deletes()
        proc = self.spawn(ws, watchdog_usec=1_000_000)
        wait_for(lambda: self.sim.deletes(), what="the first DELETE")
        try:
            self.notify.wait(has("READY", "1"), timeout=3, what="READY=1 after the first poll")
        finally:
            proc.kill()


class CommandLine(unittest.TestCase):
    COMMANDS = ["run", "check-config", "plan", "cancel", "version"]

    def rc(self, *args):
        proc = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rcw-cli-")
        self.addCleanup(self.dir.cleanup)

    def test_help_on_every_command_exits_0(self):
        for args in (["--help"], ["-h"], ["help"]):
            rc, out, _ = self.rc(*args)
            self.assertEqual(rc, 0, args)
            self.assertIn("usage", out)
        for cmd in self.COMMANDS:
            for flag in ("--help", "-h"):
                rc, out, err = self.rc(cmd, flag)
                self.assertEqual(rc, 0, (cmd, flag, err))
                self.assertTrue(out.strip(), (cmd, flag))

    def test_bad_command_line_exits_2(self):
        cases = [
            [],
            ["frobnicate"],
            ["run", "--bogus"],
            ["run", "-c"],
            ["run", "-c", "x.yaml", "extra"],
            ["check-config", "--bogus"],
            ["plan", "--bogus"],
            ["plan", "--format", "xml", "-c", "x.yaml"],
            ["cancel", "--bogus"],
            ["cancel", "-c", "x.yaml"],  # no job id
        ]
        for args in cases:
            rc, _, err = self.rc(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertTrue(err.strip(), args)

    def test_broken_config_exits_78(self):
        broken = os.path.join(self.dir.name, "broken.yaml")
        with open(broken, "w") as f:
            f.write("api:\n  base_url: http://127.0.0.1:1/reality-conversion\n  timeuot: 5s\n")
        for args in (["run", "-c", broken], ["run", "-c", broken, "--once"],
                     ["check-config", "-c", broken]):
            rc, _, err = self.rc(*args)
            self.assertEqual(rc, 78, (args, err))
            self.assertIn("broken.yaml:3:3", err)
        missing = os.path.join(self.dir.name, "missing.yaml")
        rc, _, err = self.rc("run", "-c", missing)
        self.assertEqual(rc, 78, err)


if __name__ == "__main__":
    main()
