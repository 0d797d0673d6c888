/*-------------------------------------------------------------------------
 *
 * vector_ops.c
 *	  Arithmetic, comparison and utility functions on vectors.
 *
 * Elementwise arithmetic refuses a result that leaves float4's finite range
 * (and, for *, one that underflows a nonzero product to zero), as the float
 * operators do, so no operation can put an infinity into a vector.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "types/vector.h"
#include "utils/float.h"
#include "utils/varbit.h"

PG_FUNCTION_INFO_V1(vector_dims);
PG_FUNCTION_INFO_V1(vector_norm);
PG_FUNCTION_INFO_V1(l2_normalize);
PG_FUNCTION_INFO_V1(vector_add);
PG_FUNCTION_INFO_V1(vector_sub);
PG_FUNCTION_INFO_V1(vector_mul);
PG_FUNCTION_INFO_V1(vector_concat);
PG_FUNCTION_INFO_V1(subvector);
PG_FUNCTION_INFO_V1(binary_quantize);
PG_FUNCTION_INFO_V1(vector_lt);
PG_FUNCTION_INFO_V1(vector_le);
PG_FUNCTION_INFO_V1(vector_eq);
PG_FUNCTION_INFO_V1(vector_ne);
PG_FUNCTION_INFO_V1(vector_ge);
PG_FUNCTION_INFO_V1(vector_gt);
PG_FUNCTION_INFO_V1(vector_cmp);

/*
 * Raise the float overflow error if any element of a result is infinite.
 * Run after the arithmetic loop, which then stays branch-free and
 * vectorizable.
 */
static void
CheckOverflow(const Vector *result)
{
	for (int i = 0; i < result->dim; i++)
		if (isinf(result->x[i]))
			float_overflow_error();
}

/*
 * Number of dimensions.
 */
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/*
 * Sum of squares in float8, which cannot overflow for finite float4 inputs.
 */
static double
SquaredNorm(const Vector *a)
{
	double		sum = 0.0;

	for (int i = 0; i < a->dim; i++)
		sum += (double) a->x[i] * (double) a->x[i];
	return sum;
}

/*
 * Euclidean norm.
 */
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(sqrt(SquaredNorm(a)));
}

/*
 * Scale to unit Euclidean norm; a zero vector stays zero.
 */
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *result = VectorNew(a->dim);
	double		norm = sqrt(SquaredNorm(a));

	if (norm > 0.0)
	{
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float) (a->x[i] / norm);
		CheckOverflow(result);
	}
	PG_RETURN_VECTOR_P(result);
}

/*
 * Elementwise sum; the + operator and sum(vector)'s step.
 */
Datum
vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckSameDims(a, b);
	result = VectorNew(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	CheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

/*
 * Elementwise difference; the - operator.
 */
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckSameDims(a, b);
	result = VectorNew(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	CheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

/*
 * Elementwise product; the * operator.
 */
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckSameDims(a, b);
	result = VectorNew(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] * b->x[i];
	CheckOverflow(result);

	/* as float4mul does: a product of nonzeros that rounds to zero */
	for (int i = 0; i < a->dim; i++)
		if (result->x[i] == 0.0f && a->x[i] != 0.0f && b->x[i] != 0.0f)
			float_underflow_error();

	PG_RETURN_VECTOR_P(result);
}

/*
 * Concatenation; the || operator.
 */
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VectorCheckDim(a->dim + b->dim);
	result = VectorNew(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/*
 * The count elements from 1-based position start, clipped to the vector
 * as substring() clips to a string; an empty result is an error since a
 * vector has at least one dimension.
 */
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		count = PG_GETARG_INT32(2);
	int64		first;
	int64		last;
	Vector	   *result;

	/* int64, so start + count cannot overflow */
	first = Max(start, 1);
	last = Min(start + count - 1, (int64) a->dim);
	if (count < 1 || first > last)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));

	result = VectorNew((int) (last - first + 1));
	memcpy(result->x, a->x + (first - 1), sizeof(float) * result->dim);
	PG_RETURN_VECTOR_P(result);
}

/*
 * One bit per element, set where the element is positive, first element in
 * the most significant bit.
 */
Datum
binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Size		size = VARBITTOTALLEN(a->dim);
	VarBit	   *result = (VarBit *) palloc0(size);
	bits8	   *bits = VARBITS(result);

	SET_VARSIZE(result, size);
	VARBITLEN(result) = a->dim;
	for (int i = 0; i < a->dim; i++)
		if (a->x[i] > 0.0f)
			bits[i / BITS_PER_BYTE] |= (bits8) (0x80 >> (i % BITS_PER_BYTE));

	PG_RETURN_VARBIT_P(result);
}

/*
 * Compare the two vector arguments.  Frees detoasted copies, since a sort
 * or an index build calls the comparison many times in one memory context.
 */
static int
CompareArgs(FunctionCallInfo fcinfo)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	int			result = VectorCompare(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return result;
}

/*
 * The comparison operators and the btree support function, all in
 * VectorCompare's order.
 */
Datum
vector_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) < 0);
}

Datum
vector_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) <= 0);
}

Datum
vector_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) == 0);
}

Datum
vector_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) != 0);
}

Datum
vector_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) >= 0);
}

Datum
vector_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CompareArgs(fcinfo) > 0);
}

Datum
vector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CompareArgs(fcinfo));
}
