/*-------------------------------------------------------------------------
 *
 * versions.c
 *	  lance_versions(regclass): the versions of a foreign table's dataset.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_foreign_table.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "fdw/lance_fdw.h"

PG_FUNCTION_INFO_V1(lance_versions);

/*
 * lance_versions
 *		One row per version: number, commit time, live rows and fragments.
 */
Datum
lance_versions(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LanceTableOptions *opts;
	Storage    *st;
	LanceVersionInfo *versions;
	int			count;
	CoreError	err;
	CoreStatus	status;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", get_rel_name(relid))));

	InitMaterializedSRF(fcinfo, 0);
	opts = lance_get_table_options(relid);
	if (lance_storage_open(opts->location, opts->storage_options, &st, &err) != CORE_OK)
		lance_report_core_error(&err);
	status = lance_dataset_versions(st, "", &versions, &count, &err);
	storage_close(st);
	if (status != CORE_OK)
		lance_report_core_error(&err);

	for (int i = 0; i < count; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false};

		values[0] = Int64GetDatum((int64) versions[i].version);
		values[1] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) versions[i].timestamp_sec) +
										versions[i].timestamp_nsec / 1000);
		values[2] = Int64GetDatum((int64) versions[i].num_rows);
		values[3] = Int32GetDatum(versions[i].num_fragments);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	free(versions);

	return (Datum) 0;
}
