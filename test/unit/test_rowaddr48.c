/*
 * test_rowaddr48.c
 *	  Row addresses packed into the 48 bits of a TID and back.
 */
#include "core/rowaddr48.h"
#include "unit.h"

#define ADDR(frag, off) (((uint64_t) (frag) << 32) | (uint32_t) (off))

static bool
round_trips(uint64_t addr)
{
	uint64_t	packed;
	uint64_t	back;

	return rowaddr48_pack(addr, &packed) && packed >> 48 == 0 &&
		rowaddr48_unpack(packed, &back) && back == addr;
}

UNIT_TEST(fragment_ids_above_65534_round_trip)
{
	CHECK(round_trips(ADDR(65535, 0)));
	CHECK(round_trips(ADDR(70000, 65534)));
	CHECK(round_trips(ADDR(1000000, 123456)));
}

UNIT_TEST(offsets_of_a_full_lancedb_fragment_round_trip_with_large_ids)
{
	/* LanceDB's fragments hold up to 2^20 rows: ids up to 2^22 fit */
	CHECK(round_trips(ADDR((1u << 22) - 1, (1u << 20) - 1)));
	CHECK(round_trips(ADDR(0, UINT32_MAX)));
	CHECK(round_trips(ADDR(UINT32_MAX, 1023)));
	CHECK(round_trips(0));
}

UNIT_TEST(an_address_needing_more_than_42_bits_does_not_pack)
{
	uint64_t	packed;

	CHECK(!rowaddr48_pack(ADDR(1u << 22, (1u << 20) - 1), &packed));
	CHECK(!rowaddr48_pack(ADDR(1024, UINT32_MAX), &packed));
}

UNIT_TEST(distinct_addresses_pack_to_distinct_values)
{
	uint64_t	a;
	uint64_t	b;

	/* same payload bits, different split: the header tells them apart */
	CHECK(rowaddr48_pack(ADDR(2, 1), &a));
	CHECK(rowaddr48_pack(ADDR(1, 3), &b));
	CHECK(a != b);
}

UNIT_TEST(a_header_above_32_is_not_a_packed_address)
{
	uint64_t	addr;

	CHECK(!rowaddr48_unpack((uint64_t) 33 << ROWADDR48_PAYLOAD_BITS, &addr));
	CHECK(!rowaddr48_unpack(UINT64_C(1) << 48, &addr));
}
