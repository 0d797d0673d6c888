/*-------------------------------------------------------------------------
 *
 * field_parse.c
 *	  Canonical integer and timestamp text to values (field_parse.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/field_parse.h"

#include "kernels/float_parse.h"

/* Digits an int64 holds whatever they are (10^18 - 1 < 2^63). */
#define INT64_SAFE_DIGITS 18

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
field_parse_int64(const char *s, int64_t *out)
{
	bool		negative = false;
	int64_t		v = 0;
	int			n = 0;

	if (*s == '+' || *s == '-')
		negative = *s++ == '-';
	for (; is_digit(*s); s++)
	{
		if (++n > INT64_SAFE_DIGITS)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || *s != '\0')
		return false;
	*out = negative ? -v : v;
	return true;
}

/* The whitespace the vector type's input skips. */
static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
		p++;
	return p;
}

bool
field_parse_float_list(const char *s, float *out, int n)
{
	const char *p = skip_space(s);

	if (*p != '[' || n < 1)
		return false;
	p++;
	for (int i = 0; i < n; i++)
	{
		const char *end;

		if (!float_parse_fast(skip_space(p), &out[i], &end))
			return false;
		p = skip_space(end);
		if (*p != (i == n - 1 ? ']' : ','))
			return false;
		p++;
	}
	return *skip_space(p) == '\0';
}

/* n digits at s as a number; false if any is not a digit. */
static bool
fixed_digits(const char *s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * The day count of a civil date: the year is shifted to start in March,
 * so the leap day ends it, and counted in 400-year eras of 146097 days
 * (H. Hinnant's days_from_civil).
 */
int64_t
field_days_from_civil(int y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
field_parse_timestamp(const char *s, int64_t *usecs)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	int64_t		frac = 0;
	int			fdigits = 0;
	const char *p;

	if (!fixed_digits(s, 4, &y) || s[4] != '-' || !fixed_digits(s + 5, 2, &mo) ||
		s[7] != '-' || !fixed_digits(s + 8, 2, &d) || s[10] != ' ' ||
		!fixed_digits(s + 11, 2, &h) || s[13] != ':' || !fixed_digits(s + 14, 2, &mi) ||
		s[16] != ':' || !fixed_digits(s + 17, 2, &sec))
		return false;
	p = s + 19;
	if (*p == '.')
	{
		for (p++; is_digit(*p); p++)
		{
			/* a seventh digit would round: leave it to the full parser */
			if (++fdigits > 6)
				return false;
			frac = frac * 10 + (*p - '0');
		}
		if (fdigits == 0)
			return false;
		for (int i = fdigits; i < 6; i++)
			frac *= 10;
	}
	if (*p != '\0')
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
		d > mdays[mo - 1] + (mo == 2 && is_leap(y)) ||
		h > 23 || mi > 59 || sec > 59)
		return false;
	*usecs = ((field_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * INT64_C(60000000) +
		(int64_t) sec * 1000000 + frac;
	return true;
}
