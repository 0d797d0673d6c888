#!/usr/bin/env bash
# Start radosgw on 127.0.0.1, run bench_storage against it and a local
# directory, stop radosgw.  Needs `make` done and the radosgw packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d /tmp/lancedb_bench_storage.XXXXXX)
trap 'test/storage/radosgw.sh stop "$WORK/ceph"; rm -rf "$WORK"' EXIT
gcc -O2 -Wall -Wextra -Werror -Wno-missing-field-initializers -D_GNU_SOURCE -Isrc \
	-o bench/storage/bench_storage bench/storage/bench_storage.c src/core/*.o src/storage/*.o \
	-lcurl -lssl -lcrypto
test/storage/radosgw.sh start "$WORK/ceph"
KEY=TESTKEY0000000000001
SECRET=testsecret0000000000000000000000000000000
curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$KEY:$SECRET" \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X PUT http://127.0.0.1:7480/bench
mkdir -p "$WORK/local"
bench/storage/bench_storage "$WORK/local" s3://bench/run endpoint=http://127.0.0.1:7480 \
	allow_http=true aws_access_key_id=$KEY aws_secret_access_key=$SECRET "$@"
