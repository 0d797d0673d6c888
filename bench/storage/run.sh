#!/usr/bin/env bash
# Object-store read benchmarks against radosgw on 127.0.0.1 (started and
# stopped here), each compared with the same bytes on local disk:
#   bench_storage      raw storage_read_many throughput, requests per page
#   bench_lance_scan   a full scan of a 1M-row LanceDB-made dataset
#                      through the core reader: rows/s, bytes, requests
#   foreign tables     the same scan as SQL (SELECT count(*), sum(id),
#                      sum(score)) through a Lance foreign table on local
#                      disk and one on radosgw, in a throwaway cluster
# Needs `make` and `make install` done (the extension for the pg_config
# first on PATH), the radosgw packages and LanceDB installed in
# test/interop/.lancedb (scripts/test.sh or test/storage/run.sh does that).
#   bench/storage/run.sh [ROWS]     (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
WORK=$(mktemp -d /tmp/lancedb_bench_storage.XXXXXX)
. scripts/cluster.sh
trap 'cluster_stop; test/storage/radosgw.sh stop "$WORK/ceph"; rm -rf "$WORK"' EXIT
CFLAGS=(-O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
	-D_GNU_SOURCE -Isrc -Isrc/lance/proto)
LIBS=(-lcurl -lssl -lcrypto -lzstd -llz4 -lprotobuf-c -lroaring -lopenblas -lpthread -lm)
CORE=(src/core/*.o src/storage/*.o src/lance/*.o src/lance/proto/*.o src/kernels/*.o)
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

echo
echo "== foreign tables: SELECT count(*), sum(id), sum(score), best of 3"
# the server process reads the local copy as its own user
chmod 755 "$WORK" && chmod -R a+rX "$WORK/local"
cluster_start
psql -X -q <<EOF
CREATE EXTENSION lancedb_fdw;
CREATE SERVER local FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$WORK/local');
CREATE SERVER rgw FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri 's3://bench/lance', endpoint 'http://127.0.0.1:7480', allow_http 'true');
CREATE USER MAPPING FOR CURRENT_USER SERVER rgw
	OPTIONS (aws_access_key_id '$KEY', aws_secret_access_key '$SECRET');
CREATE FOREIGN TABLE t_local (id bigint, name text, score float8) SERVER local OPTIONS (table 't');
CREATE FOREIGN TABLE t_rgw (id bigint, name text, score float8) SERVER rgw OPTIONS (table 't');
EOF
for table in t_local t_rgw; do
	best=""
	for _ in 1 2 3; do
		ms=$(printf '\\timing on\nSELECT count(*), sum(id), sum(score) FROM %s;\n' "$table" |
			psql -X -q -A -t | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
		if [ -z "$best" ] || awk -v a="$ms" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$ms
		fi
	done
	awk -v t="$table" -v ms="$best" -v n="$ROWS" \
		'BEGIN { printf "%-8s %10.1f ms %12.0f rows/s\n", t, ms, n / (ms / 1000) }'
done
