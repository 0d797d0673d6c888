
-- ---------------------------------------------------------------------
-- Writing Lance foreign tables (INSERT/COPY/UPDATE/DELETE are FDW
-- callbacks; these change whole datasets)
-- ---------------------------------------------------------------------

CREATE FUNCTION lance_create_table(foreign_table regclass, version text DEFAULT '2.2')
	RETURNS void
	AS 'MODULE_PATHNAME', 'lance_create_table' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION lance_create_table(regclass, text) IS
	'create the empty Lance dataset of a foreign table from its columns, in file version 2.0, 2.1 or 2.2';

CREATE FUNCTION lance_restore(foreign_table regclass, version bigint)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'lance_restore' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION lance_restore(regclass, bigint) IS
	'commit a new version of a Lance foreign table''s dataset equal to an older version; returns the new version';

CREATE FUNCTION lance_cleanup(foreign_table regclass, older_than timestamptz,
	OUT versions_removed bigint, OUT files_removed bigint, OUT bytes_removed bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'lance_cleanup' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION lance_cleanup(regclass, timestamptz) IS
	'remove versions committed before older_than (never the newest) and the files no kept version needs';

CREATE FUNCTION lance_compact(foreign_table regclass)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'lance_compact' LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION lance_compact(regclass) IS
	'rewrite small fragments and fragments with deleted rows of a Lance foreign table''s dataset into full ones, as one new version; returns the rows moved';
