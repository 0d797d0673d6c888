/*-------------------------------------------------------------------------
 *
 * list_levels.c
 *	  Repetition and definition levels of one- and two-layer lists.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "lance/list_levels.h"

/* Entries of list row r. */
static int64_t
entries(const LanceArray *list, int64_t r)
{
	return lance_array_offset(list, r + 1) - lance_array_offset(list, r);
}

int
lance_list_layers(const LanceArray *list)
{
	return list->children[0]->type->id == LANCE_TYPE_LIST ? 2 : 1;
}

const LanceArray *
lance_list_leaf(const LanceArray *list)
{
	const LanceArray *items = list->children[0];

	return lance_list_layers(list) == 2 ? items->children[0] : items;
}

void
lance_list_leaf_range(const LanceArray *list, int64_t start, int64_t end, int64_t *first,
					  int64_t *count)
{
	int64_t		lo = lance_array_offset(list, start);
	int64_t		hi = lance_array_offset(list, end);

	if (lance_list_layers(list) == 2)
	{
		lo = lance_array_offset(list->children[0], lo);
		hi = lance_array_offset(list->children[0], hi);
	}
	*first = lo;
	*count = hi - lo;
}

int64_t
lance_list_row_levels(const LanceArray *list, int64_t r)
{
	const LanceArray *inner = list->children[0];
	int64_t		k = entries(list, r);
	int64_t		levels = 0;

	if (k == 0)
		return 1;				/* a null or empty row is one pair */
	if (lance_list_layers(list) == 1)
		return k;
	for (int64_t j = lance_array_offset(list, r); j < lance_array_offset(list, r + 1); j++)
		levels += entries(inner, j) > 0 ? entries(inner, j) : 1;
	return levels;
}

/*
 * Levels of the entries [lo, hi) of one list layer: its items' pairs, the
 * first with rep `first_rep`, or one pair for a null (def `null_def`) or
 * empty (null_def + 1) list.  For an outer layer each entry is an inner
 * list, written by a call one layer down.
 */
static int64_t
layer_levels(const LanceArray *list, int64_t r, int layer, uint16_t first_rep,
			 uint16_t *rep, uint16_t *def)
{
	const LanceArray *items = list->children[0];
	uint16_t	null_def = (uint16_t) (2 * layer);
	int64_t		lo = lance_array_offset(list, r);
	int64_t		hi = lance_array_offset(list, r + 1);
	int64_t		n = 0;

	if (hi == lo)
	{
		rep[0] = first_rep;
		def[0] = lance_array_is_valid(list, r) ? null_def + 1 : null_def;
		return 1;
	}
	for (int64_t j = lo; j < hi; j++)
	{
		uint16_t	r0 = j == lo ? first_rep : (uint16_t) (layer - 1);

		if (layer == 1)
		{
			rep[n] = r0;
			def[n] = lance_array_is_valid(items, j) ? 0 : 1;
			n++;
		}
		else
			n += layer_levels(items, j, layer - 1, r0, rep + n, def + n);
	}
	return n;
}

int64_t
lance_list_levels(const LanceArray *list, int64_t start, int64_t n, uint16_t *rep,
				  uint16_t *def)
{
	int			layers = lance_list_layers(list);
	int64_t		k = 0;

	for (int64_t r = start; r < start + n; r++)
		k += layer_levels(list, r, layers, (uint16_t) layers, rep + k, def + k);
	return k;
}
