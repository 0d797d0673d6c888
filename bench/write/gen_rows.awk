# The benchmark's rows as COPY text: 10 columns, the last a vector(128).
# Row i's values are a pure function of i, so lancedb_add.mjs builds the
# very same rows.  Usage: awk -v n=1000000 -f gen_rows.awk > rows.tsv
BEGIN {
	for (i = 0; i < n; i++) {
		printf "%d\t%d\t%d\t%.3f\t%.3f\t%s\tname-%d\tcat-%d\t2024-01-01 00:00:%02d\t[", \
			i, i % 1000, i * 7, i / 8, (i % 100) / 4, (i % 2 ? "t" : "f"), i, i % 50, i % 60
		for (j = 0; j < 128; j++)
			printf "%s%.3f", (j ? "," : ""), ((i * 131 + j * 17) % 1000) / 1000
		print "]"
	}
}
