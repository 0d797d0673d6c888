#!/usr/bin/env bash
# Object-store read benchmarks against radosgw on 127.0.0.1 (started and
# stopped here), each compared with the same bytes on local disk:
#   bench_storage      raw storage_read_many throughput, requests per page
#   bench_lance_scan   a full scan of a 1M-row LanceDB-made dataset
#                      through the core reader: rows/s, bytes, requests
# Needs `make` done, the radosgw packages and LanceDB installed in
# test/interop/.lancedb (scripts/test.sh or test/storage/run.sh does that).
#   bench/storage/run.sh [ROWS]     (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
WORK=$(mktemp -d /tmp/lancedb_bench_storage.XXXXXX)
trap 'test/storage/radosgw.sh stop "$WORK/ceph"; rm -rf "$WORK"' EXIT
CFLAGS=(-O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
	-D_GNU_SOURCE -Isrc -Isrc/lance/proto)
LIBS=(-lcurl -lssl -lcrypto -lzstd -llz4 -lprotobuf-c -lroaring -lm)
CORE=(src/core/*.o src/storage/*.o src/lance/*.o src/lance/proto/*.o)
gcc "${CFLAGS[@]}" -o bench/storage/bench_storage bench/storage/bench_storage.c "${CORE[@]}" "${LIBS[@]}"
gcc "${CFLAGS[@]}" -o bench/storage/bench_lance_scan bench/storage/bench_lance_scan.c "${CORE[@]}" "${LIBS[@]}"
gcc "${CFLAGS[@]}" -o "$WORK/lance_over_store" test/storage/lance_over_store.c "${CORE[@]}" "${LIBS[@]}"

test/storage/radosgw.sh start "$WORK/ceph"
KEY=TESTKEY0000000000001
SECRET=testsecret0000000000000000000000000000000
curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$KEY:$SECRET" \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT http://127.0.0.1:7480/bench
S3=(endpoint=http://127.0.0.1:7480 allow_http=true aws_access_key_id=$KEY aws_secret_access_key=$SECRET)
mkdir -p "$WORK/local"

echo "== bench_storage"
bench/storage/bench_storage "$WORK/local" s3://bench/raw "${S3[@]}"

echo
echo "== bench_lance_scan"
cp test/storage/lancedb_store.mjs test/interop/.lancedb/
node test/interop/.lancedb/lancedb_store.mjs bench "$WORK/local" t "$ROWS" >/dev/null 2>&1
"$WORK/lance_over_store" copy "$WORK/local" s3://bench/lance t "${S3[@]}"
bench/storage/bench_lance_scan "$WORK/local" s3://bench/lance t "${S3[@]}"
