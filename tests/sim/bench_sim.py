#!/usr/bin/env python3
"""Benchmark of rc_sim.py: generate N jobs, then page through all of them with $top=1000.

Run: python3 tests/sim/bench_sim.py [--jobs 100000] [--top 1000] [--filter "iTwinId eq ..."]
Prints one JSON object with the timings (the figures quoted in README.md come from here).
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ITWIN = "ce54f773-67db-4b4f-a98b-368329107429"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jobs", type=int, default=100000)
    p.add_argument("--top", type=int, default=1000)
    p.add_argument("--filter", default=f"iTwinId eq {ITWIN} and createdDateTime gt 2026-11-01T00:00:00Z")
    p.add_argument("--passes", type=int, default=2)
    args = p.parse_args()

    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "rc_sim.py"), "--port", "0",
                             "--start", "2026-11-29T10:00:00Z", "--speed", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)$", proc.stdout.readline().strip()).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def call(method, path, body=None, headers=None):
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()

        t0 = time.monotonic()
        status, data = call("POST", "/_sim/jobs", json.dumps(
            {"generate": {"count": args.jobs, "itwins": [ITWIN], "seed": 1,
                          "created_ago": [0, 20 * 86400]}}))
        assert status == 200, data
        generate_s = time.monotonic() - t0
        status, data = call("POST", "/connect/token",
                            "grant_type=client_credentials&client_id=rcw-test&client_secret=s3cret"
                            "&scope=itwin-platform",
                            {"Content-Type": "application/x-www-form-urlencoded"})
        auth = {"Authorization": "Bearer " + json.loads(data)["access_token"]}
        results = {"jobs": args.jobs, "top": args.top, "filter": args.filter,
                   "generate_seconds": round(generate_s, 2)}
        for n in range(args.passes):
            path = (f"/reality-conversion/jobs?$filter={urllib.parse.quote(args.filter, safe='')}"
                    f"&$top={args.top}")
            pages, seen, nbytes, parse_s = 0, set(), 0, 0.0
            call("DELETE", "/_sim/requests")
            t0 = time.monotonic()
            while path:
                status, data = call("GET", path, headers=auth)
                assert status == 200, data[:300]
                nbytes += len(data)
                t1 = time.monotonic()
                body = json.loads(data)
                parse_s += time.monotonic() - t1
                pages += 1
                seen.update(j["id"] for j in body["jobs"])
                href = body.get("_links", {}).get("next", {}).get("href")
                path = None if href is None else href[href.index("/reality-conversion"):]
            elapsed = time.monotonic() - t0
            assert len(seen) == args.jobs, len(seen)
            log = json.loads(call("GET", "/_sim/requests?op=list_jobs")[1])["requests"]
            server_s = sum(r["duration_ms"] for r in log) / 1000
            results[f"pass{n + 1}"] = {"pages": pages, "seconds": round(elapsed, 2),
                                       "server_seconds": round(server_s, 2),
                                       "client_parse_seconds": round(parse_s, 2),
                                       "ms_per_page": round(1000 * elapsed / pages, 1),
                                       "mbytes": round(nbytes / 1e6, 1)}
        with open(f"/proc/{proc.pid}/status") as f:
            results["sim_rss_mb"] = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024
        print(json.dumps(results, indent=1))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
