/*-------------------------------------------------------------------------
 *
 * float_parse.c
 *	  Decimal text to float32 on Clinger's fast path (float_parse.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/float_parse.h"

#include <stdint.h>
#include <string.h>

/* Significant digits a uint64 holds without overflow. */
#define MAX_DIGITS 19
/* Largest power of ten a double holds exactly. */
#define MAX_EXACT_POW10 22

static const double exact_pow10[MAX_EXACT_POW10 + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Whether the double d lies exactly halfway between two floats: its 29
 * low significand bits (those a float drops) are 1 then zeros.  Only
 * normal floats come this way (magnitudes from 1e-22 to 1e38).
 */
static bool
float_midpoint(double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, 8);
	return (bits & UINT64_C(0x1FFFFFFF)) == UINT64_C(0x10000000);
}

/* A decimal literal read into an integer significand and a power of ten. */
typedef struct DecimalScan
{
	bool		negative;
	uint64_t	m;				/* significant digits */
	int			scale;			/* power of ten m is to be multiplied by */
	const char *end;			/* past the number */
} DecimalScan;

/*
 * Read [+-]digits[.digits][(e|E)[+-]digits] at p into *ds; false when it
 * is not such a number, has more significant digits than a uint64 holds,
 * or is followed by what strtof and strtod would read on.
 */
static bool
scan_decimal(const char *p, DecimalScan *ds)
{
	const char *s = p;
	int			digits = 0;		/* significant digits in m */
	bool		any = false;

	ds->negative = false;
	ds->m = 0;
	ds->scale = 0;
	if (*s == '+' || *s == '-')
		ds->negative = *s++ == '-';
	for (; is_digit(*s); s++)
	{
		any = true;
		if (ds->m == 0 && *s == '0')
			continue;			/* leading zeros are not significant */
		if (++digits > MAX_DIGITS)
			return false;
		ds->m = ds->m * 10 + (uint64_t) (*s - '0');
	}
	if (*s == '.')
	{
		for (s++; is_digit(*s); s++)
		{
			any = true;
			ds->scale--;
			if (ds->m == 0 && *s == '0')
				continue;
			if (++digits > MAX_DIGITS)
				return false;
			ds->m = ds->m * 10 + (uint64_t) (*s - '0');
		}
	}
	if (!any)
		return false;
	if ((*s == 'e' || *s == 'E') &&
		(is_digit(s[1]) || ((s[1] == '+' || s[1] == '-') && is_digit(s[2]))))
	{
		bool		eneg = false;
		int			e = 0;

		s++;
		if (*s == '+' || *s == '-')
			eneg = *s++ == '-';
		for (; is_digit(*s); s++)
		{
			if (e > 1000)
				return false;
			e = e * 10 + (*s - '0');
		}
		ds->scale += eneg ? -e : e;
	}
	/* what strtof would read on (hex digits, inf, nan, another point) */
	if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '_')
		return false;
	ds->end = s;
	return true;
}

/*
 * The scanned number as the correctly rounded double, when one IEEE
 * operation on exact operands gives it: m and 10^|scale| both exact.
 */
static bool
exact_double(const DecimalScan *ds, double *out)
{
	double		d;

	if (ds->m == 0)
		d = 0.0;
	else
	{
		if (ds->m > (UINT64_C(1) << 53) || ds->scale < -MAX_EXACT_POW10 ||
			ds->scale > MAX_EXACT_POW10)
			return false;
		d = ds->scale < 0 ? (double) ds->m / exact_pow10[-ds->scale]
			: (double) ds->m * exact_pow10[ds->scale];
	}
	*out = ds->negative ? -d : d;
	return true;
}

bool
float_parse_fast(const char *p, float *out, const char **end)
{
	DecimalScan ds;
	double		d;

	if (!scan_decimal(p, &ds) || !exact_double(&ds, &d))
		return false;
	/* a double halfway between two floats would round twice */
	if (ds.m != 0 && float_midpoint(d))
		return false;
	*out = (float) d;
	*end = ds.end;
	return true;
}

bool
double_parse_fast(const char *p, double *out, const char **end)
{
	DecimalScan ds;

	if (!scan_decimal(p, &ds) || !exact_double(&ds, out))
		return false;
	*end = ds.end;
	return true;
}
