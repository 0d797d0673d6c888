/*-------------------------------------------------------------------------
 *
 * test_topk.c
 *	  The bounded top-k selection: against a full sort, ties, tiers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "kernels/topk.h"
#include "unit.h"

static int
CompareEntries(const void *a, const void *b)
{
	const TopkEntry *x = a;
	const TopkEntry *y = b;

	return topk_entry_less(x, y) ? -1 : topk_entry_less(y, x) ? 1 : 0;
}

UNIT_TEST(keeps_the_k_smallest_of_a_random_stream_in_order)
{
	enum
	{
		N = 5000, K = 37
	};
	static TopkEntry all[N];
	TopkEntry	got[K];
	TopK	   *t = topk_new(K);
	unsigned	seed = 12345;

	CHECK(t != NULL);
	for (int i = 0; i < N; i++)
	{
		seed = seed * 1103515245u + 12345u;
		/* few distinct keys, so many ties are broken by seq */
		all[i].tier = 0;
		all[i].key = (double) ((seed >> 16) % 200);
		all[i].seq = (uint64_t) i;
		all[i].payload = (uint64_t) i * 7;
		CHECK(topk_push(t, &all[i]));
	}
	CHECK(topk_count(t) == K && topk_full(t));
	CHECK(topk_drain_sorted(t, got) == K);
	CHECK(topk_count(t) == 0);
	qsort(all, N, sizeof(TopkEntry), CompareEntries);
	for (int i = 0; i < K; i++)
		CHECK_MSG(got[i].seq == all[i].seq && got[i].key == all[i].key &&
				  got[i].payload == all[i].seq * 7,
				  "rank %d: got seq %llu, want %llu", i,
				  (unsigned long long) got[i].seq, (unsigned long long) all[i].seq);
	topk_free(t);
}

UNIT_TEST(fewer_entries_than_k_all_come_back_sorted)
{
	TopK	   *t = topk_new(1000000);
	TopkEntry	out[3];
	TopkEntry	e = {0, 0, 0, 0};

	CHECK(t != NULL);
	e.key = 3.0;
	e.seq = 0;
	CHECK(topk_push(t, &e));
	e.key = -1.5;
	e.seq = 1;
	CHECK(topk_push(t, &e));
	e.key = 2.0;
	e.seq = 2;
	CHECK(topk_push(t, &e));
	CHECK(!topk_full(t));
	CHECK(topk_drain_sorted(t, out) == 3);
	CHECK(out[0].key == -1.5 && out[1].key == 2.0 && out[2].key == 3.0);
	topk_free(t);
}

UNIT_TEST(a_higher_tier_ranks_after_every_key_of_a_lower_one)
{
	TopK	   *t = topk_new(2);
	TopkEntry	out[2];
	TopkEntry	nan_like = {1, 0.0, 0, 10};
	TopkEntry	big = {0, 1e300, 1, 11};
	TopkEntry	small = {0, -1e300, 2, 12};

	CHECK(t != NULL);
	CHECK(topk_push(t, &nan_like));
	CHECK(topk_push(t, &big));
	CHECK(topk_worst(t)->payload == 10);
	CHECK(topk_push(t, &small));
	CHECK(topk_drain_sorted(t, out) == 2);
	CHECK(out[0].payload == 12 && out[1].payload == 11);
	topk_free(t);
}

UNIT_TEST(an_equal_key_with_a_later_seq_does_not_displace_the_worst)
{
	TopK	   *t = topk_new(1);
	TopkEntry	first = {0, 5.0, 0, 1};
	TopkEntry	later = {0, 5.0, 1, 2};
	TopkEntry	out;

	CHECK(t != NULL);
	CHECK(topk_push(t, &first));
	CHECK(topk_push(t, &later));
	CHECK(topk_drain_sorted(t, &out) == 1);
	CHECK(out.payload == 1);
	topk_free(t);
}

UNIT_TEST(k_below_one_is_refused)
{
	CHECK(topk_new(0) == NULL);
	CHECK(topk_new(-3) == NULL);
}

UNIT_TEST(reset_empties_the_selection_for_the_next_one)
{
	TopK	   *t = topk_new(2);
	TopkEntry	out[2];
	TopkEntry	e = {0, 5.0, 1, 0};

	CHECK(t != NULL);
	topk_push(t, &e);
	e.key = 1.0;
	e.seq = 2;
	topk_push(t, &e);
	topk_reset(t);
	CHECK(topk_count(t) == 0);
	e.key = 3.0;
	e.seq = 3;
	topk_push(t, &e);
	CHECK(topk_drain_sorted(t, out) == 1);
	CHECK(out[0].seq == 3 && out[0].key == 3.0);
	topk_free(t);
}
