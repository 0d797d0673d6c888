/*-------------------------------------------------------------------------
 *
 * commit.h
 *	  Changing a Lance dataset: buffered appends, deletes, and committing
 *	  them as one new version.
 *
 *	  LanceWriter *wr;
 *	  lance_writer_open(st, "items.lance", &opts, &wr, &err);
 *	  lance_writer_prepare_append(wr, &err);		(before rows are pushed)
 *	  ... push one value per column onto lance_writer_column(wr, i),
 *		  then lance_writer_row_done(wr, &err) ...
 *	  lance_writer_delete(wr, row_addr, &err);
 *	  lance_writer_commit(wr, &version, &err);
 *	  lance_writer_free(wr);
 *
 * Rows are buffered and written as data files of up to max_rows_per_file
 * rows as the buffer fills.  A full buffer is written on a background
 * thread (writer_flush.h) while the next rows fill a second one; a failed
 * background write is returned by the next call that flushes (row_done),
 * sets a savepoint, stages or commits, and by every one after it, until
 * a savepoint rollback (below).  Nothing is
 * visible to others until the commit
 * (the writer itself may read its staged version), which
 * writes deletion files (the union of the fragment's old and new
 * deletions), a transaction file, then the manifest of the next version
 * with put-if-absent (FORMAT.md 16).  When another writer committed that
 * version first, the commit re-reads the newest version and checks what
 * the versions in between did: appends are re-applied on top (new
 * fragment ids); deletes of fragments another writer changed fail with
 * CORE_ERR_CONFLICT naming the version.  Freeing a writer without
 * committing leaves only unreferenced files behind (orphans a cleanup may
 * remove); data files are never overwritten.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_COMMIT_H
#define LANCEDB_LANCE_COMMIT_H

#include <stdint.h>

#include "core/error.h"
#include "lance/array.h"
#include "lance/dataset.h"
#include "lance/write.h"
#include "storage/storage.h"

typedef struct LanceWriter LanceWriter;

typedef struct LanceWriteOptions
{
	int64_t		max_rows_per_file;	/* 0 = LANCE_DEFAULT_MAX_ROWS_PER_FILE */
	/*
	 * Buffered bytes that force a file; 0 = default.  A writer holds about
	 * three times this at peak: the buffer a background job writes, the
	 * file it encodes from it, and the next buffer filling meanwhile.
	 */
	int64_t		max_bytes_per_file;
} LanceWriteOptions;

#define LANCE_DEFAULT_MAX_ROWS_PER_FILE (1024 * 1024)
#define LANCE_DEFAULT_MAX_BYTES_PER_FILE (INT64_C(128) * 1024 * 1024)

/*
 * Open a writer on the newest version of the dataset at path (relative to
 * the storage root).  Refuses datasets whose writer feature flags this
 * writer does not implement (stable row ids among them).
 */
extern CoreStatus lance_writer_open(Storage *st, const char *path, const LanceWriteOptions *opts,
									LanceWriter **out, CoreError *err);
extern void lance_writer_free(LanceWriter *wr);

/* The version the writer read, its manifest and schema. */
extern uint64_t lance_writer_read_version(const LanceWriter *wr);
extern const LanceManifest *lance_writer_manifest(const LanceWriter *wr);
extern const LanceSchema *lance_writer_schema(const LanceWriter *wr);
extern LanceFileVersion lance_writer_file_version(const LanceWriter *wr);

/* Check the schema can be written and set up the row buffer. */
extern CoreStatus lance_writer_prepare_append(LanceWriter *wr, CoreError *err);

/*
 * The buffer of top-level field i (schema order) to push a value onto;
 * NULL only before lance_writer_prepare_append (a flush empties the
 * buffers and keeps them).
 */
extern LanceArray *lance_writer_column(LanceWriter *wr, int i);

/* One value was pushed onto every column: count the row, flush if full. */
extern CoreStatus lance_writer_row_done(LanceWriter *wr, CoreError *err);

/*
 * Delete the row at a row address of the version read, or of the staged
 * version (lance_writer_open_staged).  INVALID when the address is not a
 * row of either.
 */
extern CoreStatus lance_writer_delete(LanceWriter *wr, uint64_t row_addr, CoreError *err);

/*
 * Whether the row at row_addr (of the version read, or of the staged
 * version) is already deleted by this writer.
 */
extern bool lance_writer_deleted(const LanceWriter *wr, uint64_t row_addr);

/*
 * The staged version: the version read with this writer's changes
 * applied, as the commit would make it, for the writing transaction to
 * read its own changes.  Buffered rows are written to a data file and
 * deletion files are written first (orphans if the writer never
 * commits).  Its appended fragments get the ids a commit on top of the
 * version read would give them; lance_writer_delete takes row addresses
 * in them too.  The dataset is the caller's (opened on st, which must be
 * a storage of the same location) and stays as it is when the writer
 * changes again.
 */
extern CoreStatus lance_writer_open_staged(LanceWriter *wr, Storage *st, LanceDataset **out,
										   CoreError *err);

/*
 * Savepoints, for a transaction that takes back part of its changes
 * (ROLLBACK TO SAVEPOINT).  lance_writer_savepoint remembers what the
 * writer holds; lance_writer_rollback_savepoint takes the newest
 * savepoint's later changes back and forgets it: buffered rows are
 * dropped, data files written since are left out of the commit (orphans
 * a cleanup removes; the first one, which also holds rows buffered before
 * the savepoint, stays with the later rows deleted), deletes are undone.
 * lance_writer_release_savepoint forgets the newest savepoint and keeps
 * its changes.  Both do nothing when no savepoint is set.
 *
 * Rolling back reports no failure, for an abort path, and allocates
 * nothing: the later rows of a file it keeps are cut off by a count,
 * whose deletions the commit makes, and each deletion set changed since
 * the savepoint gets back the copy its first delete since then made (a
 * delete that cannot make the copy fails with NOMEM and changes nothing).
 * A data file still being written is abandoned (its write stopped at the
 * storage's next cancel poll) and waited for; if its write failed, the
 * rows it held from before the savepoint go back to the buffer and the
 * failure is forgiven, since every row after it is taken back too.
 *
 * A savepoint, like every call that waits for a background write, stops
 * waiting with CORE_ERR_CANCELED when the storage's cancel callback says
 * so; the write goes on, and a later wait or rollback finishes it.
 */
extern CoreStatus lance_writer_savepoint(LanceWriter *wr, CoreError *err);
extern void lance_writer_release_savepoint(LanceWriter *wr);
extern void lance_writer_rollback_savepoint(LanceWriter *wr);

/* Whether anything was appended or deleted. */
extern bool lance_writer_has_changes(const LanceWriter *wr);

/* How many deletion-set copies the savepoints hold (for tests). */
extern int64_t lance_writer_undo_entries(const LanceWriter *wr);

/*
 * Commit everything as one new version; *version is the version made (or
 * the version read when there was nothing to commit).
 */
extern CoreStatus lance_writer_commit(LanceWriter *wr, uint64_t *version, CoreError *err);

/*
 * The version another writer committed whose changes made the last commit
 * fail with CONFLICT; 0 when no single version is to blame.
 */
extern uint64_t lance_writer_conflict_version(const LanceWriter *wr);

/*
 * Create an empty dataset at path (relative to the storage root): version
 * 1 with the given fields in pre-order, each field's id its position; a
 * child's parent_id is the position of its parent (a list's item, a
 * struct's members), -1 at top level (only field kinds
 * lance_write_check_schema accepts); data files of file version
 * `version`.  CONFLICT when a dataset already exists there.
 */
extern CoreStatus lance_dataset_create(Storage *st, const char *path, const LanceFieldSpec *fields,
									   int num_fields, LanceFileVersion version, CoreError *err);

/*
 * Make a new version of the dataset at path whose content is that of an
 * older version (LanceDB's restore): *new_version is the version made.
 */
extern CoreStatus lance_dataset_restore(Storage *st, const char *path, uint64_t version,
										uint64_t *new_version, CoreError *err);

/*
 * Compaction: move the live rows of every fragment that has deletions or
 * fewer than max_rows_per_file rows into new fragments of up to that
 * many rows, and drop the old ones (committed as a Rewrite transaction,
 * as Lance's compaction is; indexes keep covering only the fragments they
 * were built on, so the moved rows are searched without them).  *moved
 * is the number of rows rewritten; nothing is done (and 0 returned) when
 * at most one such fragment exists and it has no deletions.  Call before
 * any other change on this writer.
 */
extern CoreStatus lance_writer_compact(LanceWriter *wr, int64_t *moved, CoreError *err);

/* What lance_dataset_cleanup removed. */
typedef struct LanceCleanupStats
{
	uint64_t	versions_removed;
	uint64_t	files_removed;
	uint64_t	bytes_removed;
} LanceCleanupStats;

/*
 * Remove the manifests of versions committed before `before_sec` (Unix
 * seconds; the newest version is always kept) and every data, deletion
 * and transaction file that no kept version refers to and that was last
 * modified before the cutoff, so the files of writers still at work
 * survive.  Index files are never touched.  st is rooted at the dataset;
 * file times are those its listing gives (StorageEntry.mtime).
 */
extern CoreStatus lance_dataset_cleanup(Storage *st, int64_t before_sec,
										LanceCleanupStats *stats, CoreError *err);

#endif							/* LANCEDB_LANCE_COMMIT_H */
