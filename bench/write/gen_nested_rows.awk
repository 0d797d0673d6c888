# Rows for bench/write/nested_lists.sh: id, then ll (list<list<int64>>)
# and boxes (list<fixed_size_list<float, 4>>) as jsonb text, tab-separated.
# Row i has i % 4 + 1 inner lists of (i + j) % 5 + 1 items and i % 3 + 1
# boxes; lancedb_add_nested.mjs builds the same values.
#   awk -v n=ROWS -f gen_nested_rows.awk
BEGIN {
	for (i = 0; i < n; i++) {
		ll = "["
		for (j = 0; j < i % 4 + 1; j++) {
			ll = ll (j ? ", " : "") "["
			for (m = 0; m < (i + j) % 5 + 1; m++)
				ll = ll (m ? ", " : "") (i * 10 + j * 3 + m)
			ll = ll "]"
		}
		boxes = "["
		for (j = 0; j < i % 3 + 1; j++)
			boxes = boxes (j ? ", " : "") "[" (i % 100) / 4 ", " j ", 0.5, 1.5]"
		printf "%d\t%s]\t%s]\n", i, ll, boxes
	}
}
