/*
 * test_field_parse.c
 *	  The canonical field parsers agree with the C library's, or decline;
 *	  double_parse_fast agrees with strtod.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/field_parse.h"
#include "kernels/float_parse.h"
#include "random_decimal.h"
#include "unit.h"

/* Whether the fast path, when it applies, gives strtod's value and end. */
static bool
double_agrees(const char *text, bool *applied)
{
	double		fast;
	const char *fast_end;
	char	   *slow_end;
	double		slow = strtod(text, &slow_end);

	*applied = double_parse_fast(text, &fast, &fast_end);
	if (!*applied)
		return true;
	return memcmp(&fast, &slow, sizeof(double)) == 0 && fast_end == slow_end;
}

UNIT_TEST(double_plain_decimals_parse_as_strtod_does)
{
	static const char *const cases[] = {
		"0", "-0", "-0.0", "1", "+1", "0.1", "0.3", "1e3", "1E-3", "-2.5e+10",
		"123456789012345", "9007199254740992", "9007199254740993", "1e22", "1e-22",
		"4.35", "0.000001", "1.7976931348623157", "3.14159265358979",
	};
	bool		applied;
	int			used = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		CHECK_MSG(double_agrees(cases[i], &applied), "\"%s\"", cases[i]);
		used += applied;
	}
	CHECK(used >= 16);
}

UNIT_TEST(double_fast_path_declines_what_it_cannot_round_exactly)
{
	static const char *const cases[] = {
		"NaN", "Infinity", "-inf", "0x10", "1e23", "1e-23", "1e308", "1e-400",
		"12345678901234567890", "", "-", ".", "1.2.3",
	};
	double		d;
	const char *end;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(!double_parse_fast(cases[i], &d, &end), "\"%s\"", cases[i]);
}

UNIT_TEST(random_decimals_parse_as_strtod_does)
{
	char		buf[64];
	bool		applied;
	int			used = 0;

	srand(11);
	for (int i = 0; i < 200000; i++)
	{
		random_decimal(buf, sizeof(buf), 18, 3, 25);
		CHECK_MSG(double_agrees(buf, &applied), "\"%s\"", buf);
		used += applied;
	}
	CHECK(used > 100000);
}

UNIT_TEST(integers_parse_as_strtoll_does)
{
	static const char *const cases[] = {
		"0", "-0", "+7", "-32768", "2147483647", "-2147483648", "999999999999999999",
		"-999999999999999999", "007",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int64_t		v;

		CHECK_MSG(field_parse_int64(cases[i], &v), "\"%s\"", cases[i]);
		CHECK_MSG(v == strtoll(cases[i], NULL, 10), "\"%s\"", cases[i]);
	}
}

UNIT_TEST(integers_in_other_spellings_are_declined)
{
	static const char *const cases[] = {
		"", "-", "+", " 1", "1 ", "1e3", "1.0", "0x10", "9223372036854775807",
		"1000000000000000000", "--1", "1_000",
	};
	int64_t		v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(!field_parse_int64(cases[i], &v), "\"%s\"", cases[i]);
}

/* What timegm makes of the same civil time, in microseconds. */
static int64_t
libc_usecs(int y, int mo, int d, int h, int mi, int s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t) timegm(&tm) * 1000000;
}

UNIT_TEST(timestamps_count_microseconds_as_timegm_does)
{
	char		buf[64];

	srand(5);
	for (int i = 0; i < 100000; i++)
	{
		int			y = 1 + rand() % 9999;
		int			mo = 1 + rand() % 12;
		int			d = 1 + rand() % 28;
		int			h = rand() % 24;
		int			mi = rand() % 60;
		int			s = rand() % 60;
		int			us = rand() % 1000000;
		int64_t		v;

		snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo, d, h, mi, s, us);
		CHECK_MSG(field_parse_timestamp(buf, &v), "\"%s\"", buf);
		CHECK_MSG(v == libc_usecs(y, mo, d, h, mi, s) + us, "\"%s\"", buf);
	}
}

UNIT_TEST(timestamp_fractions_are_scaled_to_microseconds)
{
	int64_t		v;
	int64_t		base = libc_usecs(2024, 2, 29, 23, 59, 59);

	CHECK(field_parse_timestamp("2024-02-29 23:59:59", &v) && v == base);
	CHECK(field_parse_timestamp("2024-02-29 23:59:59.5", &v) && v == base + 500000);
	CHECK(field_parse_timestamp("2024-02-29 23:59:59.000001", &v) && v == base + 1);
	CHECK(field_parse_timestamp("0001-01-01 00:00:00", &v) &&
		  v == field_days_from_civil(1, 1, 1) * INT64_C(86400000000));
	CHECK(field_days_from_civil(1970, 1, 1) == 0);
	CHECK(field_days_from_civil(2000, 1, 1) == 10957);
}

UNIT_TEST(timestamps_in_other_spellings_or_out_of_range_are_declined)
{
	static const char *const cases[] = {
		"2023-02-29 00:00:00", "2024-13-01 00:00:00", "2024-00-10 00:00:00",
		"2024-04-31 00:00:00", "2024-01-01 24:00:00", "2024-01-01 23:60:00",
		"2024-01-01 23:59:60", "2024-01-01 00:00:00.1234567", "2024-01-01 00:00:00.",
		"2024-01-01T00:00:00", "2024-01-01 00:00:00+02", "2024-01-01", "0000-01-01 00:00:00",
		"2024-1-01 00:00:00", " 2024-01-01 00:00:00", "2024-01-01 00:00:00 BC",
		"20240-01-01 00:00:00", "",
	};
	int64_t		v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(!field_parse_timestamp(cases[i], &v), "\"%s\"", cases[i]);
}

UNIT_TEST(vector_literals_of_the_expected_length_parse_element_by_element)
{
	float		v[3];

	CHECK(field_parse_float_list("[1,-0.5,3e2]", v, 3));
	CHECK(v[0] == 1.0f && v[1] == -0.5f && v[2] == 300.0f);
	CHECK(field_parse_float_list(" [ 0.017 ,\t2 , -0 ] \n", v, 3));
	CHECK(v[0] == strtof("0.017", NULL) && v[1] == 2.0f);
	CHECK(memcmp(&v[2], &(float) {-0.0f}, sizeof(float)) == 0);
}

UNIT_TEST(other_vector_literals_are_declined)
{
	static const char *const cases[] = {
		"[1,2]", "[1,2,3,4]", "1,2,3", "[1,2,3", "[1,2,3]x", "[1,,3]", "[1;2;3]",
		"[NaN,1,2]", "[1,inf,2]", "[1e40,1,2]", "[]", "", "[1,2,3],",
	};
	float		v[3];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(!field_parse_float_list(cases[i], v, 3), "\"%s\"", cases[i]);
}
