/*-------------------------------------------------------------------------
 *
 * test_lance_array.c
 *	  Arrow-shaped arrays: appending ranges, nulls, nested types, checks.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lance/array.h"
#include "lance/write.h"
#include "unit.h"

static LanceSchema *
schema_of(const LanceFieldSpec *specs, int n)
{
	LanceSchema *s = NULL;
	CoreError	err;

	if (lance_schema_build(specs, n, "test", &s, &err) != CORE_OK)
		return NULL;
	return s;
}

/* An int32 array of n values 0..n-1 with every third one null. */
static LanceArray *
ints(const LanceField *f, int n)
{
	LanceArray *a;
	LanceArray *one;
	CoreError	err;

	if (lance_array_new_for_field(f, &a, &err) != CORE_OK ||
		lance_array_new_for_field(f, &one, &err) != CORE_OK)
		return NULL;
	lance_array_reserve(one, 1, 0, &err);
	one->length = 1;
	for (int i = 0; i < n; i++)
	{
		((int32_t *) (void *) one->values)[0] = i;
		one->values_size = 4;
		if (i % 3 == 2)
			lance_array_append_nulls(a, 1, &err);
		else
			lance_array_append(a, one, 0, 1, &err);
	}
	lance_array_free(one);
	return a;
}

UNIT_TEST(appending_a_range_keeps_values_and_nulls)
{
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", true}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	LanceArray *src = ints(x, 10);
	LanceArray *dst;
	CoreError	err;

	CHECK(src && src->length == 10 && src->null_count == 3);
	CHECK(lance_array_new_like(src, &dst, &err) == CORE_OK);
	CHECK(lance_array_append(dst, src, 4, 5, &err) == CORE_OK);	/* 4..8 */
	CHECK(dst->length == 5 && dst->null_count == 2);
	CHECK(((const int32_t *) (const void *) dst->values)[0] == 4);
	CHECK(!lance_array_is_valid(dst, 1) && !lance_array_is_valid(dst, 4));
	CHECK(lance_array_validate(dst, "x", &err) == CORE_OK);
	lance_array_free(src);
	lance_array_free(dst);
	lance_schema_free(s);
}

UNIT_TEST(appending_outside_the_source_is_an_error)
{
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", true}};
	LanceSchema *s = schema_of(spec, 1);
	LanceArray *src = ints(lance_schema_top(s, 0), 4);
	LanceArray *dst;
	CoreError	err;

	CHECK(lance_array_new_like(src, &dst, &err) == CORE_OK);
	CHECK(lance_array_append(dst, src, 3, 2, &err) == CORE_ERR_INVALID);
	CHECK(lance_array_append(dst, src, -1, 1, &err) == CORE_ERR_INVALID);
	lance_array_free(src);
	lance_array_free(dst);
	lance_schema_free(s);
}

UNIT_TEST(lists_of_strings_append_with_rebased_offsets)
{
	static const LanceFieldSpec spec[] = {{0, -1, "l", "list", true}, {1, 0, "item", "string", true}};
	LanceSchema *s = schema_of(spec, 2);
	const LanceField *l = lance_schema_top(s, 0);
	LanceArray *a;
	LanceArray *b;
	LanceArray *item;
	CoreError	err;

	/* a = [["ab"], null, ["c", "de"]] */
	CHECK(lance_array_new_for_field(l, &a, &err) == CORE_OK);
	item = a->children[0];
	CHECK(lance_array_reserve(item, 3, 5, &err) == CORE_OK);
	memcpy(item->values, "abcde", 5);
	item->values_size = 5;
	((int32_t *) item->offsets)[1] = 2;
	((int32_t *) item->offsets)[2] = 3;
	((int32_t *) item->offsets)[3] = 5;
	item->length = 3;
	CHECK(lance_array_reserve(a, 3, 0, &err) == CORE_OK);
	((int32_t *) a->offsets)[1] = 1;
	((int32_t *) a->offsets)[2] = 1;
	((int32_t *) a->offsets)[3] = 3;
	a->length = 3;
	CHECK(lance_array_validate(a, "a", &err) == CORE_OK);

	CHECK(lance_array_new_like(a, &b, &err) == CORE_OK);
	CHECK(lance_array_append_nulls(b, 1, &err) == CORE_OK);
	CHECK(lance_array_append(b, a, 2, 1, &err) == CORE_OK);
	CHECK(b->length == 2 && b->null_count == 1);
	CHECK(lance_array_offset(b, 1) == 0 && lance_array_offset(b, 2) == 2);
	CHECK(b->children[0]->length == 2);
	CHECK(memcmp(b->children[0]->values, "cde", 3) == 0);
	CHECK(lance_array_offset(b->children[0], 1) == 1);
	CHECK(lance_array_validate(b, "b", &err) == CORE_OK);
	lance_array_free(a);
	lance_array_free(b);
	lance_schema_free(s);
}

UNIT_TEST(fixed_size_list_rows_carry_their_items)
{
	static const LanceFieldSpec spec[] = {{0, -1, "v", "fixed_size_list:float:3", true}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *v = lance_schema_top(s, 0);
	LanceArray *a;
	LanceArray *b;
	CoreError	err;
	float	   *items;

	CHECK(lance_array_new_for_field(v, &a, &err) == CORE_OK);
	CHECK(a->num_children == 1 && a->children[0]->type->id == LANCE_TYPE_FLOAT32);
	CHECK(lance_array_reserve(a->children[0], 6, 0, &err) == CORE_OK);
	items = (float *) (void *) a->children[0]->values;
	for (int i = 0; i < 6; i++)
		items[i] = (float) i;
	a->children[0]->length = 6;
	a->children[0]->values_size = 24;
	a->length = 2;
	CHECK(lance_array_validate(a, "v", &err) == CORE_OK);
	CHECK(lance_array_new_like(a, &b, &err) == CORE_OK);
	CHECK(lance_array_append(b, a, 1, 1, &err) == CORE_OK);
	CHECK(lance_array_append_nulls(b, 1, &err) == CORE_OK);
	CHECK(b->length == 2 && b->children[0]->length == 6);
	CHECK(((const float *) (const void *) b->children[0]->values)[0] == 3.0f);
	CHECK(!lance_array_is_valid(b, 1));
	lance_array_free(a);
	lance_array_free(b);
	lance_schema_free(s);
}

UNIT_TEST(validate_catches_offsets_that_go_backwards_or_past_the_data)
{
	static const LanceFieldSpec spec[] = {{0, -1, "s", "string", true}};
	LanceSchema *s = schema_of(spec, 1);
	LanceArray *a;
	CoreError	err;

	CHECK(lance_array_new_for_field(lance_schema_top(s, 0), &a, &err) == CORE_OK);
	CHECK(lance_array_reserve(a, 2, 4, &err) == CORE_OK);
	a->values_size = 4;
	a->length = 2;
	((int32_t *) a->offsets)[1] = 3;
	((int32_t *) a->offsets)[2] = 2;
	CHECK(lance_array_validate(a, "s", &err) == CORE_ERR_CORRUPT);
	((int32_t *) a->offsets)[2] = 9;
	CHECK(lance_array_validate(a, "s", &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "s:") == err.msg, "%s", err.msg);
	((int32_t *) a->offsets)[2] = 4;
	CHECK(lance_array_validate(a, "s", &err) == CORE_OK);
	lance_array_free(a);
	lance_schema_free(s);
}

UNIT_TEST(struct_append_keeps_members_in_step)
{
	static const LanceFieldSpec spec[] = {
		{0, -1, "st", "struct", true}, {1, 0, "x", "int64", true}, {2, 0, "b", "bool", true}
	};
	LanceSchema *s = schema_of(spec, 3);
	LanceArray *a;
	LanceArray *b;
	CoreError	err;

	CHECK(lance_array_new_for_field(lance_schema_top(s, 0), &a, &err) == CORE_OK);
	CHECK(a->num_children == 2);
	CHECK(lance_array_append_nulls(a, 3, &err) == CORE_OK);
	CHECK(a->length == 3 && a->children[0]->length == 3 && a->children[1]->length == 3);
	CHECK(lance_array_new_like(a, &b, &err) == CORE_OK);
	CHECK(lance_array_append(b, a, 1, 2, &err) == CORE_OK);
	CHECK(b->length == 2 && b->null_count == 2 && b->children[1]->length == 2);
	CHECK(lance_array_validate(b, "st", &err) == CORE_OK);
	lance_array_free(a);
	lance_array_free(b);
	lance_schema_free(s);
}

UNIT_TEST(truncating_drops_a_half_pushed_list_of_structs)
{
	static const LanceFieldSpec specs[] = {
		{0, -1, "ls", "list", true},
		{1, 0, "item", "struct", true},
		{2, 1, "x", "int32", true},
		{3, 1, "s", "string", true},
	};
	LanceSchema *s = schema_of(specs, 4);
	LanceArray *a;
	LanceArray *st;
	CoreError	err;
	int32_t		x = 7;

	CHECK(s != NULL);
	CHECK(lance_array_new_for_field(lance_schema_top(s, 0), &a, &err) == CORE_OK);
	st = a->children[0];
	/* row 0: [{7, "ab"}, null]; row 1: null */
	CHECK(lance_array_push_fixed(st->children[0], &x, &err) == CORE_OK);
	CHECK(lance_array_push_bytes(st->children[1], "ab", 2, &err) == CORE_OK);
	CHECK(lance_array_push_struct_end(st, &err) == CORE_OK);
	CHECK(lance_array_append_nulls(st, 1, &err) == CORE_OK);
	CHECK(lance_array_push_list_end(a, &err) == CORE_OK);
	CHECK(lance_array_append_nulls(a, 1, &err) == CORE_OK);
	/* row 2 left half-pushed: an item whose member s never came */
	CHECK(lance_array_push_fixed(st->children[0], &x, &err) == CORE_OK);
	CHECK(lance_array_push_fixed(st->children[0], &x, &err) == CORE_OK);

	lance_array_truncate(a, 1);
	CHECK(a->length == 1 && a->null_count == 0);
	CHECK(st->length == 2 && st->null_count == 1);
	CHECK(st->children[0]->length == 2 && st->children[1]->length == 2);
	CHECK(st->children[1]->values_size == 2);
	CHECK_MSG(lance_array_validate(a, "ls", &err) == CORE_OK, "%s", err.msg);

	/* pushing on goes on from the kept rows */
	CHECK(lance_array_push_list_end(a, &err) == CORE_OK);
	CHECK(a->length == 2 && lance_array_offset(a, 2) == 2);
	lance_array_truncate(a, 0);
	CHECK(a->length == 0 && st->length == 0 && st->children[1]->values_size == 0);
	lance_array_free(a);
	lance_schema_free(s);
}
