
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

-- Upsert (INSERT ... ON CONFLICT cannot target a foreign table): rows of
-- source_query whose key columns match a row of the table replace it, the
-- others are appended.  Both statements run in the caller's transaction,
-- so the whole merge becomes one Lance version at commit.  Source columns
-- are matched to the table's by name; a table column the source lacks is
-- kept on update and null on insert.  A key matching several source rows
-- is an error, as in LanceDB (a Lance row is updated at most once a statement).
CREATE FUNCTION lance_merge_insert(foreign_table regclass, source_query text,
	key_columns text[], OUT updated bigint, OUT inserted bigint)
	RETURNS record
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	src_cols text[];
	set_list text;
	ins_list text;
	match text;
BEGIN
	IF key_columns IS NULL OR cardinality(key_columns) = 0 THEN
		RAISE EXCEPTION 'lance_merge_insert needs at least one key column'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the source's columns, by running it for its shape only
	EXECUTE format('CREATE TEMP TABLE lance_merge_src ON COMMIT DROP AS SELECT * FROM (%s) s LIMIT 0',
				   source_query);
	SELECT array_agg(attname::text ORDER BY attnum) INTO src_cols
		FROM pg_attribute
		WHERE attrelid = 'lance_merge_src'::regclass AND attnum > 0 AND NOT attisdropped;
	DROP TABLE lance_merge_src;
	IF NOT key_columns <@ src_cols THEN
		RAISE EXCEPTION 'key columns % are not all columns of the source query', key_columns
			USING ERRCODE = 'undefined_column';
	END IF;
	SELECT string_agg(format('%I = s.%I', a.attname, a.attname), ', '),
		   string_agg(quote_ident(a.attname), ', ')
		INTO set_list, ins_list
		FROM pg_attribute a
		WHERE a.attrelid = foreign_table AND a.attnum > 0 AND NOT a.attisdropped
		  AND a.attname::text = ANY (src_cols);
	SELECT string_agg(format('t.%I = s.%I', k, k), ' AND ') INTO match
		FROM unnest(key_columns) k;

	EXECUTE format('UPDATE %s t SET %s FROM (%s) s WHERE %s',
				   foreign_table, set_list, source_query, match);
	GET DIAGNOSTICS updated = ROW_COUNT;
	EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM (%s) s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE %s)',
				   foreign_table, ins_list, ins_list, source_query, foreign_table, match);
	GET DIAGNOSTICS inserted = ROW_COUNT;
END
$$;

COMMENT ON FUNCTION lance_merge_insert(regclass, text, text[]) IS
	'upsert the rows of a query into a Lance foreign table by key columns: matched rows are updated, the others inserted, as one version';
