/*-------------------------------------------------------------------------
 *
 * indexes.c
 *	  lance_indexes(regclass): the indexes of a foreign table's dataset.
 *
 * One row per index the manifest of the table's version lists: its name,
 * the columns (dataset field names) it indexes, its kind as the manifest
 * names it ("BTree", "Vector", "Inverted", ...; a vector index's variant,
 * IVF_PQ or IVF_HNSW_SQ, is recorded in its own files, not here), the uuid
 * of its folder under _indices/, the version it was built at, and which of
 * the version's fragments it covers and which it does not: rows in the
 * latter were added after the index was built, and a search must read them
 * without it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fdw/lance_fdw.h"
#include "lance/index_meta.h"

PG_FUNCTION_INFO_V1(lance_indexes);

#define SUFFIX "IndexDetails"

/* A field's dotted path from the top of the schema. */
static char *
field_path(const LanceSchema *schema, int32 id)
{
	const LanceField *f = lance_schema_find_id(schema, id);
	char	   *path;

	if (f == NULL)
		return psprintf("(field %d)", id);
	path = pstrdup(f->name);
	for (f = f->parent; f != NULL; f = f->parent)
		path = psprintf("%s.%s", f->name, path);
	return path;
}

static Datum
int8_array(const int64 *values, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(values[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * lance_indexes
 *		One row per index of the table's version.
 */
Datum
lance_indexes(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LanceTableOptions *opts;
	LanceSource *src;
	const LanceManifest *m;
	LanceIndexList *list;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", get_rel_name(relid))));

	InitMaterializedSRF(fcinfo, 0);
	opts = lance_get_table_options(relid);
	src = lance_source_open(opts->location, opts->version, opts->storage_options);
	m = lance_source_manifest(src);
	list = lance_source_indexes(src);

	for (int i = 0; i < list->count; i++)
	{
		const LanceIndexInfo *ix = &list->indexes[i];
		Datum		values[7];
		bool		nulls[7] = {false};
		Datum	   *cols = palloc(sizeof(Datum) * Max(ix->num_fields, 1));
		int64	   *covered = palloc(sizeof(int64) * Max(ix->num_fragments, 1));
		int64	   *missing = palloc(sizeof(int64) * Max(m->num_fragments, 1));
		int			nmissing = 0;
		size_t		len = strlen(ix->details_type);
		size_t		slen = strlen(SUFFIX);

		for (int c = 0; c < ix->num_fields; c++)
			cols[c] = CStringGetTextDatum(field_path(lance_source_schema(src), ix->field_ids[c]));
		values[0] = CStringGetTextDatum(ix->name);
		values[1] = PointerGetDatum(construct_array(cols, ix->num_fields, TEXTOID, -1, false,
													TYPALIGN_INT));
		if (len > slen && strcmp(ix->details_type + len - slen, SUFFIX) == 0)
			values[2] = PointerGetDatum(cstring_to_text_with_len(ix->details_type, len - slen));
		else if (len > 0)
			values[2] = CStringGetTextDatum(ix->details_type);
		else
			nulls[2] = true;
		values[3] = CStringGetTextDatum(ix->uuid);
		values[4] = Int64GetDatum((int64) ix->dataset_version);

		if (ix->has_fragments)
		{
			for (int64 f = 0; f < ix->num_fragments; f++)
				covered[f] = ix->fragment_ids[f];
			for (int f = 0; f < m->num_fragments; f++)
			{
				bool		found = false;

				for (int64 g = 0; g < ix->num_fragments && !found; g++)
					found = ix->fragment_ids[g] == m->fragments[f].id;
				if (!found)
					missing[nmissing++] = (int64) m->fragments[f].id;
			}
			values[5] = int8_array(covered, (int) ix->num_fragments);
			values[6] = int8_array(missing, nmissing);
		}
		else
			nulls[5] = nulls[6] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}
