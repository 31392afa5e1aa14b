"""The docs cannot drift from the code (issue 14):

- every config key the loader accepts appears in docs/configuration.md. The
  keys are asked of the loader itself: `check-config` on a config with an
  unknown key in a mapping answers "unknown key (use a, b or c)" with every
  key that mapping accepts; each of those that is itself a mapping (or a list
  of mappings) is asked in turn;
- every metric the daemon exports appears in docs/metrics.md: the names of
  daemon/telemetry/metric_names.h and those a running daemon serves;
- every scdoc man page renders with no groff warning, as `man -l` shows it.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from rcw_e2e import BINARY, SOURCE_DIR, Sim, Workspace, main, scrape, wait_for_metrics

DOCS = os.path.join(SOURCE_DIR, "docs")
PROBE = "zzzqqq"  # far from every real key: no "did you mean"
SCDOC = shutil.which("scdoc")
GROFF = shutil.which("groff")
MAN = shutil.which("man")


def read(path):
    with open(path) as f:
        return f.read()


def documented(text):
    """Every `...` span of a markdown text."""
    return set(re.findall(r"`([^`\n]+)`", text))


class ConfigKeys(unittest.TestCase):
    BASE = {
        "api": {"base_url": "https://api.example.com/reality-conversion"},
        "auth": {"token_url": "https://ims.example.com/connect/token", "client_id": "x"},
        "policies": [{"name": "p", "limits": {"max_runtime": "1h"}}],
        "budgets": [{"name": "b", "group_by": "all", "window": "daily", "limit": 1}],
    }

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="rcw-docs-")
        cls.env = dict(os.environ, RC_WATCHDOG_CLIENT_SECRET="s3cret")
        cls.env.pop("CREDENTIALS_DIRECTORY", None)
        cls.runs = 0

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def errors(self, doc):
        path = os.path.join(self.dir.name, "config.yaml")
        with open(path, "w") as f:
            json.dump(doc, f)  # JSON is YAML
        proc = subprocess.run([BINARY, "check-config", "-c", path], capture_output=True,
                              text=True, timeout=60, env=self.env)
        type(self).runs += 1
        return proc.stdout + proc.stderr

    def with_value(self, path, value):
        """BASE with `value` at `path` (keys and list indexes), made as needed."""
        doc = json.loads(json.dumps(self.BASE))
        node = doc
        for i, step in enumerate(path[:-1]):
            nxt = path[i + 1]
            if isinstance(node, list):
                while len(node) <= step:
                    node.append({})
                node = node[step]
                continue
            if step not in node or not isinstance(node[step], (dict, list)) or \
                    isinstance(node[step], list) != isinstance(nxt, int):
                node[step] = [] if isinstance(nxt, int) else {}
            node = node[step]
        if isinstance(node, list):
            while len(node) <= path[-1]:
                node.append({})
        node[path[-1]] = value
        return doc

    @staticmethod
    def dotted(path):
        out = ""
        for step in path:
            out += "[]" if isinstance(step, int) else ("." if out else "") + step
        return out

    def accepted(self, path):
        """The keys the mapping at `path` accepts, or None if it is no mapping
        that reports unknown keys."""
        text = self.errors(self.with_value(path + [PROBE], 1))
        where = re.escape(re.sub(r"\[\]", "[0]", self.dotted(path + [PROBE])))
        m = re.search(where + r": unknown key \(use ([^)\n]*)\)", text)
        if not m:
            return None
        return [k.strip() for k in re.split(r", | or ", m.group(1)) if k.strip()]

    def loader_keys(self, path=(), seen=None):
        keys = []
        for key in self.accepted(list(path)) or []:
            child = list(path) + [key]
            keys.append(self.dotted(child))
            sub = self.accepted(child)
            if sub is not None:
                keys += self.loader_keys(child)
            elif self.accepted(child + [0]) is not None:
                keys += self.loader_keys(child + [0])
        return keys

    def test_every_key_the_loader_accepts_is_documented(self):
        keys = self.loader_keys()
        # The probe itself works: it finds keys at every depth.
        for key in ("api.base_url", "enforcement.retry.max_attempts",
                    "policies[].limits.max_runtime", "budgets[].match.types",
                    "estimates.pu_per_hour.MeshSampling"):
            self.assertIn(key, keys)
        docs = documented(read(os.path.join(DOCS, "configuration.md")))
        missing = [k for k in keys if k not in docs]
        self.assertEqual(missing, [], "config keys missing from docs/configuration.md")

    def test_the_probe_sees_an_undocumented_key(self):
        # What the test above relies on: a key outside the docs is told apart.
        self.assertIsNone(self.accepted(["api", "base_url"]))
        self.assertIn("max_attempts", self.accepted(["enforcement", "retry"]))


class Metrics(unittest.TestCase):
    def test_every_metric_in_metric_names_h_is_documented(self):
        header = read(os.path.join(SOURCE_DIR, "daemon", "telemetry", "metric_names.h"))
        names = set(re.findall(r'"(rc_watchdog_[a-z0-9_]+)"', header))
        self.assertGreater(len(names), 20)
        docs = documented(read(os.path.join(DOCS, "metrics.md")))
        self.assertEqual(sorted(names - docs), [], "metrics missing from docs/metrics.md")

    def test_every_metric_a_running_daemon_exports_is_documented(self):
        sim = Sim()
        self.addCleanup(sim.close)
        ws = Workspace(sim, policies=[{"name": "p", "limits": {"max_runtime": "1h"}}],
                       budgets=[{"name": "b", "group_by": "all", "window": "daily",
                                 "limit": 100, "warn_at": 0.5}])
        self.addCleanup(ws.close)
        proc = ws.spawn()

        def stop():
            proc.terminate()
            proc.wait(timeout=30)
        self.addCleanup(stop)
        port = wait_for_metrics(proc, log=ws.log)
        text = scrape(port)
        names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        self.assertIn("rc_watchdog_build_info", names)
        self.assertIn("process_open_fds", names)
        docs = documented(read(os.path.join(DOCS, "metrics.md")))
        self.assertEqual(sorted(names - docs), [], "exported metrics missing from docs/metrics.md")


@unittest.skipIf(None in (SCDOC, GROFF), "scdoc or groff is not installed")
class ManPages(unittest.TestCase):
    PAGES = ["rc-watchdog.8", "rc-watchdog.yaml.5"]

    def roff(self, page):
        with open(os.path.join(DOCS, "man", page + ".scd")) as src:
            proc = subprocess.run([SCDOC], stdin=src, capture_output=True, text=True,
                                  timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_pages_render_without_groff_warnings(self):
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        for page in self.PAGES:
            roff = self.roff(page)
            # -ww: every warning; -z: no output, only diagnostics.
            proc = subprocess.run([GROFF, "-man", "-Tutf8", "-ww", "-z"], input=roff,
                                  capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual((proc.returncode, proc.stderr), (0, ""), page)
            if MAN:
                with tempfile.NamedTemporaryFile("w", suffix="." + page[-1]) as f:
                    f.write(roff)
                    f.flush()
                    shown = subprocess.run([MAN, "--warnings", "-l", f.name], capture_output=True,
                                           text=True, timeout=60, env=env)
                self.assertEqual((shown.returncode, shown.stderr), (0, ""), page)
                self.assertIn("NAME", shown.stdout)

    def test_a_warning_would_be_seen(self):
        # The check above is worth something only if groff does warn here.
        proc = subprocess.run([GROFF, "-man", "-Tutf8", "-ww", "-z"], input=".TH X 1\n.BOGUS\n",
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.stderr, "")

    def test_the_config_page_names_every_documented_section(self):
        page = read(os.path.join(DOCS, "man", "rc-watchdog.yaml.5.scd"))
        for key in ("api.max_requests_per_hour", "state.history_retention",
                    "notify.alertmanager.urls", "estimates.pu_per_hour"):
            self.assertIn("*" + key + "*", page)


if __name__ == "__main__":
    main()
