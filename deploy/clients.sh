#!/usr/bin/env bash
# Sets up the clients: the Python package (clients/python) and the dashboard with its
# TypeScript client (gateway/dashboard). Installs Node.js and npm from Debian's packages when
# missing. Idempotent.
#   deploy/clients.sh          install the Python client, build the dashboard
#   deploy/clients.sh check    also check both generated clients match proto/, type-check,
#                              lint and unit-test the dashboard (the test command does this)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"
say() { printf '\033[1m[clients]\033[0m %s\n' "$*"; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "installing Node.js and npm (Debian packages)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "[clients] Node.js 20 or newer is required for the dashboard (found $(node --version))" >&2
  exit 1
fi

# Python: generated code must match proto/ (regenerated with the pinned grpcio-tools).
if [ "$mode" = check ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  bash clients/python/generate.sh "$tmp/src" >/dev/null
  if ! diff -r -x __pycache__ -x __init__.py clients/python/src/sluice/v1 "$tmp/src/sluice/v1" >/dev/null; then
    diff -r -x __pycache__ -x __init__.py clients/python/src/sluice/v1 "$tmp/src/sluice/v1" | head -20 >&2
    echo "[clients] clients/python is stale: run clients/python/generate.sh and commit the result" >&2
    exit 1
  fi
  say "python client matches proto/"
fi
say "installing the Python client (pip install ./clients/python)"
python3 -m pip install --quiet --root-user-action=ignore "grpcio>=1.85.1,<2" "protobuf>=7.35.1,<8"
python3 -m pip install --quiet --root-user-action=ignore --no-deps --force-reinstall ./clients/python

# The dashboard: dependencies from the lockfile, the generated client checked, built.
cd gateway/dashboard
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (gateway/dashboard)"
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$mode" = check ]; then
  npm run --silent check-generated
  npm run --silent typecheck
  npm run --silent lint
  npm run --silent test -- --reporter=dot
fi
say "building the dashboard (gateway/dashboard/dist)"
npm run --silent build >/dev/null
