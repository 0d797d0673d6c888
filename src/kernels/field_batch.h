/*-------------------------------------------------------------------------
 *
 * field_batch.h
 *	  Parse a batch of text fields with the canonical parsers, on a thread
 *	  of its own or on the caller's.
 *
 * A text COPY spends about a third of its time parsing numbers (128 of
 * them a row for a vector(128) column).  The loader splits lines into a
 * batch of field strings, and a thread parses the batch while the loader
 * splits the next one.  Each field either parses in the one spelling its
 * kind's parser reads (field_parse.h, float_parse.h) or is flagged, for
 * the loader to hand to the complete parser; so the thread never needs to
 * report an error, and the loader raises every error itself, in order.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_FIELD_BATCH_H
#define LANCEDB_KERNELS_FIELD_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* How a column's fields parse. */
typedef enum FieldKind
{
	FIELD_OTHER,				/* not by this module: always flagged */
	FIELD_BOOL,					/* t or f */
	FIELD_INT16,
	FIELD_INT32,
	FIELD_INT64,
	FIELD_FLOAT32,
	FIELD_FLOAT64,
	FIELD_TIMESTAMP,			/* microseconds since 1970-01-01 */
	FIELD_FLOAT_LIST			/* "[x,...]" of exactly dim floats */
} FieldKind;

/* A parsed value. */
typedef union FieldValue
{
	bool		b;
	int64_t		i;				/* the integer kinds and timestamps */
	float		f;
	double		d;
} FieldValue;

/*
 * Rows of ncols fields, row-major.  The caller fills kinds, dims, nrows
 * and strings (NULL for an SQL null, which is neither parsed nor flagged)
 * and provides values, parsed and, per FIELD_FLOAT_LIST column, room for
 * nrows * dims[c] floats in lists[c].
 */
typedef struct FieldBatch
{
	int			ncols;
	const FieldKind *kinds;		/* per column */
	const int  *dims;			/* per column, for FIELD_FLOAT_LIST */
	int			nrows;
	const char *const *strings; /* nrows * ncols */
	FieldValue *values;			/* nrows * ncols */
	bool	   *parsed;			/* nrows * ncols: false = flagged */
	float	  **lists;			/* per column: row r's floats at r * dims[c] */

	/* a thread under way, private to field_batch.c */
	pthread_t	thread;
	bool		threaded;
} FieldBatch;

/* Parse every field of the batch on the calling thread. */
extern void field_batch_parse(FieldBatch *b);

/*
 * Parse the batch on a thread of its own, or on the caller's if no thread
 * can be started.  Until field_batch_wait returns, the caller must leave
 * the batch's memory alone.
 */
extern void field_batch_start(FieldBatch *b);

/* Wait for field_batch_start's work to end; harmless when none is under way. */
extern void field_batch_wait(FieldBatch *b);

/*
 * Threads field_batch_start started that no field_batch_wait has joined
 * yet: a thread that has finished but was never joined still holds its
 * stack, and leaves no other trace, so tests check this count.  Start and
 * wait are called from one thread, the loader's.
 */
extern int	field_batch_unjoined(void);

#endif							/* LANCEDB_KERNELS_FIELD_BATCH_H */
