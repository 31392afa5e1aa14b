"""systemd/rc-watchdog.service: systemd-analyze verify and security, and the
settings the daemon's contract relies on (rc-watchdog(8)).

`systemd-analyze verify` exits 0 even for unknown keys or bad values, so any
output on stderr is a failure. It also needs the ExecStart binaries to exist:
the unit is checked as a copy whose /usr/bin/rc-watchdog is the built binary.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from rcw_e2e import BINARY, SOURCE_DIR, main

UNIT = os.path.join(SOURCE_DIR, "systemd", "rc-watchdog.service")
ANALYZE = shutil.which("systemd-analyze")
MAX_EXPOSURE = 2.0


def parse_unit(path):
    """{section: [(key, value), ...]} of a unit file (repeated keys kept)."""
    sections, current = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, _, value = line.partition("=")
            current.append((key.strip(), value.strip()))
    return sections


def values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


@unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed")
class Analyze(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rcw-unit-")
        self.addCleanup(self.dir.cleanup)
        self.unit = os.path.join(self.dir.name, "rc-watchdog.service")
        with open(UNIT) as f:
            text = f.read()
        self.assertIn("/usr/bin/rc-watchdog", text)
        with open(self.unit, "w") as f:
            f.write(text.replace("/usr/bin/rc-watchdog", os.path.abspath(BINARY)))

    def man_path(self):
        """A man tree of the built pages: verify runs `man` for each man:
        Documentation= page, so the unit names only pages the build makes."""
        root = os.path.join(self.dir.name, "man")
        built = os.path.join(os.path.dirname(os.path.abspath(BINARY)), "man")
        for page in ("rc-watchdog.8", "rc-watchdog.yaml.5"):
            section = os.path.join(root, "man" + page[-1])
            os.makedirs(section, exist_ok=True)
            if os.path.exists(os.path.join(built, page)):
                shutil.copy(os.path.join(built, page), section)
        return root

    def analyze(self, *args):
        env = dict(os.environ, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="", LC_ALL="C.UTF-8",
                   MANPATH=self.man_path())
        return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=120,
                              env=env, cwd=self.dir.name)

    def test_verify_is_silent(self):
        proc = self.analyze("verify", self.unit)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr.strip(), "", "systemd-analyze verify complained")

    def test_verify_catches_a_broken_copy(self):
        # The check above is only worth something if verify does report problems here.
        with open(self.unit, "a") as f:
            f.write("\n[Service]\nProtectSytem=strict\n")
        proc = self.analyze("verify", self.unit)
        self.assertIn("ProtectSytem", proc.stderr)

    def test_security_exposure_at_most_2_0(self):
        # systemd 252 takes --threshold as an integer in tenths (0..100):
        # "--threshold=2.0" fails to parse there, 20 means 2.0.
        proc = self.analyze("security", "--offline=yes", "--threshold=%d" % (MAX_EXPOSURE * 10),
                            self.unit)
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", proc.stdout)
        self.assertIsNotNone(match, proc.stdout + proc.stderr)
        exposure = float(match.group(1))
        self.assertLessEqual(exposure, MAX_EXPOSURE, proc.stdout)
        self.assertEqual(proc.returncode, 0, proc.stdout[-2000:] + proc.stderr)


class Contract(unittest.TestCase):
    """What the daemon's behaviour assumes of its unit."""

    def setUp(self):
        self.unit = parse_unit(UNIT)

    def one(self, key, section="Service"):
        got = values(self.unit, section, key)
        self.assertEqual(len(got), 1, "%s= should be set once, is %r" % (key, got))
        return got[0]

    def test_notify_and_watchdog(self):
        self.assertEqual(self.one("Type"), "notify")
        self.assertIn(self.one("NotifyAccess"), ("main", "all"))
        self.assertTrue(self.one("WatchdogSec"))

    def test_exec_lines(self):
        start = self.one("ExecStart").split()
        self.assertEqual(start[:2], ["/usr/bin/rc-watchdog", "run"])
        self.assertIn("/etc/rc-watchdog/config.yaml", start)
        self.assertEqual(self.one("ExecReload"), "/bin/kill -HUP $MAINPID")

    def test_config_errors_are_not_restarted(self):
        self.assertEqual(self.one("Restart"), "on-failure")
        self.assertIn("78", self.one("RestartPreventExitStatus").split())

    def test_no_exec_start_pre_that_defeats_restart_prevent_exit_status(self):
        # RestartPreventExitStatus= looks at the main process's exit status
        # only (systemd service.c, service_shall_restart: main_exec_status). A
        # check-config in ExecStartPre= that exits 78 fails the start with
        # Restart=on-failure and no main status: the unit restarts every
        # RestartSec= forever. `run` validates the config itself and exits 78.
        self.assertEqual(values(self.unit, "Service", "ExecStartPre"), [])

    def test_secret_comes_as_a_credential(self):
        # The daemon reads $CREDENTIALS_DIRECTORY/client-secret.
        cred = self.one("LoadCredential")
        self.assertTrue(cred.startswith("client-secret:"), cred)

    def test_state_directory_matches_the_default(self):
        # state.directory defaults to /var/lib/rc-watchdog.
        self.assertEqual(self.one("StateDirectory"), "rc-watchdog")
        self.assertEqual(self.one("DynamicUser"), "yes")

    def test_stop_timeout_leaves_room_for_a_clean_stop(self):
        # The e2e tests hold the daemon to 10 s from SIGTERM to exit.
        stop = self.one("TimeoutStopSec")
        m = re.fullmatch(r"(\d+)(s|min)?", stop)
        self.assertIsNotNone(m, stop)
        seconds = int(m.group(1)) * (60 if m.group(2) == "min" else 1)
        self.assertGreaterEqual(seconds, 10)

    def test_installable(self):
        self.assertEqual(values(self.unit, "Install", "WantedBy"), ["multi-user.target"])


if __name__ == "__main__":
    main()
