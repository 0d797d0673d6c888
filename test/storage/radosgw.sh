#!/usr/bin/env bash
# Start or stop a one-node Ceph (mon + memstore OSD) with radosgw on
# 127.0.0.1:7480, everything under one scratch directory.
#
#   radosgw.sh start DIR    start, create the test user, print nothing on success
#   radosgw.sh stop DIR     stop the daemons (radosgw first) and remove DIR
#
# Facts from ../shared/object-stores.md: --no-mon-config is required for the
# OSD's mkfs, and radosgw can hang on SIGTERM once the mon is gone, so it is
# stopped first and killed if it does not exit.
set -euo pipefail

cmd=$1
D=$2
CONF=$D/ceph.conf
S3_ACCESS_KEY=${S3_ACCESS_KEY:-TESTKEY0000000000001}
S3_SECRET_KEY=${S3_SECRET_KEY:-testsecret0000000000000000000000000000000}
PORT=${RGW_PORT:-7480}

stop_daemon() {
	local pidfile=$1 pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 40); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null || true
}

if [ "$cmd" = stop ]; then
	stop_daemon "$D/run/ceph-client.rgw.a.pid"
	stop_daemon "$D/run/ceph-osd.0.pid"
	stop_daemon "$D/run/ceph-mon.a.pid"
	rm -rf "$D"
	exit 0
fi

mkdir -p "$D"/{mon,osd,run,log,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:6789
public network = 127.0.0.0/8
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $D/\$cluster.\$name.keyring
run dir = $D/run
admin socket = $D/run/\$cluster-\$name.asok
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = localhost
CONF
{
	ceph-authtool --create-keyring "$D/ceph.mon.a.keyring" --gen-key -n mon. --cap mon 'allow *'
	ceph-authtool --create-keyring "$D/ceph.client.admin.keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *'
	ceph-authtool "$D/ceph.mon.a.keyring" --import-keyring "$D/ceph.client.admin.keyring"
	monmaptool --create --add a v1:127.0.0.1:6789 --fsid "$FSID" "$D/monmap"
	ceph-mon -c "$CONF" --mkfs -i a --monmap "$D/monmap" --keyring "$D/ceph.mon.a.keyring"
	ceph-mon -c "$CONF" -i a
	OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
	ID=$(ceph -c "$CONF" osd new "$OSD_UUID")
	ceph-osd -c "$CONF" -i "$ID" --mkfs --mkkey --osd-uuid "$OSD_UUID" --no-mon-config
	ceph -c "$CONF" auth add "osd.$ID" osd 'allow *' mon 'allow profile osd' -i "$D/ceph.osd.$ID.keyring"
	ceph-osd -c "$CONF" -i "$ID"
	ceph -c "$CONF" auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' >"$D/ceph.client.rgw.a.keyring"
	radosgw -c "$CONF" -n client.rgw.a
} >"$D/log/setup.log" 2>&1 || { cat "$D/log/setup.log"; exit 1; }
for i in $(seq 1 240); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
	sleep 0.25
done
radosgw-admin -c "$CONF" user create --uid=tester --display-name=Tester \
	--access-key="$S3_ACCESS_KEY" --secret="$S3_SECRET_KEY" >>"$D/log/setup.log" 2>&1 ||
	{ cat "$D/log/setup.log"; exit 1; }
