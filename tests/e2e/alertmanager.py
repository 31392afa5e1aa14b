"""A real Prometheus Alertmanager and a webhook sink, for the e2e tests of
`notify` (issue 12).

- WebhookSink: an HTTP server in a thread on 127.0.0.1:0 that records every
  webhook payload an Alertmanager POSTs, with its receipt time (time.time(),
  comparable with the simulator's `real_ts`) and the receiver path.
- Alertmanager: the Debian binary (package prometheus-alertmanager) on a free
  loopback port, clustering off, storage in a temp dir, a generated config
  that routes on the `team` label to one webhook per team plus a catch-all.
  It can be stopped (SIGTERM, or SIGKILL) and started again on the same port
  with the same storage (silences and the notification log survive).

Every wait is "until the condition holds or a generous timeout passes"
(machines may be busy); nothing sleeps for time to pass.
"""
import datetime
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from rcw_e2e import listening_ports, wait_for

BINARY = (os.environ.get("RCW_ALERTMANAGER") or shutil.which("prometheus-alertmanager")
          or shutil.which("alertmanager") or "/usr/bin/prometheus-alertmanager")
AMTOOL = shutil.which("amtool")
TIMEOUT = 60  # seconds: the default outer bound of every wait here


def available():
    return os.access(BINARY, os.X_OK)


def rfc3339(t):
    """A Unix time as RFC 3339 UTC with milliseconds, as Alertmanager takes it."""
    dt = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text):
    """RFC 3339 (any fraction, Z or offset) -> Unix time."""
    text = text.replace("Z", "+00:00")
    head, sep, rest = text.partition(".")
    if sep:  # fromisoformat in 3.10 wants 3 or 6 fraction digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, tail = rest[:digits], rest[digits:]
        text = head + "." + (frac + "000000")[:6] + tail
    return datetime.datetime.fromisoformat(text).timestamp()


class Notification:
    """One alert of one webhook payload, as a receiver got it."""

    def __init__(self, received, path, alert):
        self.received = received        # time.time() at the sink
        self.path = path                # the receiver's URL path, e.g. /team/survey
        self.status = alert.get("status")        # firing | resolved
        self.labels = alert.get("labels", {})
        self.annotations = alert.get("annotations", {})
        self.starts_at = alert.get("startsAt")
        self.ends_at = alert.get("endsAt")

    @property
    def alertname(self):
        return self.labels.get("alertname")

    @property
    def job_id(self):
        return self.labels.get("job_id")

    def matches(self, path=None, status=None, **labels):
        return ((path is None or self.path == path or self.path.startswith(path.rstrip("/") + "/"))
                and (status is None or self.status == status)
                and all(self.labels.get(k) == v for k, v in labels.items()))

    def __repr__(self):
        return "<%s %s %s job_id=%s at %s>" % (self.path, self.status, self.alertname,
                                              self.job_id, self.received)


class WebhookSink:
    """Records every POST: payloads() in arrival order, notifications()
    flattened to one Notification per alert of each payload."""

    def __init__(self):
        self._cond = threading.Condition()
        self._payloads = []  # (received, path, payload dict)
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                received = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsed": body.decode(errors="replace")}
                with sink._cond:
                    sink._payloads.append((received, self.path, payload))
                    sink._cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def payloads(self, path=None):
        with self._cond:
            return [(t, p, d) for t, p, d in self._payloads if path is None or p == path]

    def notifications(self, path=None, status=None, **labels):
        """Every alert received, oldest first, filtered like Notification.matches
        (`path` also matches the paths under it: "/am-a" finds "/am-a/team/x")."""
        out = []
        for t, p, d in self.payloads():
            for alert in d.get("alerts", []):
                n = Notification(t, p, alert)
                if n.matches(path, status, **labels):
                    out.append(n)
        return out

    def wait_for(self, predicate, timeout=TIMEOUT, what="a webhook payload"):
        """Blocks until predicate() is truthy (re-checked on each POST, and at
        least every second for conditions that do not depend on the sink) and
        returns its value; raises AssertionError with what was received."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 1.0))
        raise AssertionError("timed out after %gs waiting for %s; the sink got:\n%s" % (
            timeout, what, self.describe()))

    def wait_for_alert(self, timeout=TIMEOUT, path=None, status="firing", **labels):
        """The first Notification matching (path, status, labels), waiting for it."""
        def found():
            got = self.notifications(path, status, **labels)
            return got[0] if got else None
        return self.wait_for(found, timeout, "%s alert %s at %s" % (status, labels, path or "*"))

    def describe(self):
        lines = ["  %r" % n for n in self.notifications()]
        return "\n".join(lines[-40:]) or "  (nothing)"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def config(sink, teams=(), prefix="", group_interval="1s", repeat_interval="24h"):
    """An Alertmanager config (a dict; JSON is YAML): alerts with a `team`
    label in `teams` go to the sink at PREFIX/team/NAME, every other alert to
    PREFIX/catch-all. Each alert is its own group (group_by: ['...']), sent at
    once (group_wait 0s), resolved ones too."""
    def receiver(name, path):
        return {"name": name, "webhook_configs": [{"url": sink.url(prefix + path),
                                                   "send_resolved": True}]}
    return {
        "route": {
            "receiver": "catch-all",
            "group_by": ["..."],
            "group_wait": "0s",
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
            "routes": [{"matchers": ['team="%s"' % t], "receiver": "team-" + t}
                       for t in teams],
        },
        "receivers": [receiver("catch-all", "/catch-all")] +
                     [receiver("team-" + t, "/team/" + t) for t in teams],
    }


class Alertmanager:
    """The real Alertmanager on 127.0.0.1, started by start() on a free port
    (the first time) and on that same port after stop()."""

    def __init__(self, sink, teams=(), prefix="", doc=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="rcw-am-")
        self.config_path = os.path.join(self.tmp.name, "alertmanager.yml")
        self.storage = os.path.join(self.tmp.name, "data")
        self.log_path = os.path.join(self.tmp.name, "alertmanager.log")
        with open(self.config_path, "w") as f:
            json.dump(doc or config(sink, teams, prefix), f, indent=2)
        self.port = 0
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=TIMEOUT):
        """Starts the binary (port 0 the first time: no race for a free port)
        and returns once /-/ready answers 200."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [BINARY, "--config.file=" + self.config_path,
                 "--storage.path=" + self.storage,
                 "--web.listen-address=127.0.0.1:%d" % self.port,
                 "--cluster.listen-address=",  # no clustering: no gossip port, no settling
                 "--log.level=debug"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        ports = wait_for(lambda: self._alive() and listening_ports(self.proc.pid),
                         timeout=timeout, interval=0.05, what="Alertmanager's port\n" + self.log())
        if self.port == 0:
            self.port = ports[0]
        wait_for(lambda: self._alive() and self._ready(), timeout=timeout, interval=0.05,
                 what="Alertmanager /-/ready on %s\n%s" % (self.url, self.log()))
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("Alertmanager exited %s:\n%s" % (self.proc.returncode,
                                                                  self.log()))
        return True

    def _ready(self):
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops it (SIGTERM, then SIGKILL on timeout); returns the exit status.
        The port stays this object's: start() binds it again."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def close(self):
        self.stop()
        self.tmp.cleanup()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "--- alertmanager log (tail):\n" + f.read()[-4000:]
        except OSError:
            return ""

    def api(self, method, path, body=None, timeout=10):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/api/v2/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def post_alerts(self, alerts):
        """POST /api/v2/alerts, as the daemon does (for the harness's own tests)."""
        return self.api("POST", "alerts", alerts)

    def alerts(self, active=True, silenced=True, **labels):
        """GET /api/v2/alerts with an equality filter per label: the alerts
        Alertmanager holds (each with status.state and status.silencedBy)."""
        query = [("filter", '%s="%s"' % kv) for kv in sorted(labels.items())]
        query += [("active", str(active).lower()), ("silenced", str(silenced).lower())]
        return self.api("GET", "alerts?" + urllib.parse.urlencode(query))

    def silence(self, matchers, seconds=3600, comment="e2e test"):
        """Creates a silence with equality matchers ({"job_id": ID}) from now on
        for `seconds`; returns its id."""
        now = time.time()
        body = {
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                         for k, v in sorted(matchers.items())],
            "startsAt": rfc3339(now - 1), "endsAt": rfc3339(now + seconds),
            "createdBy": "rc-watchdog e2e", "comment": comment,
        }
        return self.api("POST", "silences", body)["silenceID"]
