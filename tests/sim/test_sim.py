#!/usr/bin/env python3
"""Tests of the Reality Conversion API simulator (rc_sim.py).  Run: python3 tests/sim/test_sim.py

Starts the simulator as a subprocess on port 0 (once for most tests, plus one HTTPS instance
and a few short-lived ones).  Sim time never passes by sleeping: the clock is frozen
(speed 0) and moved with the control API.  Only the rate-limit window is real time; it is
configured to one second.
"""

import base64
import http.client
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "rc_sim.py")
START = "2026-11-29T10:00:00Z"
ME = "3a8670f9-b69f-4a60-b958-f103d580755f"
OTHER_USER = "9b0b1a52-6d4e-4c1f-8d0e-2f6a1c3e5b7d"
ITWIN_X = "ce54f773-67db-4b4f-a98b-368329107429"
ITWIN_Y = "0d5f2a3c-8e4b-4f1a-9c6d-7b2e1f0a9c8d"
JOB_A = "5e315451-564e-4e8b-a952-45b14e6a9c90"
JOB_B = "86e93558-2b0b-4c43-9d63-0e7f2cdbb1a7"
JOB_C = "1c0e8d7a-55b3-4f5e-8d2e-6f1b1f0b2c3d"
JOB_D = "eba823ca-f8e3-4ebb-be5f-6bc77aadbe14"
JOB_E = "4a770816-f9a4-4b0c-9d8e-0d0b1c2a3e4f"
MISSING = "00000000-0000-4000-8000-000000000000"

Z_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
OFFSET_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

SEED_422 = {"error": {"code": "InvalidRealityConversionRequest",
                      "message": "Invalid request to Reality Conversion.",
                      "details": [{"code": "InvalidChange",
                                   "message": "The job is about to complete. It is saving the "
                                              "data. Cancellation is not allowed during this period.",
                                   "target": ""}]}}
SEED_404 = {"error": {"code": "JobNotFound", "message": "Requested job is not available."}}
SEED_401 = {"error": {"code": "HeaderNotFound",
                      "message": "Header Authorization was not found in the request. Access denied."}}
SEED_429 = {"error": {"code": "RateLimitExceeded",
                      "message": "The client sent more requests than allowed by this API for the "
                                 "current tier of the client."}}
INVALID_TOKEN = {"error": {"code": "Unauthorized",
                           "message": "Access denied due to invalid access_token."}}
TOKEN_FORM = "grant_type=client_credentials&client_id=rcw-test&client_secret=s3cret&scope=itwin-platform"


class SimProcess:
    """rc_sim.py as a subprocess; waits for its 'listening on' line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--start", START, "--seed", "7", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ""
        m = re.fullmatch(r"listening on (https?)://127\.0\.0\.1:(\d+)", line.strip())
        if not m:
            self.proc.kill()
            raise RuntimeError(f"simulator did not start: {line!r} {self.proc.stderr.read()!r}")
        self.scheme, self.port = m.group(1), int(m.group(2))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


class Client:
    """A keep-alive HTTP client with JSON helpers."""

    def __init__(self, port, context=None, host="127.0.0.1"):
        self.port, self.context, self.host = port, context, host
        self.conn = None

    def _connection(self):
        if self.conn is None:
            if self.context is not None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=30,
                                                        context=self.context)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        """-> (status, {lower-case header: value}, body bytes)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except Exception:
            self.close()
            raise
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def ctl(self, method, path, body=None, expect=200):
        status, _, data = self.request(method, path, body)
        if status != expect:
            raise AssertionError(f"{method} {path} -> {status} {data[:500]!r}")
        return json.loads(data)

    def token(self):
        status, _, data = self.request("POST", "/connect/token", TOKEN_FORM,
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, data
        return json.loads(data)["access_token"]

    def api(self, method, path, token, headers=None):
        h = {"Authorization": f"Bearer {token}",
             "Accept": "application/vnd.bentley.itwin-platform.v2+json"}
        h.update(headers or {})
        status, hdrs, data = self.request(method, path, headers=h)
        return status, hdrs, (json.loads(data) if data else None)


def jobs_url(filter_text=None, top=None, token=None):
    params = []
    if filter_text is not None:
        params.append("$filter=" + urllib.parse.quote(filter_text, safe=""))
    if top is not None:
        params.append(f"$top={top}")
    if token is not None:
        params.append("continuationToken=" + token)
    return "/reality-conversion/jobs" + ("?" + "&".join(params) if params else "")


def path_of(href):
    split = urllib.parse.urlsplit(href)
    return split.path + "?" + split.query


SIM_PROC = None


def setUpModule():
    global SIM_PROC
    SIM_PROC = SimProcess()


def tearDownModule():
    if SIM_PROC is not None:
        SIM_PROC.stop()


class SimTestCase(unittest.TestCase):
    """Fresh simulator state, clock frozen at START."""

    def setUp(self):
        self.c = Client(SIM_PROC.port)
        self.c.ctl("POST", "/_sim/reset")
        self.c.ctl("POST", "/_sim/clock", {"set": START, "speed": 0, "skew": 0, "tick": 0})
        self.tok = self.c.token()

    def tearDown(self):
        self.c.close()

    def add(self, *specs):
        return self.c.ctl("POST", "/_sim/jobs", {"jobs": list(specs)})["ids"]

    def advance(self, seconds):
        self.c.ctl("POST", "/_sim/clock", {"advance": seconds})
        self.tok = self.c.token()  # tokens expire on the sim clock too

    def get(self, job_id):
        status, _, body = self.c.api("GET", f"/reality-conversion/jobs/{job_id}", self.tok)
        self.assertEqual(status, 200, body)
        return body["job"]

    def delete(self, job_id):
        status, _, body = self.c.api("DELETE", f"/reality-conversion/jobs/{job_id}", self.tok)
        return status, body

    def list_ids(self, filter_text=None, top=None):
        status, _, body = self.c.api("GET", jobs_url(filter_text, top), self.tok)
        self.assertEqual(status, 200, body)
        return [j["id"] for j in body["jobs"]]

    def assert_invalid(self, status, body, target):
        self.assertEqual(status, 422, body)
        err = body["error"]
        self.assertEqual(err["code"], "InvalidRealityConversionRequest")
        self.assertEqual(err["message"], "Invalid request to Reality Conversion.")
        self.assertEqual(err["details"][0]["code"], "InvalidParameter")
        self.assertEqual(err["details"][0]["target"], target)
        self.assertTrue(err["details"][0]["message"])

    def requests(self, **query):
        qs = urllib.parse.urlencode(query)
        return self.c.ctl("GET", "/_sim/requests" + ("?" + qs if qs else ""))["requests"]


# --------------------------------------------------------------------------------------

class TokenTests(SimTestCase):
    def post_token(self, form, headers=None):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        status, hdrs, data = self.c.request("POST", "/connect/token", form, h)
        return status, hdrs, json.loads(data)

    def test_issue(self):
        status, hdrs, body = self.post_token(TOKEN_FORM)
        self.assertEqual(status, 200)
        self.assertEqual(set(body), {"access_token", "token_type", "expires_in"})
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3600)
        self.assertGreater(len(body["access_token"]), 20)
        self.assertEqual(hdrs["cache-control"], "no-store")
        self.assertTrue(hdrs["content-type"].startswith("application/json"))

    def test_basic_auth(self):
        basic = base64.b64encode(b"rcw-test:s3cret").decode()
        status, _, body = self.post_token("grant_type=client_credentials&scope=itwin-platform",
                                          {"Authorization": "Basic " + basic})
        self.assertEqual(status, 200, body)
        bad = base64.b64encode(b"rcw-test:nope").decode()
        status, _, body = self.post_token("grant_type=client_credentials&scope=itwin-platform",
                                          {"Authorization": "Basic " + bad})
        self.assertEqual((status, body), (401, {"error": "invalid_client"}))

    def test_wrong_credentials(self):
        for form in (TOKEN_FORM.replace("s3cret", "wrong"), TOKEN_FORM.replace("rcw-test", "x"),
                     "grant_type=client_credentials&scope=itwin-platform"):
            status, _, body = self.post_token(form)
            self.assertEqual((status, body), (401, {"error": "invalid_client"}), form)

    def test_wrong_grant_and_scope(self):
        status, _, body = self.post_token(TOKEN_FORM.replace("client_credentials", "password"))
        self.assertEqual((status, body), (400, {"error": "unsupported_grant_type"}))
        status, _, body = self.post_token(TOKEN_FORM.replace("&scope=itwin-platform", ""))
        self.assertEqual((status, body), (400, {"error": "invalid_scope"}))
        status, _, body = self.post_token(TOKEN_FORM.replace("itwin-platform", "realityconversion:read"))
        self.assertEqual((status, body), (400, {"error": "invalid_scope"}))

    def test_expiry_on_sim_clock(self):
        tok = self.tok
        self.assertEqual(self.c.api("GET", jobs_url(), tok)[0], 200)
        self.advance(3599)
        self.assertEqual(self.c.api("GET", jobs_url(), tok)[0], 200)
        self.advance(2)
        status, hdrs, body = self.c.api("GET", jobs_url(), tok)
        self.assertEqual((status, body), (401, INVALID_TOKEN))
        self.assertIn("x-correlation-id", hdrs)
        self.assertEqual(self.c.api("GET", jobs_url(), self.c.token())[0], 200)

    def test_token_lifetime_config(self):
        self.c.ctl("POST", "/_sim/config", {"token_lifetime": 60})
        status, _, body = self.post_token(TOKEN_FORM)
        self.assertEqual(body["expires_in"], 60)
        self.advance(61)
        self.assertEqual(self.c.api("GET", jobs_url(), body["access_token"])[0], 401)

    def test_missing_and_bad_authorization(self):
        status, hdrs, data = self.c.request("GET", jobs_url())
        self.assertEqual((status, json.loads(data)), (401, SEED_401))
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        self.assertEqual(self.c.api("GET", jobs_url(), "bogus")[2], INVALID_TOKEN)
        status, _, data = self.c.request("GET", jobs_url(), headers={"Authorization": "Basic eDp5"})
        self.assertEqual((status, json.loads(data)), (401, INVALID_TOKEN))

    def test_revoke_tokens(self):
        self.c.ctl("DELETE", "/_sim/tokens")
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 401)


class FilterTests(SimTestCase):
    def setUp(self):
        super().setUp()
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "created_ago": 3600, "run_seconds": None},
                 {"id": JOB_B, "itwin_id": ITWIN_X, "user_id": OTHER_USER, "created_ago": 7200,
                  "queue_seconds": None, "name": "nightly-b"},
                 {"id": JOB_C, "itwin_id": ITWIN_Y, "created_ago": 600, "run_seconds": 60,
                  "type": "MeshSampling"},
                 {"id": JOB_D, "itwin_id": ITWIN_Y, "user_id": OTHER_USER, "created_ago": 60,
                  "run_seconds": None,
                  "specifications": {"inputs": {"meshes": ["AAAA0000-0000-4000-8000-000000000001"]},
                                     "output": "bbbb0000-0000-4000-8000-000000000002",
                                     "options": {}}})

    def check(self, filter_text, expected):
        self.assertEqual(sorted(self.list_ids(filter_text)), sorted(expected), filter_text)

    def test_itwin_eq(self):
        self.check(f"iTwinId eq {ITWIN_X}", [JOB_A, JOB_B])
        self.check(f"iTwinId eq '{ITWIN_X}'", [JOB_A, JOB_B])
        self.check(f"iTwinId eq {ITWIN_X.upper()}", [JOB_A, JOB_B])

    def test_created_gt_both_forms(self):
        self.check("createdDateTime gt 2026-11-29T09:30:00Z", [JOB_C])
        self.check("createdDateTime gt 2026-11-29T08:30:00.000Z", [JOB_A, JOB_C])
        self.check("createdDateTime gt '2026-11-29T08:30:00.0000000+00:00'", [JOB_A, JOB_C])
        self.check(f"iTwinId eq {ITWIN_X} and createdDateTime ge 2026-11-29T08:00:00Z", [JOB_A, JOB_B])
        self.check(f"iTwinId eq {ITWIN_X} and createdDateTime lt 2026-11-29T08:00:01Z", [JOB_B])

    def test_state_eq_and_in(self):
        self.check("state eq 'Active'", [JOB_A])
        self.check("state eq Active", [JOB_A])
        self.check("state in ('Active', 'Success')", [JOB_A, JOB_C])
        self.check(f"iTwinId eq {ITWIN_X} and state in (Queued,Active)", [JOB_A, JOB_B])
        self.check("state ne Active", [JOB_C])

    def test_and_binds_tighter_than_or(self):
        text = (f"iTwinId eq {ITWIN_Y} and state eq Active or "
                f"iTwinId eq {ITWIN_X} and state eq Queued")
        self.check(text, [JOB_D, JOB_B])
        self.check(f"iTwinId eq {ITWIN_X} and (state eq Active or state eq Queued)", [JOB_A, JOB_B])
        self.check(f"(iTwinId eq {ITWIN_X}) and ((state eq 'Queued'))", [JOB_B])
        self.check(f"iTwinId eq {ITWIN_X} and not state eq Queued", [JOB_A])

    def test_other_properties(self):
        self.check(f"id eq {JOB_A}", [JOB_A])
        self.check(f"id in ({JOB_A}, {JOB_C})", [JOB_A, JOB_C])
        self.check("type eq MeshSampling", [JOB_C])
        self.check(f"iTwinId eq {ITWIN_X} and name eq 'nightly-b'", [JOB_B])
        self.check(f"iTwinId eq {ITWIN_X} and userId eq {OTHER_USER}", [JOB_B])
        self.check(f"iTwinId eq {ITWIN_Y} and inputId eq aaaa0000-0000-4000-8000-000000000001", [JOB_D])
        self.check(f"iTwinId eq {ITWIN_Y} and outputId eq BBBB0000-0000-4000-8000-000000000002", [JOB_D])
        self.check("email eq 'someone@example.com'", [])

    def test_unparseable_filters(self):
        for text in ("state eq", "foo eq 1", "state eq 'Active", "state eq Running",
                     "(state eq Active", "state eq Active)", "createdDateTime gt yesterday",
                     "state like 'Active'", "state eq Active and", "and", "state in Active",
                     "state in ()", "(" * 200 + "state eq Active" + ")" * 200):
            status, _, body = self.c.api("GET", jobs_url(text), self.tok)
            self.assert_invalid(status, body, "$filter")

    def test_unencoded_plus_is_a_space(self):
        # A '+' left unencoded in a query string means a space: the offset form must be %2B.
        path = "/reality-conversion/jobs?$filter=createdDateTime%20gt%202026-11-29T08:30:00+00:00"
        status, _, body = self.c.api("GET", path, self.tok)
        self.assert_invalid(status, body, "$filter")

    def test_missing_filter_and_require_filter(self):
        self.check(None, [JOB_A, JOB_C])
        self.c.ctl("POST", "/_sim/config", {"require_filter": True})
        status, _, body = self.c.api("GET", jobs_url(), self.tok)
        self.assert_invalid(status, body, "$filter")
        self.check(f"iTwinId eq {ITWIN_X}", [JOB_A, JOB_B])


class PagingTests(SimTestCase):
    def page_through(self, first_path, on_page=None):
        ids, pages, path = [], [], first_path
        while True:
            status, _, body = self.c.api("GET", path, self.tok)
            self.assertEqual(status, 200, body)
            pages.append(body)
            ids += [j["id"] for j in body["jobs"]]
            if on_page:
                on_page(len(pages))
            if "_links" not in body:
                return ids, pages
            href = body["_links"]["next"]["href"]
            self.assertTrue(href.startswith(f"http://127.0.0.1:{SIM_PROC.port}/reality-conversion/jobs?"), href)
            path = path_of(href)

    def test_three_pages_then_no_links(self):
        generated = self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 2500, "itwins": [ITWIN_X],
                                                                   "seed": 1}})["ids"]
        text = f"iTwinId eq {ITWIN_X}"
        ids, pages = self.page_through(jobs_url(text, 1000))
        self.assertEqual([len(p["jobs"]) for p in pages], [1000, 1000, 500])
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(set(ids), set(generated))
        href = pages[0]["_links"]["next"]["href"]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
        self.assertEqual(query["$filter"], [text])
        self.assertEqual(query["$top"], ["1000"])
        self.assertIn("continuationToken", query)
        self.assertIn("%20eq%20", href)
        # order: createdDateTime descending, then id
        everything = self.c.ctl("GET", "/_sim/jobs")["jobs"]
        self.assertEqual(ids, [j["id"] for j in everything])

    def test_exactly_full_last_page(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 2000, "seed": 2}})
        ids, pages = self.page_through(jobs_url(None, 1000))
        self.assertEqual([len(p["jobs"]) for p in pages], [1000, 1000])
        self.assertEqual(len(set(ids)), 2000)

    def test_last_page_variants(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 4, "seed": 2}})
        self.c.ctl("POST", "/_sim/config", {"last_links": "null"})
        self.assertEqual(self.c.api("GET", jobs_url(None, 10), self.tok)[2]["_links"], {"next": None})
        self.c.ctl("POST", "/_sim/config", {"last_links": "empty", "empty_last_page": True})
        ids, pages = [], []
        status, _, body = self.c.api("GET", jobs_url(None, 2), self.tok)
        while "next" in body["_links"]:
            pages.append(len(body["jobs"]))
            status, _, body = self.c.api("GET", path_of(body["_links"]["next"]["href"]), self.tok)
        pages.append(len(body["jobs"]))
        self.assertEqual(pages, [2, 2, 0])
        self.assertEqual(body["_links"], {})

    def test_stable_while_jobs_are_added_and_change_state(self):
        original = self.c.ctl("POST", "/_sim/jobs", {"generate": {
            "count": 3000, "itwins": [ITWIN_X], "seed": 3, "created_ago": [3600, 86400]}})["ids"]
        older, newer = [], []

        def mutate(page_number):
            if page_number in (1, 2):
                # Older than every listed job: must show up exactly once on a later page.
                older.extend(self.c.ctl("POST", "/_sim/jobs", {"generate": {
                    "count": 50, "itwins": [ITWIN_X], "seed": 10 + page_number,
                    "created_ago": [90000, 100000]}})["ids"])
                # Newer than the cursor: may not appear, must not disturb the paging.
                newer.extend(self.add({"itwin_id": ITWIN_X, "created_ago": 0},
                                      {"itwin_id": ITWIN_X, "created_ago": 10}))
                self.advance(1800)  # jobs change state mid-paging

        ids, pages = self.page_through(jobs_url(f"iTwinId eq {ITWIN_X}", 1000), mutate)
        self.assertGreaterEqual(len(pages), 4)
        self.assertEqual(len(ids), len(set(ids)), "duplicates")
        self.assertTrue(set(original) <= set(ids), "gaps")
        self.assertTrue(set(older) <= set(ids), "added older jobs missing")
        self.assertFalse(set(newer) & set(ids))

    def test_bad_continuation_tokens(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 30, "seed": 4}})
        status, _, body = self.c.api("GET", jobs_url(None, 10), self.tok)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(body["_links"]["next"]["href"]).query)[
            "continuationToken"][0]
        for bad in ("garbage", "AAAA", token[:-3], token[:10] + "x" + token[11:]):
            status, _, body = self.c.api("GET", jobs_url(None, 10, bad), self.tok)
            self.assert_invalid(status, body, "continuationToken")
        status, _, body = self.c.api("GET", jobs_url("state eq Active", 10, token), self.tok)
        self.assert_invalid(status, body, "continuationToken")
        status, _, body = self.c.api("GET", jobs_url(None, 5, token), self.tok)  # $top may change
        self.assertEqual(status, 200)
        self.assertEqual(len(body["jobs"]), 5)

    def test_links_use_the_host_header(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 3, "seed": 5}})
        status, _, body = self.c.api("GET", jobs_url(None, 1), self.tok,
                                     {"Host": f"localhost:{SIM_PROC.port}"})
        self.assertTrue(body["_links"]["next"]["href"].startswith(
            f"http://localhost:{SIM_PROC.port}/reality-conversion/jobs?$top=1&continuationToken="))


class TopTests(SimTestCase):
    def test_top_validation(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 150, "seed": 6}})
        for bad in ("0", "1001", "abc", "-1", "1.5", "", "10x", "99999999"):
            status, _, body = self.c.api("GET", f"/reality-conversion/jobs?$top={bad}", self.tok)
            self.assert_invalid(status, body, "$top")
        self.assertEqual(len(self.list_ids(None, 1)), 1)
        self.assertEqual(len(self.list_ids(None, 1000)), 150)
        status, _, body = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual(len(body["jobs"]), 100)  # default $top
        self.assertIn("$top=100", body["_links"]["next"]["href"])


class VisibilityTests(SimTestCase):
    def setUp(self):
        super().setUp()
        self.add({"id": JOB_A, "itwin_id": ITWIN_X},
                 {"id": JOB_B, "itwin_id": ITWIN_X, "user_id": OTHER_USER},
                 {"id": JOB_C, "itwin_id": ITWIN_Y, "user_id": OTHER_USER})

    def test_own_jobs_without_itwin_filter(self):
        self.assertEqual(self.list_ids(), [JOB_A])
        self.assertEqual(self.list_ids(f"userId eq {OTHER_USER}"), [])
        self.assertEqual(self.list_ids("state eq Active"), [JOB_A])

    def test_all_jobs_of_an_itwin_with_itwin_eq(self):
        self.assertEqual(sorted(self.list_ids(f"iTwinId eq {ITWIN_X}")), sorted([JOB_A, JOB_B]))
        self.assertEqual(self.list_ids(f"iTwinId eq {ITWIN_Y}"), [JOB_C])

    def test_itwin_in_grants_only_when_configured(self):
        self.assertEqual(self.list_ids(f"iTwinId in ({ITWIN_X}, {ITWIN_Y})"), [JOB_A])
        self.c.ctl("POST", "/_sim/config", {"itwin_in_grants": True})
        self.assertEqual(len(self.list_ids(f"iTwinId in ({ITWIN_X}, {ITWIN_Y})")), 3)

    def test_user_id_config(self):
        self.c.ctl("POST", "/_sim/config", {"user_id": OTHER_USER})
        self.assertEqual(sorted(self.list_ids()), sorted([JOB_B, JOB_C]))


class GetJobTests(SimTestCase):
    def test_get_200_and_404(self):
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "name": "PointCloudConversion Job",
                  "created": "2026-11-29T09:00:00Z", "queue_seconds": None,
                  "timestamp_form": "z"})
        status, hdrs, body = self.c.api("GET", f"/reality-conversion/jobs/{JOB_A}", self.tok)
        self.assertEqual(status, 200)
        job = body["job"]
        self.assertEqual(list(job), ["id", "state", "userId", "executionInfo", "specifications",
                                     "name", "type", "iTwinId"])
        self.assertEqual(job["id"], JOB_A)
        self.assertEqual(job["state"], "Queued")
        self.assertEqual(job["userId"], ME)
        self.assertEqual(job["executionInfo"], {"createdDateTime": "2026-11-29T09:00:00Z"})
        self.assertEqual(set(job["specifications"]), {"inputs", "output", "options"})
        self.assertEqual(job["iTwinId"], ITWIN_X)
        self.assertRegex(hdrs["x-correlation-id"], GUID)
        self.assertEqual(self.get(JOB_A.upper())["id"], JOB_A)
        status, hdrs, body = self.c.api("GET", f"/reality-conversion/jobs/{MISSING}", self.tok)
        self.assertEqual((status, body), (404, SEED_404))
        self.assertIn("x-correlation-id", hdrs)

    def test_progress_and_messages(self):
        self.add({"id": JOB_A, "run_seconds": 1000, "queue_seconds": 0},
                 {"id": JOB_B, "run_seconds": 10, "outcome": "Failed", "created_ago": 100})
        self.advance(500)
        status, _, body = self.c.api("GET", f"/reality-conversion/jobs/{JOB_A}/progress", self.tok)
        self.assertEqual(body, {"progress": {"percentage": 50, "state": "Active"}})
        status, _, body = self.c.api("GET", f"/reality-conversion/jobs/{JOB_B}/messages", self.tok)
        self.assertEqual(len(body["messages"]["errors"]), 1)
        status, _, body = self.c.api("GET", f"/reality-conversion/jobs/{MISSING}/progress", self.tok)
        self.assertEqual((status, body), (404, SEED_404))

    def test_unknown_routes(self):
        status, hdrs, data = self.c.request("GET", "/reality-conversion/nope")
        self.assertEqual(status, 404)
        self.assertIn("x-correlation-id", hdrs)
        status, _, _ = self.c.request("PUT", f"/reality-conversion/jobs/{JOB_A}")
        self.assertEqual(status, 405)


class CancelTests(SimTestCase):
    def test_active_job_cancel_lifecycle(self):
        self.add({"id": JOB_A, "created_ago": 1800, "queue_seconds": 0, "run_seconds": 7200,
                  "pu_per_hour": 12})
        status, body = self.delete(JOB_A)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["job"]["state"], "TerminatingOnCancel")
        self.assertEqual(list(body["job"]), ["id", "state", "userId", "executionInfo",
                                             "specifications", "name", "type", "iTwinId"])
        self.assertNotIn("processingUnits", body["job"]["executionInfo"])
        self.assertNotIn("endedDateTime", body["job"]["executionInfo"])
        self.assertEqual(self.get(JOB_A)["state"], "TerminatingOnCancel")
        self.advance(5)
        status, body = self.delete(JOB_A)  # idempotent
        self.assertEqual((status, body["job"]["state"]), (200, "TerminatingOnCancel"))
        self.advance(4.9)
        self.assertEqual(self.get(JOB_A)["state"], "TerminatingOnCancel")
        self.advance(0.2)
        job = self.get(JOB_A)
        self.assertEqual(job["state"], "Cancelled")
        self.assertIn("endedDateTime", job["executionInfo"])
        self.assertEqual(job["executionInfo"]["processingUnits"], 6.0)  # 30 min at 12/h
        internal = self.c.ctl("GET", f"/_sim/jobs/{JOB_A}")["job"]
        self.assertEqual(internal["cancel_requests"], 2)
        self.assertEqual(internal["cancelled_at"], "2026-11-29T10:00:00.000000Z")
        status, body = self.delete(JOB_A)  # terminal now
        self.assertEqual(status, 422)
        self.assertEqual(body["error"]["details"][0]["code"], "InvalidChange")

    def test_queued_job_cancel(self):
        self.add({"id": JOB_A, "queue_seconds": None})
        self.assertEqual(self.delete(JOB_A)[0], 200)
        self.advance(10)
        job = self.get(JOB_A)
        self.assertEqual(job["state"], "Cancelled")
        self.assertNotIn("startedDateTime", job["executionInfo"])
        self.assertEqual(job["executionInfo"]["processingUnits"], 0.0)

    def test_saving_job_gets_seed_422(self):
        self.add({"id": JOB_A, "created_ago": 100, "queue_seconds": 0, "run_seconds": 120,
                  "save_seconds": 30})
        status, body = self.delete(JOB_A)
        self.assertEqual((status, body), (422, SEED_422))
        self.assertEqual(self.get(JOB_A)["state"], "Active")
        self.advance(20)
        self.assertEqual(self.get(JOB_A)["state"], "Success")

    def test_just_before_saving_is_cancellable(self):
        self.add({"id": JOB_A, "created_ago": 89, "queue_seconds": 0, "run_seconds": 120,
                  "save_seconds": 30})
        self.assertEqual(self.delete(JOB_A)[0], 200)

    def test_unknown_job(self):
        self.assertEqual(self.delete(MISSING), (404, SEED_404))

    def test_terminal_job(self):
        self.add({"id": JOB_A, "created_ago": 100, "run_seconds": 10})
        status, body = self.delete(JOB_A)
        self.assertEqual(status, 422)
        self.assertEqual(body, {"error": {
            "code": "InvalidRealityConversionRequest", "message": "Invalid request to Reality Conversion.",
            "details": [{"code": "InvalidChange",
                         "message": "The job has already finished. Cancellation is not allowed.",
                         "target": ""}]}})
        self.c.ctl("POST", "/_sim/config", {"terminal_delete": "200"})
        status, body = self.delete(JOB_A)
        self.assertEqual((status, body["job"]["state"]), (200, "Success"))
        self.assertEqual(body["job"], self.get(JOB_A))

    def test_terminating_on_failure(self):
        self.add({"id": JOB_A, "created_ago": 12, "run_seconds": 10, "outcome": "Failed"})
        self.assertEqual(self.get(JOB_A)["state"], "TerminatingOnFailure")
        status, body = self.delete(JOB_A)
        self.assertEqual(status, 422)
        self.assertEqual(body["error"]["details"][0]["code"], "InvalidChange")

    def test_cancel_delay_config_and_spec(self):
        self.c.ctl("POST", "/_sim/config", {"cancel_delay": 30})
        self.add({"id": JOB_A}, {"id": JOB_B, "cancel_delay": 0})
        self.delete(JOB_A)
        status, body = self.delete(JOB_B)
        self.assertEqual(body["job"]["state"], "TerminatingOnCancel")
        self.assertEqual(self.get(JOB_B)["state"], "Cancelled")
        self.advance(29)
        self.assertEqual(self.get(JOB_A)["state"], "TerminatingOnCancel")
        self.advance(1)
        self.assertEqual(self.get(JOB_A)["state"], "Cancelled")

    def test_lost_cancellation(self):
        self.add({"id": JOB_A, "cancel_ignored": 1})
        status, body = self.delete(JOB_A)
        self.assertEqual((status, body["job"]["state"]), (200, "TerminatingOnCancel"))
        self.advance(60)
        self.assertEqual(self.get(JOB_A)["state"], "Active")
        self.assertEqual(self.delete(JOB_A)[0], 200)
        self.advance(60)
        self.assertEqual(self.get(JOB_A)["state"], "Cancelled")

    def test_state_override(self):
        self.add({"id": JOB_A, "state_override": "Paused"})
        self.assertEqual(self.get(JOB_A)["state"], "Paused")
        self.assertEqual(self.delete(JOB_A)[0], 422)
        self.c.ctl("PATCH", f"/_sim/jobs/{JOB_A}", {"state_override": None})
        self.assertEqual(self.get(JOB_A)["state"], "Active")

    def test_omit_started(self):
        self.add({"id": JOB_A, "created_ago": 60, "omit_started": True})
        job = self.get(JOB_A)
        self.assertEqual(job["state"], "Active")
        self.assertNotIn("startedDateTime", job["executionInfo"])


class ProcessingUnitTests(SimTestCase):
    def test_units_only_after_the_end(self):
        self.add({"id": JOB_A, "queue_seconds": 60, "run_seconds": 3600, "pu_per_hour": 10},
                 {"id": JOB_B, "queue_seconds": 0, "run_seconds": 1800, "processing_units": 42},
                 {"id": JOB_C, "queue_seconds": 0, "run_seconds": 360, "outcome": "Failed",
                  "pu_per_hour": 10})
        for job_id in (JOB_A, JOB_B, JOB_C):
            self.assertNotIn("processingUnits", self.get(job_id)["executionInfo"])
        self.c.ctl("POST", "/_sim/config", {"pu_null": True})
        self.assertIsNone(self.get(JOB_A)["executionInfo"]["processingUnits"])
        self.c.ctl("POST", "/_sim/config", {"pu_null": False})
        self.advance(360)
        self.assertEqual(self.get(JOB_C)["state"], "TerminatingOnFailure")
        self.assertNotIn("processingUnits", self.get(JOB_C)["executionInfo"])
        self.advance(10)
        job = self.get(JOB_C)
        self.assertEqual(job["state"], "Failed")
        self.assertEqual(job["executionInfo"]["processingUnits"], 1.0)
        self.advance(1800)
        job = self.get(JOB_B)
        self.assertEqual(job["state"], "Success")
        self.assertEqual(job["executionInfo"]["processingUnits"], 42)
        self.advance(3600)
        job = self.get(JOB_A)
        self.assertEqual(job["state"], "Success")
        self.assertEqual(job["executionInfo"]["processingUnits"], 10.0)
        self.assertEqual(set(job["executionInfo"]),
                         {"createdDateTime", "startedDateTime", "endedDateTime", "processingUnits"})

    def test_dates_null(self):
        self.add({"id": JOB_A, "queue_seconds": None})
        self.c.ctl("POST", "/_sim/config", {"dates_null": True, "pu_null": True})
        self.assertEqual(set(self.get(JOB_A)["executionInfo"].items()) - {("createdDateTime",
                         self.get(JOB_A)["executionInfo"]["createdDateTime"])},
                         {("startedDateTime", None), ("endedDateTime", None), ("processingUnits", None)})


class TimestampAndHeaderTests(SimTestCase):
    def stamps(self):
        status, _, body = self.c.api("GET", jobs_url(), self.tok)
        return [v for j in body["jobs"] for k, v in j["executionInfo"].items() if k.endswith("DateTime")]

    def test_both_forms_alternate(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 10, "seed": 8, "queue_seconds": 0,
                                                       "created_ago": [100, 1000]}})
        stamps = self.stamps()
        self.assertTrue(any(Z_FORM.match(s) for s in stamps))
        self.assertTrue(any(OFFSET_FORM.match(s) for s in stamps))
        self.assertTrue(all(Z_FORM.match(s) or OFFSET_FORM.match(s) for s in stamps))
        self.c.ctl("POST", "/_sim/config", {"timestamp_form": "z"})
        self.assertTrue(all(Z_FORM.match(s) for s in self.stamps()))
        self.c.ctl("POST", "/_sim/config", {"timestamp_form": "offset"})
        self.assertTrue(all(OFFSET_FORM.match(s) for s in self.stamps()))

    def test_date_header_follows_sim_clock_and_skew(self):
        status, hdrs, _ = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual(hdrs["date"], "Sun, 29 Nov 2026 10:00:00 GMT")
        self.c.ctl("POST", "/_sim/clock", {"skew": -90})
        status, hdrs, _ = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual(hdrs["date"], "Sun, 29 Nov 2026 09:58:30 GMT")
        self.assertEqual(self.c.ctl("GET", "/_sim/clock")["now"], "2026-11-29T10:00:00.000000Z")
        self.advance(3600)
        status, hdrs, _ = self.c.request("GET", "/_sim/clock")
        self.assertEqual(hdrs["date"], "Sun, 29 Nov 2026 10:58:30 GMT")

    def test_clock_speed(self):
        self.c.ctl("POST", "/_sim/clock", {"speed": 3600})
        before = self.c.ctl("GET", "/_sim/clock")["now_epoch"]
        time.sleep(0.05)
        after = self.c.ctl("GET", "/_sim/clock")["now_epoch"]
        self.assertGreater(after - before, 100)

    def test_any_accept_header(self):
        for accept in ("application/vnd.bentley.itwin-platform.v2+json", "text/html", "*/*"):
            status, _, _ = self.c.api("GET", jobs_url(), self.tok, {"Accept": accept})
            self.assertEqual(status, 200)
        log = self.requests(op="list_jobs")
        self.assertEqual([r["accept"] for r in log][-3:], ["application/vnd.bentley.itwin-platform.v2+json",
                                                           "text/html", "*/*"])


def sim_rss_kb():
    with open(f"/proc/{SIM_PROC.proc.pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def raw_exchange(port, request, timeout=10.0):
    """Sends raw bytes; -> (bytes received before close, error or None, seconds)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    start = time.monotonic()
    sock.sendall(request)
    chunks, error = [], None
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except OSError as e:
        error = e
    finally:
        sock.close()
    return b"".join(chunks), error, time.monotonic() - start


class FaultTests(SimTestCase):
    def faults(self, *rules):
        self.c.ctl("POST", "/_sim/faults", {"rules": list(rules)})

    def raw_get(self, path, close=True):
        return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.tok}\r\n"
                + ("Connection: close\r\n" if close else "") + "\r\n").encode()

    def test_status_default_count_after_probability(self):
        self.faults({"match": {"op": "list_jobs"}, "kind": "status", "count": 1, "after": 1})
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        status, hdrs, body = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual(status, 503)
        self.assertEqual(body["error"]["code"], "ServiceUnavailable")
        self.assertIn("x-correlation-id", hdrs)
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        self.faults({"kind": "status", "probability": 0})
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        self.faults({"match": {"method": "GET", "path": "/reality-conversion/jobs"}, "kind": "status",
                     "status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html",
                     "retry_after": 7})
        status, hdrs, data = self.c.request("GET", jobs_url(), headers={"Authorization": "Bearer " + self.tok})
        self.assertEqual((status, data, hdrs["content-type"], hdrs["retry-after"]),
                         (502, b"<html>Bad Gateway</html>", "text/html", "7"))
        self.assertEqual(self.requests(op="list_jobs")[-1]["fault"], "status")
        self.c.ctl("DELETE", "/_sim/faults")
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)

    def test_match_by_op_and_process(self):
        self.add({"id": JOB_A})
        self.faults({"match": {"op": "cancel_job"}, "kind": "status", "status": 503, "process": True})
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        self.assertEqual(self.delete(JOB_A)[0], 503)
        self.assertEqual(self.get(JOB_A)["state"], "TerminatingOnCancel")  # the DELETE took effect
        snapshot = self.c.ctl("GET", "/_sim/faults")["rules"][0]
        self.assertEqual((snapshot["seen"], snapshot["fired"]), (1, 1))

    def test_token_fault(self):
        self.faults({"match": {"op": "token"}, "kind": "status", "status": 500, "count": 1})
        status, _, _ = self.c.request("POST", "/connect/token", TOKEN_FORM,
                                      {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 500)
        self.assertTrue(self.c.token())

    def test_reset(self):
        self.faults({"kind": "reset"})
        data, error, _ = raw_exchange(SIM_PROC.port, self.raw_get(jobs_url()))
        self.assertEqual(data, b"")
        self.assertIsInstance(error, ConnectionResetError)
        self.assertIsNone(self.requests(op="list_jobs")[-1]["status"])

    def test_hang(self):
        self.faults({"kind": "hang", "hang_seconds": 0.3})
        data, error, elapsed = raw_exchange(SIM_PROC.port, self.raw_get(jobs_url()))
        self.assertEqual((data, error), (b"", None))
        self.assertGreaterEqual(elapsed, 0.25)

    def test_slow(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 5, "seed": 9}})
        self.faults({"kind": "slow", "bytes_per_second": 20000})
        start = time.monotonic()
        status, _, body = self.c.api("GET", jobs_url(), self.tok)
        elapsed = time.monotonic() - start
        self.assertEqual((status, len(body["jobs"])), (200, 5))
        self.assertGreater(elapsed, 0.05)

    def test_malformed(self):
        self.faults({"kind": "malformed"})
        status, _, data = self.c.request("GET", jobs_url(), headers={"Authorization": "Bearer " + self.tok})
        self.assertEqual(status, 200)
        self.assertRaises(ValueError, json.loads, data)

    def test_truncated(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 5, "seed": 9}})
        full = self.c.request("GET", jobs_url(), headers={"Authorization": "Bearer " + self.tok})[2]
        self.faults({"kind": "truncated", "count": 1})
        status, hdrs, data = self.c.request("GET", jobs_url(), headers={"Authorization": "Bearer " + self.tok})
        self.assertEqual(status, 200)
        self.assertEqual(int(hdrs["content-length"]), len(data))
        self.assertEqual(data, full[: len(full) // 2])
        self.assertRaises(ValueError, json.loads, data)

    def test_ratelimit_fault_and_early_flag(self):
        self.faults({"kind": "ratelimit", "retry_after": 5, "count": 1})
        status, hdrs, body = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual((status, body, hdrs["retry-after"]), (429, SEED_429, "5"))
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        log = self.requests(op="list_jobs")
        self.assertEqual([(r["status"], r["early"]) for r in log[-2:]], [(429, False), (200, True)])
        self.assertEqual(log[-2]["retry_after"], "5")

    def test_huge_is_streamed(self):
        self.faults({"kind": "huge"})
        rss_before = sim_rss_kb()
        conn = http.client.HTTPConnection("127.0.0.1", SIM_PROC.port, timeout=30)
        conn.request("GET", jobs_url(), headers={"Authorization": "Bearer " + self.tok})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        length = int(resp.getheader("Content-Length"))
        self.assertEqual(length, 100 * 1024 * 1024)
        head = resp.read(64)
        total, tail, rss_during = len(head), b"", None
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            tail = (tail + chunk)[-16:]
            if rss_during is None and total > length // 2:
                rss_during = sim_rss_kb()
        conn.close()
        self.assertEqual(total, length)
        self.assertTrue(head.startswith(b'{"jobs":[],"blob":"xxx'))
        self.assertTrue(tail.endswith(b'xx"}'))
        self.assertLess(rss_during - rss_before, 20 * 1024, "the huge body must not be held in memory")

    def test_deep(self):
        self.faults({"kind": "deep"})
        status, _, data = self.c.request("GET", jobs_url(), headers={"Authorization": "Bearer " + self.tok})
        self.assertEqual(status, 200)
        self.assertEqual(data, b'{"jobs":' + b"[" * 100000 + b"]" * 100000 + b"}")

    def test_loop_link(self):
        self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 5, "seed": 9}})
        self.faults({"kind": "loop_link", "match": {"op": "list_jobs"}})
        path = jobs_url(f"iTwinId eq {ITWIN_X}", 2)
        status, _, body = self.c.api("GET", path, self.tok)
        self.assertEqual(body["_links"]["next"]["href"], f"http://127.0.0.1:{SIM_PROC.port}{path}")

    def test_bad_rules_rejected(self):
        for rule in ({"kind": "explode"}, {"kind": "status", "bogus": 1},
                     {"kind": "status", "match": {"verb": "GET"}}, {"kind": "status", "count": -1}):
            self.c.ctl("POST", "/_sim/faults", {"rules": [rule]}, expect=400)


class RateLimitTests(SimTestCase):
    def test_sliding_window_retry_after_and_early(self):
        self.c.ctl("POST", "/_sim/config", {"rate_limit": 3, "rate_window": 1})
        self.c.ctl("DELETE", "/_sim/requests")
        start = time.monotonic()
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        self.assertTrue(self.c.token())  # token requests count too
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        status, hdrs, body = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual((status, body), (429, SEED_429))
        retry_after = int(hdrs["retry-after"])
        self.assertEqual(retry_after, 1)
        status, _, _ = self.c.api("GET", jobs_url(), self.tok)  # ignores retry-after
        self.assertEqual(status, 429)
        time.sleep(max(0.0, start + retry_after + 0.05 - time.monotonic()))
        time.sleep(retry_after)  # wait as told, from the last 429
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        log = self.requests()
        self.assertEqual([r["status"] for r in log], [200, 200, 200, 429, 429, 200])
        self.assertEqual([r["early"] for r in log], [False, False, False, False, True, False])
        self.assertEqual(log[1]["op"], "token")

    def test_control_api_is_not_limited(self):
        self.c.ctl("POST", "/_sim/config", {"rate_limit": 1})
        for _ in range(5):
            self.c.ctl("GET", "/_sim/clock")


class ControlTests(SimTestCase):
    def test_internal_fields_patch_delete_reset(self):
        self.add({"id": JOB_A})
        self.delete(JOB_A)
        jobs = self.c.ctl("GET", "/_sim/jobs")["jobs"]
        self.assertEqual(jobs[0]["cancel_requests"], 1)
        self.assertIsNotNone(jobs[0]["cancelled_at"])
        self.add({"id": JOB_B, "created_ago": 10})
        self.c.ctl("PATCH", f"/_sim/jobs/{JOB_B}", {"created_ago": 100000})
        self.assertEqual(self.list_ids(), [JOB_A, JOB_B])
        self.c.ctl("PATCH", f"/_sim/jobs/{JOB_B}", {"queue_seconds": "x"}, expect=400)
        self.c.ctl("DELETE", f"/_sim/jobs/{JOB_B}")
        self.assertEqual(self.list_ids(), [JOB_A])
        self.c.ctl("GET", f"/_sim/jobs/{JOB_B}", expect=404)
        self.c.ctl("POST", "/_sim/config", {"cancel_delay": 99})
        self.c.ctl("POST", "/_sim/reset")
        self.assertEqual(self.c.ctl("GET", "/_sim/jobs")["jobs"], [])
        self.assertEqual(self.c.ctl("GET", "/_sim/config")["cancel_delay"], 10.0)
        self.assertEqual(self.requests(), [])

    def test_validation(self):
        self.c.ctl("POST", "/_sim/config", {"no_such_key": 1}, expect=400)
        self.c.ctl("POST", "/_sim/config", {"terminal_delete": "204"}, expect=400)
        self.c.ctl("POST", "/_sim/jobs", {"jobs": [{"idd": "x"}]}, expect=400)
        self.c.ctl("POST", "/_sim/jobs", {"jobs": [{"id": JOB_A}, {"id": JOB_A}]}, expect=400)
        self.c.ctl("POST", "/_sim/clock", {"set": "yesterday"}, expect=400)
        self.c.ctl("GET", "/_sim/nothing", expect=404)
        self.assertEqual(self.c.ctl("GET", "/_sim/jobs")["jobs"], [])

    def test_request_log_has_no_secrets(self):
        self.c.api("GET", jobs_url("state eq Active"), self.tok)
        self.c.api("DELETE", f"/reality-conversion/jobs/{MISSING}", self.tok)
        status, _, data = self.c.request("GET", "/_sim/requests")
        self.assertNotIn(self.tok.encode(), data)
        self.assertNotIn(b"s3cret", data)
        log = json.loads(data)["requests"]
        self.assertEqual([r["op"] for r in log], ["token", "list_jobs", "cancel_job"])
        self.assertEqual(set(log[0]), {"seq", "real_ts", "sim_ts", "method", "path", "query", "op",
                                       "status", "job_id", "authorized", "early", "fault",
                                       "retry_after", "duration_ms", "accept", "user_agent",
                                       "sim_epoch"})
        self.assertEqual(set(log[2]) - set(log[0]), {"job"})  # the job's record (null here)
        self.assertEqual(log[1]["query"], {"$filter": "state eq Active"})
        self.assertEqual((log[2]["job_id"], log[2]["status"], log[2]["authorized"]),
                         (MISSING, 404, True))
        self.assertEqual(len(self.requests(since=log[1]["seq"])), 1)

    def test_create_job_through_the_api(self):
        body = {"type": "PointCloudConversion", "name": "My first PC Conversion job",
                "iTwinId": ITWIN_X, "specifications": {"inputs": {"pointCloud": JOB_E},
                                                      "options": {"outputFormat": "3DTilesPnts"}}}
        status, _, data = self.c.request("POST", "/reality-conversion/jobs", json.dumps(body).encode(),
                                         {"Authorization": "Bearer " + self.tok,
                                          "Content-Type": "application/json"})
        self.assertEqual(status, 201, data)
        job = json.loads(data)["job"]
        self.assertEqual((job["state"], job["userId"], job["iTwinId"]), ("Active", ME, ITWIN_X))
        body["type"] = "PCConversion"
        status, _, data = self.c.request("POST", "/reality-conversion/jobs", json.dumps(body).encode(),
                                         {"Authorization": "Bearer " + self.tok})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["error"]["details"][0]["code"], "InvalidProperty")

    def test_generate_many_quickly(self):
        start = time.monotonic()
        ids = self.c.ctl("POST", "/_sim/jobs", {"generate": {"count": 20000, "seed": 11}})["ids"]
        self.assertEqual(len(set(ids)), 20000)
        path = jobs_url(None, 1000)
        pages = 0
        while path:
            status, _, body = self.c.api("GET", path, self.tok)
            pages += 1
            path = path_of(body["_links"]["next"]["href"]) if "_links" in body else None
        self.assertEqual(pages, 20)
        self.assertLess(time.monotonic() - start, 10)


class TlsTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        subprocess.run([os.path.join(HERE, "make_test_ca.sh"), cls.tmp.name], check=True)
        d = cls.tmp.name
        cls.sim = SimProcess("--tls-cert", os.path.join(d, "server.pem"),
                             "--tls-key", os.path.join(d, "server-key.pem"))

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.tmp.cleanup()

    def context(self, cafile):
        return ssl.create_default_context(cafile=os.path.join(self.tmp.name, cafile))

    def test_https_with_test_ca(self):
        self.assertEqual(self.sim.scheme, "https")
        for host in ("127.0.0.1", "localhost"):
            c = Client(self.sim.port, self.context("ca.pem"), host)
            token = c.token()
            c.ctl("POST", "/_sim/jobs", {"generate": {"count": 3}})
            status, _, body = c.api("GET", jobs_url(None, 1), token)
            self.assertEqual(status, 200)
            self.assertTrue(body["_links"]["next"]["href"].startswith(f"https://{host}:"))
            c.close()

    def test_unknown_ca_is_rejected(self):
        c = Client(self.sim.port, self.context("other-ca.pem"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.request("GET", "/_sim/clock")

    def test_plain_http_gets_no_http_answer(self):
        data, _, _ = raw_exchange(self.sim.port, b"GET /_sim/clock HTTP/1.1\r\nHost: x\r\n\r\n", 5)
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))

    def test_make_test_ca_is_idempotent(self):
        def read():
            with open(os.path.join(self.tmp.name, "ca.pem")) as f:
                return f.read()
        before = read()
        subprocess.run([os.path.join(HERE, "make_test_ca.sh"), self.tmp.name], check=True)
        self.assertEqual(read(), before)


class TickClockTests(unittest.TestCase):
    """The ticked clock (--tick), on a fake monotonic clock: no sleeping."""

    def setUp(self):
        import importlib.util
        spec = importlib.util.spec_from_file_location("rc_sim_under_test", SIM)
        self.sim = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.sim)
        self.real = [1000.0]
        self.sim.time.monotonic = lambda: self.real[0]

    def tearDown(self):
        self.sim.time.monotonic = time.monotonic

    def test_real_speed_within_a_tick_and_jumps_at_its_end(self):
        clock = self.sim.SimClock(0, speed=600, tick=1.0)
        self.real[0] += 0.25
        self.assertAlmostEqual(clock.now(), 0.25)
        self.real[0] += 0.5
        self.assertAlmostEqual(clock.now(), 0.75)
        self.real[0] += 0.25  # the tick ends: 1 s of real time is 600 s of sim time
        self.assertAlmostEqual(clock.now(), 600)
        self.real[0] += 9.5
        self.assertAlmostEqual(clock.now(), 6000.5)

    def test_monotonic_and_rebased_by_speed_changes(self):
        clock = self.sim.SimClock(0, speed=100, tick=2.0)
        last = clock.now()
        for _ in range(50):
            self.real[0] += 0.37
            now = clock.now()
            self.assertGreaterEqual(now, last)
            last = now
        clock.set_speed(0)  # frozen
        self.real[0] += 5
        self.assertEqual(clock.now(), last)
        clock.set_tick(0)
        clock.set_speed(2)
        self.real[0] += 1
        self.assertAlmostEqual(clock.now(), last + 2)

    def test_no_effect_at_speed_one_or_below(self):
        clock = self.sim.SimClock(10, speed=0.5, tick=1.0)
        self.real[0] += 3
        self.assertAlmostEqual(clock.now(), 11.5)


class FutureJobTests(SimTestCase):
    def test_clock_control_takes_tick(self):
        state = self.c.ctl("POST", "/_sim/clock", {"tick": 0.5})
        self.assertEqual(state["tick"], 0.5)
        self.c.ctl("POST", "/_sim/clock", {"tick": -1}, expect=400)
        self.assertEqual(self.c.ctl("POST", "/_sim/clock", {"tick": 0})["tick"], 0)

    def test_future_jobs_visible_by_default(self):
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "created": "2026-11-29T11:00:00Z"})
        self.assertEqual(self.list_ids(f"iTwinId eq {ITWIN_X}"), [JOB_A])

    def test_hide_future_jobs(self):
        self.c.ctl("POST", "/_sim/config", {"hide_future_jobs": True})
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "created": "2026-11-29T11:00:00Z",
                  "queue_seconds": None},
                 {"id": JOB_B, "itwin_id": ITWIN_X, "created": "2026-11-29T10:30:00Z",
                  "queue_seconds": None},
                 {"id": JOB_C, "itwin_id": ITWIN_X, "created": "2026-11-29T09:00:00Z",
                  "queue_seconds": None})
        flt = f"iTwinId eq {ITWIN_X}"
        self.assertEqual(self.list_ids(flt), [JOB_C])
        for method in ("GET", "DELETE"):
            status, _, body = self.c.api(method, f"/reality-conversion/jobs/{JOB_A}", self.tok)
            self.assertEqual((status, body), (404, SEED_404))
        status, _, _ = self.c.api("GET", f"/reality-conversion/jobs/{JOB_B}/progress", self.tok)
        self.assertEqual(status, 404)
        self.assertEqual(len(self.c.ctl("GET", "/_sim/jobs")["jobs"]), 3)  # control sees all
        self.advance(1800)  # 10:30: JOB_B is created now
        self.assertEqual(self.list_ids(flt), [JOB_B, JOB_C])
        self.assertEqual(self.list_ids(flt, top=1), [JOB_B])
        self.assertEqual(self.get(JOB_B)["state"], "Queued")
        self.advance(1800)
        self.assertEqual(self.list_ids(flt), [JOB_A, JOB_B, JOB_C])
        status, body = self.delete(JOB_A)
        self.assertEqual(status, 200, body)

    def test_hide_future_jobs_paging(self):
        self.c.ctl("POST", "/_sim/config", {"hide_future_jobs": True})
        self.add(*[{"itwin_id": ITWIN_X, "created_ago": n * 60} for n in range(5)])
        self.add(*[{"itwin_id": ITWIN_X, "created": "2026-11-29T12:00:00Z"} for _ in range(3)])
        flt = f"iTwinId eq {ITWIN_X}"
        status, _, body = self.c.api("GET", jobs_url(flt, top=2), self.tok)
        seen = [j["id"] for j in body["jobs"]]
        while "_links" in body:
            status, _, body = self.c.api("GET", path_of(body["_links"]["next"]["href"]), self.tok)
            self.assertEqual(status, 200, body)
            seen += [j["id"] for j in body["jobs"]]
        self.assertEqual(len(seen), 5)
        self.assertEqual(len(set(seen)), 5)


class ChaosFeatureTests(SimTestCase):
    """Options for the operators' chaos test (tests/chaos): upper-case ids, duplicates,
    jobs moving between pages, 429 bursts, and the true job record in the request log."""

    def test_upper_ids_served_in_upper_case_and_any_case_accepted(self):
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "user_id": ME, "upper_ids": True,
                  "queue_seconds": None},
                 {"id": JOB_B, "itwin_id": ITWIN_X, "user_id": ME, "created_ago": 5})
        status, _, body = self.c.api("GET", jobs_url(f"iTwinId eq {ITWIN_X}"), self.tok)
        shown = {j["id"]: j for j in body["jobs"]}
        self.assertEqual(set(shown), {JOB_A.upper(), JOB_B})
        self.assertEqual(shown[JOB_A.upper()]["iTwinId"], ITWIN_X.upper())
        self.assertEqual(shown[JOB_A.upper()]["userId"], ME.upper())
        self.assertEqual(shown[JOB_B]["iTwinId"], ITWIN_X)
        self.assertEqual(self.get(JOB_A.lower())["id"], JOB_A.upper())
        self.assertEqual(self.get(JOB_B.upper())["id"], JOB_B)
        status, body = self.delete(JOB_A.lower())
        self.assertEqual((status, body["job"]["state"]), (200, "TerminatingOnCancel"))
        status, body = self.delete(JOB_B.upper())
        self.assertEqual((status, body["job"]["state"]), (200, "TerminatingOnCancel"))
        self.c.ctl("PATCH", f"/_sim/jobs/{JOB_A}", {"upper_ids": False})
        self.assertEqual(self.get(JOB_A)["id"], JOB_A)
        self.c.ctl("PATCH", f"/_sim/jobs/{JOB_A}", {"upper_ids": 1}, expect=400)

    def test_listed_twice(self):
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "listed_twice": True},
                 {"id": JOB_B, "itwin_id": ITWIN_X, "created_ago": 60},
                 {"id": JOB_C, "itwin_id": ITWIN_X, "created_ago": 120})
        flt = f"iTwinId eq {ITWIN_X}"
        self.assertEqual(self.list_ids(flt), [JOB_A, JOB_A, JOB_B, JOB_C])
        status, _, body = self.c.api("GET", jobs_url(flt, 2), self.tok)  # one place in $top
        self.assertEqual([j["id"] for j in body["jobs"]], [JOB_A, JOB_A, JOB_B])
        status, _, body = self.c.api("GET", path_of(body["_links"]["next"]["href"]), self.tok)
        self.assertEqual([j["id"] for j in body["jobs"]], [JOB_C])

    def test_page_overlap_moves_jobs_onto_the_next_page(self):
        ids = self.add(*[{"itwin_id": ITWIN_X, "created_ago": n * 60, "queue_seconds": 150}
                         for n in range(7)])  # list order: ids[0] (newest) .. ids[6]
        self.c.ctl("POST", "/_sim/config", {"page_overlap": 1})
        flt = f"iTwinId eq {ITWIN_X}"
        status, _, body = self.c.api("GET", jobs_url(flt, 3), self.tok)
        pages = [body["jobs"]]
        self.advance(60)  # between the page requests, ids[2] (created 120 s ago) starts
        while "_links" in body:
            status, _, body = self.c.api("GET", path_of(body["_links"]["next"]["href"]), self.tok)
            self.assertEqual(status, 200, body)
            pages.append(body["jobs"])
        self.assertEqual([[j["id"] for j in p] for p in pages],
                         [ids[0:3], ids[2:5], ids[4:7]])
        self.assertEqual(pages[0][2]["state"], "Queued")  # ids[2] on page 1 ...
        self.assertEqual(pages[1][0]["state"], "Active")  # ... and again, more advanced, on 2
        self.c.ctl("POST", "/_sim/config", {"page_overlap": 5})  # still moves on by one
        status, _, body = self.c.api("GET", jobs_url(flt, 3), self.tok)
        seen = [j["id"] for j in body["jobs"]]
        while "_links" in body:
            status, _, body = self.c.api("GET", path_of(body["_links"]["next"]["href"]), self.tok)
            seen += [j["id"] for j in body["jobs"]]
        self.assertEqual(set(seen), set(ids))
        self.c.ctl("POST", "/_sim/config", {"page_overlap": -1}, expect=400)

    def test_rate_bursts(self):
        self.c.ctl("POST", "/_sim/config", {"rate_bursts": {"period": 100, "length": 50}})
        self.c.ctl("DELETE", "/_sim/requests")
        status, hdrs, body = self.c.api("GET", jobs_url(), self.tok)
        self.assertEqual((status, body), (429, SEED_429))
        self.assertTrue(49 <= int(hdrs["retry-after"]) <= 50, hdrs["retry-after"])
        status, _, _ = self.c.request("POST", "/connect/token", TOKEN_FORM,
                                      {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 429)
        self.assertEqual([r["early"] for r in self.requests()], [False, True])
        self.c.ctl("GET", "/_sim/clock")  # the control API is never limited
        for bad in ({"period": 1, "length": 1}, {"period": 1}, 5):
            self.c.ctl("POST", "/_sim/config", {"rate_bursts": bad}, expect=400)
        self.c.ctl("POST", "/_sim/config", {"rate_bursts": None})
        time.sleep(0.02)
        self.c.ctl("POST", "/_sim/config", {"rate_bursts": {"period": 100, "length": 0.01}})
        time.sleep(0.02)  # the burst (the first 10 ms of each 100 s) is over
        self.assertEqual(self.c.api("GET", jobs_url(), self.tok)[0], 200)
        self.c.ctl("POST", "/_sim/config", {"rate_bursts": None})

    def test_request_log_has_the_true_job_record(self):
        self.add({"id": JOB_A, "itwin_id": ITWIN_X, "user_id": ME, "created_ago": 100,
                  "queue_seconds": 40, "upper_ids": True, "name": "n", "type": "MeshSampling"})
        self.c.ctl("DELETE", "/_sim/requests")
        self.c.ctl("POST", "/_sim/faults", {"rules": [
            {"match": {"op": "cancel_job"}, "kind": "status", "status": 503, "count": 1}]})
        self.assertEqual(self.delete(JOB_A.upper())[0], 503)  # logged although not processed
        self.advance(10)
        self.assertEqual(self.delete(JOB_A)[0], 200)
        self.assertEqual(self.delete(JOB_A)[0], 200)
        self.get(JOB_A)
        self.delete(MISSING)
        start = self.c.ctl("GET", "/_sim/clock")["now_epoch"]
        log = [r for r in self.requests() if r["op"] in ("cancel_job", "get_job")]
        self.assertEqual([r["job_id"] for r in log],
                         [JOB_A.upper(), JOB_A, JOB_A, JOB_A, MISSING])
        first, second, third, get, missing = (r["job"] for r in log)
        self.assertEqual(first, {"id": JOB_A, "state": "Active", "created": start - 110,
                                 "started": start - 70, "ended": None, "cancelled_at": None,
                                 "saving": False, "itwin_id": ITWIN_X, "user_id": ME,
                                 "name": "n", "type": "MeshSampling"})
        self.assertAlmostEqual(log[0]["sim_epoch"], start - 10)
        self.assertEqual(second["cancelled_at"], None)  # the record before the DELETE's effect
        self.assertEqual((third["state"], third["cancelled_at"]), ("TerminatingOnCancel", start))
        self.assertEqual(get["state"], "TerminatingOnCancel")
        self.assertIsNone(missing)
        self.assertNotIn("job", self.requests(op="token")[-1])


class ProcessTests(unittest.TestCase):
    def test_port_file_scenario_quiet_and_sigterm(self):
        with tempfile.TemporaryDirectory() as d:
            scenario = os.path.join(d, "scenario.json")
            with open(scenario, "w") as f:
                json.dump({"config": {"cancel_delay": 3, "require_filter": True},
                           "clock": {"speed": 0},
                           "jobs": [{"id": JOB_A, "itwin_id": ITWIN_X}],
                           "generate": {"count": 4, "itwins": [ITWIN_X], "seed": 1},
                           "faults": {"rules": [{"match": {"op": "get_job"}, "kind": "status",
                                                 "status": 500}]}}, f)
            port_file = os.path.join(d, "port")
            sim = SimProcess("--scenario", scenario, "--port-file", port_file, "--rate-limit", "500",
                             "--token-lifetime", "120")
            try:
                with open(port_file) as f:
                    self.assertEqual(int(f.read()), sim.port)
                c = Client(sim.port)
                token = c.token()
                status, _, body = c.api("GET", jobs_url(f"iTwinId eq {ITWIN_X}"), token)
                self.assertEqual((status, len(body["jobs"])), (200, 5))
                self.assertEqual(c.api("GET", jobs_url(), token)[0], 422)  # require_filter
                self.assertEqual(c.api("GET", f"/reality-conversion/jobs/{JOB_A}", token)[0], 500)
                config = c.ctl("GET", "/_sim/config")
                self.assertEqual((config["rate_limit"], config["token_lifetime"],
                                  config["cancel_delay"]), (500, 120, 3.0))
                c.ctl("POST", "/_sim/reset")
                self.assertTrue(c.ctl("GET", "/_sim/config")["require_filter"])  # scenario config stays
                c.close()
            finally:
                start = time.monotonic()
                code = sim.proc.poll()
                sim.proc.send_signal(signal.SIGTERM)
                code = sim.proc.wait(10)
                elapsed = time.monotonic() - start
                stderr = sim.proc.stderr.read()
                sim.stop()
            self.assertEqual(code, 0)
            self.assertLess(elapsed, 3)
            self.assertEqual(stderr, "")

    def test_bad_scenario_exits_2(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"jobs": [{"bogus": 1}]}, f)
            f.flush()
            proc = subprocess.run([sys.executable, SIM, "--scenario", f.name], capture_output=True,
                                  text=True, timeout=20)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("bogus", proc.stderr)


if __name__ == "__main__":
    unittest.main()
