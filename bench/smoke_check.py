#!/usr/bin/env python3
"""ctest "bench: smoke": runs each benchmark binary once, briefly, and checks
that it exits 0, that every expected benchmark is in its JSON output, that
none reported an error (SkipWithError) and that each has a positive
items_per_second. A broken benchmark fails this test.

    smoke_check.py --decode BIN --policy BIN --cycle BIN --memory BIN
"""
import argparse
import json
import subprocess
import sys

# Benchmark names (as Google Benchmark prints them) each binary must report.
EXPECTED = {
    "decode": ["BM_DecodeJobPage", "BM_SimdjsonDomParse", "BM_DecodeVsDomParse",
               "BM_SimdjsonDomWalk", "BM_SimdjsonOnDemand"],
    "policy": ["BM_PolicyEvaluate/policies:1/regex:0", "BM_PolicyEvaluate/policies:8/regex:0",
               "BM_PolicyEvaluate/policies:8/regex:1", "BM_PolicyEvaluate/policies:32/regex:1",
               "BM_BudgetEvaluate/itwins:10", "BM_BudgetEvaluate/itwins:100",
               "BM_BudgetEvaluate/itwins:1000"],
    # The 100,000-job cases take seconds each on a loaded machine; the smoke
    # test runs the small ones (same code) and bench.sh the rest.
    "cycle": ["BM_Cycle/jobs:1000", "BM_Cycle/jobs:10000", "BM_CycleFirst/jobs:1000",
              "BM_CycleFirst/jobs:10000"],
    "memory": ["BM_Cycle/jobs:1000", "BM_JobMemory/jobs:100000"],
}
FILTER = {"cycle": "BM_Cycle(First)?/jobs:[0-9]{4,5}$",
          "memory": "BM_Cycle/jobs:1000$|BM_JobMemory"}
# Counters that must be positive, beyond items_per_second.
COUNTERS = {
    ("decode", "BM_DecodeVsDomParse"): ["ratio"],
    ("cycle", "BM_Cycle/jobs:10000"): ["findings", "running"],
    ("memory", "BM_Cycle/jobs:1000"): ["heap_peak_MB"],
    ("memory", "BM_JobMemory/jobs:100000"): ["bytes_per_job", "sizeof_job"],
}


def check(area, binary):
    cmd = [binary, "--benchmark_min_time=0.01", "--benchmark_format=json"]
    if area in FILTER:
        cmd.append("--benchmark_filter=" + FILTER[area])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=100)
    problems = []
    if proc.returncode != 0:
        return [f"{area}: {binary} exited {proc.returncode}: {proc.stderr.strip()[-500:]}"]
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        return [f"{area}: output is not JSON ({e}): {proc.stdout[:200]!r}"]
    runs = {b["name"]: b for b in report.get("benchmarks", [])}
    for name in EXPECTED[area]:
        b = runs.get(name)
        if b is None:
            problems.append(f"{area}: {name} missing (got {sorted(runs)})")
            continue
        if b.get("error_occurred"):
            problems.append(f"{area}: {name} failed: {b.get('error_message')}")
            continue
        for counter in ["items_per_second"] + COUNTERS.get((area, name), []):
            value = b.get(counter)
            if not isinstance(value, (int, float)) or not value > 0:
                problems.append(f"{area}: {name}: {counter} = {value!r}, expected > 0")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for area in EXPECTED:
        ap.add_argument("--" + area, required=True, metavar="BIN")
    args = ap.parse_args()
    problems = []
    for area in EXPECTED:
        found = check(area, getattr(args, area))
        print(f"{area}: {'ok' if not found else 'FAILED'}", flush=True)
        problems += found
    for p in problems:
        print("FAIL " + p, file=sys.stderr)
    if not problems:
        print(f"bench smoke: {sum(len(v) for v in EXPECTED.values())} benchmarks ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
