"""The Debian package built by scripts/package.sh (dpkg-buildpackage -us -uc -b),
checked the way issue 14 asks: lintian reports no error and no warning; the
files an operator needs are in it; the config is a conffile; the version of
debian/changelog is the package's and the one `rc-watchdog version` prints.

Run by scripts/test.sh's package phase (not by ctest: building the package is
a whole Release build):

    RCW_DEB=build-package/rc-watchdog_0.1.0_amd64.deb python3 tests/package/test_deb.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("RCW_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DEB = os.environ.get("RCW_DEB", "")

REQUIRED = [
    "/usr/bin/rc-watchdog",
    "/lib/systemd/system/rc-watchdog.service",
    "/etc/rc-watchdog/config.yaml",
    "/usr/share/man/man8/rc-watchdog.8.gz",
    "/usr/share/man/man5/rc-watchdog.yaml.5.gz",
    "/usr/share/bash-completion/completions/rc-watchdog",
    "/usr/share/rc-watchdog/rc-watchdog-rules.yml",
    "/usr/share/rc-watchdog/rc-watchdog.json",
    "/usr/share/rc-watchdog/rc-watchdog.schema.json",
    "/usr/share/doc/rc-watchdog/examples/alertmanager/alertmanager.yml",
    "/usr/share/doc/rc-watchdog/copyright",
    "/usr/share/doc/rc-watchdog/changelog.gz",
    "/usr/share/doc/rc-watchdog/examples/example.yaml",
]


def run(*cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if proc.returncode != 0:
        raise AssertionError("%s exited %d\n%s\n%s" % (" ".join(cmd), proc.returncode,
                                                       proc.stdout, proc.stderr))
    return proc.stdout


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(DEB):
            raise unittest.SkipTest("RCW_DEB does not name a .deb: %r" % DEB)
        cls.dir = tempfile.TemporaryDirectory(prefix="rcw-deb-")
        cls.root = os.path.join(cls.dir.name, "root")
        cls.control = os.path.join(cls.dir.name, "control")
        run("dpkg-deb", "-x", DEB, cls.root)
        run("dpkg-deb", "-e", DEB, cls.control)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def field(self, name):
        return run("dpkg-deb", "-f", DEB, name).strip()

    def test_lintian_reports_no_error_and_no_warning(self):
        proc = subprocess.run(["lintian", "--fail-on", "error,warning", DEB], capture_output=True,
                              text=True, timeout=600)
        tags = [l for l in proc.stdout.splitlines() if l[:2] in ("E:", "W:")]
        self.assertEqual(tags, [], proc.stdout + proc.stderr)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_contents(self):
        listing = run("dpkg-deb", "-c", DEB)
        paths = {l.split()[5].lstrip(".").split(" -> ")[0] for l in listing.splitlines()}
        for path in REQUIRED:
            self.assertIn(path, paths)
        self.assertFalse([p for p in paths if p.startswith("/usr/local")])
        # The licence is in copyright, not installed twice.
        self.assertNotIn("/usr/share/doc/rc-watchdog/LICENSE", paths)

    def test_version_is_the_changelog_version_everywhere(self):
        version = run("dpkg-parsechangelog", "-l",
                      os.path.join(SOURCE_DIR, "debian", "changelog"), "-S", "Version").strip()
        self.assertEqual(self.field("Version"), version)
        out = run(os.path.join(self.root, "usr", "bin", "rc-watchdog"), "version")
        self.assertTrue(out.startswith("rc-watchdog %s (revision " % version), out)
        self.assertNotIn("(revision unknown)", out)

    def test_metadata(self):
        self.assertEqual(self.field("Package"), "rc-watchdog")
        depends = self.field("Depends")
        for lib in ("libcurl4", "libyaml-cpp0.7", "libsystemd0", "libstdc++6", "tzdata"):
            self.assertIn(lib, depends)
        self.assertLessEqual(len(self.field("Description").splitlines()[0]), 80)

    def test_config_is_a_conffile_pointing_at_the_installed_schema(self):
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/rc-watchdog/config.yaml"])
        with open(os.path.join(self.root, "etc", "rc-watchdog", "config.yaml")) as f:
            first = f.readline().strip()
        self.assertEqual(first, "# yaml-language-server: "
                                "$schema=/usr/share/rc-watchdog/rc-watchdog.schema.json")

    def test_unit_is_managed_by_debhelper_and_not_started(self):
        with open(os.path.join(self.root, "lib", "systemd", "system",
                               "rc-watchdog.service")) as f:
            self.assertIn("ExecStart=/usr/bin/rc-watchdog run", f.read())
        with open(os.path.join(self.control, "postinst")) as f:
            postinst = f.read()
        self.assertIn("deb-systemd-helper", postinst)
        # Not enabled on install (it needs a config and a secret): enable only
        # re-creates the links of a unit the admin had enabled.
        lines = postinst.splitlines()
        for i, line in enumerate(lines):
            if "deb-systemd-helper enable" in line:
                self.assertIn("was-enabled", "\n".join(lines[max(0, i - 2):i]))
        # deb-systemd-invoke starts no disabled unit that is not running; an
        # upgrade restarts the service after unpacking, and nothing stops it
        # before (preinst), so an upgrade never leaves it stopped.
        self.assertIn("deb-systemd-invoke $_dh_action", postinst)
        preinst = os.path.join(self.control, "preinst")
        if os.path.exists(preinst):
            with open(preinst) as f:
                self.assertNotIn("deb-systemd-invoke stop", f.read())
        with open(os.path.join(self.control, "postrm")) as f:
            self.assertIn("rm -rf /var/lib/private/rc-watchdog", f.read())

    def test_man_pages_render_without_warnings(self):
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        for page in ("man8/rc-watchdog.8.gz", "man5/rc-watchdog.yaml.5.gz"):
            path = os.path.join(self.root, "usr", "share", "man", page)
            proc = subprocess.run(["man", "--warnings", "-l", path], capture_output=True,
                                  text=True, timeout=60, env=env)
            self.assertEqual((proc.returncode, proc.stderr), (0, ""), page)
            self.assertIn("EXIT STATUS" if page.startswith("man8") else "POLICIES", proc.stdout)

    @unittest.skipIf(shutil.which("bash") is None, "no bash")
    def test_completion_completes_commands(self):
        script = os.path.join(self.root, "usr", "share", "bash-completion", "completions",
                              "rc-watchdog")
        out = run("bash", "-c", 'source "$1"; COMP_WORDS=(rc-watchdog ch); COMP_CWORD=1; '
                  '_rc_watchdog; echo "${COMPREPLY[@]}"', "_", script)
        self.assertEqual(out.split(), ["check-config"])


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=sys.argv[:1])
