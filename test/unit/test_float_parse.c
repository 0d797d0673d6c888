/*
 * test_float_parse.c
 *	  The fast decimal parser agrees with strtof, or declines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/float_parse.h"
#include "random_decimal.h"
#include "unit.h"

/* Whether the fast path, when it applies, gives strtof's value and end. */
static bool
agrees(const char *text, bool *applied)
{
	float		fast;
	const char *fast_end;
	char	   *slow_end;
	float		slow = strtof(text, &slow_end);

	*applied = float_parse_fast(text, &fast, &fast_end);
	if (!*applied)
		return true;
	return memcmp(&fast, &slow, sizeof(float)) == 0 && fast_end == slow_end;
}

UNIT_TEST(plain_decimals_parse_as_strtof_does)
{
	static const char *const cases[] = {
		"0", "-0", "0.000", "-0.0", "1", "+1", "0.017", "-1.25e-3", "3.4028234e38",
		"1.", ".5", "-.5", "123456789", "0.1234567890123456789", "1e22", "1e-22",
		"7.0e+5", "16777217", "9007199254740993", "0.30000001192092896",
		"1e", "1e+", "2.5E3,", "4]", "0.5 ",
	};
	bool		applied;
	int			used = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		CHECK_MSG(agrees(cases[i], &applied), "\"%s\"", cases[i]);
		used += applied;
	}
	CHECK(used >= 15);
}

UNIT_TEST(what_the_fast_path_cannot_do_is_declined)
{
	static const char *const cases[] = {
		"inf", "-nan", "0x1p3", "1e40", "1e-45", "12345678901234567890123",
		".", "-", "", "abc", "1.5.2", "1e-30",
	};
	float		f;
	const char *end;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(!float_parse_fast(cases[i], &f, &end), "\"%s\"", cases[i]);
}

UNIT_TEST(random_decimals_parse_as_strtof_does)
{
	char		buf[64];
	bool		applied;
	int			used = 0;

	srand(7);
	for (int i = 0; i < 200000; i++)
	{
		random_decimal(buf, sizeof(buf), 17, 4, 20);
		CHECK_MSG(agrees(buf, &applied), "\"%s\"", buf);
		used += applied;
	}
	CHECK(used > 150000);
}

UNIT_TEST(float_halfway_doubles_are_left_to_strtof)
{
	/* 1 + 2^-24 lies halfway between 1 and the next float */
	float		f;
	const char *end;

	CHECK(!float_parse_fast("1.000000059604644775390625", &f, &end));
	CHECK(!float_parse_fast("16777217", &f, &end));
}

UNIT_TEST(short_decimals_of_every_scale_parse_as_strtof_does)
{
	/* mantissas up to 2^24 and past it, powers of ten up to 10^10 and past */
	char		buf[64];
	bool		applied;

	for (long m = 0; m <= (1L << 24) + 5000; m += 997)
		for (int scale = -12; scale <= 12; scale++)
		{
			snprintf(buf, sizeof(buf), "%ldE%d", m, scale);
			CHECK_MSG(agrees(buf, &applied), "\"%s\"", buf);
			snprintf(buf, sizeof(buf), "-%ld.%03ld", m, m % 1000);
			CHECK_MSG(agrees(buf, &applied), "\"%s\"", buf);
		}
}
