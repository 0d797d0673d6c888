-- lance_bm25: building, querying, writes, VACUUM, edge cases and errors.
-- The tables are tiny, so plans are forced onto the index.
SET enable_seqscan = off;

SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'lance_bm25' ORDER BY 1;

CREATE TABLE bm (id int PRIMARY KEY, body text);
INSERT INTO bm VALUES
	(1, 'The quick brown fox jumps over the lazy dog'),
	(2, 'A quick brown dog outpaces a quick fox'),
	(3, 'Lazy afternoons: the dog sleeps, the fox waits'),
	(4, NULL),
	(5, ''),
	(6, 'Foxes and hounds; hounds and foxes.'),
	(7, 'brown bread, brown rice, brown sugar');
CREATE INDEX bm_idx ON bm USING lance_bm25 (body);

EXPLAIN (COSTS OFF) SELECT id FROM bm ORDER BY body <@> 'quick fox' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM bm WHERE body @@@ 'fox';

-- ranking: the operator gives the negated score, lance_bm25_score the score
SELECT id, round((body <@> 'quick fox')::numeric, 6) AS neg,
	round(lance_bm25_score(body, 'quick fox')::numeric, 6) AS score
FROM bm ORDER BY body <@> 'quick fox' LIMIT 5;

-- the scan node takes the scores the scan computed instead of tokenizing
-- the rows again, in its output and in its filter
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, -(body <@> 'quick fox'), lance_bm25_score(body, 'quick fox') FROM bm
WHERE lance_bm25_score(body, 'quick fox') > 0 ORDER BY body <@> 'quick fox' LIMIT 3;
-- while another ranking scan of another query runs between its rows (the
-- statistics left for scoring text are then that query's)
SELECT a.id, round(a.s::numeric, 6), b.id AS other FROM
	(SELECT id, lance_bm25_score(body, 'quick fox') AS s FROM bm
	 ORDER BY body <@> 'quick fox' LIMIT 3) a,
	LATERAL (SELECT id FROM bm WHERE id <> a.id ORDER BY body <@> 'lazy dog' LIMIT 1) b;
-- a row reached through a HOT chain has another ctid than the index
-- returned: its text is scored, to the same score
UPDATE bm SET id = id WHERE id = 2;
SELECT id, round((body <@> 'quick fox')::numeric, 6) AS neg
FROM bm ORDER BY body <@> 'quick fox' LIMIT 3;

-- boolean matching: OR by default, AND, NOT, phrases, parentheses
SELECT id FROM bm WHERE body @@@ 'fox dog' ORDER BY id;
SELECT id FROM bm WHERE body @@@ 'fox AND dog' ORDER BY id;
SELECT id FROM bm WHERE body @@@ 'fox AND NOT lazy' ORDER BY id;
SELECT id FROM bm WHERE body @@@ '"quick brown"' ORDER BY id;
SELECT id FROM bm WHERE body @@@ '"brown quick"' ORDER BY id;
SELECT id FROM bm WHERE body @@@ '(bread OR hounds) AND NOT rice' ORDER BY id;
SELECT id FROM bm WHERE body @@@ 'QUICK' ORDER BY id;
-- a query without a term matches nothing
SELECT count(*) FROM bm WHERE body @@@ '';
SELECT count(*) FROM bm WHERE body @@@ '  ,;  ';

-- the filter and the ranking together
SELECT id FROM bm WHERE body @@@ 'dog AND NOT lazy' ORDER BY body <@> 'quick' LIMIT 5;

-- inserts are visible at once, and scores equal a fresh build of the rows
INSERT INTO bm VALUES (8, 'quick quick quick fox'), (9, 'the fox'), (10, NULL);
CREATE TEMP TABLE live AS
	SELECT id, -(body <@> 'quick fox') AS s FROM bm ORDER BY body <@> 'quick fox' LIMIT 10;
SELECT id, round(s::numeric, 6) FROM live ORDER BY s DESC, id;
REINDEX INDEX bm_idx;
CREATE TEMP TABLE fresh AS
	SELECT id, -(body <@> 'quick fox') AS s FROM bm ORDER BY body <@> 'quick fox' LIMIT 10;
SELECT count(*) AS differ FROM live FULL JOIN fresh USING (id)
WHERE live.s IS NULL OR fresh.s IS NULL OR abs(live.s - fresh.s) > 1e-12;

-- deleted rows leave the statistics at VACUUM: scores equal a fresh build
DELETE FROM bm WHERE id IN (1, 8);
VACUUM bm;
CREATE TEMP TABLE vacuumed AS
	SELECT id, -(body <@> 'quick fox') AS s FROM bm ORDER BY body <@> 'quick fox' LIMIT 10;
REINDEX INDEX bm_idx;
CREATE TEMP TABLE rebuilt AS
	SELECT id, -(body <@> 'quick fox') AS s FROM bm ORDER BY body <@> 'quick fox' LIMIT 10;
SELECT count(*) AS differ FROM vacuumed FULL JOIN rebuilt USING (id)
WHERE vacuumed.s IS NULL OR rebuilt.s IS NULL OR abs(vacuumed.s - rebuilt.s) > 1e-12;
SELECT count(*) FROM vacuumed;

-- many inserts: the buffer becomes segments, answers stay those of a build
INSERT INTO bm SELECT g, 'doc ' || g || CASE WHEN g % 7 = 0 THEN ' lucky seven' ELSE ' plain' END
FROM generate_series(100, 1400) g;
SELECT count(*) FROM bm WHERE body @@@ 'lucky';
CREATE TEMP TABLE many AS
	SELECT id, -(body <@> 'lucky fox') AS s FROM bm ORDER BY body <@> 'lucky fox' LIMIT 20;
REINDEX INDEX bm_idx;
CREATE TEMP TABLE many_fresh AS
	SELECT id, -(body <@> 'lucky fox') AS s FROM bm ORDER BY body <@> 'lucky fox' LIMIT 20;
SELECT count(*) AS differ FROM many FULL JOIN many_fresh USING (id)
WHERE many.s IS NULL OR many_fresh.s IS NULL OR abs(many.s - many_fresh.s) > 1e-12;
-- more rows than the first top-k batch come out in order
SELECT count(*), bool_and(s IS NOT NULL) FROM (
	SELECT id, body <@> 'plain' AS s FROM bm ORDER BY body <@> 'plain' LIMIT 1000) t;

-- VACUUM rewrites only the segments that hold dead rows, and the scores
-- after it equal a fresh build: a build's segment, two segments of 128
-- inserts each and 44 rows in the insert buffer; rows die in the first
-- inserted segment only
REINDEX INDEX bm_idx;
INSERT INTO bm SELECT g, 'late ' || g || CASE WHEN g % 3 = 0 THEN ' lucky' ELSE ' plain' END
FROM generate_series(2000, 2299) g;
CREATE TEMP TABLE segs_before AS
	SELECT row_number() OVER (ORDER BY serial) AS n, serial, docs
	FROM lance_bm25_segments('bm_idx') WHERE serial IS NOT NULL;
SELECT n, docs FROM segs_before ORDER BY n;
SELECT docs AS buffered FROM lance_bm25_segments('bm_idx') WHERE serial IS NULL;
DELETE FROM bm WHERE id BETWEEN 2000 AND 2099;
VACUUM (INDEX_CLEANUP ON) bm;
SELECT n, serial IN (SELECT serial FROM lance_bm25_segments('bm_idx')) AS untouched
FROM segs_before ORDER BY n;
SELECT docs FROM lance_bm25_segments('bm_idx') ORDER BY serial;
CREATE TEMP TABLE partly AS
	SELECT id, -(body <@> 'lucky late') AS s FROM bm ORDER BY body <@> 'lucky late' LIMIT 20;
REINDEX INDEX bm_idx;
CREATE TEMP TABLE partly_fresh AS
	SELECT id, -(body <@> 'lucky late') AS s FROM bm ORDER BY body <@> 'lucky late' LIMIT 20;
SELECT count(*) AS differ FROM partly FULL JOIN partly_fresh USING (id)
WHERE partly.s IS NULL OR partly_fresh.s IS NULL OR abs(partly.s - partly_fresh.s) > 1e-12;
SELECT lance_bm25_segments('bm');
DELETE FROM bm WHERE id >= 2000;
VACUUM bm;

-- rows deleted all over the index: VACUUM records them beside each segment
-- (dead) instead of rewriting it; past one dead document in five it
-- rewrites the segment without them.  Either way the scores and match
-- counts equal those of a fresh build of the same rows, rows inserted
-- after it into the dead rows' heap TIDs included.
CREATE TABLE sd (id int, body text);
INSERT INTO sd SELECT g, 'doc ' || g || CASE WHEN g % 7 = 0 THEN ' lucky seven' ELSE ' plain' END ||
	CASE WHEN g % 5 = 0 THEN ' fox' ELSE '' END
FROM generate_series(1, 1300) g;
CREATE INDEX sd_idx ON sd USING lance_bm25 (body);
INSERT INTO sd SELECT g, 'late ' || g || CASE WHEN g % 3 = 0 THEN ' lucky' ELSE ' plain' END
FROM generate_series(2000, 2299) g;
-- rankings and counts that differ from a fresh build of the same rows
CREATE FUNCTION pg_temp.sd_differs() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	queries text[] := ARRAY['lucky fox', 'plain late', 'reborn', 'seven'];
	n bigint;
BEGIN
	CREATE TEMP TABLE sd_fresh AS SELECT * FROM sd;
	CREATE INDEX ON sd_fresh USING lance_bm25 (body);
	SELECT count(*) INTO n FROM (
		SELECT q, r.id, r.s FROM unnest(queries) q,
			LATERAL (SELECT id, -(body <@> q) AS s FROM sd ORDER BY body <@> q LIMIT 20) r) g
	FULL JOIN (
		SELECT q, r.id, r.s FROM unnest(queries) q,
			LATERAL (SELECT id, -(body <@> q) AS s FROM sd_fresh ORDER BY body <@> q LIMIT 20) r) f
	USING (q, id)
	WHERE g.s IS NULL OR f.s IS NULL OR abs(g.s - f.s) > 1e-12;
	n := n + (SELECT count(*) FROM unnest(ARRAY['lucky', 'late AND plain', '"lucky fox"']) q
			  WHERE (SELECT count(*) FROM sd WHERE body @@@ q) <>
				(SELECT count(*) FROM sd_fresh WHERE body @@@ q));
	DROP TABLE sd_fresh;
	RETURN n;
END
$$;
SELECT docs, dead FROM lance_bm25_segments('sd_idx') ORDER BY serial;
CREATE TEMP TABLE sd_dead AS SELECT ctid AS tid FROM sd WHERE id % 10 = 3;
DELETE FROM sd WHERE id % 10 = 3;
VACUUM (INDEX_CLEANUP ON) sd;
SELECT docs, dead FROM lance_bm25_segments('sd_idx') ORDER BY serial;
INSERT INTO sd SELECT g, 'reborn ' || g || ' lucky fox' FROM generate_series(3000, 3099) g;
SELECT count(*) > 0 AS tids_reused FROM sd WHERE id >= 3000 AND ctid IN (SELECT tid FROM sd_dead);
SELECT pg_temp.sd_differs() AS differ;
DELETE FROM sd WHERE id % 10 IN (4, 5);
VACUUM (INDEX_CLEANUP ON) sd;
SELECT docs, dead FROM lance_bm25_segments('sd_idx') ORDER BY serial;
SELECT pg_temp.sd_differs() AS differ;
DROP TABLE sd;

-- a build larger than maintenance_work_mem spills sorted runs and merges
-- them; its answers equal those of a build in memory
CREATE TABLE sp AS
	SELECT g AS id, 'w' || (g % 97) || ' w' || (g % 89) || ' common ' || md5(g::text) AS body
	FROM generate_series(1, 20000) g;
SET maintenance_work_mem = '1MB';
CREATE INDEX sp_idx ON sp USING lance_bm25 (body);
RESET maintenance_work_mem;
CREATE TEMP TABLE spilled AS
	SELECT id, -(body <@> 'w5 w7 common') AS s FROM sp ORDER BY body <@> 'w5 w7 common' LIMIT 20;
REINDEX INDEX sp_idx;
CREATE TEMP TABLE in_memory AS
	SELECT id, -(body <@> 'w5 w7 common') AS s FROM sp ORDER BY body <@> 'w5 w7 common' LIMIT 20;
SELECT count(*) AS differ FROM spilled FULL JOIN in_memory USING (id)
WHERE spilled.s IS NULL OR in_memory.s IS NULL OR abs(spilled.s - in_memory.s) > 1e-12;
SELECT count(*) FROM sp WHERE body @@@ 'w5 AND w7';
DROP TABLE sp;

-- a very long document, and non-ASCII text
INSERT INTO bm VALUES (20, repeat('needle haystack ', 20000) || 'rare'),
	(21, 'Café naïve Ελληνικά straße'), (22, 'cafe naive');
SELECT id, round((-(body <@> 'needle rare'))::numeric, 6) FROM bm
ORDER BY body <@> 'needle rare' LIMIT 2;
-- the built-in tokenizer splits on every non-ASCII byte, like the reference
SELECT id FROM bm WHERE body @@@ 'caf' ORDER BY id;
SELECT id FROM bm WHERE body @@@ '"stra e"' ORDER BY id;

-- a text search configuration tokenizes instead (stems, drops stop words)
CREATE TABLE bm_en (id int, body text);
INSERT INTO bm_en VALUES (1, 'The runners were running'), (2, 'He runs'), (3, 'Café naïve Ελληνικά'),
	(4, 'the the the');
CREATE INDEX ON bm_en USING lance_bm25 (body) WITH (text_config = 'english');
SELECT id FROM bm_en WHERE body @@@ 'run' ORDER BY id;
-- phrase positions count the stop words the configuration drops
SELECT id FROM bm_en WHERE body @@@ '"runners were running"' ORDER BY id;
SELECT id FROM bm_en WHERE body @@@ '"runners running"' ORDER BY id;
SELECT id FROM bm_en WHERE body @@@ 'ελληνικά' ORDER BY id;
-- a query of stop words has no term
SELECT count(*) FROM bm_en WHERE body @@@ 'the';
SELECT id, round(lance_bm25_score(body, 'running')::numeric, 6) FROM bm_en
ORDER BY body <@> 'running' LIMIT 3;

-- malformed queries are errors that say where
SELECT count(*) FROM bm WHERE body @@@ '"unterminated phrase';
SELECT count(*) FROM bm WHERE body @@@ '(fox';
SELECT count(*) FROM bm WHERE body @@@ 'fox)';
SELECT count(*) FROM bm WHERE body @@@ 'fox AND';
SELECT count(*) FROM bm WHERE body @@@ 'OR fox';
SELECT count(*) FROM bm WHERE body @@@ '()';
SELECT count(*) FROM bm WHERE body @@@ 'NOT fox';
SELECT count(*) FROM bm WHERE body @@@ 'dog OR NOT fox';
SELECT lance_bm25_parse('a AND (b OR "c d")');

-- phrases need positions
CREATE TABLE bm_np (body text);
INSERT INTO bm_np VALUES ('alpha beta');
CREATE INDEX ON bm_np USING lance_bm25 (body) WITH (positions = off);
SELECT count(*) FROM bm_np WHERE body @@@ 'alpha beta';
SELECT count(*) FROM bm_np WHERE body @@@ '"alpha beta"';

-- bad options
CREATE INDEX ON bm_np USING lance_bm25 (body) WITH (text_config = 'klingon');
CREATE INDEX ON bm_np USING lance_bm25 (body) WITH (b = 1.5);

-- the ranking operator outside a ranking scan has no statistics
RESET enable_seqscan;
SELECT body <@> 'never ranked' FROM bm_np;

-- hybrid search: reciprocal rank fusion of the BM25 and the vector ranking
SET enable_seqscan = off;
CREATE TABLE hy (id int PRIMARY KEY, body text, emb vector(2));
INSERT INTO hy VALUES (1, 'red apple', '[0, 1]'), (2, 'green apple pie', '[1, 0]'),
	(3, 'red car', '[0.9, 0.1]'), (4, 'blue sky', '[0.1, 0.9]');
CREATE INDEX ON hy USING lance_bm25 (body);
-- BM25: 1 (short, apple), 2; vector: 1 (exact), 4, 3, 2
SELECT id, round(score::numeric, 6) FROM lance_hybrid_search('hy', 'id', 'body', 'apple', 'emb', '[0, 1]', 3);

-- text[] documents: elements are tokenized in turn, phrases stay inside one
CREATE TABLE arr (id int, body text[]);
INSERT INTO arr VALUES (1, ARRAY['red fox', 'blue whale']), (2, ARRAY['fox blue', NULL, 'sky']),
	(3, '{}'), (4, NULL), (5, ARRAY['whale whale whale']);
CREATE INDEX ON arr USING lance_bm25 (body);
SELECT id, round(lance_bm25_score(body, 'whale fox')::numeric, 6) FROM arr
ORDER BY body <@> 'whale fox' LIMIT 5;
SELECT id FROM arr WHERE body @@@ '"fox blue"' ORDER BY id;
SELECT id FROM arr WHERE body @@@ '"blue sky"' ORDER BY id;
SELECT id FROM arr WHERE body @@@ 'sky AND fox' ORDER BY id;
INSERT INTO arr VALUES (6, ARRAY['one fox', 'two fox']);
SELECT id FROM arr WHERE body @@@ 'fox' ORDER BY id;

-- an index on an empty table; a backend keeps the parsed insert buffer,
-- and a buffer whose rows all died and were flushed away, then refilled to
-- the same length, is not the old one
CREATE TABLE buf (id int, body text);
CREATE INDEX buf_idx ON buf USING lance_bm25 (body);
INSERT INTO buf VALUES (1, 'alpha beta');
SELECT id FROM buf ORDER BY body <@> 'alpha' LIMIT 5;
DELETE FROM buf;
VACUUM buf;
SELECT * FROM lance_bm25_segments('buf_idx');
INSERT INTO buf VALUES (2, 'gamma betb');
SELECT id FROM buf ORDER BY body <@> 'alpha' LIMIT 5;
SELECT id FROM buf ORDER BY body <@> 'gamma' LIMIT 5;
SELECT id FROM buf WHERE body @@@ 'gamma' ORDER BY id;

DROP TABLE bm, bm_en, bm_np, hy, arr, buf;
