"""The chaos test's configs: the first one and the random reloads that follow.

`Configs.doc()` is the whole config (written as JSON, which is YAML). Each `reload()` changes
one to three things, chosen at random (seeded), and says what in plain words: exempt jobs
whose DELETE is pending (in any case of their id), switch policies to `report` and back, turn
dry run on and off, remove and re-add watched iTwins (sometimes in upper case), rename,
delete and restore policies, raise and lower `lookback`. The targets of the harmful changes
are the jobs whose DELETE just failed: the daemon has them queued for a retry.
"""
import collections
import copy
import re

from jobs import NOT_VECTOR, TILES

LOOKBACKS = ("3h", "8h", "1d", "2d", "3d")


def mixed_case(rng, guid):
    return guid.upper() if rng.random() < 0.5 else guid.lower()


def initial_policies(jobs):
    return [
        {"name": "queued-3h", "match": {"types": list(NOT_VECTOR)},
         "exempt": {"name_regex": "-keep$"}, "limits": {"max_queued": "3h"}},
        {"name": "runtime-6h", "exempt": {"name_regex": "-keep$"},
         "limits": {"max_runtime": "6h"}, "grace": "30m"},
        {"name": "tiles-itwin", "match": {"types": list(TILES), "itwins": [jobs.itwins[0].upper()]},
         "limits": {"max_runtime": "3h"}},
        {"name": "vip-report", "match": {"users": [jobs.vip]}, "limits": {"max_runtime": "1h"},
         "action": "report"},
    ]


def matches(policy, spec):
    """Roughly the daemon's match (case-insensitive GUIDs), for picking reload targets."""
    m = policy.get("match", {})
    return ((not m.get("types") or spec["type"] in m["types"])
            and (not m.get("itwins") or spec["itwin_id"] in {i.lower() for i in m["itwins"]})
            and (not m.get("users") or spec["user_id"] in {u.lower() for u in m["users"]}))


class Configs:
    def __init__(self, rng, jobs, base):
        """`base`: the api, auth, metrics, state and log sections and watch.poll_interval
        and page_size, which never change."""
        self.rng, self.jobs, self.base = rng, jobs, base
        self.watched = list(jobs.itwins)
        self.removed = []
        self.dry_run = False
        self.lookback = "2d"
        self.policies = initial_policies(jobs)
        self.deleted = []
        self.renames = 0
        self.kinds = collections.Counter()  # changes made, by kind
        self.budget = {"name": "vector-daily", "group_by": "itwin",
                       "match": {"types": ["VectorOptimization"]}, "window": "daily",
                       "timezone": "UTC", "limit": jobs.budget_limit(), "warn_at": 0.8,
                       "action": "cancel_queued", "count_running": False}

    def doc(self):
        doc = copy.deepcopy(self.base)
        doc["watch"] = dict(doc["watch"], itwins=list(self.watched), lookback=self.lookback)
        doc["enforcement"] = dict(doc["enforcement"], dry_run=self.dry_run)
        doc["policies"] = copy.deepcopy(self.policies)
        doc["budgets"] = [dict(self.budget)]
        return doc

    # ---- the changes ----------------------------------------------------------------------

    def exempt(self, targets):
        if not targets:
            return None
        for p in self.policies:
            ids = p.setdefault("exempt", {}).setdefault("ids", [])
            for t in targets:
                if t["id"] not in {i.lower() for i in ids}:
                    ids.append(mixed_case(self.rng, t["id"]))
        return "exempt %s in every policy" % ", ".join(t["id"][:8] for t in targets)

    def unexempt(self, _targets):
        listed = sorted({i for p in self.policies for i in p.get("exempt", {}).get("ids", [])})
        if not listed:
            return None
        drop = set(self.rng.sample(listed, min(len(listed), self.rng.randint(1, 3))))
        for p in self.policies:
            ex = p.get("exempt", {})
            if "ids" in ex:
                ex["ids"] = [i for i in ex["ids"] if i not in drop]
                if not ex["ids"]:
                    del ex["ids"]
        return "un-exempt %s" % ", ".join(sorted(i[:8] for i in drop))

    def report(self, targets):
        chosen = [p for p in self.policies if p.get("action", "cancel") == "cancel"
                  and (not targets or any(matches(p, t) for t in targets))]
        if not chosen:
            return None
        if not targets:
            chosen = [self.rng.choice(chosen)]
        for p in chosen:
            p["action"] = "report"
        return "action report: %s" % ", ".join(p["name"] for p in chosen)

    def cancel(self, _targets):
        chosen = [p for p in self.policies if p.get("action") == "report"]
        if not chosen:
            return None
        p = self.rng.choice(chosen)
        p.pop("action")
        return "action cancel: %s" % p["name"]

    def dry_run_on(self, _targets):
        if self.dry_run:
            return None
        self.dry_run = True
        return "dry_run on"

    def dry_run_off(self, _targets):
        if not self.dry_run:
            return None
        self.dry_run = False
        return "dry_run off"

    def unwatch(self, targets):
        lowered = [w.lower() for w in self.watched]
        wanted = [t["itwin_id"] for t in targets if t["itwin_id"] in lowered]
        pick = wanted[0] if wanted else self.rng.choice(lowered)
        if len(self.watched) <= 1:
            return None
        self.watched.pop(lowered.index(pick))
        self.removed.append(pick)
        return "unwatch iTwin %s" % pick[:8]

    def rewatch(self, _targets):
        if not self.removed:
            return None
        itwin = self.removed.pop(self.rng.randrange(len(self.removed)))
        self.watched.append(itwin.upper() if self.rng.random() < 0.3 else itwin)
        return "watch iTwin %s again" % self.watched[-1][:8]

    def rename(self, _targets):
        p = self.rng.choice(self.policies)
        self.renames += 1
        old, p["name"] = p["name"], "%s-r%d" % (re.sub(r"-r\d+$", "", p["name"]), self.renames)
        return "rename policy %s to %s" % (old, p["name"])

    def delete_policy(self, targets):
        if len(self.policies) <= 1:
            return None
        chosen = [p for p in self.policies if any(matches(p, t) for t in targets)] or \
            self.policies
        p = self.rng.choice(chosen)
        self.policies.remove(p)
        self.deleted.append(p)
        return "delete policy %s" % p["name"]

    def restore_policy(self, _targets):
        if not self.deleted:
            return None
        p = self.deleted.pop(self.rng.randrange(len(self.deleted)))
        self.policies.append(p)
        return "restore policy %s" % p["name"]

    def set_lookback(self, _targets):
        self.lookback = self.rng.choice([x for x in LOOKBACKS if x != self.lookback])
        return "lookback %s" % self.lookback

    # ---- choosing -------------------------------------------------------------------------

    HARMFUL = (("exempt", 4), ("report", 2), ("dry_run_on", 2), ("unwatch", 2),
               ("delete_policy", 1))
    ANY = (("unexempt", 2), ("cancel", 3), ("dry_run_off", 4), ("rewatch", 3), ("rename", 2),
           ("restore_policy", 2), ("set_lookback", 3), ("exempt", 1), ("report", 1),
           ("dry_run_on", 1), ("unwatch", 1), ("delete_policy", 1))

    def _pick(self, table):
        total = sum(w for _, w in table)
        x = self.rng.random() * total
        for name, w in table:
            x -= w
            if x < 0:
                return name
        return table[-1][0]

    def reload(self, targets):
        """Changes the config; -> the list of changes (never empty). `targets`: specs of
        jobs whose DELETE is pending in the daemon (may be empty)."""
        done = []
        if targets:
            done += self._one(self.HARMFUL, targets, "targeted ")
        for _ in range(self.rng.randint(0 if done else 1, 2)):
            done += self._one(self.ANY, [], "")
        return done or self._one((("set_lookback", 1),), [], "")

    def _one(self, table, targets, prefix):
        for _ in range(10):
            kind = self._pick(table)
            what = getattr(self, kind)(targets)
            if what:
                self.kinds[prefix + kind] += 1
                return [what]
        return []
