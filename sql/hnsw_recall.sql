-- lance_hnsw recall on a clustered 10k x 64 set, against an exact scan:
-- recall@10 >= 0.99 at ef_search 100, and filtered queries (10% of rows)
-- that still return 10 rows each with high recall.

SELECT setseed(0.42);
CREATE TABLE hnsw_centers AS
	SELECT c, array_agg(random() ORDER BY d) AS x
	FROM generate_series(1, 20) c, generate_series(1, 64) d GROUP BY c;
CREATE TABLE hnsw_rc (id int, cat int, v vector(64));
INSERT INTO hnsw_rc
	SELECT i, (i / 20) % 10,
		(SELECT array_agg(c.x[d] + (random() - 0.5) / sqrt(d) ORDER BY d)
		 FROM generate_series(1, 64) d)::vector
	FROM generate_series(1, 10000) i JOIN hnsw_centers c ON c.c = 1 + i % 20;
-- queries: fresh points from the same clusters
CREATE TABLE hnsw_q AS
	SELECT q AS qid, q % 10 AS cat,
		(SELECT array_agg(c.x[d] + (random() - 0.5) / sqrt(d) ORDER BY d)
		 FROM generate_series(1, 64) d)::vector AS v
	FROM generate_series(1, 100) q JOIN hnsw_centers c ON c.c = 1 + (q * 7) % 20;
CREATE INDEX hnsw_rc_idx ON hnsw_rc USING lance_hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
ANALYZE hnsw_rc;

SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 100;
EXPLAIN (COSTS OFF)
SELECT q.qid, r.id FROM hnsw_q q CROSS JOIN LATERAL
	(SELECT id FROM hnsw_rc ORDER BY hnsw_rc.v <-> q.v LIMIT 10) r;
CREATE TEMP TABLE hnsw_approx AS
	SELECT q.qid, r.id FROM hnsw_q q CROSS JOIN LATERAL
		(SELECT id FROM hnsw_rc ORDER BY hnsw_rc.v <-> q.v LIMIT 10) r;
CREATE TEMP TABLE hnsw_approx_f AS
	SELECT q.qid, r.id FROM hnsw_q q CROSS JOIN LATERAL
		(SELECT id FROM hnsw_rc WHERE hnsw_rc.cat = q.cat ORDER BY hnsw_rc.v <-> q.v LIMIT 10) r;
RESET enable_seqscan;
RESET lancedb.hnsw_ef_search;

SET enable_indexscan = off;
CREATE TEMP TABLE hnsw_exact AS
	SELECT q.qid, r.id FROM hnsw_q q CROSS JOIN LATERAL
		(SELECT id FROM hnsw_rc ORDER BY hnsw_rc.v <-> q.v LIMIT 10) r;
CREATE TEMP TABLE hnsw_exact_f AS
	SELECT q.qid, r.id FROM hnsw_q q CROSS JOIN LATERAL
		(SELECT id FROM hnsw_rc WHERE hnsw_rc.cat = q.cat ORDER BY hnsw_rc.v <-> q.v LIMIT 10) r;
RESET enable_indexscan;

SELECT count(*) AS returned,
	(SELECT count(*) FROM hnsw_approx a JOIN hnsw_exact e USING (qid, id)) / 1000.0 >= 0.99 AS recall_ok
	FROM hnsw_approx;
SELECT count(*) AS returned,
	(SELECT count(*) FROM hnsw_approx_f a JOIN hnsw_exact_f e USING (qid, id)) / 1000.0 >= 0.95 AS filtered_recall_ok
	FROM hnsw_approx_f;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_rc_idx');

DROP TABLE hnsw_centers, hnsw_rc, hnsw_q;
