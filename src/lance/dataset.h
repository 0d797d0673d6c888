/*-------------------------------------------------------------------------
 *
 * dataset.h
 *	  A Lance dataset at one version: its schema, row counts, scans and
 *	  random access by row address.  The API the FDW uses.
 *
 *	  Storage *st;  LanceDataset *ds;  LanceScanner *sc;  LanceBatch *b;
 *
 *	  storage_open("/data/db", &st, &err);
 *	  lance_dataset_open(st, "items.lance", 0, &ds, &err);	  (0 = latest)
 *	  lance_dataset_count_rows(ds);							  (manifest only)
 *	  lance_scanner_open(ds, &opts, &sc, &err);
 *	  while (lance_scanner_next(sc, &b, &err) == CORE_OK && b)
 *	  {
 *		  ... b->columns[i] is an Arrow-shaped array (array.h),
 *			  b->row_addrs[r] the row's address ...
 *		  lance_batch_free(b);
 *	  }
 *	  lance_scanner_close(sc);				  (at any time: stops early)
 *	  lance_dataset_close(ds);  storage_close(st);
 *
 * Row addresses are (fragment_id << 32) | offset, Lance's _rowaddr.
 * Scans return live rows only (deleted rows skipped), in fragment order,
 * then offset order, exactly as LanceDB's own scan; only the pages of the
 * projected columns are read.
 *
 * The Storage must outlive every object opened on it.  All objects here
 * are single-threaded; nothing has global state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_DATASET_H
#define LANCEDB_LANCE_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "lance/array.h"
#include "lance/manifest.h"
#include "lance/schema.h"
#include "storage/storage.h"

typedef struct LanceDataset LanceDataset;
typedef struct LanceScanner LanceScanner;

/* The row address of offset `offset` in fragment `fragment_id`. */
#define LANCE_ROW_ADDR(fragment_id, offset) (((uint64_t) (fragment_id) << 32) | (uint32_t) (offset))
#define LANCE_ROW_ADDR_FRAGMENT(addr) ((uint32_t) ((addr) >> 32))
#define LANCE_ROW_ADDR_OFFSET(addr) ((uint32_t) (addr))

/* One version of a dataset, for listings. */
typedef struct LanceVersionInfo
{
	uint64_t	version;
	int64_t		timestamp_sec;	/* commit time, UTC */
	int32_t		timestamp_nsec;
	uint64_t	num_rows;		/* live rows */
	int			num_fragments;
} LanceVersionInfo;

/* Rows of the projected columns, Arrow-shaped. */
typedef struct LanceBatch
{
	int64_t		num_rows;
	int			num_columns;
	const LanceField **fields;	/* the projected top-level fields */
	LanceArray **columns;		/* one per field, num_rows long */
	uint64_t   *row_addrs;		/* num_rows row addresses */
} LanceBatch;

typedef struct LanceScanOptions
{
	/*
	 * Top-level field names to read, in the order wanted; NULL (with
	 * num_columns 0) reads every field in schema order.  An empty list
	 * (non-NULL, 0) reads no column: batches then carry row addresses only.
	 */
	const char *const *columns;
	int			num_columns;
	int64_t		batch_rows;		/* rows per batch at most; 0 = 8192 */
	/* Only these fragments (by id), in this order; NULL = all of them. */
	const uint64_t *fragment_ids;
	int			num_fragment_ids;
} LanceScanOptions;

/*
 * Open the dataset at `path` (relative to the storage root; "" = the root)
 * at `version`, or at the newest version when version is 0.  Reads the
 * manifest only.
 */
extern CoreStatus lance_dataset_open(Storage *st, const char *path, uint64_t version,
									 LanceDataset **out, CoreError *err);
extern void lance_dataset_close(LanceDataset *ds);

/*
 * A dataset whose manifest is already in memory, such as a version a
 * writer has staged but not committed (commit.h); takes ownership of the
 * manifest, even on failure.
 */
extern CoreStatus lance_dataset_open_manifest(Storage *st, const char *path,
											  LanceManifest *manifest, LanceDataset **out,
											  CoreError *err);

extern const LanceManifest *lance_dataset_manifest(const LanceDataset *ds);
extern const LanceSchema *lance_dataset_schema(const LanceDataset *ds);
extern uint64_t lance_dataset_version(const LanceDataset *ds);

/*
 * Live rows (physical rows minus deleted rows), from the manifest alone.
 * (A deletion file whose count the manifest does not record, as very old
 * writers did, counts as deleting nothing here.)
 */
extern uint64_t lance_dataset_count_rows(const LanceDataset *ds);

/* Every version of the dataset at path, oldest first (reads each manifest). */
extern CoreStatus lance_dataset_versions(Storage *st, const char *path, LanceVersionInfo **out,
										 int *count, CoreError *err);

/* Set up a scan; reads nothing until the first batch is asked for. */
extern CoreStatus lance_scanner_open(LanceDataset *ds, const LanceScanOptions *opts,
									 LanceScanner **out, CoreError *err);

/* The next batch, or *out = NULL at the end.  Batches never are empty. */
extern CoreStatus lance_scanner_next(LanceScanner *sc, LanceBatch **out, CoreError *err);

/* The fields a scanner returns, in column order. */
extern int	lance_scanner_num_columns(const LanceScanner *sc);
extern const LanceField *lance_scanner_field(const LanceScanner *sc, int i);

extern void lance_scanner_close(LanceScanner *sc);

/*
 * The rows at the given row addresses, in the order given (repeats
 * allowed), for the named columns (as in LanceScanOptions).  A deleted or
 * nonexistent address is a CORE_ERR_INVALID error naming it.
 */
extern CoreStatus lance_dataset_take(LanceDataset *ds, const uint64_t *row_addrs, int64_t count,
									 const char *const *columns, int num_columns,
									 LanceBatch **out, CoreError *err);

extern void lance_batch_free(LanceBatch *batch);

#endif							/* LANCEDB_LANCE_DATASET_H */
