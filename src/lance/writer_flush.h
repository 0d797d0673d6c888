/*-------------------------------------------------------------------------
 *
 * writer_flush.h
 *	  Write one data file on a background thread.
 *
 * A LanceWriter (commit.c) hands a full row buffer to a flush job and
 * goes on buffering the next rows while the job encodes and stores the
 * file (lance_datafile_write), so a COPY's parsing overlaps its writing.
 * The job owns nothing: the columns, storage, path and schema stay the
 * caller's and must stay unchanged (and the storage otherwise unused)
 * until lance_flush_finish.  The thread blocks every signal, so signals
 * are handled by the caller's thread; it calls no code of the caller's
 * but the storage's own.  While a job runs, the storage's cancel callback
 * is replaced by the job's, put back by lance_flush_finish: it stops the
 * write only when lance_flush_abandon was called.  The caller's own
 * callback is polled only on the caller's thread, by lance_flush_wait:
 * a cancel stops the caller's wait, never the file, so a cancel meant
 * for one statement cannot lose rows an earlier one wrote.  Failures
 * come back from lance_flush_finish as its status and error.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_WRITER_FLUSH_H
#define LANCEDB_LANCE_WRITER_FLUSH_H

#include "lance/write.h"

typedef struct LanceFlushJob LanceFlushJob;

/*
 * Start writing columns (one per top-level field, rows long) as a new
 * data file of the dataset at path, as lance_datafile_write does.  When
 * no thread can be started, the file is written before this returns
 * (its outcome still comes from lance_flush_finish).  NOMEM only when
 * the job itself cannot be allocated.
 */
extern CoreStatus lance_flush_start(Storage *st, const char *path, const LanceSchema *schema,
									LanceFileVersion version, LanceArray *const *columns,
									int64_t rows, LanceFlushJob **out, CoreError *err);

/*
 * Wait for the job to end, polling the storage's own cancel callback on
 * this thread: CORE_ERR_CANCELED when it says stop, with the job still
 * running (wait again, or abandon it, then finish it).  CORE_OK once the
 * job has ended, whatever its outcome.
 */
extern CoreStatus lance_flush_wait(LanceFlushJob *job, CoreError *err);

/*
 * Wait for the job to end, without polling any cancel, and free it: CORE_OK with the written file in
 * *file, or the write's failure in err (and *file NULL).
 */
extern CoreStatus lance_flush_finish(LanceFlushJob *job, LanceWrittenFile **file,
									 CoreError *err);

/*
 * Ask the job to stop at its storage's next cancel poll: its rows are not
 * wanted any more.  Call lance_flush_finish after it as always (it may
 * still return the file, when the write ended first).
 */
extern void lance_flush_abandon(LanceFlushJob *job);

#endif							/* LANCEDB_LANCE_WRITER_FLUSH_H */
