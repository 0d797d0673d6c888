/*-------------------------------------------------------------------------
 *
 * vector.h
 *	  The vector type: a varlena of float4 values, laid out as pgvector's.
 *
 * Drivers, ORMs and dump files written for pgvector must work unchanged, so
 * the on-disk layout, the text form and the binary wire form are pgvector's
 * byte for byte.  On disk a value is
 *
 *		int32	varlena header
 *		int16	number of dimensions (1 .. VECTOR_MAX_DIM)
 *		int16	reserved, always zero
 *		float4	values[dim]
 *
 * Values never hold NaN or an infinity: every way in (text, binary, casts,
 * arithmetic) checks for them, so code that reads a stored vector need not.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_TYPES_VECTOR_H
#define LANCEDB_TYPES_VECTOR_H

#include <math.h>

#include "fmgr.h"

/* pgvector's limit; a typmod or a value past it is refused */
#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (use SET_VARSIZE) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved by the format, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

/* dim is at most VECTOR_MAX_DIM, so this cannot overflow */
#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (Size) (dim))

#define DatumGetVector(d)		((Vector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v)	PG_RETURN_POINTER(v)

/* vector.c */
extern Vector *VectorNew(int dim);
extern void VectorCheckDim(int dim);
extern void VectorCheckTypmod(int32 typmod, int dim);
extern void VectorCheckSameDims(const Vector *a, const Vector *b);
extern void VectorReportBadElement(float value) pg_attribute_noreturn();
extern float VectorElementFromDouble(double value);
extern int	VectorCompare(const Vector *a, const Vector *b);

/*
 * Refuse NaN and infinities; inline because it runs once per element on
 * every way into the type.
 */
static inline void
VectorCheckElement(float value)
{
	if (unlikely(!isfinite(value)))
		VectorReportBadElement(value);
}

#endif							/* LANCEDB_TYPES_VECTOR_H */
