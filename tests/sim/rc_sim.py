#!/usr/bin/env python3
"""rc_sim: a simulator of Bentley's iTwin Reality Conversion v2 API, for rc-watchdog's tests.

It serves the IMS client-credentials token endpoint and the Reality Conversion v2 job
operations (list, get, cancel; also create, progress and messages), on a simulated
clock, with fault injection, rate limiting, a request log and a JSON control API under
/_sim/.  Standard library only (Python 3.11).  README.md next to this file documents the
command line, the control API, the scenario format and every modelling choice made
where the real API is not documented.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import collections
import hashlib
import hmac
import http
import http.server
import json
import math
import operator
import os
import random
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from datetime import datetime, timezone
from email.utils import formatdate

# --------------------------------------------------------------------------------------
# Constants and the API's documented bodies
# --------------------------------------------------------------------------------------

API = "/reality-conversion"
JOBS_PATH = API + "/jobs"
TOKEN_PATH = "/connect/token"
SCOPE = "itwin-platform"
DEFAULT_CLIENT_ID = "rcw-test"
DEFAULT_CLIENT_SECRET = "s3cret"
DEFAULT_USER_ID = "3a8670f9-b69f-4a60-b958-f103d580755f"
DEFAULT_ITWIN_ID = "ce54f773-67db-4b4f-a98b-368329107429"
JOB_TYPES = ("PointCloudConversion", "PointCloudOptimization", "TileMapOptimization",
             "VectorOptimization", "MeshSampling", "ContextSceneTiler")
STATES = ("Queued", "Active", "TerminatingOnCancel", "TerminatingOnFailure",
          "Cancelled", "Failed", "Success")
TERMINAL = frozenset(("Cancelled", "Failed", "Success"))
DEFAULT_TOP, MAX_TOP = 100, 1000
JSON_CT = "application/json; charset=utf-8"
MAX_REQUEST_BODY = 256 * 1024 * 1024
INF = math.inf


def _error(code, message, details=None):
    err = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def invalid_request(detail_code, message, target):
    """The 400/422 envelope of the seed document, with one detail."""
    return _error("InvalidRealityConversionRequest", "Invalid request to Reality Conversion.",
                  [{"code": detail_code, "message": message, "target": target}])


# Verbatim from the seed document (DELETE /jobs/{id}) and the API notes.
BODY_HEADER_NOT_FOUND = _error(
    "HeaderNotFound", "Header Authorization was not found in the request. Access denied.")
BODY_INVALID_TOKEN = _error("Unauthorized", "Access denied due to invalid access_token.")
BODY_JOB_NOT_FOUND = _error("JobNotFound", "Requested job is not available.")
BODY_RATE_LIMITED = _error(
    "RateLimitExceeded",
    "The client sent more requests than allowed by this API for the current tier of the client.")
BODY_SAVING = invalid_request(
    "InvalidChange",
    "The job is about to complete. It is saving the data. Cancellation is not allowed during this period.",
    "")
MSG_FINISHED = "The job has already finished. Cancellation is not allowed."
MSG_TERMINATING_ON_FAILURE = "The job is terminating after a failure. Cancellation is not allowed."
# Simulator's own choices (not documented by Bentley).
BODY_UNAVAILABLE = _error("ServiceUnavailable",
                          "The service is temporarily unavailable. Please retry later.")
BODY_ROUTE_NOT_FOUND = _error("ResourceNotFound", "The requested resource was not found.")
BODY_METHOD_NOT_ALLOWED = _error("MethodNotAllowed",
                                 "The HTTP method is not allowed for this resource.")
MALFORMED_BODY = (b'{"jobs":[{"id":"5e315451-564e-4e8b-a952-45b14e6a9c90","state":"Active",'
                  b'"executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z",}]')


class BadRequest(Exception):
    """A control-API or scenario input error (HTTP 400 on the control API)."""


# --------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_time(text):
    """RFC 3339 date-time (any fraction length, Z or +hh:mm) -> POSIX seconds (float)."""
    m = _RFC3339.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, sec = (int(g) for g in m.groups()[:6])
    if hour > 23 or minute > 59 or sec > 60:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    t = datetime(year, month, day, hour, minute, min(sec, 59), tzinfo=timezone.utc).timestamp()
    if m.group(7):
        t += float(m.group(7))
    zone = m.group(8)
    if zone not in ("Z", "z"):
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        t -= offset if zone[0] == "+" else -offset
    return t


_DATE_PREFIXES = {}  # day number -> "YYYY-MM-DDT" (formatting dates is on the hot path)


def _split_time(t):
    """-> ("YYYY-MM-DDT", hour, minute, second, microsecond) of POSIX time t, in UTC."""
    sec, frac = divmod(int(round(t * 1_000_000)), 1_000_000)
    day, rem = divmod(sec, 86400)
    prefix = _DATE_PREFIXES.get(day)
    if prefix is None:
        if len(_DATE_PREFIXES) > 100000:
            _DATE_PREFIXES.clear()
        prefix = _DATE_PREFIXES[day] = "%04d-%02d-%02dT" % time.gmtime(day * 86400)[:3]
    return prefix, rem // 3600, rem // 60 % 60, rem % 60, frac


def fmt_z(t):
    """2026-04-05T14:04:56Z (whole seconds, as in Bentley's create/cancel examples)."""
    return "%s%02d:%02d:%02dZ" % _split_time(t)[:4]


def fmt_offset(t):
    """2026-04-01T09:56:14.0000000+00:00 (7 digits, as in Bentley's list example)."""
    return "%s%02d:%02d:%02d.%06d0+00:00" % _split_time(t)


def fmt_control(t):
    """The control API's own form: microseconds and Z."""
    return "%s%02d:%02d:%02d.%06dZ" % _split_time(t)


class SimClock:
    """sim now = base + f(real elapsed since the last rebase).  Thread-safe.

    tick == 0: f(e) = e * speed (a continuous clock).
    tick > 0 and speed > 1: the clock runs at real speed within each tick of `tick` real
    seconds and jumps forward at every tick boundary, so that it averages `speed`:
    f(e) = n * tick * speed + (e - n * tick), n = floor(e / tick)."""

    def __init__(self, start, speed=1.0, tick=0.0):
        self._lock = threading.Lock()
        self._base_sim = float(start)
        self._base_real = time.monotonic()
        self._speed = float(speed)
        self._tick = float(tick)
        self.skew = 0.0  # added to the Date header only

    def _elapsed_sim(self, e):  # REQUIRES: self._lock held
        if self._tick <= 0 or self._speed <= 1:
            return e * self._speed
        n = math.floor(e / self._tick)
        return n * self._tick * self._speed + (e - n * self._tick)

    def now(self):
        with self._lock:
            return self._base_sim + self._elapsed_sim(time.monotonic() - self._base_real)

    @property
    def speed(self):
        return self._speed

    @property
    def tick(self):
        return self._tick

    def _rebase(self):  # REQUIRES: self._lock held
        real = time.monotonic()
        self._base_sim += self._elapsed_sim(real - self._base_real)
        self._base_real = real

    def advance(self, seconds):
        with self._lock:
            self._rebase()
            self._base_sim += seconds

    def set(self, t):
        with self._lock:
            self._base_real = time.monotonic()
            self._base_sim = float(t)

    def set_speed(self, speed):
        with self._lock:
            self._rebase()
            self._speed = float(speed)

    def set_tick(self, tick):
        with self._lock:
            self._rebase()
            self._tick = float(tick)


# --------------------------------------------------------------------------------------
# Configuration (control API / scenario)
# --------------------------------------------------------------------------------------

CONFIG_DEFAULTS = {
    "require_filter": False,      # 422 when $filter is missing
    "terminal_delete": "422",     # DELETE on Cancelled/Failed/Success: "422" or "200"
    "cancel_delay": 10.0,         # sim seconds from an accepted DELETE to Cancelled
    "rate_limit": 0,              # requests per window (0 = unlimited)
    "rate_window": 60.0,          # real seconds of the sliding window
    "token_lifetime": 3600,       # sim seconds
    "user_id": DEFAULT_USER_ID,   # the client's own user id (visibility rule)
    "timestamp_form": "alternate",  # z | offset | alternate (by job parity)
    "pu_null": False,             # processingUnits: null (instead of absent) before the end
    "dates_null": False,          # startedDateTime/endedDateTime: null instead of absent
    "fail_seconds": 5.0,          # default (at creation) time a failing job is TerminatingOnFailure
    "itwin_in_grants": False,     # does "iTwinId in (...)" grant iTwin visibility like "eq"?
    "last_links": "absent",       # last page: no _links | "_links":{"next":null} | "_links":{}
    "empty_last_page": False,     # a full page always links on (may yield an empty last page)
    "request_log_max": 200000,    # entries kept in the request log
    "hide_future_jobs": False,    # jobs created after sim now are invisible to the API
    "page_overlap": 0,            # continuation pages repeat the last N jobs of the page before
    "rate_bursts": None,          # {"period": P, "length": L}: 429s in the first L s of each P s
}
_CONFIG_KINDS = {
    "require_filter": "bool", "terminal_delete": ("422", "200"), "cancel_delay": "num",
    "rate_limit": "int", "rate_window": "pos", "token_lifetime": "posint", "user_id": "str",
    "timestamp_form": ("z", "offset", "alternate"), "pu_null": "bool", "dates_null": "bool",
    "fail_seconds": "num", "itwin_in_grants": "bool", "request_log_max": "posint",
    "last_links": ("absent", "null", "empty"), "empty_last_page": "bool",
    "hide_future_jobs": "bool", "page_overlap": "int", "rate_bursts": "bursts",
}


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_bursts(key, value):
    """rate_bursts: null, or {"period": P, "length": L} with 0 < L < P (real seconds)."""
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"period", "length"}
            or not all(_is_number(v) for v in value.values())
            or not 0 < value["length"] < value["period"]):
        raise BadRequest(f'{key} must be null or {{"period": P, "length": L}} with 0 < L < P')
    return {"period": float(value["period"]), "length": float(value["length"])}


def normalize_config(update):
    """Validates a partial config object; returns it with normalized values."""
    if not isinstance(update, dict):
        raise BadRequest("config must be a JSON object")
    out = {}
    for key, value in update.items():
        kind = _CONFIG_KINDS.get(key)
        if kind is None:
            raise BadRequest(f"unknown config key {key!r}; known: {sorted(CONFIG_DEFAULTS)}")
        if isinstance(kind, tuple):
            value = str(value)
            if value not in kind:
                raise BadRequest(f"{key} must be one of {list(kind)}")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise BadRequest(f"{key} must be true or false")
        elif kind == "bursts":
            value = _check_bursts(key, value)
        elif kind == "str":
            if not isinstance(value, str) or not value:
                raise BadRequest(f"{key} must be a non-empty string")
        elif kind in ("int", "posint"):
            low = 1 if kind == "posint" else 0
            if not _is_number(value) or value != int(value) or value < low:
                raise BadRequest(f"{key} must be an integer >= {low}")
            value = int(value)
        else:  # num / pos
            if not _is_number(value) or value < 0 or (kind == "pos" and value == 0):
                raise BadRequest(f"{key} must be a number {'>' if kind == 'pos' else '>='} 0")
            value = float(value)
        out[key] = value
    return out


# --------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------

_json_str = json.encoder.encode_basestring  # str -> JSON string literal (C implementation)
_LITERALS = {}
_STATE_LITERALS = {state: f'"{state}"' for state in STATES}


def _json_lit(text):
    """_json_str for strings shared by many jobs (types, iTwin and user ids), memoized."""
    lit = _LITERALS.get(text)
    if lit is None:
        if len(_LITERALS) > 10000:
            _LITERALS.clear()
        lit = _LITERALS[text] = _json_str(text)
    return lit


def _hex_uuid(h):
    """32 hex digits -> a version-4 UUID string (variant digit fixed to 'a')."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _rand_uuid(rng):
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


# Specifications per job type, shaped like Bentley's examples (the daemon parses them loosely).
# %(a)s, %(b)s: input reality-data ids; %(o)s: the output id.  The seed document uses
# "pointClouds" (a string), the create and list examples "pointCloud": both appear, by parity.
_SPEC_TEMPLATES = {
    ("PointCloudConversion", 0):
        '{"inputs":{"pointCloud":"%(a)s"},"output":"%(o)s","options":{"outputFormat":"3DTilesPnts"}}',
    ("PointCloudConversion", 1):
        '{"inputs":{"pointClouds":"%(a)s"},"output":"%(o)s","options":{"outputFormat":"3DTilesPnts"}}',
    "PointCloudOptimization":
        '{"inputs":{"pointClouds":["%(a)s","%(b)s"]},"output":"%(o)s","options":{"outputFormat":"OPC"}}',
    "TileMapOptimization":
        '{"inputs":{"tileMaps":["%(a)s"]},"output":"%(o)s",'
        '"options":{"outputFormat":"XYZTileMap","imageFormat":"PNG"}}',
    "VectorOptimization":
        '{"inputs":{"vectors":["%(a)s"]},"output":"%(o)s","options":{"outputFormat":"GeoJSON"}}',
    "MeshSampling":
        '{"inputs":{"meshes":["%(a)s"]},"output":"%(o)s","options":{"outputFormat":"LAS","sampling":0.5}}',
    "ContextSceneTiler":
        '{"inputs":{"scene":"%(a)s"},"output":"%(o)s","options":{"objectToTile":"TiePoints"}}',
}


def _spec_template(job_type, parity):
    return (_SPEC_TEMPLATES.get(job_type) or _SPEC_TEMPLATES.get((job_type, parity))
            or '{"inputs":{},"output":"%(o)s","options":{}}')


def derived_specifications_json(job_type, key, parity):
    """Specifications JSON whose reality-data ids derive from the job id (nothing stored)."""
    template = _spec_template(job_type, parity)
    if "%(b)s" in template:
        h = hashlib.blake2b(key.encode(), digest_size=48).hexdigest()
        return template % {"a": _hex_uuid(h[:32]), "o": _hex_uuid(h[32:64]),
                           "b": _hex_uuid(h[64:])}
    h = hashlib.blake2b(key.encode(), digest_size=32).hexdigest()
    return template % {"a": _hex_uuid(h[:32]), "o": _hex_uuid(h[32:])}


def _ids_in(value):
    """Every string found in an `inputs` object (values may be strings or lists)."""
    if isinstance(value, str):
        yield value.lower()
    elif isinstance(value, list):
        for v in value:
            yield from _ids_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _ids_in(v)


class Job:
    """One simulated job: a creation time plus a planned lifecycle, evaluated lazily at `t`."""

    __slots__ = ("seq", "id", "key", "name", "type", "itwin_id", "itwin_key", "user_id",
                 "user_key", "email", "email_key", "created", "queue_seconds", "run_seconds",
                 "save_seconds", "fail_seconds", "outcome", "pu_per_hour", "processing_units",
                 "omit_started", "state_override", "ts_form", "specifications", "io_keys", "tail",
                 "cancel_requests", "cancelled_at", "cancel_end", "cancel_delay",
                 "cancel_ignored", "upper_ids", "listed_twice", "cache")

    def __init__(self, seq, job_id, job_type, name, itwin_id, user_id, created):
        self.seq = seq
        key = job_id.lower()
        self.id, self.key = job_id, (job_id if key == job_id else key)
        self.type, self.name = job_type, name
        self.itwin_id, self.itwin_key = itwin_id, sys.intern(itwin_id.lower())
        self.user_id, self.user_key = user_id, sys.intern(user_id.lower())
        self.email = self.email_key = None
        self.created = created
        self.queue_seconds, self.run_seconds = 0.0, 3600.0
        self.save_seconds, self.fail_seconds = 30.0, 5.0
        self.outcome = "Success"
        self.pu_per_hour, self.processing_units = 10.0, None
        self.omit_started, self.state_override, self.ts_form = False, None, None
        self.specifications, self.io_keys = None, None  # None: derived from the id
        self.tail = None  # cached JSON bytes of the static members (see static_json)
        self.cancel_requests, self.cancelled_at, self.cancel_end = 0, None, None
        self.cancel_delay, self.cancel_ignored = None, 0
        self.upper_ids = self.listed_twice = False
        self.cache = None

    def sort_key(self):
        """List order: createdDateTime descending, then id ascending (case-insensitive)."""
        return (-int(round(self.created * 1_000_000)), self.key)

    def specs(self):
        if self.specifications is not None:
            return self.specifications
        if self.tail is not None:  # generated job: the specifications exist only in the tail
            return json.loads(b"{" + self.tail)["specifications"]
        return json.loads(derived_specifications_json(self.type, self.key, self.seq % 2))

    def static_json(self):
        """JSON bytes of the members that do not change with time, after the executionInfo:
        '"specifications":{...},"name":...,"type":...,"iTwinId":...}'.  Cached."""
        if self.tail is None:
            if self.specifications is not None:
                specs = json.dumps(self.specifications, separators=(",", ":"))
            else:
                specs = derived_specifications_json(self.type, self.key, self.seq % 2)
            name = "null" if self.name is None else _json_str(self.name)
            itwin = self.itwin_id.upper() if self.upper_ids else self.itwin_id
            self.tail = ('"specifications":%s,"name":%s,"type":%s,"iTwinId":%s}' % (
                specs, name, _json_lit(self.type), _json_lit(itwin))).encode()
        return self.tail

    def shown_id(self):
        return self.id.upper() if self.upper_ids else self.id

    def shown_user_id(self):
        return self.user_id.upper() if self.upper_ids else self.user_id

    def snapshot(self, t):
        """The job's true record at sim time t, for the request log (times: epoch or None)."""
        state, started, ended, saving, _, _ = self.timeline(t)
        return {"id": self.key, "state": state, "created": self.created, "started": started,
                "ended": ended, "cancelled_at": self.cancelled_at, "saving": saving,
                "itwin_id": self.itwin_key, "user_id": self.user_key, "name": self.name,
                "type": self.type}

    def before_change(self):
        """Call before changing fields: keeps generated specifications, drops caches."""
        if self.specifications is None and self.tail is not None:
            self.specifications = self.specs()
        self.tail = self.io_keys = self.cache = None

    def input_keys(self):
        return self._io()[0]

    def output_key(self):
        return self._io()[1]

    def _io(self):
        if self.io_keys is None:
            specs = self.specs()
            output = specs.get("output")
            self.io_keys = (frozenset(_ids_in(specs.get("inputs"))),
                            output.lower() if isinstance(output, str) else None)
        return self.io_keys

    def timeline(self, t):
        """-> (state, started, ended, saving, valid_from, valid_until) at sim time t.

        The tuple stays true for valid_from <= t < valid_until (used for caching)."""
        s = None if self.queue_seconds is None else self.created + self.queue_seconds
        if self.cancelled_at is not None:
            tc = self.cancelled_at
            started = s if (s is not None and s <= tc) else None
            if t < self.cancel_end:
                return ("TerminatingOnCancel", started, None, False, -INF, self.cancel_end)
            return ("Cancelled", started, self.cancel_end, False, self.cancel_end, INF)
        if s is None or t < s:
            r = ("Queued", None, None, False, -INF, INF if s is None else s)
        elif self.run_seconds is None:
            r = ("Active", s, None, False, s, INF)
        else:
            e = s + self.run_seconds
            if self.outcome == "Success":
                save_from = max(s, e - self.save_seconds)
                if t < save_from:
                    r = ("Active", s, None, False, s, save_from)
                elif t < e:
                    r = ("Active", s, None, True, save_from, e)
                else:
                    r = ("Success", s, e, False, e, INF)
            else:
                f = e + self.fail_seconds
                if t < e:
                    r = ("Active", s, None, False, s, e)
                elif t < f:
                    r = ("TerminatingOnFailure", s, None, False, e, f)
                else:
                    r = ("Failed", s, f, False, f, INF)
        if self.state_override is not None:  # forced state: never cached
            return (self.state_override, r[1], r[2], r[3], t, t)
        return r

    def consumed_pu(self, t):
        """Processing units consumed up to t (stops at the end of the run or the cancel)."""
        if self.queue_seconds is None:
            return 0.0
        s = self.created + self.queue_seconds
        stop = t
        if self.cancelled_at is not None:
            stop = min(stop, self.cancelled_at)
        if self.run_seconds is not None:
            stop = min(stop, s + self.run_seconds)
        active = max(0.0, stop - s)
        if self.processing_units is not None:
            if not self.run_seconds or active >= self.run_seconds:
                return self.processing_units
            return round(self.processing_units * active / self.run_seconds, 4)
        return round(self.pu_per_hour * active / 3600.0, 4)


_SPEC_KEYS = frozenset((
    "id", "name", "type", "itwin_id", "user_id", "created", "created_ago", "queue_seconds",
    "run_seconds", "save_seconds", "fail_seconds", "outcome", "pu_per_hour", "processing_units",
    "omit_started", "state_override", "timestamp_form", "specifications", "email",
    "cancel_delay", "cancel_ignored", "upper_ids", "listed_twice"))


def _spec_number(spec, key, allow_none=False):
    v = spec[key]
    if v is None and allow_none:
        return None
    if not _is_number(v) or v < 0:
        raise BadRequest(f"job {key} must be a number >= 0" + (" or null" if allow_none else ""))
    return float(v)


def _spec_string(spec, key, allow_none=False):
    v = spec[key]
    if v is None and allow_none:
        return None
    if not isinstance(v, str) or not v:
        raise BadRequest(f"job {key} must be a non-empty string")
    return v


def apply_spec(job, spec, now):
    """Sets every field named in `spec` (except id) on `job`, validating each."""
    for key in spec:
        if key not in _SPEC_KEYS:
            raise BadRequest(f"unknown job spec key {key!r}; known: {sorted(_SPEC_KEYS)}")
    job.before_change()
    if "name" in spec:
        if spec["name"] is not None and not isinstance(spec["name"], str):
            raise BadRequest("job name must be a string or null")
        job.name = spec["name"]
    if "type" in spec:
        job.type = _spec_string(spec, "type")
    if "itwin_id" in spec:
        job.itwin_id = _spec_string(spec, "itwin_id")
        job.itwin_key = sys.intern(job.itwin_id.lower())
    if "user_id" in spec:
        job.user_id = _spec_string(spec, "user_id")
        job.user_key = sys.intern(job.user_id.lower())
    if "email" in spec:
        job.email = _spec_string(spec, "email", allow_none=True)
        job.email_key = job.email.lower() if job.email else None
    if "created" in spec:
        try:
            job.created = parse_time(spec["created"])
        except ValueError as e:
            raise BadRequest(f"job created: {e}") from None
    elif "created_ago" in spec:
        job.created = now - _spec_number(spec, "created_ago")
    for key in ("queue_seconds", "run_seconds"):
        if key in spec:
            setattr(job, key, _spec_number(spec, key, allow_none=True))
    for key in ("save_seconds", "fail_seconds", "pu_per_hour"):
        if key in spec:
            setattr(job, key, _spec_number(spec, key))
    if "cancel_delay" in spec:
        job.cancel_delay = _spec_number(spec, "cancel_delay", allow_none=True)
    if "processing_units" in spec:
        v = spec["processing_units"]
        if v is not None and (not _is_number(v) or v < 0):
            raise BadRequest("job processing_units must be a number >= 0 or null")
        job.processing_units = v
    if "outcome" in spec:
        if spec["outcome"] not in ("Success", "Failed"):
            raise BadRequest('job outcome must be "Success" or "Failed"')
        job.outcome = spec["outcome"]
    if "omit_started" in spec:
        job.omit_started = bool(spec["omit_started"])
    for key in ("upper_ids", "listed_twice"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise BadRequest(f"job {key} must be true or false")
            setattr(job, key, spec[key])
    if "state_override" in spec:
        job.state_override = _spec_string(spec, "state_override", allow_none=True)
    if "timestamp_form" in spec:
        form = spec["timestamp_form"]
        if form not in (None, "z", "offset", "alternate"):
            raise BadRequest('job timestamp_form must be "z", "offset", "alternate" or null')
        job.ts_form = None if form == "alternate" else form
    if "cancel_ignored" in spec:
        v = spec["cancel_ignored"]
        if not _is_number(v) or v < 0 or v != int(v):
            raise BadRequest("job cancel_ignored must be an integer >= 0")
        job.cancel_ignored = int(v)
    if "specifications" in spec:
        if not isinstance(spec["specifications"], dict):
            raise BadRequest("job specifications must be an object")
        job.specifications = spec["specifications"]


def job_from_spec(spec, seq, now, user_id, rng, fail_seconds=5.0):
    if not isinstance(spec, dict):
        raise BadRequest("a job spec must be a JSON object")
    job_id = spec.get("id") or _rand_uuid(rng)
    if not isinstance(job_id, str):
        raise BadRequest("job id must be a string")
    job_type = spec.get("type", "PointCloudConversion")
    job = Job(seq, job_id, job_type if isinstance(job_type, str) else "", f"{job_type} Job",
              DEFAULT_ITWIN_ID, user_id, now)
    job.fail_seconds = fail_seconds
    apply_spec(job, spec, now)
    return job


def _range_sampler(g, key, default, rng, whole):
    """A generate parameter: a number (fixed), [lo, hi] (uniform) or null (None)."""
    v = g.get(key, default)
    if v is None:
        return lambda: None
    if _is_number(v):
        return lambda: float(v)
    if (isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v)
            and 0 <= v[0] <= v[1]):
        lo, span, rand = v[0], v[1] - v[0], rng.random
        if whole:
            return lambda: float(round(lo + span * rand()))
        return lambda: round(lo + span * rand(), 3)
    raise BadRequest(f"generate.{key} must be a number >= 0, [lo, hi] or null")


def _picker(rng):
    """A faster rng.choice (lists of one element cost no random draw)."""
    rand = rng.random
    return lambda seq: seq[0] if len(seq) == 1 else seq[int(rand() * len(seq))]


_GENERATE_KEYS = frozenset((
    "count", "itwins", "users", "types", "seed", "created_ago", "queue_seconds", "run_seconds",
    "save_seconds", "pu_per_hour", "failed_fraction", "name_prefix", "null_name_fraction",
    "omit_started_fraction"))


def generate_jobs(g, first_seq, now, user_id, fallback_rng, fail_seconds=5.0):
    """Builds `count` random jobs (fast path: ids, specifications and the static JSON
    come from one random draw per job)."""
    if not isinstance(g, dict):
        raise BadRequest("generate must be a JSON object")
    unknown = set(g) - _GENERATE_KEYS
    if unknown:
        raise BadRequest(f"unknown generate keys {sorted(unknown)}; known: {sorted(_GENERATE_KEYS)}")
    count = g.get("count", 0)
    if not _is_number(count) or count < 0 or count != int(count) or count > 5_000_000:
        raise BadRequest("generate.count must be an integer from 0 to 5000000")
    rng = random.Random(g["seed"]) if "seed" in g else random.Random(fallback_rng.random())
    itwins = list(g.get("itwins") or [DEFAULT_ITWIN_ID])
    users = list(g.get("users") or [user_id])
    types = list(g.get("types") or JOB_TYPES)
    for name, values in (("itwins", itwins), ("users", users), ("types", types)):
        if not all(isinstance(v, str) and v for v in values):
            raise BadRequest(f"generate.{name} must be a list of non-empty strings")
    ago = _range_sampler(g, "created_ago", [0, 86400], rng, True)
    queue = _range_sampler(g, "queue_seconds", [0, 900], rng, True)
    run = _range_sampler(g, "run_seconds", [300, 14400], rng, True)
    save = _range_sampler(g, "save_seconds", 30, rng, True)
    rate = _range_sampler(g, "pu_per_hour", [1, 20], rng, False)
    failed = float(g.get("failed_fraction", 0.1))
    null_name = float(g.get("null_name_fraction", 0.0))
    omit_started = float(g.get("omit_started_fraction", 0.0))
    prefix = str(g.get("name_prefix", "job"))
    name_lit = _json_str(prefix + "-")[:-1]  # '"job-' (the closing quote follows the number)
    itwins = [(v, _json_lit(v)) for v in itwins]
    pick, rand = _picker(rng), rng.random
    base = math.floor(now)
    jobs = []
    for n in range(int(count)):
        seq = first_seq + n
        job_type = pick(types)
        itwin, itwin_lit = pick(itwins)
        bits = f"{rng.getrandbits(512):0128x}"  # job id and reality-data ids in one draw
        if null_name and rand() < null_name:
            name, name_json = None, "null"
        else:
            name, name_json = f"{prefix}-{seq}", f'{name_lit}{seq}"'
        job = Job(seq, _hex_uuid(bits[:32]), job_type, name, itwin, pick(users),
                  base - (ago() or 0.0))
        # Precomputed static JSON ("precomputed per-job fragments"): cold pages stay cheap.
        specs = _spec_template(job_type, seq % 2) % {
            "a": _hex_uuid(bits[32:64]), "o": _hex_uuid(bits[64:96]), "b": _hex_uuid(bits[96:])}
        job.tail = ('"specifications":%s,"name":%s,"type":%s,"iTwinId":%s}' % (
            specs, name_json, _json_lit(job_type), itwin_lit)).encode()
        job.queue_seconds, job.run_seconds, job.fail_seconds = queue(), run(), fail_seconds
        job.save_seconds, job.pu_per_hour = save() or 0.0, rate() or 0.0
        if failed and rand() < failed:
            job.outcome = "Failed"
        if omit_started and rand() < omit_started:
            job.omit_started = True
        jobs.append(job)
    return jobs


class Store:
    """All jobs, by id and in list order (a sorted index for keyset paging)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.by_key = {}
        self.keys = []    # sort keys, ascending == list order
        self.order = []   # jobs, parallel to keys
        self.next_seq = 0

    def add(self, jobs):
        """Adds jobs; REQUIRES: self.lock held.  Raises BadRequest on a duplicate id."""
        seen = set()
        for job in jobs:
            if job.key in self.by_key or job.key in seen:
                raise BadRequest(f"duplicate job id {job.id}")
            seen.add(job.key)
        for job in jobs:
            self.by_key[job.key] = job
        if len(jobs) > 64:
            pairs = sorted(zip(self.keys + [job.sort_key() for job in jobs], self.order + jobs),
                           key=operator.itemgetter(0))
            self.keys = [k for k, _ in pairs]
            self.order = [job for _, job in pairs]
        else:
            for job in jobs:
                k = job.sort_key()
                i = bisect.bisect_left(self.keys, k)
                self.keys.insert(i, k)
                self.order.insert(i, job)

    def _index_of(self, job):
        i = bisect.bisect_left(self.keys, job.sort_key())
        while self.order[i] is not job:
            i += 1
        return i

    def remove(self, job):
        i = self._index_of(job)
        del self.keys[i], self.order[i]
        del self.by_key[job.key]

    def update(self, job, spec, now):
        """Applies a partial spec to a stored job, keeping the index sorted."""
        i = self._index_of(job)
        scratch = Job.__new__(Job)  # validate everything first: a bad spec changes nothing
        for slot in Job.__slots__:
            setattr(scratch, slot, getattr(job, slot))
        apply_spec(scratch, spec, now)
        apply_spec(job, spec, now)
        k = job.sort_key()
        if k != self.keys[i]:
            del self.keys[i], self.order[i]
            j = bisect.bisect_left(self.keys, k)
            self.keys.insert(j, k)
            self.order.insert(j, job)

    def get(self, job_id):
        return self.by_key.get(job_id.lower())

    def clear(self):
        self.by_key, self.keys, self.order, self.next_seq = {}, [], [], 0


# --------------------------------------------------------------------------------------
# $filter: OData-like grammar
# --------------------------------------------------------------------------------------

FILTER_PROPS = ("id", "iTwinId", "name", "email", "type", "state", "createdDateTime",
                "inputId", "outputId", "userId")
_OPS = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge,
        "lt": operator.lt, "le": operator.le}
_TOKEN = re.compile(r"\s*(?:(?P<p>[(),])|'(?P<q>(?:[^']|'')*)'|(?P<w>[^\s(),']+))")
_MAX_FILTER_DEPTH = 64


class FilterError(ValueError):
    pass


def tokenize(text):
    """-> [(kind, value, position)] with kind p (punctuation), q (quoted) or w (word)."""
    tokens, pos = [], 0
    while True:
        m = _TOKEN.match(text, pos)
        if not m:
            rest = text[pos:]
            if rest.strip():
                where = pos + len(rest) - len(rest.lstrip())
                raise FilterError(f"Unterminated string literal at position {where}.")
            return tokens
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "q":
            value = value.replace("''", "'")
        tokens.append((kind, value, m.start(kind) - (1 if kind == "q" else 0)))
        pos = m.end()


def _convert_value(prop, tok):
    kind, raw, pos = tok
    if kind == "p":
        raise FilterError(f"Expected a value for '{prop}' at position {pos}, found '{raw}'.")
    if prop == "createdDateTime":
        try:
            return parse_time(raw)
        except ValueError:
            raise FilterError(f"Invalid value '{raw}' for property 'createdDateTime': expected a "
                              f"date-time such as 2026-11-22T10:00:00Z.") from None
    if prop in ("state", "type"):
        allowed = STATES if prop == "state" else JOB_TYPES
        if raw not in allowed:
            raise FilterError(f"Invalid value '{raw}' for property '{prop}'. "
                              f"Allowed values: {', '.join(allowed)}.")
        return raw
    if prop == "name":
        return None if (kind == "w" and raw == "null") else raw
    return raw.lower()  # ids and email compare case-insensitively


class _Parser:
    """expr := and ('or' and)* ; and := unary ('and' unary)* ; unary := 'not' unary | primary ;
    primary := '(' expr ')' | PROP OP value | PROP 'in' '(' value (',' value)* ')'"""

    def __init__(self, tokens):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def parse(self):
        if not self.tokens:
            raise FilterError("The filter expression is empty.")
        node = self._or()
        if self.i < len(self.tokens):
            _, value, pos = self.tokens[self.i]
            raise FilterError(f"Unexpected '{value}' at position {pos}.")
        return node

    def _next(self, what):
        if self.i >= len(self.tokens):
            raise FilterError(f"Unexpected end of the filter: expected {what}.")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _is_word(self, word):
        return self.i < len(self.tokens) and self.tokens[self.i][:2] == ("w", word)

    def _expect(self, punct):
        tok = self._next(f"'{punct}'")
        if tok[:2] != ("p", punct):
            raise FilterError(f"Expected '{punct}' at position {tok[2]}, found '{tok[1]}'.")

    def _enter(self):
        self.depth += 1
        if self.depth > _MAX_FILTER_DEPTH:
            raise FilterError("The filter expression is nested too deeply.")

    def _or(self):
        nodes = [self._and()]
        while self._is_word("or"):
            self.i += 1
            nodes.append(self._and())
        return nodes[0] if len(nodes) == 1 else ("or", nodes)

    def _and(self):
        nodes = [self._unary()]
        while self._is_word("and"):
            self.i += 1
            nodes.append(self._unary())
        return nodes[0] if len(nodes) == 1 else ("and", nodes)

    def _unary(self):
        if self._is_word("not"):
            self.i += 1
            self._enter()
            node = ("not", self._unary())
            self.depth -= 1
            return node
        return self._primary()

    def _primary(self):
        tok = self._next("a property name or '('")
        if tok[:2] == ("p", "("):
            self._enter()
            node = self._or()
            self._expect(")")
            self.depth -= 1
            return node
        kind, prop, pos = tok
        if kind != "w":
            raise FilterError(f"Expected a property name at position {pos}, found '{prop}'.")
        if prop not in FILTER_PROPS:
            raise FilterError(f"Unknown property '{prop}' at position {pos}. "
                              f"Filterable properties: {', '.join(FILTER_PROPS)}.")
        kind, op, pos = self._next(f"an operator after '{prop}'")
        if kind == "w" and op == "in":
            self._expect("(")
            values = [_convert_value(prop, self._next("a value"))]
            while self.i < len(self.tokens) and self.tokens[self.i][:2] == ("p", ","):
                self.i += 1
                values.append(_convert_value(prop, self._next("a value")))
            self._expect(")")
            return ("in", prop, values)
        if kind != "w" or op not in _OPS:
            raise FilterError(f"Unknown operator '{op}' at position {pos}. "
                              f"Operators: eq, ne, gt, ge, lt, le, in, and, or.")
        return ("cmp", prop, op, _convert_value(prop, self._next(f"a value after '{op}'")))


# Job attributes behind the filterable properties; None = nullable.
_ATTRS = {"id": "key", "iTwinId": "itwin_key", "userId": "user_key", "type": "type",
          "createdDateTime": "created"}
_NULLABLE_ATTRS = {"name": "name", "email": "email_key"}


def _getter(prop):
    """-> (get(job, t), nullable)."""
    if prop in _ATTRS:
        attr = operator.attrgetter(_ATTRS[prop])
        return (lambda j, t: attr(j)), False
    if prop in _NULLABLE_ATTRS:
        attr = operator.attrgetter(_NULLABLE_ATTRS[prop])
        return (lambda j, t: attr(j)), True
    if prop == "state":
        return (lambda j, t: j.timeline(t)[0]), False
    return (lambda j, t: j.output_key()), True  # outputId


def _compare(fn, a, b):
    if a is None or b is None:
        return fn(a, b) if fn in (operator.eq, operator.ne) else False
    return fn(a, b)


def _compile(node):
    kind = node[0]
    if kind in ("and", "or"):
        parts = [_compile(n) for n in node[1]]
        if len(parts) == 2:
            a, b = parts
            if kind == "and":
                return lambda j, t: a(j, t) and b(j, t)
            return lambda j, t: a(j, t) or b(j, t)
        if kind == "and":
            return lambda j, t: all(p(j, t) for p in parts)
        return lambda j, t: any(p(j, t) for p in parts)
    if kind == "not":
        inner = _compile(node[1])
        return lambda j, t: not inner(j, t)
    if kind == "in":
        _, prop, values = node
        wanted = frozenset(values)
        if prop == "inputId":
            return lambda j, t: not wanted.isdisjoint(j.input_keys())
        get, _ = _getter(prop)
        return lambda j, t: get(j, t) in wanted
    _, prop, op, value = node
    fn = _OPS[op]
    if prop == "inputId":
        if op == "ne":
            return lambda j, t: value not in j.input_keys()
        return lambda j, t: any(_compare(fn, k, value) for k in j.input_keys())
    get, nullable = _getter(prop)
    if nullable or value is None:
        return lambda j, t: _compare(fn, get(j, t), value)
    return lambda j, t: fn(get(j, t), value)


def _collect_grants(node, grants, in_grants):
    kind = node[0]
    if kind in ("and", "or"):
        for n in node[1]:
            _collect_grants(n, grants, in_grants)
    elif kind == "not":
        _collect_grants(node[1], grants, in_grants)
    elif node[1] == "iTwinId":
        if kind == "cmp" and node[2] == "eq":
            grants.add(node[3])
        elif kind == "in" and in_grants:
            grants.update(node[2])


def compile_filter(text, in_grants=False):
    """-> (predicate(job, t) -> bool, frozenset of iTwin ids the filter grants visibility of).

    Raises FilterError with a human-readable reason."""
    tree = _Parser(tokenize(text)).parse()
    grants = set()
    _collect_grants(tree, grants, in_grants)
    return _compile(tree), frozenset(grants)


# --------------------------------------------------------------------------------------
# Fault rules, rate limiting, request log
# --------------------------------------------------------------------------------------

FAULT_KINDS = ("status", "reset", "hang", "slow", "malformed", "truncated", "ratelimit",
               "huge", "deep", "loop_link")
_FAULT_KEYS = frozenset(("match", "kind", "status", "body", "content_type", "retry_after",
                         "count", "probability", "after", "hang_seconds", "bytes_per_second",
                         "bytes", "depth", "process"))
_MATCH_KEYS = frozenset(("method", "path", "op", "job_id"))


def _check_rule(rule):
    if not isinstance(rule, dict):
        raise BadRequest("a fault rule must be a JSON object")
    unknown = set(rule) - _FAULT_KEYS
    if unknown:
        raise BadRequest(f"unknown fault rule keys {sorted(unknown)}; known: {sorted(_FAULT_KEYS)}")
    if rule.get("kind") not in FAULT_KINDS:
        raise BadRequest(f"fault kind must be one of {list(FAULT_KINDS)}")
    match = rule.get("match", {})
    if not isinstance(match, dict) or set(match) - _MATCH_KEYS:
        raise BadRequest(f"fault match must be an object with keys from {sorted(_MATCH_KEYS)}")
    for key in ("retry_after", "hang_seconds", "probability", "bytes_per_second"):
        if key in rule and (not _is_number(rule[key]) or rule[key] < 0):
            raise BadRequest(f"fault {key} must be a number >= 0")
    for key in ("status", "count", "after", "bytes", "depth"):
        if key in rule and rule[key] is not None and (
                not _is_number(rule[key]) or rule[key] < 0 or rule[key] != int(rule[key])):
            raise BadRequest(f"fault {key} must be an integer >= 0")
    if "status" in rule and not 100 <= rule["status"] <= 599:
        raise BadRequest("fault status must be an HTTP status from 100 to 599")
    if rule.get("bytes_per_second") == 0:
        raise BadRequest("fault bytes_per_second must be > 0")
    return {"rule": dict(rule), "seen": 0, "fired": 0}


class Faults:
    """An ordered list of fault rules; the first that matches and fires wins."""

    def __init__(self, rng):
        self._lock = threading.Lock()
        self._rng = rng
        self._rules = []

    def set(self, rules):
        if not isinstance(rules, list):
            raise BadRequest("faults.rules must be a list")
        checked = [_check_rule(r) for r in rules]
        with self._lock:
            self._rules = checked

    def clear(self):
        with self._lock:
            self._rules = []

    def snapshot(self):
        with self._lock:
            return [dict(r["rule"], seen=r["seen"], fired=r["fired"]) for r in self._rules]

    @staticmethod
    def _matches(match, method, path, op, job_id):
        if "method" in match and str(match["method"]).upper() != method:
            return False
        if "op" in match and match["op"] != op:
            return False
        if "job_id" in match and (job_id or "").lower() != str(match["job_id"]).lower():
            return False
        want = match.get("path")
        if want is not None:
            if want.endswith("*"):
                return path.startswith(want[:-1])
            return path.rstrip("/") == want.rstrip("/")
        return True

    def pick(self, method, path, op, job_id):
        with self._lock:
            for r in self._rules:
                rule = r["rule"]
                if not self._matches(rule.get("match", {}), method, path, op, job_id):
                    continue
                r["seen"] += 1
                if r["seen"] <= rule.get("after", 0):
                    continue
                count = rule.get("count")
                if count is not None and r["fired"] >= count:
                    continue
                p = rule.get("probability", 1.0)
                if p < 1.0 and self._rng.random() >= p:
                    continue
                r["fired"] += 1
                return rule
        return None


class RateLimiter:
    """Sliding window over real (monotonic) time; remembers announced retry-after deadlines."""

    def __init__(self):
        self._lock = threading.Lock()
        self._stamps = collections.deque()
        self._retry_until = 0.0

    def is_early(self, now):
        with self._lock:
            return now < self._retry_until

    def admit(self, limit, window, now):
        """-> 0 if the request is admitted (and counted), else the seconds to announce."""
        if limit <= 0:
            return 0
        with self._lock:
            while self._stamps and self._stamps[0] <= now - window:
                self._stamps.popleft()
            if len(self._stamps) < limit:
                self._stamps.append(now)
                return 0
            return max(1, math.ceil(self._stamps[0] + window - now))

    def announce(self, now, seconds):
        with self._lock:
            self._retry_until = max(self._retry_until, now + seconds)

    def clear(self):
        with self._lock:
            self._stamps.clear()
            self._retry_until = 0.0


class RequestLog:
    """Bounded log of API and token requests (never tokens, secrets or bodies)."""

    def __init__(self, maxlen):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=maxlen)
        self._seq = 0
        self.dropped = 0

    def start(self, **fields):
        with self._lock:
            self._seq += 1
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            entry = {"seq": self._seq, **fields}
            self._entries.append(entry)
            return entry

    def resize(self, maxlen):
        with self._lock:
            self._entries = collections.deque(self._entries, maxlen=maxlen)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def query(self, since=0, op=None):
        with self._lock:
            return [dict(e) for e in self._entries
                    if e["seq"] > since and (op is None or e["op"] == op)]


# --------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------

class Response:
    """What the handler writes.  mode: normal | slow | stream | reset | hang."""

    __slots__ = ("status", "body", "headers", "mode", "bps", "hang_seconds", "stream",
                 "stream_length", "close")

    def __init__(self, status=200, body=b"", headers=None, mode="normal"):
        self.status, self.body, self.headers, self.mode = status, body, headers or [], mode
        self.bps, self.hang_seconds = 1000.0, 120.0
        self.stream, self.stream_length, self.close = None, 0, False


def json_response(status, obj, headers=()):
    body = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return Response(status, body, [("Content-Type", JSON_CT), *headers])


def _huge_stream(prefix, total):
    suffix = b'"}'
    remaining = max(0, total - len(prefix) - len(suffix))
    chunk = memoryview(b"x" * 262144)
    yield prefix
    while remaining > 0:
        n = min(remaining, len(chunk))
        yield chunk[:n]
        remaining -= n
    yield suffix


class Ctx:
    """One API request."""

    __slots__ = ("headers", "method", "path", "target", "query", "body", "op", "job_id", "now",
                 "real", "entry")


def classify(method, path):
    """-> (op, job id or None) for an API path."""
    p = path.rstrip("/") or "/"
    if p == TOKEN_PATH:
        return "token", None
    if p == JOBS_PATH:
        return {"GET": "list_jobs", "POST": "create_job"}.get(method, "other"), None
    if p.startswith(JOBS_PATH + "/"):
        parts = p[len(JOBS_PATH) + 1:].split("/")
        job_id = urllib.parse.unquote(parts[0])
        if len(parts) == 1:
            return {"GET": "get_job", "DELETE": "cancel_job"}.get(method, "other"), job_id
        if len(parts) == 2 and parts[1] in ("progress", "messages") and method == "GET":
            return "get_" + parts[1], job_id
        return "other", job_id
    return "other", None


def _is_known_route(path):
    p = path.rstrip("/") or "/"
    return p in (TOKEN_PATH, JOBS_PATH) or (
        p.startswith(JOBS_PATH + "/") and p.count("/") <= JOBS_PATH.count("/") + 2)


_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


# --------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------

class Simulator:
    """All simulated state and the logic of every endpoint.  The HTTP handler only moves bytes."""

    def __init__(self, base_config, clock, client_id, client_secret, seed=None, verbose=False):
        self.base_config = dict(CONFIG_DEFAULTS, **normalize_config(base_config))
        self.cfg = dict(self.base_config)
        self.cfg_gen = 0
        self.bursts_origin = time.monotonic()
        self.clock = clock
        self.client_id, self.client_secret = client_id, client_secret
        self.rng = random.Random(seed)
        self.verbose = verbose
        self.store = Store()
        self.faults = Faults(self.rng)
        self.limiter = RateLimiter()
        self.log = RequestLog(self.cfg["request_log_max"])
        self.tokens = {}
        self.tokens_issued = 0
        self.tokens_lock = threading.Lock()
        self.cursor_secret = secrets.token_bytes(16)
        self.filter_cache = {}
        self.stop_event = threading.Event()
        self.scheme, self.default_host = "http", "127.0.0.1"

    # ---- shared helpers ---------------------------------------------------------------

    def http_date(self):
        return formatdate(self.clock.now() + self.clock.skew, usegmt=True)

    def set_config(self, update):
        update = normalize_config(update)
        self.cfg.update(update)
        self.cfg_gen += 1
        self.filter_cache.clear()
        if "rate_bursts" in update:
            self.bursts_origin = time.monotonic()
        if "request_log_max" in update:
            self.log.resize(self.cfg["request_log_max"])

    def render(self, job, t):
        """-> (gen, valid_from, valid_until, state, saving, head bytes) of job at t, cached.

        The head is the time-dependent start of the job's JSON; job.static_json() ends it."""
        c = job.cache
        if c is not None and c[0] == self.cfg_gen and c[1] <= t < c[2]:
            return c
        state, started, ended, saving, lo, hi = job.timeline(t)
        c = (self.cfg_gen, lo, hi, state, saving, self.job_head(job, t, state, started, ended))
        job.cache = c
        return c

    def job_bytes(self, job, t):
        """The job object as the API shows it at t, as compact JSON bytes."""
        return self.render(job, t)[5] + job.static_json()

    def job_json(self, job, t, state, started, ended):
        """The job object in the given state (e.g. the forced TerminatingOnCancel of a DELETE)."""
        return self.job_head(job, t, state, started, ended) + job.static_json()

    def job_head(self, job, t, state, started, ended):
        """JSON bytes '{"id":...,"state":...,"userId":...,"executionInfo":{...},' (built by
        hand: this is the hot path of a cold list page)."""
        form = job.ts_form or self.cfg["timestamp_form"]
        if form == "alternate":
            form = "z" if job.seq % 2 == 0 else "offset"
        fmt = fmt_z if form == "z" else fmt_offset
        dates_null = self.cfg["dates_null"]
        info = ['"createdDateTime":"', fmt(job.created), '"']
        if started is not None and not job.omit_started:
            info += [',"startedDateTime":"', fmt(started), '"']
        elif dates_null:
            info.append(',"startedDateTime":null')
        if ended is not None:
            info += [',"endedDateTime":"', fmt(ended), '"']
        elif dates_null:
            info.append(',"endedDateTime":null')
        if state in TERMINAL:
            info += [',"processingUnits":', repr(job.consumed_pu(t))]
        elif self.cfg["pu_null"]:
            info.append(',"processingUnits":null')
        return ('{"id":%s,"state":%s,"userId":%s,"executionInfo":{%s},' % (
            _json_str(job.shown_id()), _STATE_LITERALS.get(state) or _json_str(state),
            _json_lit(job.shown_user_id()), "".join(info))).encode()

    def job_view(self, job, t, state, started, ended):
        """The job object as a dict (control API)."""
        return json.loads(self.job_json(job, t, state, started, ended))

    def add_jobs(self, specs=None, generate=None):
        """Control API / scenario: adds jobs; returns their ids."""
        if specs is not None and not isinstance(specs, list):
            raise BadRequest("jobs must be a list of job specs")
        now = self.clock.now()
        with self.store.lock:
            seq = self.store.next_seq
            jobs = []
            for spec in specs or []:
                jobs.append(job_from_spec(spec, seq, now, self.cfg["user_id"], self.rng,
                                          self.cfg["fail_seconds"]))
                seq += 1
            if generate is not None:
                jobs.extend(generate_jobs(generate, seq, now, self.cfg["user_id"], self.rng,
                                          self.cfg["fail_seconds"]))
            self.store.add(jobs)
            self.store.next_seq += len(jobs)
        return [job.id for job in jobs]

    def reset(self):
        with self.store.lock:
            self.store.clear()
        self.faults.clear()
        self.log.clear()
        self.limiter.clear()
        self.cfg = dict(self.base_config)
        self.cfg_gen += 1
        self.filter_cache.clear()
        self.log.resize(self.cfg["request_log_max"])

    def load_scenario(self, data):
        if not isinstance(data, dict):
            raise BadRequest("a scenario must be a JSON object")
        unknown = set(data) - {"config", "clock", "jobs", "generate", "faults"}
        if unknown:
            raise BadRequest(f"unknown scenario keys {sorted(unknown)}")
        if "config" in data:
            self.base_config.update(normalize_config(data["config"]))
            self.set_config(data["config"])
        if "clock" in data:
            self.apply_clock(data["clock"])
        if "jobs" in data or "generate" in data:
            self.add_jobs(data.get("jobs"), data.get("generate"))
        if "faults" in data:
            faults = data["faults"]
            self.faults.set(faults.get("rules", []) if isinstance(faults, dict) else faults)

    def apply_clock(self, req):
        if not isinstance(req, dict) or set(req) - {"advance", "set", "speed", "skew", "tick"}:
            raise BadRequest('clock takes "advance", "set", "speed", "skew" and/or "tick"')
        for key in ("advance", "speed", "skew", "tick"):
            if key in req and not _is_number(req[key]):
                raise BadRequest(f"clock {key} must be a number")
        if "speed" in req and req["speed"] < 0:
            raise BadRequest("clock speed must be >= 0")
        if "tick" in req and req["tick"] < 0:
            raise BadRequest("clock tick must be >= 0")
        if "set" in req:
            try:
                target = parse_time(req["set"])
            except ValueError as e:
                raise BadRequest(f"clock set: {e}") from None
        if "tick" in req:
            self.clock.set_tick(float(req["tick"]))
        if "speed" in req:  # first, so that "set" lands exactly
            self.clock.set_speed(float(req["speed"]))
        if "set" in req:
            self.clock.set(target)
        if "advance" in req:
            self.clock.advance(float(req["advance"]))
        if "skew" in req:
            self.clock.skew = float(req["skew"])

    def clock_state(self):
        now = self.clock.now()
        return {"now": fmt_control(now), "now_epoch": now, "speed": self.clock.speed,
                "skew": self.clock.skew, "tick": self.clock.tick}

    # ---- API entry point -----------------------------------------------------------------

    def handle_api(self, headers, method, target, path, query_string, body):
        real = time.monotonic()
        ctx = Ctx()
        ctx.headers, ctx.method, ctx.target, ctx.path, ctx.body = headers, method, target, path, body
        ctx.op, ctx.job_id = classify(method, path)
        ctx.query = dict(urllib.parse.parse_qsl(query_string, keep_blank_values=True))
        ctx.now, ctx.real = self.clock.now(), real
        ctx.entry = self.log.start(
            real_ts=time.time(), sim_ts=fmt_control(ctx.now), method=method, path=path,
            query=ctx.query, op=ctx.op, status=None, job_id=ctx.job_id, authorized=None,
            early=self.limiter.is_early(real), fault=None, retry_after=None, duration_ms=None,
            accept=headers.get("Accept"), user_agent=headers.get("User-Agent"),
            sim_epoch=ctx.now)
        if ctx.op in ("cancel_job", "get_job"):
            with self.store.lock:
                job = self._api_job(ctx)
                ctx.entry["job"] = None if job is None else job.snapshot(ctx.now)
        if ctx.op != "other":
            retry = (self._in_burst(real)
                     or self.limiter.admit(self.cfg["rate_limit"], self.cfg["rate_window"], real))
            if retry:
                ctx.entry["authorized"] = self._peek_auth(ctx)
                return self._finish(ctx, self._rate_limited(retry))
        rule = self.faults.pick(method, path, ctx.op, ctx.job_id)
        if rule is None:
            return self._finish(ctx, self._serve(ctx))
        ctx.entry["fault"] = rule["kind"]
        return self._serve_fault(ctx, rule)

    def _in_burst(self, real):
        """-> 0 outside a rate_bursts burst, else the whole seconds left in it (>= 1)."""
        bursts = self.cfg["rate_bursts"]
        if bursts is None:
            return 0
        into = (real - self.bursts_origin) % bursts["period"]
        if into >= bursts["length"]:
            return 0
        return max(1, math.ceil(bursts["length"] - into))

    def _rate_limited(self, seconds):
        self.limiter.announce(time.monotonic(), seconds)
        return json_response(429, BODY_RATE_LIMITED, [("retry-after", str(int(seconds)))])

    def _finish(self, ctx, resp):
        ctx.entry["status"] = resp.status if resp.mode not in ("reset", "hang") else None
        ctx.entry["duration_ms"] = round((time.monotonic() - ctx.real) * 1000, 3)
        for name, value in resp.headers:
            if name.lower() == "retry-after":
                ctx.entry["retry_after"] = value
        resp.headers.append(("x-correlation-id", str(uuid.uuid4())))
        if ctx.op == "token":
            resp.headers += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return resp

    def _serve(self, ctx, self_link=False):
        if ctx.op == "token":
            return self._token(ctx)
        if ctx.op == "other":
            if _is_known_route(ctx.path):
                return json_response(405, BODY_METHOD_NOT_ALLOWED)
            return json_response(404, BODY_ROUTE_NOT_FOUND)
        denied = self._authenticate(ctx)
        ctx.entry["authorized"] = denied is None
        if denied is not None:
            return denied
        with self.store.lock:
            return getattr(self, "_op_" + ctx.op)(ctx, self_link)

    def _serve_fault(self, ctx, rule):
        kind = rule["kind"]
        if kind in ("slow", "truncated", "loop_link"):
            resp = self._serve(ctx, self_link=(kind == "loop_link"))
            if kind == "slow":
                resp.mode, resp.bps = "slow", float(rule.get("bytes_per_second", 1000))
            elif kind == "truncated":
                resp.body = resp.body[: len(resp.body) // 2]
            return self._finish(ctx, resp)
        if rule.get("process"):
            self._serve(ctx)  # side effects happen, the answer is lost
        elif ctx.op != "token":
            ctx.entry["authorized"] = self._peek_auth(ctx)
        if kind == "reset":
            return self._finish(ctx, Response(mode="reset"))
        if kind == "hang":
            resp = Response(mode="hang")
            resp.hang_seconds = float(rule.get("hang_seconds", 120))
            return self._finish(ctx, resp)
        return self._finish(ctx, self._fault_response(ctx, rule))

    def _fault_response(self, ctx, rule):
        kind = rule["kind"]
        if kind == "ratelimit":
            return self._rate_limited(max(0, int(rule.get("retry_after", 5))))
        if kind == "status":
            status = int(rule.get("status", 503))
            body = rule.get("body", BODY_UNAVAILABLE)
            body = body.encode() if isinstance(body, str) else body
            resp = json_response(status, body)
            if "content_type" in rule:
                resp.headers = [("Content-Type", str(rule["content_type"]))]
            if "retry_after" in rule:
                seconds = int(math.ceil(rule["retry_after"]))
                resp.headers.append(("retry-after", str(seconds)))
                if status == 429:
                    self.limiter.announce(time.monotonic(), seconds)
            return resp
        if kind == "malformed":
            body = rule.get("body", MALFORMED_BODY)
            return json_response(200, body.encode() if isinstance(body, str) else body)
        key = {"list_jobs": "jobs", "token": "access_token"}.get(ctx.op, "job")
        if kind == "deep":
            depth = int(rule.get("depth", 100000))
            return json_response(200, b'{"%s":%s%s}' % (key.encode(), b"[" * depth, b"]" * depth))
        # huge: a valid JSON object with one enormous string, streamed.
        prefix = b'{"jobs":[],"blob":"' if key == "jobs" else b'{"blob":"'
        resp = json_response(200, b"")
        resp.mode = "stream"
        resp.stream_length = max(int(rule.get("bytes", 100 * 1024 * 1024)), len(prefix) + 2)
        resp.stream = _huge_stream(prefix, resp.stream_length)
        return resp

    # ---- auth ----------------------------------------------------------------------------

    def _bearer_valid(self, header, now):
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        with self.tokens_lock:
            expiry = self.tokens.get(token)
        return expiry is not None and now < expiry

    def _peek_auth(self, ctx):
        if ctx.op in ("token", "other"):
            return None
        return self._bearer_valid(ctx.headers.get("Authorization"), ctx.now)

    def _authenticate(self, ctx):
        header = ctx.headers.get("Authorization")
        if header is None:
            return json_response(401, BODY_HEADER_NOT_FOUND)
        if not self._bearer_valid(header, ctx.now):
            return json_response(401, BODY_INVALID_TOKEN)
        return None

    @staticmethod
    def _basic_credentials(header):
        scheme, _, value = (header or "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return ("", "")
        cid, _, secret = decoded.partition(":")
        return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)

    def _token(self, ctx):
        if ctx.method != "POST":
            return json_response(405, {"error": "invalid_request"}, [("Allow", "POST")])
        ctype = ctx.headers.get("Content-Type", "")
        if not ctype.lower().startswith("application/x-www-form-urlencoded"):
            return json_response(400, {"error": "invalid_request"})
        form = dict(urllib.parse.parse_qsl(ctx.body.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        cid, secret = form.get("client_id"), form.get("client_secret")
        basic = self._basic_credentials(ctx.headers.get("Authorization"))
        if basic is not None:
            cid, secret = basic
        ok = (cid is not None and secret is not None
              and hmac.compare_digest(cid.encode(), self.client_id.encode())
              and hmac.compare_digest(secret.encode(), self.client_secret.encode()))
        ctx.entry["authorized"] = ok
        if not ok:
            return json_response(401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"})
        if set(form.get("scope", "").split()) != {SCOPE}:
            return json_response(400, {"error": "invalid_scope"})
        lifetime = self.cfg["token_lifetime"]
        token = secrets.token_urlsafe(32)
        with self.tokens_lock:
            if len(self.tokens) > 10000:
                self.tokens = {k: v for k, v in self.tokens.items() if v > ctx.now}
            self.tokens[token] = ctx.now + lifetime
            self.tokens_issued += 1
        return json_response(200, {"access_token": token, "token_type": "Bearer",
                                   "expires_in": lifetime})

    # ---- job operations (REQUIRE: self.store.lock held) -------------------------------------

    def _invalid(self, message, target, code="InvalidParameter"):
        return json_response(422, invalid_request(code, message, target))

    def _compiled_filter(self, text):
        key = (text, self.cfg["itwin_in_grants"])
        hit = self.filter_cache.get(key)
        if hit is None:
            hit = compile_filter(text, self.cfg["itwin_in_grants"])
            if len(self.filter_cache) > 256:
                self.filter_cache.clear()
            self.filter_cache[key] = hit
        return hit

    def _op_list_jobs(self, ctx, self_link):
        q = ctx.query
        text = q.get("$filter")
        if text is not None and not text.strip():
            text = None
        if text is None and self.cfg["require_filter"]:
            return self._invalid("The $filter query parameter is required.", "$filter")
        top = DEFAULT_TOP
        if "$top" in q:
            raw = q["$top"]
            if not re.fullmatch(r"[0-9]{1,7}", raw) or not 1 <= int(raw) <= MAX_TOP:
                return self._invalid(f"Invalid value '{raw}' for $top: expected an integer "
                                     f"from 1 to {MAX_TOP}.", "$top")
            top = int(raw)
        pred, grants = None, frozenset()
        if text is not None:
            try:
                pred, grants = self._compiled_filter(text)
            except FilterError as e:
                return self._invalid(f"Invalid $filter: {e}", "$filter")
        fhash = hashlib.sha256((text or "").encode()).hexdigest()[:16]
        after = None
        if q.get("continuationToken"):
            after = self._decode_cursor(q["continuationToken"], fhash)
            if after is None:
                return self._invalid("The continuation token is invalid or does not belong to "
                                     "this $filter.", "continuationToken")
        frags, listed, more = self._page(pred, grants, after, top, ctx.now)
        if self.cfg["empty_last_page"] and len(listed) == top:
            more = True
        # page_overlap N: the next page starts N jobs back, as on an offset-paged API when N
        # jobs were inserted ahead of the cursor between two page requests (it always moves
        # on by at least one job).
        last = listed[max(0, len(listed) - 1 - self.cfg["page_overlap"])] if listed else None
        body = b'{"jobs":[' + b",".join(frags) + b"]"
        href = None
        if self_link:
            href = ctx.target if "://" in ctx.target else self._origin(ctx) + ctx.target
        elif more:
            parts = ([] if text is None else ["$filter=" + urllib.parse.quote(text, safe="")])
            parts += [f"$top={top}", "continuationToken=" + self._encode_cursor(last, fhash)]
            href = f"{self._origin(ctx)}{JOBS_PATH}?{'&'.join(parts)}"
        if href is not None:
            body += b',"_links":{"next":{"href":' + json.dumps(href).encode() + b"}}"
        elif self.cfg["last_links"] == "null":
            body += b',"_links":{"next":null}'
        elif self.cfg["last_links"] == "empty":
            body += b',"_links":{}'
        return json_response(200, body + b"}")

    def _page(self, pred, grants, after, top, t):
        """Keyset page: the first `top` visible matching jobs after sort key `after`.
        -> (JSON fragments, the jobs listed, whether more follow); a `listed_twice` job
        has two fragments (one place in `top`)."""
        store, render = self.store, self.render
        me = self.cfg["user_id"].lower()
        i = bisect.bisect_right(store.keys, after) if after is not None else 0
        if self.cfg["hide_future_jobs"]:  # jobs created after t come first: skip them
            i = max(i, bisect.bisect_left(store.keys, (-int(round(t * 1_000_000)), "")))
        order, n = store.order, len(store.order)
        frags, listed = [], []
        while i < n:
            job = order[i]
            i += 1
            if job.user_key != me and job.itwin_key not in grants:
                continue
            if pred is not None and not pred(job, t):
                continue
            if len(listed) == top:
                return frags, listed, True
            frags.append(render(job, t)[5] + job.static_json())
            if job.listed_twice:
                frags.append(frags[-1])
            listed.append(job)
        return frags, listed, False

    def _encode_cursor(self, job, fhash):
        neg_created, key = job.sort_key()
        payload = json.dumps([1, neg_created, key, fhash], separators=(",", ":")).encode()
        mac = hmac.new(self.cursor_secret, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def _decode_cursor(self, token, fhash):
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload, mac = raw[:-12], raw[-12:]
            good = hmac.new(self.cursor_secret, payload, hashlib.sha256).digest()[:12]
            if len(raw) <= 12 or not hmac.compare_digest(mac, good):
                return None
            version, neg_created, key, token_hash = json.loads(payload)
        except (ValueError, TypeError):
            return None
        if version != 1 or token_hash != fhash:
            return None
        return (neg_created, key)

    def _origin(self, ctx):
        host = ctx.headers.get("Host")
        if not host or not _HOST_HEADER.fullmatch(host):
            host = self.default_host
        return f"{self.scheme}://{host}"

    def _api_job(self, ctx):
        """The job the API may show for ctx.job_id, or None (unknown, or not yet created
        under hide_future_jobs)."""
        job = self.store.get(ctx.job_id)
        if job is not None and self.cfg["hide_future_jobs"] and job.created > ctx.now:
            return None
        return job

    def _op_get_job(self, ctx, _self_link):
        job = self._api_job(ctx)
        if job is None:
            return json_response(404, BODY_JOB_NOT_FOUND)
        return json_response(200, b'{"job":' + self.job_bytes(job, ctx.now) + b"}")

    def _op_cancel_job(self, ctx, _self_link):
        job = self._api_job(ctx)
        if job is None:
            return json_response(404, BODY_JOB_NOT_FOUND)
        t = ctx.now
        state, started, ended, saving, _, _ = job.timeline(t)
        job.cancel_requests += 1
        if state in ("Queued", "Active") and not saving:
            if job.cancel_ignored > 0:  # a lost cancellation: 200, but the job runs on
                job.cancel_ignored -= 1
            else:
                delay = job.cancel_delay if job.cancel_delay is not None else self.cfg["cancel_delay"]
                job.cancelled_at, job.cancel_end = t, t + delay
                job.state_override, job.cache = None, None
            view = self.job_json(job, t, "TerminatingOnCancel", started, None)
            return json_response(200, b'{"job":' + view + b"}")
        if state == "Active":
            return json_response(422, BODY_SAVING)
        if state == "TerminatingOnCancel":
            return json_response(200, b'{"job":' + self.job_bytes(job, t) + b"}")
        if state in TERMINAL:
            if self.cfg["terminal_delete"] == "200":
                return json_response(200, b'{"job":' + self.job_bytes(job, t) + b"}")
            return self._invalid(MSG_FINISHED, "", code="InvalidChange")
        if state == "TerminatingOnFailure":
            return self._invalid(MSG_TERMINATING_ON_FAILURE, "", code="InvalidChange")
        return self._invalid(f"The job is in state '{state}'. Cancellation is not allowed.", "",
                             code="InvalidChange")

    def _op_get_progress(self, ctx, _self_link):
        job = self._api_job(ctx)
        if job is None:
            return json_response(404, BODY_JOB_NOT_FOUND)
        state, started, *_ = job.timeline(ctx.now)
        if state == "Success":
            pct = 100
        elif started is None or not job.run_seconds:
            pct = 0
        else:
            stop = min(ctx.now, job.cancelled_at if job.cancelled_at is not None else INF)
            pct = max(0, min(99, int(100 * (stop - started) / job.run_seconds)))
        return json_response(200, {"progress": {"percentage": pct, "state": state}})

    def _op_get_messages(self, ctx, _self_link):
        job = self._api_job(ctx)
        if job is None:
            return json_response(404, BODY_JOB_NOT_FOUND)
        errors = []
        if job.timeline(ctx.now)[0] in ("Failed", "TerminatingOnFailure"):
            errors.append({"code": "InputData_Invalid", "title": "Invalid input data",
                           "message": "Invalid input data. Please check the documentation. (\"%1\")",
                           "params": ["inputs"]})
        return json_response(200, {"messages": {"errors": errors, "warnings": []}})

    def _op_create_job(self, ctx, _self_link):
        try:
            data = json.loads(ctx.body or b"null")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return json_response(400, invalid_request("InvalidProperty", "The request body is not "
                                                      "a valid job creation request.", "body"))
        job_type = data.get("type")
        if job_type not in JOB_TYPES:
            return json_response(400, invalid_request(
                "InvalidProperty", f"Invalid value '{job_type}' for property 'type'.", "type"))
        itwin = data.get("iTwinId")
        if not isinstance(itwin, str) or not itwin:
            return json_response(400, invalid_request(
                "InvalidProperty", "Property 'iTwinId' is required.", "iTwinId"))
        specs = data.get("specifications")
        specs = dict(specs) if isinstance(specs, dict) else {}
        specs.setdefault("output", _rand_uuid(self.rng))
        spec = {"type": job_type, "name": data.get("name"), "itwin_id": itwin,
                "specifications": specs}
        try:
            job = job_from_spec(spec, self.store.next_seq, ctx.now, self.cfg["user_id"],
                                self.rng, self.cfg["fail_seconds"])
        except BadRequest as e:
            return json_response(400, invalid_request("InvalidProperty", str(e), "body"))
        self.store.add([job])
        self.store.next_seq += 1
        return json_response(201, b'{"job":' + self.job_bytes(job, ctx.now) + b"}")

    # ---- control API ---------------------------------------------------------------------

    def handle_control(self, method, path, query_string, body):
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_response(400, {"error": "the request body is not valid JSON"})
        query = dict(urllib.parse.parse_qsl(query_string))
        route = path.rstrip("/")
        try:
            if route.startswith("/_sim/jobs/"):
                return self._ctl_job(method, urllib.parse.unquote(route[len("/_sim/jobs/"):]), data)
            handler = _CONTROL_ROUTES.get((method, route))
            if handler is None:
                known = any(r == route for _, r in _CONTROL_ROUTES)
                return json_response(405 if known else 404,
                                     {"error": f"no control route {method} {route}"})
            return json_response(200, handler(self, data, query))
        except BadRequest as e:
            return json_response(400, {"error": str(e)})

    def _ctl_add_jobs(self, data, _query):
        if not isinstance(data, dict) or set(data) - {"jobs", "generate"}:
            raise BadRequest('POST /_sim/jobs takes {"jobs": [...]} and/or {"generate": {...}}')
        return {"ids": self.add_jobs(data.get("jobs"), data.get("generate"))}

    def _ctl_job_internal(self, job, t):
        """The API's job JSON plus the simulator's internal fields, as bytes."""
        c = self.render(job, t)
        body = c[5] + job.static_json()
        cancelled = "null" if job.cancelled_at is None else f'"{fmt_control(job.cancelled_at)}"'
        extra = (f',"cancel_requests":{job.cancel_requests},"cancelled_at":{cancelled},'
                 f'"saving":{"true" if c[4] else "false"}}}')
        return body[:-1] + extra.encode()

    def _ctl_list_jobs(self, _data, _query):
        t = self.clock.now()
        with self.store.lock:
            parts = [self._ctl_job_internal(job, t) for job in self.store.order]
        return b'{"jobs":[' + b",".join(parts) + b"]}"

    def _ctl_job(self, method, job_id, data):
        with self.store.lock:
            job = self.store.get(job_id)
            if job is None:
                return json_response(404, {"error": f"no job {job_id}"})
            now = self.clock.now()
            if method == "DELETE":
                self.store.remove(job)
                return json_response(200, {"deleted": job.id})
            if method == "PATCH":
                if not isinstance(data, dict) or "id" in data:
                    raise BadRequest("PATCH takes a partial job spec without id")
                self.store.update(job, data, now)
            elif method != "GET":
                return json_response(405, {"error": "use GET, PATCH or DELETE"})
            return json_response(200, b'{"job":' + self._ctl_job_internal(job, now) + b"}")

    def _ctl_get_clock(self, _data, _query):
        return self.clock_state()

    def _ctl_set_clock(self, data, _query):
        self.apply_clock(data)
        return self.clock_state()

    def _ctl_set_faults(self, data, _query):
        if not isinstance(data, dict) or "rules" not in data:
            raise BadRequest('POST /_sim/faults takes {"rules": [...]}')
        self.faults.set(data["rules"])
        return {"rules": self.faults.snapshot()}

    def _ctl_get_faults(self, _data, _query):
        return {"rules": self.faults.snapshot()}

    def _ctl_clear_faults(self, _data, _query):
        self.faults.clear()
        return {"rules": []}

    def _ctl_get_requests(self, _data, query):
        try:
            since = int(query.get("since", 0))
        except ValueError:
            raise BadRequest("since must be an integer") from None
        return {"requests": self.log.query(since, query.get("op")), "dropped": self.log.dropped}

    def _ctl_clear_requests(self, _data, _query):
        self.log.clear()
        return {"requests": []}

    def _ctl_get_config(self, _data, _query):
        return dict(self.cfg)

    def _ctl_set_config(self, data, _query):
        self.set_config(data)
        return dict(self.cfg)

    def _ctl_reset(self, _data, _query):
        self.reset()
        return {"ok": True}

    def _ctl_get_tokens(self, _data, _query):
        now = self.clock.now()
        with self.tokens_lock:
            active = sum(1 for v in self.tokens.values() if v > now)
            return {"issued": self.tokens_issued, "active": active}

    def _ctl_revoke_tokens(self, _data, _query):
        with self.tokens_lock:
            self.tokens.clear()
        return {"issued": self.tokens_issued, "active": 0}


_CONTROL_ROUTES = {
    ("POST", "/_sim/jobs"): Simulator._ctl_add_jobs,
    ("GET", "/_sim/jobs"): Simulator._ctl_list_jobs,
    ("GET", "/_sim/clock"): Simulator._ctl_get_clock,
    ("POST", "/_sim/clock"): Simulator._ctl_set_clock,
    ("GET", "/_sim/faults"): Simulator._ctl_get_faults,
    ("POST", "/_sim/faults"): Simulator._ctl_set_faults,
    ("DELETE", "/_sim/faults"): Simulator._ctl_clear_faults,
    ("GET", "/_sim/requests"): Simulator._ctl_get_requests,
    ("DELETE", "/_sim/requests"): Simulator._ctl_clear_requests,
    ("GET", "/_sim/config"): Simulator._ctl_get_config,
    ("POST", "/_sim/config"): Simulator._ctl_set_config,
    ("POST", "/_sim/reset"): Simulator._ctl_reset,
    ("GET", "/_sim/tokens"): Simulator._ctl_get_tokens,
    ("DELETE", "/_sim/tokens"): Simulator._ctl_revoke_tokens,
}


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------

class BodyError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rc-sim"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 240  # seconds a keep-alive connection may idle (or a write may block)

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):  # noqa: A003 - BaseHTTPRequestHandler API
        if self.server.sim.verbose:
            sys.stderr.write(f"rc_sim: {self.address_string()} {fmt % args}\n")

    def date_time_string(self, timestamp=None):  # built-in error pages carry sim time too
        return self.server.sim.http_date()

    def do_GET(self):  # noqa: N802
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_DELETE(self):  # noqa: N802
        self._handle("DELETE")

    def do_PUT(self):  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self):  # noqa: N802
        self._handle("PATCH")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BodyError(400, "bad chunked encoding") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BODY:
                    raise BodyError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.strip().isdigit():
            raise BodyError(400, "bad Content-Length")
        if int(length) > MAX_REQUEST_BODY:
            raise BodyError(413, "request body too large")
        return self.rfile.read(int(length))

    def _handle(self, method):
        sim = self.server.sim
        try:
            body = self._read_body()
        except BodyError as e:
            self.close_connection = True
            resp = json_response(e.status, {"error": str(e)})
            resp.close = True
            self._emit(resp)
            return
        split = urllib.parse.urlsplit(self.path)
        path = split.path or "/"
        if path == "/_sim" or path.startswith("/_sim/"):
            resp = sim.handle_control(method, path, split.query, body)
        else:
            resp = sim.handle_api(self.headers, method, self.path, path, split.query, body)
        self._emit(resp)

    def _emit(self, resp):
        sim = self.server.sim
        if resp.mode == "reset":
            self.server.mark_reset(self.request)
            self.close_connection = True
            return
        if resp.mode == "hang":
            sim.stop_event.wait(resp.hang_seconds)
            self.close_connection = True
            return
        if resp.close:
            self.close_connection = True
        length = resp.stream_length if resp.mode == "stream" else len(resp.body)
        reason = http.HTTPStatus(resp.status).phrase if resp.status in _STATUS_CODES else "Status"
        lines = [f"HTTP/1.1 {resp.status} {reason}", f"Date: {sim.http_date()}"]
        lines += [f"{name}: {value}" for name, value in resp.headers]
        lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        try:
            if resp.mode == "stream":
                self.wfile.write(head)
                for chunk in resp.stream:
                    self.wfile.write(chunk)
            elif resp.mode == "slow":
                self._trickle(head + resp.body, resp.bps)
            else:
                self.wfile.write(head + resp.body)
        except (OSError, ValueError):
            self.close_connection = True
        self.log_request(resp.status, length)

    def _trickle(self, data, bps):
        step = max(1, int(bps / 20))
        for i in range(0, len(data), step):
            self.wfile.write(data[i:i + step])
            if self.server.sim.stop_event.wait(step / bps):
                self.close_connection = True
                return


_STATUS_CODES = {s.value for s in http.HTTPStatus}


class SimServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, handler, sim):
        self.sim = sim
        self._reset_ids = set()
        self._reset_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that can stall start-up.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[0], self.server_address[1]

    def mark_reset(self, sock):
        """The connection will be closed with SO_LINGER 0, i.e. with a TCP RST."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._reset_lock:
            self._reset_ids.add(id(sock))

    def shutdown_request(self, request):
        with self._reset_lock:
            reset = id(request) in self._reset_ids
            self._reset_ids.discard(id(request))
        if reset:
            self.close_request(request)  # no shutdown(SHUT_WR): that would send a FIN first
        else:
            super().shutdown_request(request)

    def handle_error(self, request, client_address):
        if self.sim.verbose:
            sys.stderr.write(f"rc_sim: error serving {client_address}:\n")
            traceback.print_exc(file=sys.stderr)


def make_server(host, port, sim, cert=None, key=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    cls = type("SimServer6", (SimServer,), {"address_family": family}) \
        if family == socket.AF_INET6 else SimServer
    server = cls((host, port), Handler, sim)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    sim.scheme = "https" if cert else "http"
    bound = server.server_address[1]
    sim.default_host = f"[{host}]:{bound}" if family == socket.AF_INET6 else f"{host}:{bound}"
    return server


def _write_port_file(path, port):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="rc_sim.py",
        description="Simulator of the iTwin Reality Conversion v2 API (see tests/sim/README.md).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    p.add_argument("--port-file", help="write the bound port number to this file")
    p.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS only")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--scenario", help="JSON scenario file (config, clock, jobs, generate, faults)")
    p.add_argument("--speed", type=float, default=1.0, help="sim seconds per real second")
    p.add_argument("--tick", type=float, default=0.0,
                   help="real seconds per clock tick: with --speed > 1 the clock runs at real "
                        "speed within a tick and jumps at its end (default 0 = continuous)")
    p.add_argument("--start", help="sim start time, RFC 3339 (default: the real time now)")
    p.add_argument("--token-lifetime", type=int, default=3600, help="seconds (default 3600)")
    p.add_argument("--rate-limit", type=int, default=0,
                   help="requests per minute over API and token requests (default 0 = unlimited)")
    p.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    p.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    p.add_argument("--user-id", default=DEFAULT_USER_ID, help="the client's own user id")
    p.add_argument("--seed", type=int, help="seed for generated ids and fault probabilities")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.speed < 0 or args.token_lifetime < 1 or args.rate_limit < 0 or args.tick < 0:
        p.error("--speed and --tick must be >= 0, --token-lifetime >= 1, --rate-limit >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        start = parse_time(args.start) if args.start else time.time()
    except ValueError as e:
        print(f"rc_sim: --start: {e}", file=sys.stderr)
        return 2
    base = {"token_lifetime": args.token_lifetime, "rate_limit": args.rate_limit,
            "user_id": args.user_id}
    sim = Simulator(base, SimClock(start, args.speed, args.tick), args.client_id, args.client_secret,
                    args.seed, args.verbose)
    if args.scenario:
        try:
            with open(args.scenario, encoding="utf-8") as f:
                sim.load_scenario(json.load(f))
        except (OSError, ValueError, BadRequest) as e:
            print(f"rc_sim: scenario {args.scenario}: {e}", file=sys.stderr)
            return 2
    try:
        server = make_server(args.host, args.port, sim, args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as e:
        print(f"rc_sim: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    # Block the stop signals before any thread starts (threads inherit the mask) and take
    # them synchronously below: no handler runs at an awkward moment.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    port = server.server_address[1]
    if args.port_file:
        _write_port_file(args.port_file, port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    try:
        print(f"listening on {sim.scheme}://{host}:{port}", flush=True)
    except OSError:
        pass
    signal.sigwait(stop_signals)
    sim.stop_event.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
