/*-------------------------------------------------------------------------
 *
 * topk.c
 *	  The k smallest entries of a stream, in a binary max-heap.
 *
 * The heap grows on demand up to k rather than being allocated at k, since
 * a LIMIT can be far larger than the rows a filtered scan produces.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/topk.h"

#include "core/alloc.h"

struct TopK
{
	int64_t		k;
	int64_t		count;
	int64_t		cap;
	TopkEntry  *heap;			/* heap[0] is the worst entry held */
};

TopK *
topk_new(int64_t k)
{
	TopK	   *t;

	if (k < 1)
		return NULL;
	t = core_calloc(1, sizeof(TopK));
	if (t == NULL)
		return NULL;
	t->k = k;
	return t;
}

void
topk_free(TopK *t)
{
	if (t == NULL)
		return;
	core_free(t->heap);
	core_free(t);
}

void
topk_reset(TopK *t)
{
	t->count = 0;
}

int64_t
topk_count(const TopK *t)
{
	return t->count;
}

bool
topk_full(const TopK *t)
{
	return t->count == t->k;
}

const TopkEntry *
topk_worst(const TopK *t)
{
	return &t->heap[0];
}

bool
topk_entry_less(const TopkEntry *a, const TopkEntry *b)
{
	if (a->tier != b->tier)
		return a->tier < b->tier;
	if (a->key != b->key)
		return a->key < b->key;
	return a->seq < b->seq;
}

/* Move heap[i] down until both children sort before it. */
static void
sift_down(TopkEntry *heap, int64_t n, int64_t i)
{
	TopkEntry	e = heap[i];

	for (;;)
	{
		int64_t		c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && topk_entry_less(&heap[c], &heap[c + 1]))
			c++;
		if (!topk_entry_less(&e, &heap[c]))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = e;
}

/* Move heap[i] up while it sorts after its parent. */
static void
sift_up(TopkEntry *heap, int64_t i)
{
	TopkEntry	e = heap[i];

	while (i > 0)
	{
		int64_t		p = (i - 1) / 2;

		if (!topk_entry_less(&heap[p], &e))
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = e;
}

bool
topk_push(TopK *t, const TopkEntry *e)
{
	if (t->count == t->k)
	{
		if (!topk_entry_less(e, &t->heap[0]))
			return true;
		t->heap[0] = *e;
		sift_down(t->heap, t->count, 0);
		return true;
	}
	if (t->count == t->cap)
	{
		int64_t		cap = t->cap ? t->cap * 2 : 64;
		TopkEntry  *grown;

		if (cap > t->k)
			cap = t->k;
		grown = core_realloc(t->heap, (size_t) cap * sizeof(TopkEntry));
		if (grown == NULL)
			return false;
		t->heap = grown;
		t->cap = cap;
	}
	t->heap[t->count] = *e;
	sift_up(t->heap, t->count);
	t->count++;
	return true;
}

int64_t
topk_drain_sorted(TopK *t, TopkEntry *out)
{
	int64_t		n = t->count;

	/* pop the worst into the last free slot until none is left */
	while (t->count > 0)
	{
		out[t->count - 1] = t->heap[0];
		t->count--;
		if (t->count > 0)
		{
			t->heap[0] = t->heap[t->count];
			sift_down(t->heap, t->count, 0);
		}
	}
	return n;
}
