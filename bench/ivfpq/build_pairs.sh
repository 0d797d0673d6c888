#!/usr/bin/env bash
#
# build_pairs.sh - pgvector IVFFlat and lance_ivfpq build times, alternated.
#
#   IVFPQ_BENCH_CONN="host=/tmp/x port=5432 user=postgres" \
#       bench/ivfpq/build_pairs.sh [-n 1000000] [--pairs 3] [--workers 1] \
#       [--mwm 2GB] [--options "lists = 1000, num_sub_vectors = 16"]
#
# On a shared machine one build of each says little about their ratio: the
# load moves between them.  This builds both on the tables run.sh loaded
# (same rows, same lists, same maintenance_work_mem and
# max_parallel_maintenance_workers), one after the other, pair after pair,
# and prints each pair's times and ratio, then the medians.  With each wall
# time goes the build's CPU time (the backend's, its threads included, and
# its parallel workers'), read from /proc: run this on the server's machine.
set -euo pipefail

CONN=${IVFPQ_BENCH_CONN:?set IVFPQ_BENCH_CONN to a libpq connection string without dbname}
N=1000000
PAIRS=3
WORKERS=1
MWM=2GB
OPTIONS=

while [ $# -gt 0 ]; do
	case $1 in
		-n) N=$2; shift 2 ;;
		--pairs) PAIRS=$2; shift 2 ;;
		--workers) WORKERS=$2; shift 2 ;;
		--mwm) MWM=$2; shift 2 ;;
		--options) OPTIONS=$2; shift 2 ;;
		*) echo "usage: $0 [-n N] [--pairs P] [--workers W] [--mwm SIZE] [--options WITH]" >&2; exit 2 ;;
	esac
done

LISTS=$(awk -v n="$N" 'BEGIN { printf "%d", sqrt(n) + 0.5 }')
[ -n "$OPTIONS" ] || OPTIONS="lists = $LISTS, num_sub_vectors = 16"
TABLE=ann_synth128_${N}_vector

# CPU_SECONDS, run by psql's \! with BPID set to the backend's pid: the CPU
# seconds of that backend (its threads included) and of the server's exited
# children (parallel workers), from /proc; so the server must run on this
# machine.  The children's share counts every child that exited during the
# build, autovacuum workers included: run on a quiet server (or with
# autovacuum off) for the figure to be the build's alone
CPU_SECONDS='awk -v t="$(getconf CLK_TCK)" '"'"'NR == 1 { s = $14 + $15 } NR == 2 { s += $16 + $17 } END { printf "%.2f", s / t }'"'"' /proc/$BPID/stat /proc/$(cut -d" " -f4 /proc/$BPID/stat)/stat'

# build_seconds DB AM OPCLASS WITH: drop the table's indexes, build, print
# "wall-seconds cpu-seconds"
build_seconds() {
	local db=$1 am=$2 opclass=$3 with=$4
	local idx out
	for idx in $(psql -X -qtA "$CONN dbname=$db" -c "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = '$TABLE'::regclass"); do
		psql -X -q "$CONN dbname=$db" -c "DROP INDEX $idx"
	done
	psql -X -q "$CONN dbname=$db" -c "CHECKPOINT"
	out=$(psql -X -qtA "$CONN dbname=$db" <<-EOF
		SET maintenance_work_mem = '$MWM';
		SET max_parallel_maintenance_workers = $WORKERS;
		SET client_min_messages = warning;
		SELECT pg_backend_pid() AS bpid \gset
		\setenv BPID :bpid
		\! echo "cpu-before \$($CPU_SECONDS)"
		\timing on
		CREATE INDEX ON $TABLE USING $am (embedding $opclass) WITH ($with);
		\timing off
		\! echo "cpu-after \$($CPU_SECONDS)"
	EOF
	)
	echo "$out" | awk '/^Time:/ { w = $2 / 1000 } /^cpu-before/ { b = $2 } /^cpu-after/ { a = $2 }
		END { printf "%.1f %.1f\n", w, a - b }'
}

echo "# $N rows, maintenance_work_mem $MWM, max_parallel_maintenance_workers $WORKERS"
echo "# ivfflat: lists = $LISTS; lance_ivfpq: $OPTIONS"
echo "| pair | ivfflat s | cpu s | lance_ivfpq s | cpu s | ratio | cpu ratio | load average |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
ratios=()
cpu_ratios=()
pg_times=()
our_times=()
for p in $(seq 1 "$PAIRS"); do
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	read -r pg pg_cpu < <(build_seconds ivfpq_bench_pgvector ivfflat vector_l2_ops "lists = $LISTS")
	read -r ours ours_cpu < <(build_seconds ivfpq_bench_lancedb lance_ivfpq vector_l2_ops "$OPTIONS")
	ratio=$(awk -v a="$ours" -v b="$pg" 'BEGIN { printf "%.2f", a / b }')
	cpu_ratio=$(awk -v a="$ours_cpu" -v b="$pg_cpu" 'BEGIN { printf "%.2f", a / b }')
	echo "| $p | $pg | $pg_cpu | $ours | $ours_cpu | $ratio | $cpu_ratio | $load |"
	pg_times+=("$pg")
	our_times+=("$ours")
	ratios+=("$ratio")
	cpu_ratios+=("$cpu_ratio")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "| median | $(median "${pg_times[@]}") | | $(median "${our_times[@]}") | | $(median "${ratios[@]}") | $(median "${cpu_ratios[@]}") | |"
