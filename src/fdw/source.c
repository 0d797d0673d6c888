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
 * Every storage opened from the backend polls for a pending query cancel
 * or termination while it waits on the network, so statement_timeout and
 * Ctrl-C interrupt a slow object store promptly; the storage call then
 * returns CORE_ERR_CANCELED, and reporting that error services the
 * interrupt, raising Postgres's own cancel error.
 *
 * One statement often opens the same dataset several times: the planner
 * reads its manifest, then the scan opens it again, a self-join or an
 * UPDATE's scan opens it once more.  Over an object store each open costs
 * a LIST, a manifest GET and new connections, so the storage and the
 * (immutable) dataset a source opens are shared by the statement's other
 * sources with the same location, version and storage options (the user
 * mapping's credentials included, so users never share).  A later
 * statement opens afresh and sees new versions, as it did before; every
 * write opens its storage through lance_storage_open, which drops the
 * location's shared datasets, so a commit made by lance_compact or
 * lance_restore is seen by the next read even within one statement.
 * Shared datasets are counted: one forgotten (statement or transaction
 * over, or a write) is closed when its last source lets go.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "fdw/lance_fdw.h"
#include "fdw/lance_write.h"
#include "lance/index_meta.h"
#include "storage/storage_options.h"

/* A dataset opened by this statement, shared by its sources. */
typedef struct SharedDataset
{
	char	   *location;
	uint64		version;		/* as asked: 0 = the newest */
	char	   *options;		/* the storage options, flattened; holds
								 * secrets, so zeroed when freed */
	TimestampTz statement;		/* start of the statement that opened it */
	Storage    *storage;
	LanceDataset *dataset;
	int			refs;			/* sources using it */
	bool		findable;		/* still in shared_datasets */
	struct SharedDataset *next;
} SharedDataset;

/* The datasets later opens may share; all in TopMemoryContext. */
static SharedDataset *shared_datasets = NULL;
static bool xact_callback_registered = false;

struct LanceSource
{
	char	   *location;
	SharedDataset *shared;		/* where storage and dataset come from */
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

/*
 * Raise a core failure as an ERROR with the matching SQLSTATE.  A call the
 * cancel callback stopped raises the pending interrupt's own error
 * ("canceling statement due to statement timeout", ...).
 */
void
lance_report_core_error(const CoreError *err)
{
	if (err->status == CORE_ERR_CANCELED)
		CHECK_FOR_INTERRUPTS();
	ereport(ERROR,
			(errcode(sqlstate_for(err->status)),
			 errmsg("%s", err->msg)));
	pg_unreachable();
}

static void
free_shared(SharedDataset *sd)
{
	lance_dataset_close(sd->dataset);
	storage_close(sd->storage);
	explicit_bzero(sd->options, strlen(sd->options));
	pfree(sd->options);
	pfree(sd->location);
	pfree(sd);
}

/* Let go of a shared dataset: closed with its last source once forgotten. */
static void
release_shared(SharedDataset *sd)
{
	Assert(sd->refs > 0);
	if (--sd->refs == 0 && !sd->findable)
		free_shared(sd);
}

/*
 * Make later opens miss the shared datasets at a location (NULL: all of
 * them); those in use close with their last source.
 */
static void
forget_shared(const char *location)
{
	SharedDataset **link = &shared_datasets;

	while (*link)
	{
		SharedDataset *sd = *link;

		if (location != NULL && strcmp(sd->location, location) != 0)
		{
			link = &sd->next;
			continue;
		}
		*link = sd->next;
		sd->findable = false;
		if (sd->refs == 0)
			free_shared(sd);
	}
}

/* At the end of a transaction nothing stays shared. */
static void
forget_shared_at_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		forget_shared(NULL);
}

/* Storage options as one comparable string ("key=value" lines). */
static char *
flatten_options(List *storage_options)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, storage_options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		appendStringInfo(&buf, "%s=%s\n", def->defname, defGetString(def));
	}
	return buf.data;
}

/*
 * The dataset this statement already opened at a location and version
 * with the same options, or NULL.  Datasets of earlier statements are
 * forgotten first: a new statement reads the newest version again.
 */
static SharedDataset *
find_shared(const char *location, uint64 version, const char *options)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();

	if (shared_datasets != NULL && shared_datasets->statement != now)
		forget_shared(NULL);
	for (SharedDataset *sd = shared_datasets; sd; sd = sd->next)
	{
		if (sd->version == version && strcmp(sd->location, location) == 0 &&
			strcmp(sd->options, options) == 0)
			return sd;
	}
	return NULL;
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
	if (src->shared)
		release_shared(src->shared);
	src->shared = NULL;
	src->batch = NULL;
	src->taken = NULL;
	src->scanner = NULL;
	src->dataset = NULL;
	src->storage = NULL;
}

/*
 * The storage's cancel callback: whether the backend has a cancel or a
 * termination to service.  It runs between network waits, and while the
 * backend waits for a writer's background file (writer_flush.h), always
 * on the backend's thread; it only reads the flags, since
 * CHECK_FOR_INTERRUPTS comes after the core call returns.
 */
static bool
interrupt_pending(void *arg)
{
	return QueryCancelPending || ProcDiePending;
}

/* Open an interruptible storage with object-store options. */
static CoreStatus
open_storage(const char *location, List *storage_options, Storage **out, CoreError *err)
{
	StorageOptions *so = storage_options_new();
	CoreStatus	status = CORE_OK;
	ListCell   *lc;

	if (so == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", location);
	foreach(lc, storage_options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		status = storage_options_set(so, def->defname, defGetString(def), err);
		if (status != CORE_OK)
			break;
	}
	if (status == CORE_OK)
		status = storage_open_with_options(location, so, out, err);
	storage_options_free(so);
	if (status == CORE_OK)
		storage_set_cancel(*out, interrupt_pending, NULL);
	return status;
}

/*
 * Make later opens in this statement read the dataset at a location again:
 * a write changed what this transaction reads there.
 */
void
lance_source_forget(const char *location)
{
	forget_shared(location);
}

/*
 * Open the storage at a location with object-store options (DefElems by
 * LanceDB's names, secrets included; see option.c), interruptible, to
 * write or to list it.  Datasets shared at that location are forgotten,
 * since a write may be about to commit a new version.  The caller closes
 * the storage.
 */
CoreStatus
lance_storage_open(const char *location, List *storage_options, Storage **out,
				   CoreError *err)
{
	forget_shared(location);
	return open_storage(location, storage_options, out, err);
}

/* Free a shared dataset that never opened; its options hold secrets. */
static void
discard_unopened(SharedDataset *sd)
{
	explicit_bzero(sd->options, strlen(sd->options));
	pfree(sd->options);
	pfree(sd->location);
	pfree(sd);
}

/*
 * Open a dataset to share, or raise the error.  Everything that can fail
 * for lack of memory is allocated before the core objects are opened, and
 * those are closed before any ereport, so a failure leaks nothing.  For the
 * newest version, a transaction that changed the dataset gets the version
 * it is about to commit, so that it reads its own changes.
 */
static SharedDataset *
open_shared(const char *location, uint64 version, const char *options, List *storage_options)
{
	SharedDataset *sd = MemoryContextAllocZero(TopMemoryContext, sizeof(SharedDataset));
	CoreError	err;
	CoreStatus	status;
	bool		staged = false;

	sd->location = MemoryContextStrdup(TopMemoryContext, location);
	sd->options = MemoryContextStrdup(TopMemoryContext, options);
	if (!xact_callback_registered)
	{
		RegisterXactCallback(forget_shared_at_xact_end, NULL);
		xact_callback_registered = true;
	}

	status = open_storage(location, storage_options, &sd->storage, &err);
	if (status == CORE_OK && version == 0)
	{
		PG_TRY();
		{
			staged = lance_xact_staged_dataset(location, sd->storage, &sd->dataset);
		}
		PG_CATCH();
		{
			storage_close(sd->storage);
			discard_unopened(sd);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (status == CORE_OK && !staged)
	{
		status = lance_dataset_open(sd->storage, "", version, &sd->dataset, &err);
		if (status != CORE_OK)
			storage_close(sd->storage);
	}
	if (status != CORE_OK)
		discard_unopened(sd);
	if (status == CORE_ERR_NOT_FOUND)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 version == 0
				 ? errmsg("no Lance dataset at \"%s\"", location)
				 : errmsg("Lance dataset \"%s\" has no version " UINT64_FORMAT, location, version),
				 errdetail("%s", err.msg)));
	if (status != CORE_OK)
		lance_report_core_error(&err);

	sd->version = version;
	sd->statement = GetCurrentStatementStartTimestamp();
	sd->findable = true;
	sd->next = shared_datasets;
	shared_datasets = sd;
	return sd;
}

/*
 * Open the dataset at a location, at a version (0 = the newest), with
 * object-store options.  The source lives as long as the current memory
 * context.  The reference is taken only once nothing more can fail, so an
 * error never leaves a shared dataset counted as in use.
 */
LanceSource *
lance_source_open(const char *location, uint64 version, List *storage_options)
{
	LanceSource *src = palloc0(sizeof(LanceSource));
	MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));
	char	   *options = flatten_options(storage_options);
	SharedDataset *sd;

	src->location = pstrdup(location);
	sd = find_shared(location, version, options);
	if (sd == NULL)
		sd = open_shared(location, version, options, storage_options);
	explicit_bzero(options, strlen(options));
	pfree(options);

	sd->refs++;
	src->shared = sd;
	src->storage = sd->storage;
	src->dataset = sd->dataset;
	cb->func = release_source;
	cb->arg = src;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
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

/*
 * Scan only these fragments (ids, living as long as the source; NULL: all
 * of them) from now on, restarting the scan: an index search reads the
 * rest from its index.
 */
void
lance_source_only_fragments(LanceSource *src, const uint64 *fragment_ids, int n)
{
	src->scan_opts.fragment_ids = (const uint64_t *) fragment_ids;
	src->scan_opts.num_fragment_ids = n;
	lance_source_restart(src);
}

/* The storage the source reads, for core readers of the dataset's other files. */
Storage *
lance_source_storage(LanceSource *src)
{
	return src->storage;
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
