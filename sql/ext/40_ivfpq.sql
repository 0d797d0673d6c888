-- lance_ivfpq: IVF-PQ index access method (src/am/ivfpq).

CREATE FUNCTION lance_ivfpq_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD lance_ivfpq TYPE INDEX HANDLER lance_ivfpq_handler;
COMMENT ON ACCESS METHOD lance_ivfpq IS 'IVF-PQ vector index with exact re-ranking';

-- Support function 1 is the exact distance of the ORDER BY operator: the
-- scan re-ranks candidates with it, and the build tells the metric from it.
CREATE OPERATOR CLASS vector_l2_ops
	FOR TYPE vector USING lance_ivfpq AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 l2_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING lance_ivfpq AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING lance_ivfpq AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 cosine_distance(vector, vector);

CREATE FUNCTION lance_ivfpq_check(regclass) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION lance_ivfpq_check(regclass) IS
	'verify a lance_ivfpq index; returns its entry count or raises index_corrupted';
-- it locks the index against inserts, as amcheck's checks do: owners grant it
REVOKE ALL ON FUNCTION lance_ivfpq_check(regclass) FROM PUBLIC;
