"""The command line: check-config and offline plan on every example, broken
configs, exit codes and --help (rc-watchdog(8))."""
import glob
import json
import os
import subprocess
import tempfile
import unittest

from rcw_e2e import BINARY, SOURCE_DIR, main

AT = "2026-11-29T12:00:00Z"
JOBS = os.path.join(SOURCE_DIR, "tests", "data", "plan", "jobs.json")
EXAMPLES = os.path.join(SOURCE_DIR, "config", "examples")
BAD = os.path.join(SOURCE_DIR, "tests", "data", "config", "bad")

RUNAWAY = "11111111-1111-4111-8111-111111111111"
NEAR_LIMIT = "22222222-2222-4222-8222-222222222222"
QUEUED = "33333333-3333-4333-8333-333333333333"
MESH = "44444444-4444-4444-8444-444444444444"
MESH_KEEP = "55555555-5555-4555-8555-555555555555"
NIGHTLY_QUEUED = "77777777-7777-4777-8777-777777777777"

LONG_NAME_CONFIG = """api:
  base_url: https://api.bentley.com/reality-conversion
auth:
  token_url: https://ims.bentley.com/connect/token
  client_id: service-abc123
  client_secret_file: %s
policies:
  - name: runtime-2h
    exempt: {name_regex: "^nightly-[a-z]+$"}
    limits: {max_runtime: 2h}
"""
# Active for 3 h at AT.
LONG_NAME_JOB = {"state": "Active", "type": "PointCloudConversion",
                 "userId": "3a8670f9-b69f-4a60-b958-f103d580755f",
                 "iTwinId": "ce54f773-67db-4b4f-a98b-368329107429",
                 "executionInfo": {"createdDateTime": "2026-11-29T08:55:00Z",
                                   "startedDateTime": "2026-11-29T09:00:00Z"}}


def rcw(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60)


def plan(example):
    proc = rcw("plan", "-c", os.path.join(EXAMPLES, example), "--jobs", JOBS, "--at", AT,
               "--format", "json")
    if proc.returncode != 0:
        raise AssertionError(proc.stderr)
    doc = json.loads(proc.stdout)
    verdicts = {}
    for job in doc["jobs"]:
        for v in job["verdicts"]:
            verdicts[(job["id"], v.get("policy") or v.get("budget"))] = v["verdict"]
    return doc, verdicts


class Cli(unittest.TestCase):
    def test_check_config_accepts_every_example(self):
        for path in sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml"))):
            with self.subTest(path=path):
                proc = rcw("check-config", "-c", path)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                names = [l for l in proc.stdout.splitlines()
                         if l.startswith("policy ") or l.startswith("budget ")]
                self.assertEqual(len(names), 1, proc.stdout)
                self.assertNotIn("example-secret", proc.stdout)

    def test_every_broken_config_exits_78_naming_file_line_and_column(self):
        files = sorted(glob.glob(os.path.join(BAD, "*.yaml")))
        self.assertGreaterEqual(len(files), 20)
        for path in files:
            with self.subTest(path=os.path.basename(path)):
                with open(path) as f:
                    head = f.read().splitlines()
                expect = next(l.split(":", 1)[1].strip() for l in head if l.startswith("# expect:"))
                at = next((l.split(":", 1)[1].strip() for l in head if l.startswith("# at:")), None)
                for command in (["check-config"], ["run", "--once"], ["plan"]):
                    proc = rcw(*command, "-c", path)
                    self.assertEqual(proc.returncode, 78, (command, proc.stderr))
                    self.assertIn(expect, proc.stderr)
                    if at:
                        self.assertIn("%s:%s:" % (path, at), proc.stderr)

    def test_plan_max_runtime(self):
        _, v = plan("policy-max-runtime.yaml")
        self.assertEqual(v[(RUNAWAY, "runtime-2h")], "would_cancel")
        self.assertEqual(v[(NEAR_LIMIT, "runtime-2h")], "warn")

    def test_plan_max_queued(self):
        _, v = plan("policy-max-queued.yaml")
        self.assertEqual(v[(QUEUED, "queued-30m")], "would_cancel")
        self.assertEqual(v[(RUNAWAY, "queued-30m")], "ok")
        self.assertNotIn((NIGHTLY_QUEUED, "queued-30m"), v)  # type not matched

    def test_plan_max_processing_units_uses_the_estimate(self):
        _, v = plan("policy-max-processing-units.yaml")
        self.assertEqual(v[(MESH, "mesh-200pu")], "would_cancel")  # 10 h x 25 PU/h
        self.assertEqual(v[(MESH_KEEP, "mesh-200pu")], "exempt")

    def test_plan_report_only(self):
        _, v = plan("policy-report-only.yaml")
        self.assertEqual(v[(NIGHTLY_QUEUED, "report-long-jobs")], "report")
        self.assertEqual(v[(RUNAWAY, "report-long-jobs")], "ok")

    def test_plan_daily_itwin_budget_cancels_queued_jobs(self):
        doc, v = plan("budget-daily-itwin.yaml")
        self.assertEqual(doc["budgets"][0]["verdict"], "over_budget")
        self.assertEqual(doc["budgets"][0]["spent"], 12000)
        self.assertEqual(v[(QUEUED, "itwin-daily")], "over_budget")

    def test_plan_weekly_user_budget(self):
        doc, v = plan("budget-weekly-user.yaml")
        self.assertEqual(doc["budgets"][0]["verdict"], "over_budget")
        self.assertEqual(v[(RUNAWAY, "user-weekly")], "over_budget")  # cancel_all

    def test_plan_monthly_type_and_all_budgets_within_limits(self):
        for example in ("budget-monthly-type.yaml", "budget-all.yaml"):
            with self.subTest(example=example):
                doc, _ = plan(example)
                self.assertTrue(all(b["verdict"] == "ok" for b in doc["budgets"]), doc["budgets"])

    def test_plan_table_lists_every_running_job(self):
        proc = rcw("plan", "-c", os.path.join(EXAMPLES, "policy-max-runtime.yaml"),
                   "--jobs", JOBS, "--at", AT)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("runtime-2h: would cancel", proc.stdout)
        self.assertEqual(proc.stdout.count("\n"), 1 + 6)  # header + the 6 non-terminal jobs

    def test_plan_rejects_bad_time_and_bad_jobs_file(self):
        cfg = os.path.join(EXAMPLES, "policy-max-runtime.yaml")
        self.assertEqual(rcw("plan", "-c", cfg, "--jobs", JOBS, "--at", "noon").returncode, 2)
        proc = rcw("plan", "-c", cfg, "--jobs", os.path.join(BAD, "empty-file.yaml"))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("empty-file.yaml", proc.stderr)

    def test_plan_evaluates_a_100000_character_job_name(self):
        # std::regex recursed over the name and crashed plan and run (SIGSEGV);
        # RE2 reads the whole name in linear time.
        with tempfile.TemporaryDirectory(prefix="rcw-cli-") as tmp:
            cfg = os.path.join(tmp, "config.yaml")
            with open(cfg, "w") as f:
                f.write(LONG_NAME_CONFIG % os.path.join(EXAMPLES, "client-secret"))
            exempt = "nightly-" + "a" * (100000 - 8)
            runaway = exempt[:-1] + "7"  # differs in the last character only
            jobs = [dict(LONG_NAME_JOB, id=RUNAWAY, name=exempt),
                    dict(LONG_NAME_JOB, id=NEAR_LIMIT, name=runaway)]
            jobs_file = os.path.join(tmp, "jobs.json")
            with open(jobs_file, "w") as f:
                json.dump({"jobs": jobs}, f)
            proc = rcw("plan", "-c", cfg, "--jobs", jobs_file, "--at", AT, "--format", "json")
            self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
            verdicts = {(job["id"], v.get("policy")): v["verdict"]
                        for job in json.loads(proc.stdout)["jobs"] for v in job["verdicts"]}
            self.assertEqual(verdicts[(RUNAWAY, "runtime-2h")], "exempt")
            self.assertEqual(verdicts[(NEAR_LIMIT, "runtime-2h")], "would_cancel")

    def test_usage_errors_exit_2_and_help_exits_0(self):
        self.assertEqual(rcw().returncode, 2)
        self.assertEqual(rcw("frobnicate").returncode, 2)
        self.assertEqual(rcw("run", "--bogus").returncode, 2)
        self.assertEqual(rcw("cancel", "-c", "x.yaml").returncode, 2)
        for command in ("run", "check-config", "plan", "cancel"):
            proc = rcw(command, "--help")
            self.assertEqual(proc.returncode, 0)
            self.assertIn("usage: rc-watchdog " + command, proc.stdout)

    def test_version_names_the_libraries(self):
        proc = rcw("version")
        self.assertEqual(proc.returncode, 0)
        for lib in ("rc-watchdog", "libcurl", "yaml-cpp", "simdjson", "spdlog", "prometheus-cpp",
                    "date", "libsystemd"):
            self.assertIn(lib, proc.stdout)


if __name__ == "__main__":
    main()
