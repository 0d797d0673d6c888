
-- ---------------------------------------------------------------------------
-- lance_bm25: exact BM25 full-text search as an index access method.
-- See docs/bm25.md and src/am/bm25/bm25.h.
-- ---------------------------------------------------------------------------

CREATE FUNCTION lance_bm25_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD lance_bm25 TYPE INDEX HANDLER lance_bm25_handler;
COMMENT ON ACCESS METHOD lance_bm25 IS 'exact BM25 full-text search with phrases';

-- The negated BM25 score of a row for a query, so ORDER BY ... ASC puts the
-- best first.  Needs a lance_bm25 scan ranking the same query (see bm25_ops.c).
CREATE FUNCTION lance_bm25_rank(text, text) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- The positive BM25 score, for SELECT lists and hybrid queries.
CREATE FUNCTION lance_bm25_score(body text, query text) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- Boolean match: AND, OR (default), NOT, "phrases", parentheses.
CREATE FUNCTION lance_bm25_match(text, text) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- True when a query has terms; raises a syntax error when it is malformed.
CREATE FUNCTION lance_bm25_parse(query text) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The same for text[] documents: the elements are tokenized in turn, and a
-- phrase never spans two of them.
CREATE FUNCTION lance_bm25_rank(text[], text) RETURNS float8
	AS 'MODULE_PATHNAME', 'lance_bm25_rank' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
CREATE FUNCTION lance_bm25_score(body text[], query text) RETURNS float8
	AS 'MODULE_PATHNAME', 'lance_bm25_score' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
CREATE FUNCTION lance_bm25_match(text[], text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'lance_bm25_match' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- body <@> query (negated) or lance_bm25_score(body, query) as a lance_bm25
-- index scan node evaluates them after planning: the score the scan computed
-- for the row it returned with that ctid, or the row's text scored as above.
-- Not for direct use (see bm25_score.c).
CREATE FUNCTION lance_bm25_scored(body text, query text, index regclass, row_tid tid, negated boolean)
RETURNS float8
	AS 'MODULE_PATHNAME', 'lance_bm25_scored' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
CREATE FUNCTION lance_bm25_scored(body text[], query text, index regclass, row_tid tid, negated boolean)
RETURNS float8
	AS 'MODULE_PATHNAME', 'lance_bm25_scored' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

CREATE OPERATOR <@> (
	LEFTARG = text, RIGHTARG = text, FUNCTION = lance_bm25_rank
);
CREATE OPERATOR <@> (
	LEFTARG = text[], RIGHTARG = text, FUNCTION = lance_bm25_rank
);

CREATE OPERATOR @@@ (
	LEFTARG = text, RIGHTARG = text, FUNCTION = lance_bm25_match,
	RESTRICT = matchingsel, JOIN = matchingjoinsel
);

CREATE OPERATOR @@@ (
	LEFTARG = text[], RIGHTARG = text, FUNCTION = lance_bm25_match,
	RESTRICT = matchingsel, JOIN = matchingjoinsel
);

CREATE OPERATOR CLASS lance_bm25_text_ops
	DEFAULT FOR TYPE text USING lance_bm25 AS
	OPERATOR 1 @@@ (text, text),
	OPERATOR 2 <@> (text, text) FOR ORDER BY float_ops;

CREATE OPERATOR CLASS lance_bm25_text_array_ops
	DEFAULT FOR TYPE text[] USING lance_bm25 AS
	OPERATOR 1 @@@ (text[], text),
	OPERATOR 2 <@> (text[], text) FOR ORDER BY float_ops;

-- Hybrid search: reciprocal rank fusion (k = 60, LanceDB's default) of the
-- BM25 ranking of text_column for query and the vector ranking of
-- vector_column by <-> to query_vector, each taken to limit_each rows.
-- Returns the table's id_column (as text) and the fused score, best first.
CREATE FUNCTION lance_hybrid_search(
	tbl regclass, id_column name, text_column name, query text,
	vector_column name, query_vector vector,
	k integer DEFAULT 10, limit_each integer DEFAULT 50, rrf_k integer DEFAULT 60)
RETURNS TABLE (id text, score float8)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'WITH fts AS (
			SELECT %1$I::text AS id, row_number() OVER () AS r
			FROM (SELECT %1$I FROM %2$s ORDER BY %3$I <@> $1 LIMIT $3) s),
		 ann AS (
			SELECT %1$I::text AS id, row_number() OVER () AS r
			FROM (SELECT %1$I FROM %2$s ORDER BY %4$I <-> $2 LIMIT $3) s)
		 SELECT coalesce(f.id, a.id),
				coalesce(1.0::float8 / ($4 + f.r), 0) + coalesce(1.0::float8 / ($4 + a.r), 0)
		 FROM fts f FULL JOIN ann a ON f.id = a.id
		 ORDER BY 2 DESC, 1
		 LIMIT $5',
		id_column, tbl, text_column, vector_column)
	USING query, query_vector, limit_each, rrf_k, k;
END
$$;

-- The segments of a lance_bm25 index, and its insert buffer (serial NULL);
-- dead: documents of the segment that VACUUM recorded deleted.
CREATE FUNCTION lance_bm25_segments(index regclass,
	OUT serial bigint, OUT docs bigint, OUT terms bigint, OUT pages bigint,
	OUT dead bigint)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'lance_bm25_segments' LANGUAGE C STRICT;
