/*-------------------------------------------------------------------------
 *
 * vector_io.c
 *	  Text and binary input/output, type modifiers and the length coercion
 *	  of the vector type.
 *
 * The text form is "[1,2,3]"; output writes each element as the shortest
 * decimal that reads back to the same float4, whatever extra_float_digits
 * says, because that is what pgvector's clients parse.  The binary form is
 * int16 dim, int16 zero, then dim float4 values, all in network order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>

#include "common/shortest_dec.h"
#include "kernels/float_parse.h"
#include "libpq/pqformat.h"
#include "types/vector.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(vector_in);
PG_FUNCTION_INFO_V1(vector_out);
PG_FUNCTION_INFO_V1(vector_typmod_in);
PG_FUNCTION_INFO_V1(vector_typmod_out);
PG_FUNCTION_INFO_V1(vector_recv);
PG_FUNCTION_INFO_V1(vector_send);
PG_FUNCTION_INFO_V1(vector);

/*
 * Whitespace allowed around the brackets, the commas and the numbers; the
 * same set the array input function skips.
 */
static inline bool
IsVectorSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

static inline const char *
SkipSpace(const char *p)
{
	while (IsVectorSpace(*p))
		p++;
	return p;
}

/*
 * Report text that is not a vector literal.
 */
static void pg_attribute_noreturn()
ReportBadSyntax(const char *lit, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type vector: \"%s\"", lit),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * Parse "[x1, x2, ...]" into a vector, checking it against the typmod.
 *
 * One pass over the text.  A column's values come with its typmod (COPY
 * and INSERT pass it), which is the size the result is allocated at; a
 * literal with more elements grows it, so that it is still parsed to the
 * end and a syntax error further on is the error reported, before the
 * typmod check.  Without a typmod the commas bound the element count, and
 * the result is allocated once at that size.  The varlena length is set
 * to what was actually parsed.
 */
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *p;
	int			cap;
	int			dim = 0;
	Vector	   *result;

	p = SkipSpace(lit);
	if (*p != '[')
		ReportBadSyntax(lit, "A vector must start with \"[\".");
	p = SkipSpace(p + 1);
	if (*p == ']')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));

	if (typmod > 0 && typmod <= VECTOR_MAX_DIM)
		cap = typmod;
	else
	{
		cap = 1;
		for (const char *c = p; *c != '\0' && cap < VECTOR_MAX_DIM; c++)
			if (*c == ',')
				cap++;
	}
	result = (Vector *) palloc(VECTOR_SIZE(cap));
	result->unused = 0;

	for (;;)
	{
		char	   *end;
		float		value;

		if (dim == cap)
		{
			if (dim == VECTOR_MAX_DIM)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("vector cannot have more than %d dimensions",
								VECTOR_MAX_DIM)));
			cap = Min(cap * 2, VECTOR_MAX_DIM);
			result = (Vector *) repalloc(result, VECTOR_SIZE(cap));
		}

		p = SkipSpace(p);

		/*
		 * strtof, as float4in uses, so a literal rounds once, straight to
		 * the nearest float4.  Underflow to zero is accepted (as pgvector
		 * does); overflow is not.  Plain short decimals take a fast path
		 * that gives strtof's result (parsing dominates a text COPY).
		 */
		if (!float_parse_fast(p, &value, (const char **) &end))
		{
			errno = 0;
			value = strtof(p, &end);
			if (end == p)
				ReportBadSyntax(lit, NULL);
			if (errno == ERANGE && isinf(value))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("\"%s\" is out of range for type vector",
								pnstrdup(p, end - p))));
		}
		VectorCheckElement(value);
		result->x[dim++] = value;

		p = SkipSpace(end);
		if (*p == ',')
			p++;
		else if (*p == ']')
			break;
		else
			ReportBadSyntax(lit, NULL);
	}

	p = SkipSpace(p + 1);
	if (*p != '\0')
		ReportBadSyntax(lit, "Only whitespace may follow the closing \"]\".");

	VectorCheckTypmod(typmod, dim);

	result->dim = (int16) dim;
	SET_VARSIZE(result, VECTOR_SIZE(dim));
	PG_RETURN_VECTOR_P(result);
}

/*
 * Print "[x1,x2,...]" with the shortest round-trip text for each element.
 */
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	char	   *buf;
	char	   *p;

	/*
	 * FLOAT_SHORTEST_DECIMAL_LEN counts a terminator the _bufn variant does
	 * not write, which leaves room for the comma; then "[", "]" and "\0".
	 */
	buf = palloc((Size) vec->dim * FLOAT_SHORTEST_DECIMAL_LEN + 3);
	p = buf;
	*p++ = '[';
	for (int i = 0; i < vec->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(vec->x[i], p);
	}
	*p++ = ']';
	*p = '\0';

	PG_FREE_IF_COPY(vec, 0);
	PG_RETURN_CSTRING(buf);
}

/*
 * Accept vector(n) with 1 <= n <= VECTOR_MAX_DIM.
 */
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *mods = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *values;
	int			n;

	values = ArrayGetIntegerTypmods(mods, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type vector takes one modifier, the number of dimensions.")));
	if (values[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector must be at least 1")));
	if (values[0] > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector cannot exceed %d",
						VECTOR_MAX_DIM)));

	PG_RETURN_INT32(values[0]);
}

/*
 * Print a typmod as "(n)", or nothing for an unsized vector.
 */
Datum
vector_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	PG_RETURN_CSTRING(psprintf("(%d)", typmod));
}

/*
 * Read the binary form.  The bytes come from a client, so the header and
 * every value are checked as text input is.
 */
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	int			unused;
	Vector	   *result;

	/* both fields are read unsigned, so a huge count is reported as such */
	dim = (int) pq_getmsgint(buf, sizeof(int16));
	unused = (int) pq_getmsgint(buf, sizeof(int16));

	VectorCheckDim(dim);
	VectorCheckTypmod(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary vector header: reserved field is %d, expected 0",
						unused)));
	if (buf->len - buf->cursor < (int) (dim * sizeof(float)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary vector: header says %d dimensions but only %d bytes of values follow",
						dim, buf->len - buf->cursor)));

	result = VectorNew(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		VectorCheckElement(result->x[i]);
	}

	PG_RETURN_VECTOR_P(result);
}

/*
 * Write the binary form.
 */
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, (uint16) vec->dim);
	pq_sendint16(&buf, (uint16) vec->unused);
	for (int i = 0; i < vec->dim; i++)
		pq_sendfloat4(&buf, vec->x[i]);

	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * Coerce a vector to vector(n): the length-coercion cast that makes a
 * column's typmod hold on INSERT, UPDATE and explicit casts.
 */
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	VectorCheckTypmod(typmod, vec->dim);
	PG_RETURN_VECTOR_P(vec);
}
