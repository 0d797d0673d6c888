#!/usr/bin/env bash
# The object-store backends against servers on 127.0.0.1 (README.md here):
#   S3     Ceph radosgw (Debian packages; validates SigV4 and conditional PUT)
#   Azure  Azurite from npm (validates SharedKey and SAS)
#   GCS    gcs_mock.js (validates RS256 JWTs and SigV4 HMAC as GCS does)
# each also behind the fault proxy (503s, dropped connections), and for each
# store the interop check with the real LanceDB: a table LanceDB writes into
# the store is read by the core reader over that store, and a LanceDB-made
# dataset uploaded by our backend is read back by LanceDB from the store;
# then Lance foreign tables in a throwaway cluster read, write and fail
# against each store as a user would set them up (fdw_store.sh).
# Every server is started here and stopped on exit.  Prints
# "N passed, N failed" over everything.
#
# Needs: `make` and `make install` done (the core objects, the extension
# for the pg_config first on PATH), radosgw/ceph-mon/ceph-osd, node,
# openssl; LanceDB is installed into test/interop/.lancedb as
# scripts/test.sh does (LANCEDB_SHARED points at the shared folder).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/lancedb_storage_it.XXXXXX)
jobs_running=()
. scripts/cluster.sh

# The stores run as parallel jobs, so the servers and proxies they start
# are not this shell's children: each start notes its pid here (track),
# and cleanup stops them and waits until their ports are free.
track() {
	echo "$1" >>"$WORK/pids"
}

# timed LABEL COMMAND...: runs it and says how long it took (the README
# quotes these; CI's budget for this layer is a few minutes)
timed() {
	local label=$1 t0 status
	shift
	t0=$(date +%s)
	"$@"
	status=$?
	echo "$label: $(($(date +%s) - t0)) s"
	return $status
}

cleanup() {
	local p _
	for p in "${jobs_running[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -f "$WORK/pids" ] && while read -r p; do
		kill "$p" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
	done <"$WORK/pids"
	[ -d "$WORK/ceph" ] && test/storage/radosgw.sh stop "$WORK/ceph"
	cluster_stop
	rm -rf "$WORK"
}
trap cleanup EXIT

CFLAGS=(-O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
	-D_GNU_SOURCE -Isrc -Isrc/lance/proto)
gcc "${CFLAGS[@]}" -o "$WORK/storage_it" test/storage/storage_it.c src/core/*.o src/storage/*.o \
	-lcurl -lssl -lcrypto &&
	gcc "${CFLAGS[@]}" -o "$WORK/lance_over_store" test/storage/lance_over_store.c src/core/*.o \
		src/storage/*.o src/lance/*.o src/lance/proto/*.o src/kernels/*.o \
		-lcurl -lssl -lcrypto -lzstd -llz4 -lprotobuf-c -lroaring -lopenblas -lpthread -lm ||
	{ echo "0 passed, 1 failed"; exit 1; }

# LanceDB, pinned in the shared folder, installed where scripts/test.sh puts it
SHARED=${LANCEDB_SHARED:-$ROOT/../shared}
LDB=test/interop/.lancedb
if [ ! -d "$LDB/node_modules/@lancedb/lancedb" ]; then
	mkdir -p "$LDB" && cp "$SHARED/interop/package.json" "$LDB/" &&
		(cd "$LDB" && npm install --no-audit --no-fund --silent >/dev/null 2>&1) ||
		{ echo "could not install LanceDB"; echo "0 passed, 1 failed"; exit 1; }
fi
cp test/storage/lancedb_store.mjs "$LDB/"
export LDB WORK

# the foreign tables' cluster (fdw_store.sh)
cluster_start || { echo "0 passed, 1 failed"; exit 1; }
export SERVER_LOG=$CLUSTER_DIR/server.log
node "$LDB/lancedb_store.mjs" write "$WORK/local" t '{}' >/dev/null 2>"$WORK/local.log" &&
	LOCAL_SUM=$(node "$LDB/lancedb_store.mjs" sum "$WORK/local" t '{}' 2>/dev/null) ||
	{ cat "$WORK/local.log"; echo "0 passed, 1 failed"; exit 1; }

# interop LABEL URI LANCEDB_OPTIONS_JSON [our key=value ...]
interop() {
	local label=$1 uri=$2 ldb_opts=$3 p=0 f=0 theirs ours
	shift 3
	if node "$LDB/lancedb_store.mjs" write "$uri/written" t "$ldb_opts" >"$WORK/ldb-$label.log" 2>&1 &&
		theirs=$(node "$LDB/lancedb_store.mjs" sum "$uri/written" t "$ldb_opts" 2>>"$WORK/ldb-$label.log") &&
		ours=$("$WORK/lance_over_store" sum "$uri/written" t "$@" | head -1) &&
		[ "$ours" = "$theirs" ]; then
		echo "ok   $label: lancedb_writes_into_the_store_and_the_core_reads_it"
		p=$((p + 1))
	else
		tail -5 "$WORK/ldb-$label.log"
		echo "    LanceDB: ${theirs:-?}  core: ${ours:-?}"
		echo "FAIL $label: lancedb_writes_into_the_store_and_the_core_reads_it"
		f=$((f + 1))
	fi
	theirs=""
	if "$WORK/lance_over_store" copy "$WORK/local" "$uri/uploaded" t "$@" &&
		theirs=$(node "$LDB/lancedb_store.mjs" sum "$uri/uploaded" t "$ldb_opts" 2>"$WORK/ldb-$label.log") &&
		[ "$theirs" = "$LOCAL_SUM" ]; then
		echo "ok   $label: our_upload_of_a_lancedb_dataset_reads_back_in_lancedb"
		p=$((p + 1))
	else
		tail -5 "$WORK/ldb-$label.log"
		echo "    LanceDB from the store: ${theirs:-?}  locally: $LOCAL_SUM"
		echo "FAIL $label: our_upload_of_a_lancedb_dataset_reads_back_in_lancedb"
		f=$((f + 1))
	fi
	echo "$p passed, $f failed"
}

# The read interop suite of local disk (test/interop/compare_fdw.mjs:
# LanceDB fixtures at every version, value by value) with the fixtures
# uploaded into a store: compare_fixtures URI SERVER_JSON SECRETS_JSON
# [our key=value ...].  To keep CI short it takes the fixtures that cover
# every type in each file version, deletions and schema evolution, or the
# names in PICKS; STORE_FIXTURES="all" (or a list of names) overrides both.  Needs
# scripts/test.sh's LANCEDB_FIXTURES and LANCEDB_REF; skipped without them.
compare_fixtures() {
	local uri=$1 settings=$2 secrets=$3 picked name
	shift 3
	if [ -z "${LANCEDB_FIXTURES:-}" ] || [ -z "${LANCEDB_REF:-}" ]; then
		echo "(no LanceDB fixtures: the read interop suite over the store is skipped)"
		return 0
	fi
	picked=$(mktemp -d "$WORK/fixtures.XXXXXX")
	for name in ${STORE_FIXTURES:-${PICKS:-types_v2_0 types_v2_1 types_v2_2 deletes_bitmap evolved}}; do
		[ "$name" = all ] && name='*'
		ln -sf "$LANCEDB_FIXTURES"/$name.lance "$picked/"
	done
	for name in "$picked"/*.lance; do
		"$WORK/lance_over_store" copy "$picked" "$uri" "$(basename "$name" .lance)" "$@" ||
			{ echo "could not upload $name"; echo "0 passed, 1 failed"; return 1; }
	done
	LANCE_STORE_URI=$uri LANCE_STORE_OPTIONS=$settings LANCE_STORE_SECRETS=$secrets \
		node test/interop/compare_fdw.mjs "$LANCEDB_REF/lancedb_ref.mjs" "$picked"
}

# The write interop suite of local disk (test/interop/write_interop.mjs)
# with its datasets in a store: write_suite URI SERVER_JSON SECRETS_JSON
# LANCEDB_JSON [our key=value ...].  The suite takes two LanceDB-made tables
# there (uploaded here) and skips its 100k-row COPY, to keep CI short.
write_suite() {
	local uri=$1 settings=$2 secrets=$3 ldb=$4 picked name
	shift 4
	if [ -z "${LANCEDB_FIXTURES:-}" ] || [ -z "${LANCEDB_REF:-}" ]; then
		echo "(no LanceDB fixtures: the write interop suite over the store is skipped)"
		return 0
	fi
	picked=$(mktemp -d "$WORK/write.XXXXXX")
	for name in scalars_50k_v2_0 vectors_small_v2_0; do
		ln -sf "$LANCEDB_FIXTURES/$name.lance" "$picked/"
		"$WORK/lance_over_store" copy "$picked" "$uri" "$name" "$@" ||
			{ echo "could not upload $name"; echo "0 passed, 1 failed"; return 1; }
	done
	LANCE_STORE_URI=$uri LANCE_STORE_OPTIONS=$settings LANCE_STORE_SECRETS=$secrets \
		LANCE_STORE_LANCEDB_OPTIONS=$ldb \
		node test/interop/write_interop.mjs "$LANCEDB_REF" "$picked" "$WORK"
}

# Azure and GCS read a smaller set than radosgw: the formats are the same
# bytes in every store, and what differs per store (ranged reads, listings,
# deletion files, several files per fragment) each of these still reaches.
OTHER_STORES_FIXTURES="types_v2_2 deletes_bitmap evolved"

passed=0
failed=0
start_proxy() {
	local port=$1 target=$2
	node test/storage/fault_proxy.js "$port" "$target" >"$WORK/proxy-$port.log" 2>&1 &
	track $!
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
	# the same as JSON: server settings, user-mapping secrets, LanceDB's options
	local settings_json="{\"endpoint\":\"http://127.0.0.1:7480\",\"allow_http\":\"true\",\"region\":\"us-east-1\"}"
	local secrets_json="{\"aws_access_key_id\":\"$S3_KEY\",\"aws_secret_access_key\":\"$S3_SECRET\"}"
	local ldb_json="{\"aws_access_key_id\":\"$S3_KEY\",\"aws_secret_access_key\":\"$S3_SECRET\",\"aws_endpoint\":\"http://127.0.0.1:7480\",\"aws_region\":\"us-east-1\",\"allow_http\":\"true\"}"
	STORE_LABEL=s3 SECRET_OPTION=aws_secret_access_key BAD_SECRET=not-the-secret-0123456789 \
		MISSING_BUCKET_URI=s3://no-such-bucket-here/x ENDPOINT_IS_HTTP=1 \
		FAULT_PROXY=http://127.0.0.1:7481 WRONG_REGION_CASE=1 \
		"$WORK/storage_it" "s3://$bucket/$prefix" "${opts[@]}"
	# virtual-hosted style: bucket.localhost (curl resolves *.localhost to loopback)
	STORE_LABEL=s3-virtual-hosted "$WORK/storage_it" "s3://$bucket/$prefix-vh" \
		"${opts[@]}" endpoint=http://localhost:7480 virtual_hosted_style_request=true -- ranges
	interop s3-lancedb "s3://$bucket/$prefix-interop" "$ldb_json" "${opts[@]}"
	timed "s3 read interop suite" compare_fixtures "s3://$bucket/$prefix-fixtures" \
		"$settings_json" "$secrets_json" "${opts[@]}"
	timed "s3 write interop suite" write_suite "s3://$bucket/$prefix-writes" "$settings_json" \
		"$secrets_json" "$ldb_json" "${opts[@]}"
	BAD_SECRET=not-the-secret-0123456789 timed "s3 fdw_store.sh" \
		test/storage/fdw_store.sh s3 "s3://$bucket/$prefix-fdw" "$ldb_json" 7482 7480 http://127.0.0.1:7482 endpoint=http://127.0.0.1:7480 allow_http=true \
		region=us-east-1 -- aws_access_key_id=$S3_KEY aws_secret_access_key=$S3_SECRET
}

# --- Azure: Azurite (npm, in a git-ignored node_modules here) -------------
# The emulator's well-known account key (published in Azurite's docs).
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZ_ENDPOINT=http://127.0.0.1:10000/devstoreaccount1
run_azure() {
	local t0 sas bad_sas
	(cd test/storage && npm install --no-audit --no-fund --silent >/dev/null 2>&1) ||
		{ echo "could not install Azurite"; return 1; }
	t0=$(date +%s)
	test/storage/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort 10000 \
		--inMemoryPersistence --disableTelemetry --silent >"$WORK/azurite.log" 2>&1 &
	track $!
	for _ in $(seq 1 240); do
		curl -s -o /dev/null http://127.0.0.1:10000/ && break
		sleep 0.25
	done
	echo "Azurite started in $(($(date +%s) - t0)) s"
	node test/storage/azure_setup.js container "$AZ_ENDPOINT" devstoreaccount1 "$AZ_KEY" lance-it ||
		{ echo "could not create container"; return 1; }
	start_proxy 10001 10000 || return 1
	local opts=(endpoint=$AZ_ENDPOINT allow_http=true account_name=devstoreaccount1)
	STORE_LABEL=azure SECRET_OPTION=azure_storage_account_key MULTIPART_REQUESTS=4 \
		BAD_SECRET=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
		MISSING_BUCKET_URI=az://no-such-container/x ENDPOINT_IS_HTTP=1 \
		FAULT_PROXY=http://127.0.0.1:10001/devstoreaccount1 \
		"$WORK/storage_it" "az://lance-it/run$$" "${opts[@]}" "azure_storage_account_key=$AZ_KEY"
	sas=$(node test/storage/azure_setup.js sas devstoreaccount1 "$AZ_KEY")
	bad_sas=$(echo "$sas" | sed 's/sig=[^&]*/sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D/')
	STORE_LABEL=azure-sas SECRET_OPTION=sas_token BAD_SECRET="$bad_sas" MULTIPART_REQUESTS=4 \
		"$WORK/storage_it" "az://lance-it/sas$$" "${opts[@]}" "sas_token=$sas"
	# the same as JSON: server settings, user-mapping secrets, LanceDB's
	# options (use_emulator points object_store at Azurite's address)
	local settings_json="{\"endpoint\":\"$AZ_ENDPOINT\",\"allow_http\":\"true\",\"account_name\":\"devstoreaccount1\"}"
	local secrets_json="{\"azure_storage_account_key\":\"$AZ_KEY\"}"
	local ldb_json="{\"account_name\":\"devstoreaccount1\",\"account_key\":\"$AZ_KEY\",\"use_emulator\":\"true\",\"allow_http\":\"true\"}"
	interop azure-lancedb "az://lance-it/interop$$" "$ldb_json" "${opts[@]}" "azure_storage_account_key=$AZ_KEY"
	PICKS=$OTHER_STORES_FIXTURES timed "azure read interop suite" compare_fixtures \
		"az://lance-it/fixtures$$" "$settings_json" "$secrets_json" \
		"${opts[@]}" "azure_storage_account_key=$AZ_KEY"
	timed "azure write interop suite" write_suite "az://lance-it/writes$$" "$settings_json" \
		"$secrets_json" "$ldb_json" "${opts[@]}" "azure_storage_account_key=$AZ_KEY"
	BAD_SECRET=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
		timed "azure fdw_store.sh" test/storage/fdw_store.sh azure "az://lance-it/fdw$$" "$ldb_json" \
		10002 10000 http://127.0.0.1:10002/devstoreaccount1 "${opts[@]}" -- \
		"azure_storage_account_key=$AZ_KEY"
}

# --- GCS: the XML-API mock in this folder (no emulator installs here) ------
run_gcs() {
	local k="$WORK/gcs"
	mkdir -p "$k"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/key.pem" 2>/dev/null &&
		openssl pkey -in "$k/key.pem" -pubout -out "$k/pub.pem" &&
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/other.pem" 2>/dev/null ||
		{ echo "could not make RSA keys"; return 1; }
	local email=tester@lance-it.iam.gserviceaccount.com
	# a service-account key file; gcs_base_url points object_store at the mock
	sa_json() {
		node -e 'const fs=require("fs");console.log(JSON.stringify({type:"service_account",
			project_id:"lance-it",private_key_id:"k1",private_key:fs.readFileSync(process.argv[1],"utf8"),
			client_email:process.argv[2],gcs_base_url:"http://127.0.0.1:4443"}))' "$1" "$email"
	}
	node test/storage/gcs_mock.js 4443 "$k/pub.pem" "$email" GOOG1TESTHMACID gcs-hmac-secret-0001 7 \
		ASIATEMPORARYKEY0001 temporary-secret-0001 session-token-0001 \
		>"$WORK/gcs-mock.log" 2>&1 &
	track $!
	for _ in $(seq 1 40); do
		grep -q "gcs mock" "$WORK/gcs-mock.log" && break
		sleep 0.1
	done
	start_proxy 4444 4443 || return 1
	local opts=(endpoint=http://127.0.0.1:4443 allow_http=true)
	STORE_LABEL=gcs-jwt SECRET_OPTION=google_service_account_key BAD_SECRET="$(sa_json "$k/other.pem")" \
		MISSING_BUCKET_URI=gs://no-such-bucket/x \
		FAULT_PROXY=http://127.0.0.1:4444 ENDPOINT_IS_HTTP=1 \
		"$WORK/storage_it" "gs://lance-it/jwt$$" "${opts[@]}" \
		"google_service_account_key=$(sa_json "$k/key.pem")"
	STORE_LABEL=gcs-hmac SECRET_OPTION=google_hmac_secret BAD_SECRET=not-the-hmac-secret \
		"$WORK/storage_it" "gs://lance-it/hmac$$" "${opts[@]}" \
		google_hmac_access_id=GOOG1TESTHMACID google_hmac_secret=gcs-hmac-secret-0001
	# AWS temporary credentials: the S3 backend signing for the mock, which
	# (unlike radosgw) checks the session token
	STORE_LABEL=s3-session-token SECRET_OPTION=aws_session_token BAD_SECRET=not-the-token \
		"$WORK/storage_it" "s3://lance-it/sts$$" "${opts[@]}" aws_access_key_id=ASIATEMPORARYKEY0001 \
		aws_secret_access_key=temporary-secret-0001 aws_session_token=session-token-0001
	local sa ldb_json secrets_json
	sa=$(sa_json "$k/key.pem")
	# LanceDB's options and the user mapping's secrets as JSON; the
	# server's settings are the endpoint and allow_http
	ldb_json=$(node -e 'console.log(JSON.stringify({google_service_account_key:process.argv[1],allow_http:"true"}))' "$sa")
	secrets_json=$(node -e 'console.log(JSON.stringify({google_service_account_key:process.argv[1]}))' "$sa")
	local settings_json='{"endpoint":"http://127.0.0.1:4443","allow_http":"true"}'
	interop gcs-lancedb "gs://lance-it/interop$$" "$ldb_json" allow_http=true "google_service_account_key=$sa"
	PICKS=$OTHER_STORES_FIXTURES timed "gcs read interop suite" compare_fixtures \
		"gs://lance-it/fixtures$$" "$settings_json" "$secrets_json" \
		"${opts[@]}" "google_service_account_key=$sa"
	timed "gcs write interop suite" write_suite "gs://lance-it/writes$$" "$settings_json" \
		"$secrets_json" "$ldb_json" "${opts[@]}" "google_service_account_key=$sa"
	BAD_SECRET="$(sa_json "$k/other.pem")" timed "gcs fdw_store.sh" \
		test/storage/fdw_store.sh gcs "gs://lance-it/fdw$$" "$ldb_json" 4445 4443 http://127.0.0.1:4445 "${opts[@]}" -- "google_service_account_key=$sa"
}

# The stores run side by side, each in a database of its own (the suites
# name their schemas and servers alike); most of their time is spent
# waiting on servers and LanceDB, not on this machine's cores.
# STORES="s3" runs one store only (a quicker loop while developing).
[ -n "${LANCEDB_FIXTURES:-}" ] &&
	(cd test/interop && npm install --no-audit --no-fund --silent >/dev/null 2>&1)
stores=(${STORES:-s3 azure gcs})
for store in "${stores[@]}"; do
	createdb "store_$store" || { echo "0 passed, 1 failed"; exit 1; }
	PGDATABASE=store_$store timed "$store" "run_$store" >"$WORK/$store.log" 2>&1 &
	jobs_running+=($!)
done
for i in "${!stores[@]}"; do
	store=${stores[$i]}
	wait "${jobs_running[$i]}"
	status=$?
	cat "$WORK/$store.log"
	# each storage_it run prints its own count line; add them all
	lines=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$WORK/$store.log")
	if [ -z "$lines" ] || { [ "$status" -ne 0 ] && ! echo "$lines" | grep -qv ' 0 failed'; }; then
		[ "$status" -ne 0 ] && failed=$((failed + 1))
	fi
	while read -r p _ f _; do
		[ -n "$p" ] || continue
		passed=$((passed + p))
		failed=$((failed + f))
	done <<<"$lines"
done
jobs_running=()

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
