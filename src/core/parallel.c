/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  Run independent tasks on a few threads (see parallel.h).
 *
 * Threads are started per run and joined at its end: runs are coarse (a
 * k-means pass, a block of a few thousand rows), so the tens of
 * microseconds a thread costs to start do not show, and no pool outlives
 * the call to surprise a caller that forks.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "core/parallel.h"

typedef struct ParallelRun
{
	CoreTaskFn	fn;
	void	   *arg;
	size_t		ntasks;
	atomic_size_t next;			/* next task to hand out */
	atomic_int	failed;			/* the first failing task claims err */
	atomic_int	running;		/* started threads still taking tasks */
	CoreError  *err;
	CoreCancel *cancel;			/* may be NULL */
} ParallelRun;

/* Polling interval of a calling thread waiting for the others, in ns. */
#define PARALLEL_POLL_NS	10000000L

void
core_cancel_init(CoreCancel *c, bool (*poll) (void *arg), void *poll_arg)
{
	c->poll = poll;
	c->poll_arg = poll_arg;
	c->owner = pthread_self();
	atomic_init(&c->stopped, 0);
}

bool
core_cancel_requested(void *arg)
{
	CoreCancel *c = (CoreCancel *) arg;

	if (atomic_load(&c->stopped))
		return true;
	if (c->poll && pthread_equal(pthread_self(), c->owner) && c->poll(c->poll_arg))
	{
		atomic_store(&c->stopped, 1);
		return true;
	}
	return false;
}

/* Take tasks until none is left or the run is canceled. */
static void
take_tasks(ParallelRun *run)
{
	for (;;)
	{
		size_t		t;
		CoreError	err;

		if (run->cancel && core_cancel_requested(run->cancel))
			return;
		t = atomic_fetch_add(&run->next, 1);
		if (t >= run->ntasks)
			return;
		if (run->fn(run->arg, t, &err) != CORE_OK &&
			atomic_exchange(&run->failed, 1) == 0)
			*run->err = err;
	}
}

static void *
worker(void *p)
{
	ParallelRun *run = (ParallelRun *) p;

	take_tasks(run);
	atomic_fetch_sub(&run->running, 1);
	return NULL;
}

CoreStatus
core_parallel_run(int threads, size_t ntasks, CoreTaskFn fn, void *arg,
				  CoreError *err)
{
	return core_parallel_run_cancel(threads, ntasks, fn, arg, NULL, err);
}

CoreStatus
core_parallel_run_cancel(int threads, size_t ntasks, CoreTaskFn fn, void *arg,
						 CoreCancel *c, CoreError *err)
{
	ParallelRun run;
	pthread_t	tids[CORE_PARALLEL_MAX_THREADS];
	int			started = 0;
	sigset_t	all;
	sigset_t	old;

	run.fn = fn;
	run.arg = arg;
	run.ntasks = ntasks;
	run.err = err;
	run.cancel = c;
	atomic_init(&run.next, 0);
	atomic_init(&run.failed, 0);
	atomic_init(&run.running, 0);

	if (threads > CORE_PARALLEL_MAX_THREADS)
		threads = CORE_PARALLEL_MAX_THREADS;
	if ((size_t) threads > ntasks)
		threads = (int) ntasks;

	/* new threads inherit the mask: block everything while starting them */
	if (threads > 1)
	{
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (int i = 1; i < threads; i++)
		{
			atomic_fetch_add(&run.running, 1);
			if (pthread_create(&tids[started], NULL, worker, &run) != 0)
			{
				atomic_fetch_sub(&run.running, 1);
				break;
			}
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	take_tasks(&run);

	/* the others' tasks may run long: keep polling while they do */
	if (c)
	{
		struct timespec pause = {0, PARALLEL_POLL_NS};

		while (atomic_load(&run.running) > 0 && !core_cancel_requested(c))
			nanosleep(&pause, NULL);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (atomic_load(&run.failed))
		return err->status;
	if (c && atomic_load(&c->stopped))
		return core_error(err, CORE_ERR_CANCELED, "canceled before all %zu tasks ran", ntasks);
	return CORE_OK;
}
