-- A forced link that keeps losing to other inserts is retried with inserts
-- held off (the update lock taken exclusively).  With no forced tries
-- before that (a developer setting), every insert whose neighbours all
-- keep closer elements takes that path; the elements must stay reachable.

-- 40 points, each stored 6 times: copies of a point pick the same
-- neighbours, whose lists fill with closer copies
SELECT setseed(0.17);
CREATE TABLE hnsw_fl_p AS
	SELECT p, (SELECT array_agg(random() ORDER BY d)
			   FROM generate_series(1, 16) d WHERE p > 0)::vector(16) AS v
	FROM generate_series(1, 40) p;
CREATE TABLE hnsw_fl (id int, p int, v vector(16));
INSERT INTO hnsw_fl SELECT p, p, v FROM hnsw_fl_p;
CREATE INDEX hnsw_fl_idx ON hnsw_fl USING lance_hnsw (v) WITH (m = 2, ef_construction = 8);

-- only superusers may change it: it is not a tuning knob
SET ROLE pg_monitor;
SET lancedb.hnsw_debug_forced_link_tries = 0;
RESET ROLE;

SET lancedb.hnsw_debug_forced_link_tries = 0;
INSERT INTO hnsw_fl SELECT p + 40 * k, p, v FROM hnsw_fl_p, generate_series(1, 5) k;
RESET lancedb.hnsw_debug_forced_link_tries;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_fl_idx');

-- with a candidate list as long as the table, a search for a point finds
-- every copy of it (all 240 elements reachable)
SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 240;
SELECT count(*) AS copies_found FROM hnsw_fl_p q CROSS JOIN LATERAL
	(SELECT r.p FROM hnsw_fl r ORDER BY r.v <-> q.v LIMIT 6) s
	WHERE s.p = q.p;
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;

DROP TABLE hnsw_fl, hnsw_fl_p;
