/*-------------------------------------------------------------------------
 *
 * bm25_memindex.c
 *	  In-memory BM25 inversion (see bm25_memindex.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_memindex.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static inline uint64_t
Hash(const char *s, size_t len)
{
	uint64_t	h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= UINT64_C(1099511628211);
	}
	return h ^ (h >> 29);
}

static int
CompareBytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

long
bm25_terms_find(const Bm25DocTerm *terms, size_t n, const char *term, size_t len)
{
	size_t		lo = 0,
				hi = n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		int			c = CompareBytes(terms[mid].term, terms[mid].len, term, len);

		if (c == 0)
			return (long) mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* --- bags --- */

typedef struct BagTerm
{
	uint32_t	off;			/* of the term bytes in chars */
	uint32_t	len;
	uint32_t	tf;
	uint32_t	first;			/* first position index in pos */
} BagTerm;

struct Bm25Bag
{
	char	   *chars;
	size_t		nchars,
				charcap;
	BagTerm    *terms;
	size_t		nterms,
				termcap;
	uint32_t   *hash;			/* term index + 1 */
	size_t		hashcap;
	/* every token's (term index, position), grouped by term on finish */
	uint64_t   *toks;
	size_t		ntoks,
				tokcap;
	bool		haspos;
	uint32_t   *pos;
	Bm25DocTerm *out;
	uint32_t	dl;
};

Bm25Bag *
bm25_bag_create(void)
{
	return core_calloc(1, sizeof(Bm25Bag));
}

void
bm25_bag_free(Bm25Bag *bag)
{
	if (bag == NULL)
		return;
	core_free(bag->chars);
	core_free(bag->terms);
	core_free(bag->hash);
	core_free(bag->toks);
	core_free(bag->pos);
	core_free(bag->out);
	core_free(bag);
}

void
bm25_bag_reset(Bm25Bag *bag)
{
	bag->nchars = 0;
	bag->nterms = 0;
	bag->ntoks = 0;
	bag->dl = 0;
	bag->haspos = false;
	if (bag->hash)
		memset(bag->hash, 0, bag->hashcap * sizeof(uint32_t));
}

static bool
Rehash(Bm25Bag *bag, size_t cap)
{
	uint32_t   *h = core_calloc(cap, sizeof(uint32_t));

	if (h == NULL)
		return false;
	for (size_t i = 0; i < bag->nterms; i++)
	{
		uint64_t	x = Hash(bag->chars + bag->terms[i].off, bag->terms[i].len);

		while (h[x & (cap - 1)])
			x++;
		h[x & (cap - 1)] = (uint32_t) i + 1;
	}
	core_free(bag->hash);
	bag->hash = h;
	bag->hashcap = cap;
	return true;
}

/* Index of term in the bag, added if new; -1 when out of memory. */
static long
BagIntern(Bm25Bag *bag, const char *term, size_t len)
{
	uint64_t	x;
	BagTerm    *t;

	if (bag->hashcap < 2 * (bag->nterms + 1) && !Rehash(bag, bag->hashcap ? bag->hashcap * 2 : 64))
		return -1;
	for (x = Hash(term, len);; x++)
	{
		uint32_t	s = bag->hash[x & (bag->hashcap - 1)];

		if (s == 0)
			break;
		t = &bag->terms[s - 1];
		if (t->len == len && memcmp(bag->chars + t->off, term, len) == 0)
			return (long) s - 1;
	}
	if (!core_grow((void **) &bag->chars, &bag->charcap, bag->nchars + len, 1) ||
		!core_grow((void **) &bag->terms, &bag->termcap, bag->nterms + 1, sizeof(BagTerm)))
		return -1;
	memcpy(bag->chars + bag->nchars, term, len);
	t = &bag->terms[bag->nterms];
	t->off = (uint32_t) bag->nchars;
	t->len = (uint32_t) len;
	t->tf = 0;
	bag->nchars += len;
	bag->hash[x & (bag->hashcap - 1)] = (uint32_t) ++bag->nterms;
	return (long) bag->nterms - 1;
}

CoreStatus
bm25_bag_add(Bm25Bag *bag, const char *term, size_t len, uint32_t pos, CoreError *err)
{
	return bm25_bag_add_term(bag, term, len, 1, &pos, err);
}

CoreStatus
bm25_bag_add_term(Bm25Bag *bag, const char *term, size_t len, uint32_t tf,
				  const uint32_t *pos, CoreError *err)
{
	long		i;

	if (len == 0 || len > UINT32_MAX || tf == 0)
		return CORE_OK;
	i = BagIntern(bag, term, len);
	if (i < 0 || !core_grow((void **) &bag->toks, &bag->tokcap, bag->ntoks + tf, sizeof(uint64_t)))
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory tokenizing a document");
	for (uint32_t j = 0; j < tf; j++)
		bag->toks[bag->ntoks++] = ((uint64_t) i << 32) | (pos ? pos[j] : 0);
	if (pos)
		bag->haspos = true;
	bag->terms[i].tf += tf;
	bag->dl += tf;
	return CORE_OK;
}

void
bm25_bag_add_length(Bm25Bag *bag, uint32_t n)
{
	bag->dl += n;
}

static const Bm25Bag *sort_bag;

static int
CompareBagTerms(const void *a, const void *b)
{
	const BagTerm *x = a;
	const BagTerm *y = b;

	return CompareBytes(sort_bag->chars + x->off, x->len, sort_bag->chars + y->off, y->len);
}

static int
CompareU64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

void
bm25_bag_finish(Bm25Bag *bag)
{
	size_t		ntoks = bag->ntoks;
	size_t		cap1 = 0,
				cap2 = 0;

	/* group tokens by term index, positions ascending within a term */
	qsort(bag->toks, ntoks, sizeof(uint64_t), CompareU64);
	if (!core_grow((void **) &bag->pos, &cap1, ntoks ? ntoks : 1, sizeof(uint32_t)) ||
		!core_grow((void **) &bag->out, &cap2, bag->nterms ? bag->nterms : 1, sizeof(Bm25DocTerm)))
	{
		bag->nterms = 0;		/* out of memory: an empty bag, never a crash */
		return;
	}
	{
		size_t		at = 0;

		for (size_t i = 0; i < bag->nterms; i++)
		{
			bag->terms[i].first = (uint32_t) at;
			at += bag->terms[i].tf;
		}
	}
	for (size_t k = 0; k < ntoks; k++)
		bag->pos[k] = (uint32_t) bag->toks[k];
	sort_bag = bag;
	qsort(bag->terms, bag->nterms, sizeof(BagTerm), CompareBagTerms);
	sort_bag = NULL;
	for (size_t i = 0; i < bag->nterms; i++)
	{
		bag->out[i].term = bag->chars + bag->terms[i].off;
		bag->out[i].len = bag->terms[i].len;
		bag->out[i].tf = bag->terms[i].tf;
		bag->out[i].pos = bag->haspos ? bag->pos + bag->terms[i].first : NULL;
	}
	/* the hash indexes the unsorted order; lookups now go through out */
	if (bag->hash)
		memset(bag->hash, 0, bag->hashcap * sizeof(uint32_t));
}

size_t
bm25_bag_nterms(const Bm25Bag *bag)
{
	return bag->nterms;
}

const Bm25DocTerm *
bm25_bag_terms(const Bm25Bag *bag)
{
	return bag->out;
}

uint32_t
bm25_bag_dl(const Bm25Bag *bag)
{
	return bag->dl;
}

/* --- the in-memory inverted index --- */

struct Bm25MemIndex
{
	bool		positions;
	Bm25MemTerm **terms;
	size_t		nterms,
				termcap;
	uint32_t   *hash;
	size_t		hashcap;
	uint64_t   *docids;
	uint32_t   *dls;
	size_t		ndocs,
				doccap;
	bool		docs_sorted;
	size_t		bytes;
};

Bm25MemIndex *
bm25_mem_create(bool positions)
{
	Bm25MemIndex *m = core_calloc(1, sizeof(Bm25MemIndex));

	if (m)
	{
		m->positions = positions;
		m->docs_sorted = true;
	}
	return m;
}

void
bm25_mem_free(Bm25MemIndex *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nterms; i++)
	{
		Bm25MemTerm *t = m->terms[i];

		core_free(t->term);
		core_free(t->docids);
		core_free(t->tfs);
		core_free(t->dls);
		core_free(t->pos);
		core_free(t);
	}
	core_free(m->terms);
	core_free(m->hash);
	core_free(m->docids);
	core_free(m->dls);
	core_free(m);
}

size_t
bm25_mem_bytes(const Bm25MemIndex *m)
{
	return m->bytes;
}

size_t
bm25_mem_ndocs(const Bm25MemIndex *m)
{
	return m->ndocs;
}

bool
bm25_mem_positions(const Bm25MemIndex *m)
{
	return m->positions;
}

static bool
MemRehash(Bm25MemIndex *m, size_t cap)
{
	uint32_t   *h = core_calloc(cap, sizeof(uint32_t));

	if (h == NULL)
		return false;
	for (size_t i = 0; i < m->nterms; i++)
	{
		uint64_t	x = Hash(m->terms[i]->term, m->terms[i]->len);

		while (h[x & (cap - 1)])
			x++;
		h[x & (cap - 1)] = (uint32_t) i + 1;
	}
	core_free(m->hash);
	m->bytes += (cap - m->hashcap) * sizeof(uint32_t);
	m->hash = h;
	m->hashcap = cap;
	return true;
}

static Bm25MemTerm *
MemIntern(Bm25MemIndex *m, const char *term, size_t len)
{
	uint64_t	x;
	Bm25MemTerm *t;

	if (m->hashcap < 2 * (m->nterms + 1) && !MemRehash(m, m->hashcap ? m->hashcap * 2 : 1024))
		return NULL;
	for (x = Hash(term, len);; x++)
	{
		uint32_t	s = m->hash[x & (m->hashcap - 1)];

		if (s == 0)
			break;
		t = m->terms[s - 1];
		if (t->len == len && memcmp(t->term, term, len) == 0)
			return t;
	}
	if (!core_grow((void **) &m->terms, &m->termcap, m->nterms + 1, sizeof(Bm25MemTerm *)))
		return NULL;
	t = core_calloc(1, sizeof(Bm25MemTerm));
	if (t == NULL || (t->term = core_malloc(len)) == NULL)
	{
		core_free(t);
		return NULL;
	}
	memcpy(t->term, term, len);
	t->len = (uint32_t) len;
	t->sorted = true;
	m->terms[m->nterms] = t;
	m->hash[x & (m->hashcap - 1)] = (uint32_t) ++m->nterms;
	m->bytes += sizeof(Bm25MemTerm) + len + sizeof(void *) + 16;
	return t;
}

CoreStatus
bm25_mem_add_doc(Bm25MemIndex *m, uint64_t docid, uint32_t dl, const Bm25DocTerm *terms,
				 size_t nterms, CoreError *err)
{
	size_t		oldcap = m->doccap;

	if (!core_grow((void **) &m->docids, &m->doccap, m->ndocs + 1, sizeof(uint64_t)) ||
		(m->doccap != oldcap &&
		 (m->dls = core_realloc(m->dls, m->doccap * sizeof(uint32_t))) == NULL))
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory inverting documents");
	if (m->doccap != oldcap)
		m->bytes += (m->doccap - oldcap) * 12;
	if (m->ndocs > 0 && docid <= m->docids[m->ndocs - 1])
		m->docs_sorted = false;
	m->docids[m->ndocs] = docid;
	m->dls[m->ndocs] = dl;
	m->ndocs++;

	for (size_t i = 0; i < nterms; i++)
	{
		Bm25MemTerm *t = MemIntern(m, terms[i].term, terms[i].len);
		size_t		cap;

		if (t == NULL)
			return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory inverting documents");
		if (t->n == t->cap)
		{
			cap = t->cap;
			if (!core_grow((void **) &t->docids, &cap, t->n + 1, sizeof(uint64_t)))
				return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory inverting documents");
			cap = t->cap;
			if (!core_grow((void **) &t->tfs, &cap, t->n + 1, sizeof(uint32_t)))
				return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory inverting documents");
			cap = t->cap;
			if (!core_grow((void **) &t->dls, &cap, t->n + 1, sizeof(uint32_t)))
				return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory inverting documents");
			m->bytes += (cap - t->cap) * 16;
			t->cap = cap;
		}
		if (t->n > 0 && docid <= t->docids[t->n - 1])
			t->sorted = false;
		t->docids[t->n] = docid;
		t->tfs[t->n] = terms[i].tf;
		t->dls[t->n] = dl;
		t->n++;
		if (m->positions)
		{
			size_t		oc = t->poscap;

			if (!core_grow((void **) &t->pos, &t->poscap, t->npos + terms[i].tf, sizeof(uint32_t)))
				return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory inverting documents");
			m->bytes += (t->poscap - oc) * sizeof(uint32_t);
			if (terms[i].pos)
				memcpy(t->pos + t->npos, terms[i].pos, terms[i].tf * sizeof(uint32_t));
			else
				memset(t->pos + t->npos, 0, terms[i].tf * sizeof(uint32_t));
			t->npos += terms[i].tf;
		}
	}
	return CORE_OK;
}

static int
CompareMemTerms(const void *a, const void *b)
{
	const Bm25MemTerm *x = *(Bm25MemTerm *const *) a;
	const Bm25MemTerm *y = *(Bm25MemTerm *const *) b;

	return CompareBytes(x->term, x->len, y->term, y->len);
}

typedef struct SortEntry
{
	uint64_t	docid;
	uint32_t	tf;
	uint32_t	dl;
	size_t		pos;
} SortEntry;

static int
CompareSortEntries(const void *a, const void *b)
{
	uint64_t	x = ((const SortEntry *) a)->docid;
	uint64_t	y = ((const SortEntry *) b)->docid;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Sort one term's postings (and their positions) by doc id. */
static bool
SortPostings(Bm25MemTerm *t, bool positions)
{
	SortEntry  *e = core_mallocarray(t->n, sizeof(SortEntry));
	uint32_t   *np = NULL;
	size_t		at = 0;

	if (e == NULL)
		return false;
	for (size_t i = 0; i < t->n; i++)
	{
		e[i].docid = t->docids[i];
		e[i].tf = t->tfs[i];
		e[i].dl = t->dls[i];
		e[i].pos = at;
		at += t->tfs[i];
	}
	qsort(e, t->n, sizeof(SortEntry), CompareSortEntries);
	if (positions && (np = core_mallocarray(t->npos ? t->npos : 1, sizeof(uint32_t))) == NULL)
	{
		core_free(e);
		return false;
	}
	at = 0;
	for (size_t i = 0; i < t->n; i++)
	{
		t->docids[i] = e[i].docid;
		t->tfs[i] = e[i].tf;
		t->dls[i] = e[i].dl;
		if (positions)
		{
			memcpy(np + at, t->pos + e[i].pos, e[i].tf * sizeof(uint32_t));
			at += e[i].tf;
		}
	}
	if (positions)
	{
		core_free(t->pos);
		t->pos = np;
		t->poscap = t->npos;
	}
	core_free(e);
	t->sorted = true;
	return true;
}

Bm25MemTerm **
bm25_mem_terms(Bm25MemIndex *m, size_t *nterms)
{
	/* no terms at all (no rows, or none with text): empty, not "no memory" */
	static Bm25MemTerm *none[1];

	*nterms = m->nterms;
	if (m->nterms == 0)
		return none;
	qsort(m->terms, m->nterms, sizeof(Bm25MemTerm *), CompareMemTerms);
	/* the hash maps to the old order; this index takes no more documents */
	if (m->hash)
		memset(m->hash, 0, m->hashcap * sizeof(uint32_t));
	for (size_t i = 0; i < m->nterms; i++)
		if (!m->terms[i]->sorted && !SortPostings(m->terms[i], m->positions))
			return NULL;
	return m->terms;
}

void
bm25_mem_docs(Bm25MemIndex *m, const uint64_t **docids, const uint32_t **dls, size_t *ndocs)
{
	if (!m->docs_sorted)
	{
		SortEntry  *e = core_mallocarray(m->ndocs ? m->ndocs : 1, sizeof(SortEntry));

		if (e != NULL)
		{
			for (size_t i = 0; i < m->ndocs; i++)
			{
				e[i].docid = m->docids[i];
				e[i].dl = m->dls[i];
			}
			qsort(e, m->ndocs, sizeof(SortEntry), CompareSortEntries);
			for (size_t i = 0; i < m->ndocs; i++)
			{
				m->docids[i] = e[i].docid;
				m->dls[i] = e[i].dl;
			}
			core_free(e);
			m->docs_sorted = true;
		}
	}
	*docids = m->docids;
	*dls = m->dls;
	*ndocs = m->ndocs;
}
