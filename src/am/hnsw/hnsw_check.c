/*-------------------------------------------------------------------------
 *
 * hnsw_check.c
 *	  lance_hnsw_check(index): verify a graph's structure.
 *
 * Checks that every link names an element that exists and lives on the
 * link's level, that the entry point is an element of the top level, and
 * that every live element can be reached from the entry point on level 0,
 * where every search ends (a link on a higher level only guides a greedy
 * descent, it does not make an element findable).  Returns
 * the counts it found rather than stopping at the first problem, so a
 * crash test can tell "nothing wrong" from "this much wrong".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "am/hnsw/hnsw.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(lance_hnsw_check);

Datum
lance_hnsw_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index;
	HnswMetaPageData meta;
	HnswShape	shape;
	HnswElementSet el;
	int64		live = 0;
	int64		badLinks = 0;
	int64		badLevels = 0;
	int64		unreachable = 0;
	int			maxLevel = -1;
	bool		entryOk;
	uint32	   *links;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	index = relation_open(indexoid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_rel->relam != get_index_am_oid("lance_hnsw", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a lance_hnsw index", RelationGetRelationName(index))));

	HnswReadMeta(index, &meta);
	shape.dim = meta.dim;
	shape.m = meta.m;
	shape.efConstruction = meta.efConstruction;
	shape.metric = (HnswMetric) meta.metric;

	/* every element, and the links that name nothing or the wrong level */
	HnswCollectElements(index, &shape, &el, NULL);
	for (int64 i = 0; i < el.n; i++)
	{
		if (!el.deleted[i])
		{
			live++;
			maxLevel = Max(maxLevel, el.levels[i]);
		}
	}

	links = palloc(sizeof(uint32) * HnswLevelSlots(shape.m, 0));
	for (int64 i = 0; i < el.n; i++)
	{
		for (int level = 0; level <= el.levels[i]; level++)
		{
			int			n = HnswReadLinks(index, &shape, el.ids[i], level, links);

			for (int j = 0; j < n; j++)
			{
				int64		k;

				if (links[j] == HNSW_INVALID_ID)
					continue;
				k = HnswFindElement(&el, links[j]);
				if (k < 0 || links[j] == el.ids[i])
					badLinks++;
				else if (el.levels[k] < level)
					badLevels++;
			}
		}
	}

	/* the entry point, and what can be reached from it */
	if (meta.entryId == HNSW_INVALID_ID)
		entryOk = live == 0 && meta.entryLevel == -1;
	else
	{
		int64		k = HnswFindElement(&el, meta.entryId);

		entryOk = k >= 0 && el.levels[k] == meta.entryLevel && meta.entryLevel >= maxLevel;
		HnswReachFrom(index, &shape, &el, meta.entryId);
	}
	for (int64 i = 0; i < el.n; i++)
		if (!el.deleted[i] && !el.reached[i])
			unreachable++;

	relation_close(index, AccessShareLock);

	values[0] = Int64GetDatum(live);
	values[1] = Int64GetDatum(el.n - live);
	values[2] = Int32GetDatum(meta.entryLevel);
	values[3] = Int64GetDatum(unreachable);
	values[4] = Int64GetDatum(badLinks);
	values[5] = Int64GetDatum(badLevels);
	values[6] = BoolGetDatum(entryOk && unreachable == 0 && badLinks == 0 && badLevels == 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
