/*-------------------------------------------------------------------------
 *
 * vector.c
 *	  Allocation, validation and ordering shared by the vector functions.
 *
 * Every error about a vector's shape or contents is raised here, so the
 * messages and SQLSTATEs are the same whichever way a value came in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "types/vector.h"

/*
 * Allocate a zeroed vector of dim dimensions; the caller has checked dim.
 */
Vector *
VectorNew(int dim)
{
	Size		size = VECTOR_SIZE(dim);
	Vector	   *result;

	Assert(dim >= 1 && dim <= VECTOR_MAX_DIM);

	result = (Vector *) palloc0(size);
	SET_VARSIZE(result, size);
	result->dim = (int16) dim;
	return result;
}

/*
 * Refuse a dimension count the type cannot hold.
 */
void
VectorCheckDim(int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));
	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vector cannot have more than %d dimensions",
						VECTOR_MAX_DIM)));
}

/*
 * Refuse a value whose dimensions differ from the column's vector(n).
 * A typmod of -1 means the column has no declared size.
 */
void
VectorCheckTypmod(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/*
 * Refuse an elementwise operation or a distance between vectors of
 * different sizes.
 */
void
VectorCheckSameDims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						a->dim, b->dim)));
}

/*
 * Report a NaN or an infinite element; VectorCheckElement's slow path.
 */
void
VectorReportBadElement(float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in vector")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("infinite value not allowed in vector")));
}

/*
 * Narrow a float8 to a vector element: NaN and infinities are refused as
 * always, and so is a finite value too large for float4, which would
 * otherwise become an infinity.  Underflow to zero is accepted.
 */
float
VectorElementFromDouble(double value)
{
	float		result = (float) value;

	if (isinf(result) && !isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %g is out of range for type vector", value)));
	VectorCheckElement(result);
	return result;
}

/*
 * Order two vectors: element by element first, then the shorter first, as
 * Postgres orders arrays (and as pgvector does, so btree indexes and
 * ORDER BY agree with it).
 */
int
VectorCompare(const Vector *a, const Vector *b)
{
	int			common = Min(a->dim, b->dim);

	for (int i = 0; i < common; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;
	return 0;
}
