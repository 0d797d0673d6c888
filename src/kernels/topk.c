/*-------------------------------------------------------------------------
 *
 * topk.c
 *	  A bounded max-heap of (distance, id) pairs (see topk.h).
 *
 *-------------------------------------------------------------------------
 */
#include "core/alloc.h"
#include "kernels/topk.h"

struct Topk
{
	size_t		cap;
	size_t		len;
	TopkItem   *items;			/* items[0] is the worst kept */
};

Topk *
topk_create(size_t k)
{
	Topk	   *heap;

	if (k == 0)
		return NULL;
	heap = core_calloc(1, sizeof(Topk));
	if (heap == NULL)
		return NULL;
	heap->items = core_mallocarray(k, sizeof(TopkItem));
	if (heap->items == NULL)
	{
		core_free(heap);
		return NULL;
	}
	heap->cap = k;
	return heap;
}

void
topk_free(Topk *heap)
{
	if (heap == NULL)
		return;
	core_free(heap->items);
	core_free(heap);
}

void
topk_reset(Topk *heap)
{
	heap->len = 0;
}

size_t
topk_count(const Topk *heap)
{
	return heap->len;
}

/* Whether item a is worse (farther) than item b. */
static inline bool
worse(const TopkItem *a, const TopkItem *b)
{
	return topk_before(b->dist, b->id, a->dist, a->id);
}

/* Restore the heap below slot i after items[i] got nearer. */
static void
sift_down(TopkItem *items, size_t len, size_t i)
{
	TopkItem	x = items[i];

	for (;;)
	{
		size_t		c = 2 * i + 1;

		if (c >= len)
			break;
		if (c + 1 < len && worse(&items[c + 1], &items[c]))
			c++;
		if (!worse(&items[c], &x))
			break;
		items[i] = items[c];
		i = c;
	}
	items[i] = x;
}

bool
topk_push(Topk *heap, float dist, uint64_t id)
{
	TopkItem	x = {dist, id};

	if (heap->len < heap->cap)
	{
		size_t		i = heap->len++;

		/* sift up */
		while (i > 0)
		{
			size_t		p = (i - 1) / 2;

			if (!worse(&x, &heap->items[p]))
				break;
			heap->items[i] = heap->items[p];
			i = p;
		}
		heap->items[i] = x;
		return true;
	}
	if (!worse(&heap->items[0], &x))
		return false;
	heap->items[0] = x;
	sift_down(heap->items, heap->len, 0);
	return true;
}

size_t
topk_drain_sorted(Topk *heap, TopkItem *out)
{
	size_t		n = heap->len;

	/* pop the worst into the last free slot until the heap is empty */
	while (heap->len > 0)
	{
		out[heap->len - 1] = heap->items[0];
		heap->len--;
		if (heap->len > 0)
		{
			heap->items[0] = heap->items[heap->len];
			sift_down(heap->items, heap->len, 0);
		}
	}
	return n;
}
