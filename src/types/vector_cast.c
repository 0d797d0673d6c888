/*-------------------------------------------------------------------------
 *
 * vector_cast.c
 *	  Casts between vector and SQL arrays.
 *
 * integer[], real[], double precision[] and numeric[] cast to vector (the
 * last two round each element to float4); vector casts to real[].  An
 * array must be one-dimensional, have no NULLs and hold only finite values
 * that fit a float4.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "types/vector.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(array_to_vector);
PG_FUNCTION_INFO_V1(vector_to_float4);

/*
 * Convert a one-dimensional array of int4, float4, float8 or numeric to a
 * vector, checking it against the typmod.  One C function serves the four
 * casts; the element type picks the conversion.
 */
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	int			nelems;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));
	if (elemtype != INT4OID && elemtype != FLOAT4OID &&
		elemtype != FLOAT8OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot cast an array of %s to vector",
						format_type_be(elemtype))));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, NULL, &nelems);

	VectorCheckDim(nelems);
	VectorCheckTypmod(typmod, nelems);
	result = VectorNew(nelems);

	for (int i = 0; i < nelems; i++)
	{
		float		value;

		switch (elemtype)
		{
			case INT4OID:
				value = (float) DatumGetInt32(elems[i]);
				break;
			case FLOAT4OID:
				value = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				value = VectorElementFromDouble(DatumGetFloat8(elems[i]));
				break;
			default:
				/* numeric_float4 itself refuses what float4 cannot hold */
				value = DatumGetFloat4(DirectFunctionCall1(numeric_float4,
														   elems[i]));
				break;
		}
		VectorCheckElement(value);
		result->x[i] = value;
	}

	/* by-reference elements point into the array, so free only the list */
	pfree(elems);
	PG_RETURN_VECTOR_P(result);
}

/*
 * Convert a vector to real[].
 */
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	Datum	   *elems;
	ArrayType  *result;

	elems = palloc(sizeof(Datum) * vec->dim);
	for (int i = 0; i < vec->dim; i++)
		elems[i] = Float4GetDatum(vec->x[i]);

	result = construct_array(elems, vec->dim, FLOAT4OID, sizeof(float4),
							 true, TYPALIGN_INT);
	pfree(elems);
	PG_RETURN_ARRAYTYPE_P(result);
}
