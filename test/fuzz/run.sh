#!/usr/bin/env bash
# Run every libFuzzer target for FUZZ_SECONDS (default 60) each, seeded from
# the LanceDB-made fixtures in LANCEDB_FIXTURES, and finish with
# "N passed, N failed": a target passes when it ran its time without a
# crash, leak or sanitizer report.  Corpora and crash inputs stay in
# .build/fuzz/<target>/ (a crash-* file there reproduces: TARGET FILE).
# Inputs that once crashed are kept in test/fuzz/regressions/<target>/ and
# replayed on every run, before the fuzzing proper.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
fixtures=${LANCEDB_FIXTURES:-}
passed=0
failed=0

# run NAME SEED_GLOB TARGET [ENV=VALUE ...]
run() {
	local name=$1 seeds=$2 target=$3 dir=.build/fuzz/$1
	shift 3
	mkdir -p "$dir"
	if [ -n "$fixtures" ]; then
		for f in $seeds; do
			[ -f "$f" ] && cp "$f" "$dir/seed-$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f")"
		done
	fi
	local regressions=()
	[ -d "test/fuzz/regressions/$name" ] && regressions=("test/fuzz/regressions/$name")
	if env "$@" "$target" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$dir" "${regressions[@]}" >"$dir.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok      $name ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$dir.log" | grep -Eo '[0-9]+$') runs)"
	else
		failed=$((failed + 1))
		echo "not ok  $name"
		grep -A20 -m1 'ERROR: \|==ERROR\|runtime error' "$dir.log" | head -30
	fi
}

# the codec target takes a selector byte: 11 = Arrow deletion file, 12 = Roaring
mkdir -p .build/fuzz/codec
if [ -n "$fixtures" ]; then
	for f in "$fixtures"/*/_deletions/*.arrow; do
		[ -f "$f" ] && { printf '\013\000\000\000'; cat "$f"; } >".build/fuzz/codec/seed-$(basename "$f")"
	done
	for f in "$fixtures"/*/_deletions/*.bin; do
		[ -f "$f" ] && { printf '\014\000\000\000'; cat "$f"; } >".build/fuzz/codec/seed-$(basename "$f")"
	done
fi
run codec "" test/fuzz/fuzz_codec
run manifest "$fixtures/*/_versions/*.manifest" test/fuzz/fuzz_manifest
for v in 2_0 2_1 2_2; do
	if [ -d "$fixtures/types_v$v.lance" ]; then
		run "datafile_v$v" "$fixtures/types_v$v.lance/data/*.lance" test/fuzz/fuzz_datafile \
			LANCE_FUZZ_DATASET="$fixtures/types_v$v.lance" LANCE_FUZZ_VERSION=1
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
