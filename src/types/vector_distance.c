/*-------------------------------------------------------------------------
 *
 * vector_distance.c
 *	  Distance functions on vectors, and the operators' support functions.
 *
 * The sums run in float4 in the kernels (src/kernels), on whichever path
 * lancedb.kernel selects, and are widened to float8 at the end, as pgvector
 * does; results may differ from pgvector's in the last bits because the
 * SIMD paths add in a different order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "kernels/distance.h"
#include "types/vector.h"

PG_FUNCTION_INFO_V1(l2_distance);
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
PG_FUNCTION_INFO_V1(inner_product);
PG_FUNCTION_INFO_V1(vector_negative_inner_product);
PG_FUNCTION_INFO_V1(cosine_distance);
PG_FUNCTION_INFO_V1(vector_spherical_distance);
PG_FUNCTION_INFO_V1(l1_distance);

/*
 * Euclidean distance; the <-> operator.
 */
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	float		sq;

	VectorCheckSameDims(a, b);
	sq = distance_kernels()->l2sq(a->x, b->x, a->dim);
	PG_RETURN_FLOAT8(sqrt((double) sq));
}

/*
 * Squared Euclidean distance: orders like l2_distance without the root,
 * for index support.
 */
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) distance_kernels()->l2sq(a->x, b->x, a->dim));
}

/*
 * Inner (dot) product.
 */
Datum
inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) distance_kernels()->dot(a->x, b->x, a->dim));
}

/*
 * Negated inner product; the <#> operator, negated so that ascending order
 * puts the most similar first.
 */
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8(-(double) distance_kernels()->dot(a->x, b->x, a->dim));
}

/*
 * Cosine distance, 1 - cos(angle), in [0, 2]; the <=> operator.  NaN when
 * either vector is zero, since the angle is undefined.
 */
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	float		dot;
	float		norm_a;
	float		norm_b;

	VectorCheckSameDims(a, b);
	distance_kernels()->dot_norms(a->x, b->x, a->dim, &dot, &norm_a, &norm_b);
	PG_RETURN_FLOAT8(distance_cosine_from_parts(dot, norm_a, norm_b));
}

/*
 * Angle between two unit vectors as a fraction of pi.  Unlike cosine
 * distance it satisfies the triangle inequality, which spherical k-means
 * needs; the inputs are assumed normalized.
 */
Datum
vector_spherical_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	double		dot;

	VectorCheckSameDims(a, b);
	dot = (double) distance_kernels()->dot(a->x, b->x, a->dim);

	/* rounding can push a unit dot product just past +-1, where acos is NaN */
	dot = Max(-1.0, Min(1.0, dot));
	PG_RETURN_FLOAT8(acos(dot) / M_PI);
}

/*
 * Taxicab (L1) distance; the <+> operator.
 */
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	VectorCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) distance_kernels()->l1(a->x, b->x, a->dim));
}
