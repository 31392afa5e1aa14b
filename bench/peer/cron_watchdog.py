#!/usr/bin/env python3
"""cron_watchdog.py: what an ops engineer would cron instead of rc-watchdog.

The baseline of issue 11's benchmark (bench/issue11_bench.py runs it side by side with
`rc-watchdog run --once` on the same simulator listing). It is written the way a competent
engineer writes it in an afternoon: Python standard library only (urllib + json), one
client-credentials token, list every page of the iTwin's jobs created within the lookback,
cancel (DELETE) every Active job running longer than max_runtime and every Queued job queued
longer than max_queued. No state, no budgets, no retries, no rate limiting: neither
deliberately slow nor optimised.

    cron_watchdog.py --config peer.json [--dry-run]

peer.json:
    {"base_url": "https://api.bentley.com/reality-conversion",
     "token_url": "https://ims.bentley.com/connect/token",
     "client_id": "...", "client_secret_file": "/etc/rc/secret",   (or "client_secret")
     "itwin_id": "...", "lookback": "7d", "max_runtime": "12h", "max_queued": "6h"}

Prints one line per cancelled job and a summary; exits 1 if a DELETE failed.
"""
import argparse
import datetime
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text):
    """'90s', '15m', '12h', '7d' or a number of seconds."""
    text = str(text).strip()
    if text[-1] in UNITS:
        return float(text[:-1]) * UNITS[text[-1]]
    return float(text)


def get_token(cfg):
    secret = cfg.get("client_secret")
    if secret is None:
        with open(cfg["client_secret_file"]) as f:
            secret = f.read().strip()
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": cfg["client_id"],
        "client_secret": secret, "scope": cfg.get("scope", "itwin-platform")}).encode()
    req = urllib.request.Request(cfg["token_url"], data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)["access_token"]


def call(method, url, token):
    req = urllib.request.Request(url, method=method, headers={
        "Authorization": "Bearer " + token,
        "Accept": "application/vnd.bentley.itwin-platform.v2+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def parse_time(text):
    return datetime.datetime.fromisoformat(text)  # Python 3.11 reads 'Z' and 7 digits


def list_jobs(cfg, token, now):
    since = (now - datetime.timedelta(seconds=seconds(cfg.get("lookback", "7d"))))
    flt = f"iTwinId eq {cfg['itwin_id']} and createdDateTime gt {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    url = cfg["base_url"].rstrip("/") + "/jobs?" + urllib.parse.urlencode(
        {"$filter": flt, "$top": 1000}, quote_via=urllib.parse.quote)
    jobs = []
    while url:
        page = call("GET", url, token)
        jobs.extend(page["jobs"])
        url = page.get("_links", {}).get("next", {}).get("href")
    return jobs


def violations(jobs, cfg, now):
    max_runtime = seconds(cfg["max_runtime"]) if cfg.get("max_runtime") else None
    max_queued = seconds(cfg["max_queued"]) if cfg.get("max_queued") else None
    out = []
    for job in jobs:
        info = job.get("executionInfo") or {}
        if job["state"] == "Active" and max_runtime and info.get("startedDateTime"):
            age = (now - parse_time(info["startedDateTime"])).total_seconds()
            if age > max_runtime:
                out.append((job, f"running for {age / 3600:.1f} h"))
        elif job["state"] == "Queued" and max_queued:
            age = (now - parse_time(info["createdDateTime"])).total_seconds()
            if age > max_queued:
                out.append((job, f"queued for {age / 3600:.1f} h"))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    now = datetime.datetime.now(datetime.timezone.utc)
    token = get_token(cfg)
    jobs = list_jobs(cfg, token, now)
    failed = 0
    bad = violations(jobs, cfg, now)
    for job, why in bad:
        if args.dry_run:
            print(f"would cancel {job['id']} ({job.get('name')}): {why}")
            continue
        try:
            call("DELETE", cfg["base_url"].rstrip("/") + "/jobs/" + job["id"], token)
            print(f"cancelled {job['id']} ({job.get('name')}): {why}")
        except urllib.error.HTTPError as e:
            failed += 1
            print(f"cancel {job['id']} failed: HTTP {e.code}", file=sys.stderr)
    print(f"{len(jobs)} jobs listed, {len(bad)} over a limit, {failed} cancels failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
