/*-------------------------------------------------------------------------
 *
 * field_parse.h
 *	  Canonical text of integers and timestamps to values, for loaders
 *	  that hand anything else to a slower, complete parser.
 *
 * A text COPY spends much of its time in the types' input functions,
 * which accept many spellings (spaces around a number, "24:00:00", time
 * zones, era suffixes).  A file written by a program nearly always uses
 * one spelling per type.  These parsers accept exactly that spelling and
 * decline everything else, so a caller that falls back to the complete
 * parser on a decline gets the complete parser's result for every input.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_FIELD_PARSE_H
#define LANCEDB_KERNELS_FIELD_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The whole string s as [+-]digits, with 1 to 18 digits (so the value
 * cannot overflow an int64); false otherwise.
 */
extern bool field_parse_int64(const char *s, int64_t *out);

/*
 * The whole string s as "YYYY-MM-DD HH:MM:SS" with an optional fraction
 * of 1 to 6 digits, a valid proleptic Gregorian date in years 1 to 9999
 * and a time from 00:00:00 to 23:59:59.999999, as microseconds since
 * 1970-01-01 00:00:00; false otherwise.
 */
extern bool field_parse_timestamp(const char *s, int64_t *usecs);

/*
 * The whole string s as a vector literal "[x1,x2,...]" of exactly n
 * elements, each on float_parse_fast's path (so each is strtof's value),
 * with the whitespace the vector type's input allows around the brackets,
 * commas and numbers; the floats go to out.  False otherwise, with out
 * partly written.
 */
extern bool field_parse_float_list(const char *s, float *out, int n);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d. */
extern int64_t field_days_from_civil(int y, int m, int d);

#endif							/* LANCEDB_KERNELS_FIELD_PARSE_H */
