#!/usr/bin/env python3
"""Writes bench/RESULTS.md from the benchmark JSON that scripts/bench.sh left in
<build>/bench/ (decode, policy, cycle, memory .json from Google Benchmark) and
<build>/e2e.json (bench/e2e_bench.py) and <build>/issue11.json
(bench/issue11_bench.py), with issue 11's targets first, the machine, the date,
the git revision, a table per area, every target with its measured value, and a
"Missed targets" section that quotes bench/NOTES.md for the why.

    write_results.py --build build-release [--out bench/RESULTS.md] [--e2e-status N]
                     [--issue11-status N]
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The targets of issue 6 that the micro benchmarks measure.
DECODE_MIN_RATIO = 0.5          # DecodeJobPage >= 50 % of plain simdjson (DOM parse), bytes/s
CHECKS_MIN = 5e6                # job-policy checks per second on one core
CYCLE_MAX_S = 0.5               # CPU seconds of a 100k-job cycle
RSS_MAX_MB = 64                 # peak RSS with 100k jobs
HEADLINE_POLICY = "BM_PolicyEvaluate/policies:8/regex:1"


def load_bench(path):
    """{run_name: {field: value}}: the median of repetitions when present,
    else the single run. Runs with error_occurred keep their error."""
    if not os.path.exists(path):
        return None, {}
    with open(path) as f:
        report = json.load(f)
    runs = {}
    for b in report.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                runs[name] = b
        elif name not in runs or runs[name].get("run_type") != "aggregate":
            runs.setdefault(name, b)
    return report.get("context", {}), runs


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cache_var(build, name):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.{digits}g} G"
    if a >= 1e6:
        return f"{v / 1e6:.{digits}g} M"
    if a >= 1e4:
        return f"{v / 1e3:.{digits}g} k"
    if a >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def cpu_seconds(b):
    """cpu_time of a run in seconds (time_unit aware)."""
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
    return b["cpu_time"] * scale


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


class Report:
    def __init__(self, build, e2e_status, revision=None, issue11_status=None):
        self.build = build
        self.revision = revision
        self.e2e_status = e2e_status
        self.issue11_status = issue11_status
        self.issue11 = None
        issue11_path = os.path.join(build, "issue11.json")
        if os.path.exists(issue11_path):
            with open(issue11_path) as f:
                self.issue11 = json.load(f)
        d = os.path.join(build, "bench")
        self.ctx, self.decode = load_bench(os.path.join(d, "decode.json"))
        _, self.policy = load_bench(os.path.join(d, "policy.json"))
        _, self.cycle = load_bench(os.path.join(d, "cycle.json"))
        _, self.memory = load_bench(os.path.join(d, "memory.json"))
        self.e2e = None
        e2e_path = os.path.join(build, "e2e.json")
        if os.path.exists(e2e_path):
            with open(e2e_path) as f:
                self.e2e = json.load(f)
        self.targets = []  # (name, measured text, target text, met, ratio text, note)

    def target(self, name, measured, target_text, met, ratio, note=""):
        self.targets.append((name, measured, target_text, met, ratio, note))

    # -- sections --------------------------------------------------------------

    def machine(self):
        ctx = self.ctx or {}
        version = run([os.path.join(self.build, "rc-watchdog"), "version"]).replace("\n", "; ")
        rev = self.revision or run(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
        if not self.revision and run(["git", "status", "--porcelain", "--untracked-files=no"]):
            rev += " (with uncommitted changes)"
        compiler = cache_var(self.build, "CMAKE_CXX_COMPILER")
        comp_version = run([compiler, "--version"]).splitlines()[0] if compiler else ""
        flags = " ".join(x for x in (cache_var(self.build, "CMAKE_CXX_FLAGS"),
                                     cache_var(self.build, "CMAKE_CXX_FLAGS_RELEASE")) if x)
        load = ctx.get("load_avg")
        rows = [
            ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
            ("git revision", rev),
            ("CPU", f"{cpu_model()}, {os.cpu_count()} logical cores"
                    + (f", {ctx['mhz_per_cpu']} MHz" if ctx.get("mhz_per_cpu") else "")),
            ("kernel", platform.release()),
            ("compiler", f"{comp_version} ({flags or 'default flags'}, "
                         f"{cache_var(self.build, 'CMAKE_BUILD_TYPE') or '?'})"),
            ("rc-watchdog version", version or "n/a"),
            ("Google Benchmark", f"{ctx.get('library_build_type', '?')} build of the Debian library"),
            ("load average at start", ", ".join(f"{x:.2f}" for x in load) if load else "n/a"),
        ]
        return "## Machine\n\n" + table(["", ""], rows) + (
            "\n\nTimes are CPU time of the benchmark thread (Google Benchmark's cpu_time; rates "
            "are per CPU second), medians of the repetitions, so other processes on the machine "
            "distort them less than wall time would; they still share caches and memory "
            "bandwidth. A load average above the core count means the numbers are pessimistic.")

    def decode_section(self):
        if not self.decode:
            return "## Decoding list pages\n\nnot run"
        base = self.decode.get("BM_SimdjsonDomParse")
        rows = []
        for name, what in [("BM_DecodeJobPage", "DecodeJobPage (the daemon: validate, build 1000 Jobs)"),
                           ("BM_SimdjsonDomParse", "simdjson DOM parse only (the ratio's base)"),
                           ("BM_SimdjsonDomWalk", "simdjson DOM parse + read the same fields"),
                           ("BM_SimdjsonOnDemand", "simdjson On-Demand reading the same fields")]:
            b = self.decode.get(name)
            if not b:
                continue
            rel = (b["bytes_per_second"] / base["bytes_per_second"]) if base else None
            rows.append((name, what, fmt(b["items_per_second"]), f"{b['bytes_per_second'] / 1e6:.0f}",
                         f"{rel:.0%}" if rel else "n/a"))
        dec = self.decode.get("BM_DecodeJobPage")
        paired = self.decode.get("BM_DecodeVsDomParse", {}).get("ratio")
        if dec and base:
            separate = dec["bytes_per_second"] / base["bytes_per_second"]
            ratio = paired or separate
            how = ("paired: both timed in the same iterations (BM_DecodeVsDomParse); "
                   f"separate medians give {separate:.0%}") if paired else "separate medians"
            self.target("decoding speed vs plain simdjson (DOM parse of the same bytes)",
                        f"{ratio:.0%}", ">= 50 %", ratio >= DECODE_MIN_RATIO,
                        f"{ratio / DECODE_MIN_RATIO:.2f}x of target", how)
            od = self.decode.get("BM_SimdjsonOnDemand")
            if od:
                self.target("decoding speed vs simdjson On-Demand (for reference)",
                            f"{dec['bytes_per_second'] / od['bytes_per_second']:.0%}", "none", None, "",
                            "On-Demand does not validate skipped values; the decoder must")
        return ("## Decoding list pages (one page of 1000 jobs, "
                f"{self._page_kb()} KB)\n\n"
                + table(["benchmark", "what", "jobs/s", "MB/s", "vs DOM parse"], rows))

    def _page_kb(self):
        b = (self.decode or {}).get("BM_SimdjsonDomParse")
        if not b:
            return "?"
        return f"{b['bytes_per_second'] / b['items_per_second'] * 1000 / 1024:.0f}"

    def policy_section(self):
        if not self.policy:
            return "## Policy and budget evaluation\n\nnot run"
        rows = []
        for name, b in sorted(self.policy.items()):
            m = re.match(r"BM_PolicyEvaluate/policies:(\d+)/regex:(\d)", name)
            if m:
                rows.append((m.group(1), "yes" if m.group(2) == "1" else "no",
                             fmt(b["items_per_second"]), fmt(b.get("jobs_per_second")),
                             f"{int(b.get('findings', 0))}"))
        rows.sort(key=lambda r: (int(r[0]), r[1]))
        brows = []
        for name, b in self.policy.items():
            m = re.match(r"BM_BudgetEvaluate/itwins:(\d+)", name)
            if m:
                per_job_ns = 1e9 / b["items_per_second"]
                brows.append((int(m.group(1)), 5 * int(m.group(1)), int(b.get("groups", 0)),
                              fmt(b["items_per_second"]), f"{per_job_ns:.0f}"))
        brows.sort()
        head = self.policy.get(HEADLINE_POLICY)
        if head:
            v = head["items_per_second"]
            self.target("job-policy checks per second, one core (8 policies, regexes)",
                        f"{fmt(v)}/s", ">= 5 M/s", v >= CHECKS_MIN, f"{v / CHECKS_MIN:.2f}x of target")
        worst = min((b["items_per_second"] for n, b in self.policy.items()
                     if n.startswith("BM_PolicyEvaluate")), default=None)
        if worst is not None and head and worst < head["items_per_second"]:
            self.target("job-policy checks per second, slowest policy set measured",
                        f"{fmt(worst)}/s", ">= 5 M/s", worst >= CHECKS_MIN,
                        f"{worst / CHECKS_MIN:.2f}x of target")
        return ("## Policy evaluation (10,000 Queued/Active jobs, `Evaluate` as `Assess` calls it)\n\n"
                + table(["policies", "name regexes", "checks/s", "jobs/s", "findings"], rows)
                + "\n\n## Budget evaluation (`EvaluateBudgets`, 4 budgets, 10,000 listed jobs, "
                  "ended ones in the ledger)\n\n"
                + table(["iTwins", "users", "groups", "jobs/s", "ns per job"], brows))

    def cycle_section(self):
        if not self.cycle:
            return "## Whole cycle\n\nnot run"
        rows = []
        for name, b in self.cycle.items():
            m = re.match(r"BM_(Cycle|CycleFirst|CycleOverBudget)/jobs:(\d+)", name)
            if not m:
                continue
            kind = {"Cycle": "steady poll", "CycleFirst": "first poll (empty state)",
                    "CycleOverBudget": "steady, every group over budget"}[m.group(1)]
            mem = self.memory.get(name, {})
            rows.append((int(m.group(2)), kind, f"{cpu_seconds(b) * 1000:.1f}", fmt(b["items_per_second"]),
                         int(b.get("findings", 0)), fmt(b.get("audit_lines_per_cycle")),
                         f"{mem['heap_peak_MB']:.1f}" if "heap_peak_MB" in mem else "n/a"))
            if int(m.group(2)) == 100000:
                s = cpu_seconds(b)
                self.target(f"100k-job cycle CPU, {kind} (decode + assess + decide + save)",
                            f"{s:.3f} s", "< 0.5 s", s < CYCLE_MAX_S, f"{s / CYCLE_MAX_S:.2f}x of limit")
        rows.sort(key=lambda r: (r[0], r[1]))
        out = ("## Whole cycle (decode all pages + `Assess` + `Enforcer::Decide` + the state save, encoded; 10 % of jobs "
               "running; 8 policies, 4 budgets)\n\n"
               + table(["jobs", "cycle", "CPU ms/cycle", "jobs/s", "findings", "audit lines/cycle",
                        "heap peak MB (est.)"], rows))
        jm = self.memory.get("BM_JobMemory/jobs:100000")
        if jm:
            per = jm.get("bytes_per_job")
            out += ("\n\n## Memory per job\n\n" + table(["measure", "value"], [
                ("heap held per decoded Job (strings + vector slack, push_back growth)",
                 f"{per:.0f} bytes" if per else "n/a"),
                ("sizeof(Job)", f"{jm.get('sizeof_job', 0):.0f} bytes"),
                ("heap owned by a Job's fields (strings)",
                 f"{jm['field_heap_per_job']:.0f} bytes" if "field_heap_per_job" in jm else "n/a"),
                ("100,000 decoded jobs", f"{per * 1e5 / 1e6:.1f} MB" if per else "n/a")]))
        peak = self.memory.get("BM_Cycle/jobs:100000", {}).get("heap_peak_MB")
        if peak:
            self.target("heap peak during a steady 100k-job cycle (micro estimate, not RSS)",
                        f"{peak:.0f} MB", "< 64 MB (RSS)", peak < RSS_MAX_MB,
                        f"{peak / RSS_MAX_MB:.2f}x of limit",
                        "heap only; RSS adds code, stacks, allocator slack")
        return out

    def e2e_section(self):
        if self.e2e is None:
            why = "" if self.e2e_status in (None, "0") else f" (bench/e2e_bench.py exited {self.e2e_status})"
            return "## End to end (real binary against the simulator)\n\ne2e benchmark not run" + why
        rows = []
        for r in self.e2e.get("results", []):
            met = r.get("met")
            rows.append((r.get("name", "?"), f"{fmt(r.get('value'))} {r.get('unit', '')}".strip(),
                         r.get("target") or "none", {True: "met", False: "MISSED", None: "n/a"}[met],
                         r.get("note", "")))
            if r.get("target") is not None:
                note = r.get("note", "")
                if len(note) > 120:
                    note = note[:117].rsplit(" ", 1)[0] + " ... (e2e table)"
                self.target(r.get("name", "?") + " (e2e)", f"{fmt(r.get('value'))} {r.get('unit', '')}".strip(),
                            r["target"], met, "", note)
        machine = self.e2e.get("machine")
        extra = ("\n\ne2e machine: " + ", ".join(f"{k}: {v}" for k, v in machine.items())) if machine else ""
        status = "" if self.e2e_status in (None, "0") else \
            f"\n\nbench/e2e_bench.py exited {self.e2e_status}; the rows above are what it wrote."
        return ("## End to end (real binary against the simulator, bench/e2e_bench.py)\n\n"
                + table(["measure", "value", "target", "met", "note"], rows) + extra + status)

    def issue11_section(self):
        """Issue 11's targets table (first in RESULTS.md): the rows of issue11.json that have
        a target, then the figures without one (the peer, the ratios)."""
        status = self.issue11_status
        if self.issue11 is None:
            why = "" if status in (None, "0") else f" (bench/issue11_bench.py exited {status})"
            return "## Issue 11 targets\n\nbench/issue11_bench.py not run" + why
        res = self.issue11.get("results", [])
        m = self.issue11.get("machine", {})
        par = m.get("parameters", {})

        def value(r):
            return f"{fmt(r.get('value'))} {r.get('unit', '')}".strip()

        rows = [(r["name"], value(r), r["target"],
                 {True: "met", False: "**MISSED**", None: "n/a"}[r.get("met")], r.get("note", ""))
                for r in res if r.get("target") is not None]
        info = [(r["name"], value(r), r.get("note", "")) for r in res if r.get("target") is None]
        head = (f"{par.get('jobs', '?')} listed jobs in one iTwin, {par.get('running_jobs', '?')} "
                f"of them running ({100 * par.get('ended_fraction', 0):.1f} % ended), "
                f"{par.get('pages', '?')} pages of {par.get('page_size', '?')}; "
                f"{par.get('repetitions', '?')} repetition(s) of `run --once` (medians), "
                f"{par.get('steady_polls', '?')} steady polls at {par.get('poll_interval_s', '?')} s "
                f"after {par.get('warmup_cycles', '?')} warm-up cycles; "
                f"watch.full_listing_interval: {par.get('full_listing_interval') or 'not supported'}. "
                f"Load average {m.get('load_average_start')} at start, {m.get('load_average_end')} "
                f"at end ({m.get('cores', '?')} cores); {m.get('bench_seconds', '?')} s. "
                "CPU is user + sys of the whole process (rusage, /proc), not wall time.")
        if par.get("quick"):
            head += " **Quick run (--quick): not the targets' scale.**"
        errors = self.issue11.get("errors") or []
        tail = "".join(f"\n\n**Harness error:** {e}" for e in errors)
        if status not in (None, "0"):
            tail += f"\n\nbench/issue11_bench.py exited {status}; the rows above are what it wrote."
        return ("## Issue 11 targets (bench/issue11_bench.py)\n\n" + head + "\n\n"
                + table(["measure", "value", "target", "status", "note"], rows)
                + "\n\nThe peer (bench/peer/cron_watchdog.py) and the other figures, same run:\n\n"
                + table(["measure", "value", "note"], info) + tail)

    def targets_section(self):
        rows = [(n, m, t, {True: "met", False: "**MISSED**", None: "n/a"}[ok], r, note)
                for n, m, t, ok, r, note in self.targets]
        return ("## Targets (issue 6)\n\n"
                + table(["target", "measured", "target", "status", "ratio", "note"], rows)
                + "\n\nNot measured here: requests per cycle and idle CPU between polls are e2e "
                  "measures (bench/e2e_bench.py)." * (self.e2e is None))

    def missed_section(self):
        missed = [t for t in self.targets if t[3] is False]
        missed11 = [r for r in (self.issue11 or {}).get("results", []) if r.get("met") is False]
        out = "## Missed targets\n\n"
        if not missed and not missed11:
            out += "None of the measured targets was missed.\n"
        for r in missed11:
            out += (f"- **{r['name']}** (issue 11): measured {fmt(r.get('value'))} "
                    f"{r.get('unit', '')}, target {r['target']}.\n")
        for n, m, t, _, r, _ in missed:
            out += f"- **{n}**: measured {m}, target {t} ({r}).\n"
        notes = os.path.join(HERE, "NOTES.md")
        if os.path.exists(notes):
            with open(notes) as f:
                text = f.read().strip()
            text = re.sub(r"^# .*\n+", "", text)  # its own title
            text = re.sub(r"(?m)^## ", "#### ", text)  # its sections, under ours
            out += ("\n### Where the time and memory go, and why a target is missed "
                    "(bench/NOTES.md)\n\n" + text + "\n")
        return out

    def render(self):
        # Sections that add targets first; the targets table goes on top.
        body = [self.decode_section(), self.policy_section(), self.cycle_section(), self.e2e_section()]
        head = ("# Benchmark results\n\nWritten by `scripts/bench.sh` (bench/write_results.py); "
                "do not edit by hand. What each benchmark measures: bench/README.md.")
        return "\n\n".join([head, self.issue11_section(), self.machine(), self.targets_section()] + body
                           + [self.missed_section()]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the build tree bench.sh used")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--e2e-status", default=None, help="exit status of bench/e2e_bench.py")
    ap.add_argument("--issue11-status", default=None, help="exit status of bench/issue11_bench.py")
    ap.add_argument("--revision", help="what was measured, when not the checkout's git HEAD")
    args = ap.parse_args()
    report = Report(os.path.abspath(args.build), args.e2e_status, args.revision,
                    args.issue11_status)
    if not (report.decode or report.policy or report.cycle or report.issue11):
        print(f"write_results: no benchmark JSON in {args.build}/bench", file=sys.stderr)
        return 1
    text = report.render()
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
