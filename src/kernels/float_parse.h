/*-------------------------------------------------------------------------
 *
 * float_parse.h
 *	  Decimal text to float32 and float64, fast for the plain numbers
 *	  vectors and COPY files are written in.
 *
 * Parsing 128 floats a row with strtof dominates a text COPY of vectors.
 * Most literals ("0.017", "-1.25e-3") have few digits and a small
 * exponent: the digits then fit a double exactly, and one multiplication
 * or division by an exact power of ten gives the correctly rounded double
 * (Clinger's fast path), which rounds to the correctly rounded float
 * unless it lies exactly halfway between two floats.  Everything else
 * (long mantissas, large exponents, hex, inf, nan, halfway cases) is left
 * to the caller's strtof, so results are always those of strtof.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_FLOAT_PARSE_H
#define LANCEDB_KERNELS_FLOAT_PARSE_H

#include <stdbool.h>

/*
 * Parse the decimal number at p ([+-]digits[.digits][(e|E)[+-]digits],
 * with digits on at least one side of the point).  On success *out is
 * what strtof would return and *end points past the number; false means
 * the fast path does not apply and nothing was consumed.
 */
extern bool float_parse_fast(const char *p, float *out, const char **end);

/*
 * The same for a double: on success *out is what strtod would return (the
 * digits and the power of ten are exact, so one operation rounds
 * correctly, and no double rounding can occur).
 */
extern bool double_parse_fast(const char *p, double *out, const char **end);

#endif							/* LANCEDB_KERNELS_FLOAT_PARSE_H */
