"""The chaos test's jobs: one simulated day of them, from a seed alone.

Plain job specs for the simulator (tests/sim/README.md, "Job spec"), with a mix of compliant
jobs, jobs that queue or run too long, exempt-named jobs, jobs of a user whose policy only
reports, Vector jobs that feed a processing-unit budget, jobs of an iTwin that is never
watched, and jobs that the API serves with upper-case ids or twice in a listing.
All times are sim epoch seconds.
"""
import calendar
import datetime
import random
import statistics
import uuid

H = 3600.0
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # the live phase starts here (a Monday, UTC)
JOB_TYPES = ("PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
             "VectorOptimization", "MeshSampling", "ContextSceneTiler")
TILES = ("ContextSceneTiler", "TileMapOptimization")
NOT_VECTOR = tuple(t for t in JOB_TYPES if t != "VectorOptimization")
SPEC_KEYS = ("id", "name", "type", "itwin_id", "user_id", "created", "queue_seconds",
             "run_seconds", "save_seconds", "outcome", "pu_per_hour", "upper_ids",
             "listed_twice")


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Jobs:
    """`specs` (for POST /_sim/jobs) plus the iTwins and users they use."""

    def __init__(self, seed, count, days=1.0, itwins=5):
        rng = random.Random(seed)

        def guid():
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        self.days = days
        self.t_end = T0 + days * 86400
        self.itwins = [guid() for _ in range(itwins)]  # may be watched
        self.never_watched = guid()
        self.users = [guid() for _ in range(5)]
        self.vip = self.users[0]  # a policy that only reports covers this user
        self.specs = [self._job(rng, n, guid) for n in range(count)]

    def _job(self, rng, n, guid):
        itwin = self.never_watched if rng.random() < 0.06 else rng.choice(self.itwins)
        job_type = rng.choice(JOB_TYPES)
        created = T0 - 6 * H + rng.random() * (self.days * 86400 + 4 * H)
        queue, run = rng.uniform(0, 20 * 60), rng.uniform(10 * 60, 4 * H)
        role = rng.random()
        if job_type == "VectorOptimization":
            queue = rng.uniform(0, 2 * H)  # queued jobs for the budget to cancel
        elif role < 0.15:
            queue = None if rng.random() < 0.2 else rng.uniform(3.2 * H, 9 * H)
        elif role < 0.32:
            run = None if rng.random() < 0.2 else rng.uniform(6.6 * H, 14 * H)
        return {
            "id": guid(), "name": "chaos-%d%s" % (n, "-keep" if rng.random() < 0.08 else ""),
            "type": job_type, "itwin_id": itwin,
            "user_id": self.vip if rng.random() < 0.08 else rng.choice(self.users[1:]),
            "created": rfc3339(created),
            "queue_seconds": None if queue is None else round(queue),
            "run_seconds": None if run is None else round(run),
            "save_seconds": 1800 if rng.random() < 0.1 else 30,
            "outcome": "Failed" if rng.random() < 0.08 else "Success",
            "pu_per_hour": round(rng.uniform(2, 12), 2),
            "upper_ids": rng.random() < 0.2,
            "listed_twice": rng.random() < 0.08,
        }

    def budget_limit(self):
        """Half the median PUs that Vector jobs of one iTwin would spend in a day if none
        were cancelled: the budget runs out in the middle of the day for most iTwins."""
        spend = {i: 0.0 for i in self.itwins}
        for s in self.specs:
            if s["type"] != "VectorOptimization" or s["itwin_id"] not in spend:
                continue
            if s["queue_seconds"] is None or s["run_seconds"] is None:
                continue
            created = calendar.timegm(time_tuple(s["created"]))
            end = created + s["queue_seconds"] + s["run_seconds"]
            if T0 <= end < T0 + 86400:
                spend[s["itwin_id"]] += s["pu_per_hour"] * s["run_seconds"] / H
        return max(5.0, round(0.5 * statistics.median(spend.values()), 1))


def time_tuple(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timetuple()
