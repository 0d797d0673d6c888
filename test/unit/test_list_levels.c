/*-------------------------------------------------------------------------
 *
 * test_list_levels.c
 *	  Repetition and definition levels of one- and two-layer lists.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lance/array.h"
#include "lance/list_levels.h"
#include "lance/schema.h"
#include "lance/write.h"
#include "unit.h"

static const LanceFieldSpec one_layer[] = {
	{0, -1, "l", "list", true},
	{1, 0, "item", "int32", true},
};

static const LanceFieldSpec two_layers[] = {
	{0, -1, "ll", "list", true},
	{1, 0, "item", "list", true},
	{2, 1, "item", "int64", true},
};

/* Push one list of ints (-1 = a null item) onto list a. */
static bool
push_ints(LanceArray *a, const int *v, int n, CoreError *err)
{
	for (int i = 0; i < n; i++)
	{
		int64_t		x = v[i];
		int32_t		x32 = v[i];
		LanceArray *items = a->children[0];
		CoreStatus	s = v[i] < 0 ? lance_array_append_nulls(items, 1, err)
			: lance_array_push_fixed(items, items->type->byte_width == 8 ? (void *) &x : (void *) &x32, err);

		if (s != CORE_OK)
			return false;
	}
	return lance_array_push_list_end(a, err) == CORE_OK;
}

static bool
levels_are(const LanceArray *a, const uint16_t *rep, const uint16_t *def, int64_t n)
{
	uint16_t	r[64];
	uint16_t	d[64];
	int64_t		total = 0;

	for (int64_t i = 0; i < a->length; i++)
		total += lance_list_row_levels(a, i);
	if (total != n || lance_list_levels(a, 0, a->length, r, d) != n)
		return false;
	return memcmp(r, rep, (size_t) n * 2) == 0 && memcmp(d, def, (size_t) n * 2) == 0;
}

/*
 * The rows of FORMAT.md 11.1's worked example: null, [1], [2,3],
 * [3,4,null], [], [5], [6,7], [7,8,null], [], [9].  Its rep levels are
 * these; its def string is one level early from the twelfth on (it puts
 * the empty list inside [7,8,null]), these are the rows' levels.
 */
UNIT_TEST(one_layer_levels_mark_null_items_null_and_empty_lists)
{
	static const int rows[][3] = {{0}, {1}, {2, 3}, {3, 4, -1}, {0}, {5}, {6, 7}, {7, 8, -1}, {0}, {9}};
	static const int lens[] = {-1, 1, 2, 3, 0, 1, 2, 3, 0, 1};
	static const uint16_t rep[] = {1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1};
	static const uint16_t def[] = {2, 0, 0, 0, 0, 0, 1, 3, 0, 0, 0, 0, 0, 1, 3, 0};
	LanceSchema *schema = NULL;
	LanceArray *a = NULL;
	CoreError	err;
	int64_t		first;
	int64_t		count;

	CHECK(lance_schema_build(one_layer, 2, "test", &schema, &err) == CORE_OK);
	CHECK(lance_array_new_for_field(lance_schema_top(schema, 0), &a, &err) == CORE_OK);
	for (int i = 0; i < 10; i++)
		CHECK(lens[i] < 0 ? lance_array_append_nulls(a, 1, &err) == CORE_OK
			  : push_ints(a, rows[i], lens[i], &err));
	CHECK(lance_list_layers(a) == 1 && lance_list_leaf(a) == a->children[0]);
	CHECK(levels_are(a, rep, def, 16));
	lance_list_leaf_range(a, 2, 4, &first, &count);
	CHECK(first == 1 && count == 5);
	lance_array_free(a);
	lance_schema_free(schema);
}

/*
 * Rows [[1, 2], [null]], null, [], [null, [], [3]]: rep 2 starts a row,
 * 1 an inner list; def 1 a null item, 2/3 a null/empty inner list, 4/5 a
 * null/empty row.
 */
UNIT_TEST(two_layer_levels_mark_each_level_null_and_empty)
{
	static const int one_two[] = {1, 2};
	static const int null_item[] = {-1};
	static const int three[] = {3};
	static const uint16_t rep[] = {2, 0, 1, 2, 2, 2, 1, 1};
	static const uint16_t def[] = {0, 0, 1, 4, 5, 2, 3, 0};
	LanceSchema *schema = NULL;
	LanceArray *a = NULL;
	LanceArray *inner;
	CoreError	err;
	int64_t		first;
	int64_t		count;

	CHECK(lance_schema_build(two_layers, 3, "test", &schema, &err) == CORE_OK);
	CHECK(lance_array_new_for_field(lance_schema_top(schema, 0), &a, &err) == CORE_OK);
	inner = a->children[0];
	CHECK(push_ints(inner, one_two, 2, &err) && push_ints(inner, null_item, 1, &err) &&
		  lance_array_push_list_end(a, &err) == CORE_OK);
	CHECK(lance_array_append_nulls(a, 1, &err) == CORE_OK);
	CHECK(lance_array_push_list_end(a, &err) == CORE_OK);
	CHECK(lance_array_append_nulls(inner, 1, &err) == CORE_OK &&
		  push_ints(inner, NULL, 0, &err) && push_ints(inner, three, 1, &err) &&
		  lance_array_push_list_end(a, &err) == CORE_OK);

	CHECK(lance_list_layers(a) == 2 && lance_list_leaf(a) == inner->children[0]);
	CHECK(lance_list_row_levels(a, 0) == 3 && lance_list_row_levels(a, 3) == 3);
	CHECK(levels_are(a, rep, def, 8));
	/* rows 1..3 cover only row 3's item 3 */
	lance_list_leaf_range(a, 1, 4, &first, &count);
	CHECK(first == 3 && count == 1);
	lance_array_free(a);
	lance_schema_free(schema);
}
