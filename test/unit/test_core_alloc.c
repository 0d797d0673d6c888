/*-------------------------------------------------------------------------
 *
 * test_core_alloc.c
 *	  The core's allocation helpers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>

#include "core/alloc.h"
#include "unit.h"

UNIT_TEST(grow_doubles_the_room_and_keeps_the_items)
{
	int		   *items = NULL;
	size_t		cap = 0;
	bool		kept = true;

	for (int i = 0; i < 1000; i++)
	{
		CHECK(core_grow((void **) &items, &cap, (size_t) i + 1, sizeof(int)));
		items[i] = i;
	}
	CHECK(cap >= 1000 && cap < 2048);
	for (int i = 0; i < 1000; i++)
		kept &= items[i] == i;
	core_free(items);
	CHECK(kept);
}

UNIT_TEST(grow_refuses_sizes_that_overflow_and_leaves_the_array)
{
	uint64_t   *items = NULL;
	size_t		cap = 0;

	CHECK(core_grow((void **) &items, &cap, 4, sizeof(uint64_t)));
	items[0] = 42;
	CHECK(!core_grow((void **) &items, &cap, SIZE_MAX / 4, sizeof(uint64_t)));
	CHECK(!core_grow((void **) &items, &cap, SIZE_MAX, 1));
	CHECK(cap >= 4 && items[0] == 42);
	core_free(items);
}
