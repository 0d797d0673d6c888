/*-------------------------------------------------------------------------
 *
 * writer_flush.c
 *	  Write one data file on a background thread (writer_flush.h).
 *
 * One thread per file: a file holds hundreds of megabytes, so starting a
 * thread costs nothing next to writing it, and no thread outlives the
 * job to surprise a caller that forks or exits.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <signal.h>

#include "core/alloc.h"
#include "lance/writer_flush.h"
/* the storage's cancel callback, to be wrapped while a job runs */
#include "storage/storage_backend.h"

struct LanceFlushJob
{
	/* what to write: the caller's, read-only until finish */
	Storage    *st;
	const char *path;
	const LanceSchema *schema;
	LanceFileVersion version;
	LanceArray *const *columns;
	int64_t		rows;

	/* the outcome, set by the thread (or by start, without one) */
	CoreStatus	status;
	CoreError	err;
	LanceWrittenFile *file;

	pthread_t	thread;
	bool		threaded;

	/*
	 * The storage's own cancel callback, put back by finish.  While the job
	 * runs, the thread polls job_cancel instead: the caller's callback
	 * reads the caller's interrupt flags, which mean something to the file
	 * only while the caller waits for it (waiting); a cancel of another
	 * statement in between must not lose rows an earlier one wrote.
	 * abandon stops the write whatever the caller's flags say: the caller
	 * is freeing or rolling back, and its flags may already be cleared.
	 * Both are set by the caller and read by the thread, atomically.
	 */
	StorageCancelFn orig_fn;
	void	   *orig_arg;
	bool		abandon;
	bool		waiting;
};

/* The storage's cancel callback while a job runs (see LanceFlushJob). */
static bool
job_cancel(void *arg)
{
	LanceFlushJob *job = (LanceFlushJob *) arg;

	if (__atomic_load_n(&job->abandon, __ATOMIC_ACQUIRE))
		return true;
	return __atomic_load_n(&job->waiting, __ATOMIC_ACQUIRE) &&
		job->orig_fn != NULL && job->orig_fn(job->orig_arg);
}

/* The thread's body: write the file, keep the outcome for finish. */
static void *
flush_main(void *arg)
{
	LanceFlushJob *job = (LanceFlushJob *) arg;

	job->status = lance_datafile_write(job->st, job->path, job->schema, job->version,
									   job->columns, job->rows, &job->file, &job->err);
	return NULL;
}

CoreStatus
lance_flush_start(Storage *st, const char *path, const LanceSchema *schema,
				  LanceFileVersion version, LanceArray *const *columns, int64_t rows,
				  LanceFlushJob **out, CoreError *err)
{
	LanceFlushJob *job = core_calloc(1, sizeof(LanceFlushJob));
	sigset_t	all;
	sigset_t	old;

	*out = NULL;
	if (job == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory starting to write a data file");
	job->st = st;
	job->path = path;
	job->schema = schema;
	job->version = version;
	job->columns = columns;
	job->rows = rows;
	job->orig_fn = st->cancel_fn;
	job->orig_arg = st->cancel_arg;
	storage_set_cancel(st, job_cancel, job);

	/* the thread inherits the mask: block everything while starting it */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	job->threaded = pthread_create(&job->thread, NULL, flush_main, job) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!job->threaded)
	{
		/* the caller waits for this write as for any other */
		job->waiting = true;
		flush_main(job);
	}
	*out = job;
	return CORE_OK;
}

CoreStatus
lance_flush_finish(LanceFlushJob *job, LanceWrittenFile **file, CoreError *err)
{
	CoreStatus	status;

	__atomic_store_n(&job->waiting, true, __ATOMIC_RELEASE);
	if (job->threaded)
		pthread_join(job->thread, NULL);
	storage_set_cancel(job->st, job->orig_fn, job->orig_arg);
	status = job->status;
	*file = job->file;
	if (status != CORE_OK)
		*err = job->err;
	core_free(job);
	return status;
}

void
lance_flush_abandon(LanceFlushJob *job)
{
	__atomic_store_n(&job->abandon, true, __ATOMIC_RELEASE);
}
