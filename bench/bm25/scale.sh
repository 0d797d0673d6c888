#!/usr/bin/env bash
# The 4x goal of lance_bm25: p99 over the 200 queries with the corpus loaded
# four times (505k documents, every document four times) against the p99
# with it loaded once, both timed in the backend (bench/bm25/inproc.sh).
#
#   bench/bm25/scale.sh             3 rounds, alternating 1x and 4x
#   ROUNDS=5 REPS=5 bench/bm25/scale.sh
#
# Each round builds both indexes afresh and takes each query's fastest of
# REPS runs; the summary takes each query's fastest over all rounds, so a
# busy shared machine's stalls stay out of it.  Prints every round's p99
# and the summary's p50, p99 and the 4x / 1x ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${LANCEDB_SHARED:-$PWD/../shared}
ROUNDS=${ROUNDS:-3}
export REPS=${REPS:-5}
OUT=$(mktemp -d /tmp/lancedb_bm25_scale.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

for s in 1 4; do
	python3 bench/bm25/corpus.py "$SHARED/data/bm25/gcide.csv.gz" "$OUT/corpus$s.csv" "$s"
done
for r in $(seq "$ROUNDS"); do
	for s in 1 4; do
		SAVE="$OUT/round$r-$s.json" bench/bm25/inproc.sh "$OUT/corpus$s.csv" >/dev/null
	done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p / 100
    f = int(k)
    return v[f] + (v[min(f + 1, len(v) - 1)] - v[f]) * (k - f)
def load(r, s):
    return json.load(open(f"{out}/round{r}-{s}.json"))["ms"]
print("| round | 1x p50 / p99 ms | 4x p50 / p99 ms | p99 4x / 1x |")
print("|---|---|---|---|")
best = {1: {}, 4: {}}
for r in range(1, rounds + 1):
    row = []
    for s in (1, 4):
        ms = load(r, s)
        for q, v in ms.items():
            best[s][q] = min(v, best[s].get(q, v))
        row.append(list(ms.values()))
    print(f"| {r} | {pct(row[0], 50):.3f} / {pct(row[0], 99):.3f} | {pct(row[1], 50):.3f} / {pct(row[1], 99):.3f} | {pct(row[1], 99) / pct(row[0], 99):.2f} |")
one, four = list(best[1].values()), list(best[4].values())
print(f"| fastest of all rounds | {pct(one, 50):.3f} / {pct(one, 99):.3f} | {pct(four, 50):.3f} / {pct(four, 99):.3f} | {pct(four, 99) / pct(one, 99):.2f} |")
slow = sorted(best[4], key=best[4].get, reverse=True)[:5]
print("slowest at 4x (ms at 1x, 4x): " + ", ".join(f"{q} {best[1][q]:.3f} {best[4][q]:.3f}" for q in slow))
PY
