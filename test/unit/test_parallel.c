/*-------------------------------------------------------------------------
 *
 * test_parallel.c
 *	  Unit tests for running tasks on threads.
 *
 *-------------------------------------------------------------------------
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "core/parallel.h"
#include "unit.h"

typedef struct Counts
{
	atomic_int *runs;
} Counts;

static void
count_task(void *arg, size_t task)
{
	Counts	   *c = (Counts *) arg;

	atomic_fetch_add(&c->runs[task], 1);
}

UNIT_TEST(parallel_run_calls_every_task_exactly_once)
{
	static const int threads[] = {0, 1, 2, 5, CORE_PARALLEL_MAX_THREADS + 10};

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++)
	{
		size_t		ntasks = 1000;
		Counts		c = {.runs = calloc(ntasks, sizeof(atomic_int))};
		size_t		wrong = 0;

		core_parallel_run(threads[t], ntasks, count_task, &c);
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

	core_parallel_run(4, 0, count_task, &c);
	CHECK(c.runs == NULL);
}
