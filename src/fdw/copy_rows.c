/*-------------------------------------------------------------------------
 *
 * copy_rows.c
 *	  The rows of COPY's fast path: split by COPY, parsed on a thread,
 *	  appended in order.
 *
 * Rows go through in batches, two at a time: while a thread parses the
 * canonical fields of one batch (field_batch.h: numbers, booleans,
 * timestamps, vectors), the backend splits the next batch's lines with
 * NextCopyFromRawFields and then appends the parsed batch's rows to the
 * writer.  Splitting copies each row's fields and line into the batch's
 * arena, since COPY reuses its buffers row after row.
 *
 * Results and errors are the standard path's:
 *
 * - A field the thread could not parse canonically goes, when its row is
 *   appended, to the column's input function, with COPY's error context
 *   pointing at its line and column (cur_lineno, and line_buf swapped to
 *   the row's saved line), so an error names the line it would on the
 *   standard path.  Rows are appended in order, and a row's fields are all
 *   converted before it is appended, as NextCopyFrom does before the
 *   executor inserts.
 * - A data error while splitting (a bad escape or encoding, an
 *   unterminated CSV quote, extra data on a line), or a line too long
 *   for a string (class 54, as deterministic), belongs to a later line
 *   than the rows still waiting in the batches.  It is caught and kept,
 *   those rows are appended first (one of them may fail, and its error is
 *   then the one raised, as on the standard path), and then it is raised
 *   again, with the context it was raised with.  Any other error (a
 *   cancel, a lost client, a read error) is raised at once.  A line with
 *   too few fields is kept and fails when its row is appended, at the
 *   first missing column, as NextCopyFrom fails after converting the
 *   fields before it.
 * - The thread never calls Postgres and raises nothing.  A memory context
 *   callback on the batches' context waits for it, so an error or a cancel
 *   anywhere (the context goes with the statement's) never frees memory a
 *   thread still reads, and no thread outlives the COPY.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/copyfrom_internal.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "utils/backend_progress.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "fdw/copy_rows.h"
#include "kernels/field_batch.h"
#include "types/vector.h"

/*
 * At most BATCH_ROWS rows a batch, and fewer for wide rows: a batch holds
 * per field an offset, a string pointer, a value and a flag, and per
 * vector(n) column n floats a row, which BATCH_BYTES bounds (a vector
 * (16000) column is 64 kB a row), down to one row a batch.  The per-row
 * arrays start at FIRST_ROWS, or at as many rows as FIRST_ARENA holds
 * (at least one), and double as rows arrive, so a short COPY takes memory
 * for the rows it has, not for rows that never come; the arena, which
 * also closes a batch at BATCH_BYTES (long lines), starts at FIRST_ARENA.
 */
#define BATCH_ROWS 2048
#define FIRST_ROWS 64
#define BATCH_BYTES (8 * 1024 * 1024)
#define FIRST_ARENA (64 * 1024)

/* A field offset that stands for an SQL null */
#define NO_FIELD (~(Size) 0)

/* 2000-01-01, Postgres' timestamp epoch, in microseconds after Unix's */
#define PG_EPOCH_UNIX_USECS (INT64CONST(10957) * USECS_PER_DAY)

bool		lance_copy_parse_thread = true;

/* One column of the COPY's column list. */
typedef struct CopyColumn
{
	int			attno;			/* 0-based attribute */
	const char *attname;
	bool		is_text;		/* text: the field is the value */
	int32		typmod;
	FmgrInfo   *in_func;		/* from COPY's state */
	Oid			typioparam;
	bool		force_notnull;	/* CSV FORCE_NOT_NULL */
	bool		force_null;		/* CSV FORCE_NULL */
	text	   *text_buf;		/* is_text: the value, reused row after row */
	Size		text_cap;
	Vector	   *vec;			/* vector(n): the value, reused */
} CopyColumn;

/* Rows split and waiting to be parsed and appended. */
typedef struct CopyBatch
{
	FieldBatch	fb;				/* what the thread parses */
	int			nrows;
	char	   *arena;			/* fields and lines, NUL-terminated */
	Size		arena_len;
	Size		arena_cap;
	int			cap;			/* rows the arrays below have room for */
	Size	   *field_off;		/* cap * ncols; NO_FIELD = null */
	int		   *nfields;		/* per row: fields the line had */
	Size	   *line_off;		/* per row: its line in the arena */
	int		   *line_len;
	uint64	   *lineno;
	const char **strings;		/* fb.strings, made from field_off */
} CopyBatch;

/* The state of one COPY's rows. */
typedef struct CopyRows
{
	CopyFromState cstate;
	LanceModifyState *ms;
	int			ncols;
	CopyColumn *cols;
	FieldKind  *kinds;
	int		   *dims;
	Size		row_bytes;		/* room a row takes in a batch's arrays */
	int			batch_rows;		/* the most rows a batch takes */
	CopyBatch	batch[2];
	Datum	   *values;			/* per attribute of the relation */
	bool	   *nulls;
	MemoryContext row_cxt;		/* per-row garbage of input functions */
	uint64		processed;
} CopyRows;

/* How the thread parses a column's fields; FIELD_OTHER for none. */
static FieldKind
field_kind(Form_pg_attribute att)
{
	switch (att->atttypid)
	{
		case BOOLOID:
			return FIELD_BOOL;
		case INT2OID:
			return FIELD_INT16;
		case INT4OID:
			return FIELD_INT32;
		case INT8OID:
			return FIELD_INT64;
		case FLOAT4OID:
			return FIELD_FLOAT32;
		case FLOAT8OID:
			return FIELD_FLOAT64;
		case TIMESTAMPOID:
			/* a precision rounds the fraction: the input function does */
			return att->atttypmod < 0 ? FIELD_TIMESTAMP : FIELD_OTHER;
		default:
			if (att->atttypid == lance_vector_type_oid() && att->atttypmod > 0)
				return FIELD_FLOAT_LIST;
			return FIELD_OTHER;
	}
}

/* Describe the COPY's columns, in the order their fields come. */
static void
setup_columns(CopyRows *cr, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	CopyFromState cstate = cr->cstate;
	ListCell   *lc;
	int			i = 0;

	cr->ncols = list_length(cstate->attnumlist);
	cr->cols = palloc0(sizeof(CopyColumn) * cr->ncols);
	cr->kinds = palloc(sizeof(FieldKind) * cr->ncols);
	cr->dims = palloc0(sizeof(int) * cr->ncols);
	foreach(lc, cstate->attnumlist)
	{
		CopyColumn *col = &cr->cols[i];
		Form_pg_attribute att = TupleDescAttr(tupdesc, lfirst_int(lc) - 1);

		col->attno = att->attnum - 1;
		col->attname = NameStr(att->attname);
		col->typmod = att->atttypmod;
		col->in_func = &cstate->in_functions[col->attno];
		col->typioparam = cstate->typioparams[col->attno];
		col->force_notnull = cstate->opts.force_notnull_flags[col->attno];
		col->force_null = cstate->opts.force_null_flags[col->attno];
		cr->kinds[i] = field_kind(att);
		if (att->atttypid == TEXTOID)
		{
			/* COPY has checked the encoding; textin only copies */
			col->is_text = true;
			col->text_cap = 256;
			col->text_buf = palloc(col->text_cap);
		}
		else if (cr->kinds[i] == FIELD_FLOAT_LIST)
		{
			cr->dims[i] = col->typmod;
			col->vec = palloc0(VECTOR_SIZE(col->typmod));
			SET_VARSIZE(col->vec, VECTOR_SIZE(col->typmod));
			col->vec->dim = (int16) col->typmod;
		}
		i++;
	}
}

/*
 * The room a row takes in a batch's arrays, and the most rows a batch
 * takes: BATCH_ROWS, or fewer where more would take over BATCH_BYTES, but
 * at least one.
 */
static void
size_batches(CopyRows *cr)
{
	cr->row_bytes = 0;
	for (int c = 0; c < cr->ncols; c++)
		cr->row_bytes += sizeof(Size) + sizeof(char *) + sizeof(FieldValue) + sizeof(bool) +
			sizeof(float) * cr->dims[c];
	cr->batch_rows = (int) Max(1, Min(BATCH_ROWS, BATCH_BYTES / cr->row_bytes));
}

/*
 * A new allocation of size bytes, or ptr grown to size bytes: an array
 * of a batch under BATCH_BYTES, or one of a single row's (a vector
 * column's floats), well under palloc's 1 GB either way.
 */
static void *
grow(void *ptr, Size size)
{
	return ptr ? repalloc(ptr, size) : palloc(size);
}

/* Give the batch's per-row arrays room for cap rows. */
static void
grow_batch(CopyRows *cr, CopyBatch *b, int cap)
{
	Size		n = (Size) cap * cr->ncols;

	b->cap = cap;
	b->field_off = grow(b->field_off, sizeof(Size) * n);
	b->nfields = grow(b->nfields, sizeof(int) * cap);
	b->line_off = grow(b->line_off, sizeof(Size) * cap);
	b->line_len = grow(b->line_len, sizeof(int) * cap);
	b->lineno = grow(b->lineno, sizeof(uint64) * cap);
	b->strings = grow(b->strings, sizeof(char *) * n);
	b->fb.strings = b->strings;
	b->fb.values = grow(b->fb.values, sizeof(FieldValue) * n);
	b->fb.parsed = grow(b->fb.parsed, sizeof(bool) * n);
	for (int c = 0; c < cr->ncols; c++)
		if (cr->kinds[c] == FIELD_FLOAT_LIST)
			b->fb.lists[c] = grow(b->fb.lists[c], sizeof(float) * (Size) cap * cr->dims[c]);
}

static void
setup_batch(CopyRows *cr, CopyBatch *b)
{
	b->arena_cap = FIRST_ARENA;
	b->arena = palloc(b->arena_cap);
	b->fb.ncols = cr->ncols;
	b->fb.kinds = cr->kinds;
	b->fb.dims = cr->dims;
	b->fb.lists = palloc0(sizeof(float *) * cr->ncols);
	grow_batch(cr, b, (int) Max(1, Min(Min(FIRST_ROWS, cr->batch_rows),
									   FIRST_ARENA / cr->row_bytes)));
}

/* Wait for both batches' threads: the batches' memory is about to go. */
static void
wait_batches(void *arg)
{
	CopyRows   *cr = arg;

	field_batch_wait(&cr->batch[0].fb);
	field_batch_wait(&cr->batch[1].fb);
}

/* Copy len bytes and a NUL into the batch's arena; their offset. */
static Size
arena_add(CopyBatch *b, const char *s, Size len)
{
	Size		off = b->arena_len;

	if (off + len + 1 > b->arena_cap)
	{
		b->arena_cap = Max(b->arena_cap * 2, off + len + 1);
		b->arena = repalloc_huge(b->arena, b->arena_cap);
	}
	memcpy(b->arena + off, s, len);
	b->arena[off + len] = '\0';
	b->arena_len = off + len + 1;
	return off;
}

/*
 * Split lines into the batch until it is full; false at the end of the
 * input.  The fields of each line are taken as NextCopyFrom takes them.
 */
static bool
split_batch(CopyRows *cr, CopyBatch *b)
{
	CopyFromState cstate = cr->cstate;

	while (b->nrows < cr->batch_rows && b->arena_len < BATCH_BYTES)
	{
		char	  **fields;
		int			nfields;
		int			r = b->nrows;
		const StringInfoData *abuf = &cstate->attribute_buf;
		Size		fields_base;

		CHECK_FOR_INTERRUPTS();
		if (!NextCopyFromRawFields(cstate, &fields, &nfields))
			return false;
		if (nfields > cr->ncols)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("extra data after last expected column")));
		if (r == b->cap)
			grow_batch(cr, b, Min(2 * b->cap, cr->batch_rows));
		/* the fields lie NUL-terminated back to back: one copy takes all */
		fields_base = arena_add(b, abuf->data, abuf->len);
		for (int c = 0; c < cr->ncols; c++)
		{
			CopyColumn *col = &cr->cols[c];
			char	   *string = c < nfields ? fields[c] : NULL;

			if (c < nfields && cstate->opts.csv_mode)
			{
				if (string == NULL && col->force_notnull)
					string = cstate->opts.null_print;
				else if (string != NULL && col->force_null &&
						 strcmp(string, cstate->opts.null_print) == 0)
					string = NULL;
			}
			if (string == NULL)
				b->field_off[r * cr->ncols + c] = NO_FIELD;
			else if (string >= abuf->data && string <= abuf->data + abuf->len)
				b->field_off[r * cr->ncols + c] = fields_base + (string - abuf->data);
			else				/* FORCE_NOT_NULL's NULL string */
				b->field_off[r * cr->ncols + c] = arena_add(b, string, strlen(string));
		}
		b->nfields[r] = nfields;
		b->line_off[r] = arena_add(b, cstate->line_buf.data, cstate->line_buf.len);
		b->line_len[r] = cstate->line_buf.len;
		b->lineno[r] = cstate->cur_lineno;
		b->nrows++;
	}
	return true;
}

/* Point the batch's strings into its arena, which no longer moves. */
static void
seal_batch(CopyRows *cr, CopyBatch *b)
{
	for (int i = 0; i < b->nrows * cr->ncols; i++)
		b->strings[i] = b->field_off[i] == NO_FIELD ? NULL : b->arena + b->field_off[i];
	b->fb.nrows = b->nrows;
}

/* The value the thread parsed for column c, as its input function's. */
static Datum
parsed_datum(CopyRows *cr, CopyBatch *b, int r, int c)
{
	const FieldValue *v = &b->fb.values[r * cr->ncols + c];
	CopyColumn *col = &cr->cols[c];

	switch (cr->kinds[c])
	{
		case FIELD_BOOL:
			return BoolGetDatum(v->b);
		case FIELD_INT16:
			return Int16GetDatum((int16) v->i);
		case FIELD_INT32:
			return Int32GetDatum((int32) v->i);
		case FIELD_INT64:
			return Int64GetDatum(v->i);
		case FIELD_FLOAT32:
			return Float4GetDatum(v->f);
		case FIELD_FLOAT64:
			return Float8GetDatum(v->d);
		case FIELD_TIMESTAMP:
			return TimestampGetDatum(v->i - PG_EPOCH_UNIX_USECS);
		case FIELD_FLOAT_LIST:
			memcpy(col->vec->x, b->fb.lists[c] + (Size) r * cr->dims[c],
				   sizeof(float) * cr->dims[c]);
			return PointerGetDatum(col->vec);
		case FIELD_OTHER:
			break;
	}
	elog(ERROR, "lancedb_fdw: COPY field of column \"%s\" was not parsed", col->attname);
	return (Datum) 0;
}

/* A text value: the field itself, in the column's reused varlena. */
static Datum
text_datum(CopyColumn *col, const char *string)
{
	Size		len = strlen(string);

	if (len + VARHDRSZ > col->text_cap)
	{
		col->text_cap = Max(len + VARHDRSZ, 2 * col->text_cap);
		col->text_buf = repalloc_huge(col->text_buf, col->text_cap);
	}
	SET_VARSIZE(col->text_buf, len + VARHDRSZ);
	memcpy(VARDATA(col->text_buf), string, len);
	return PointerGetDatum(col->text_buf);
}

/*
 * Append the batch's rows to the writer, in order, converting what the
 * thread did not with the input functions, under COPY's error context set
 * to each row's line.
 */
static void
append_batch(CopyRows *cr, CopyBatch *b)
{
	CopyFromState cstate = cr->cstate;
	uint64		lineno = cstate->cur_lineno;
	StringInfoData line = cstate->line_buf;
	bool		line_valid = cstate->line_buf_valid;

	for (int r = 0; r < b->nrows; r++)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(cr->row_cxt);
		old = MemoryContextSwitchTo(cr->row_cxt);
		cstate->cur_lineno = b->lineno[r];
		cstate->line_buf.data = b->arena + b->line_off[r];
		cstate->line_buf.len = b->line_len[r];
		cstate->line_buf_valid = true;
		for (int c = 0; c < cr->ncols; c++)
		{
			CopyColumn *col = &cr->cols[c];
			int			i = r * cr->ncols + c;
			const char *string = b->strings[i];

			if (c >= b->nfields[r])
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("missing data for column \"%s\"", col->attname)));
			cstate->cur_attname = col->attname;
			cstate->cur_attval = string;
			if (string != NULL && b->fb.parsed[i])
				cr->values[col->attno] = parsed_datum(cr, b, r, c);
			else if (string != NULL && col->is_text)
				cr->values[col->attno] = text_datum(col, string);
			else
				cr->values[col->attno] = InputFunctionCall(col->in_func, (char *) string,
														   col->typioparam, col->typmod);
			cr->nulls[col->attno] = string == NULL;
			cstate->cur_attname = NULL;
			cstate->cur_attval = NULL;
		}
		lance_append_values(cr->ms, cr->values, cr->nulls);
		MemoryContextSwitchTo(old);
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ++cr->processed);
	}
	cstate->cur_lineno = lineno;
	cstate->line_buf = line;
	cstate->line_buf_valid = line_valid;
	b->nrows = 0;
	b->arena_len = 0;
}

/*
 * split_batch, keeping a data error or a line too long (classes 22 and
 * 54) instead of raising it (in *error, made in cxt), to raise it once the
 * rows before its line are appended.  Any other error (a cancel, a
 * timeout, a lost client, a read error, no memory) ends the
 * COPY at once, as it does on the standard path: the rows waiting in the
 * batches are not appended, and the memory context callback joins their
 * threads as the statement's memory goes.
 */
static bool
split_batch_keeping_error(CopyRows *cr, CopyBatch *b, MemoryContext cxt, ErrorData **error)
{
	volatile bool more = false;

	PG_TRY();
	{
		more = split_batch(cr, b);
	}
	PG_CATCH();
	{
		int			category = ERRCODE_TO_CATEGORY(geterrcode());

		if (category != ERRCODE_DATA_EXCEPTION &&
			category != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			PG_RE_THROW();
		MemoryContextSwitchTo(cxt);
		*error = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return more;
}

uint64
lance_copy_rows(CopyFromState cstate, Relation rel, LanceModifyState *ms)
{
	int			natts = RelationGetDescr(rel)->natts;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw COPY",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	CopyRows   *cr = palloc0(sizeof(CopyRows));
	MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));
	ErrorContextCallback errcallback;
	CopyBatch  *filling;
	CopyBatch  *parsing = NULL;
	ErrorData  *split_error = NULL;
	bool		more = true;
	uint64		processed;

	cr->cstate = cstate;
	cr->ms = ms;
	setup_columns(cr, rel);
	size_batches(cr);
	setup_batch(cr, &cr->batch[0]);
	setup_batch(cr, &cr->batch[1]);
	cr->values = palloc0(sizeof(Datum) * natts);
	cr->nulls = palloc(sizeof(bool) * natts);
	/* columns not listed stay null */
	memset(cr->nulls, true, sizeof(bool) * natts);
	cr->row_cxt = AllocSetContextCreate(cxt, "lancedb_fdw COPY row", ALLOCSET_DEFAULT_SIZES);
	cb->func = wait_batches;
	cb->arg = cr;
	MemoryContextRegisterResetCallback(cxt, cb);

	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	filling = &cr->batch[0];
	while (more && split_error == NULL)
	{
		more = split_batch_keeping_error(cr, filling, cxt, &split_error);
		seal_batch(cr, filling);
		if (parsing)
			field_batch_wait(&parsing->fb);
		if (filling->nrows > 0 && lance_copy_parse_thread)
			field_batch_start(&filling->fb);
		else if (filling->nrows > 0)
			field_batch_parse(&filling->fb);
		if (parsing)
			append_batch(cr, parsing);
		parsing = filling->nrows > 0 ? filling : NULL;
		filling = filling == &cr->batch[0] ? &cr->batch[1] : &cr->batch[0];
	}
	if (parsing)
	{
		field_batch_wait(&parsing->fb);
		append_batch(cr, parsing);
	}
	if (split_error)
		ReThrowError(split_error);

	error_context_stack = errcallback.previous;
	processed = cr->processed;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return processed;
}
