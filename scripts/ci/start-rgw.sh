#!/usr/bin/env bash
# A throwaway S3 endpoint for the tests: Ceph's RADOS Gateway from Debian on one machine (one monitor,
# one OSD keeping its data in memory, the gateway on 127.0.0.1), no authentication inside the
# cluster, one S3 user with random keys. Installs the Debian packages when they are missing.
#
#   eval "$(bash scripts/ci/start-rgw.sh)"   # prints export lines: RGW_DIR and HEADSHOT_TEST_S3_*
#   ...                                      # bun test (the S3 suites use HEADSHOT_TEST_S3_*)
#   bash scripts/ci/stop-rgw.sh "$RGW_DIR"
#
# Settings: RGW_PORT (7480), RGW_MON_PORT (13300), RGW_MEM_BYTES (1 GiB, the OSD's memory cap).
# Everything it logs goes to stderr; stdout carries only the export lines.
set -euo pipefail
port=${RGW_PORT:-7480}
mon_port=${RGW_MON_PORT:-13300}
say() { echo "[start-rgw $(date +%T)] $*" >&2; }
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
access_key=$(random_hex 10 | tr a-f A-F)
secret_key=$(random_hex 20)

missing=
for tool in radosgw ceph-mon ceph-osd ceph-authtool monmaptool radosgw-admin curl; do
  command -v "$tool" >/dev/null || missing=1
done
if [ -n "$missing" ]; then
  say "installing Ceph from Debian (about 30 s)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    radosgw ceph-mon ceph-osd ceph-common curl >&2 || {
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      radosgw ceph-mon ceph-osd ceph-common curl >&2
  }
fi

for p in "$port" "$mon_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then say "port $p is taken (set RGW_PORT / RGW_MON_PORT)"; exit 1; fi
done

dir=$(mktemp -d -t headshot-rgw.XXXXXX)
mkdir -p "$dir"/{run,log,mon,osd,rgw}
: >"$dir/pids"
export CEPH_CONF=$dir/ceph.conf
fsid=$(cat /proc/sys/kernel/random/uuid)
# - auth none inside the cluster; the monitor then still needs `ms mon client mode = crc`, or the
#   gateway never logs in to it;
# - a short paxos interval: the cluster is ready in ~2.5 s instead of ~13 s;
# - tcp_nodelay on the gateway's frontend: without it each small GET waits ~40 ms for Nagle.
cat >"$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
paxos propose interval = 0.05
mon data avail crit = 0
mon allow pool size one = true
mon max pg per osd = 1000
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = $dir/keyring
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = ${RGW_MEM_BYTES:-1073741824}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
[client.rgw.ci]
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
CONF

started=0
# On any failure: kill what was started (by recorded process id) and keep the logs for a look.
trap '[ "$started" = 1 ] || { say "failed; logs in $dir/log"; while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/pids"; }' EXIT

# Runs a daemon in the foreground of a background job and records its process id.
daemon() {
  local name=$1
  shift
  "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo $! >>"$dir/pids"
  say "$name started (pid $!)"
}
# Polls a command every 0.2 s for up to N seconds.
await() {
  local seconds=$1 what=$2
  shift 2
  for ((i = 0; i < seconds * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  say "no $what after ${seconds}s"
  tail -n 5 "$dir"/log/*.out >&2 || true
  exit 1
}

ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" >"$dir/log/mkfs.out" 2>&1
daemon mon ceph-mon -f -i a
await 30 monitor timeout 5 ceph mon stat

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
osd_id=$(ceph osd new "$osd_uuid")
mkdir -p "$dir/osd/ceph-$osd_id"
ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >>"$dir/log/mkfs.out" 2>&1
daemon osd ceph-osd -f -i "$osd_id"
await 60 "OSD up" bash -c "ceph osd dump | grep -q '^osd.$osd_id up'"

daemon rgw radosgw -f -n client.rgw.ci
await 120 gateway curl -sf "http://127.0.0.1:$port/"
radosgw-admin user create --uid=headshot-ci --display-name=headshot-ci \
  --access-key="$access_key" --secret-key="$secret_key" >"$dir/log/user.out"
started=1
say "ready on http://127.0.0.1:$port (state in $dir)"
tee "$dir/env" <<ENV
export RGW_DIR='$dir'
export HEADSHOT_TEST_S3_ENDPOINT='http://127.0.0.1:$port' HEADSHOT_TEST_S3_REGION='us-east-1'
export HEADSHOT_TEST_S3_ACCESS_KEY_ID='$access_key' HEADSHOT_TEST_S3_SECRET_ACCESS_KEY='$secret_key'
ENV
