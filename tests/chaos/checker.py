"""The chaos test's invariant, checked from the simulator's request log and the config history.

  Every DELETE the simulator received is justified by a config the daemon may have had in
  force when it was sent, on the job's true record at some moment no older than one poll
  interval (plus a slack) before it arrived.

Nothing here reads the daemon's audit log, state or metrics: the evidence is the simulator's
log (each DELETE with its real and sim arrival time and the job's true record then), its
final job list (when jobs ended and their processing units, for the budget), the job specs
and the configs the harness wrote, with the real times at which each was written and at
which the daemon confirmed it. A DELETE is unjustified only when it is so under every config
that may have been in force and every job record within the allowed data age, so a correct
daemon never fails this check, however the timing falls.

Config semantics re-implemented here (docs/configuration.md): a cancelling policy
(action cancel) justifies a DELETE when the job matches it (types, itwins, users, name_regex),
is not exempt (ids, name_regex), its iTwin is watched, dry_run is off, and the job was
Queued (max_queued) or Active (max_runtime) in the data window while now - created or
now - started exceeded the limit plus grace. A cancel_queued / cancel_all budget grouped by
iTwin justifies it when the job matches, was Queued (or Active, for cancel_all) in the data
window, and the processing units of the group's jobs that ended in the window before "now"
reach the limit (an upper bound: every ended job of that iTwin counts). GUIDs compare
case-insensitively. max_processing_units limits and other group_by keys are not used by the
chaos configs and are not modelled (a DELETE relying on them is reported as unjustified).
"""
import bisect
import calendar
import collections
import datetime
import math
import re

INF = math.inf
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text):
    """'90s', '30m', '1h30m', '2d' -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError("not a duration: %r" % text)
    return float(sum(int(n) * _UNIT[u] for n, u in parts))


def iso(t):
    if t is None or t in (INF, -INF):
        return "never" if t in (None, INF) else "-inf"
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def hm(s):
    return "%dh%02dm" % (s // 3600, s % 3600 // 60) if s < INF else "never"


def lower_set(values):
    return {str(v).lower() for v in values or ()}


class Match:
    """A policy's or budget's `match` (or a policy's `exempt`) section."""

    def __init__(self, doc):
        doc = doc or {}
        self.types = set(doc["types"]) if "types" in doc else None
        self.itwins = lower_set(doc["itwins"]) if "itwins" in doc else None
        self.users = lower_set(doc["users"]) if "users" in doc else None
        self.ids = lower_set(doc.get("ids"))
        self.raw_ids = {str(v).lower(): str(v) for v in doc.get("ids") or ()}
        self.regex = re.compile(doc["name_regex"]) if "name_regex" in doc else None

    def matches(self, job):
        return ((self.types is None or job["type"] in self.types)
                and (self.itwins is None or job["itwin_id"] in self.itwins)
                and (self.users is None or job["user_id"] in self.users)
                and (self.regex is None or self.regex.search(job["name"] or "") is not None))

    def exempts(self, job):
        """-> why the job is exempt, or None (the exempt section: any key suffices)."""
        if job["id"] in self.ids:
            return "exempt.ids lists it as %s" % self.raw_ids[job["id"]]
        if self.regex is not None and self.regex.search(job["name"] or ""):
            return "exempt.name_regex %r" % self.regex.pattern
        return None


class Version:
    """One config the harness wrote, with the real times it was written and confirmed."""

    def __init__(self, entry):
        self.number = entry["version"]
        self.written = entry["written"] if entry["written"] is not None else -INF
        self.confirmed = entry["confirmed"] if entry["confirmed"] is not None else -INF
        self.outcome = entry.get("outcome", "loaded")
        self.mutations = entry.get("mutations", [])
        doc = entry["doc"]
        self.dry_run = bool(doc.get("enforcement", {}).get("dry_run", False))
        self.watched = lower_set(doc["watch"].get("itwins"))
        self.policies = [(p["name"], Match(p.get("match")), Match(p.get("exempt")),
                          {k: seconds(v) for k, v in p["limits"].items()
                           if k in ("max_queued", "max_runtime")},
                          seconds(p.get("grace", "0s")), p.get("action", "cancel"))
                         for p in doc.get("policies") or []]
        self.budgets = [(b["name"], Match(b.get("match")), b.get("group_by", "all"),
                         b.get("window", "daily"), float(b["limit"]), b.get("action"))
                        for b in doc.get("budgets") or []]


class Record:
    """A job's true history before a DELETE, from the simulator's record at its arrival
    (created, started, cancelled_at) and the spec (when a run ends)."""

    def __init__(self, spec, snap):
        created, started, cancel = snap["created"], snap["started"], snap["cancelled_at"]
        cancel = INF if cancel is None else cancel
        start = INF if started is None else started
        if start == INF and spec["queue_seconds"] is not None and cancel == INF:
            start = created + spec["queue_seconds"]  # starts later than the DELETE
        run_end = INF if spec["run_seconds"] is None or start == INF else \
            start + spec["run_seconds"]
        self.queued = (created, min(start, cancel))
        self.active = (start, min(run_end, cancel)) if start < cancel else (INF, INF)
        self.created, self.start = created, start

    def queued_in(self, lo, hi):
        return self.queued[0] <= hi and self.queued[1] > lo

    def active_in(self, lo, hi):
        return self.active[0] <= hi and self.active[1] > lo


class Spend:
    """Processing units of ended jobs, per iTwin, from the simulator's final job list."""

    def __init__(self, sim_jobs, parse):
        self.ended = collections.defaultdict(list)  # itwin -> [(ended, pu, type, user, name)]
        for j in sim_jobs:
            info = j["executionInfo"]
            if info.get("endedDateTime") and info.get("processingUnits") is not None:
                self.ended[j["iTwinId"].lower()].append(
                    (parse(info["endedDateTime"]), float(info["processingUnits"]),
                     {"type": j["type"], "itwin_id": j["iTwinId"].lower(),
                      "user_id": j["userId"].lower(), "name": j["name"], "id": j["id"].lower()}))
        for items in self.ended.values():
            items.sort(key=lambda x: x[0])

    def upper_bound(self, itwin, match, window, lo, hi):
        """Max over "now" in [lo, hi] of the PUs of matching jobs of `itwin` that ended in
        now's window up to now (daily windows in UTC; weekly from Monday; monthly)."""
        best = 0.0
        for now in (lo, hi):
            start = window_start(window, now)
            stop = hi if window_start(window, hi) == start else next_window(window, start)
            total = sum(pu for end, pu, job in self.ended.get(itwin, ())
                        if start <= end <= min(stop, hi) and match.matches(job))
            best = max(best, total)
        return best


def window_start(window, t):
    day = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).date()
    if window == "weekly":
        day -= datetime.timedelta(days=day.weekday())
    elif window == "monthly":
        day = day.replace(day=1)
    return float(calendar.timegm(day.timetuple()))


def next_window(window, start):
    day = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).date()
    if window == "monthly":
        day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    else:
        day += datetime.timedelta(days=7 if window == "weekly" else 1)
    return float(calendar.timegm(day.timetuple()))


class Checker:
    """Judges every DELETE in `requests` (the simulator's log)."""

    def __init__(self, versions, requests, specs, sim_jobs, clock_samples, poll_s,
                 slack_real_s=2.0, clock_slack_s=3.0, parse=None):
        self.versions = sorted((Version(v) for v in versions), key=lambda v: v.number)
        self.loaded = [v for v in self.versions if v.outcome == "loaded"]
        self.specs = {s["id"].lower(): s for s in specs}
        self.poll, self.slack_real, self.clock_slack = poll_s, slack_real_s, clock_slack_s
        self.spend = Spend(sim_jobs, parse or parse_time)
        pairs = sorted([(r["real_ts"], r["sim_epoch"]) for r in requests if "sim_epoch" in r]
                       + [tuple(p) for p in clock_samples])
        self.sample_real = [p[0] for p in pairs]
        self.sample_sim, top = [], -INF
        for _, sim in pairs:
            top = max(top, sim)
            self.sample_sim.append(top)
        self.deletes = sorted((r for r in requests if r["op"] == "cancel_job"),
                              key=lambda r: r["seq"])

    def sim_floor(self, real):
        """A sim time that the clock had certainly reached at real time `real`."""
        i = bisect.bisect_right(self.sample_real, real) - 1
        return self.sample_sim[i] if i >= 0 else -INF

    def candidates(self, real):
        """The loaded configs that may have been in force at real time `real`: the last one
        confirmed before it, and any written before it but confirmed after."""
        applied = [v for v in self.loaded if v.confirmed <= real]
        first = applied[-1] if applied else self.loaded[0]
        return [first] + [v for v in self.loaded
                          if v.number > first.number and v.written <= real]

    def judge(self, v, job, rec, lo, hi):
        """-> (True, what justifies it) or (False, [why not, ...]) under config `v`, for a
        job record anywhere in [lo, hi] of sim time and a daemon "now" up to hi."""
        why = []
        if v.dry_run:
            why.append("enforcement.dry_run is true")
        if job["itwin_id"] not in v.watched:
            why.append("iTwin %s is not in watch.itwins" % job["itwin_id"])
        ok = None
        for name, match, exempt, limits, grace, action in v.policies:
            if not match.matches(job):
                continue
            excuse = exempt.exempts(job)
            crossed = []
            for limit, value in limits.items():
                if limit == "max_queued":
                    due = rec.created + value + grace
                    if rec.queued_in(lo, hi) and due <= hi:
                        crossed.append("max_queued %s crossed at %s" % (hm(value), iso(due)))
                elif limit == "max_runtime":
                    due = rec.start + value + grace
                    if rec.active_in(lo, hi) and due <= hi:
                        crossed.append("max_runtime %s crossed at %s" % (hm(value), iso(due)))
            if not crossed:
                why.append("policy %s: no limit crossed on data from %s..%s (queued %s..%s, "
                           "active %s..%s)" % (name, iso(lo), iso(hi), iso(rec.queued[0]),
                                               iso(rec.queued[1]), iso(rec.active[0]),
                                               iso(rec.active[1])))
            elif action != "cancel":
                why.append("policy %s (%s) has action %s" % (name, crossed[0], action))
            elif excuse:
                why.append("policy %s (%s): job exempt, %s" % (name, crossed[0], excuse))
            elif ok is None:
                ok = "policy %s: %s" % (name, crossed[0])
        for name, match, group_by, window, limit, action in v.budgets:
            if action not in ("cancel_queued", "cancel_all") or not match.matches(job):
                continue
            state_ok = rec.queued_in(lo, hi) or (action == "cancel_all" and
                                                 rec.active_in(lo, hi))
            if group_by != "itwin":
                why.append("budget %s: group_by %s is not modelled" % (name, group_by))
                continue
            spent = self.spend.upper_bound(job["itwin_id"], match, window, lo, hi)
            if not state_ok:
                why.append("budget %s: job not Queued in the data window" % name)
            elif spent < limit:
                why.append("budget %s: at most %.2f PU spent by %s, limit %g" % (
                    name, spent, iso(hi), limit))
            elif ok is None:
                ok = "budget %s: %.2f >= %g PU" % (name, spent, limit)
        if ok is not None and not v.dry_run and job["itwin_id"] in v.watched:
            return True, ok
        if ok is not None:
            why.append("(otherwise justified by %s)" % ok)
        elif not any(w.startswith(("policy", "budget")) for w in why):
            why.append("no policy or budget matches the job")
        return False, why

    def check_delete(self, d):
        """-> dict with the verdict on one DELETE."""
        key = (d["job_id"] or "").lower()
        spec, snap = self.specs.get(key), d.get("job")
        out = {"seq": d["seq"], "job": key, "sent_as": d["job_id"], "real": d["real_ts"],
               "sim": d["sim_epoch"], "status": d["status"], "fault": d["fault"]}
        if spec is None or snap is None:
            out.update(ok=False, versions=[], why={"-": ["no such job in the simulator"]})
            return out
        rec = Record(spec, snap)
        lo = self.sim_floor(d["real_ts"] - self.poll - self.slack_real)
        hi = d["sim_epoch"] + self.clock_slack
        job = dict(snap)
        out.update(lo=lo, hi=hi, state=snap["state"], type=snap["type"], itwin=snap["itwin_id"],
                   name=snap["name"])
        why = {}
        cands = self.candidates(d["real_ts"])
        out["versions"] = [v.number for v in cands]
        for v in cands:
            ok, reason = self.judge(v, job, rec, lo, hi)
            if ok:
                out.update(ok=True, by=reason, version=v.number)
                return out
            why[v.number] = reason
        out.update(ok=False, why=why, cause=self.cause(job, rec, lo, hi, cands, why,
                                                       d["job_id"] or ""))
        return out

    def cause(self, job, rec, lo, hi, cands, why, sent_as):
        """A one-word class for the summary: what the DELETE went against. exempt_id_case:
        the exempt id is written in another case than the API served the job's id."""
        texts = [w for ws in why.values() for w in ws]
        if any("otherwise justified" in t for t in texts):
            return "dry_run" if any("dry_run" in t for t in texts) else "unwatched_itwin"
        listed = [t.rsplit(" ", 1)[1] for t in texts if "exempt.ids lists it as" in t]
        if listed:
            return "exempt_id" if sent_as in listed else "exempt_id_case"
        if any("has action" in t for t in texts):
            return "report_policy"
        if any(self.judge(v, job, rec, lo, hi)[0] for v in self.loaded
               if v.number < cands[0].number):
            return "stale_config"  # e.g. its policy was deleted or lost its limit
        if any("PU spent" in t for t in texts):
            return "budget_not_spent"
        return "no_limit_crossed"

    def double_sends(self):
        """DELETEs of a job that arrived within one poll interval after a DELETE of the
        same job (any case) was accepted (200): a duplicate, never a retry."""
        by_job = collections.defaultdict(list)
        for d in self.deletes:
            by_job[(d["job_id"] or "").lower()].append(d)
        out = []
        for key, ds in by_job.items():
            ds.sort(key=lambda d: d["real_ts"])
            for a, b in zip(ds, ds[1:]):
                if a["status"] == 200 and b["real_ts"] - a["real_ts"] < self.poll:
                    out.append((a, b))
        return out

    def run(self):
        return [self.check_delete(d) for d in self.deletes]


def parse_time(text):
    """The API's timestamps (Z with whole seconds, or 7 digits and +00:00) -> epoch."""
    text = text.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = re.match(r"\d*", rest).group(0)
        text = head + "." + (digits + "000000")[:6] + rest[len(digits):]
    return datetime.datetime.fromisoformat(text).timestamp()


def describe(v, result):
    """The failure lines for one unjustified DELETE."""
    lines = ["[%s] DELETE seq %d of job %s%s (%s, iTwin %s, name %s): arrived at real %.3f, "
             "sim %s, answered %s%s; job %s then; data window %s..%s; config(s) possibly in "
             "force: %s" % (
                 result.get("cause", "-"), result["seq"], result["job"],
                 "" if result["sent_as"] == result["job"] else " (sent as %s)" % result["sent_as"],
                 result.get("type"), result.get("itwin"), result.get("name"), result["real"],
                 iso(result["sim"]), result["status"],
                 " (fault %s)" % result["fault"] if result["fault"] else "", result.get("state"),
                 iso(result.get("lo")), iso(result.get("hi")),
                 ", ".join("v%d" % n for n in result["versions"]) or "-")]
    for number, reasons in result["why"].items():
        ver = v.get(number)
        head = "    v%s" % number
        if ver is not None:
            head += " (written %.3f, confirmed %.3f; %s)" % (
                ver.written, ver.confirmed, "; ".join(ver.mutations) or "initial")
        lines.append(head + ": " + "; ".join(reasons))
    return lines
