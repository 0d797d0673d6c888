/*-------------------------------------------------------------------------
 *
 * test_parallel.c
 *	  Unit tests for running tasks on threads.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/parallel.h"
#include "unit.h"

typedef struct Counts
{
	atomic_int *runs;
} Counts;

static CoreStatus
count_task(void *arg, size_t task, CoreError *err)
{
	Counts	   *c = (Counts *) arg;

	atomic_fetch_add(&c->runs[task], 1);
	return CORE_OK;
}

/* Fails on every seventh task, naming it. */
static CoreStatus
fail_some_task(void *arg, size_t task, CoreError *err)
{
	count_task(arg, task, err);
	if (task % 7 == 3)
		return core_error(err, CORE_ERR_INVALID, "task %zu failed", task);
	return CORE_OK;
}

UNIT_TEST(parallel_run_calls_every_task_exactly_once)
{
	static const int threads[] = {0, 1, 2, 5, CORE_PARALLEL_MAX_THREADS + 10};

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++)
	{
		size_t		ntasks = 1000;
		Counts		c = {.runs = calloc(ntasks, sizeof(atomic_int))};
		size_t		wrong = 0;
		CoreError	err;

		CHECK(core_parallel_run(threads[t], ntasks, count_task, &c, &err) == CORE_OK);
		for (size_t i = 0; i < ntasks; i++)
			if (atomic_load(&c.runs[i]) != 1)
				wrong++;
		free(c.runs);
		CHECK_MSG(wrong == 0, "%d threads: %zu tasks not run exactly once", threads[t], wrong);
	}
}

UNIT_TEST(parallel_run_with_no_tasks_returns)
{
	Counts		c = {.runs = NULL};
	CoreError	err;

	CHECK(core_parallel_run(4, 0, count_task, &c, &err) == CORE_OK);
	CHECK(c.runs == NULL);
}

UNIT_TEST(parallel_run_reports_a_failed_task_and_still_runs_the_others)
{
	size_t		ntasks = 100;
	Counts		c = {.runs = calloc(ntasks, sizeof(atomic_int))};
	CoreError	err;
	CoreStatus	st = core_parallel_run(3, ntasks, fail_some_task, &c, &err);
	size_t		ran = 0;

	for (size_t i = 0; i < ntasks; i++)
		ran += atomic_load(&c.runs[i]) == 1;
	free(c.runs);
	CHECK(st == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "failed") != NULL);
	CHECK(ran == ntasks);
}

/* The caller's callback: counts its calls, by thread; true from the third. */
typedef struct Poll
{
	pthread_t	owner;
	atomic_int	calls;
	atomic_int	foreign_calls;	/* from any other thread */
} Poll;

static bool
poll_third(void *arg)
{
	Poll	   *p = (Poll *) arg;

	if (!pthread_equal(pthread_self(), p->owner))
		atomic_fetch_add(&p->foreign_calls, 1);
	return atomic_fetch_add(&p->calls, 1) + 1 >= 3;
}

typedef struct Waiting
{
	CoreCancel *cancel;
	atomic_int	started;
} Waiting;

/*
 * Waits for the run to be canceled, as a long task asks between its steps;
 * gives up after about 10 s so that a broken cancel fails the test rather
 * than hanging it.
 */
static CoreStatus
wait_for_cancel_task(void *arg, size_t task, CoreError *err)
{
	Waiting    *w = (Waiting *) arg;
	struct timespec ms = {0, 1000000L};

	atomic_fetch_add(&w->started, 1);
	for (int i = 0; i < 10000; i++)
	{
		if (core_cancel_requested(w->cancel))
			return core_error(err, CORE_ERR_CANCELED, "task %zu canceled", task);
		nanosleep(&ms, NULL);
	}
	return CORE_OK;
}

UNIT_TEST(parallel_run_cancel_polls_on_the_caller_and_stops_every_thread)
{
	size_t		ntasks = 100;
	Poll		p = {.owner = pthread_self()};
	CoreCancel	cancel;
	Waiting		w = {.cancel = &cancel};
	CoreError	err;
	CoreStatus	st;

	atomic_init(&p.calls, 0);
	atomic_init(&p.foreign_calls, 0);
	atomic_init(&w.started, 0);
	core_cancel_init(&cancel, poll_third, &p);
	st = core_parallel_run_cancel(4, ntasks, wait_for_cancel_task, &w, &cancel, &err);
	CHECK(st == CORE_ERR_CANCELED);
	CHECK(atomic_load(&p.foreign_calls) == 0);
	CHECK_MSG(atomic_load(&w.started) <= 4, "%d tasks started after the cancel",
			  atomic_load(&w.started));
}
