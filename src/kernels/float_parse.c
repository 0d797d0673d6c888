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

bool
float_parse_fast(const char *p, float *out, const char **end)
{
	const char *s = p;
	bool		negative = false;
	uint64_t	m = 0;
	int			digits = 0;		/* significant digits in m */
	int			scale = 0;		/* power of ten m is to be multiplied by */
	bool		any = false;
	double		d;

	if (*s == '+' || *s == '-')
		negative = *s++ == '-';
	for (; is_digit(*s); s++)
	{
		any = true;
		if (m == 0 && *s == '0')
			continue;			/* leading zeros are not significant */
		if (++digits > MAX_DIGITS)
			return false;
		m = m * 10 + (uint64_t) (*s - '0');
	}
	if (*s == '.')
	{
		for (s++; is_digit(*s); s++)
		{
			any = true;
			scale--;
			if (m == 0 && *s == '0')
				continue;
			if (++digits > MAX_DIGITS)
				return false;
			m = m * 10 + (uint64_t) (*s - '0');
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
		scale += eneg ? -e : e;
	}
	/* what strtof would read on (hex digits, inf, nan, another point) */
	if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '_')
		return false;
	if (m == 0)
		d = 0.0;
	else
	{
		if (m > (UINT64_C(1) << 53) || scale < -MAX_EXACT_POW10 || scale > MAX_EXACT_POW10)
			return false;
		d = scale < 0 ? (double) m / exact_pow10[-scale] : (double) m * exact_pow10[scale];
		if (float_midpoint(d))
			return false;
	}
	*out = (float) (negative ? -d : d);
	*end = s;
	return true;
}
