#!/bin/sh
# compare_core.sh -- read every fixture table, at every version, with our
# reader (lance_dump) and with the real LanceDB (lancedb_ref.mjs dump), and
# compare the rows.
#
#   test/interop/compare_core.sh [FIXTURES_DIR [LANCEDB_REF_DIR]]
#
# FIXTURES_DIR     tables made by `lancedb_ref.mjs make-fixtures` (default:
#                  $LANCEDB_FIXTURES)
# LANCEDB_REF_DIR  the folder holding lancedb_ref.mjs and its node_modules
#                  (default: $LANCEDB_REF, else test/interop/.lancedb)
# LANCE_DUMP       our dump tool (default: test/interop/lance_dump)
#
# Each table is dumped with row addresses at each of its versions, and once
# more at its newest version with a projection (last column, first column)
# to exercise column selection.  Then every 7th row of LanceDB's dump, in
# reverse order, is fetched by row address (lance_dump --take, the random
# access path) and compared with those lines.  Lines must be identical, except that
# non-integer numbers are compared as doubles (so "1.5" equals "1.50").
# The tiny constant-layout tables of make_edge_fixtures.mjs are then made in
# a scratch folder and compared the same way.
# Prints one line per case, then "N passed, N failed"; exits 1 on failure.

set -u

here=$(cd "$(dirname "$0")" && pwd)
fixtures=${1:-${LANCEDB_FIXTURES:-}}
refdir=${2:-${LANCEDB_REF:-$here/.lancedb}}
dump=${LANCE_DUMP:-$here/lance_dump}

if [ -z "$fixtures" ] || [ ! -d "$fixtures" ]; then
	echo "compare_core.sh: no fixtures directory (argument 1 or LANCEDB_FIXTURES)" >&2
	exit 2
fi
if [ ! -f "$refdir/lancedb_ref.mjs" ]; then
	echo "compare_core.sh: no lancedb_ref.mjs in $refdir (argument 2 or LANCEDB_REF)" >&2
	exit 2
fi
if [ ! -x "$dump" ]; then
	echo "compare_core.sh: $dump is not built (make test/interop/lance_dump)" >&2
	exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Line-by-line comparison with numeric tolerance for floats: exact text for
# strings and integers, equal doubles for numbers with a fraction/exponent.
cat > "$work/same.mjs" <<'EOF'
import * as fs from "node:fs";
const [a, b] = process.argv.slice(2).map((f) => fs.readFileSync(f, "utf8").split("\n"));
const tok = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}\[\],:]|true|false|null/g;
const isFloat = (t) => /^-?\d/.test(t) && /[.eE]/.test(t);
function same(x, y) {
  if (x === y) return true;
  const p = x.match(tok) || [], q = y.match(tok) || [];
  if (p.length !== q.length) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === q[i]) continue;
    if ((isFloat(p[i]) || isFloat(q[i])) && /^-?\d/.test(p[i]) && /^-?\d/.test(q[i]) &&
        Number(p[i]) === Number(q[i])) continue;
    return false;
  }
  return true;
}
if (a.length !== b.length) {
  console.log(`row count differs: ${a.length - 1} vs ${b.length - 1}`);
  process.exit(1);
}
for (let i = 0; i < a.length; i++) {
  if (!same(a[i], b[i])) {
    console.log(`line ${i + 1} differs:\n  lancedb: ${a[i].slice(0, 400)}\n  ours:    ${b[i].slice(0, 400)}`);
    process.exit(1);
  }
}
EOF

passed=0
failed=0

# run_case NAME DATASET ARGS...: dump with both tools and compare
run_case() {
	name=$1
	ds=$2
	shift 2
	if ! node "$refdir/lancedb_ref.mjs" dump "$ds" "$@" > "$work/ref.jsonl" 2> "$work/ref.err"; then
		echo "FAIL  $name: lancedb_ref failed: $(grep -v WARN "$work/ref.err" | head -3)"
		failed=$((failed + 1))
		return
	fi
	if ! "$dump" "$ds" "$@" > "$work/ours.jsonl" 2> "$work/ours.err"; then
		echo "FAIL  $name: lance_dump failed: $(head -3 "$work/ours.err")"
		failed=$((failed + 1))
		return
	fi
	if cmp -s "$work/ref.jsonl" "$work/ours.jsonl" ||
		node "$work/same.mjs" "$work/ref.jsonl" "$work/ours.jsonl" > "$work/diff.txt"; then
		echo "ok    $name ($(wc -l < "$work/ours.jsonl") rows)"
		passed=$((passed + 1))
	else
		echo "FAIL  $name: $(cat "$work/diff.txt")"
		failed=$((failed + 1))
	fi
}

# run_take NAME DATASET VERSION: rows by address against LanceDB's lines
run_take() {
	name=$1
	ds=$2
	version=$3
	if ! node "$refdir/lancedb_ref.mjs" dump "$ds" --version "$version" --rowaddr > "$work/all.jsonl" 2> "$work/ref.err"; then
		echo "FAIL  $name: lancedb_ref failed: $(grep -v WARN "$work/ref.err" | head -3)"
		failed=$((failed + 1))
		return
	fi
	node -e '
		const fs = require("fs");
		const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l);
		const pick = lines.filter((_, i) => i % 7 === 3).reverse();
		fs.writeFileSync(process.argv[2], pick.map((l) => l + "\n").join(""));
		fs.writeFileSync(process.argv[3], pick.map((l) => /"_rowaddr":(\d+)/.exec(l)[1]).join(","));
	' "$work/all.jsonl" "$work/ref.jsonl" "$work/addrs.txt"
	if [ ! -s "$work/addrs.txt" ]; then
		return
	fi
	if ! "$dump" "$ds" --version "$version" --rowaddr --take "$(cat "$work/addrs.txt")" \
			> "$work/ours.jsonl" 2> "$work/ours.err"; then
		echo "FAIL  $name: lance_dump failed: $(head -3 "$work/ours.err")"
		failed=$((failed + 1))
		return
	fi
	if cmp -s "$work/ref.jsonl" "$work/ours.jsonl" ||
		node "$work/same.mjs" "$work/ref.jsonl" "$work/ours.jsonl" > "$work/diff.txt"; then
		echo "ok    $name ($(wc -l < "$work/ours.jsonl") rows)"
		passed=$((passed + 1))
	else
		echo "FAIL  $name: $(cat "$work/diff.txt")"
		failed=$((failed + 1))
	fi
}

# compare_dir DIR: every table of DIR (listed in its fixtures.json, else
# every *.lance), at every version
compare_dir() {
	dir=$1
	if [ -f "$dir/fixtures.json" ]; then
		tables=$(node -e 'for (const t of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(t.table)' "$dir/fixtures.json")
	else
		tables=$(cd "$dir" && ls -d *.lance)
	fi

	for table in $tables; do
		ds="$dir/$table"
		versions=$(node "$refdir/lancedb_ref.mjs" versions "$ds" 2>/dev/null |
			sed -n 's/^{"version":\([0-9]*\),.*/\1/p')
		if [ -z "$versions" ]; then
			echo "FAIL  $table: lancedb_ref lists no versions"
			failed=$((failed + 1))
			continue
		fi
		last=
		for v in $versions; do
			run_case "$table@$v" "$ds" --version "$v" --rowaddr
			last=$v
		done
		# a projection, in an order other than the schema's
		cols=$(node "$refdir/lancedb_ref.mjs" info "$ds" 2>/dev/null |
			node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const f=JSON.parse(s).schema.map(x=>x.name);if(f.length>1)console.log(f[f.length-1]+","+f[0]);})')
		if [ -n "$cols" ]; then
			run_case "$table@$last --columns $cols" "$ds" --version "$last" --columns "$cols"
		fi
		run_take "$table@$last take" "$ds" "$last"
	done
}

compare_dir "$fixtures"

# Tiny tables whose pages take the constant layout (one value per page,
# with levels), which the standard fixtures do not produce.
if node "$here/make_edge_fixtures.mjs" "$refdir" "$work/edge" > "$work/edge.log" 2>&1; then
	compare_dir "$work/edge"
else
	echo "FAIL  make_edge_fixtures.mjs: $(grep -v WARN "$work/edge.log" | head -3)"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
