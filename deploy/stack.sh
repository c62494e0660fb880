#!/usr/bin/env bash
# Makes PostgreSQL and RabbitMQ available on this machine: installs them from Debian's
# packages when absent, starts them when not running, uses them as they are otherwise, and
# creates the sluice role and the given databases. Idempotent.
#
#   deploy/stack.sh [database ...]      (default: sluice)
set -euo pipefail

DATABASES=("${@:-sluice}")
PG_PORT=5432
AMQP_PORT=5672

log() { printf '\033[1m[stack]\033[0m %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; exit 1; fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do port_open "$port" && return 0; sleep 1; done
  echo "$name did not start listening on 127.0.0.1:$port within 60 s" >&2
  exit 1
}

# --- PostgreSQL -------------------------------------------------------------------------
if port_open "$PG_PORT"; then
  log "PostgreSQL already running on :$PG_PORT"
else
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    apt_install postgresql postgresql-client
  fi
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    as_root pg_createcluster "$version" main
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port "$PG_PORT" PostgreSQL
fi

psql_admin() {
  # Trust auth (CI images) or peer auth as the postgres OS user (a stock Debian install).
  if psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
  else
    as_root runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
  fi
}

if [ "$(psql_admin -c "select 1 from pg_roles where rolname = 'sluice'")" != "1" ]; then
  log "creating role sluice"
  psql_admin -c "create role sluice login password 'sluice'"
fi
# The test suite gives some tests a throwaway database of their own (the scheduler sees every
# job of a database), so the local role may create databases.
if [ "$(psql_admin -c "select rolcreatedb from pg_roles where rolname = 'sluice'")" != "t" ]; then
  log "allowing role sluice to create databases"
  psql_admin -c "alter role sluice createdb"
fi
for db in "${DATABASES[@]}"; do
  if [ "$(psql_admin -c "select 1 from pg_database where datname = '$db'")" != "1" ]; then
    log "creating database $db"
    psql_admin -c "create database \"$db\" owner sluice"
  fi
done

# --- RabbitMQ ---------------------------------------------------------------------------
if port_open "$AMQP_PORT"; then
  log "RabbitMQ already running on :$AMQP_PORT"
else
  if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    log "installing RabbitMQ (Debian package)"
    apt_install rabbitmq-server
  fi
  log "starting RabbitMQ"
  as_root rabbitmq-server -detached || true
  wait_port "$AMQP_PORT" RabbitMQ
fi
# Queue statistics (unacknowledged messages, publish and ack rates) for QueueService come from
# RabbitMQ's management API, a plugin shipped with the package; enabled if it is not.
if command -v rabbitmq-plugins >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-plugins ]; then
  if ! as_root rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_management; then
    log "enabling the RabbitMQ management plugin (queue statistics)"
    as_root rabbitmq-plugins enable rabbitmq_management >/dev/null || log "could not enable rabbitmq_management; queue rates will show -1"
  fi
fi
log "PostgreSQL on 127.0.0.1:$PG_PORT, RabbitMQ on 127.0.0.1:$AMQP_PORT, databases: ${DATABASES[*]}"
