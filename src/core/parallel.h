/*-------------------------------------------------------------------------
 *
 * parallel.h
 *	  Run independent tasks on a few threads, the calling one included.
 *
 * For the kernels' batch work (k-means passes, PQ training and encoding)
 * inside an index build: the tasks are pure arithmetic on memory the caller
 * owns.  A task must not call back into the caller (in a backend, nothing
 * that touches Postgres), because it may run on a thread the caller does
 * not know; the calling thread checks for interrupts between runs.  The
 * threads block every signal, so a signal meant for the process is always
 * handled by the calling thread.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_CORE_PARALLEL_H
#define LANCEDB_CORE_PARALLEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Upper bound on threads per run, the caller's included. */
#define CORE_PARALLEL_MAX_THREADS	64

/* One task; on failure it fills err and returns its status. */
typedef CoreStatus (*CoreTaskFn) (void *arg, size_t task, CoreError *err);

/*
 * Call fn(arg, t, ...) once for every t in [0, ntasks), on up to `threads`
 * threads (the caller's included; 1 or less runs everything on the caller),
 * and return when all have finished.  Tasks are handed out in order, one at
 * a time.  If a thread cannot be started, the others take its share.
 * Returns CORE_OK, or the status and error (in err) of a failed task; the
 * other tasks still run, each being independent.
 */
extern CoreStatus core_parallel_run(int threads, size_t ntasks, CoreTaskFn fn,
									void *arg, CoreError *err);

/*
 * Cancellation that tasks on any thread can ask about.  The caller's own
 * callback may touch state only its thread may (a backend's interrupt
 * flags), so it is polled only on the thread that set this up; every
 * thread reads the flag it raises.
 */
typedef struct CoreCancel
{
	bool		(*poll) (void *arg);	/* the caller's callback; may be NULL */
	void	   *poll_arg;
	pthread_t	owner;			/* the thread that may call poll */
	_Atomic int stopped;
} CoreCancel;

/* Set up c on the calling thread, which becomes the one to poll. */
extern void core_cancel_init(CoreCancel *c, bool (*poll) (void *arg),
							 void *poll_arg);

/*
 * Whether c (a CoreCancel *) was canceled: on the owner thread this polls
 * the callback first.  Safe on any thread, so it serves as the cancel
 * callback of work handed to tasks.
 */
extern bool core_cancel_requested(void *c);

/*
 * core_parallel_run, cancelable through c (set up on the calling thread):
 * the calling thread polls it before each of its own tasks and, once it
 * has none left, every 10 ms until the other threads finish theirs.  Once
 * canceled, no further task starts; tasks under way see it if they ask
 * core_cancel_requested(c).  Returns CORE_ERR_CANCELED then, unless a task
 * failed otherwise.
 */
extern CoreStatus core_parallel_run_cancel(int threads, size_t ntasks,
										   CoreTaskFn fn, void *arg,
										   CoreCancel *c, CoreError *err);

#endif							/* LANCEDB_CORE_PARALLEL_H */
