/*-------------------------------------------------------------------------
 *
 * source.c
 *	  A Lance dataset opened from the backend: errors and lifetimes.
 *
 * The core returns a status and a message; here the status becomes a
 * SQLSTATE and the message an ereport.  Core objects are malloc'd, so a
 * LanceSource ties them to the memory context it was opened in: a reset
 * callback closes the scanner, the dataset and the storage, so an ERROR or
 * a cancel that unwinds the context frees them too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "fdw/lance_fdw.h"
#include "fdw/lance_write.h"
#include "lance/index_meta.h"

struct LanceSource
{
	char	   *location;
	Storage    *storage;
	LanceDataset *dataset;
	LanceScanner *scanner;
	LanceScanOptions scan_opts; /* kept to restart the scan */
	LanceBatch *batch;			/* the last batch returned */
	LanceBatch *taken;			/* the last batch lance_source_take returned */
};

static int
sqlstate_for(CoreStatus status)
{
	switch (status)
	{
		case CORE_ERR_IO:
			return ERRCODE_IO_ERROR;
		case CORE_ERR_NOT_FOUND:
			return ERRCODE_FDW_TABLE_NOT_FOUND;
		case CORE_ERR_PERMISSION:
			return ERRCODE_INSUFFICIENT_PRIVILEGE;
		case CORE_ERR_CORRUPT:
			return ERRCODE_DATA_CORRUPTED;
		case CORE_ERR_UNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case CORE_ERR_INVALID:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case CORE_ERR_CONFLICT:
			return ERRCODE_T_R_SERIALIZATION_FAILURE;
		case CORE_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case CORE_ERR_CANCELED:
			return ERRCODE_QUERY_CANCELED;
		default:
			return ERRCODE_FDW_ERROR;
	}
}

/* Raise a core failure as an ERROR with the matching SQLSTATE. */
void
lance_report_core_error(const CoreError *err)
{
	ereport(ERROR,
			(errcode(sqlstate_for(err->status)),
			 errmsg("%s", err->msg)));
	pg_unreachable();
}

static void
release_source(void *arg)
{
	LanceSource *src = arg;

	if (src->batch)
		lance_batch_free(src->batch);
	if (src->taken)
		lance_batch_free(src->taken);
	if (src->scanner)
		lance_scanner_close(src->scanner);
	if (src->dataset)
		lance_dataset_close(src->dataset);
	if (src->storage)
		storage_close(src->storage);
	src->batch = NULL;
	src->taken = NULL;
	src->scanner = NULL;
	src->dataset = NULL;
	src->storage = NULL;
}

/*
 * Open the dataset at a location, at a version (0 = the newest).  The
 * source lives as long as the current memory context.
 */
LanceSource *
lance_source_open(const char *location, uint64 version)
{
	LanceSource *src = palloc0(sizeof(LanceSource));
	MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));
	CoreError	err;
	CoreStatus	status;

	src->location = pstrdup(location);
	cb->func = release_source;
	cb->arg = src;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);

	if (storage_open(location, &src->storage, &err) != CORE_OK)
		lance_report_core_error(&err);
	/* the transaction that changed the dataset reads its own changes */
	if (version == 0 && lance_xact_staged_dataset(location, src->storage, &src->dataset))
		return src;
	status = lance_dataset_open(src->storage, "", version, &src->dataset, &err);
	if (status == CORE_ERR_NOT_FOUND)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 version == 0
				 ? errmsg("no Lance dataset at \"%s\"", location)
				 : errmsg("Lance dataset \"%s\" has no version " UINT64_FORMAT, location, version),
				 errdetail("%s", err.msg)));
	if (status != CORE_OK)
		lance_report_core_error(&err);
	return src;
}

const LanceSchema *
lance_source_schema(LanceSource *src)
{
	return lance_dataset_schema(src->dataset);
}

const LanceManifest *
lance_source_manifest(LanceSource *src)
{
	return lance_dataset_manifest(src->dataset);
}

uint64
lance_source_version(LanceSource *src)
{
	return lance_dataset_version(src->dataset);
}

int64
lance_source_live_rows(LanceSource *src)
{
	return (int64) lance_dataset_count_rows(src->dataset);
}

/*
 * Start a scan of the named top-level fields (n may be 0: row addresses
 * only).  The names must outlive the scan.
 */
void
lance_source_start(LanceSource *src, const char *const *fields, int n)
{
	CoreError	err;

	memset(&src->scan_opts, 0, sizeof(src->scan_opts));
	src->scan_opts.columns = fields;
	src->scan_opts.num_columns = n;
	if (lance_scanner_open(src->dataset, &src->scan_opts, &src->scanner, &err) != CORE_OK)
		lance_report_core_error(&err);
}

/* The next batch, or NULL at the end; the previous batch is freed. */
LanceBatch *
lance_source_next(LanceSource *src)
{
	CoreError	err;

	if (src->batch)
	{
		lance_batch_free(src->batch);
		src->batch = NULL;
	}
	CHECK_FOR_INTERRUPTS();
	if (lance_scanner_next(src->scanner, &src->batch, &err) != CORE_OK)
		lance_report_core_error(&err);
	return src->batch;
}

/* Start the scan over from the first row. */
void
lance_source_restart(LanceSource *src)
{
	CoreError	err;

	if (src->batch)
		lance_batch_free(src->batch);
	src->batch = NULL;
	lance_scanner_close(src->scanner);
	src->scanner = NULL;
	if (lance_scanner_open(src->dataset, &src->scan_opts, &src->scanner, &err) != CORE_OK)
		lance_report_core_error(&err);
}

/*
 * The rows at the given row addresses, in that order, for the named
 * top-level fields; the batch lives until the next take.
 */
LanceBatch *
lance_source_take(LanceSource *src, const uint64 *row_addrs, int64 n,
				  const char *const *fields, int nfields)
{
	CoreError	err;

	if (src->taken)
	{
		lance_batch_free(src->taken);
		src->taken = NULL;
	}
	CHECK_FOR_INTERRUPTS();
	if (lance_dataset_take(src->dataset, (const uint64_t *) row_addrs, n, fields, nfields,
						   &src->taken, &err) != CORE_OK)
		lance_report_core_error(&err);
	return src->taken;
}

static void
release_index_list(void *arg)
{
	lance_index_list_free(arg);
}

/*
 * The indexes the manifest of the source's version lists; freed with the
 * current memory context.
 */
LanceIndexList *
lance_source_indexes(LanceSource *src)
{
	MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));
	LanceIndexList *list;
	CoreError	err;

	if (lance_index_list_read(src->storage, lance_dataset_manifest(src->dataset)->name,
							  &list, &err) != CORE_OK)
		lance_report_core_error(&err);
	cb->func = release_index_list;
	cb->arg = list;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	return list;
}
