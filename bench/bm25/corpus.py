#!/usr/bin/env python3
"""Write the shared GCIDE corpus as the harness loads it, SCALE times over.

    corpus.py GCIDE.csv.gz OUT.csv SCALE

Copy k (from 0) keeps every row with its id shifted by k * 1,000,000, so
the corpus four times over is every document four times, in order.
"""
import csv
import gzip
import sys

src, dst, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
csv.field_size_limit(1 << 30)
with gzip.open(src, 'rt', newline='') as f:
    rows = list(csv.reader(f))
with open(dst, 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(rows[0])
    for k in range(scale):
        for r in rows[1:]:
            w.writerow([int(r[0]) + k * 1000000] + r[1:])
