
-- ---------------------------------------------------------------------
-- Lance foreign tables
-- ---------------------------------------------------------------------

CREATE FUNCTION lancedb_fdw_handler() RETURNS fdw_handler
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT;

CREATE FUNCTION lancedb_fdw_validator(text[], oid) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER lancedb_fdw
	HANDLER lancedb_fdw_handler
	VALIDATOR lancedb_fdw_validator;

CREATE FUNCTION lance_versions(foreign_table regclass,
	OUT version bigint, OUT "timestamp" timestamptz, OUT rows bigint,
	OUT fragments integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'lance_versions' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION lance_versions(regclass) IS
	'versions of a Lance foreign table''s dataset: number, commit time, live rows, fragments';
