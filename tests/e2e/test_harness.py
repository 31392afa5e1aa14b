"""The harness's readiness wait for /metrics (rcw_e2e.wait_for_metrics).

The daemon's exposer listens before /metrics has a handler, and answers 404
in between (issue 10: test_hostile failed in setUp under TSan beside
test_prometheus). The window is made long here by a fake: a process that
listens at once and answers 404 to its first scrapes, as the daemon does
while its main thread is descheduled between binding and registering.
"""
import subprocess
import sys
import unittest

from rcw_e2e import listening_ports, main, scrape, wait_for, wait_for_metrics

# Listens on 127.0.0.1:0 at once; answers 404 to its first argv[1] requests,
# then 200 with both metric families the readiness wait looks for.
FAKE = r'''
import http.server, sys
left = [int(sys.argv[1])]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if left[0] > 0:
            left[0] -= 1
            self.send_error(404)
            return
        body = b"rc_watchdog_polls_total{outcome=\"success\"} 0\nprocess_cpu_seconds_total 1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", 0), H).serve_forever()
'''


class WaitForMetrics(unittest.TestCase):
    def fake(self, not_found):
        proc = subprocess.Popen([sys.executable, "-c", FAKE, str(not_found)])
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        return proc

    def test_a_bound_port_is_not_readiness(self):
        # What test_hostile's setUp did: scrape once as soon as the port shows.
        proc = self.fake(not_found=1)
        port = wait_for(lambda: listening_ports(proc.pid), what="the fake's port")[0]
        self.assertIsNone(scrape(port))

    def test_waits_until_metrics_answer(self):
        proc = self.fake(not_found=5)
        port = wait_for_metrics(proc, timeout=30)
        self.assertEqual(listening_ports(proc.pid), [port])
        self.assertIn("process_cpu_seconds_total", scrape(port))

    def test_a_daemon_that_exits_fails_at_once(self):
        proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
        proc.wait()
        with self.assertRaisesRegex(AssertionError, "exited 3 before serving /metrics"):
            wait_for_metrics(proc, timeout=30, log=lambda: "the log")


if __name__ == "__main__":
    main()
