# side_by_side.awk - pgvector's run.sh CSV (first file) and ours (second)
# as one Markdown table: build and size, then one row per mode and search
# setting with recall@10, QPS, p50 and p99, and ours/pgvector ratios.
# Our "filtered" rows are compared with pgvector's "filtered-iter" (its
# iterative scan), the mode that also fills LIMIT under a filter.

function splitcsv(line, out,    n, i, c, field, inq) {
	n = 0; field = ""; inq = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (c == "\"") inq = !inq
		else if (c == "," && !inq) { out[++n] = field; field = "" }
		else field = field c
	}
	out[++n] = field
	return n
}

function ratio(a, b) { return (b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }

FNR == 1 {
	file++
	ncol = splitcsv($0, hdr)
	for (i = 1; i <= ncol; i++) col[hdr[i]] = i
	next
}

{
	splitcsv($0, f)
	if (f[col["clients"]] != 1) next
	who = file == 1 ? "pg" : "ours"
	mode = f[col["mode"]]
	if (who == "pg" && mode == "filtered") mode = "filtered-noiter"
	if (who == "pg" && mode == "filtered-iter") mode = "filtered"
	key = mode SUBSEP f[col["setting"]]
	build[who] = f[col["build_s"]]
	size[who] = f[col["index_mb"]]
	recall[who, key] = f[col["recall"]]
	qps[who, key] = f[col["qps"]]
	p50[who, key] = f[col["p50_ms"]]
	p99[who, key] = f[col["p99_ms"]]
	rows[who, key] = f[col["avg_rows"]]
	plan[who, key] = f[col["plan"]]
	if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key }
}

END {
	printf "| | ours | pgvector | ratio |\n|---|---|---|---|\n"
	printf "| build (s) | %s | %s | %s |\n", build["ours"], build["pg"], ratio(build["ours"], build["pg"])
	printf "| index (MB) | %s | %s | %s |\n\n", size["ours"], size["pg"], ratio(size["ours"], size["pg"])
	printf "| mode | ef_search | recall ours | recall pg | QPS ours | QPS pg | QPS ratio | p50 ms ours / pg | p99 ms ours / pg | rows ours / pg | plan ours / pg |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= nkeys; i++) {
		k = order[i]
		split(k, kk, SUBSEP)
		printf "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n",
			kk[1], kk[2], recall["ours", k], recall["pg", k], qps["ours", k], qps["pg", k],
			ratio(qps["ours", k], qps["pg", k]), p50["ours", k], p50["pg", k],
			p99["ours", k], p99["pg", k], rows["ours", k], rows["pg", k], plan["ours", k], plan["pg", k]
	}
}
