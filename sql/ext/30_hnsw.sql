-- lance_hnsw: HNSW graph index access method for vectors (src/am/hnsw).

CREATE FUNCTION lance_hnsw_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD lance_hnsw TYPE INDEX HANDLER lance_hnsw_handler;
COMMENT ON ACCESS METHOD lance_hnsw IS 'HNSW graph index for vector similarity search';

-- Support function 1 of each operator class names its metric, so that the
-- index computes distances with the SIMD kernels directly.
CREATE FUNCTION lance_hnsw_l2_metric(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lance_hnsw_ip_metric(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lance_hnsw_cosine_metric(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lance_hnsw_l1_metric(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING lance_hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 lance_hnsw_l2_metric(internal);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING lance_hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 lance_hnsw_ip_metric(internal);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING lance_hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 lance_hnsw_cosine_metric(internal);

CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING lance_hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 lance_hnsw_l1_metric(internal);

-- Verify a lance_hnsw index's graph: live and deleted elements, the entry
-- point's level, live elements the entry point cannot reach, links to
-- nothing (or to the element itself), links to elements that do not live
-- on the link's level, and whether all is well.
CREATE FUNCTION lance_hnsw_check(index regclass,
	OUT elements bigint, OUT deleted bigint, OUT entry_level integer,
	OUT unreachable bigint, OUT bad_links bigint, OUT bad_levels bigint,
	OUT ok boolean)
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
