"""Static checks of the alert rules and the Grafana dashboard (issue: dashboard).

Rules: promtool check rules and the unit tests of rc-watchdog-rules.test.yml.
Dashboard: its structure, the metric names it uses (docs/metrics.md only), and
every PromQL expression parsed by promtool (as recording rules of a temporary
file). tests/e2e/test_prometheus.py checks both against a real Prometheus.

The promtool tests skip only when promtool is not installed (the setup script
installs the `prometheus` package, which is the only one that ships it).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from rcw_e2e import METRICS as CONTRACT_METRICS, SOURCE_DIR, main

RULES_DIR = os.path.join(SOURCE_DIR, "config", "prometheus")
RULES = os.path.join(RULES_DIR, "rc-watchdog-rules.yml")
RULE_TESTS = os.path.join(RULES_DIR, "rc-watchdog-rules.test.yml")
DASHBOARD = os.path.join(SOURCE_DIR, "config", "grafana", "rc-watchdog.json")
PROMTOOL = shutil.which("promtool")

# docs/metrics.md, plus Prometheus' own `up`.
METRICS = CONTRACT_METRICS | {"up"}
for _h in ("rc_watchdog_poll_duration_seconds", "rc_watchdog_api_request_duration_seconds"):
    METRICS |= {_h + "_bucket", _h + "_sum", _h + "_count"}
SELECTOR = re.compile(r'\b(up|rc_watchdog_\w+|process_\w+)\b')
# What Grafana puts in place of the variables, for parsing.
GRAFANA_VARS = {"job": ".+", "instance": ".+", "__rate_interval": "1m", "__interval": "15s",
                "__range": "1h"}


def load_dashboard():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    panels = []
    for p in dash["panels"]:
        panels.append(p)
        panels.extend(p.get("panels", []))
    return dash, panels


def substitute(expr):
    for name, value in sorted(GRAFANA_VARS.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${%s}" % name, value).replace("$" + name, value)
    return expr


@unittest.skipUnless(PROMTOOL, "promtool is not installed (apt-get install prometheus)")
class Rules(unittest.TestCase):
    def promtool(self, *args):
        proc = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120,
                              cwd=RULES_DIR)
        self.assertEqual(proc.returncode, 0, "promtool %s exited %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    def test_check_rules(self):
        out = self.promtool("check", "rules", RULES)
        self.assertIn("SUCCESS", out)

    def test_unit_tests(self):
        out = self.promtool("test", "rules", RULE_TESTS)
        self.assertIn("SUCCESS", out)

    def test_every_alert_has_a_unit_test_and_a_runbook(self):
        # Without a YAML library: alert names and annotations are simple lines.
        with open(RULES) as f:
            rules = f.read()
        with open(RULE_TESTS) as f:
            tests = f.read()
        alerts = [line.split(":", 1)[1].strip() for line in rules.splitlines()
                  if line.strip().startswith("- alert:")]
        self.assertGreaterEqual(len(alerts), 9)
        self.assertEqual(len(alerts), len(set(alerts)), "duplicate alert names")
        for name in alerts:
            self.assertIn("alertname: " + name + "\n", tests, name + " has no unit test")
        self.assertEqual(rules.count('runbook: "README.md#alerts"'), len(alerts))
        self.assertEqual(rules.count("severity: "), len(alerts))
        self.assertEqual(rules.count("summary: "), len(alerts))
        self.assertEqual(rules.count("description: "), len(alerts))


class Dashboard(unittest.TestCase):
    def setUp(self):
        self.dash, self.panels = load_dashboard()

    def test_structure(self):
        d = self.dash
        self.assertGreaterEqual(d["schemaVersion"], 36)
        self.assertEqual(d["uid"], "rc-watchdog")
        self.assertEqual([i["name"] for i in d["__inputs"]], ["DS_PROMETHEUS"])
        variables = {v["name"]: v for v in d["templating"]["list"]}
        self.assertEqual(variables["DS_PROMETHEUS"]["type"], "datasource")
        self.assertEqual(variables["DS_PROMETHEUS"]["query"], "prometheus")
        for name in ("job", "instance"):
            self.assertEqual(variables[name]["type"], "query")
            self.assertEqual(variables[name]["datasource"]["uid"], "${DS_PROMETHEUS}")
            self.assertTrue(variables[name]["definition"].startswith("label_values("))
        ids = [p["id"] for p in self.panels]
        self.assertEqual(len(ids), len(set(ids)), "duplicate panel ids")
        cells = set()
        for p in self.panels:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, "panel %r overlaps another" % p["title"])
                    cells.add((x, y))
            if p["type"] == "row":
                continue
            self.assertTrue(p.get("description"), p["title"])
            self.assertEqual(p["datasource"]["uid"], "${DS_PROMETHEUS}", p["title"])
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], "${DS_PROMETHEUS}", p["title"])
                # Every selector filters on the job and instance variables.
                for m in re.finditer(r'\b(rc_watchdog_\w+|process_\w+|up)\{([^}]*)\}', t["expr"]):
                    self.assertIn('job=~"$job"', m.group(2), p["title"])
                    self.assertIn('instance=~"$instance"', m.group(2), p["title"])
                self.assertNotRegex(t["expr"], r'\b(rc_watchdog_\w+|process_\w+)\b(?!\{)',
                                    "%s: a selector without {job, instance}" % p["title"])

    def test_only_interface_metrics(self):
        used = set()
        for p in self.panels:
            for t in p.get("targets", []):
                names = set(SELECTOR.findall(t["expr"]))
                self.assertEqual(names - METRICS, set(), p["title"])
                used |= names
        for v in self.dash["templating"]["list"]:
            used |= set(SELECTOR.findall(v.get("definition", "")))
        # The brief's panels: every metric of §4 is shown somewhere.
        shown = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
        missing = {n for n in METRICS if not n.endswith(("_bucket", "_sum", "_count"))} - shown
        self.assertEqual(missing, set())

    @unittest.skipUnless(PROMTOOL, "promtool is not installed (apt-get install prometheus)")
    def test_every_expression_parses(self):
        exprs = [substitute(t["expr"]) for p in self.panels for t in p.get("targets", [])]
        for v in self.dash["templating"]["list"]:
            m = re.fullmatch(r"label_values\((.+),\s*\w+\)", v.get("definition", ""))
            if m:
                exprs.append(substitute(m.group(1)))
        lines = ["groups:", "  - name: dashboard", "    rules:"]
        for i, expr in enumerate(exprs):
            lines.append("      - record: rcw_dashboard_expr_%d" % i)
            lines.append("        expr: %s" % json.dumps(expr))
        with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="rcw-dash-") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            proc = subprocess.run([PROMTOOL, "check", "rules", f.name], capture_output=True,
                                  text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("SUCCESS: %d rules found" % len(exprs), proc.stdout)


if __name__ == "__main__":
    main()
