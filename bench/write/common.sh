# bench/write/common.sh: what run.sh and nested_lists.sh share; source it
# from the repository root after `set -euo pipefail`.
#
#   bench_start NAME     a throwaway cluster and a work folder
#                        /tmp/lancedb_bench_NAME.*, both removed on exit;
#                        sets WORK, REF (LanceDB's modules, default
#                        test/interop/.lancedb) and load (the load average)
#   timed SQL            seconds the statement takes, commit included (a
#                        Lance COPY commits its version at the end of the
#                        transaction), after a sync
#   lancedb_add_seconds SCRIPT ROWS
#                        seconds LanceDB's table.add() took in SCRIPT
#                        (one of the lancedb_add*.mjs beside this file)

. scripts/cluster.sh

bench_start() {
	REF=${LANCEDB_REF:-$PWD/test/interop/.lancedb}
	WORK=$(mktemp -d "/tmp/lancedb_bench_$1.XXXXXX")
	chmod 777 "$WORK"
	trap 'cluster_stop; rm -rf "$WORK"' EXIT
	cluster_start
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	mkdir -m 777 "$WORK/lance" "$WORK/lancedb"
}

# Every timed step starts with no dirty pages left by the steps before:
# the kernel slows a writer down while earlier writes are still being
# flushed, which made LanceDB's add(), run last after 2 GB of COPYs, pay
# for them (README.md).
settle() {
	sync
}

timed() {
	local t0 t1
	settle
	t0=$(date +%s.%N)
	psql -XAtq -c "$1" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

lancedb_add_seconds() {
	local out
	settle
	out=$(node "bench/write/$1" "$REF" "$WORK/lancedb" "$2" 2>/dev/null | tail -1)
	node -e "console.log(JSON.parse(process.argv[1]).seconds)" "$out"
}
