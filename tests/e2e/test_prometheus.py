"""A real Prometheus scrapes the real daemon (issue: dashboard).

The simulator runs a workload that exercises every metric (cancelled, confirmed,
rate-limited and failed cancellations, warnings, an exhausted budget, ended jobs
with processing units); Prometheus 2.42 scrapes the daemon every second and
evaluates config/prometheus/rc-watchdog-rules.yml. Then:

- every PromQL expression of config/grafana/rc-watchdog.json returns data
  (template variables and $__rate_interval & co. substituted);
- every alert rule is loaded and healthy, evaluates without error, and every
  metric selector in it has data; two alerts the workload must trigger fire;
- `promtool check metrics` finds nothing to lint in the daemon's /metrics.

Skips only when /usr/bin/prometheus (package `prometheus`) is not installed.
"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from rcw_e2e import (METRICS, SOURCE_DIR, Sim, Workspace, job, listening_ports, main,
                     wait_for, wait_for_metrics)

H = 3600
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool")
RULES = os.path.join(SOURCE_DIR, "config", "prometheus", "rc-watchdog-rules.yml")
DASHBOARD = os.path.join(SOURCE_DIR, "config", "grafana", "rc-watchdog.json")
SCRAPE_JOB = "rc-watchdog"  # the job name the rules' RcWatchdogDown expects

HISTOGRAMS = {"rc_watchdog_poll_duration_seconds", "rc_watchdog_api_request_duration_seconds"}
SELECTOR = re.compile(r'\b(up|rc_watchdog_\w+|process_\w+)\b(\{[^}]*\})?')

POLICIES = [
    {"name": "runtime-2h", "match": {"types": ["PointCloudConversion"]},
     "exempt": {"name_regex": "-keep$"}, "limits": {"max_runtime": "2h"}, "warn_at": 0.8},
    {"name": "queued-30m", "match": {"types": ["MeshSampling"]}, "limits": {"max_queued": "30m"}},
]
BUDGETS = [
    {"name": "tiler-daily", "group_by": "itwin", "match": {"types": ["ContextSceneTiler"]},
     "window": "daily", "limit": 20, "warn_at": 0.8, "action": "cancel_queued",
     "count_running": False},
]


def metric_names(expr):
    return {m.group(1) for m in SELECTOR.finditer(expr)}


def base_name(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[:-len(suffix)] in HISTOGRAMS:
            return name[:-len(suffix)]
    return name


class Drain(threading.Thread):
    """Reads a pipe to the end so that a chatty child never blocks on it."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.chunks = stream, []
        self.start()

    def run(self):
        for line in self.stream:
            self.chunks.append(line)

    def text(self):
        return "".join(self.chunks[-200:])


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL on timeout; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read().decode()


@unittest.skipUnless(os.access(PROMETHEUS, os.X_OK),
                     "prometheus is not installed (apt-get install prometheus)")
class PrometheusScrape(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.sim.control("POST", "config", {"cancel_delay": 1})
        self.ws = Workspace(self.sim, policies=POLICIES, budgets=BUDGETS,
                            # The workload is added while the daemon runs, with creation
                            # times hours in the past (no real job appears that late): every
                            # listing full, so each poll sees it (incremental listing would
                            # start at the first listing's horizon).
                            watch={"poll_interval": "2s", "full_listing_interval": "1s"},
                            enforcement={"retry": {"initial": "1s", "max": "1s",
                                                   "max_attempts": 3}})
        self.addCleanup(self.ws.close)
        self.tmp = tempfile.TemporaryDirectory(prefix="rcw-prom-")
        self.addCleanup(self.tmp.cleanup)
        # A few compliant jobs before the start: violators stay far below the
        # circuit breaker's fraction when the workload arrives.
        self.sim.add_jobs([job(name="ok%d" % i, created_ago=120, run_seconds=10 * H)
                           for i in range(6)])

        self.daemon = self.ws.start()
        self.addCleanup(self.close_daemon_pipes)  # after stop() below
        self.daemon_log = Drain(self.daemon.stderr)
        self.addCleanup(lambda: stop(self.daemon))
        # /metrics answering, not just its port bound (rcw_e2e.wait_for_metrics):
        # Prometheus' first scrapes must not meet a 404.
        port = wait_for_metrics(self.daemon, timeout=30, log=self.logs)
        self.assertEqual(listening_ports(self.daemon.pid), [port])
        self.target = "127.0.0.1:%d" % port

        config = os.path.join(self.tmp.name, "prometheus.yml")
        with open(config, "w") as f:
            f.write(json.dumps({  # JSON is YAML
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                           "evaluation_interval": "1s"},
                "rule_files": [RULES],
                "scrape_configs": [{"job_name": SCRAPE_JOB,
                                    "static_configs": [{"targets": [self.target]}]}],
            }, indent=2))
        self.prom_log = open(os.path.join(self.tmp.name, "prometheus.log"), "w+")
        self.addCleanup(self.prom_log.close)
        self.prom = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.tmp.name, "data"),
             "--web.listen-address=127.0.0.1:0", "--log.level=warn"],
            stdout=self.prom_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(lambda: stop(self.prom))
        port = wait_for(lambda: self.alive(self.prom, "prometheus")
                        and listening_ports(self.prom.pid), timeout=20,
                        what="Prometheus' port")
        self.api = "http://127.0.0.1:%d" % port[0]
        wait_for(self.ready, timeout=20, interval=0.1, what="Prometheus /-/ready")

    def close_daemon_pipes(self):
        self.daemon_log.join(5)
        self.daemon.stdout.close()
        self.daemon.stderr.close()

    def alive(self, proc, name):
        if proc.poll() is not None:
            raise AssertionError("%s exited %s:\n%s" % (name, proc.returncode, self.logs()))
        return True

    def logs(self):
        text = "--- rc-watchdog stderr (tail):\n" + self.daemon_log.text()
        if hasattr(self, "prom_log"):
            self.prom_log.flush()
            with open(self.prom_log.name) as f:
                text += "\n--- prometheus:\n" + f.read()[-5000:]
        return text

    def ready(self):
        try:
            return http_get(self.api + "/-/ready", timeout=2)[0] == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def prom_api(self, path, **params):
        url = self.api + "/api/v1/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            _, body = http_get(url, timeout=10)
        except urllib.error.HTTPError as e:
            body = e.read().decode()
        answer = json.loads(body)
        return answer

    def query(self, expr):
        """The instant-query result, or raises with Prometheus' error."""
        answer = self.prom_api("query", query=expr)
        if answer.get("status") != "success":
            raise AssertionError("query %r failed: %s %s" % (
                expr, answer.get("errorType"), answer.get("error")))
        return answer["data"]["result"]

    def value(self, expr):
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def at_least(self, expr, n):
        v = self.value(expr)
        return v is not None and v >= n

    def workload(self):
        """Violators, a warning, an exhausted budget and faults, all at once."""
        # The budget's ended jobs must end in today's (UTC) window.
        now = datetime.datetime.now(datetime.timezone.utc)
        since_midnight = now.hour * H + now.minute * 60 + now.second
        if since_midnight < 60:
            time.sleep(61 - since_midnight)
        runaway = dict(created_ago=3 * H + 300, queue_seconds=300, run_seconds=10 * H)
        ids = self.sim.add_jobs([
            job(name="runaway", **runaway),
            job(name="runaway-429", **runaway),
            job(name="runaway-500", **runaway),
            job(name="runaway-keep", **runaway),  # exempt: a violation, no cancellation
            job(name="warn", created_ago=105 * 60 + 60, queue_seconds=60, run_seconds=10 * H),
            job(name="stuck-queue", type="MeshSampling", created_ago=45 * 60,
                queue_seconds=5 * H, run_seconds=H),
            job(name="tiles-1", type="ContextSceneTiler", created_ago=60 + 1800 + 30,
                queue_seconds=60, run_seconds=1800, processing_units=15),
            job(name="tiles-2", type="ContextSceneTiler", created_ago=60 + 1200 + 40,
                queue_seconds=60, run_seconds=1200, processing_units=10),
            job(name="tiles-queued", type="ContextSceneTiler", created_ago=60,
                queue_seconds=None, run_seconds=H),
        ])
        self.sim.faults([
            {"match": {"op": "cancel_job", "job_id": ids[1]}, "kind": "ratelimit",
             "retry_after": 1, "count": 1},
            {"match": {"op": "cancel_job", "job_id": ids[2]}, "kind": "status", "status": 500},
        ])

    def dashboard_queries(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        panels = []
        for p in dash["panels"]:
            panels.append(p)
            panels.extend(p.get("panels", []))
        queries = []
        for p in panels:
            for t in p.get("targets", []):
                queries.append((p["title"], t["expr"]))
        return dash, variables, panels, queries

    def substitute(self, expr):
        values = {"job": SCRAPE_JOB, "instance": self.target, "__rate_interval": "1m",
                  "__interval": "15s", "__range": "1m"}
        for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
            expr = expr.replace("${%s}" % name, value).replace("$" + name, value)
        self.assertNotIn("$", expr, "unsubstituted variable")
        return expr

    def test_dashboard_and_rules_have_data(self):
        # 1. Prometheus scrapes the daemon before anything happens, so that the
        #    counters' increases below fall between scrapes (rate() > 0).
        wait_for(lambda: self.alive(self.daemon, "rc-watchdog") and
                 self.at_least('count_over_time(up{job="%s"}[1m])' % SCRAPE_JOB, 2) and
                 self.at_least('up{job="%s"}' % SCRAPE_JOB, 1),
                 timeout=30, interval=0.25, what="two scrapes of the daemon\n" + self.logs())

        # 2. The workload; wait until Prometheus has seen all of it.
        self.workload()
        expected = {
            'sum(rc_watchdog_cancellations_confirmed_total)': 3,  # runaway, stuck, tiles
            'sum(rc_watchdog_cancellations_total{outcome="cancelled"})': 4,
            'sum(rc_watchdog_cancellations_total{outcome="failed"})': 1,
            'sum(rc_watchdog_api_rate_limited_total)': 1,
            'sum(rc_watchdog_api_requests_total{code="500"})': 3,
            'sum(rc_watchdog_warnings_total)': 1,
            'sum(rc_watchdog_violations_total{limit="budget"})': 1,
            'sum(rc_watchdog_violations_total{limit="max_queued"})': 1,
            'sum(rc_watchdog_violations_total{limit="max_runtime"})': 4,
            'sum(rc_watchdog_processing_units_total)': 25,
            'max(rc_watchdog_budget_spent_processing_units)': 25,
            'count(ALERTS{alertname="RcWatchdogCancellationsFailing",alertstate="firing"})': 1,
            'count(ALERTS{alertname="RcWatchdogBudgetExhausted",alertstate="firing"})': 1,
        }
        missing = []

        def seen():
            self.alive(self.daemon, "rc-watchdog")
            missing[:] = [e for e, n in expected.items() if not self.at_least(e, n)]
            return not missing

        try:
            wait_for(seen, timeout=40, interval=0.5, what="the workload in Prometheus")
        except AssertionError:
            self.fail("not seen in Prometheus: %s\n%s" % (missing, self.logs()))
        # One more scrape and rule evaluation after the last change.
        time.sleep(1.5)

        # 3. Every dashboard expression returns data.
        dash, variables, panels, queries = self.dashboard_queries()
        self.assertGreaterEqual(len(queries), 20)
        empty = []
        for title, expr in queries:
            for name in metric_names(expr):
                self.assertIn(base_name(name), METRICS | {"up"},
                              "panel %r uses %s, not a metric of docs/metrics.md" % (title, name))
            if not self.query(self.substitute(expr)):
                empty.append((title, expr))
        self.assertEqual(empty, [], "dashboard queries without data")

        # The template variables' label_values() find this daemon.
        for name, expected_value in (("job", SCRAPE_JOB), ("instance", self.target)):
            definition = variables[name]["definition"]
            m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", definition)
            self.assertIsNotNone(m, definition)
            answer = self.prom_api("label/%s/values" % m.group(2),
                                   **{"match[]": self.substitute(m.group(1))})
            self.assertEqual(answer["status"], "success", answer)
            self.assertIn(expected_value, answer["data"], definition)

        # 4. Every alert rule is loaded, healthy, evaluates, and its metrics have data.
        with open(RULES) as f:
            alert_count = sum(1 for line in f if line.strip().startswith("- alert:"))
        groups = self.prom_api("rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        self.assertEqual(len(rules), alert_count)
        for rule in rules:
            self.assertEqual(rule["health"], "ok", "%s: %s" % (rule["name"], rule.get("lastError")))
            self.query(rule["query"])  # parses and evaluates
            selectors = {m.group(0) for m in SELECTOR.finditer(rule["query"])}
            self.assertTrue(selectors, rule["name"])
            for selector in selectors:
                name = SELECTOR.match(selector).group(1)
                self.assertIn(base_name(name), METRICS | {"up"}, rule["name"])
                self.assertTrue(self.query(selector),
                                "%s: %s has no data" % (rule["name"], selector))
        firing = {a["labels"]["alertname"] for a in self.prom_api("alerts")["data"]["alerts"]
                  if a["state"] == "firing"}
        self.assertIn("RcWatchdogCancellationsFailing", firing)
        self.assertIn("RcWatchdogBudgetExhausted", firing)
        self.assertNotIn("RcWatchdogCircuitBreakerTripped", firing)

        # 5. The exposition itself: every §4 metric is there and promtool lints clean.
        status, body = http_get("http://%s/metrics" % self.target)
        self.assertEqual(status, 200)
        exposed = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
        self.assertEqual(METRICS - exposed, set())
        if PROMTOOL:
            lint = subprocess.run([PROMTOOL, "check", "metrics"], input=body, text=True,
                                  capture_output=True, timeout=30)
            self.assertEqual(lint.returncode, 0, "promtool check metrics exited %d:\n%s%s" % (
                lint.returncode, lint.stdout, lint.stderr))

        # 6. Both stop cleanly on SIGTERM.
        self.assertEqual(stop(self.daemon), 0, self.logs())
        self.assertEqual(stop(self.prom), 0, self.logs())


if __name__ == "__main__":
    main()
