
-- the indexes a Lance foreign table's dataset has (issue 9)

CREATE FUNCTION lance_indexes(foreign_table regclass,
	OUT name text, OUT columns text[], OUT index_type text, OUT uuid text,
	OUT dataset_version bigint, OUT fragments bigint[], OUT unindexed_fragments bigint[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'lance_indexes' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION lance_indexes(regclass) IS
	'indexes of a Lance foreign table''s dataset: name, columns, kind, files, fragments covered and not';
