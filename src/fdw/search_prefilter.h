/*-------------------------------------------------------------------------
 *
 * search_prefilter.h
 *	  Integer comparisons and text equalities of a search's quals, tested
 *	  on decoded columns without the executor.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_SEARCH_PREFILTER_H
#define LANCEDB_FDW_SEARCH_PREFILTER_H

#include "postgres.h"

#include "fdw/convert.h"
#include "lance/dataset.h"
#include "nodes/pg_list.h"

typedef struct LanceQualFilter LanceQualFilter;

/*
 * The quals (a scan's fdw_exprs on relation scanrelid) as comparisons of
 * integer columns with constants and equalities of text columns with
 * constants, or NULL when any qual is of another shape.  qual_attnums[i] is the i-th column the quals use, convs[i] its
 * converter.
 */
extern LanceQualFilter *lance_qual_filter_compile(List *quals, Index scanrelid, int nqualcols,
												  const AttrNumber *qual_attnums,
												  LanceConverter *const *convs);

/*
 * Whether row r of the batch passes every comparison, as the quals would
 * decide it; cols[i] is the batch's column of the i-th qual column.
 */
extern bool lance_qual_filter_pass(const LanceQualFilter *f, const LanceBatch *batch,
								   const int *cols, int64 r);

#endif							/* LANCEDB_FDW_SEARCH_PREFILTER_H */
