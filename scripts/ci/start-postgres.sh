#!/usr/bin/env bash
# Starts a private PostgreSQL 15 for the tests: its own data folder (default .tmp/pg), its own port
# (default 55432), its unix socket inside that folder, trust authentication on loopback only.
# Prints the line to eval: `export HEADSHOT_TEST_DATABASE_URL=postgres://…`. PostgreSQL refuses to
# run as root, so under root the cluster belongs to the `postgres` user (Debian's package creates it).
#
# Usage: eval "$(scripts/ci/start-postgres.sh)"    then scripts/ci/stop-postgres.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PGDIR="${HEADSHOT_PG_DIR:-$PWD/.tmp/pg}"
PGPORT="${HEADSHOT_PG_PORT:-55432}"
BIN="${HEADSHOT_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "start-postgres: no PostgreSQL server found (apt-get install postgresql-15)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$(dirname "$PGDIR")"
if [ ! -f "$PGDIR/PG_VERSION" ]; then
  mkdir -p "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
  chmod 700 "$PGDIR"
  as_owner "$BIN/initdb" -D "$PGDIR" -U headshot --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PGDIR.initdb.log" 2>&1 \
    || { cat "$PGDIR.initdb.log" >&2; exit 1; }
  # Loopback and the private socket only; a test cluster needs no durability.
  cat >>"$PGDIR/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
fi
if ! as_owner "$BIN/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
  as_owner "$BIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -w -t 30 start >/dev/null \
    || { tail -20 "$PGDIR/server.log" >&2; exit 1; }
fi
echo "export HEADSHOT_TEST_DATABASE_URL=postgres://headshot@127.0.0.1:$PGPORT/postgres"
