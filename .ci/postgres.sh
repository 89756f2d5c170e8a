#!/usr/bin/env bash
# Start a PostgreSQL server on loopback for the randomization-service tests and print its URL.
#
#   export ONCOTRIAL_TEST_PG_URL="$(bash .ci/postgres.sh)"
#
# Idempotent: running it again reuses the installed server, the running cluster, the role and
# the database, and prints the same URL. Only the URL goes to stdout; progress goes to stderr.
# The URL is also written, as a line `export ONCOTRIAL_TEST_PG_URL=...`, to the file named by
# ONCOTRIAL_PG_ENV_FILE (default $TMPDIR/oncotrial-pg.env), for `source` in another shell.
#
# As root (CI, containers): installs Debian `postgresql` with apt-get when missing, starts the
# Debian cluster with pg_ctlcluster (creating one with pg_createcluster if there is none) and
# creates the role/database as the postgres user (runuser). As another user without sudo: a
# private cluster under ${ONCOTRIAL_PG_DIR:-$HOME/.cache/oncotrial-pg} started with initdb/pg_ctl.
#
# The role may create databases, so tests can make one fresh database per test and drop it.
# Settings (environment): ONCOTRIAL_PG_USER (oncotrial), ONCOTRIAL_PG_PASSWORD (oncotrial),
# ONCOTRIAL_PG_DB (oncotrial_test), ONCOTRIAL_PG_PORT (private cluster only; 54329).
set -euo pipefail

PGUSER_NAME="${ONCOTRIAL_PG_USER:-oncotrial}"
PGPASS="${ONCOTRIAL_PG_PASSWORD:-oncotrial}"
PGDB="${ONCOTRIAL_PG_DB:-oncotrial_test}"
ENV_FILE="${ONCOTRIAL_PG_ENV_FILE:-${TMPDIR:-/tmp}/oncotrial-pg.env}"

log() { echo "postgres.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# ---------------------------------------------------------------------------- install
if [ -z "$(pg_bindir)" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "PostgreSQL is not installed and there is no sudo; install Debian 'postgresql'"
    SUDO="sudo"
  fi
  log "installing Debian postgresql (apt-get)"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
BIN="$(pg_bindir)" || die "no PostgreSQL binaries under /usr/lib/postgresql/*/bin after install"
VERSION="$(basename "$(dirname "$BIN")")"

# SQL run as the server's superuser, through the function chosen below.
sql_quote() { printf "%s" "$1" | sed "s/'/''/g"; }

ensure_role_and_db() {
  local pass; pass="$(sql_quote "$PGPASS")"
  psql_super -v ON_ERROR_STOP=1 -q -d postgres >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER_NAME') THEN
    CREATE ROLE "$PGUSER_NAME" LOGIN CREATEDB PASSWORD '$pass';
  ELSE
    ALTER ROLE "$PGUSER_NAME" LOGIN CREATEDB PASSWORD '$pass';
  END IF;
END
\$\$;
SQL
  if [ "$(psql_super -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PGDB'")" != "1" ]; then
    psql_super -v ON_ERROR_STOP=1 -q -d postgres -c "CREATE DATABASE \"$PGDB\" OWNER \"$PGUSER_NAME\"" >&2
  fi
}

wait_ready() {
  local port="$1" i
  for i in $(seq 1 60); do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0
    sleep 0.5
  done
  die "server on 127.0.0.1:$port did not become ready in 30 s"
}

if [ "$(id -u)" -eq 0 ]; then
  # --------------------------------------------------------------------- root: Debian cluster
  CLUSTER="$(pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" '$1 == v {print $2; exit}')"
  if [ -z "$CLUSTER" ]; then
    log "creating cluster $VERSION/main"
    pg_createcluster "$VERSION" main >&2
    CLUSTER=main
  fi
  PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $3}')"
  STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')"
  if [ "$STATUS" != "online" ]; then
    log "starting cluster $VERSION/$CLUSTER on port $PORT"
    # Loopback only; enough connections for two app processes with 32 clients each. A conf.d
    # drop-in (Debian's postgresql.conf includes conf.d/) leaves the packaged file untouched.
    CONF_D="/etc/postgresql/$VERSION/$CLUSTER/conf.d"
    mkdir -p "$CONF_D"
    printf "listen_addresses = '127.0.0.1'\nmax_connections = 200\n" >"$CONF_D/oncotrial-tests.conf"
    pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
  fi
  wait_ready "$PORT"
  psql_super() { runuser -u postgres -- "$BIN/psql" -p "$PORT" "$@"; }
else
  # --------------------------------------------------------------------- user: private cluster
  DATA="${ONCOTRIAL_PG_DIR:-$HOME/.cache/oncotrial-pg}"
  PORT="${ONCOTRIAL_PG_PORT:-54329}"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initdb in $DATA"
    mkdir -p "$DATA"
    "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 >&2
  fi
  if ! "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "starting private cluster $DATA on 127.0.0.1:$PORT"
    "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c max_connections=200" \
      start >&2
  fi
  wait_ready "$PORT"
  psql_super() { "$BIN/psql" -h "$DATA" -p "$PORT" -U postgres "$@"; }
fi

ensure_role_and_db

URL="postgresql+psycopg://${PGUSER_NAME}:${PGPASS}@127.0.0.1:${PORT}/${PGDB}"
# Prove the URL works over TCP with the password before handing it out.
PGPASSWORD="$PGPASS" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d "$PGDB" -tAc "SELECT 1" >/dev/null \
  || die "cannot log in as $PGUSER_NAME on 127.0.0.1:$PORT/$PGDB"
printf "export ONCOTRIAL_TEST_PG_URL='%s'\n" "$URL" >"$ENV_FILE"
log "ready: $URL (also in $ENV_FILE)"
echo "$URL"
