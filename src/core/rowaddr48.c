/*-------------------------------------------------------------------------
 *
 * rowaddr48.c
 *	  Packing a 64-bit Lance row address into 48 bits and back
 *	  (rowaddr48.h has the layout).
 *
 *-------------------------------------------------------------------------
 */
#include "core/rowaddr48.h"

#define PAYLOAD_MASK ((UINT64_C(1) << ROWADDR48_PAYLOAD_BITS) - 1)

/* Significant bits of v (0 for 0). */
static int
bit_length(uint32_t v)
{
	return v == 0 ? 0 : 32 - __builtin_clz(v);
}

bool
rowaddr48_pack(uint64_t addr, uint64_t *packed)
{
	uint64_t	fragment = addr >> 32;
	uint32_t	offset = (uint32_t) addr;
	int			h = bit_length(offset);

	if (fragment >> (ROWADDR48_PAYLOAD_BITS - h) != 0)
		return false;
	*packed = ((uint64_t) h << ROWADDR48_PAYLOAD_BITS) | (fragment << h) | offset;
	return true;
}

bool
rowaddr48_unpack(uint64_t packed, uint64_t *addr)
{
	int			h = (int) (packed >> ROWADDR48_PAYLOAD_BITS);
	uint64_t	payload = packed & PAYLOAD_MASK;

	/* a header above 32 or bits above 48 are no packed address */
	if (h > 32 || (packed >> 48) != 0)
		return false;
	*addr = ((payload >> h) << 32) | (payload & ((UINT64_C(1) << h) - 1));
	return true;
}
