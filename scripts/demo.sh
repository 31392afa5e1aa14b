#!/usr/bin/env bash
# rc-watchdog demo: the daemon against the API simulator for about a minute.
#
#   scripts/demo.sh                  # installs what is missing, builds into build/, runs 60 s
#   DEMO_SECONDS=20 scripts/demo.sh  # shorter
#
# The simulator (tests/sim/rc_sim.py) serves tests/sim/scenarios/demo.json: three
# iTwins, every job type, 40 routine jobs and a handful of offenders. Its clock runs
# 20x faster than real time, so a minute of demo is 20 minutes of jobs:
#   - survey-hall-7          Active for 3 h         > pointclouds-2h max_runtime 2h
#   - bridge-scan-optimize   Queued for 45 min      > pointclouds-2h max_queued 30m
#   - nightly-tiles-campus   ~320 PU (40 PU/h x 8h) > nightly-tiles-300pu 300 PU
#   - facade-pointcloud      crosses 2 h after ~15 s
#   - plant-mesh-lod1        ends after ~25 s; its 150 PU exhaust site-c-daily (500 PU),
#                            so the queued jobs of that iTwin are cancelled
#   - nightly-tiles-harbour  crosses 300 PU after ~30 s
#   - tunnel-scan            only a warning (80 % of 2 h)
#   - orthophoto-region      over 6 h, but long-runners-report only reports
#   - archive-survey-keep    5 h, exempt by name
#
# When Prometheus Alertmanager is installed (package prometheus-alertmanager), the demo
# also runs one on a free loopback port, with a webhook receiver that writes every
# notification to DEMO_DIR/webhook.jsonl, and configures `notify`: the owners of each
# iTwin's jobs (label team) hear of warnings, cancellations and jobs left over a limit.
#
# Environment: DEMO_SECONDS (default 60), DEMO_DIR (where config, state, audit log
# and logs go; default a new /tmp/rc-watchdog-demo.XXXXXX, kept afterwards),
# RCW_BINARY (use this binary: skips setup and build), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${DEMO_SECONDS:-60}
speed=20

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }

if [ -n "${RCW_BINARY:-}" ]; then
  binary=$RCW_BINARY
else
  step "setup and build"
  scripts/setup.sh
  build=${BUILD_DIR:-build}
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target rc-watchdog >/dev/null
  binary=$root/$build/rc-watchdog
fi
[ -x "$binary" ] || { say "demo: no rc-watchdog binary at $binary" >&2; exit 1; }

# The real interpreter, not a shim, so that signals reach the simulator itself.
py=$(python3 -c 'import sys; print(sys.executable)')

dir=${DEMO_DIR:-$(mktemp -d /tmp/rc-watchdog-demo.XXXXXX)}
mkdir -p "$dir"
audit=$dir/state/audit.jsonl

sim_pid=""
daemon_pid=""
am_pid=""
sink_pid=""
stop_pid() {  # stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$daemon_pid" 15
  stop_pid "$am_pid" 10
  stop_pid "$sink_pid" 5
  stop_pid "$sim_pid" 5
}
trap cleanup EXIT
trap 'say ""; say "demo: interrupted; the audit log so far is $audit"; exit 130' INT TERM

# Formats audit lines for people. Usage: show MODE [FROM_LINE] where MODE is
# "events" (one line per event from FROM_LINE on) or "summary".
show() {
  "$py" - "$audit" "$@" <<'PY'
import json, sys

path, mode = sys.argv[1], sys.argv[2]
start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
try:
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
except FileNotFoundError:
    lines = []

def dur(s):
    s = int(round(s))
    h, m = divmod(s // 60, 60)
    return "%dh%02dm" % (h, m) if h else "%dm%02ds" % (m, s % 60)

def amount(e, key):
    v = e.get(key)
    if v is None:
        return "-"
    if e.get("limit") in ("max_runtime", "max_queued"):
        return dur(v)
    return "%g PU" % round(v, 1)

def who(e):
    return "%s %s (%s, iTwin %s)" % (e.get("job_id", "?")[:8], e.get("name") or "<no name>",
                                      e.get("type", "?"), e.get("itwin_id", "?")[:8])

def describe(e):
    ev = e["event"]
    if ev == "violation":
        return "VIOLATION  %s: %s %s, limit %s [%s]%s" % (
            who(e), e.get("limit"), amount(e, "observed"), amount(e, "threshold"), e.get("policy"),
            " exempt: not cancelled" if e.get("message", "").endswith("(exempt)") else "")
    if ev == "warning":
        return "warning    %s: %s %s of %s [%s]" % (
            who(e), e.get("limit"), amount(e, "observed"), amount(e, "threshold"), e.get("policy"))
    if ev == "cancel_result":
        outcome = e.get("outcome", "?")
        label = {"cancelled": "CANCELLED", "dry_run": "reported"}.get(outcome, outcome)
        extra = " (HTTP %s)" % e["http_status"] if e.get("http_status") else ""
        return "%-10s %s [%s]%s %s" % (label, who(e), e.get("policy"), extra, e.get("message", ""))
    if ev == "cancel_confirmed":
        return "confirmed  %s is Cancelled" % who(e)
    if ev in ("budget_warning", "budget_exceeded"):
        return "BUDGET     %s: %s PU spent of %s (%s) %s" % (
            e.get("policy"), round(e.get("observed", 0), 1), e.get("threshold"),
            "EXCEEDED" if ev == "budget_exceeded" else "warning", e.get("message", ""))
    if ev == "cancel_blocked":
        return "blocked    %s" % e.get("message", "")
    if ev == "cancel_requested":
        return None
    return "%-10s %s" % (ev, e.get("message", ""))

if mode == "events":
    for e in lines[start:]:
        text = describe(e)
        if text:
            print("  " + text)
    print(len(lines), file=sys.stderr)
    sys.exit(0)

# Summary: every job whose cancellation was accepted, with the reason.
confirmed = {e["job_id"] for e in lines if e["event"] == "cancel_confirmed"}
cancelled, seen = [], set()
for e in lines:
    if e["event"] == "cancel_result" and e.get("outcome") == "cancelled" and e["job_id"] not in seen:
        seen.add(e["job_id"])
        cancelled.append(e)
print("Cancelled: %d jobs" % len(cancelled))
row = "  %-8s  %-22s %-22s %-20s %-20s %10s %10s  %s"
print(row % ("JOB", "NAME", "TYPE", "POLICY", "LIMIT", "OBSERVED", "THRESHOLD", "CONFIRMED"))
for e in cancelled:
    print(row % (e["job_id"][:8], (e.get("name") or "")[:22], e.get("type", ""), e.get("policy", ""),
                 e.get("limit", ""), amount(e, "observed"), amount(e, "threshold"),
                 "yes" if e["job_id"] in confirmed else "not yet"))
reported = [e for e in lines if e["event"] == "violation" and e["job_id"] not in seen]
report_only = {e["job_id"] for e in lines
               if e["event"] == "cancel_result" and e.get("outcome") == "dry_run"}
if reported:
    print("Over a limit but not cancelled:")
    for e in reported:
        why = ("exempt" if e.get("message", "").endswith("(exempt)") else
               "report-only policy" if e["job_id"] in report_only else "not cancelled yet")
        print("  %s: %s %s, limit %s [%s]: %s" % (who(e), e.get("limit"), amount(e, "observed"),
                                                  amount(e, "threshold"), e.get("policy"), why))
for e in lines:
    if e["event"] in ("budget_warning", "budget_exceeded"):
        print("Budget %s: %s, %s PU of %s PU (%s)" % (
            e.get("policy"), e["event"], round(e.get("observed", 0), 1), e.get("threshold"),
            e.get("message", "")))
PY
}

# What the webhook got from Alertmanager: one line per alert notification.
notifications() {
  "$py" - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        lines = [json.loads(l) for l in f if l.strip()]
except FileNotFoundError:
    lines = []
rows = []
for line in lines:
    for a in line["payload"].get("alerts", []):
        labels, notes = a.get("labels", {}), a.get("annotations", {})
        rows.append((a.get("status", "?"), labels.get("alertname", "?"),
                     labels.get("job_name", "?"), labels.get("team", "-"),
                     notes.get("cancel_at", "")))
print("Notifications to owners (Alertmanager webhook): %d" % len(rows))
row = "  %-9s %-24s %-22s %-7s %s"
if rows:
    print(row % ("STATUS", "ALERT", "JOB", "TEAM", "CANCEL_AT"))
for r in rows:
    print(row % r)
PY
}

metrics_lines() {
  "$py" - "$1" <<'PY'
import sys, urllib.request
keys = ("rc_watchdog_polls_total", "rc_watchdog_violations_total",
        "rc_watchdog_cancellations_total", "rc_watchdog_cancellations_confirmed_total",
        "rc_watchdog_cancellations_pending", "rc_watchdog_budget_spent_processing_units",
        "rc_watchdog_warnings_total", "rc_watchdog_config_last_reload_successful")
try:
    text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
except OSError as e:
    print("  (metrics not reachable: %s)" % e)
    sys.exit(0)
for line in text.splitlines():
    if line.startswith(keys) and not line.endswith(" 0"):
        print("  " + line)
PY
}

step "simulator"
"$py" tests/sim/rc_sim.py --port 0 --port-file "$dir/sim.port" --speed "$speed" --seed 7 \
  --scenario tests/sim/scenarios/demo.json >"$dir/sim.out" 2>"$dir/sim.err" &
sim_pid=$!
for ((i = 0; i < 300; i++)); do
  [ -s "$dir/sim.port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$dir/sim.err" >&2; exit 1; }
  sleep 0.1
done
[ -s "$dir/sim.port" ] || { say "demo: the simulator did not start" >&2; exit 1; }
sim_url=http://127.0.0.1:$(cat "$dir/sim.port")
say "Reality Conversion API simulator at $sim_url (clock ${speed}x real time)"

# Alertmanager, when installed: a webhook receiver (a few lines of Python) first, then
# Alertmanager on port 0; the port it took is read from its log.
alertmanager=$(command -v prometheus-alertmanager || command -v alertmanager || true)
notify_yaml=""
webhook=$dir/webhook.jsonl
if [ -n "$alertmanager" ]; then
  step "Alertmanager"
  : >"$webhook"
  "$py" - "$webhook" "$dir/webhook.port" >"$dir/webhook.log" 2>&1 <<'PY' &
import http.server, json, os, sys, time
out, port_file = sys.argv[1], sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(out, "a") as f:
            f.write(json.dumps({"received": time.time(), "path": self.path,
                                "payload": json.loads(body)}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(port_file + ".tmp", port_file)
server.serve_forever()
PY
  sink_pid=$!
  for ((i = 0; i < 300; i++)); do
    [ -s "$dir/webhook.port" ] && break
    kill -0 "$sink_pid" 2>/dev/null || { cat "$dir/webhook.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$dir/webhook.port" ] || { say "demo: the webhook receiver did not start" >&2; exit 1; }
  hook_url=http://127.0.0.1:$(cat "$dir/webhook.port")
  cat >"$dir/alertmanager.yml" <<EOF
# Alertmanager for the demo (config/alertmanager/alertmanager.yml shows a real routing)
route:
  receiver: webhook
  group_by: [alertname, job_id]   # one notification per job and kind of event
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: webhook
    webhook_configs:
      - url: $hook_url/rc-watchdog
EOF
  "$alertmanager" --config.file="$dir/alertmanager.yml" --storage.path="$dir/alertmanager" \
    --web.listen-address=127.0.0.1:0 --cluster.listen-address= >"$dir/alertmanager.log" 2>&1 &
  am_pid=$!
  am_url=""
  for ((i = 0; i < 300; i++)); do
    kill -0 "$am_pid" 2>/dev/null || { cat "$dir/alertmanager.log" >&2; exit 1; }
    am_port=$(sed -n 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
      "$dir/alertmanager.log" | head -n 1)
    if [ -n "$am_port" ] && curl -fs "http://127.0.0.1:$am_port/-/ready" >/dev/null 2>&1; then
      am_url=http://127.0.0.1:$am_port
      break
    fi
    sleep 0.1
  done
  [ -n "$am_url" ] || { say "demo: Alertmanager did not start" >&2; exit 1; }
  say "Alertmanager at $am_url; its webhook receiver writes to $webhook"
  notify_yaml="notify:
  alertmanager:
    urls: [$am_url]
    resend_interval: 10s
  external_labels: {env: demo}
  owners:
    - match: {itwins: [ce54f773-67db-4b4f-a98b-368329107429]}
      labels: {team: site-a}
    - match: {itwins: [0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11]}
      labels: {team: site-b}
    - match: {itwins: [6e6c0f2a-1f4b-4a7e-9c1d-2b8f6f0a4c11]}
      labels: {team: site-c}"
else
  say "(Alertmanager is not installed: no notifications in this demo;" \
    "apt-get install prometheus-alertmanager)"
fi

metrics_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metrics_url=http://127.0.0.1:$metrics_port/metrics
printf 's3cret\n' >"$dir/client-secret"
chmod 600 "$dir/client-secret"
cat >"$dir/config.yaml" <<EOF
# rc-watchdog demo configuration (written by scripts/demo.sh)
api:
  base_url: $sim_url/reality-conversion
  timeout: 10s
auth:
  token_url: $sim_url/connect/token
  client_id: rcw-test
  client_secret_file: $dir/client-secret
watch:
  itwins:
    - ce54f773-67db-4b4f-a98b-368329107429   # site A
    - 0b0e2f7a-3b5e-4f0e-9d7c-2a4c7e1f9a11   # site B
    - 6e6c0f2a-1f4b-4a7e-9c1d-2b8f6f0a4c11   # site C
  poll_interval: 5s
  lookback: 2d
enforcement:
  max_cancels_per_cycle: 10
  max_cancels_per_hour: 100
  max_cancel_fraction: 0.5
  retry: {initial: 1s, max: 30s, max_attempts: 5}
metrics:
  listen: 127.0.0.1:$metrics_port
state:
  directory: $dir/state
log:
  level: info
policies:
  - name: pointclouds-2h
    match: {types: [PointCloudConversion, PointCloudOptimization]}
    exempt: {name_regex: "-keep\$"}
    limits: {max_runtime: 2h, max_queued: 30m}
    warn_at: 0.8
  - name: nightly-tiles-300pu
    match: {types: [ContextSceneTiler], name_regex: "^nightly-"}
    limits: {max_processing_units: 300}
    warn_at: 0.9
  - name: long-runners-report
    limits: {max_runtime: 6h}
    action: report
budgets:
  - name: site-c-daily
    group_by: itwin
    match: {itwins: [6e6c0f2a-1f4b-4a7e-9c1d-2b8f6f0a4c11]}
    window: daily
    limit: 500
    warn_at: 0.8
    action: cancel_queued
    count_running: false
estimates:
  learn: true
  pu_per_hour: {ContextSceneTiler: 40}
EOF
[ -n "$notify_yaml" ] && printf '%s\n' "$notify_yaml" >>"$dir/config.yaml"

step "configuration ($dir/config.yaml)"
"$binary" check-config -c "$dir/config.yaml"

step "rc-watchdog run for ${seconds}s"
"$binary" run -c "$dir/config.yaml" >"$dir/daemon.log" 2>&1 &
daemon_pid=$!
say "daemon pid $daemon_pid; log $dir/daemon.log"
say "metrics at $metrics_url while it runs"
say "audit log $audit"
start=$SECONDS
seen=0
while ((SECONDS - start < seconds)); do
  sleep 1
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    rc=0
    wait "$daemon_pid" || rc=$?
    daemon_pid=""
    say "demo: rc-watchdog exited early with status $rc; its log:" >&2
    tail -n 30 "$dir/daemon.log" >&2
    exit 1
  fi
  out=$(show events "$seen" 2>"$dir/.count")
  seen=$(cat "$dir/.count")
  if [ -n "$out" ]; then
    printf '[+%2ds]\n%s\n' $((SECONDS - start)) "$out"
  fi
done

step "key metrics ($metrics_url)"
metrics_lines "$metrics_url"

step "stopping rc-watchdog (SIGTERM)"
kill -TERM "$daemon_pid"
rc=0
for ((i = 0; i < 150; i++)); do
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
wait "$daemon_pid" || rc=$?
daemon_pid=""
say "rc-watchdog exited with status $rc"
out=$(show events "$seen" 2>"$dir/.count")
[ -n "$out" ] && say "$out"
rm -f "$dir/.count"

step "summary"
show summary
if [ -n "$am_pid" ]; then
  say ""
  notifications "$webhook"
fi
say ""
say "Audit log:   $audit ($(wc -l <"$audit") lines, one JSON object each)"
say "Daemon log:  $dir/daemon.log"
say "Config:      $dir/config.yaml"
say "Metrics:     $metrics_url (served while the daemon ran)"
[ -n "$am_pid" ] && say "Webhook:     $webhook (what Alertmanager sent)"
say "Files are kept in $dir; remove them with: rm -rf $dir"
[ "$rc" -eq 0 ]
