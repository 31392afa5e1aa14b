"""Install layout (cmake --install into a DESTDIR), as the README's "Install"
describes it, and the version contract with debian/changelog.

The Debian package itself (debian/, built by scripts/package.sh with
dpkg-buildpackage) is a whole Release build: scripts/test.sh's package phase
builds it and runs tests/package/test_deb.py on it (lintian, contents).
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from rcw_e2e import BINARY, SOURCE_DIR, main

BUILD_DIR = os.path.dirname(os.path.abspath(BINARY))
CMAKE = shutil.which("cmake")
DPKG_PARSECHANGELOG = shutil.which("dpkg-parsechangelog")
ANALYZE = shutil.which("systemd-analyze")

# Relative to DESTDIR, with --prefix /usr.
EXPECTED = [
    "usr/bin/rc-watchdog",
    "usr/lib/systemd/system/rc-watchdog.service",
    "etc/rc-watchdog/config.yaml",
    "usr/share/doc/rc-watchdog/examples/example.yaml",
    "usr/share/man/man8/rc-watchdog.8",
    "usr/share/man/man5/rc-watchdog.yaml.5",
    "usr/share/bash-completion/completions/rc-watchdog",
    "usr/share/doc/rc-watchdog/docs/configuration.md",
]


def run(*cmd, env=None, timeout=300):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise AssertionError("%s exited %d\n%s\n%s" % (" ".join(cmd), proc.returncode,
                                                       proc.stdout, proc.stderr))
    return proc


def install(destdir, prefix="/usr"):
    env = dict(os.environ, DESTDIR=destdir)
    return run(CMAKE, "--install", BUILD_DIR, "--prefix", prefix, env=env).stdout


def share_files():
    """What of config/ belongs in share/rc-watchdog (alert rules, dashboards)."""
    rules = [f for f in glob.glob(os.path.join(SOURCE_DIR, "config", "prometheus", "*.yml"))
             if not f.endswith(".test.yml")]
    return sorted([os.path.basename(f)
                   for f in rules + glob.glob(os.path.join(SOURCE_DIR, "config", "grafana", "*.json"))]
                  + ["rc-watchdog.schema.json"])


@unittest.skipIf(CMAKE is None, "cmake is not installed")
class Install(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rcw-install-")
        self.addCleanup(self.dir.cleanup)
        self.dest = self.dir.name

    def path(self, rel):
        return os.path.join(self.dest, rel)

    def test_files_land_where_the_unit_and_docs_expect_them(self):
        install(self.dest)
        for rel in EXPECTED:
            self.assertTrue(os.path.isfile(self.path(rel)), rel)
        self.assertTrue(os.access(self.path("usr/bin/rc-watchdog"), os.X_OK))
        examples = os.listdir(self.path("usr/share/doc/rc-watchdog/examples"))
        for name in os.listdir(os.path.join(SOURCE_DIR, "config", "examples")):
            self.assertIn(name, examples)
        if os.path.exists(os.path.join(SOURCE_DIR, "README.md")):
            self.assertTrue(os.path.isfile(self.path("usr/share/doc/rc-watchdog/README.md")))
        shared = sorted(os.listdir(self.path("usr/share/rc-watchdog"))) \
            if os.path.isdir(self.path("usr/share/rc-watchdog")) else []
        self.assertEqual(shared, share_files())
        # The installed config is the shipped example, its modeline naming the
        # installed JSON Schema.
        with open(self.path("etc/rc-watchdog/config.yaml")) as a, \
                open(os.path.join(SOURCE_DIR, "config", "example.yaml")) as b:
            installed, example = a.read(), b.read()
        self.assertTrue(example.startswith("# yaml-language-server: $schema=rc-watchdog.schema.json\n"))
        self.assertEqual(installed, example.replace(
            "$schema=rc-watchdog.schema.json",
            "$schema=/usr/share/rc-watchdog/rc-watchdog.schema.json", 1))
        # The installed binary runs.
        out = run(self.path("usr/bin/rc-watchdog"), "version").stdout
        self.assertIn("rc-watchdog", out)

    def test_unit_names_the_installed_binary(self):
        install(self.dest, prefix="/opt/rcw")
        unit = self.path("opt/rcw/lib/systemd/system/rc-watchdog.service")
        with open(unit) as f:
            text = f.read()
        self.assertIn("ExecStart=/opt/rcw/bin/rc-watchdog run -c /etc/rc-watchdog/config.yaml",
                      text)
        self.assertNotIn("/usr/bin/rc-watchdog", text)
        # The config stays in /etc whatever the prefix: it is the daemon's default -c.
        self.assertTrue(os.path.isfile(self.path("etc/rc-watchdog/config.yaml")))

    @unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed")
    def test_installed_unit_verifies(self):
        install(self.dest)
        with open(self.path("usr/lib/systemd/system/rc-watchdog.service")) as f:
            text = f.read()
        unit = os.path.join(self.dest, "rc-watchdog.service")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/bin/rc-watchdog", self.path("usr/bin/rc-watchdog")))
        # verify runs `man` for the unit's man: Documentation= pages.
        proc = subprocess.run([ANALYZE, "verify", unit], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ, SYSTEMD_LOG_COLOR="0",
                                                    MANPATH=self.path("usr/share/man")))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr.strip(), "")

    def test_installed_config_takes_the_secret_from_the_credential(self):
        # The unit runs with DynamicUser= and hands the secret over with
        # LoadCredential=client-secret:/etc/rc-watchdog/client-secret. A
        # client_secret_file in config.yaml is tried first and, being root's
        # 0600 file, cannot be read by the dynamic user: exit 78 at start.
        install(self.dest)
        with open(self.path("etc/rc-watchdog/config.yaml")) as f:
            active = [l for l in f if l.strip().startswith("client_secret_file:")]
        self.assertEqual(active, [])

    def test_an_edited_config_is_never_overwritten(self):
        install(self.dest)
        conf = self.path("etc/rc-watchdog/config.yaml")
        with open(conf, "w") as f:
            f.write("# edited by the operator\n")
        out = install(self.dest)
        self.assertIn("Keeping", out)
        with open(conf) as f:
            self.assertEqual(f.read(), "# edited by the operator\n")


@unittest.skipIf(DPKG_PARSECHANGELOG is None, "dpkg-parsechangelog (dpkg-dev) is not installed")
class Version(unittest.TestCase):
    def test_the_binary_prints_the_changelog_version(self):
        version = run(DPKG_PARSECHANGELOG, "-l", os.path.join(SOURCE_DIR, "debian", "changelog"),
                      "-S", "Version").stdout.strip()
        out = run(BINARY, "version").stdout
        self.assertTrue(out.startswith("rc-watchdog %s (revision " % version), out)


if __name__ == "__main__":
    main()
