#!/usr/bin/env bash
# The object-store backends against real servers on 127.0.0.1:
#   S3   Ceph radosgw (Debian packages; validates SigV4 and conditional PUT)
#   ...  each behind the fault proxy too (503s, dropped connections)
# Every server is started here and stopped on exit.  Prints
# "N passed, N failed" over all stores.
#
# Needs: `make` done (the core objects), radosgw/ceph-mon/ceph-osd, node.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/lancedb_storage_it.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -d "$WORK/ceph" ] && test/storage/radosgw.sh stop "$WORK/ceph"
	rm -rf "$WORK"
}
trap cleanup EXIT

CORE_OBJS=$(ls src/core/*.o src/storage/*.o)
gcc -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -D_GNU_SOURCE -Isrc -o "$WORK/storage_it" \
	test/storage/storage_it.c $CORE_OBJS -lcurl -lssl -lcrypto ||
	{ echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
count() {
	local log=$1 line
	line=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
	failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}

start_proxy() {
	local port=$1 target=$2
	node test/storage/fault_proxy.js "$port" "$target" >"$WORK/proxy-$port.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 40); do
		grep -q "fault proxy" "$WORK/proxy-$port.log" && return 0
		sleep 0.1
	done
	echo "fault proxy did not start"
	return 1
}

# --- S3: radosgw ----------------------------------------------------------
S3_KEY=TESTKEY0000000000001
S3_SECRET=testsecret0000000000000000000000000000000
run_s3() {
	local t0 bucket=lance-it prefix
	t0=$(date +%s)
	test/storage/radosgw.sh start "$WORK/ceph" || return 1
	echo "radosgw started in $(($(date +%s) - t0)) s"
	curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_KEY:$S3_SECRET" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT "http://127.0.0.1:7480/$bucket" ||
		{ echo "could not create bucket"; return 1; }
	start_proxy 7481 7480 || return 1
	prefix="run$$"
	local opts=(endpoint=http://127.0.0.1:7480 allow_http=true region=us-east-1
		aws_access_key_id=$S3_KEY aws_secret_access_key=$S3_SECRET)
	STORE_LABEL=s3 SECRET_OPTION=aws_secret_access_key BAD_SECRET=not-the-secret-0123456789 \
		MISSING_BUCKET_URI=s3://no-such-bucket-here/x LIST_PAGINATION=1 ENDPOINT_IS_HTTP=1 \
		FAULT_PROXY=http://127.0.0.1:7481 WRONG_REGION_CASE=1 \
		"$WORK/storage_it" "s3://$bucket/$prefix" "${opts[@]}"
	# virtual-hosted style: bucket.localhost (curl resolves *.localhost to loopback)
	STORE_LABEL=s3-virtual-hosted "$WORK/storage_it" "s3://$bucket/$prefix-vh" \
		"${opts[@]}" endpoint=http://localhost:7480 virtual_hosted_style_request=true -- ranges
}

run_s3 >"$WORK/s3.log" 2>&1
cat "$WORK/s3.log"
count "$WORK/s3.log"
# the virtual-hosted run prints its own count line; count it too
[ "$(grep -Ec '^[0-9]+ passed' "$WORK/s3.log")" -gt 1 ] &&
	{ line=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$WORK/s3.log" | head -1)
	  passed=$((passed + $(echo "$line" | cut -d' ' -f1))); failed=$((failed + $(echo "$line" | cut -d' ' -f3))); }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
