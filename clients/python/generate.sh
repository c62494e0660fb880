#!/usr/bin/env bash
# Generates the Python client (messages, stubs and type stubs) from proto/ with grpcio-tools.
# Usage: clients/python/generate.sh [OUTPUT_DIR]   (default: clients/python/src)
# The version is pinned so that regenerating gives the committed files byte for byte
# (deploy/test.sh checks it); change both together.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/src}"
GRPCIO_TOOLS_VERSION=1.85.1
if ! python3 -c "import grpc_tools, importlib.metadata as m, sys; sys.exit(m.version('grpcio-tools') != '$GRPCIO_TOOLS_VERSION')" 2>/dev/null; then
  echo "[python-client] installing grpcio-tools==$GRPCIO_TOOLS_VERSION (pip)" >&2
  python3 -m pip install --quiet "grpcio-tools==$GRPCIO_TOOLS_VERSION"
fi
mkdir -p "$out/sluice/v1"
rm -f "$out"/sluice/v1/*_pb2*.py "$out"/sluice/v1/*_pb2*.pyi
# The public API only: the internal services and queue payloads are not for clients.
public=$(cd "$root/proto" && ls sluice/v1/*.proto | grep -v -E '/(connector|progress|payloads)\.proto$')
(cd "$root/proto" && python3 -m grpc_tools.protoc -I . \
  --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" $public)
# Packages for the generated modules (`from sluice.v1 import job_pb2`).
printf '"""Generated from proto/sluice/v1 by clients/python/generate.sh; do not edit."""\n' > "$out/sluice/v1/__init__.py"
