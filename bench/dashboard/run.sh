#!/usr/bin/env bash
# The dashboard benchmark: first load (gzip'd bytes, time to interactive) and the jobs page
# with 200 jobs and 5 syncs streaming (long tasks and frame times from a Chromium trace).
#
# Starts its own release stack on free ports (its own queue prefix, scheduler off): the Jira
# simulator and `sluice all` serving gateway/dashboard/dist, bootstraps a tenant, runs
# first-load.mjs then jobs-stream.mjs, and stops everything it started.
#
#   bash bench/dashboard/run.sh            # build the dashboard (npm run build), then measure
#   SKIP_BUILD=1 bash bench/dashboard/run.sh
#   bash bench/dashboard/run.sh --serve    # start the stack, print its URL and key, wait
#
# Environment: SLUICE_BIN (target/release/sluice), SLUICE_DATABASE_URL
# (postgres://sluice:sluice@127.0.0.1:5432/sluice_test), SLUICE_AMQP_URL, OUT_DIR
# (target/bench-dashboard), and the benchmarks' own: RUNS, JOBS, SYNCS, PROJECTS, ISSUES.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DASH="$ROOT/gateway/dashboard"
HERE="$ROOT/bench/dashboard"
BIN=${SLUICE_BIN:-$ROOT/target/release/sluice}
OUT_DIR=${OUT_DIR:-$ROOT/target/bench-dashboard}
PROJECTS=${PROJECTS:-4}
ISSUES=${ISSUES:-500}
SERVE=0
[ "${1:-}" = "--serve" ] && SERVE=1

[ -x "$BIN" ] || { echo "no $BIN: cargo build --release -p sluice" >&2; exit 2; }
[ -x /usr/bin/chromium ] || { echo "Debian's /usr/bin/chromium is required (apt-get install -y chromium)" >&2; exit 2; }
[ -d "$DASH/node_modules" ] || { echo "run npm ci in $DASH first" >&2; exit 2; }

if [ "${SKIP_BUILD:-0}" != 1 ] && [ "$SERVE" = 0 ]; then
  (cd "$DASH" && npm run --silent build)
fi
[ -f "$DASH/dist/index.html" ] || { echo "no $DASH/dist: npm run build" >&2; exit 2; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_port() {
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not listen on $1 within 60 s" >&2
  return 1
}

SCRATCH=$(mktemp -d /tmp/sluice-dashbench.XXXXXX)
PREFIX="dashbench-$$."
export SLUICE_DATABASE_URL=${SLUICE_DATABASE_URL:-postgres://sluice:sluice@127.0.0.1:5432/sluice_test}
export SLUICE_AMQP_URL=${SLUICE_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
export SLUICE_QUEUE_PREFIX=$PREFIX SLUICE_SCHEDULER=off
export SLUICE_CREDENTIALS_KEY=$(openssl rand -base64 32)
export SLUICE_INTERNAL_TOKEN=$(openssl rand -hex 24)
P=(); for _ in 1 2 3 4 5 6 7 8; do P+=("$(free_port)"); done
export SLUICE_ORCHESTRATOR_ADDR=127.0.0.1:${P[0]} SLUICE_ORCHESTRATOR_URL=http://127.0.0.1:${P[0]}
export SLUICE_ORCHESTRATOR_INTERNAL_ADDR=127.0.0.1:${P[1]}
export SLUICE_CONNECTORS_ADDR=127.0.0.1:${P[2]} SLUICE_CONNECTORS_URL=http://127.0.0.1:${P[2]}
export SLUICE_TRANSFORMER_ADDR=127.0.0.1:${P[3]} SLUICE_LOADER_ADDR=127.0.0.1:${P[4]}
export SLUICE_VECTORIZER_ADDR=127.0.0.1:${P[5]} SLUICE_GATEWAY_ADDR=127.0.0.1:${P[6]}
export SLUICE_DASHBOARD_DIR=$DASH/dist
export SLUICE_MODEL_DIR=${SLUICE_MODEL_DIR:-$ROOT/.sluice/models/all-MiniLM-L6-v2}
SIM_PORT=${P[7]}
GATEWAY=http://127.0.0.1:${P[6]}

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # This run's queues and exchanges (the broker is shared).
  for kind in queues exchanges; do
    curl -sf -u guest:guest "http://127.0.0.1:15672/api/$kind/%2f?columns=name" 2>/dev/null |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const q of JSON.parse(s||"[]"))if(q.name.startsWith(process.argv[1]))console.log(encodeURIComponent(q.name))})' "$PREFIX" |
      while read -r name; do curl -sf -u guest:guest -X DELETE "http://127.0.0.1:15672/api/$kind/%2f/$name" >/dev/null || true; done
  done
  echo "logs: $SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN" simulator --addr "127.0.0.1:$SIM_PORT" --generate-projects "$PROJECTS" --issues-per-project "$ISSUES" \
  --custom-fields 30 >/dev/null 2>"$SCRATCH/simulator.log" &
PIDS+=($!)
"$BIN" all >/dev/null 2>"$SCRATCH/all.log" &
PIDS+=($!)
wait_port "$SIM_PORT" simulator
wait_port "${P[6]}" gateway
# Measure an idle stack: wait (up to 60 s) until `sluice all` has used under 2% of a core for
# 3 s running (start-up work such as the vectorizer's model loading is over).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ALL_PID=${PIDS[1]}
quiet=0
for _ in $(seq 1 60); do
  a=$(cpu_ticks "$ALL_PID"); sleep 1; b=$(cpu_ticks "$ALL_PID")
  if [ $((b - a)) -le 2 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  [ "$quiet" -ge 3 ] && break
done
TENANT="dashbench-$(date +%s)-$$"
KEY=$("$BIN" bootstrap --tenant "$TENANT" 2>>"$SCRATCH/bootstrap.log" | tail -n 1)

export DASHBOARD_URL=$GATEWAY SLUICE_API_KEY=$KEY SIMULATOR_URL=http://127.0.0.1:$SIM_PORT OUT_DIR
mkdir -p "$OUT_DIR"
echo "stack: $GATEWAY (tenant $TENANT), simulator $SIMULATOR_URL ($PROJECTS projects × $ISSUES issues), logs $SCRATCH"
if [ "$SERVE" = 1 ]; then
  echo "DASHBOARD_URL=$GATEWAY SLUICE_API_KEY=$KEY SIMULATOR_URL=$SIMULATOR_URL"
  echo "Ctrl-C (or kill $$) stops it."
  while :; do sleep 3600 & wait $!; done
fi

cd "$DASH" # playwright-core resolves from the dashboard's node_modules
node "$HERE/first-load.mjs"
node "$HERE/jobs-stream.mjs"
