/*-------------------------------------------------------------------------
 *
 * commit.c
 *	  Buffered appends and deletes, committed as one Lance version.
 *
 * The new manifest is the newest manifest with our changes applied
 * (FORMAT.md 15.3): it is unpacked with protobuf-c, which keeps the
 * fields our .proto does not name (config, table metadata, field
 * metadata, ...) and writes them back unchanged.  Only the fragments,
 * version, timestamp, writer version, max_fragment_id, feature flags and
 * the transaction reference change; an index section is copied over.
 *
 * Compaction commits a Rewrite (old fragments replaced by new ones with
 * the same rows, as Lance's optimize does) but, unlike Lance, rewrites no
 * index files, so it lists no rewritten indices.  Each index keeps its
 * fragment_bitmap: in Lance that bitmap names the fragments the index
 * holds row addresses of, whether they still exist or not, and a search
 * masks the addresses of fragments that are gone.  The moved rows live in
 * new fragments no index covers, which Lance searches flat; the index
 * never points at a row's old address as if it were live.
 *
 * Conflict policy (FORMAT.md 16.3): between the version read and the
 * newest one, an Append never conflicts; a Delete or Update conflicts with
 * our deletes when it touched one of the same fragments; any other
 * operation (overwrite, restore, rewrite, ...) or a version without a
 * transaction conflicts with our deletes, and with appends when it may
 * have changed the schema.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "lance/commit.h"
#include "lance/deletion.h"
#include "lance/list_levels.h"
#include "lance/manifest_raw.h"
#include "lance/path.h"
#include "lance/writer_flush.h"
#include "lance_table.pb-c.h"
#include "lance_txn.pb-c.h"

/* Writer feature flags this writer implements (FORMAT.md 4.4). */
#define WRITER_KNOWN_FLAGS (UINT64_C(1) | UINT64_C(4) | UINT64_C(8))
#define MANIFEST_MAX_BYTES (UINT64_C(1) << 30)
/* Commits lost to other writers before giving up. */
#define COMMIT_MAX_ATTEMPTS 64
#define WRITER_LIBRARY "lancedb_fdw"
#define WRITER_LIBRARY_VERSION "0.1.0"

typedef struct PendingDelete
{
	uint64_t	fragment_id;
	LanceDeletionSet *set;		/* the new offsets only */
	int64_t		snap;			/* its newest undo entry, or -1 */
} PendingDelete;

/*
 * A savepoint (lance_writer_savepoint): how far each kind of change had
 * got when it was set.
 */
typedef struct WriterMark
{
	int64_t		buffered;		/* rows in the buffer */
	int			nfiles;
	int			ndels;
	int64_t		nundo;
} WriterMark;

/*
 * A deletion set as it was before its first delete since a savepoint:
 * dels[target].set, or file_dels[-1 - target] (NULL when that set did not
 * exist yet).  Rolling back puts the copies back, which allocates nothing
 * (CRoaring would end the process if removing offsets ran out of memory,
 * and a rollback has no way to fail); copying is done by the delete,
 * where a failure can be reported.  Each savepoint's entries hold at most
 * one per set; prev is the set's entry before this one, or -1, so that a
 * release can find the entries its parent already holds (see
 * lance_writer_release_savepoint) and a rollback can restore the set's
 * newest entry.
 */
typedef struct UndoDelete
{
	int32_t		target;
	int64_t		prev;
	LanceDeletionSet *before;
} UndoDelete;

/* A deletion ready for the manifest. */
typedef struct DeletionOut
{
	uint64_t	fragment_id;
	bool		whole;			/* every row is gone: drop the fragment */
	Lt__DeletionFile file;
} DeletionOut;

struct LanceWriter
{
	Storage    *st;
	char	   *path;
	LanceDataset *ds;			/* the version read */
	bool		v2_names;
	LanceFileVersion fv;
	LanceWriteOptions opts;

	int			ncols;
	LanceArray **cols;			/* NULL until prepare_append */
	int64_t		buffered;

	/*
	 * The file being written in the background (flush_rows): its job, the
	 * row buffer it writes, which becomes the spare buffer for the next
	 * flush to swap in once the job is joined (join_flush).
	 */
	LanceFlushJob *job;
	LanceArray **job_cols;
	LanceArray **spare;

	/*
	 * A background write failed: every later change or commit fails with
	 * its error, until a savepoint rollback, which drops the file's rows
	 * from after the mark and takes back those from before it out of
	 * failed_cols (the job's buffer, kept whole).  failed_file: the index
	 * the file would have had.
	 */
	bool		failed;
	int			failed_file;
	CoreError	failed_err;
	LanceArray **failed_cols;

	LanceWrittenFile **files;
	LanceDeletionSet **file_dels;	/* per file: rows deleted since, or NULL */
	int64_t    *file_snap;		/* per file: as PendingDelete.snap */

	/*
	 * Per file: its rows a savepoint rollback kept, the first ones; the
	 * rest count as deleted.  A count, so that rolling back allocates
	 * nothing; the deletions are made where failing is allowed.  file_dels
	 * holds only offsets below it: deletes of the rows cut off were made
	 * after the savepoint and were undone with it.
	 */
	uint64_t   *file_kept;
	int			nfiles;
	int			cap_files;

	PendingDelete *dels;
	int			ndels;
	int			cap_dels;

	/*
	 * Savepoints, newest last, and the deletes made since the oldest one
	 * (kept only while one is set).
	 */
	WriterMark *marks;
	int			nmarks;
	int			cap_marks;
	UndoDelete *undo;
	int64_t		nundo;
	int64_t		cap_undo;

	/* compaction: the deletes remove whole fragments the appends replace */
	bool		rewrite;

	/*
	 * The staged version (lance_writer_open_staged): its manifest, kept
	 * until the next change, and the fragment id its first written file
	 * got, which the row addresses scans of it return refer to.
	 */
	uint8_t    *staged;
	size_t		staged_len;
	bool		staged_ids;		/* first_new_id is set */
	uint64_t	first_new_id;

	uint64_t	conflict_version;	/* what made the last commit fail, or 0 */
};

/* The dataset as messages name it: its path, or the storage root. */
static const char *
where(const LanceWriter *wr)
{
	return wr->path[0] ? wr->path : storage_root(wr->st);
}

uint64_t
lance_writer_read_version(const LanceWriter *wr)
{
	return lance_dataset_version(wr->ds);
}

const LanceManifest *
lance_writer_manifest(const LanceWriter *wr)
{
	return lance_dataset_manifest(wr->ds);
}

const LanceSchema *
lance_writer_schema(const LanceWriter *wr)
{
	return lance_dataset_schema(wr->ds);
}

LanceFileVersion
lance_writer_file_version(const LanceWriter *wr)
{
	return wr->fv;
}

uint64_t
lance_writer_conflict_version(const LanceWriter *wr)
{
	return wr->conflict_version;
}

/* Forget the staged manifest: the writer's changes moved on. */
static void
unstage(LanceWriter *wr)
{
	core_free(wr->staged);
	wr->staged = NULL;
	wr->staged_len = 0;
}

/* How many rows of written file i are deleted again, cut ones included. */
static uint64_t
file_deleted_rows(const LanceWriter *wr, int i)
{
	return wr->files[i]->rows - wr->file_kept[i] +
		(wr->file_dels[i] ? lance_deletion_count(wr->file_dels[i]) : 0);
}

/* Whether every row of written file i was deleted again. */
static bool
file_gone(const LanceWriter *wr, int i)
{
	return file_deleted_rows(wr, i) >= wr->files[i]->rows;
}

bool
lance_writer_has_changes(const LanceWriter *wr)
{
	return wr->buffered > 0 || wr->nfiles > 0 || wr->ndels > 0 || wr->job != NULL ||
		wr->failed;
}

int64_t
lance_writer_undo_entries(const LanceWriter *wr)
{
	return wr->nundo;
}

LanceArray *
lance_writer_column(LanceWriter *wr, int i)
{
	return wr->cols ? wr->cols[i] : NULL;
}

static void
free_column_set(LanceArray **cols, int ncols)
{
	if (cols == NULL)
		return;
	for (int i = 0; i < ncols; i++)
		lance_array_free(cols[i]);
	core_free(cols);
}

static void
free_columns(LanceWriter *wr)
{
	free_column_set(wr->cols, wr->ncols);
	wr->cols = NULL;
}

/*
 * Wait for the background write, if any: its file joins the written ones,
 * its buffer becomes the spare one.  A failure marks the writer failed
 * (see struct LanceWriter); it is returned now and by every later change.
 * When interruptible, a cancel of the caller's stops the wait, not the
 * write: CORE_ERR_CANCELED, the job left running for a later join (which
 * the commit or the abort that follows makes).
 */
static CoreStatus
join_flush(LanceWriter *wr, bool interruptible, CoreError *err)
{
	LanceWrittenFile *file;
	CoreStatus	status;

	if (wr->job != NULL)
	{
		if (interruptible)
		{
			status = lance_flush_wait(wr->job, err);
			if (status != CORE_OK)
				return status;
		}
		/* room for the file was made before the job started */
		status = lance_flush_finish(wr->job, &file, &wr->failed_err);
		wr->job = NULL;
		if (status == CORE_OK)
		{
			for (int i = 0; i < wr->ncols; i++)
				lance_array_truncate(wr->job_cols[i], 0);
			wr->spare = wr->job_cols;
			wr->file_dels[wr->nfiles] = NULL;
			wr->file_snap[wr->nfiles] = -1;
			wr->file_kept[wr->nfiles] = file->rows;
			wr->files[wr->nfiles++] = file;
		}
		else
		{
			wr->failed = true;
			wr->failed_file = wr->nfiles;
			wr->failed_cols = wr->job_cols;
		}
		wr->job_cols = NULL;
	}
	if (wr->failed)
	{
		*err = wr->failed_err;
		return err->status;
	}
	return CORE_OK;
}

/* Where the newest undo entry of an UndoDelete target is kept. */
static int64_t *
target_snap(LanceWriter *wr, int32_t target)
{
	return target >= 0 ? &wr->dels[target].snap : &wr->file_snap[-1 - target];
}

/* Forget every undo entry (freeing the sets they copied). */
static void
forget_undo(LanceWriter *wr)
{
	while (wr->nundo > 0)
	{
		const UndoDelete *u = &wr->undo[--wr->nundo];

		*target_snap(wr, u->target) = -1;
		lance_deletion_free(u->before);
	}
}

void
lance_writer_free(LanceWriter *wr)
{
	CoreError	ignored;

	if (wr == NULL)
		return;
	/* nothing will be committed: stop the upload rather than wait for it */
	if (wr->job != NULL)
		lance_flush_abandon(wr->job);
	join_flush(wr, false, &ignored);
	forget_undo(wr);
	core_free(wr->undo);
	free_columns(wr);
	free_column_set(wr->spare, wr->ncols);
	free_column_set(wr->failed_cols, wr->ncols);
	for (int i = 0; i < wr->nfiles; i++)
	{
		lance_written_file_free(wr->files[i]);
		lance_deletion_free(wr->file_dels[i]);
	}
	core_free(wr->files);
	core_free(wr->file_dels);
	core_free(wr->file_kept);
	core_free(wr->file_snap);
	unstage(wr);
	for (int i = 0; i < wr->ndels; i++)
		lance_deletion_free(wr->dels[i].set);
	core_free(wr->dels);
	core_free(wr->marks);
	lance_dataset_close(wr->ds);
	core_free(wr->path);
	core_free(wr);
}

/* The data file version of a manifest: data_format, else its files. */
static CoreStatus
table_file_version(const LanceManifest *m, LanceFileVersion *fv, CoreError *err)
{
	char		buf[16];

	if (m->data_format[0] != '\0')
		return lance_file_version_parse(m->data_format, fv, err);
	if (m->num_fragments > 0 && m->fragments[0].num_files > 0)
	{
		snprintf(buf, sizeof(buf), "%u.%u", m->fragments[0].files[0].major,
				 m->fragments[0].files[0].minor);
		return lance_file_version_parse(buf, fv, err);
	}
	*fv = LANCE_FILE_V2_0;
	return CORE_OK;
}

CoreStatus
lance_writer_open(Storage *st, const char *path, const LanceWriteOptions *opts,
				  LanceWriter **out, CoreError *err)
{
	LanceWriter *wr = core_calloc(1, sizeof(LanceWriter));
	LanceVersionList *versions = NULL;
	const LanceManifest *m;
	CoreStatus	status;
	bool		v2 = true;

	*out = NULL;
	if (wr == NULL || (wr->path = core_strdup(path)) == NULL)
	{
		core_free(wr);
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening a writer");
	}
	wr->st = st;
	if (opts)
		wr->opts = *opts;
	if (wr->opts.max_rows_per_file <= 0)
		wr->opts.max_rows_per_file = LANCE_DEFAULT_MAX_ROWS_PER_FILE;
	if (wr->opts.max_bytes_per_file <= 0)
		wr->opts.max_bytes_per_file = LANCE_DEFAULT_MAX_BYTES_PER_FILE;
	status = lance_dataset_open(st, path, 0, &wr->ds, err);
	if (status == CORE_OK)
		status = lance_versions_list(st, path, &versions, err);
	if (status == CORE_OK)
	{
		const char *last = versions->entries[versions->count - 1].path;
		const char *slash = strrchr(last, '/');
		uint64_t	v;

		lance_version_name_parse(slash ? slash + 1 : last, &v, &v2);
		wr->v2_names = v2;
		lance_versions_free(versions);
		m = lance_dataset_manifest(wr->ds);
		if (m->writer_flags & UINT64_C(2))
			status = core_error(err, CORE_ERR_UNSUPPORTED,
								"%s: the dataset uses stable row ids (writer feature flag 2), whose row id sequences this writer does not maintain",
								where(wr));
		else if (m->writer_flags & ~WRITER_KNOWN_FLAGS)
			status = core_error(err, CORE_ERR_UNSUPPORTED,
								"%s: the dataset needs writer feature flags 0x%" PRIx64 ", which this writer does not support",
								where(wr), m->writer_flags & ~WRITER_KNOWN_FLAGS);
		else
			status = table_file_version(m, &wr->fv, err);
	}
	if (status != CORE_OK)
	{
		lance_writer_free(wr);
		return status;
	}
	wr->ncols = lance_schema_num_top(lance_dataset_schema(wr->ds));
	*out = wr;
	return CORE_OK;
}

/* A row buffer: an empty array per top-level field. */
static CoreStatus
new_column_set(LanceWriter *wr, LanceArray ***out, CoreError *err)
{
	const LanceSchema *schema = lance_dataset_schema(wr->ds);
	LanceArray **cols = core_calloc((size_t) wr->ncols + 1, sizeof(LanceArray *));

	*out = NULL;
	if (cols == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory for the row buffer");
	for (int i = 0; i < wr->ncols; i++)
	{
		CoreStatus	status = lance_array_new_for_field(lance_schema_top(schema, i), &cols[i], err);

		if (status != CORE_OK)
		{
			free_column_set(cols, wr->ncols);
			return status;
		}
	}
	*out = cols;
	return CORE_OK;
}

CoreStatus
lance_writer_prepare_append(LanceWriter *wr, CoreError *err)
{
	CoreStatus	status;

	if (wr->cols)
		return CORE_OK;
	status = lance_write_check_schema(lance_dataset_schema(wr->ds), err);
	if (status != CORE_OK)
		return wr->path[0] ? core_error_prefix(err, "%s", wr->path) : status;
	return new_column_set(wr, &wr->cols, err);
}

/*
 * Start writing the buffered rows as one data file in the background,
 * after the previous one is written: the buffer goes to the job and the
 * spare one (empty) takes its place, so a writer never lacks a buffer
 * once prepare_append made it.
 */
static CoreStatus
flush_rows(LanceWriter *wr, CoreError *err)
{
	CoreStatus	status;

	status = join_flush(wr, true, err);
	if (status != CORE_OK || wr->buffered == 0)
		return status;
	if (wr->spare == NULL)
	{
		status = new_column_set(wr, &wr->spare, err);
		if (status != CORE_OK)
			return status;
	}
	if (wr->nfiles == wr->cap_files)
	{
		int			cap = wr->cap_files ? wr->cap_files * 2 : 8;
		LanceWrittenFile **files = core_realloc(wr->files, (size_t) cap * sizeof(*files));
		LanceDeletionSet **dels;
		uint64_t   *kept;
		int64_t    *snap;

		if (files == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory writing %s", where(wr));
		wr->files = files;
		dels = core_realloc(wr->file_dels, (size_t) cap * sizeof(*dels));
		if (dels == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory writing %s", where(wr));
		wr->file_dels = dels;
		kept = core_realloc(wr->file_kept, (size_t) cap * sizeof(*kept));
		if (kept == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory writing %s", where(wr));
		wr->file_kept = kept;
		snap = core_realloc(wr->file_snap, (size_t) cap * sizeof(*snap));
		if (snap == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory writing %s", where(wr));
		wr->file_snap = snap;
		wr->cap_files = cap;
	}
	status = lance_flush_start(wr->st, wr->path, lance_dataset_schema(wr->ds), wr->fv,
							   wr->cols, wr->buffered, &wr->job, err);
	if (status != CORE_OK)
		return status;
	wr->job_cols = wr->cols;
	wr->cols = wr->spare;
	wr->spare = NULL;
	wr->buffered = 0;
	return CORE_OK;
}

/* Write every buffered row to a data file and wait until all are written. */
static CoreStatus
flush_all(LanceWriter *wr, CoreError *err)
{
	CoreStatus	status = CORE_OK;

	if (wr->cols)
		status = flush_rows(wr, err);
	return status == CORE_OK ? join_flush(wr, true, err) : status;
}

CoreStatus
lance_writer_row_done(LanceWriter *wr, CoreError *err)
{
	/* a list too long for a page is the row's error, not its file's */
	for (int i = 0; i < wr->ncols; i++)
		if (wr->cols[i]->type->id == LANCE_TYPE_LIST &&
			lance_list_row_check(wr->fv, lance_schema_top(lance_writer_schema(wr), i)->name,
								 wr->cols[i], wr->cols[i]->length - 1, err) != CORE_OK)
			return CORE_ERR_UNSUPPORTED;
	unstage(wr);
	wr->buffered++;
	if (wr->buffered >= wr->opts.max_rows_per_file)
		return flush_rows(wr, err);
	/* checking the bytes every row would cost more than the rows */
	if ((wr->buffered & 1023) == 0)
	{
		int64_t		bytes = 0;

		for (int i = 0; i < wr->ncols; i++)
			bytes += lance_array_bytes(wr->cols[i]);
		if (bytes >= wr->opts.max_bytes_per_file)
			return flush_rows(wr, err);
	}
	return CORE_OK;
}

static const LanceFragmentRef *
find_fragment(const LanceManifest *m, uint64_t id)
{
	for (int i = 0; i < m->num_fragments; i++)
		if (m->fragments[i].id == id)
			return &m->fragments[i];
	return NULL;
}

/*
 * Before the first delete into a set since the newest savepoint, log a
 * copy of it (*snap: the set's newest undo entry, updated) for a rollback
 * to put back.  A set made since that savepoint (fresh) needs none: the
 * rollback drops it.  The caller has checked that the delete changes the
 * set.
 */
static CoreStatus
snapshot_set(LanceWriter *wr, int32_t target, LanceDeletionSet *set, bool fresh,
			 int64_t *snap, CoreError *err)
{
	int64_t		since;

	if (wr->nmarks == 0 || fresh)
		return CORE_OK;
	since = wr->marks[wr->nmarks - 1].nundo;
	if (*snap >= since)
		return CORE_OK;
	if (wr->nundo == wr->cap_undo)
	{
		int64_t		cap = wr->cap_undo ? wr->cap_undo * 2 : 64;
		UndoDelete *undo = core_realloc(wr->undo, (size_t) cap * sizeof(*undo));

		if (undo == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory recording deletes");
		wr->undo = undo;
		wr->cap_undo = cap;
	}
	wr->undo[wr->nundo].target = target;
	wr->undo[wr->nundo].prev = *snap;
	wr->undo[wr->nundo].before = NULL;
	if (set != NULL && (wr->undo[wr->nundo].before = lance_deletion_copy(set)) == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory recording deletes");
	*snap = wr->nundo++;
	return CORE_OK;
}

/* Delete row offset of written file i, a fragment of the staged version. */
static CoreStatus
delete_written(LanceWriter *wr, int i, uint32_t offset, CoreError *err)
{
	CoreStatus	status;

	if (offset >= wr->files[i]->rows)
		return core_error(err, CORE_ERR_INVALID,
						  "%s: offset %u is past the %" PRIu64 " rows of staged fragment %" PRIu64,
						  where(wr), offset, wr->files[i]->rows, wr->first_new_id + (uint64_t) i);
	/* a row a rollback cut off is deleted already */
	if (offset >= wr->file_kept[i] ||
		(wr->file_dels[i] != NULL && lance_deletion_contains(wr->file_dels[i], offset)))
		return CORE_OK;
	status = snapshot_set(wr, -1 - i, wr->file_dels[i], false, &wr->file_snap[i], err);
	if (status != CORE_OK)
		return status;
	if (wr->file_dels[i] == NULL && (wr->file_dels[i] = lance_deletion_new()) == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory recording deletes");
	lance_deletion_add(wr->file_dels[i], offset);
	return CORE_OK;
}

bool
lance_writer_deleted(const LanceWriter *wr, uint64_t row_addr)
{
	uint64_t	frag = LANCE_ROW_ADDR_FRAGMENT(row_addr);
	uint32_t	offset = LANCE_ROW_ADDR_OFFSET(row_addr);

	if (find_fragment(lance_dataset_manifest(wr->ds), frag) != NULL)
	{
		for (int i = 0; i < wr->ndels; i++)
			if (wr->dels[i].fragment_id == frag)
				return lance_deletion_contains(wr->dels[i].set, offset);
		return false;
	}
	if (wr->staged_ids && frag >= wr->first_new_id &&
		frag - wr->first_new_id < (uint64_t) wr->nfiles)
	{
		uint64_t	i = frag - wr->first_new_id;

		return offset >= wr->file_kept[i] ||
			(wr->file_dels[i] != NULL && lance_deletion_contains(wr->file_dels[i], offset));
	}
	return false;
}

CoreStatus
lance_writer_delete(LanceWriter *wr, uint64_t row_addr, CoreError *err)
{
	uint64_t	frag = LANCE_ROW_ADDR_FRAGMENT(row_addr);
	uint32_t	offset = LANCE_ROW_ADDR_OFFSET(row_addr);
	const LanceFragmentRef *f = find_fragment(lance_dataset_manifest(wr->ds), frag);
	PendingDelete *d = NULL;
	bool		fresh;
	CoreStatus	status;

	unstage(wr);
	if (f == NULL && wr->staged_ids && frag >= wr->first_new_id &&
		frag - wr->first_new_id < (uint64_t) wr->nfiles)
		return delete_written(wr, (int) (frag - wr->first_new_id), offset, err);
	if (f == NULL || offset >= f->physical_rows)
		return core_error(err, CORE_ERR_INVALID,
						  "%s: row address %" PRIu64 " (fragment %" PRIu64 ", offset %u) is not a row of version %" PRIu64,
						  where(wr), row_addr, frag, offset, lance_dataset_version(wr->ds));
	for (int i = 0; i < wr->ndels; i++)
		if (wr->dels[i].fragment_id == frag)
			d = &wr->dels[i];
	if (d == NULL)
	{
		if (wr->ndels == wr->cap_dels)
		{
			int			cap = wr->cap_dels ? wr->cap_dels * 2 : 8;
			PendingDelete *dels = core_realloc(wr->dels, (size_t) cap * sizeof(*dels));

			if (dels == NULL)
				return core_error(err, CORE_ERR_NOMEM, "out of memory recording deletes");
			wr->dels = dels;
			wr->cap_dels = cap;
		}
		d = &wr->dels[wr->ndels];
		d->fragment_id = frag;
		d->snap = -1;
		d->set = lance_deletion_new();
		if (d->set == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory recording deletes");
		wr->ndels++;
	}
	if (lance_deletion_contains(d->set, offset))
		return CORE_OK;
	fresh = wr->nmarks > 0 && d - wr->dels >= wr->marks[wr->nmarks - 1].ndels;
	status = snapshot_set(wr, (int32_t) (d - wr->dels), d->set, fresh, &d->snap, err);
	if (status != CORE_OK)
		return status;
	lance_deletion_add(d->set, offset);
	return CORE_OK;
}

/* ------------------------------------------------------------ savepoints */

CoreStatus
lance_writer_savepoint(LanceWriter *wr, CoreError *err)
{
	WriterMark *m;
	CoreStatus	status;

	/* a mark counts written files: the one being written must be done */
	status = join_flush(wr, true, err);
	if (status != CORE_OK)
		return status;
	if (wr->nmarks == wr->cap_marks)
	{
		int			cap = wr->cap_marks ? wr->cap_marks * 2 : 8;
		WriterMark *marks = core_realloc(wr->marks, (size_t) cap * sizeof(*marks));

		if (marks == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory setting a savepoint");
		wr->marks = marks;
		wr->cap_marks = cap;
	}
	m = &wr->marks[wr->nmarks++];
	m->buffered = wr->buffered;
	m->nfiles = wr->nfiles;
	m->ndels = wr->ndels;
	m->nundo = wr->nundo;
	return CORE_OK;
}

/*
 * The changes since the released savepoint now belong to the one before,
 * if any.  Rolling that one back puts back each set as its first entry
 * since then has it, so a set's entry from the released savepoint is
 * dropped when the outer savepoint already has one; else a loop of
 * savepoint, delete, release inside an outer savepoint would keep a copy
 * of the set per turn.  Only frees and moves entries, so it cannot fail.
 */
void
lance_writer_release_savepoint(LanceWriter *wr)
{
	int64_t		since;
	int64_t		kept;

	if (wr->nmarks == 0)
		return;
	kept = wr->marks[--wr->nmarks].nundo;
	if (wr->nmarks == 0)
	{
		forget_undo(wr);
		return;
	}
	since = wr->marks[wr->nmarks - 1].nundo;
	for (int64_t i = kept; i < wr->nundo; i++)
	{
		UndoDelete	u = wr->undo[i];

		if (u.prev >= since)
		{
			/* the outer savepoint's entry stays the set's newest */
			*target_snap(wr, u.target) = u.prev;
			lance_deletion_free(u.before);
			continue;
		}
		*target_snap(wr, u.target) = kept;
		wr->undo[kept++] = u;
	}
	wr->nundo = kept;
}

void
lance_writer_rollback_savepoint(LanceWriter *wr)
{
	const WriterMark *m;
	int			keep;
	int64_t		rows;
	CoreError	ignored;

	if (wr->nmarks == 0)
		return;
	m = &wr->marks[--wr->nmarks];

	/*
	 * A file still being written started after the mark (setting it waited
	 * for the one before), so the rollback drops at least its later rows:
	 * stop writing it rather than wait (an abort rolls back every
	 * savepoint before it frees the writer, and must not wait for an
	 * upload).  A failed file, abandoned or not, started after the mark
	 * too: its rows from before the mark are its first ones, taken back
	 * into the buffer, and the failure is forgiven.
	 */
	if (wr->job != NULL)
		lance_flush_abandon(wr->job);
	join_flush(wr, false, &ignored);
	if (wr->failed)
	{
		if (wr->failed_file == m->nfiles)
		{
			LanceArray **cols = wr->cols;

			/* every later flush failed: no file was written since */
			for (int i = 0; i < wr->ncols; i++)
			{
				lance_array_truncate(cols[i], 0);
				lance_array_truncate(wr->failed_cols[i], m->buffered);
			}
			wr->cols = wr->failed_cols;
			free_column_set(wr->spare, wr->ncols);
			wr->spare = cols;
		}
		else
			free_column_set(wr->failed_cols, wr->ncols);
		wr->failed_cols = NULL;
		wr->failed = false;
	}
	while (wr->nundo > m->nundo)
	{
		const UndoDelete *u = &wr->undo[--wr->nundo];
		LanceDeletionSet **set = u->target >= 0 ? &wr->dels[u->target].set
			: &wr->file_dels[-1 - u->target];

		lance_deletion_free(*set);
		*set = u->before;
		*target_snap(wr, u->target) = u->prev;
	}
	for (int i = m->ndels; i < wr->ndels; i++)
		lance_deletion_free(wr->dels[i].set);
	wr->ndels = m->ndels;

	/*
	 * The first file written since the savepoint begins with the rows
	 * buffered then: it stays, its later rows cut off.  An inner rollback
	 * that cut it before kept at least as many (its savepoint was set
	 * later, with no file written in between, so with no fewer rows
	 * buffered).  Later files hold only rows to take back, and so does
	 * the buffer.
	 */
	keep = m->nfiles;
	rows = m->buffered;
	if (wr->nfiles > m->nfiles)
	{
		if (m->buffered > 0)
			wr->file_kept[keep++] = (uint64_t) m->buffered;
		rows = 0;
	}
	for (int i = keep; i < wr->nfiles; i++)
	{
		lance_written_file_free(wr->files[i]);
		lance_deletion_free(wr->file_dels[i]);
	}
	wr->nfiles = keep;
	if (wr->cols)
		for (int i = 0; i < wr->ncols; i++)
			lance_array_truncate(wr->cols[i], rows);
	wr->buffered = rows;
	unstage(wr);
}

/* ------------------------------------------------------------ commit */

/* Everything a commit builds once and reuses across attempts. */
typedef struct CommitState
{
	DeletionOut *dels;
	Lt__DataFragment *new_frags;
	Lt__DataFile *new_files;
	Lt__DataFile **new_file_ptrs;
	Lt__DeletionFile *new_dels; /* per written file with deletions */
	char		txn_name[96];
} CommitState;


/* Read one fragment's existing deletions (empty set when it has none). */
static CoreStatus
read_deletions(LanceWriter *wr, const LanceFragmentRef *f, LanceDeletionSet **out, CoreError *err)
{
	char	   *p;
	uint8_t    *bytes;
	uint64_t	size;
	CoreStatus	status;

	if (!f->has_deletion)
	{
		*out = lance_deletion_new();
		return *out ? CORE_OK : core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	p = lance_path_join(wr->path, f->deletion.path);
	if (p == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = storage_read_all(wr->st, p, UINT64_C(1) << 30, &bytes, &size, err);
	core_free(p);
	if (status != CORE_OK)
		return status;
	status = lance_deletion_read(f->deletion.kind, bytes, (size_t) size, out, err);
	core_free(bytes);
	return status;
}

/*
 * Write the deletion file of fragment frag_id holding set, and describe
 * it in *file for the manifest.
 */
static CoreStatus
put_deletion_file(LanceWriter *wr, uint64_t frag_id, const LanceDeletionSet *set,
				  Lt__DeletionFile *file, CoreError *err)
{
	Lt__DeletionFile init = LT__DELETION_FILE__INIT;
	LanceDeletionFileType type = lance_deletion_preferred_type(set);
	uint64_t	readv = lance_dataset_version(wr->ds);
	uint8_t    *bytes = NULL;
	size_t		len = 0;
	char		rel[128];
	char	   *p;
	CoreStatus	status;

	*file = init;
	file->has_file_type = 1;
	file->file_type = (int32_t) type;
	file->has_read_version = 1;
	file->read_version = readv;
	file->has_num_deleted_rows = 1;
	file->num_deleted_rows = lance_deletion_count(set);
	file->has_id = 1;
	status = lance_random_u64(&file->id, err);
	if (status == CORE_OK)
		status = type == LANCE_DELETION_BITMAP
			? lance_deletion_write_bitmap(set, &bytes, &len, err)
			: lance_deletion_write_arrow(set, LANCE_COMPRESSION_NONE, &bytes, &len, err);
	if (status != CORE_OK)
		return status;
	snprintf(rel, sizeof(rel), "_deletions/%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".%s",
			 frag_id, readv, file->id, type == LANCE_DELETION_BITMAP ? "bin" : "arrow");
	p = lance_path_join(wr->path, rel);
	status = p ? storage_put_if_absent(wr->st, p, bytes, len, err)
		: core_error(err, CORE_ERR_NOMEM, "out of memory");
	core_free(p);
	core_free(bytes);
	return status;
}

/* Write the union of old and new deletions of every touched fragment. */
static CoreStatus
write_deletions(LanceWriter *wr, DeletionOut *outs, CoreError *err)
{
	const LanceManifest *m = lance_dataset_manifest(wr->ds);

	for (int i = 0; i < wr->ndels; i++)
	{
		const LanceFragmentRef *f = find_fragment(m, wr->dels[i].fragment_id);
		LanceDeletionSet *set;
		CoreStatus	status;
		Lt__DeletionFile init = LT__DELETION_FILE__INIT;
		DeletionOut *o = &outs[i];

		status = read_deletions(wr, f, &set, err);
		if (status != CORE_OK)
			return status;
		lance_deletion_merge(set, wr->dels[i].set);
		o->fragment_id = f->id;
		o->file = init;
		if (lance_deletion_count(set) >= f->physical_rows)
		{
			o->whole = true;
			lance_deletion_free(set);
			continue;
		}
		status = put_deletion_file(wr, f->id, set, &o->file, err);
		lance_deletion_free(set);
		if (status != CORE_OK)
			return status;
	}
	return CORE_OK;
}

/*
 * Give the written files the fragment ids from first on, and write the
 * deletion files of those this transaction deleted rows of again, the
 * rows a rollback cut off included (their names hold the fragment id, so
 * a commit that rebases writes them anew).
 */
static CoreStatus
number_new_fragments(LanceWriter *wr, CommitState *cs, uint64_t first, CoreError *err)
{
	for (int i = 0; i < wr->nfiles; i++)
	{
		LanceDeletionSet *set;
		CoreStatus	status;

		cs->new_frags[i].has_id = 1;
		cs->new_frags[i].id = first + (uint64_t) i;
		cs->new_frags[i].deletion_file = NULL;
		if (file_deleted_rows(wr, i) == 0 || file_gone(wr, i))
			continue;
		set = lance_deletion_new();
		if (set == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory committing %s", where(wr));
		if (wr->file_dels[i] != NULL)
			lance_deletion_merge(set, wr->file_dels[i]);
		lance_deletion_add_range(set, wr->file_kept[i], wr->files[i]->rows);
		status = put_deletion_file(wr, first + (uint64_t) i, set, &cs->new_dels[i], err);
		lance_deletion_free(set);
		if (status != CORE_OK)
			return status;
		cs->new_frags[i].deletion_file = &cs->new_dels[i];
	}
	return CORE_OK;
}

/* A DataFragment for a written file; ids are set when the manifest is built. */
static void
fragment_for_file(const LanceWrittenFile *file, Lt__DataFragment *frag, Lt__DataFile *df,
				  Lt__DataFile **dfp)
{
	Lt__DataFragment finit = LT__DATA_FRAGMENT__INIT;
	Lt__DataFile dinit = LT__DATA_FILE__INIT;

	*frag = finit;
	*df = dinit;
	df->path = file->name;
	df->n_fields = (size_t) file->num_fields;
	df->fields = file->field_ids;
	df->n_column_indices = (size_t) file->num_fields;
	df->column_indices = file->column_indices;
	df->has_file_major_version = 1;
	df->file_major_version = file->major;
	df->has_file_minor_version = file->minor != 0;
	df->file_minor_version = file->minor;
	df->has_file_size_bytes = 1;
	df->file_size_bytes = file->size_bytes;
	*dfp = df;
	frag->n_files = 1;
	frag->files = dfp;
	frag->has_physical_rows = 1;
	frag->physical_rows = file->rows;
}

static bool
deleted_here(const CommitState *cs, int ndels, uint64_t id, const DeletionOut **out)
{
	for (int i = 0; i < ndels; i++)
		if (cs->dels[i].fragment_id == id)
		{
			*out = &cs->dels[i];
			return true;
		}
	return false;
}

/* Write our transaction file (FORMAT.md 16.2). */
static CoreStatus
write_transaction(LanceWriter *wr, CommitState *cs, CoreError *err)
{
	Ltx__Transaction txn = LTX__TRANSACTION__INIT;
	Ltx__Append append = LTX__APPEND__INIT;
	Ltx__Delete del = LTX__DELETE__INIT;
	Ltx__Update upd = LTX__UPDATE__INIT;
	Ltx__Rewrite rewrite = LTX__REWRITE__INIT;
	Ltx__RewriteGroup group = LTX__REWRITE_GROUP__INIT;
	Ltx__RewriteGroup *groupp = &group;
	Lt__DataFragment **newp = core_calloc((size_t) wr->nfiles + 1, sizeof(void *));
	Lt__DataFragment *updated = core_calloc((size_t) wr->ndels + 1, sizeof(Lt__DataFragment));
	Lt__DataFragment **updp = core_calloc((size_t) wr->ndels + 1, sizeof(void *));
	uint64_t   *removed = core_calloc((size_t) wr->ndels + 1, sizeof(uint64_t));
	const LanceManifest *m = lance_dataset_manifest(wr->ds);
	char		uuid[40];
	char		rel[160];
	char	   *p = NULL;
	uint8_t    *bytes = NULL;
	size_t		len;
	size_t		nupd = 0;
	size_t		nrem = 0;
	size_t		nnew = 0;
	CoreStatus	status;

	status = lance_random_uuid(uuid, sizeof(uuid), err);
	if (status == CORE_OK && (!newp || !updated || !updp || !removed))
		status = core_error(err, CORE_ERR_NOMEM, "out of memory writing a transaction");
	if (status != CORE_OK)
		goto done;
	for (int i = 0; i < wr->nfiles; i++)
		if (!file_gone(wr, i))
			newp[nnew++] = &cs->new_frags[i];
	for (int i = 0; i < wr->ndels; i++)
	{
		Lt__DataFragment init = LT__DATA_FRAGMENT__INIT;
		const LanceFragmentRef *f = find_fragment(m, cs->dels[i].fragment_id);

		if (cs->dels[i].whole && !wr->rewrite)
		{
			removed[nrem++] = f->id;
			continue;
		}

		/*
		 * The touched fragment as it is after the delete, or a fragment a
		 * rewrite replaces (ids are what other writers compare).
		 */
		updated[nupd] = init;
		updated[nupd].has_id = 1;
		updated[nupd].id = f->id;
		updated[nupd].has_physical_rows = 1;
		updated[nupd].physical_rows = f->physical_rows;
		if (!cs->dels[i].whole)
			updated[nupd].deletion_file = &cs->dels[i].file;
		updp[nupd] = &updated[nupd];
		nupd++;
	}
	txn.has_read_version = 1;
	txn.read_version = lance_dataset_version(wr->ds);
	txn.uuid = uuid;
	if (wr->rewrite)
	{
		/* one group: every old fragment's rows are spread over the new ones */
		group.n_old_fragments = nupd;
		group.old_fragments = updp;
		group.n_new_fragments = nnew;
		group.new_fragments = newp;
		rewrite.n_groups = 1;
		rewrite.groups = &groupp;
		txn.operation_case = LTX__TRANSACTION__OPERATION_REWRITE;
		txn.rewrite = &rewrite;
	}
	else if (wr->ndels == 0)
	{
		append.n_fragments = nnew;
		append.fragments = newp;
		txn.operation_case = LTX__TRANSACTION__OPERATION_APPEND;
		txn.append = &append;
	}
	else if (nnew == 0)
	{
		del.n_updated_fragments = nupd;
		del.updated_fragments = updp;
		del.n_deleted_fragment_ids = nrem;
		del.deleted_fragment_ids = removed;
		txn.operation_case = LTX__TRANSACTION__OPERATION_DELETE;
		txn.delete_ = &del;
	}
	else
	{
		upd.n_removed_fragment_ids = nrem;
		upd.removed_fragment_ids = removed;
		upd.n_updated_fragments = nupd;
		upd.updated_fragments = updp;
		upd.n_new_fragments = nnew;
		upd.new_fragments = newp;
		txn.operation_case = LTX__TRANSACTION__OPERATION_UPDATE;
		txn.update = &upd;
	}
	len = ltx__transaction__get_packed_size(&txn);
	bytes = core_malloc(len ? len : 1);
	snprintf(cs->txn_name, sizeof(cs->txn_name), "%" PRIu64 "-%s.txn", txn.read_version, uuid);
	snprintf(rel, sizeof(rel), "_transactions/%s", cs->txn_name);
	p = lance_path_join(wr->path, rel);
	if (bytes == NULL || p == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory writing a transaction");
	else
	{
		ltx__transaction__pack(&txn, bytes);
		status = storage_put_if_absent(wr->st, p, bytes, len, err);
	}
done:
	core_free(p);
	core_free(bytes);
	core_free(newp);
	core_free(updated);
	core_free(updp);
	core_free(removed);
	return status;
}

void
lance_raw_manifest_free(RawManifest *r)
{
	if (r->pm)
		lt__manifest__free_unpacked(r->pm, NULL);
	core_free(r->bytes);
	memset(r, 0, sizeof(*r));
}

CoreStatus
lance_raw_manifest_read(Storage *st, const char *path, RawManifest *r, CoreError *err)
{
	uint32_t	len;
	CoreStatus	status;

	memset(r, 0, sizeof(*r));
	status = storage_read_all(st, path, MANIFEST_MAX_BYTES, &r->bytes, &r->size, err);
	if (status != CORE_OK)
		return status;
	if (r->size < 20 || memcmp(r->bytes + r->size - 4, "LANC", 4) != 0)
	{
		lance_raw_manifest_free(r);
		return core_error(err, CORE_ERR_CORRUPT, "%s: not a manifest", path);
	}
	memcpy(&r->pos, r->bytes + r->size - 16, 8);
	if (r->pos > r->size - 20)
	{
		lance_raw_manifest_free(r);
		return core_error(err, CORE_ERR_CORRUPT, "%s: manifest position out of range", path);
	}
	memcpy(&len, r->bytes + r->pos, 4);
	if ((uint64_t) len != r->size - 20 - r->pos ||
		(r->pm = lt__manifest__unpack(NULL, len, r->bytes + r->pos + 4)) == NULL)
	{
		lance_raw_manifest_free(r);
		return core_error(err, CORE_ERR_CORRUPT, "%s: manifest does not parse", path);
	}
	return CORE_OK;
}

/* A section (u32 length + bytes) of a manifest file at offset; NULL if bad. */
const uint8_t *
lance_raw_manifest_section(const RawManifest *r, uint64_t offset, uint32_t *len)
{
	if (offset > r->size - 20 || r->size - 20 - offset < 4)
		return NULL;
	memcpy(len, r->bytes + offset, 4);
	if (*len > r->size - 20 - offset - 4)
		return NULL;
	return r->bytes + offset + 4;
}

/* The transaction that made a version; NULL when it has none. */
static Ltx__Transaction *
version_transaction(LanceWriter *wr, const RawManifest *r, CoreError *err)
{
	Ltx__Transaction *txn = NULL;

	if (r->pm->transaction_file && r->pm->transaction_file[0] &&
		lance_path_is_safe(r->pm->transaction_file))
	{
		char		rel[512];
		char	   *p;
		uint8_t    *bytes;
		uint64_t	size;

		snprintf(rel, sizeof(rel), "_transactions/%s", r->pm->transaction_file);
		p = lance_path_join(wr->path, rel);
		if (p && storage_read_all(wr->st, p, MANIFEST_MAX_BYTES, &bytes, &size, err) == CORE_OK)
		{
			txn = ltx__transaction__unpack(NULL, size, bytes);
			core_free(bytes);
		}
		core_free(p);
	}
	else if (r->pm->has_transaction_section)
	{
		uint32_t	len;
		const uint8_t *s = lance_raw_manifest_section(r, r->pm->transaction_section, &len);

		if (s)
			txn = ltx__transaction__unpack(NULL, len, s);
	}
	return txn;
}

static bool
ids_touch(const CommitState *cs, int ndels, const uint64_t *ids, size_t n, uint64_t *hit)
{
	const DeletionOut *d;

	for (size_t i = 0; i < n; i++)
		if (deleted_here(cs, ndels, ids[i], &d))
		{
			*hit = ids[i];
			return true;
		}
	return false;
}

static bool
frags_touch(const CommitState *cs, int ndels, Lt__DataFragment **frags, size_t n, uint64_t *hit)
{
	const DeletionOut *d;

	for (size_t i = 0; i < n; i++)
		if (deleted_here(cs, ndels, frags[i]->id, &d))
		{
			*hit = frags[i]->id;
			return true;
		}
	return false;
}

/* Check what version v (committed after ours was read) did against our changes. */
static CoreStatus
check_version(LanceWriter *wr, CommitState *cs, uint64_t v, const char *manifest_path,
			  CoreError *err)
{
	RawManifest r;
	Ltx__Transaction *txn;
	CoreStatus	status;
	uint64_t	hit = 0;
	bool		conflict = false;
	bool		touched = false;
	const char *what = "an unknown change";

	status = lance_raw_manifest_read(wr->st, manifest_path, &r, err);
	if (status != CORE_OK)
		return status;
	txn = version_transaction(wr, &r, err);
	lance_raw_manifest_free(&r);
	if (txn == NULL)
	{
		what = "a change without a transaction";
		conflict = true;
	}
	else
	{
		switch (txn->operation_case)
		{
			case LTX__TRANSACTION__OPERATION_APPEND:
				break;
			case LTX__TRANSACTION__OPERATION_DELETE:
				what = "a delete";
				touched = ids_touch(cs, wr->ndels, txn->delete_->deleted_fragment_ids,
									txn->delete_->n_deleted_fragment_ids, &hit) ||
					frags_touch(cs, wr->ndels, txn->delete_->updated_fragments,
								txn->delete_->n_updated_fragments, &hit);
				conflict = touched;
				break;
			case LTX__TRANSACTION__OPERATION_UPDATE:
				what = "an update";
				touched = ids_touch(cs, wr->ndels, txn->update->removed_fragment_ids,
									txn->update->n_removed_fragment_ids, &hit) ||
					frags_touch(cs, wr->ndels, txn->update->updated_fragments,
								txn->update->n_updated_fragments, &hit);
				conflict = touched;
				break;
			case LTX__TRANSACTION__OPERATION_CREATE_INDEX:
			case LTX__TRANSACTION__OPERATION_RESERVE_FRAGMENTS:
				break;
			case LTX__TRANSACTION__OPERATION_REWRITE:
				/* compaction moves rows: our row addresses may be stale */
				what = "a compaction";
				conflict = wr->ndels > 0;
				break;
			default:
				what = "an overwrite, restore or schema change";
				conflict = true;
				break;
		}
		ltx__transaction__free_unpacked(txn, NULL);
	}
	if (!conflict)
		return CORE_OK;
	wr->conflict_version = v;
	if (touched)
		return core_error(err, CORE_ERR_CONFLICT,
						  "%s: version %" PRIu64 " (%s by another writer) changed fragment %" PRIu64 ", which this transaction deletes from",
						  where(wr), v, what, hit);
	return core_error(err, CORE_ERR_CONFLICT,
					  "%s: version %" PRIu64 " (%s by another writer) was committed after version %" PRIu64 " was read",
					  where(wr), v, what, lance_dataset_version(wr->ds));
}

/* The id the next new fragment on top of a manifest gets. */
static uint64_t
raw_next_fragment_id(const Lt__Manifest *pm)
{
	uint64_t	next = pm->has_max_fragment_id ? (uint64_t) pm->max_fragment_id + 1 : 0;

	for (size_t i = 0; i < pm->n_fragments; i++)
		if (pm->fragments[i]->id + 1 > next)
			next = pm->fragments[i]->id + 1;
	return next;
}

/*
 * Build the bytes of the next manifest on top of `base` (the newest
 * version): base's fragments with our deletions applied, then ours
 * (numbered by number_new_fragments).
 */
static CoreStatus
build_manifest(LanceWriter *wr, CommitState *cs, const RawManifest *base, uint8_t **out,
			   size_t *out_len, CoreError *err)
{
	Lt__Manifest m = *base->pm;
	Lt__Timestamp ts = LT__TIMESTAMP__INIT;
	Lt__WriterVersion wv = LT__WRITER_VERSION__INIT;
	size_t		nold = base->pm->n_fragments;
	Lt__DataFragment **frags = core_calloc(nold + (size_t) wr->nfiles + 1, sizeof(void *));
	Lt__DataFragment *copies = core_calloc((size_t) wr->ndels + 1, sizeof(Lt__DataFragment));
	size_t		n = 0;
	int			ncopies = 0;
	uint64_t	next_id = raw_next_fragment_id(base->pm) + (uint64_t) wr->nfiles;
	struct timespec now;
	const uint8_t *index = NULL;
	uint32_t	index_len = 0;
	size_t		plen;
	uint8_t    *buf;
	size_t		pos = 0;
	bool		deleted = false;

	if (frags == NULL || copies == NULL)
	{
		core_free(frags);
		core_free(copies);
		return core_error(err, CORE_ERR_NOMEM, "out of memory building a manifest");
	}
	for (size_t i = 0; i < nold; i++)
	{
		Lt__DataFragment *f = base->pm->fragments[i];
		const DeletionOut *d;

		if (deleted_here(cs, wr->ndels, f->id, &d))
		{
			deleted = true;
			if (d->whole)
				continue;
			copies[ncopies] = *f;
			copies[ncopies].deletion_file = (Lt__DeletionFile *) &d->file;
			frags[n++] = &copies[ncopies++];
			continue;
		}
		frags[n++] = f;
	}
	/* ids come from number_new_fragments; a file deleted whole stays out */
	for (int i = 0; i < wr->nfiles; i++)
	{
		if (file_gone(wr, i))
			continue;
		deleted |= cs->new_frags[i].deletion_file != NULL;
		frags[n++] = &cs->new_frags[i];
	}
	m.n_fragments = n;
	m.fragments = frags;
	m.has_version = 1;
	m.version = base->pm->version + 1;
	if (next_id > 0)
	{
		m.has_max_fragment_id = 1;
		m.max_fragment_id = (uint32_t) (next_id - 1);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ts.has_seconds = 1;
	ts.seconds = now.tv_sec;
	ts.has_nanos = 1;
	ts.nanos = (int32_t) now.tv_nsec;
	m.timestamp = &ts;
	wv.library = WRITER_LIBRARY;
	wv.version = WRITER_LIBRARY_VERSION;
	m.writer_version = &wv;
	if (deleted)
	{
		m.has_reader_feature_flags = 1;
		m.reader_feature_flags |= 1;
		m.has_writer_feature_flags = 1;
		m.writer_feature_flags |= 1;
	}
	m.transaction_file = cs->txn_name;
	m.has_transaction_section = 0;
	if (base->pm->has_index_section)
	{
		index = lance_raw_manifest_section(base, base->pm->index_section, &index_len);
		if (index == NULL)
		{
			core_free(frags);
			core_free(copies);
			return core_error(err, CORE_ERR_CORRUPT, "version %" PRIu64 ": index section out of range",
							  base->pm->version);
		}
		m.index_section = 0;
	}
	plen = lt__manifest__get_packed_size(&m);
	*out_len = (index ? 4 + (size_t) index_len : 0) + 4 + plen + 16;
	buf = core_malloc(*out_len);
	if (buf == NULL)
	{
		core_free(frags);
		core_free(copies);
		return core_error(err, CORE_ERR_NOMEM, "out of memory building a manifest");
	}
	if (index)
	{
		memcpy(buf, &index_len, 4);
		memcpy(buf + 4, index, index_len);
		pos = 4 + (size_t) index_len;
	}
	{
		uint32_t	l32 = (uint32_t) plen;
		uint64_t	mpos = pos;
		uint16_t	major = 0;
		uint16_t	minor = 2;

		memcpy(buf + pos, &l32, 4);
		lt__manifest__pack(&m, buf + pos + 4);
		pos += 4 + plen;
		memcpy(buf + pos, &mpos, 8);
		memcpy(buf + pos + 8, &major, 2);
		memcpy(buf + pos + 10, &minor, 2);
		memcpy(buf + pos + 12, "LANC", 4);
	}
	core_free(frags);
	core_free(copies);
	*out = buf;
	return CORE_OK;
}

static void
commit_state_free(CommitState *cs)
{
	core_free(cs->dels);
	core_free(cs->new_frags);
	core_free(cs->new_files);
	core_free(cs->new_file_ptrs);
	core_free(cs->new_dels);
}

/*
 * Flush the buffered rows, then describe every change for a manifest:
 * fragments for the written files, deletion files for the fragments of
 * the version read (written now).
 */
static CoreStatus
commit_state_init(LanceWriter *wr, CommitState *cs, CoreError *err)
{
	CoreStatus	status;

	memset(cs, 0, sizeof(*cs));
	status = flush_all(wr, err);
	if (status != CORE_OK)
		return status;
	cs->dels = core_calloc((size_t) wr->ndels + 1, sizeof(DeletionOut));
	cs->new_frags = core_calloc((size_t) wr->nfiles + 1, sizeof(Lt__DataFragment));
	cs->new_files = core_calloc((size_t) wr->nfiles + 1, sizeof(Lt__DataFile));
	cs->new_file_ptrs = core_calloc((size_t) wr->nfiles + 1, sizeof(Lt__DataFile *));
	cs->new_dels = core_calloc((size_t) wr->nfiles + 1, sizeof(Lt__DeletionFile));
	if (!cs->dels || !cs->new_frags || !cs->new_files || !cs->new_file_ptrs || !cs->new_dels)
		return core_error(err, CORE_ERR_NOMEM, "out of memory committing %s", where(wr));
	for (int i = 0; i < wr->nfiles; i++)
		fragment_for_file(wr->files[i], &cs->new_frags[i], &cs->new_files[i],
						  &cs->new_file_ptrs[i]);
	return write_deletions(wr, cs->dels, err);
}

/* Whether any written file keeps a row. */
static bool
any_file_kept(const LanceWriter *wr)
{
	for (int i = 0; i < wr->nfiles; i++)
		if (!file_gone(wr, i))
			return true;
	return false;
}

CoreStatus
lance_writer_commit(LanceWriter *wr, uint64_t *version, CoreError *err)
{
	CommitState cs;
	CoreStatus	status;
	uint64_t	readv = lance_dataset_version(wr->ds);

	*version = readv;
	unstage(wr);
	status = flush_all(wr, err);
	if (status != CORE_OK)
		return status;
	if (!any_file_kept(wr) && wr->ndels == 0)
		return CORE_OK;

	/* data files are written; then deletion files, transaction, manifest */
	status = commit_state_init(wr, &cs, err);
	if (status == CORE_OK)
		status = write_transaction(wr, &cs, err);

	for (int attempt = 0; status == CORE_OK; attempt++)
	{
		LanceVersionList *versions = NULL;
		const LanceVersionEntry *latest;
		RawManifest base;
		uint8_t    *bytes = NULL;
		size_t		len = 0;
		char		name[64];
		char	   *dir;
		char	   *p;

		if (attempt >= COMMIT_MAX_ATTEMPTS)
		{
			status = core_error(err, CORE_ERR_CONFLICT,
								"%s: gave up after losing %d commits in a row to other writers",
								where(wr), COMMIT_MAX_ATTEMPTS);
			break;
		}
		status = lance_versions_list(wr->st, wr->path, &versions, err);
		if (status != CORE_OK)
			break;
		latest = &versions->entries[versions->count - 1];
		/* what the versions after ours did (all of them, on every attempt) */
		for (int i = 0; i < versions->count && status == CORE_OK; i++)
			if (versions->entries[i].version > readv)
				status = check_version(wr, &cs, versions->entries[i].version,
									   versions->entries[i].path, err);
		if (status == CORE_OK)
			status = lance_raw_manifest_read(wr->st, latest->path, &base, err);
		lance_versions_free(versions);
		if (status != CORE_OK)
			break;
		status = number_new_fragments(wr, &cs, raw_next_fragment_id(base.pm), err);
		if (status == CORE_OK)
			status = build_manifest(wr, &cs, &base, &bytes, &len, err);
		lance_version_name(base.pm->version + 1, wr->v2_names, name, sizeof(name));
		lance_raw_manifest_free(&base);
		if (status != CORE_OK)
			break;
		dir = lance_path_join(wr->path, "_versions");
		p = dir ? lance_path_join(dir, name) : NULL;
		status = p ? storage_put_if_absent(wr->st, p, bytes, len, err)
			: core_error(err, CORE_ERR_NOMEM, "out of memory committing %s", where(wr));
		core_free(dir);
		core_free(p);
		core_free(bytes);
		if (status == CORE_OK)
		{
			uint64_t	v;
			bool		v2;

			lance_version_name_parse(name, &v, &v2);
			*version = v;
			break;
		}
		if (status != CORE_ERR_CONFLICT)
			break;
		/* another writer made that version first: look again */
		status = CORE_OK;
	}
	commit_state_free(&cs);
	return status;
}

/* ------------------------------------------------------------ staging */

/*
 * Build the manifest of the staged version: the version read with every
 * change applied, numbered as a commit on top of it would number them.
 */
static CoreStatus
stage(LanceWriter *wr, CoreError *err)
{
	CommitState cs;
	RawManifest base;
	CoreStatus	status;

	status = commit_state_init(wr, &cs, err);
	if (status != CORE_OK)
	{
		commit_state_free(&cs);
		return status;
	}
	status = lance_raw_manifest_read(wr->st, lance_dataset_manifest(wr->ds)->name, &base, err);
	if (status == CORE_OK)
	{
		wr->first_new_id = raw_next_fragment_id(base.pm);
		wr->staged_ids = true;
		status = number_new_fragments(wr, &cs, wr->first_new_id, err);
		if (status == CORE_OK)
			status = build_manifest(wr, &cs, &base, &wr->staged, &wr->staged_len, err);
		lance_raw_manifest_free(&base);
	}
	commit_state_free(&cs);
	return status;
}

CoreStatus
lance_writer_open_staged(LanceWriter *wr, Storage *st, LanceDataset **out, CoreError *err)
{
	LanceManifest *m;
	CoreStatus	status;

	*out = NULL;
	if (wr->staged == NULL)
	{
		status = stage(wr, err);
		if (status != CORE_OK)
		{
			unstage(wr);
			return status;
		}
	}
	/* named as the version read: its index section is the one to use */
	status = lance_manifest_parse(wr->staged, wr->staged_len, lance_dataset_manifest(wr->ds)->name,
								  &m, err);
	if (status != CORE_OK)
		return status;
	m->version = lance_dataset_version(wr->ds);
	return lance_dataset_open_manifest(st, wr->path, m, out, err);
}

/* ------------------------------------------------------------ compaction */

CoreStatus
lance_writer_compact(LanceWriter *wr, int64_t *moved, CoreError *err)
{
	const LanceManifest *m = lance_dataset_manifest(wr->ds);
	uint64_t   *ids = core_calloc((size_t) m->num_fragments + 1, sizeof(uint64_t));
	int			n = 0;
	bool		any_deletions = false;
	LanceScanOptions opts;
	LanceScanner *sc = NULL;
	LanceBatch *b = NULL;
	CoreStatus	status;

	*moved = 0;
	if (ids == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory compacting %s", where(wr));
	for (int i = 0; i < m->num_fragments; i++)
	{
		const LanceFragmentRef *f = &m->fragments[i];

		if (f->has_deletion || f->physical_rows < (uint64_t) wr->opts.max_rows_per_file)
		{
			ids[n++] = f->id;
			any_deletions |= f->has_deletion;
		}
	}
	if (n < 2 && !any_deletions)
	{
		core_free(ids);
		return CORE_OK;
	}
	wr->rewrite = true;
	status = lance_writer_prepare_append(wr, err);
	memset(&opts, 0, sizeof(opts));
	opts.fragment_ids = ids;
	opts.num_fragment_ids = n;
	if (status == CORE_OK)
		status = lance_scanner_open(wr->ds, &opts, &sc, err);
	while (status == CORE_OK && (status = lance_scanner_next(sc, &b, err)) == CORE_OK && b)
	{
		for (int i = 0; i < wr->ncols && status == CORE_OK; i++)
			status = lance_array_append(wr->cols[i], b->columns[i], 0, b->num_rows, err);
		for (int64_t r = 0; r < b->num_rows && status == CORE_OK; r++)
			status = lance_writer_delete(wr, b->row_addrs[r], err);
		if (status == CORE_OK)
		{
			/*
			 * Rows arrive in batches: cut files at the batch after the
			 * limit.  The scan reads through the writer's storage, which
			 * a background write must not share, so wait for each file.
			 */
			wr->buffered += b->num_rows;
			*moved += b->num_rows;
			if (wr->buffered >= wr->opts.max_rows_per_file)
				status = flush_all(wr, err);
		}
		lance_batch_free(b);
		b = NULL;
	}
	lance_scanner_close(sc);
	core_free(ids);
	return status;
}

/* ------------------------------------------------------------ restore */

/* The manifest path of a version in a listing; NULL when absent. */
static const char *
version_path(const LanceVersionList *versions, uint64_t version)
{
	for (int i = 0; i < versions->count; i++)
		if (versions->entries[i].version == version)
			return versions->entries[i].path;
	return NULL;
}

CoreStatus
lance_dataset_restore(Storage *st, const char *path, uint64_t version, uint64_t *new_version,
					  CoreError *err)
{
	Ltx__Transaction txn = LTX__TRANSACTION__INIT;
	Ltx__Restore restore = LTX__RESTORE__INIT;
	char		uuid[40];
	char		txn_name[96];
	char		rel[160];
	uint8_t    *tbytes = NULL;
	size_t		tlen;
	char	   *p;
	CoreStatus	status;

	*new_version = 0;
	status = lance_random_uuid(uuid, sizeof(uuid), err);
	for (int attempt = 0; status == CORE_OK; attempt++)
	{
		LanceVersionList *versions = NULL;
		const char *old_path;
		const char *latest_path;
		RawManifest old;
		RawManifest latest;
		Lt__Manifest m;
		Lt__Timestamp ts = LT__TIMESTAMP__INIT;
		Lt__WriterVersion wv = LT__WRITER_VERSION__INIT;
		struct timespec now;
		const uint8_t *index = NULL;
		uint32_t	index_len = 0;
		size_t		plen;
		size_t		total;
		uint8_t    *buf;
		size_t		pos = 0;
		char		name[64];
		bool		v2;
		uint64_t	v;

		if (attempt >= COMMIT_MAX_ATTEMPTS)
			return core_error(err, CORE_ERR_CONFLICT, "%s: gave up restoring after losing %d commits",
							  path, COMMIT_MAX_ATTEMPTS);
		status = lance_versions_list(st, path, &versions, err);
		if (status != CORE_OK)
			return status;
		old_path = version_path(versions, version);
		latest_path = versions->entries[versions->count - 1].path;
		if (old_path == NULL)
		{
			lance_versions_free(versions);
			return core_error(err, CORE_ERR_NOT_FOUND, "%s/%s: there is no version %" PRIu64,
							  storage_root(st), path, version);
		}
		{
			const char *slash = strrchr(latest_path, '/');

			lance_version_name_parse(slash ? slash + 1 : latest_path, &v, &v2);
		}
		status = lance_raw_manifest_read(st, old_path, &old, err);
		if (status == CORE_OK)
		{
			status = lance_raw_manifest_read(st, latest_path, &latest, err);
			if (status != CORE_OK)
				lance_raw_manifest_free(&old);
		}
		lance_versions_free(versions);
		if (status != CORE_OK)
			return status;

		/* the transaction file is written once, then reused by retries */
		if (tbytes == NULL)
		{
			txn.has_read_version = 1;
			txn.read_version = latest.pm->version;
			txn.uuid = uuid;
			restore.has_version = 1;
			restore.version = version;
			txn.operation_case = LTX__TRANSACTION__OPERATION_RESTORE;
			txn.restore = &restore;
			tlen = ltx__transaction__get_packed_size(&txn);
			tbytes = core_malloc(tlen ? tlen : 1);
			snprintf(txn_name, sizeof(txn_name), "%" PRIu64 "-%s.txn", txn.read_version, uuid);
			snprintf(rel, sizeof(rel), "_transactions/%s", txn_name);
			p = lance_path_join(path, rel);
			if (tbytes == NULL || p == NULL)
				status = core_error(err, CORE_ERR_NOMEM, "out of memory restoring %s", path);
			else
			{
				ltx__transaction__pack(&txn, tbytes);
				status = storage_put_if_absent(st, p, tbytes, tlen, err);
			}
			core_free(p);
		}
		m = *old.pm;
		m.has_version = 1;
		m.version = latest.pm->version + 1;
		clock_gettime(CLOCK_REALTIME, &now);
		ts.has_seconds = 1;
		ts.seconds = now.tv_sec;
		ts.has_nanos = 1;
		ts.nanos = (int32_t) now.tv_nsec;
		m.timestamp = &ts;
		wv.library = WRITER_LIBRARY;
		wv.version = WRITER_LIBRARY_VERSION;
		m.writer_version = &wv;
		m.transaction_file = txn_name;
		m.has_transaction_section = 0;
		/* fragment ids stay unique across history: keep the newest maximum */
		if (latest.pm->has_max_fragment_id &&
			(!m.has_max_fragment_id || latest.pm->max_fragment_id > m.max_fragment_id))
		{
			m.has_max_fragment_id = 1;
			m.max_fragment_id = latest.pm->max_fragment_id;
		}
		if (status == CORE_OK && old.pm->has_index_section)
		{
			index = lance_raw_manifest_section(&old, old.pm->index_section, &index_len);
			if (index == NULL)
				status = core_error(err, CORE_ERR_CORRUPT, "%s: version %" PRIu64 ": index section out of range",
									path, version);
			m.index_section = 0;
		}
		buf = NULL;
		if (status == CORE_OK)
		{
			plen = lt__manifest__get_packed_size(&m);
			total = (index ? 4 + (size_t) index_len : 0) + 4 + plen + 16;
			buf = core_malloc(total);
			if (buf == NULL)
				status = core_error(err, CORE_ERR_NOMEM, "out of memory restoring %s", path);
		}
		if (status == CORE_OK)
		{
			uint32_t	l32 = (uint32_t) plen;
			uint64_t	mpos;
			uint16_t	major = 0;
			uint16_t	minor = 2;
			char	   *dir;

			if (index)
			{
				memcpy(buf, &index_len, 4);
				memcpy(buf + 4, index, index_len);
				pos = 4 + (size_t) index_len;
			}
			mpos = pos;
			memcpy(buf + pos, &l32, 4);
			lt__manifest__pack(&m, buf + pos + 4);
			pos += 4 + plen;
			memcpy(buf + pos, &mpos, 8);
			memcpy(buf + pos + 8, &major, 2);
			memcpy(buf + pos + 10, &minor, 2);
			memcpy(buf + pos + 12, "LANC", 4);
			lance_version_name(m.version, v2, name, sizeof(name));
			dir = lance_path_join(path, "_versions");
			p = dir ? lance_path_join(dir, name) : NULL;
			status = p ? storage_put_if_absent(st, p, buf, total, err)
				: core_error(err, CORE_ERR_NOMEM, "out of memory restoring %s", path);
			core_free(dir);
			core_free(p);
			if (status == CORE_OK)
				*new_version = m.version;
		}
		core_free(buf);
		lance_raw_manifest_free(&old);
		lance_raw_manifest_free(&latest);
		if (status == CORE_ERR_CONFLICT)
			status = CORE_OK;	/* another writer won: restore on top of it */
		else
			break;
	}
	core_free(tbytes);
	return status;
}
