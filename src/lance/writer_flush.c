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
#include <time.h>

#include "core/alloc.h"
#include "lance/writer_flush.h"
/* the storage's cancel callback, to be wrapped while a job runs */
#include "storage/storage_backend.h"

/* How often lance_flush_wait polls the caller's cancel callback. */
#define FLUSH_POLL_NS (10 * 1000 * 1000)

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

	/* set under lock by the thread when the outcome is in, for wait */
	pthread_mutex_t lock;
	pthread_cond_t ended;
	bool		done;

	/*
	 * The storage's own cancel callback, put back by finish.  It reads the
	 * caller's interrupt flags, so it is polled only on the caller's
	 * thread (lance_flush_wait); the thread polls job_cancel, which stops
	 * the write only once the caller gave it up (abandon: set by the
	 * caller, read by the thread, atomically).
	 */
	StorageCancelFn orig_fn;
	void	   *orig_arg;
	bool		abandon;
};

/* The storage's cancel callback while a job runs (see LanceFlushJob). */
static bool
job_cancel(void *arg)
{
	LanceFlushJob *job = (LanceFlushJob *) arg;

	return __atomic_load_n(&job->abandon, __ATOMIC_ACQUIRE);
}

/* The thread's body: write the file, keep the outcome for finish. */
static void *
flush_main(void *arg)
{
	LanceFlushJob *job = (LanceFlushJob *) arg;

	job->status = lance_datafile_write(job->st, job->path, job->schema, job->version,
									   job->columns, job->rows, &job->file, &job->err);
	pthread_mutex_lock(&job->lock);
	job->done = true;
	pthread_cond_signal(&job->ended);
	pthread_mutex_unlock(&job->lock);
	return NULL;
}

CoreStatus
lance_flush_start(Storage *st, const char *path, const LanceSchema *schema,
				  LanceFileVersion version, LanceArray *const *columns, int64_t rows,
				  LanceFlushJob **out, CoreError *err)
{
	LanceFlushJob *job = core_calloc(1, sizeof(LanceFlushJob));
	pthread_condattr_t attr;
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
	pthread_mutex_init(&job->lock, NULL);
	/* timed waits must not jump with the wall clock */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&job->ended, &attr);
	pthread_condattr_destroy(&attr);

	/* the thread inherits the mask: block everything while starting it */
	storage_set_cancel(st, job_cancel, job);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	job->threaded = pthread_create(&job->thread, NULL, flush_main, job) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!job->threaded)
	{
		/* written on the caller's thread: its own cancel applies */
		storage_set_cancel(st, job->orig_fn, job->orig_arg);
		flush_main(job);
	}
	*out = job;
	return CORE_OK;
}

CoreStatus
lance_flush_wait(LanceFlushJob *job, CoreError *err)
{
	CoreStatus	status = CORE_OK;

	pthread_mutex_lock(&job->lock);
	while (!job->done)
	{
		struct timespec until;

		if (job->orig_fn != NULL && job->orig_fn(job->orig_arg))
		{
			status = core_error(err, CORE_ERR_CANCELED,
								"canceled while waiting for a data file of %s to be written",
								job->path);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += FLUSH_POLL_NS;
		if (until.tv_nsec >= 1000 * 1000 * 1000)
		{
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&job->ended, &job->lock, &until);
	}
	pthread_mutex_unlock(&job->lock);
	return status;
}

CoreStatus
lance_flush_finish(LanceFlushJob *job, LanceWrittenFile **file, CoreError *err)
{
	CoreStatus	status;

	if (job->threaded)
	{
		pthread_join(job->thread, NULL);
		storage_set_cancel(job->st, job->orig_fn, job->orig_arg);
	}
	pthread_cond_destroy(&job->ended);
	pthread_mutex_destroy(&job->lock);
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
