"""A hostile API server (issue "Reliability"): huge bodies, deeply nested JSON,
paging links that loop or never end, responses that trickle a byte a second,
huge headers, compression bombs, lying Content-Lengths.

Each case runs against one long-running daemon: the fault is switched on, a
new runaway job (over its 2h runtime limit) appears, and the test checks that

- the listing is stopped by a limit (body size, JSON depth, loop detection,
  api.timeout, the request gate) and the daemon logs a clear error naming
  what went wrong and where (the iTwin, list_jobs page N);
- the failed poll is counted (rc_watchdog_polls_total{outcome="error"}, and
  rc_watchdog_api_requests_total{operation="list_jobs"});
- nothing is cancelled while the listing is broken (fail closed). Pages hold
  3 jobs and the runaway, older than the 4 compliant jobs, is never on the
  first page, which is the one every fault breaks: per-job limits would still
  act on jobs already decoded from earlier pages (README "Fail closed");
- memory stays bounded while a body streams in (VmRSS sampled);
- once the fault is gone the next poll succeeds and the runaway is cancelled:
  the daemon goes on. At the end SIGTERM stops it cleanly (exit 0; under ASan
  a leak report would make that exit non-zero).

The simulator's own faults (huge, deep, loop_link, slow) are used as they are;
the other cases come from HostileProxy, a small proxy in front of the
simulator that answers list_jobs with the hostile response of its current
mode and forwards everything else.
"""
import http.client
import http.server
import json
import os
import signal
import sys
import threading
import time
import unittest
import urllib.parse
import zlib

from rcw_e2e import (ITWIN_A, Sim, Workspace, job, main, metric, scrape, wait_for,
                     wait_for_metrics)

H = 3600
MAX_BODY = 64 << 20  # CurlOptions::max_body_bytes (the daemon does not configure it)
# VmRSS may grow by at most this much while a hostile body streams in: the
# body limit (64 MiB), the smaller buffers of its doublings that glibc keeps
# in its heap (about 64 MiB more), plus slack.
# The streams below are far bigger (1 GiB each), so a daemon that buffered
# them would cross it. Sanitizers cost memory of their own: ASan
# keeps freed blocks in quarantine, TSan shadows every byte (sanitizer_factor).
RSS_GROWTH_BOUND = 256 << 20
POLICIES = [{"name": "runtime-2h", "limits": {"max_runtime": "2h"}}]
API_TIMEOUT = 2  # seconds: api.timeout, bounds the trickle case


def runaway(name):
    return job(name=name, created_ago=3 * H, queue_seconds=60, run_seconds=10 * H)


def compliant(n):
    return [job(name="ok%d" % i, created_ago=60 + i, run_seconds=10 * H) for i in range(n)]


def vm_rss(pid):
    """Resident set size of `pid` in bytes (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def sanitizer_factor(pid):
    """How much more memory the binary of `pid` needs: 2 under ASan, 6 under
    TSan (their runtimes show in its memory map), else 1."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return 6 if "libtsan" in maps else 2 if "libasan" in maps else 1


class RssSampler:
    """Samples a process's VmRSS every 10 ms on a thread; .peak is the maximum."""

    def __init__(self, pid):
        self.pid, self.peak, self.samples = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, vm_rss(self.pid))
            self.samples += 1
            self._stop.wait(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


class HostileProxy:
    """HTTP/1.1 proxy on loopback in front of a Sim. `mode` (None: forward)
    says how to answer GET /reality-conversion/jobs; every other request is
    forwarded. The Host header is passed on, so the simulator's next links
    point back at the proxy."""

    MODES = ("chunked_huge", "gzip_bomb", "huge_header", "many_headers", "short_length",
             "long_length", "endless")

    def __init__(self, sim):
        self.sim_host, self.sim_port = urllib.parse.urlsplit(sim.url).netloc.split(":")
        self.mode = None
        self.sent = 0  # body bytes of the last streamed answer
        self.hostile_answers = 0
        self._bomb = None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy._handle(self)

            def do_POST(self):
                proxy._handle(self)

            def do_DELETE(self):
                proxy._handle(self)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the daemon hanging up on a hostile answer is the point

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self):
        return self.url + "/reality-conversion"

    @property
    def token_url(self):
        return self.url + "/connect/token"

    def close(self):
        self.mode = None
        self.server.shutdown()
        self.server.server_close()

    def bomb(self):
        """A gzip body of 1 MiB that decodes to 1 GiB of JSON: one deflate
        block of 1 MiB of "x", repeated. After Z_FULL_FLUSH the compressor
        starts afresh, so every block is the same bytes. (The trailer's CRC
        does not match; a client never gets that far without buffering 1 GiB.)"""
        if self._bomb is None:
            z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
            head = z.compress(b'{"jobs":[],"blob":"') + z.flush(zlib.Z_FULL_FLUSH)
            chunk = b"x" * (1 << 20)
            block = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
            again = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
            assert block == again, "deflate blocks differ after a full flush"
            self._bomb = head + block * 1024 + z.compress(b'"}') + z.flush()
        return self._bomb

    def _forward(self, h):
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(self.sim_host, int(self.sim_port), timeout=30)
        try:
            headers = {k: v for k, v in h.headers.items()
                       if k.lower() not in ("connection", "content-length", "transfer-encoding")}
            conn.request(h.command, h.path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    @staticmethod
    def _write(h, data):
        try:
            h.wfile.write(data)
            return True
        except OSError:
            h.close_connection = True
            return False

    def _head(self, h, status, headers):
        lines = ["HTTP/1.1 %d %s" % (status, "OK" if status == 200 else "Status")]
        lines += ["%s: %s" % kv for kv in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _handle(self, h):
        path = urllib.parse.urlsplit(h.path).path.rstrip("/")
        mode = self.mode
        if mode is None or h.command != "GET" or path != "/reality-conversion/jobs":
            status, headers, body = self._forward(h)
            keep = [(k, v) for k, v in headers if k.lower() not in
                    ("connection", "content-length", "transfer-encoding", "keep-alive")]
            self._write(h, self._head(h, status, keep + [("Content-Length", len(body))]) + body)
            return
        self.hostile_answers += 1
        json_ct = ("Content-Type", "application/json; charset=utf-8")
        if mode == "chunked_huge":
            # No Content-Length: only the client's running count can stop it.
            h.close_connection = True
            self.sent = 0
            if not self._write(h, self._head(h, 200, [json_ct, ("Transfer-Encoding", "chunked")])):
                return
            piece = b"x" * (256 << 10)
            chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
            first = b'{"jobs":[],"blob":"'
            self._write(h, b"%x\r\n" % len(first) + first + b"\r\n")
            while self.sent < (1 << 30) and self._write(h, chunk):
                self.sent += len(piece)
            return
        if mode == "gzip_bomb":
            bomb = self.bomb()
            self._write(h, self._head(h, 200, [json_ct, ("Content-Encoding", "gzip"),
                                               ("Content-Length", len(bomb))]) + bomb)
            return
        if mode in ("huge_header", "many_headers"):
            h.close_connection = True
            if mode == "huge_header":  # one 8 MiB header line
                junk = [("X-Junk", "a" * (8 << 20))]
            else:  # 100,000 distinct small headers (~2 MiB)
                junk = [("X-Junk-%d" % i, "b" * 8) for i in range(100000)]
            body = b'{"jobs":[]}'
            self._write(h, self._head(h, 200, [json_ct] + junk +
                                      [("Content-Length", len(body))]) + body)
            return
        status, headers, body = self._forward(h)
        if mode == "short_length":
            # Says half the length, sends it all: the rest is junk on a
            # keep-alive connection that must not leak into the next answer.
            self._write(h, self._head(h, status, [json_ct, ("Content-Length", len(body) // 2)])
                        + body)
            return
        if mode == "long_length":
            # Promises more than it sends, then closes.
            h.close_connection = True
            self._write(h, self._head(h, status, [json_ct, ("Content-Length", len(body) + 1000),
                                                  ("Connection", "close")]) + body)
            return
        if mode == "endless":
            # The real page, always linking to a next page that was never seen.
            page = json.loads(body)
            query = "&".join(p for p in urllib.parse.urlsplit(h.path).query.split("&")
                             if not p.startswith("hostile="))
            page["_links"] = {"next": {"href": "%s/reality-conversion/jobs?%s&hostile=%d" % (
                self.url, query, self.hostile_answers)}}
            body = json.dumps(page).encode()
            self._write(h, self._head(h, status, [json_ct, ("Content-Length", len(body))]) + body)
            return
        raise AssertionError("unknown mode " + mode)


class HostileBase(unittest.TestCase):
    """One daemon (poll every 2 s) against a server (the simulator or a proxy)."""

    def start_daemon(self, server, api=None, timeout=API_TIMEOUT):
        self.ws = Workspace(self.sim, policies=POLICIES,
                            watch={"poll_interval": "2s", "page_size": 3},
                            enforcement={"max_cancels_per_hour": 1000})
        self.addCleanup(self.ws.close)
        self.ws.doc["api"] = dict({"base_url": server.base_url, "timeout": "%ds" % timeout},
                                  **(api or {}))
        self.ws.doc["auth"]["token_url"] = server.token_url
        self.ws.doc["log"]["level"] = "info"
        self.ws.write_config()
        self.sim.add_jobs(compliant(4))
        self.proc = self.ws.spawn()
        self.addCleanup(self.kill)
        # /metrics answering, not just its port bound (rcw_e2e.wait_for_metrics).
        self.port = wait_for_metrics(self.proc, timeout=30, log=self.ws.log)
        wait_for(lambda: self.polls("success") >= 1, timeout=30, what="a first good poll")
        self.rss_bound = RSS_GROWTH_BOUND * sanitizer_factor(self.proc.pid)

    def dead(self):
        if self.proc.poll() is not None:
            raise AssertionError("daemon exited %s:\n%s" % (self.proc.returncode, self.ws.log()))
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def scrape(self):
        self.dead()
        why = []
        text = scrape(self.port, why=why)
        if text is None:
            raise AssertionError("no answer on /metrics: %s" % why[-1])
        return text

    def polls(self, outcome):
        return metric(self.scrape(), "rc_watchdog_polls_total", {"outcome": outcome}) or 0

    def list_requests(self, code):
        return metric(self.scrape(), "rc_watchdog_api_requests_total",
                      {"operation": "list_jobs", "code": code}) or 0

    def cancelled(self, job_id):
        return any(e["job_id"] == job_id and e.get("outcome") == "cancelled"
                   for e in self.ws.events("cancel_result"))

    def hostile_case(self, name, fault_on, fault_off, log_text, code=None, sample_rss=False,
                     recover_timeout=30):
        """Runs one case; with `sample_rss`, checks that the daemon's VmRSS
        grows by less than its bound during the fault."""
        log_start = len(self.ws.log())
        rss_before = vm_rss(self.proc.pid)
        errors = self.polls("error")
        coded = self.list_requests(code) if code else 0
        deletes = len(self.sim.deletes())
        sampler = RssSampler(self.proc.pid) if sample_rss else None
        fault_on()
        target = self.sim.add_jobs([runaway("runaway-" + name)])[0]
        try:
            try:
                wait_for(lambda: log_text in self.ws.log()[log_start:] or self.dead(), timeout=60,
                         what="%s: %r in the daemon log" % (name, log_text))
            except AssertionError as e:
                raise AssertionError("%s; the log ends:\n%s" % (e, self.ws.log()[-3000:]))
            wait_for(lambda: self.polls("error") > errors, timeout=30,
                     what="%s: a failed poll counted" % name)
        finally:
            peak = sampler.stop() if sampler else 0
        log = self.ws.log()[log_start:]
        line = next(l for l in log.splitlines() if log_text in l)
        print("\n%s: %s" % (name, line[:300]), file=sys.stderr)
        # What and where: the fail-closed warning names the iTwin and the page.
        self.assertIn("incomplete listing, failing closed", line, name)
        self.assertIn("listing iTwin " + ITWIN_A + " failed", line, name)
        self.assertIn("list_jobs page ", line, name)
        if code:
            self.assertGreater(self.list_requests(code), coded, name)
        # Fail closed: not a single DELETE while the listing is broken.
        self.assertEqual(self.sim.deletes()[deletes:], [], name)
        self.assertFalse(self.cancelled(target), name)
        fault_off()
        # The daemon goes on: the next poll succeeds and the runaway goes.
        successes = self.polls("success")
        wait_for(lambda: self.cancelled(target) or self.dead(), timeout=recover_timeout,
                 what="%s: the runaway cancelled after the fault" % name)
        wait_for(lambda: self.polls("success") > successes, timeout=recover_timeout,
                 what="%s: a good poll after the fault" % name)
        self.assertNotIn("internal error", self.ws.log(), name)
        if sampler:
            print("%s: VmRSS %d MiB before, peak %d MiB (%d samples)" % (
                name, rss_before >> 20, peak >> 20, sampler.samples), file=sys.stderr)
            self.assertGreater(sampler.samples, 0)
            self.assertLess(peak - rss_before, self.rss_bound, name)

    def stop_daemon(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except Exception:
            self.proc.kill()
            raise
        self.assertEqual(rc, 0, "daemon exit status after SIGTERM:\n" + self.ws.log()[-4000:])


class SimFaults(HostileBase):
    """The simulator's hostile faults, straight from the simulator."""

    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.start_daemon(self.sim, {"max_requests_per_minute": 5000})

    def fault(self, rule):
        return lambda: self.sim.faults([dict({"match": {"op": "list_jobs"}}, **rule)])

    def clear(self):
        self.sim.control("DELETE", "faults")

    def test_sim_faults(self):
        # 2 GiB announced in Content-Length: refused before a byte is buffered.
        self.hostile_case(
            "huge", self.fault({"kind": "huge", "bytes": 2 << 30}), self.clear,
            "response body larger than %d bytes" % MAX_BODY, code="error", sample_rss=True)
        self.hostile_case("deep", self.fault({"kind": "deep", "depth": 1000000}), self.clear,
                          "JSON nested deeper than")
        self.hostile_case("loop_link", self.fault({"kind": "loop_link"}), self.clear,
                          "paging loop: the next link repeats an earlier page")
        # A byte a second, head included: api.timeout ends it.
        started = time.monotonic()
        self.hostile_case("slow", self.fault({"kind": "slow", "bytes_per_second": 1}), self.clear,
                          "timeout after %ds" % API_TIMEOUT, code="error")
        self.assertLess(time.monotonic() - started, 60)
        self.stop_daemon()


class ProxyFaults(HostileBase):
    """Hostile answers the simulator does not give, from HostileProxy."""

    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.proxy = HostileProxy(self.sim)
        self.addCleanup(self.proxy.close)
        self.proxy.bomb()  # built before any timing starts
        # The default gate (250 requests a minute, 90% of them for listing):
        # polls every 2 s of 3-job pages use about half. api.timeout 10 s: 64
        # MiB must arrive before it, also under TSan on a busy machine.
        self.start_daemon(self.proxy, timeout=10)

    def mode(self, mode):
        def on():
            self.proxy.mode = mode
        return on

    def forward(self):
        self.proxy.mode = None

    def test_proxy_faults(self):
        # 1 GiB without Content-Length: the running count stops it at 64 MiB.
        self.hostile_case("chunked_huge", self.mode("chunked_huge"), self.forward,
                          "response body larger than %d bytes" % MAX_BODY, code="error",
                          sample_rss=True)
        self.assertLess(self.proxy.sent, 1 << 30, "the daemon read the whole 1 GiB")
        # 1 MiB on the wire, 1 GiB decoded: the limit applies after decoding.
        self.hostile_case("gzip_bomb", self.mode("gzip_bomb"), self.forward,
                          "response body larger than %d bytes" % MAX_BODY, code="error",
                          sample_rss=True)
        # One 8 MiB header line: libcurl refuses lines over 100 KiB itself.
        self.hostile_case("huge_header", self.mode("huge_header"), self.forward,
                          "response header line too long", code="error", sample_rss=True)
        # 100,000 small headers: the client's 64 KiB for all header lines.
        self.hostile_case("many_headers", self.mode("many_headers"), self.forward,
                          "response headers larger than 65536 bytes", code="error",
                          sample_rss=True)
        # Content-Length shorter than the body: half a page does not parse; the
        # rest must not be read as the next answer on that connection.
        self.hostile_case("short_length", self.mode("short_length"), self.forward,
                          "body is not valid JSON")
        self.hostile_case("long_length", self.mode("long_length"), self.forward,
                          "connection reset: body truncated", code="error")
        # Distinct next links forever: the request gate stops the listing (its
        # share of the minute is used up); the next good poll waits for the
        # sliding window, about a minute.
        self.hostile_case("endless", self.mode("endless"), self.forward,
                          "held back by the client-side rate limit", recover_timeout=120)
        self.assertGreater(self.proxy.hostile_answers, 10)
        self.stop_daemon()


if __name__ == "__main__":
    main()
