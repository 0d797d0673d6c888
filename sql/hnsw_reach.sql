-- lance_hnsw keeps every element reachable on level 0 (where scans end)
-- through the on-disk insert path: the tail of a build that outgrows
-- maintenance_work_mem, inserts after the build (copies of indexed rows
-- among them, which pruning used to cut off) and DELETE + VACUUM.

-- 2000 points in 30 clusters, each point stored 4 times
SELECT setseed(0.42);
CREATE TABLE hnsw_rc AS
	SELECT c, array_agg(random() ORDER BY d) AS x
	FROM generate_series(1, 30) c, generate_series(1, 64) d GROUP BY c;
CREATE TABLE hnsw_rp AS
	SELECT p, (SELECT array_agg(c.x[d] + (random() - 0.5) * 0.2 ORDER BY d)
			   FROM generate_series(1, 64) d)::vector(64) AS v
	FROM generate_series(1, 2000) p JOIN hnsw_rc c ON c.c = 1 + p % 30;
CREATE TABLE hnsw_r (id int, p int, v vector(64));
INSERT INTO hnsw_r SELECT p + 2000 * k, p, v FROM hnsw_rp, generate_series(0, 3) k;

SET maintenance_work_mem = '1MB';
CREATE INDEX hnsw_r_idx ON hnsw_r USING lance_hnsw (v) WITH (m = 8, ef_construction = 16);
RESET maintenance_work_mem;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_r_idx');

-- after the build: two more copies of every third point, 300 new points
INSERT INTO hnsw_r SELECT 8000 + p + 2000 * k, p, v FROM hnsw_rp, generate_series(0, 1) k
	WHERE p % 3 = 0;
INSERT INTO hnsw_rp
	SELECT p, (SELECT array_agg(c.x[d] + (random() - 0.5) * 0.2 ORDER BY d)
			   FROM generate_series(1, 64) d)::vector(64)
	FROM generate_series(2001, 2300) p JOIN hnsw_rc c ON c.c = 1 + p % 30;
INSERT INTO hnsw_r SELECT 12000 + p, p, v FROM hnsw_rp WHERE p > 2000;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_r_idx');

-- every stored copy of 60 points is found by a search for the point
CREATE FUNCTION hnsw_r_copies_found() RETURNS TABLE (copies bigint, found bigint)
LANGUAGE sql AS $$
	SELECT sum((SELECT count(*) FROM hnsw_r r WHERE r.p = q.p)),
		sum((SELECT count(*) FROM
				(SELECT r.p FROM hnsw_r r ORDER BY r.v <-> q.v LIMIT 8) s
			 WHERE s.p = q.p))
	FROM hnsw_rp q WHERE q.p % 30 = 7
$$;

-- recall@10 of 40 queries against an exact scan, counted by distance
-- (copies tie, so ids may differ where distances agree)
CREATE FUNCTION hnsw_r_recall() RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
	hits int := 0;
	q record;
	kth float8;
BEGIN
	FOR q IN SELECT p, v FROM hnsw_rp WHERE p % 45 = 0 LOOP
		SET LOCAL enable_indexscan = off;
		SELECT max(dist) INTO kth FROM
			(SELECT r.v <-> q.v AS dist FROM hnsw_r r ORDER BY dist LIMIT 10) e;
		SET LOCAL enable_indexscan = on;
		SELECT hits + count(*) INTO hits FROM
			(SELECT r.v <-> q.v AS dist FROM hnsw_r r ORDER BY r.v <-> q.v LIMIT 10) i
			WHERE i.dist <= kth;
	END LOOP;
	RETURN hits / 400.0;
END $$;

SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 100;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_r ORDER BY v <-> '[0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0,1,2,3,4,5,6,0]' LIMIT 8;
SELECT * FROM hnsw_r_copies_found();
SELECT hnsw_r_recall() >= 0.95 AS recall_ok;

-- delete a fifth of the rows, whole points among them, and vacuum
DELETE FROM hnsw_r WHERE id % 5 = 0 OR p % 17 = 0;
VACUUM hnsw_r;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_r_idx');
SELECT * FROM hnsw_r_copies_found();
SELECT hnsw_r_recall() >= 0.95 AS recall_ok;
SELECT count(*) AS deleted_returned FROM hnsw_rp q CROSS JOIN LATERAL
	(SELECT r.id, r.p FROM hnsw_r r ORDER BY r.v <-> q.v LIMIT 8) s
	WHERE q.p % 17 = 0 AND q.p % 30 = 7 AND (s.id % 5 = 0 OR s.p % 17 = 0);

-- inserts into the vacuumed index reuse the freed space and stay reachable
INSERT INTO hnsw_r SELECT 20000 + p, p, v FROM hnsw_rp WHERE p % 17 = 0;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_r_idx');
SELECT * FROM hnsw_r_copies_found();
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;

DROP TABLE hnsw_r, hnsw_rp, hnsw_rc;
DROP FUNCTION hnsw_r_copies_found, hnsw_r_recall;
