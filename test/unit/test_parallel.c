/*-------------------------------------------------------------------------
 *
 * test_parallel.c
 *	  Unit tests for running tasks on threads.
 *
 *-------------------------------------------------------------------------
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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
