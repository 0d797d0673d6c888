/*
 * test_field_batch.c
 *	  A batch parsed on a thread holds what the canonical parsers give,
 *	  and flags every field they decline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/field_batch.h"
#include "kernels/field_parse.h"
#include "unit.h"

#define ROWS 3000
#define COLS 4

UNIT_TEST(a_batch_parsed_on_a_thread_flags_what_the_parsers_decline)
{
	static const FieldKind kinds[COLS] = {FIELD_INT32, FIELD_FLOAT64, FIELD_FLOAT_LIST, FIELD_BOOL};
	static const int dims[COLS] = {0, 0, 2, 0};
	static char text[ROWS][COLS][48];
	static const char *strings[ROWS * COLS];
	static FieldValue values[ROWS * COLS];
	static bool parsed[ROWS * COLS];
	static float list[ROWS * 2];
	float	   *lists[COLS] = {NULL, NULL, list, NULL};
	FieldBatch	b;

	for (int r = 0; r < ROWS; r++)
	{
		/* every seventh row in a spelling the parsers leave to others */
		bool		odd = r % 7 == 3;

		snprintf(text[r][0], 48, odd ? " %d" : "%d", r - 1000);
		snprintf(text[r][1], 48, odd ? "NaN" : "%d.25", r);
		snprintf(text[r][2], 48, odd ? "[%d]" : "[%d,-0.5]", r);
		snprintf(text[r][3], 48, odd ? "yes" : (r % 2 ? "t" : "f"));
		for (int c = 0; c < COLS; c++)
			strings[r * COLS + c] = r % 11 == 5 && c == 1 ? NULL : text[r][c];
	}
	memset(&b, 0, sizeof(b));
	b.ncols = COLS;
	b.kinds = kinds;
	b.dims = dims;
	b.nrows = ROWS;
	b.strings = strings;
	b.values = values;
	b.parsed = parsed;
	b.lists = lists;
	field_batch_start(&b);
	CHECK(field_batch_unjoined() == (b.threaded ? 1 : 0));
	field_batch_wait(&b);
	field_batch_wait(&b);		/* a second wait does nothing */
	CHECK(field_batch_unjoined() == 0);

	for (int r = 0; r < ROWS; r++)
	{
		bool		odd = r % 7 == 3;
		const bool *p = &parsed[r * COLS];
		const FieldValue *v = &values[r * COLS];

		CHECK_MSG(p[0] == !odd && (odd || v[0].i == r - 1000), "row %d int", r);
		if (r % 11 == 5)
			CHECK_MSG(!p[1], "row %d null", r);
		else
			CHECK_MSG(p[1] == !odd && (odd || v[1].d == r + 0.25), "row %d double", r);
		CHECK_MSG(p[2] == !odd && (odd || (list[r * 2] == (float) r && list[r * 2 + 1] == -0.5f)),
				  "row %d list", r);
		CHECK_MSG(p[3] == !odd && (odd || v[3].b == (r % 2 == 1)), "row %d bool", r);
	}
}
