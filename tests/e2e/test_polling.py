"""Incremental listing (issue 11) with the real daemon and the simulator: the first poll
lists every page of the lookback, the following polls only the pages of jobs created after
the oldest one that can still change; new jobs are still found and cancelled; a config with
watch.full_listing_interval at or below poll_interval lists in full every time; plan says which
listing it ran and changes no state."""
import json
import math
import os
import unittest

from rcw_e2e import ITWIN_A, Sim, Workspace, job, main, metric, scrape, wait_for, \
    wait_for_metrics

H = 3600
ENDED = 200      # ended jobs, created 2 h to 2 d ago
PAGE = 20        # watch.page_size
POLICIES = [{"name": "queued-30m", "limits": {"max_queued": "30m"}}]


def listings(requests):
    """The list requests grouped into listings: a request without continuationToken starts
    one. Returns a list of (first request's $filter, pages)."""
    out = []
    for r in requests:
        if r["op"] != "list_jobs":
            continue
        if "continuationToken" not in r["query"] or not out:
            out.append([r["query"].get("$filter", ""), 0])
        out[-1][1] += 1
    return out


class Polling(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.addCleanup(self.sim.close)
        self.sim.control("POST", "jobs", {"generate": {
            "count": ENDED, "itwins": [ITWIN_A], "seed": 11, "created_ago": [2 * H, 48 * H],
            "queue_seconds": [0, 60], "run_seconds": [60, 600], "failed_fraction": 0}})
        # Running within every limit, created an hour ago: it holds the horizon.
        self.running = self.sim.add_jobs([job(name="running", created_ago=H, queue_seconds=60,
                                              run_seconds=20 * H)])[0]

    def workspace(self, **watch):
        ws = Workspace(self.sim, policies=POLICIES,
                       watch=dict({"poll_interval": "1s", "page_size": PAGE}, **watch))
        self.addCleanup(ws.close)
        return ws

    def run_daemon(self, ws):
        proc = ws.spawn()
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait()))
        port = wait_for_metrics(proc, log=ws.log)
        return proc, port

    def test_first_poll_lists_every_page_then_a_few(self):
        ws = self.workspace()
        _, port = self.run_daemon(ws)
        wait_for(lambda: len(listings(self.sim.requests())) >= 4, timeout=30,
                 what="four listings")
        got = listings(self.sim.requests())
        full_pages = math.ceil((ENDED + 1) / PAGE)
        self.assertEqual(got[0][1], full_pages, got)
        # Later polls: the running job (an hour old) and nothing older than its creation
        # minus 10 min; every ended job is older than that.
        for f, pages in got[1:4]:
            self.assertEqual(pages, 1, got)
            self.assertIn("createdDateTime gt", f)
        text = scrape(port)
        self.assertEqual(metric(text, "rc_watchdog_listings_total",
                                {"kind": "full", "outcome": "complete"}), 1)
        self.assertGreaterEqual(metric(text, "rc_watchdog_listings_total",
                                       {"kind": "incremental", "outcome": "complete"}), 3)
        self.assertEqual(metric(text, "rc_watchdog_listings_total",
                                {"kind": "incremental", "outcome": "incomplete"}), 0)

        # A runaway created after the first listing (queued 40 min, over queued-30m) is
        # found by an incremental listing and cancelled.
        runaway = self.sim.add_jobs([job(name="runaway", created_ago=2400, queue_seconds=5 * H,
                                         run_seconds=H)])[0]
        wait_for(lambda: any(r["job_id"] == runaway for r in self.sim.deletes()), timeout=30,
                 what="the runaway's DELETE")
        self.assertEqual([r["job_id"] for r in self.sim.deletes()], [runaway])
        wait_for(lambda: any(e["job_id"] == runaway for e in ws.events("cancel_confirmed")),
                 timeout=30, what="the cancellation confirmed")
        text = scrape(port)
        self.assertEqual(metric(text, "rc_watchdog_listings_total",
                                {"kind": "full", "outcome": "complete"}), 1)
        # Still a page per poll: the runaway, cancelled, no longer holds the horizon.
        polls = len(listings(self.sim.requests()))
        wait_for(lambda: len(listings(self.sim.requests())) >= polls + 2, timeout=30,
                 what="two more listings")
        self.assertEqual([p for _, p in listings(self.sim.requests())[polls:]][:2], [1, 1])

    def test_full_listing_interval_at_or_below_poll_interval_lists_everything_every_poll(self):
        ws = self.workspace(poll_interval="1s", full_listing_interval="1s")
        _, port = self.run_daemon(ws)
        # Four started: the first three are whole (the fourth may still be reading pages).
        wait_for(lambda: len(listings(self.sim.requests())) >= 4, timeout=30,
                 what="four listings")
        got = listings(self.sim.requests())
        full_pages = math.ceil((ENDED + 1) / PAGE)
        self.assertEqual([p for _, p in got[:3]], [full_pages] * 3, got)
        text = scrape(port)
        self.assertGreaterEqual(metric(text, "rc_watchdog_listings_total",
                                       {"kind": "full", "outcome": "complete"}), 3)
        self.assertEqual(metric(text, "rc_watchdog_listings_total",
                                {"kind": "incremental", "outcome": "complete"}), 0)

    def test_a_restart_within_the_interval_stays_incremental(self):
        ws = self.workspace()
        ws.once()
        if not os.path.exists(os.path.join(ws.state, "state.db")):
            self.skipTest("needs the listing marks persisted (state.db, SQLite state)")
        first = len(listings(self.sim.requests()))
        ws.once()
        got = listings(self.sim.requests())[first:]
        self.assertEqual([p for _, p in got], [1], got)

    def test_plan_says_which_listing_it_ran_and_changes_no_state(self):
        ws = self.workspace()
        ws.once()

        def snapshot():
            out = {}
            for name in sorted(os.listdir(ws.state)):
                path = os.path.join(ws.state, name)
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        out[name] = f.read()
            return out

        before = snapshot()
        table = ws.run("plan", "-c", ws.config).stdout
        first_line = table.splitlines()[0]
        self.assertRegex(first_line,
                         r"^listing: (full|incremental), jobs created after \d{4}-\d\d-\d\dT")
        doc = json.loads(ws.run("plan", "-c", ws.config, "--format", "json").stdout)
        self.assertIn(doc["listing"]["kind"], ("full", "incremental"))
        self.assertTrue(doc["listing"]["complete"])
        self.assertEqual(doc["listing"]["scopes"][0]["itwin_id"], ITWIN_A)
        self.assertEqual(snapshot(), before)
        self.assertEqual(self.sim.deletes(), [])


    def test_plan_counts_its_requests_against_the_hourly_limit(self):
        # A fresh state: plan lists the whole lookback, page by page.
        ws = self.workspace(full_listing_interval="1s")
        api = lambda: [r for r in self.sim.requests() if r["op"] != "token"]
        before = len(api())
        doc = json.loads(ws.run("plan", "-c", ws.config, "--format", "json").stdout)
        sent = len(api()) - before
        req = doc["requests"]
        self.assertEqual(req["poll"], sent)
        self.assertGreater(req["pages"], 1)
        # poll_interval 1s: every poll's requests, 3600 times an hour.
        self.assertEqual(req["per_hour"], sent * 3600)
        self.assertEqual(req["max_per_hour"], 4500)
        self.assertFalse(req["fits"])
        fitting = req["fitting_poll_interval_seconds"]
        self.assertEqual(fitting, -(-sent * 3600 // 4050))
        table = ws.run("plan", "-c", ws.config).stdout
        self.assertIn("requests: %d for this poll" % sent, table)
        self.assertRegex(table, r"warning: polls like this one need \d+ requests an hour, over "
                                r"the 4050 .* use poll_interval \S+ or more")
        # At the interval plan proposes, the same poll fits: no warning.
        ws.doc["watch"]["poll_interval"] = "%ds" % fitting
        ws.doc["watch"]["lookback"] = "7d"
        ws.write_config()
        table = ws.run("plan", "-c", ws.config).stdout
        self.assertIn("requests: %d for this poll" % sent, table)
        self.assertNotIn("warning: polls like this one", table)

    def test_plan_exits_1_when_its_listing_fails(self):
        # A plan that could not list what it watches must not look like "nothing to do".
        ws = self.workspace()
        self.sim.faults([{"match": {"op": "list_jobs"}, "kind": "status", "status": 403}])
        proc = ws.run("plan", "-c", ws.config, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("warning: ", proc.stderr)
        self.assertIn("the listing was incomplete", proc.stderr)


if __name__ == "__main__":
    main()
