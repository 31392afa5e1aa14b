"""Install layout (cmake --install into a DESTDIR) and the Debian package
(cpack -G DEB), as the README's "Install as a service" describes them.

cpack first builds the `preinstall` target (all of the project). In a build
that is up to date that takes seconds (about 5 s in all); when something would
be compiled or linked, cpack would rebuild under the feet of the other tests,
so the package tests are skipped then (with the reason).
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
CPACK = shutil.which("cpack")
DPKG_DEB = shutil.which("dpkg-deb")
ANALYZE = shutil.which("systemd-analyze")

# Relative to DESTDIR, with --prefix /usr.
EXPECTED = [
    "usr/bin/rc-watchdog",
    "usr/lib/systemd/system/rc-watchdog.service",
    "etc/rc-watchdog/config.yaml",
    "usr/share/doc/rc-watchdog/examples/example.yaml",
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
    return sorted(os.path.basename(f)
                  for f in rules + glob.glob(os.path.join(SOURCE_DIR, "config", "grafana", "*.json")))


def pending_build_steps():
    """What building `preinstall` (which cpack runs first) would compile or link;
    [] when the build is up to date."""
    cache = os.path.join(BUILD_DIR, "CMakeCache.txt")
    generator = ""
    with open(cache) as f:
        for line in f:
            if line.startswith("CMAKE_GENERATOR:INTERNAL="):
                generator = line.split("=", 1)[1].strip()
    if generator == "Unix Makefiles":
        cmd = ["make", "-n", "-C", BUILD_DIR, "preinstall"]
    elif generator.startswith("Ninja"):
        cmd = ["ninja", "-n", "-C", BUILD_DIR, "preinstall"]
    else:
        return ["unknown generator %r" % generator]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return ["%s failed: %s" % (" ".join(cmd), proc.stderr.strip()[-200:])]
    return [line.rsplit('"', 2)[-2] if line.count('"') >= 2 else line
            for line in proc.stdout.splitlines()
            if ("Building" in line or "Linking" in line) and "no work to do" not in line]


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
        # The installed example config is the shipped example.
        with open(self.path("etc/rc-watchdog/config.yaml")) as a, \
                open(os.path.join(SOURCE_DIR, "config", "example.yaml")) as b:
            self.assertEqual(a.read(), b.read())
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
        proc = subprocess.run([ANALYZE, "verify", unit], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ, SYSTEMD_LOG_COLOR="0"))
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


@unittest.skipIf(None in (CMAKE, CPACK, DPKG_DEB), "cpack or dpkg-deb is not installed")
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        pending = pending_build_steps()
        if pending:
            raise unittest.SkipTest("the build is not up to date (%s): cpack would rebuild it "
                                    "under the other tests" % "; ".join(pending[:2]))
        cls.dir = tempfile.TemporaryDirectory(prefix="rcw-deb-")
        out = os.path.join(cls.dir.name, "out")
        run(CPACK, "-G", "DEB", "-B", out, "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"),
            timeout=300)
        debs = glob.glob(os.path.join(out, "*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def field(self, name):
        return run(DPKG_DEB, "-f", self.deb, name).stdout.strip()

    def control_file(self, name):
        tar = subprocess.run([DPKG_DEB, "--ctrl-tarfile", self.deb], capture_output=True,
                             check=True).stdout
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "ctrl.tar")
            with open(p, "wb") as f:
                f.write(tar)
            listing = run("tar", "tvf", p).stdout
            content = run("tar", "xOf", p, "./" + name).stdout
        mode = [l.split()[0] for l in listing.splitlines() if l.endswith("./" + name)]
        return content, mode[0] if mode else ""

    def test_metadata(self):
        self.assertTrue(os.path.basename(self.deb).startswith("rc-watchdog_"))
        self.assertEqual(self.field("Package"), "rc-watchdog")
        self.assertTrue(self.field("Maintainer"))
        depends = self.field("Depends")
        for lib in ("libcurl4", "libyaml-cpp0.7", "libsystemd0", "libstdc++6", "systemd"):
            self.assertIn(lib, depends)

    def test_contents(self):
        listing = run(DPKG_DEB, "-c", self.deb).stdout
        paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        for rel in EXPECTED:
            self.assertIn("/" + rel, paths)
        for name in share_files():
            self.assertIn("/usr/share/rc-watchdog/" + name, paths)
        self.assertFalse([p for p in paths if p.startswith("/usr/local")], paths)
        unit = subprocess.run([DPKG_DEB, "--fsys-tarfile", self.deb], capture_output=True,
                              check=True).stdout
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "data.tar")
            with open(p, "wb") as f:
                f.write(unit)
            text = run("tar", "xOf", p, "./usr/lib/systemd/system/rc-watchdog.service").stdout
        self.assertIn("ExecStart=/usr/bin/rc-watchdog run", text)

    def test_config_is_a_conffile(self):
        content, _ = self.control_file("conffiles")
        self.assertEqual(content.split(), ["/etc/rc-watchdog/config.yaml"])

    def test_postinst_reloads_systemd(self):
        content, mode = self.control_file("postinst")
        self.assertTrue(content.startswith("#!/bin/sh"))
        self.assertIn("systemctl --system daemon-reload", content)
        self.assertIn("/run/systemd/system", content)  # only when systemd runs
        self.assertEqual(mode, "-rwxr-xr-x")
        run("sh", "-n", "-c", content)
        for script in ("prerm", "postrm"):
            text, mode = self.control_file(script)
            self.assertEqual(mode, "-rwxr-xr-x", script)
            run("sh", "-n", "-c", text)


if __name__ == "__main__":
    main()
