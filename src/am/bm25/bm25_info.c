/*-------------------------------------------------------------------------
 *
 * bm25_info.c
 *	  lance_bm25_segments(index): what a lance_bm25 index is made of.
 *
 * One row per segment (its serial, which a rewrite or new deletions
 * change, documents, terms, pages and how many of its documents VACUUM
 * recorded dead) and one for the insert buffer (its documents), read from
 * the metapage under the index lock in share mode.  For watching merges
 * and VACUUM, and for tests that check which segments VACUUM rewrote.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "am/bm25/bm25.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(lance_bm25_segments);

Datum
lance_bm25_segments(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	index;
	Bm25MetaPageData meta;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid) ?
						get_rel_name(indexoid) : "(unknown)")));
	if (pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(heapoid)),
				 errdetail("Reading an index's segments needs SELECT on its table.")));
	index = index_open(indexoid, AccessShareLock);
	if (index->rd_rel->relam != get_index_am_oid("lance_bm25", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("index \"%s\" is not a lance_bm25 index",
						RelationGetRelationName(index))));

	LockPage(index, BM25_META_BLKNO, ShareLock);
	Bm25ReadMeta(index, &meta);
	UnlockPage(index, BM25_META_BLKNO, ShareLock);
	index_close(index, AccessShareLock);

	InitMaterializedSRF(fcinfo, 0);
	for (uint32 i = 0; i < meta.nsegs; i++)
	{
		values[0] = Int64GetDatum((int64) meta.segs[i].serial);
		values[1] = Int64GetDatum((int64) meta.segs[i].ndocs);
		values[2] = Int64GetDatum((int64) meta.segs[i].nterms);
		values[3] = Int64GetDatum((int64) meta.segs[i].npages);
		values[4] = Int64GetDatum((int64) meta.segs[i].ndead);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (meta.buf_ndocs > 0)
	{
		nulls[0] = nulls[2] = nulls[3] = nulls[4] = true;
		values[1] = Int64GetDatum((int64) meta.buf_ndocs);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
