"""The soak's workload and its expected verdicts, computed from the job specs alone.

Everything here is independent of the daemon: the policies and budgets below are the
ones soak.py writes into the daemon's config, re-implemented in a few lines each, so
that "no DELETE reached a compliant job" is checked against an independent oracle.
All times are sim epoch seconds.
"""
import calendar
import datetime
import math
import random
import uuid
import zoneinfo

H = 3600.0
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # a Monday: the week and the month start here
JOB_TYPES = ("PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
             "VectorOptimization", "MeshSampling", "ContextSceneTiler")
POINTCLOUD = ("PointCloudConversion", "PointCloudOptimization")
TILES = ("ContextSceneTiler", "TileMapOptimization")
MESH_RATE = 25.0      # PU/h of MeshSampling jobs, also estimates.pu_per_hour in the config
INF = math.inf


class Policy:
    """A cancelling policy: the sim time at which a job first violates it."""

    def __init__(self, name, types, max_queued=None, max_runtime=None, max_pu=None, grace=0.0,
                 exempt_suffix=None, exempt_ids=()):
        self.name, self.types = name, types
        self.max_queued, self.max_runtime, self.max_pu = max_queued, max_runtime, max_pu
        self.grace, self.exempt_suffix, self.exempt_ids = grace, exempt_suffix, set(exempt_ids)

    def matches(self, j):
        return j["type"] in self.types

    def exempt(self, j):
        return ((self.exempt_suffix and (j["name"] or "").endswith(self.exempt_suffix))
                or j["id"] in self.exempt_ids)

    def intervals(self, j, natural):
        """-> [(from, out_of_reach, until)]: the sim times from which the daemon may see the
        job over a limit (+grace), from which a DELETE can no longer succeed (saving, or
        the job left the state the limit is about) and until which the job is over it.
        `natural` is (no longer cancellable from, terminal at) of Workload.natural_end."""
        if not self.matches(j) or self.exempt(j):
            return []
        created, queue, run = j["created_epoch"], j["queue_seconds"], j["run_seconds"]
        start = INF if queue is None else created + queue
        reach, end = natural
        out = []
        if self.max_queued is not None and start > created + self.max_queued + self.grace:
            out.append((created + self.max_queued + self.grace, start, start))
        limits = []
        if self.max_runtime is not None:
            limits.append(self.max_runtime)
        if self.max_pu is not None:  # estimate: MESH_RATE PU/h while Active
            limits.append(self.max_pu / MESH_RATE * H)
        for limit in limits:
            if start < INF and end > start + limit + self.grace:
                out.append((start + limit + self.grace, reach, end))
        return out


class Budget:
    def __init__(self, name, group_by, window, tz, action, types=None, itwins=None, users=None,
                 limit=None):
        self.name, self.group_by, self.window, self.tz = name, group_by, window, tz
        self.action, self.types, self.itwins, self.users = action, types, itwins, users
        self.limit = limit

    def matches(self, j):
        return ((self.types is None or j["type"] in self.types)
                and (self.itwins is None or j["itwin_id"] in self.itwins)
                and (self.users is None or j["user_id"] in self.users))

    def group(self, j):
        return {"itwin": j["itwin_id"], "user": j["user_id"], "type": j["type"],
                "all": "all"}[self.group_by]

    def window_start(self, t):
        zone = zoneinfo.ZoneInfo(self.tz)
        local = datetime.datetime.fromtimestamp(t, zone)
        day = local.date()
        if self.window == "weekly":
            day -= datetime.timedelta(days=day.weekday())
        elif self.window == "monthly":
            day = day.replace(day=1)
        return datetime.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()

    def config(self):
        match = {}
        if self.types:
            match["types"] = list(self.types)
        if self.itwins:
            match["itwins"] = list(self.itwins)
        if self.users:
            match["users"] = list(self.users)
        doc = {"name": self.name, "group_by": self.group_by, "window": self.window,
               "timezone": self.tz, "limit": self.limit, "action": self.action,
               "count_running": False, "warn_at": 0.8}
        if match:
            doc["match"] = match
        return doc


class Workload:
    """Job specs for the simulator plus everything the checks need to know about them."""

    def __init__(self, seed, jobs, days, itwins, unwatched=3):
        rng = random.Random(seed)
        self.rng = rng
        self.days = days
        self.t_end = T0 + days * 86400

        def guid():
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        self.watched = [guid() for _ in range(itwins)]
        self.unwatched = [guid() for _ in range(unwatched)]
        self.metered = self.watched[:max(1, itwins // 4)]
        self.vip, self.heavy = guid(), guid()
        self.users = [guid() for _ in range(6)]
        self.specs = []
        exempt_ids = []
        for n in range(jobs):
            self.specs.append(self._job(rng, n, guid, exempt_ids))
        self.policies = [
            Policy("pointcloud-limits", POINTCLOUD, max_queued=4 * H, max_runtime=10 * H,
                   exempt_suffix="-keep"),
            Policy("tiler-runtime", TILES, max_runtime=8 * H, grace=1 * H),
            Policy("mesh-pu", ("MeshSampling",), max_pu=150, exempt_ids=exempt_ids),
        ]
        self.report_users = [self.vip]
        self.budgets = [
            Budget("vector-itwin-daily", "itwin", "daily", "UTC", "cancel_queued",
                   types=["VectorOptimization"], itwins=self.metered),
            Budget("heavy-user-weekly", "user", "weekly", "Europe/Berlin", "cancel_all",
                   users=[self.heavy]),
            Budget("tiles-type-daily", "type", "daily", "America/New_York", "cancel_queued",
                   types=["TileMapOptimization"]),
            Budget("all-monthly", "all", "monthly", "UTC", "report", limit=1e9),
        ]
        for j in self.specs:
            j["intervals"] = [iv for p in self.policies for iv in p.intervals(j, self.natural_end(j))]
            j["crossing"] = min([iv[0] for iv in j["intervals"]] + [INF])
        self._size_budgets()

    def _job(self, rng, n, guid, exempt_ids):
        u = rng.random()
        itwin = rng.choice(self.unwatched) if u < 0.06 else rng.choice(self.watched)
        u = rng.random()
        user = self.vip if u < 0.05 else self.heavy if u < 0.09 else rng.choice(self.users)
        job_type = rng.choice(JOB_TYPES)
        created = int(T0 - 10 * H + rng.random() * (self.days * 86400 + 8 * H))
        role = rng.random()
        name = f"soak-{n}"
        queue = rng.uniform(0, 20 * 60) if rng.random() < 0.7 else rng.uniform(0, 3 * H)
        run = None
        save = 30
        kind = "compliant"
        if role < 0.13:
            kind = "violator"
            if job_type == "VectorOptimization":
                job_type = rng.choice([t for t in JOB_TYPES if t != "VectorOptimization"])
            forever = rng.random() < 0.1
            extra = rng.uniform(10 * 60, 20 * H)
            if job_type in POINTCLOUD and rng.random() < 0.5:
                queue, run = 4 * H + rng.uniform(10 * 60, 12 * H), rng.uniform(H, 6 * H)
            elif job_type in POINTCLOUD:
                queue, run = rng.uniform(0, 2 * H), None if forever else 10 * H + extra
            elif job_type in TILES:
                queue, run = rng.uniform(0, 2 * H), None if forever else 9 * H + extra
            else:
                queue, run = rng.uniform(0, 2 * H), None if forever else 6 * H + extra
            if rng.random() < 0.15:
                save = 1800  # a long saving window: DELETEs meet 422 not_cancellable
        elif role < 0.15:
            kind = "exempt"
            user = rng.choice(self.users)
            if rng.random() < 0.7:
                job_type, name = "PointCloudConversion", name + "-keep"
            else:
                job_type = "MeshSampling"
            run = rng.uniform(11 * H, 16 * H)
        if run is None and kind == "compliant":
            limit = {"PointCloudConversion": 9.5 * H, "PointCloudOptimization": 9.5 * H,
                     "TileMapOptimization": 8.9 * H, "ContextSceneTiler": 8.9 * H,
                     "MeshSampling": 5.8 * H, "VectorOptimization": 10 * H}[job_type]
            run = rng.uniform(10 * 60, limit)
        spec = {
            "id": guid(), "name": name, "type": job_type, "itwin_id": itwin, "user_id": user,
            "created": datetime.datetime.fromtimestamp(created, datetime.timezone.utc)
                               .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "queue_seconds": round(queue), "run_seconds": None if run is None else round(run),
            "save_seconds": save,
            "outcome": "Failed" if rng.random() < 0.08 else "Success",
            "pu_per_hour": MESH_RATE if job_type == "MeshSampling" else round(rng.uniform(2, 12), 2),
        }
        if kind == "exempt" and job_type == "MeshSampling":
            exempt_ids.append(spec["id"])
        j = dict(spec, created_epoch=created, kind=kind)
        return j

    def _size_budgets(self):
        """Limits at 60 % of the upper-quartile spend per group and window if nothing were
        cancelled, so that each cancelling budget runs out in the middle of some windows."""
        for b in self.budgets:
            if b.limit is not None:
                continue
            spend = {}
            for j in self.specs:
                if j["itwin_id"] not in self.watched or not b.matches(j):
                    continue
                end = self.natural_end(j)[1]
                if end == INF or end > self.t_end:
                    continue
                key = (b.group(j), b.window_start(end))
                spend[key] = spend.get(key, 0.0) + self.pu(j)
            values = sorted(spend.values()) or [100.0]
            b.limit = max(10, round(0.6 * values[len(values) * 3 // 4]))

    @staticmethod
    def natural_end(j):
        """-> (no longer cancellable from, terminal at) without any cancellation."""
        created, queue, run = j["created_epoch"], j["queue_seconds"], j["run_seconds"]
        if queue is None or run is None:
            return INF, INF
        end = created + queue + run
        if end < created + queue + j["save_seconds"]:
            return end, end
        if j["outcome"] == "Success":
            return end - j["save_seconds"], end
        return end, end + 5

    @staticmethod
    def pu(j):
        return round(j["pu_per_hour"] * (j["run_seconds"] or 0) / H, 4)

    def sim_specs(self):
        keys = ("id", "name", "type", "itwin_id", "user_id", "created", "queue_seconds",
                "run_seconds", "save_seconds", "outcome", "pu_per_hour")
        return [{k: j[k] for k in keys} for j in self.specs]

    def config_policies(self):
        exempt_ids = sorted(self.policies[2].exempt_ids)
        mesh = {"name": "mesh-pu", "match": {"types": ["MeshSampling"]},
                "limits": {"max_processing_units": 150}, "warn_at": 0.9}
        if exempt_ids:
            mesh["exempt"] = {"ids": exempt_ids}
        return [
            {"name": "pointcloud-limits", "match": {"types": list(POINTCLOUD)},
             "exempt": {"name_regex": "-keep$"},
             "limits": {"max_queued": "4h", "max_runtime": "10h"}, "warn_at": 0.8},
            {"name": "tiler-runtime", "match": {"types": list(TILES)},
             "limits": {"max_runtime": "8h"}, "grace": "1h"},
            mesh,
            {"name": "vip-report", "match": {"users": [self.vip]},
             "limits": {"max_runtime": "5h"}, "action": "report"},
        ]
