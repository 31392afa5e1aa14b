"""The soak's invariants, checked after the run from the simulator's own records (its jobs
and request log), the daemon's audit log, state.db and metrics, and the workload's
independent expectations (workload.py). Each check yields a count and a verdict."""
import bisect
import collections
import datetime
import json
import os
import re
import sqlite3
import statistics

from workload import INF, T0

H = 3600.0
TERMINAL = ("Cancelled", "Failed", "Success")


def ts(text):
    """RFC 3339 (the API's two forms and the control API's) -> epoch seconds."""
    if text is None:
        return None
    text = text.replace("Z", "+00:00")
    head, sep, frac_tz = text.partition(".")
    if sep:
        digits = frac_tz[:frac_tz.index("+") if "+" in frac_tz else frac_tz.index("-")]
        rest = frac_tz[len(digits):]
        text = head + "." + (digits + "000000")[:6] + rest
    return datetime.datetime.fromisoformat(text).timestamp()


class Data:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Report:
    def __init__(self):
        self.lines, self.figures, self.ok = [], {}, True

    def fig(self, key, value, text=None):
        self.figures[key] = value
        if text is not None:
            self.lines.append("  " + text)

    def check(self, name, passed, text, details=()):
        self.ok &= bool(passed)
        self.figures.setdefault("invariants", {})[name] = {"ok": bool(passed), "text": text}
        self.lines.append("  [%s] %s: %s" % ("ok" if passed else "FAIL", name, text))
        for d in list(details)[:8]:
            self.lines.append("         " + d)

    def text(self):
        return "\n".join(["soak: figures and invariants"] + self.lines +
                         ["soak: %s" % ("PASSED" if self.ok else "FAILED")])


def hours(s):
    return "never" if s == INF else "%.2fh" % (s / H)


class Context:
    """Indexes shared by the checks."""

    def __init__(self, d):
        w = d.workload
        self.d, self.w = d, w
        self.spec = {j["id"].lower(): j for j in w.specs}
        self.watched = set(w.watched)
        self.sim = {j["id"].lower(): j for j in d.sim_jobs}
        self.reqs = sorted(d.requests["requests"], key=lambda r: r["seq"])
        self.api = [r for r in self.reqs if r["op"] in ("token", "list_jobs", "get_job",
                                                      "cancel_job")]
        self.deletes = [r for r in self.reqs if r["op"] == "cancel_job"]
        self.list_pages = collections.defaultdict(list)  # itwin -> (seq, sim_ts, status, real, next)
        for e in self.reqs:
            if e["op"] == "list_jobs":
                m = re.search(r"iTwinId eq '?([0-9a-fA-F-]{36})", e["query"].get("$filter", ""))
                if m:
                    self.list_pages[m.group(1).lower()].append(
                        (e["seq"], e["sim_ts"], e["status"], e["real_ts"],
                         bool(e["query"].get("continuationToken"))))
        self.ended = {}
        for jid, j in self.sim.items():
            info = j["executionInfo"]
            if j["state"] in TERMINAL and j["iTwinId"] in self.watched:
                self.ended[jid] = (ts(info["endedDateTime"]), info["processingUnits"])
        # per cancelling budget and group: sorted end times and prefix sums of PUs
        self.spend = {}
        for b in w.budgets:
            groups = collections.defaultdict(list)
            for jid, (end, pu) in self.ended.items():
                s = self.spec[jid]
                if b.matches(s):
                    groups[b.group(s)].append((end, pu))
            for g, items in groups.items():
                items.sort()
                prefix = [0.0]
                for _, pu in items:
                    prefix.append(prefix[-1] + pu)
                self.spend[(b.name, g)] = ([e for e, _ in items], prefix)

    def listed_at(self, itwin, delete):
        """Sim time at which the daemon's last listing of `itwin` before `delete` (same
        process) read its first page: the age of the data a DELETE was decided on. A
        listing may span a clock tick, so this can be up to a tick's jump before the
        DELETE's own time."""
        life = self.lifetime_of(delete["real_ts"])
        pages = self.list_pages.get(itwin.lower(), [])
        i = bisect.bisect_left(pages, (delete["seq"],)) - 1
        while i >= 0 and pages[i][2] != 200:
            i -= 1
        if i < 0 or self.lifetime_of(pages[i][3]) != life:
            return ts(delete["sim_ts"])
        first = pages[i]
        while i > 0 and first[4] and pages[i - 1][3] > first[3] - 5:  # earlier pages of it
            i -= 1
            first = pages[i]
        return ts(first[1])

    def spent(self, b, group, t):
        """PUs of the group's jobs ended in [window start, t] by the sim's data."""
        ends, prefix = self.spend.get((b.name, group), ([], [0.0]))
        lo = bisect.bisect_left(ends, b.window_start(t))
        hi = bisect.bisect_right(ends, t)
        return prefix[hi] - prefix[lo] if hi > lo else 0.0

    def lifetime_of(self, real):
        for n, (start, end) in enumerate(self.d.lifetimes):
            if start <= real and (end is None or real <= end):
                return n
        return None

    def kind(self, s):
        if s["itwin_id"] not in self.watched:
            return "unwatched"
        if s["intervals"]:
            return "violator"
        if any(b.action != "report" and b.matches(s) for b in self.w.budgets):
            return "budget-scope"
        if s["kind"] == "exempt":
            return "exempt"
        if s["user_id"] in self.w.report_users:
            return "report-policy"
        return "compliant"


def check_deletes(c, r):
    """(1) Every DELETE that reached the API had a reason by the sim's own data."""
    bad, why = [], collections.Counter()
    for d in c.deletes:
        jid = (d["job_id"] or "").lower()
        s = c.spec.get(jid)
        t = ts(d["sim_ts"])
        if s is None:
            bad.append("DELETE seq %d of unknown job %s" % (d["seq"], jid))
            continue
        if s["itwin_id"] not in c.watched:
            bad.append("DELETE seq %d to unwatched job %s" % (d["seq"], jid))
            continue
        seen = c.listed_at(s["itwin_id"], d)
        if any(a <= t + 1.0 and until > seen - 1.0 for a, _, until in s["intervals"]):
            why["policy"] += 1
            continue
        ok = False
        for b in c.w.budgets:
            if b.action == "report" or not b.matches(s):
                continue
            start = s["created_epoch"] + (s["queue_seconds"] if s["queue_seconds"] is not None
                                          else INF)
            if b.action == "cancel_queued" and start <= seen - 1.0:
                continue  # was not Queued when the listing it was decided on read it
            g = b.group(s)
            if max(c.spent(b, g, t), c.spent(b, g, seen)) >= b.limit:
                ok = True
                why["budget " + b.name] += 1
                break
        if not ok:
            bad.append("DELETE seq %d at %s to %s job %s (%s, crossing %s): no policy crossed, "
                       "no budget spent" % (d["seq"], d["sim_ts"], c.kind(s), jid, s["type"],
                                            s["crossing"]))
    kinds = collections.Counter(c.kind(c.spec[(d["job_id"] or "").lower()])
                                for d in c.deletes if (d["job_id"] or "").lower() in c.spec)
    r.fig("deletes", len(c.deletes))
    r.fig("deletes_by_reason", dict(why))
    r.check("1 no DELETE to a compliant job", not bad,
            "%d DELETEs, each justified (%s); to compliant %d, exempt %d, report-policy %d, "
            "unwatched %d; unjustified %d" % (
                len(c.deletes), ", ".join("%s %d" % kv for kv in sorted(why.items())),
                kinds["compliant"], kinds["exempt"], kinds["report-policy"], kinds["unwatched"],
                len(bad)), bad)


def bound_seconds(d):
    """Real seconds from a violation to its cancellation, at most: fifteen polls (a poll
    that sees it, then listings or DELETEs that fail on injected faults or find the data gone
    stale at a clock tick: a rough spell lasts up to 20 s, ten polls, in which about half the
    attempts fail, plus five), two request timeouts (hangs), a 429 storm window, the longest
    restart downtime and start-up."""
    return 15 * d.poll + 2 * 2 + 5 + 3 + 2


def check_violators(c, r):
    """(2) Every violator cancelled, or out of reach (saving, ended), within the bound."""
    d = c.d
    bound = bound_seconds(d) * d.speed
    late, judged, by = [], [], collections.Counter()
    unjudged = 0
    for jid, s in c.spec.items():
        if c.kind(s) != "violator":
            continue
        j = c.sim[jid]
        cancelled = ts(j["cancelled_at"]) if j["cancelled_at"] else INF
        for a, reach, _ in s["intervals"]:
            if reach <= T0:
                continue  # over and done before the daemon started
            due = max(a, T0)
            resolved = min(cancelled, reach)
            if due + bound > d.live_end and resolved > d.live_end:
                unjudged += 1
                continue
            how = ("not cancelled" if resolved == INF else "cancelled" if cancelled <= reach
                   else "ended, saving or started first")
            by[how] += 1
            lateness = max(0.0, resolved - due)
            judged.append(lateness)
            if lateness > bound:
                late.append("job %s (%s) over a limit from %s, %s %s later" % (
                    jid, s["type"], datetime.datetime.utcfromtimestamp(due).isoformat() + "Z",
                    how, hours(lateness)))
    worst = max(judged) if judged else 0.0
    p50 = statistics.median(judged) if judged else 0.0
    r.fig("violators", {"judged": len(judged), "unjudged_at_end": unjudged, "by": dict(by),
                        "worst_lateness_s": worst, "median_lateness_s": p50,
                        "bound_s": bound})
    r.check("2 violators handled within deadline + bound", not late,
            "%d violators (%s), %d too close to the end to judge; lateness median %s, worst %s, "
            "bound %s (= %ds real x %gx)" % (
                len(judged), ", ".join("%s %d" % kv for kv in sorted(by.items())), unjudged,
                hours(p50), hours(worst), hours(bound), bound_seconds(d), d.speed), late)


def check_early(c, r):
    """(3) Nothing sent before an announced retry-after expired."""
    announces = []  # (deadline real, real_ts, lifetime)
    in_process, after_restart = [], []
    for e in c.reqs:
        if e["early"]:
            owner = None
            for deadline, at, life in reversed(announces):
                if deadline > e["real_ts"]:
                    owner = life
                    break
            life = c.lifetime_of(e["real_ts"])
            text = "seq %d %s %s at real %.3f (lifetime %s, 429 from lifetime %s)" % (
                e["seq"], e["method"], e["path"], e["real_ts"], life, owner)
            (after_restart if owner is not None and owner != life else in_process).append(text)
        if e["status"] == 429 and e["retry_after"]:
            announces.append((e["real_ts"] + int(e["retry_after"]), e["real_ts"],
                              c.lifetime_of(e["real_ts"])))
    n429 = sum(1 for e in c.reqs if e["status"] == 429)
    r.fig("early_requests", {"in_process": len(in_process), "after_restart": len(after_restart)})
    r.check("3 no request before retry-after", not in_process,
            "%d answers were 429; requests before their retry-after: %d by the process that got "
            "the 429, %d by a restarted process (it cannot know its predecessor's retry-after; "
            "not counted as a failure, see RELIABILITY.md)" % (
                n429, len(in_process), len(after_restart)), in_process + after_restart[:3])


def check_ledger(c, r):
    """(4) Every ended job's PUs counted exactly once: the ledger table of state.db
    (job_id is its primary key: a duplicate would be a second row for the same id in
    another spelling) against the sim."""
    d, w = c.d, c.w
    con = sqlite3.connect("file:%s?mode=ro" % d.state_path, uri=True, timeout=30)
    try:
        ledger = [{"job_id": row[0], "ended": row[1] / 1000.0, "pu": row[2]}
                  for row in con.execute("SELECT job_id, ended, pu FROM ledger ORDER BY rowid")]
    finally:
        con.close()
    horizon = min([d.final - 2 * 86400] + [b.window_start(d.final) for b in w.budgets])
    problems = []
    ids = collections.Counter(e["job_id"].lower() for e in ledger)
    dups = [k for k, n in ids.items() if n > 1]
    problems += ["job %s counted %d times" % (k, ids[k]) for k in dups]
    expected = {k: v for k, v in c.ended.items() if v[0] >= horizon}
    got = {e["job_id"].lower(): e for e in ledger}
    for k in sorted(set(expected) - set(got)):
        problems.append("ended job %s (ended %s, %s PU) not counted" % (
            k, expected[k][0], expected[k][1]))
    for k in sorted(set(got) - set(expected)):
        problems.append("job %s counted but not an ended watched job: %s" % (k, got[k]))
    for k in sorted(set(got) & set(expected)):
        end, pu = expected[k]
        e = got[k]
        if abs(e["pu"] - pu) > 1e-6 or abs(e["ended"] - end) > 0.002:
            problems.append("job %s: ledger %s PU ended %s, sim %s PU ended %s" % (
                k, e["pu"], e["ended"], pu, end))
    # The budget gauges (count_running: false) are sums over the ledger: against the sim.
    gauges = {}
    for line in d.metrics_text.splitlines():
        if line.startswith("rc_watchdog_budget_spent_processing_units{"):
            head, _, value = line.rpartition(" ")
            labels = dict(p.split("=", 1) for p in head[head.index("{") + 1:-1].split(","))
            labels = {k: v.strip('"') for k, v in labels.items()}
            gauges[(labels["budget"], labels["group"])] = float(value)
    want = collections.defaultdict(float)
    for k, (end, pu) in expected.items():
        for b in w.budgets:
            s = c.spec[k]
            if b.matches(s) and b.window_start(d.final) <= end <= d.final:
                want[(b.name, b.group(s))] += pu
    gauge_bad = []
    for key in set(want) | set(gauges):
        a, b = want.get(key, 0.0), gauges.get(key)
        if b is None and a == 0:
            continue
        if b is None or abs(a - b) > 1e-6 * max(1.0, abs(a)):
            gauge_bad.append("budget %s group %s: metric %s, sim %.4f" % (key[0], key[1], b, a))
    total = sum(pu for _, pu in expected.values())
    r.fig("ledger", {"entries": len(ledger), "expected": len(expected), "pu": total,
                     "gauges_compared": len(set(want) | set(gauges))})
    r.check("4 PUs of each ended job counted exactly once", not problems and not gauge_bad,
            "%d ledger entries for %d ended watched jobs (%.1f PU), %d duplicates, %d missing or "
            "wrong; %d budget gauges equal the sim's sums, %d differ" % (
                len(ledger), len(expected), total, len(dups), len(problems) - len(dups),
                len(set(want) | set(gauges)) - len(gauge_bad), len(gauge_bad)),
            problems + gauge_bad)


def check_audit(c, r):
    """(5) The audit log parses, and its cancel_requested lines match the sim's DELETEs."""
    d = c.d
    lines, bad = [], []
    with open(d.audit_path) as f:
        for n, raw in enumerate(f, 1):
            try:
                e = json.loads(raw)
                if not isinstance(e, dict) or "ts" not in e or "event" not in e:
                    raise ValueError("no ts or event")
                lines.append(e)
            except ValueError as err:
                bad.append("audit line %d: %s: %r" % (n, err, raw[:120]))
    segments = [[]]
    for e in lines:
        if e["event"] == "started" and segments[-1]:
            segments.append([])
        segments[-1].append(e)
    problems = list(bad)
    if len(segments) != len(d.lifetimes):
        problems.append("%d 'started' segments in the audit log for %d daemon starts" % (
            len(segments), len(d.lifetimes)))
    killed = set(range(len(d.lifetimes) - 1))  # every lifetime but the last ended by kill -9
    dels = collections.defaultdict(list)  # (lifetime, job) -> DELETEs (without 401s)
    rejected401 = curl_retries = 0
    for x in c.deletes:
        if x["status"] == 401:
            rejected401 += 1
            continue
        dels[(c.lifetime_of(x["real_ts"]), (x["job_id"] or "").lower())].append(x)
    # libcurl repeats a request once, at once and on a fresh connection, when the reused
    # connection it went out on is reset before any answer: one DELETE of the daemon's, two
    # on the wire. The first (reset, no answer) is folded into the second.
    for key, xs in dels.items():
        kept, folded = [], False
        for i, x in enumerate(xs):
            if (not folded and x["status"] is None and x["fault"] == "reset" and i + 1 < len(xs)
                    and xs[i + 1]["real_ts"] - x["real_ts"] < 0.1):
                curl_retries += 1
                folded = True  # libcurl retries once: the next one is the repeat
                continue
            folded = False
            kept.append(x)
        dels[key] = kept
    matched = unsent = lost = 0
    status_mismatch = []
    for life, seg in enumerate(segments):
        per_job = collections.defaultdict(list)
        for e in seg:
            if e["event"] in ("cancel_requested", "cancel_result") and not e.get("dry_run"):
                per_job[e["job_id"].lower()].append(e)
        for job, events in per_job.items():
            queue = list(dels.pop((life, job), []))
            for i, e in enumerate(events):
                if e["event"] != "cancel_requested":
                    continue
                result = events[i + 1] if i + 1 < len(events) and \
                    events[i + 1]["event"] == "cancel_result" else None
                if result is None:
                    if life in killed and i == len(events) - 1:
                        if queue:
                            queue.pop(0)
                            matched += 1
                        else:
                            lost += 1  # killed between the audit line and the DELETE
                        continue
                    problems.append("lifetime %d job %s: cancel_requested without a result" % (
                        life, job))
                    continue
                msg = result.get("message", "")
                if result.get("outcome") == "deferred" or "nothing was sent" in msg:
                    unsent += 1
                    continue
                if not queue:
                    problems.append("lifetime %d job %s: cancel_requested (attempt %s, result %s)"
                                    " but no DELETE reached the API" % (
                                        life, job, e.get("attempt"), result.get("outcome")))
                    continue
                x = queue.pop(0)
                matched += 1
                if x["status"] is not None and result.get("http_status") not in (None, x["status"]):
                    status_mismatch.append("job %s: DELETE answered %s, audit says %s" % (
                        job, x["status"], result.get("http_status")))
            for x in queue:
                problems.append("lifetime %d: DELETE seq %d of job %s has no cancel_requested "
                                "line" % (life, x["seq"], job))
    for (life, job), left in dels.items():
        for x in left:
            problems.append("lifetime %s: DELETE seq %d of job %s has no cancel_requested line"
                            % (life, x["seq"], job))
    problems += status_mismatch
    once = collections.Counter(
        (e["event"], e.get("job_id"), e.get("policy"), e.get("limit"), e.get("message", "")
         if e["event"].startswith("budget_") else "")
        for e in lines if e["event"] in ("warning", "violation", "budget_warning",
                                           "budget_exceeded"))
    repeated = sum(n - 1 for n in once.values())
    r.fig("once_only_repeated", repeated,
          "once-only audit events (warning, violation, budget_warning, budget_exceeded) written "
          "again: %d of %d (not an invariant of the brief; see the report)" % (
              repeated, sum(once.values())))
    events = collections.Counter(e["event"] for e in lines)
    outcomes = collections.Counter(e.get("outcome") for e in lines if e["event"] == "cancel_result")
    r.fig("audit", {"lines": len(lines), "events": dict(events), "cancel_results": dict(outcomes),
                    "matched": matched, "unsent": unsent, "killed_before_send": lost,
                    "delete_401": rejected401, "curl_retries": curl_retries})
    r.check("5 audit log parses and matches the DELETE log one to one", not problems,
            "%d lines, all JSON (%d bad); %d cancel_requested <-> %d DELETEs matched one to one, "
            "%d never sent (deferred or no token), %d cut short by kill -9 before the DELETE, "
            "%d DELETEs answered 401 and repeated with a new token, %d reset DELETEs repeated "
            "by libcurl on a fresh connection" % (
                len(lines), len(bad), matched, matched, unsent, lost, rejected401, curl_retries),
            problems)


def check_memory(c, r):
    """(6) Resident memory bounded and not growing."""
    d = c.d
    samples = d.rss
    if not samples:
        r.check("6 memory bounded", False, "no RSS samples")
        return
    peak = max(k for _, k, _ in samples)
    t0, t1 = samples[0][0], samples[-1][0]
    span = max(t1 - t0, 1e-9)

    def quarter(n):
        vals = [k for t, k, _ in samples if n / 4 <= (t - t0) / span < (n + 1) / 4]
        return max(vals) if vals else 0

    q2, q4 = quarter(1), quarter(3)
    growth_ok = q4 <= q2 * 1.25 + 2048
    if d.sanitizer:
        # ASan keeps freed memory in quarantine and TSan shadows every byte: their RSS
        # neither stays under the bound nor flat. Leaks are LeakSanitizer's job there.
        r.check("6 memory bounded", True,
                "not judged under %s (peak VmRSS %.1f MiB; quarantine and shadow memory grow "
                "by design; LeakSanitizer checks for leaks at exit)" % (d.sanitizer, peak / 1024))
        return
    r.fig("rss_kib", {"peak": peak, "second_quarter_max": q2, "last_quarter_max": q4,
                      "samples": len(samples), "limit": d.rss_limit_kib})
    r.check("6 memory bounded", peak <= d.rss_limit_kib and growth_ok,
            "peak VmRSS %.1f MiB (bound %.0f MiB) over %d samples; max in the 2nd quarter of the "
            "run %.1f MiB, in the last %.1f MiB (bound: +25%% + 2 MiB)" % (
                peak / 1024, d.rss_limit_kib / 1024, len(samples), q2 / 1024, q4 / 1024))


def figures(c, r):
    d, w = c.d, c.w
    kinds = collections.Counter(c.kind(s) for s in w.specs)
    r.fig("seed", d.seed, "seed %d" % d.seed)
    r.fig("simulated_seconds", d.live_end - T0,
          "simulated %.2f days (%s to %s) at %gx (tick %gs) in %.0f s wall" % (
              (d.live_end - T0) / 86400, datetime.datetime.utcfromtimestamp(T0).isoformat() + "Z",
              datetime.datetime.utcfromtimestamp(d.live_end).isoformat(timespec="seconds") + "Z",
              d.speed, d.tick, d.wall))
    r.fig("jobs", dict(kinds, total=len(w.specs)),
          "%d jobs in %d watched + %d unwatched iTwins: %s" % (
              len(w.specs), len(w.watched), len(w.unwatched),
              ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    r.fig("budget_limits", {b.name: b.limit for b in w.budgets})
    ops = collections.Counter(e["op"] for e in c.api)
    faults = collections.Counter(e["fault"] for e in c.api if e["fault"])
    limiter = sum(1 for e in c.api if e["status"] == 429 and not e["fault"])
    fivexx = sum(1 for e in c.api if e["status"] is not None and 500 <= e["status"] < 600)
    r.fig("requests", dict(ops), "%d API requests (%s), %d dropped from the log" % (
        len(c.api), ", ".join("%s %d" % kv for kv in sorted(ops.items())), d.requests["dropped"]))
    r.fig("faults", dict(faults, limiter_429=limiter, share_5xx=fivexx / max(1, len(c.api))),
          "faults injected: %s; 429 from the rate limiter %d (%d storms); 5xx answers %.1f%% of "
          "API requests; token faults %d of %d token requests; tokens revoked %d times" % (
              ", ".join("%s %d" % kv for kv in sorted(faults.items())), limiter, len(d.storms),
              100.0 * fivexx / max(1, len(c.api)),
              sum(1 for e in c.api if e["op"] == "token" and e["fault"]), ops["token"],
              d.revoked))
    modes = collections.Counter(k["mode"] for k in d.kills if "sim_ts" in k)
    r.fig("restarts", dict(modes), "kill -9 + restart: %d (%s); exits on their own: %d" % (
        sum(modes.values()), ", ".join("%s %d" % kv for kv in sorted(modes.items())),
        len(d.unexpected_exits)))
    r.check("0 the daemon ran until stopped", not d.unexpected_exits and d.exit_status == 0,
            "exit status %s after SIGTERM; %d exits on its own" % (
                d.exit_status, len(d.unexpected_exits)),
            ["exit %s at sim %s" % x for x in d.unexpected_exits])
    r.check("0 fault mix as specified", fivexx / max(1, len(c.api)) >= 0.10 and
            all(faults[k] for k in ("reset", "hang", "malformed", "truncated", "ratelimit")) and
            limiter > 0 and any(e["fault"] for e in c.api if e["op"] == "token"),
            "5xx >= 10%, resets, hangs, malformed and truncated pages, 429 faults and limiter "
            "storms, token endpoint failures all injected")


def run_all(d):
    c = Context(d)
    r = Report()
    figures(c, r)
    for check in (check_deletes, check_violators, check_early, check_ledger, check_audit,
                  check_memory):
        check(c, r)
    return r
