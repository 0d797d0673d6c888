#!/usr/bin/env bash
# Run every test layer of lancedb_fdw and finish with "N passed, N failed".
#
# Installs what the tests need (Debian packages, npm packages into the
# repository's own git-ignored folders), builds with -Werror, installs the
# extension, starts a throwaway cluster, and runs: the core's unit tests, the
# core reader against LanceDB, pg_regress, and the real-client tests.  The
# cluster is stopped at the end even when a layer fails.
#
# Environment: SKIP_DEPS=1 skips the package check (for quick local reruns);
# FUZZ_SECONDS sets each fuzz target's time (default 30);
# LANCEDB_SHARED points at the shared folder (default ../shared).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${LANCEDB_SHARED:-$ROOT/../shared}

[ "${SKIP_DEPS:-0}" = 1 ] || scripts/install-deps.sh --test || exit 1

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
make -j2 WERROR=-Werror >/tmp/lancedb_fdw_build.log 2>&1 &&
	$sudo make install >>/tmp/lancedb_fdw_build.log 2>&1 ||
	{ tail -50 /tmp/lancedb_fdw_build.log; echo "0 passed, 1 failed"; exit 1; }

. scripts/cluster.sh
WORK=$(mktemp -d /tmp/lancedb_fdw_test.XXXXXX)
# the server reads the fixtures and writes in scratch/ as its own user
chmod 755 "$WORK"
mkdir "$WORK/scratch"
[ "$(id -u)" -eq 0 ] && chown postgres "$WORK/scratch"
export LANCEDB_SCRATCH=$WORK/scratch
trap 'cluster_stop; rm -rf "$WORK"' EXIT

passed=0
failed=0

# Add a layer's counts from its log; a layer that printed no count but
# failed counts as one failure, so a crash can never pass silently.
tally() {
	local name=$1 status=$2 log=$3 p f
	p=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | cut -d' ' -f1)
	f=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | cut -d' ' -f3)
	if [ -z "$p" ]; then
		p=0
		f=$([ "$status" -eq 0 ] && echo 0 || echo 1)
	elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	echo "== $name: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
}

run_layer() {
	local name=$1
	shift
	echo "== $name"
	"$@" 2>&1 | tee "$WORK/$name.log"
	tally "$name" "${PIPESTATUS[0]}" "$WORK/$name.log"
}

# pg_regress prints "... ok" / "... FAILED" per test; turn that into our line.
regress() {
	make installcheck >"$WORK/regress.raw" 2>&1
	local status=$?
	cat "$WORK/regress.raw"
	[ -f regression.diffs ] && head -200 regression.diffs
	echo "$(grep -c '\.\.\. ok' "$WORK/regress.raw") passed, $(grep -Ec '\.\.\. (FAILED|failed)' "$WORK/regress.raw") failed"
	return $status
}

# node --test's TAP summary ("# pass N", "# fail N") into our line.
client() {
	(cd test/client && npm install --no-audit --no-fund --silent >/dev/null 2>&1 &&
		node --test --test-reporter=tap) >"$WORK/client.raw" 2>&1
	local status=$?
	cat "$WORK/client.raw"
	echo "$(awk '/^# pass /{print $3}' "$WORK/client.raw" | tail -1) passed, $(awk '/^# fail /{print $3}' "$WORK/client.raw" | tail -1) failed"
	return $status
}

# The real LanceDB (pinned in ../shared/interop) makes the fixtures that
# the core and the foreign tables are compared against.  It is installed
# into a git-ignored folder of ours, reused while package.json is unchanged.
prepare_lancedb() {
	local dir=test/interop/.lancedb
	mkdir -p "$dir"
	cp "$SHARED/interop/lancedb_ref.mjs" "$dir/"
	if ! cmp -s "$SHARED/interop/package.json" "$dir/package.json" || [ ! -d "$dir/node_modules" ]; then
		cp "$SHARED/interop/package.json" "$dir/"
		(cd "$dir" && npm install --no-audit --no-fund --silent) || return 1
	fi
	node "$dir/lancedb_ref.mjs" make-fixtures "$WORK/fixtures" >"$WORK/fixtures.log" 2>&1 ||
		{ cat "$WORK/fixtures.log"; return 1; }
	export LANCEDB_REF=$ROOT/$dir LANCEDB_FIXTURES=$WORK/fixtures
}

if ! prepare_lancedb; then
	echo "could not install LanceDB or make its fixtures"
	failed=$((failed + 1))
fi
# Every LanceDB-made fixture, at every version, read through foreign tables
# and compared value by value with LanceDB's own reading of it.
interop_fdw() {
	(cd test/interop && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || return 1
	node test/interop/compare_fdw.mjs "$LANCEDB_REF/lancedb_ref.mjs" "$LANCEDB_FIXTURES"
}

# Writes through foreign tables read back by LanceDB, LanceDB writing on
# top, concurrent writers (test/interop/write_interop.mjs).
interop_write() {
	(cd test/interop && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || return 1
	node test/interop/write_interop.mjs "$LANCEDB_REF" "$LANCEDB_FIXTURES" "$LANCEDB_SCRATCH"
}

# ORDER BY vector distance LIMIT k through foreign tables against LanceDB's
# own exact search, with filters, deletions and fragments.
interop_search() {
	(cd test/interop && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || return 1
	node test/interop/search_interop.mjs "$LANCEDB_REF/lancedb_ref.mjs" "$LANCEDB_FIXTURES"
}

# TAP tests (crash recovery, replication) start clusters of their own with
# PostgreSQL::Test::Cluster, which refuses to run as root: run them as the
# postgres user then, with their scratch space in a folder it owns.
tap() {
	local pgxs bindir scratch as=()
	pgxs=$(dirname "$(pg_config --pgxs)")/..
	bindir=$(pg_config --bindir)
	scratch=$(mktemp -d "$WORK/tap.XXXXXX")
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$scratch"
		as=(runuser -u postgres --)
	fi
	"${as[@]}" env PATH="$bindir:$PATH" PERL5LIB="$pgxs/test/perl" TESTDIR="$scratch" \
		PG_REGRESS="$pgxs/test/regress/pg_regress" prove --timer test/tap/*.pl >"$WORK/tap.raw" 2>&1
	local status=$?
	cat "$WORK/tap.raw"
	# prove prints "Files=N, Tests=M" and, on failure, "Failed K/M subtests"
	local total failed_n
	total=$(grep -Eo 'Tests=[0-9]+' "$WORK/tap.raw" | tail -1 | cut -d= -f2)
	failed_n=$(grep -Eo 'Failed [0-9]+/[0-9]+ subtests' "$WORK/tap.raw" | awk -F'[ /]' '{s+=$2} END {print s+0}')
	[ -n "$total" ] && echo "$((total - failed_n)) passed, $failed_n failed"
	return $status
}

run_layer unit make -s unit
if [ -n "${LANCEDB_FIXTURES:-}" ]; then
	run_layer fuzz make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
fi
if [ -n "${LANCEDB_FIXTURES:-}" ]; then
	run_layer interop-core make -s interop-core
fi
# object stores on loopback: radosgw, Azurite and the GCS mock, side by side
# (the read and write interop suites in each; about 3 minutes)
run_layer storage test/storage/run.sh
cluster_start || { echo "0 passed, 1 failed"; exit 1; }
run_layer regress regress
run_layer client client
if [ -n "${LANCEDB_FIXTURES:-}" ]; then
	run_layer interop-fdw interop_fdw
	run_layer interop-write interop_write
	run_layer interop-search interop_search
fi
if compgen -G "test/tap/*.pl" >/dev/null; then
	run_layer tap tap
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
