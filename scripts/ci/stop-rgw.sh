#!/usr/bin/env bash
# Stops the cluster start-rgw.sh made (each daemon by its recorded process id; the data was in
# memory, so SIGKILL loses nothing of value) and deletes its folder. Safe to call twice.
#   bash scripts/ci/stop-rgw.sh "$RGW_DIR"
dir=${1:-${RGW_DIR:-}}
if [ -z "$dir" ] || [ ! -f "$dir/pids" ]; then
  echo "stop-rgw: nothing to stop (${dir:-no RGW_DIR})" >&2
  exit 0
fi
pids=$(cat "$dir/pids")
for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
# Wait (up to 5 s) until they are gone, so the ports are free for the next start.
for _ in $(seq 50); do
  alive=
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.1
done
rm -rf "$dir"
