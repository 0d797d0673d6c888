#!/usr/bin/env bash
# Lance foreign tables over one object store, against the real LanceDB.
#
#   fdw_store.sh LABEL DB_URI LANCEDB_OPTIONS_JSON PROXY_PORT TARGET_PORT \
#                PROXY_ENDPOINT SETTING=VALUE ... -- SECRET=VALUE ...
#
# DB_URI is a fresh prefix in the store (s3://bucket/prefix, ...); the
# settings go on the SERVER, the credentials into a USER MAPPING, exactly as
# a user would paste LanceDB's storage_options.  A fault proxy on
# PROXY_PORT (forwarding to TARGET_PORT; PROXY_ENDPOINT is the endpoint
# option that reaches the store through it) leaves data-file requests
# unanswered, then disappears.  Needs a running cluster with the extension installed
# (PGHOST, ...), LanceDB in $LDB with lancedb_store.mjs next to it, and a
# scratch folder $WORK; SERVER_LOG, if set, is the server's log, checked
# for credentials too.  Prints one ok/FAIL line per test and
# "N passed, N failed".
set -uo pipefail
label=$1 uri=$2 ldb_opts=$3 proxy_port=$4 target_port=$5 proxy_endpoint=$6
shift 6
settings=()
secrets=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	settings+=("$1")
	shift
done
[ $# -gt 0 ] && shift
secrets=("$@")
out=$WORK/fdw-$label
mkdir -p "$out"
passed=0
failed=0

check() {
	if [ "$2" = 0 ]; then
		echo "ok   $label: $1"
		passed=$((passed + 1))
	else
		echo "FAIL $label: $1"
		failed=$((failed + 1))
	fi
}

# key=value ... as a SQL option list, values quoted as literals
option_list() {
	local sep="" kv v
	for kv in "$@"; do
		v=${kv#*=}
		printf "%s%s '%s'" "$sep" "${kv%%=*}" "${v//\'/\'\'}"
		sep=", "
	done
}

# run SQL from stdin (so credentials never reach a command line); stdout
# and stderr together, unaligned, no headers; killed after LIMIT seconds
# (120 by default) so that a hang fails the test instead of the run
sql() {
	timeout "${LIMIT:-120}" psql -X -q -A -t -v ON_ERROR_STOP=0 "$@" 2>&1
}

ldb() {
	node "$LDB/lancedb_store.mjs" "$1" "$2" t "$ldb_opts"
}

# every secret value, to make sure no output carries one
secret_values=()
for kv in "${secrets[@]}"; do
	secret_values+=("${kv#*=}")
done
no_secret_in() {
	local v
	for v in "${secret_values[@]}"; do
		# the longest line of a multi-line value (a PEM key) is enough
		v=$(printf '%s\n' "$v" | awk '{ if (length($0) > length(m)) m = $0 } END { print m }')
		grep -qF -- "$v" "$1" && return 1
	done
	return 0
}

if ! ldb write "$uri/db" >"$out/ldb.log" 2>&1; then
	cat "$out/ldb.log"
	echo "0 passed, 1 failed"
	exit 1
fi

sql >"$out/setup.log" <<EOF
CREATE EXTENSION IF NOT EXISTS lancedb_fdw;
DROP SCHEMA IF EXISTS $label CASCADE;
DROP SERVER IF EXISTS ${label}_srv CASCADE;
DROP SERVER IF EXISTS ${label}_bad CASCADE;
DROP SERVER IF EXISTS ${label}_slow CASCADE;
DROP SERVER IF EXISTS ${label}_counted CASCADE;
CREATE SCHEMA $label;
SET search_path = $label;
CREATE SERVER ${label}_srv FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri '$uri/db', $(option_list "${settings[@]}"));
CREATE USER MAPPING FOR CURRENT_USER SERVER ${label}_srv OPTIONS ($(option_list "${secrets[@]}"));
CREATE FOREIGN TABLE t (id bigint, name text, score float8) SERVER ${label}_srv;
EOF
grep -q ERROR "$out/setup.log" && cat "$out/setup.log"

dump_ours() {
	sql >"$out/ours.txt" <<EOF
SELECT id || '|' || name || '|' || score FROM $label.t ORDER BY id;
EOF
}
same_dumps() {
	ldb dump "$uri/db" >"$out/theirs.txt" 2>"$out/ldb.log" && dump_ours &&
		[ -s "$out/theirs.txt" ] && cmp -s "$out/ours.txt" "$out/theirs.txt" ||
		{ diff "$out/ours.txt" "$out/theirs.txt" | head -5; cat "$out/ldb.log"; return 1; }
}

same_dumps
check "a_foreign_table_reads_every_row_lancedb_wrote" $?

theirs=$(ldb sum "$uri/db" 2>/dev/null)
ours=$(echo "SELECT format('{\"rows\":%s,\"sum\":\"%s\"}', count(*), sum(id)) FROM $label.t;" | sql)
[ -n "$theirs" ] && [ "$ours" = "$theirs" ]
check "count_and_sum_match_lancedb" $?

echo "EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM $label.t WHERE id < 10;" | sql >"$out/explain.txt"
grep -qF "$uri/db/t.lance" "$out/explain.txt" && no_secret_in "$out/explain.txt"
check "explain_shows_the_uri_and_no_credential" $?

sql >"$out/import.txt" <<EOF
CREATE SCHEMA ${label}_imported;
IMPORT FOREIGN SCHEMA lance FROM SERVER ${label}_srv INTO ${label}_imported;
SELECT count(*) FROM ${label}_imported.t;
DROP SCHEMA ${label}_imported CASCADE;
EOF
[ "$(grep -v NOTICE "$out/import.txt")" = "$(echo "SELECT count(*) FROM $label.t;" | sql)" ]
check "import_foreign_schema_lists_the_datasets_in_the_store" $?

sql >"$out/write.txt" <<EOF
SET search_path = $label;
INSERT INTO t SELECT g, 'inserted ' || g, g * 0.5 FROM generate_series(10000, 10099) g;
UPDATE t SET name = 'updated', score = -1 WHERE id BETWEEN 200 AND 209;
DELETE FROM t WHERE id < 100;
BEGIN;
INSERT INTO t VALUES (10100, 'in a transaction', 1.25);
UPDATE t SET name = 'updated twice' WHERE id = 205;
COMMIT;
EOF
! grep -q ERROR "$out/write.txt" && same_dumps &&
	grep -qxF "10100|in a transaction|1.25" "$out/theirs.txt" &&
	grep -qxF "205|updated twice|-1" "$out/theirs.txt" &&
	! grep -q "^50|" "$out/theirs.txt"
check "insert_update_delete_through_the_fdw_read_back_in_lancedb" $?

ldb append "$uri/db" >"$out/ldb.log" 2>&1 && same_dumps &&
	grep -qxF "20009|row 20009|5002.25" "$out/ours.txt"
check "lancedb_appends_on_top_and_the_fdw_reads_its_version" $?

echo "SELECT count(*) >= 6, max(version) > 1 FROM lance_versions('$label.t');" | sql >"$out/versions.txt"
[ "$(cat "$out/versions.txt")" = "t|t" ]
check "lance_versions_lists_the_store's_versions" $?

echo "SELECT lance_compact('$label.t') > 0;" | sql >"$out/compact.txt"
[ "$(cat "$out/compact.txt")" = "t" ] && same_dumps
check "lance_compact_rewrites_in_the_store_and_lancedb_reads_it" $?

sql >"$out/create.txt" <<EOF
CREATE FOREIGN TABLE $label.made (id bigint, name text, score float8) SERVER ${label}_srv;
SELECT lance_create_table('$label.made');
INSERT INTO $label.made SELECT g, 'made ' || g, g / 4.0 FROM generate_series(1, 50) g;
EOF
[ "$(node "$LDB/lancedb_store.mjs" sum "$uri/db" made "$ldb_opts" 2>&1)" = '{"rows":50,"sum":"1275"}' ]
check "lance_create_table_makes_a_dataset_in_the_store_that_lancedb_reads" $?

echo "SELECT lance_restore('$label.t', 1) > 1;" | sql >"$out/restore.txt"
[ "$(cat "$out/restore.txt")" = "t" ] && same_dumps && [ "$(wc -l <"$out/ours.txt")" = 3000 ]
check "lance_restore_brings_back_version_1_for_lancedb_too" $?

# lance_cleanup over the store, with the cutoff between two versions: the
# version before it goes, the two after it stay and read back (pinned and in
# LanceDB), and the files they need (the restored version 1's data files,
# the oldest in the store) survive.  The sleeps put the cutoff in a later
# second than every earlier write, as times in the store are whole seconds.
echo "INSERT INTO $label.t VALUES (30000, 'before the cutoff', 0.5);" | sql >"$out/cleanup.txt"
sleep 1.1
cutoff=$(echo "SELECT now();" | sql)
sleep 1.1
sql >>"$out/cleanup.txt" <<EOF
INSERT INTO $label.t VALUES (30001, 'after the cutoff', 1.5);
INSERT INTO $label.t VALUES (30002, 'after the cutoff', 2.5);
SELECT 'kept', string_agg(version::text, ',' ORDER BY version) FROM lance_versions('$label.t') WHERE version >= (SELECT max(version) - 1 FROM lance_versions('$label.t'));
SELECT 'cleanup', versions_removed > 0, files_removed > 0 FROM lance_cleanup('$label.t', '$cutoff');
SELECT 'after', string_agg(version::text, ',' ORDER BY version) FROM lance_versions('$label.t');
EOF
kept=$(sed -n 's/^kept|//p' "$out/cleanup.txt")
sql >>"$out/cleanup.txt" <<EOF
CREATE FOREIGN TABLE $label.t_pinned (id bigint) SERVER ${label}_srv OPTIONS (table 't', version '${kept%%,*}');
SELECT 'pinned', count(*), max(id) FROM $label.t_pinned;
EOF
grep -qx "cleanup|t|t" "$out/cleanup.txt" && [ -n "$kept" ] && grep -qx "after|$kept" "$out/cleanup.txt" &&
	grep -qx "pinned|3002|30001" "$out/cleanup.txt" && same_dumps && [ "$(wc -l <"$out/ours.txt")" = 3003 ] ||
	{ cat "$out/cleanup.txt"; false; }
check "lance_cleanup_removes_what_only_old_versions_needed_and_lancedb_still_reads" $?

# --- negative cases --------------------------------------------------------
wrong=()
for kv in "${secrets[@]}"; do
	wrong+=("$kv")
done
wrong[-1]="${wrong[-1]%%=*}=$BAD_SECRET"
sql >"$out/wrong.txt" <<EOF
CREATE SERVER ${label}_bad FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri '$uri/db', $(option_list "${settings[@]}"));
CREATE USER MAPPING FOR CURRENT_USER SERVER ${label}_bad OPTIONS ($(option_list "${wrong[@]}"));
CREATE FOREIGN TABLE $label.t_bad (id bigint) SERVER ${label}_bad OPTIONS (table 't');
SELECT count(*) FROM $label.t_bad;
EOF
secret_values+=("$BAD_SECRET")
grep -q "ERROR:  access denied to .*check the user mapping's credentials" "$out/wrong.txt" &&
	no_secret_in "$out/wrong.txt"
check "a_wrong_credential_is_access_denied_naming_the_user_mapping" $?

# each user reaches the store with their own mapping, through a view with
# its owner's; no remote path needs pg_read_server_files
sql >"$out/users.txt" <<EOF
DROP ROLE IF EXISTS ${label}_reader;
CREATE ROLE ${label}_reader;
GRANT USAGE ON SCHEMA $label TO ${label}_reader;
GRANT SELECT ON $label.t TO ${label}_reader;
CREATE VIEW $label.v AS SELECT id FROM $label.t;
GRANT SELECT ON $label.v TO ${label}_reader;
CREATE USER MAPPING FOR ${label}_reader SERVER ${label}_srv OPTIONS ($(option_list "${wrong[@]}"));
SET ROLE ${label}_reader;
SELECT 'view', count(*) = (SELECT count(*) FROM $label.v WHERE id >= 0) FROM $label.v;
SELECT 'table', count(*) FROM $label.t;
SELECT 'both', (SELECT count(*) FROM $label.v WHERE id >= 0) + (SELECT count(*) FROM $label.t);
RESET ROLE;
DROP VIEW $label.v;
DROP USER MAPPING FOR ${label}_reader SERVER ${label}_srv;
DROP OWNED BY ${label}_reader;
DROP ROLE ${label}_reader;
EOF
grep -qx "view|t" "$out/users.txt" && [ "$(grep -c "ERROR:  access denied" "$out/users.txt")" = 2 ] &&
	! grep -q "^table|\|^both|" "$out/users.txt"
check "each_user_and_each_view_owner_reaches_the_store_with_their_own_mapping" $?

echo "ALTER SERVER ${label}_srv OPTIONS (ADD ${secrets[-1]%%=*} 'x');" | sql >"$out/refused.txt"
grep -q "is a credential and may only be set in a user mapping" "$out/refused.txt"
check "a_credential_on_the_server_is_refused" $?

sql >"$out/missing.txt" <<EOF
CREATE FOREIGN TABLE $label.nope (id bigint) SERVER ${label}_srv OPTIONS (table 'nope');
SELECT * FROM $label.nope;
EOF
grep -qF "ERROR:  no Lance dataset at \"$uri/db/nope.lance\"" "$out/missing.txt"
check "a_missing_dataset_is_named" $?

# a store that hangs mid-scan: the proxy never answers data-file requests
node "$(dirname "$0")/fault_proxy.js" "$proxy_port" "$target_port" >"$out/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 1 40); do
	grep -q "fault proxy" "$out/proxy.log" && break
	sleep 0.1
done
ldb write "$uri/stalled-data" >"$out/ldb.log" 2>&1
slow_settings=()
for kv in "${settings[@]}"; do
	case ${kv%%=*} in
		endpoint | aws_endpoint | azure_endpoint | google_base_url) ;;
		*) slow_settings+=("$kv") ;;
	esac
done
# one statement opens a dataset once, however often it reads it: the
# self-join plans and scans the table twice, yet reads its manifest (the
# requests under _versions/) as often as a plain scan does
sql >"$out/counted-setup.txt" <<EOF
CREATE SERVER ${label}_counted FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri '$uri/db', endpoint '$proxy_endpoint', $(option_list "${slow_settings[@]}"));
CREATE USER MAPPING FOR CURRENT_USER SERVER ${label}_counted OPTIONS ($(option_list "${secrets[@]}"));
CREATE FOREIGN TABLE $label.t_counted (id bigint) SERVER ${label}_counted OPTIONS (table 't');
EOF
manifest_requests() {
	local before
	before=$(wc -l <"$out/proxy.log")
	echo "$1" | sql >>"$out/counted.txt"
	tail -n +"$((before + 1))" "$out/proxy.log" | grep -c "_versions"
}
single=$(manifest_requests "SELECT count(*) FROM $label.t_counted WHERE id >= 0;")
joined=$(manifest_requests "SELECT count(*) FROM $label.t_counted a JOIN $label.t_counted b USING (id);")
[ "$single" -gt 0 ] && [ "$joined" -eq "$single" ] && [ "$(sed -n 1p "$out/counted.txt")" = "$(sed -n 2p "$out/counted.txt")" ]
check "a_statement_reads_a_manifest_once_however_often_it_opens_the_dataset" $?
echo "    manifest requests: plain scan $single, self-join $joined"

sql >"$out/slow-setup.txt" <<EOF
CREATE SERVER ${label}_slow FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri '$uri/stalled-data', endpoint '$proxy_endpoint', client_max_retries '1',
			 client_retry_timeout '2s', connect_timeout '2s', timeout '600s',
			 $(option_list "${slow_settings[@]}"));
CREATE USER MAPPING FOR CURRENT_USER SERVER ${label}_slow OPTIONS ($(option_list "${secrets[@]}"));
CREATE FOREIGN TABLE $label.t_slow (id bigint, name text) SERVER ${label}_slow OPTIONS (table 't');
EOF
# the request would wait 600 s: only the cancel callback ends it in time
LIMIT=30 sql >"$out/slow.txt" <<EOF
SET statement_timeout = '3s';
SELECT sum(id) FROM $label.t_slow;
EOF
grep -q "ERROR:  canceling statement due to statement timeout" "$out/slow.txt"
check "statement_timeout_interrupts_a_scan_waiting_on_the_store" $?

# the store goes away while a scan waits on it: an error, not a hang
echo "SELECT sum(id) FROM $label.t_slow;" | LIMIT=30 sql >"$out/stopped.txt" &
scan=$!
sleep 0.5
kill "$proxy"
wait "$proxy" 2>/dev/null
wait "$scan"
grep -q "ERROR:  .*127.0.0.1:$proxy_port" "$out/stopped.txt" && ! grep -q "statement timeout" "$out/stopped.txt"
check "a_store_stopped_mid_scan_is_a_clear_error" $?
grep ERROR "$out/stopped.txt" | head -1

for f in "$out"/*.txt "$out"/*.log ${SERVER_LOG:+"$SERVER_LOG"}; do
	no_secret_in "$f" || { echo "    a credential appears in $(basename "$f")"; false; } || break
done
check "no_output_carries_a_credential" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
