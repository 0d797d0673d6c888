/*-------------------------------------------------------------------------
 *
 * http_time.c
 *	  Parsing the timestamps of object-store listings into Unix seconds.
 *
 * No strptime/timegm: strptime's %b depends on the locale and timegm is
 * not standard C, and both accept more than a server may send.  The date
 * is turned into days since 1970 with the proleptic Gregorian day count
 * (Howard Hinnant's days_from_civil).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "storage/http_time.h"

/* Read exactly n decimal digits at *p into *value, advancing *p. */
static bool
digits(const char **p, int n, int *value)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		char		c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*value = v;
	return true;
}

/* Consume the literal s at *p. */
static bool
expect(const char **p, const char *s)
{
	size_t		n = strlen(s);

	if (strncmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Days from 1970-01-01 to y-m-d, for a valid date. */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		yy = y - (m <= 2);
	int64_t		era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t		yoe = yy - era * 400;
	int64_t		doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The seconds of a checked calendar time; false when a field is out of range. */
static bool
to_seconds(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (mo < 1 || mo > 12 || d < 1 ||
		d > mdays[mo - 1] + (mo == 2 && is_leap(y)) ||
		h > 23 || mi > 59 || s > 60)
		return false;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return true;
}

/* 2026-11-22T06:13:49[.fraction]Z */
static bool
parse_iso8601(const char *p, int64_t *out)
{
	int			y,
				mo,
				d,
				h,
				mi,
				s;

	if (!digits(&p, 4, &y) || !expect(&p, "-") || !digits(&p, 2, &mo) || !expect(&p, "-") ||
		!digits(&p, 2, &d) || !expect(&p, "T") || !digits(&p, 2, &h) || !expect(&p, ":") ||
		!digits(&p, 2, &mi) || !expect(&p, ":") || !digits(&p, 2, &s))
		return false;
	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (!expect(&p, "Z") || *p != '\0')
		return false;
	return to_seconds(y, mo, d, h, mi, s, out);
}

/* Sun, 22 Nov 2026 06:13:49 GMT */
static bool
parse_http_date(const char *p, int64_t *out)
{
	static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	static const char *const weekdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	int			y,
				mo = 0,
				d,
				h,
				mi,
				s;
	bool		named = false;

	for (int i = 0; i < 7 && !named; i++)
		named = expect(&p, weekdays[i]);
	if (!named || !expect(&p, ", ") || !digits(&p, 2, &d) || !expect(&p, " "))
		return false;
	while (mo < 12 && strncmp(p, months[mo], 3) != 0)
		mo++;
	if (mo == 12)
		return false;
	p += 3;
	if (!expect(&p, " ") || !digits(&p, 4, &y) || !expect(&p, " ") || !digits(&p, 2, &h) ||
		!expect(&p, ":") || !digits(&p, 2, &mi) || !expect(&p, ":") || !digits(&p, 2, &s) ||
		!expect(&p, " GMT") || *p != '\0')
		return false;
	return to_seconds(y, mo + 1, d, h, mi, s, out);
}

bool
http_time_parse(const char *text, int64_t *seconds)
{
	*seconds = 0;
	if (text == NULL)
		return false;
	return parse_iso8601(text, seconds) || parse_http_date(text, seconds);
}
