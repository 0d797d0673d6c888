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

#include "core/parallel.h"

typedef struct ParallelRun
{
	CoreTaskFn	fn;
	void	   *arg;
	size_t		ntasks;
	atomic_size_t next;			/* next task to hand out */
	atomic_int	failed;			/* the first failing task claims err */
	CoreError  *err;
} ParallelRun;

/* Take tasks until none is left. */
static void *
worker(void *p)
{
	ParallelRun *run = (ParallelRun *) p;

	for (;;)
	{
		size_t		t = atomic_fetch_add(&run->next, 1);
		CoreError	err;

		if (t >= run->ntasks)
			return NULL;
		if (run->fn(run->arg, t, &err) != CORE_OK &&
			atomic_exchange(&run->failed, 1) == 0)
			*run->err = err;
	}
}

CoreStatus
core_parallel_run(int threads, size_t ntasks, CoreTaskFn fn, void *arg,
				  CoreError *err)
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
	atomic_init(&run.next, 0);
	atomic_init(&run.failed, 0);

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
			if (pthread_create(&tids[started], NULL, worker, &run) != 0)
				break;
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	worker(&run);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return atomic_load(&run.failed) ? err->status : CORE_OK;
}
