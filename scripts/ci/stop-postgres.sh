#!/usr/bin/env bash
# Stops the private PostgreSQL that start-postgres.sh started (same folder); its data stays for the
# next run (delete .tmp/pg to start afresh).
set -uo pipefail
cd "$(dirname "$0")/../.."
PGDIR="${HEADSHOT_PG_DIR:-$PWD/.tmp/pg}"
BIN="${HEADSHOT_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -f "$PGDIR/postmaster.pid" ] || exit 0
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- "$BIN/pg_ctl" -D "$PGDIR" -m fast -w stop >/dev/null
else
  "$BIN/pg_ctl" -D "$PGDIR" -m fast -w stop >/dev/null
fi
