/*-------------------------------------------------------------------------
 *
 * sorted.h
 *	  Searching an increasing array of 64-bit values: row addresses,
 *	  document ordinals and ids.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_CORE_SORTED_H
#define LANCEDB_CORE_SORTED_H

#include <stddef.h>
#include <stdint.h>

/* First index i in [from, n) of increasing vals with vals[i] >= x, or n. */
static inline size_t
core_lower_bound_u64(const uint64_t *vals, size_t from, size_t n, uint64_t x)
{
	size_t		lo = from,
				hi = n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (vals[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif							/* LANCEDB_CORE_SORTED_H */
