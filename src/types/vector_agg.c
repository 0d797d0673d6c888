/*-------------------------------------------------------------------------
 *
 * vector_agg.c
 *	  Transition, combine and final functions of avg(vector).
 *
 * The state is a float8[] of dim + 1 elements: the count of vectors seen,
 * then the running sum of each dimension.  The initial state '{0}' has no
 * dimensions yet; the first vector fixes them.  Summing in float8 keeps the
 * mean of many float4 vectors accurate.  The layout is pgvector's, so
 * a state printed by one can be read by the other.  sum(vector) needs no
 * state of its own: it folds with vector_add.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "types/vector.h"
#include "utils/array.h"
#include "utils/float.h"

PG_FUNCTION_INFO_V1(vector_accum);
PG_FUNCTION_INFO_V1(vector_combine);
PG_FUNCTION_INFO_V1(vector_avg);

/*
 * Return the values of a state array and its dimension count, refusing an
 * array that is not a state: callable from SQL, these functions may be
 * handed anything.
 */
static float8 *
StateValues(ArrayType *state, const char *caller, int *dim)
{
	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 1 ||
		ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: expected state array", caller),
				 errdetail("A state is a one-dimensional float8 array without NULLs: the count, then one sum per dimension.")));
	*dim = ARR_DIMS(state)[0] - 1;
	return (float8 *) ARR_DATA_PTR(state);
}

/*
 * Build a state array from a count and dim sums.
 */
static ArrayType *
MakeState(float8 count, const float8 *sums, int dim)
{
	Datum	   *elems = palloc(sizeof(Datum) * (dim + 1));
	ArrayType  *result;

	elems[0] = Float8GetDatum(count);
	for (int i = 0; i < dim; i++)
		elems[i + 1] = Float8GetDatum(sums[i]);
	result = construct_array(elems, dim + 1, FLOAT8OID, sizeof(float8),
							 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(elems);
	return result;
}

/*
 * Add one vector to the state.
 */
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *vec = PG_GETARG_VECTOR_P(1);
	int			dim;
	float8	   *values = StateValues(state, "vector_accum", &dim);
	bool		fresh = (dim == 0);
	float8	   *sums;

	if (fresh)
		dim = vec->dim;
	else
		VectorCheckTypmod(dim, vec->dim);

	sums = palloc(sizeof(float8) * dim);
	for (int i = 0; i < dim; i++)
	{
		/* a fresh state has no sums yet, only the count */
		sums[i] = (fresh ? 0.0 : values[i + 1]) + (float8) vec->x[i];
		if (isinf(sums[i]))
			float_overflow_error();
	}

	PG_RETURN_ARRAYTYPE_P(MakeState(values[0] + 1.0, sums, dim));
}

/*
 * Merge two partial states, for parallel aggregation.
 */
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *state2 = PG_GETARG_ARRAYTYPE_P(1);
	int			dim1;
	int			dim2;
	float8	   *values1 = StateValues(state1, "vector_combine", &dim1);
	float8	   *values2 = StateValues(state2, "vector_combine", &dim2);
	float8		count = values1[0] + values2[0];
	float8	   *sums;
	int			dim;

	if (dim1 > 0)
		VectorCheckDim(dim1);
	if (dim2 > 0)
		VectorCheckDim(dim2);
	if (dim1 > 0 && dim2 > 0)
		VectorCheckTypmod(dim1, dim2);

	/* an empty partial state contributes nothing but its count of zero */
	if (dim2 == 0)
		PG_RETURN_ARRAYTYPE_P(MakeState(count, values1 + 1, dim1));
	if (dim1 == 0)
		PG_RETURN_ARRAYTYPE_P(MakeState(count, values2 + 1, dim2));

	dim = dim1;
	sums = palloc(sizeof(float8) * dim);
	for (int i = 0; i < dim; i++)
	{
		sums[i] = values1[i + 1] + values2[i + 1];
		if (isinf(sums[i]))
			float_overflow_error();
	}
	PG_RETURN_ARRAYTYPE_P(MakeState(count, sums, dim));
}

/*
 * Divide the sums by the count; NULL when no vector was seen, as SQL's
 * avg of no rows is.
 */
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dim;
	float8	   *values = StateValues(state, "vector_avg", &dim);
	float8		count = values[0];
	Vector	   *result;

	if (count == 0.0)
		PG_RETURN_NULL();

	VectorCheckDim(dim);
	result = VectorNew(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = VectorElementFromDouble(values[i + 1] / count);
	}
	PG_RETURN_VECTOR_P(result);
}
