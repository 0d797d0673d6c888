/*-------------------------------------------------------------------------
 *
 * writer21.c
 *	  Page layouts of file versions 2.1 and 2.2 (FORMAT.md 11, 15.1).
 *
 * Values up to 256 bytes wide go in a mini-block layout: the page's rows
 * are cut into chunks of a power-of-two number of values (the last chunk
 * any number), each chunk = header, definition levels (flat u16, only
 * when the page has nulls: 0 = valid, 1 = null), the values (flat,
 * fixed_size_list of flat, or variable with 32-bit offsets relative to
 * the chunk buffer).  Page buffer 0 holds one metadata word per chunk
 * (u16 in 2.1, u32 in 2.2: Lance enforces the grammar of each version),
 * buffer 1 the chunks.
 *
 * Wider values (vectors of more than 64 floats) go in a full-zip layout:
 * one buffer, row after row, a control byte (the def level) before each
 * row when the page has nulls.  Null rows keep their (zeroed) slots in
 * both layouts.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/list_levels.h"
#include "lance/writer_int.h"
#include "lance_enc21.pb-c.h"

#define LAYER_ALL_VALID_ITEM 1
#define LAYER_NULLABLE_ITEM 3
#define LAYER_NULL_AND_EMPTY_LIST 6

/* Lance's cut-off between mini-block and full-zip is ~256 bytes a value. */
#define FULL_ZIP_MIN_WIDTH 256
/* Value bytes a chunk aims at (lance: ~8 KiB flat, ~4 KiB variable). */
#define CHUNK_TARGET_FIXED 8192
#define CHUNK_TARGET_VARIABLE 4096
/* Values per chunk at most: keeps num_levels in its u16. */
#define CHUNK_MAX_VALUES 4096
/* 2.1: a chunk's size in 8-byte words must fit 12 bits of a u16 word. */
#define CHUNK_MAX_BYTES_V21 (4096 * 8)
/* List pages are one chunk: levels and value bytes one may hold. */
#define LIST_MAX_LEVELS_V21 4096
#define LIST_MAX_VALUE_BYTES_V22 (1024 * 1024)

typedef struct MiniBlock
{
	WFile	   *w;
	const LanceArray *a;
	bool		variable;
	int64_t		width;			/* bytes a value (fixed width, 0 for bool) */
	bool		has_def;
	int			struct_depth;	/* structs enclosing a member column */
	bool		large;			/* 2.2 grammar */
} MiniBlock;

/* Bytes of the variable-width values [i, i + k) of a in a chunk. */
static size_t
variable_bytes(const LanceArray *a, int64_t i, int64_t k)
{
	/* lance wants the buffer a multiple of the 4-byte offset width */
	size_t		raw = lance_variable_miniblock_size(32, (size_t) k,
													(size_t) (lance_array_offset(a, i + k) -
															  lance_array_offset(a, i)));

	return (raw + 3) & ~(size_t) 3;
}

/*
 * Append the variable-width values [i, i + k) of a, vb bytes
 * (variable_bytes), to a chunk: 32-bit offsets relative to the chunk's
 * value buffer, then the bytes.
 */
static CoreStatus
put_variable(WFile *w, const LanceArray *a, int64_t i, int64_t k, size_t vb, WOut *chunk)
{
	uint64_t   *offs = core_malloc((size_t) (k + 1) * sizeof(uint64_t));
	uint8_t    *buf = core_calloc(vb ? vb : 1, 1);
	CoreStatus	status = CORE_OK;

	if (offs == NULL || buf == NULL)
		status = core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	if (status == CORE_OK)
	{
		for (int64_t j = 0; j <= k; j++)
			offs[j] = (uint64_t) lance_array_offset(a, i + j);
		status = lance_variable_encode_miniblock(offs, a->values, (size_t) k, 32, buf, w->err);
	}
	if (status == CORE_OK && !wout_put(chunk, buf, vb))
		status = core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	core_free(offs);
	core_free(buf);
	return status;
}

/* Bytes of the values of rows [i, i + k). */
static size_t
value_bytes(const MiniBlock *mb, int64_t i, int64_t k)
{
	if (mb->variable)
		return variable_bytes(mb->a, i, k);
	if (mb->a->type->id == LANCE_TYPE_BOOL)
		return (size_t) (k + 7) / 8;
	return (size_t) (k * mb->width);
}

/* Values in the chunk that starts at row i of a page ending at row end. */
static int64_t
chunk_values(const MiniBlock *mb, int64_t i, int64_t end)
{
	int64_t		r = end - i;
	size_t		target = mb->variable ? CHUNK_TARGET_VARIABLE : CHUNK_TARGET_FIXED;
	int64_t		k;

	if (r <= CHUNK_MAX_VALUES && value_bytes(mb, i, r) <= target)
		return r;
	if (r == 1)
		return 1;
	k = 2;
	while (k * 2 <= r && k * 2 <= CHUNK_MAX_VALUES && value_bytes(mb, i, k * 2) <= target)
		k *= 2;
	return k;
}

static bool
pad8(WOut *o)
{
	return wout_pad(o, 8, 0xfe);
}

/* Append one chunk of rows [i, i + k) to chunks; returns its padded size. */
static CoreStatus
write_chunk(MiniBlock *mb, WOut *chunks, int64_t i, int64_t k, size_t *size)
{
	size_t		vb = value_bytes(mb, i, k);
	size_t		begin = chunks->len;
	bool		ok;

	if (!mb->large && vb > UINT16_MAX)
		return core_error(mb->w->err, CORE_ERR_UNSUPPORTED,
						  "%s: %zu bytes of values in one mini-block chunk; file version 2.1 allows 65535",
						  mb->w->what, vb);
	ok = wout_u16(chunks, mb->has_def ? (uint16_t) k : 0);
	if (mb->has_def)
		ok = ok && wout_u16(chunks, (uint16_t) (2 * k));
	ok = ok && (mb->large ? wout_u32(chunks, (uint32_t) vb) : wout_u16(chunks, (uint16_t) vb));
	ok = ok && pad8(chunks);
	if (mb->has_def)
	{
		/*
		 * 0 a value, 1 a null value, 2 and up a null struct, innermost
		 * first (layers item, then each struct from the innermost out)
		 */
		for (int64_t j = 0; j < k && ok; j++)
		{
			int			level = writer_struct_null_level(mb->w, i + j);

			ok = wout_u16(chunks, (uint16_t) (level > 0 ? level
											  : lance_array_is_valid(mb->a, i + j) ? 0 : 1));
		}
		ok = ok && pad8(chunks);
	}
	if (ok && mb->variable)
	{
		CoreStatus	status = put_variable(mb->w, mb->a, i, k, vb, chunks);

		if (status != CORE_OK)
			return status;
	}
	else if (ok)
	{
		const LanceArray *leaf = mb->a->type->id == LANCE_TYPE_FIXED_SIZE_LIST ? mb->a->children[0] : mb->a;
		int64_t		per = mb->a->type->id == LANCE_TYPE_FIXED_SIZE_LIST ? mb->a->type->fixed_size : 1;
		size_t		len;
		uint8_t    *vals = writer_fixed_values(leaf, i * per, k * per, &len);

		ok = vals && wout_put(chunks, vals, len);
		core_free(vals);
	}
	ok = ok && pad8(chunks);
	if (!ok)
		return core_error(mb->w->err, CORE_ERR_NOMEM, "out of memory writing %s", mb->w->what);
	*size = chunks->len - begin;
	if (!mb->large && *size > CHUNK_MAX_BYTES_V21)
		return core_error(mb->w->err, CORE_ERR_UNSUPPORTED,
						  "%s: a mini-block chunk of %zu bytes; file version 2.1 allows %d (values too wide)",
						  mb->w->what, *size, CHUNK_MAX_BYTES_V21);
	return CORE_OK;
}

static int
log2_exact(int64_t k)
{
	int			b = 0;

	while ((INT64_C(1) << b) < k)
		b++;
	return b;
}

/* flat{bits} as a CompressiveEncoding. */
static Le21__CompressiveEncoding *
cflat(WArena *ar, uint64_t bits)
{
	Le21__Flat *f = WNEW(ar, Le21__Flat, LE21__FLAT__INIT);
	Le21__CompressiveEncoding *e = WNEW(ar, Le21__CompressiveEncoding, LE21__COMPRESSIVE_ENCODING__INIT);

	if (e == NULL)
		return NULL;
	f->has_bits_per_value = 1;
	f->bits_per_value = bits;
	e->compression_case = LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
	e->flat = f;
	return e;
}

/* How the values of a column are described: flat, fsl(flat) or variable. */
static Le21__CompressiveEncoding *
value_encoding(WArena *ar, const LanceArray *a)
{
	Le21__CompressiveEncoding *e;

	switch (a->type->id)
	{
		case LANCE_TYPE_BOOL:
			return cflat(ar, 1);
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
			{
				Le21__Variable *v = WNEW(ar, Le21__Variable, LE21__VARIABLE__INIT);

				e = WNEW(ar, Le21__CompressiveEncoding, LE21__COMPRESSIVE_ENCODING__INIT);
				if (e == NULL)
					return NULL;
				v->offsets = cflat(ar, 32);
				e->compression_case = LE21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE;
				e->variable = v;
				return v->offsets ? e : NULL;
			}
		case LANCE_TYPE_FIXED_SIZE_LIST:
			{
				Le21__FixedSizeList *f = WNEW(ar, Le21__FixedSizeList, LE21__FIXED_SIZE_LIST__INIT);

				e = WNEW(ar, Le21__CompressiveEncoding, LE21__COMPRESSIVE_ENCODING__INIT);
				if (e == NULL)
					return NULL;
				f->has_items_per_value = 1;
				f->items_per_value = (uint64_t) a->type->fixed_size;
				f->values = cflat(ar, (uint64_t) a->type->item->byte_width * 8);
				e->compression_case = LE21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST;
				e->fixed_size_list = f;
				return f->values ? e : NULL;
			}
		default:
			return cflat(ar, (uint64_t) a->type->byte_width * 8);
	}
}

static bool
page_has_nulls(const LanceArray *a, int64_t start, int64_t n)
{
	bool		oom;
	uint8_t    *v = writer_validity(a, start, n, &oom);

	core_free(v);
	return v != NULL || oom;
}

static CoreStatus
mini_block_page(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p,
				Le21__PageLayout *layout)
{
	MiniBlock	mb;
	WOut		words;
	WOut		chunks;
	Le21__MiniBlockLayout *ml = WNEW(ar, Le21__MiniBlockLayout, LE21__MINI_BLOCK_LAYOUT__INIT);
	int32_t		layer_init[1 + WRITER_MAX_STRUCT_DEPTH];
	int32_t    *layers;
	CoreStatus	status = CORE_OK;
	int64_t		i = start;

	/* the item's layer, then one per enclosing struct (always nullable) */
	layer_init[0] = LAYER_ALL_VALID_ITEM;
	for (int d = 1; d <= w->struct_depth; d++)
		layer_init[d] = LAYER_NULLABLE_ITEM;
	layers = warena_new(ar, layer_init, (size_t) (1 + w->struct_depth) * sizeof(int32_t));
	if (layers == NULL)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	memset(&mb, 0, sizeof(mb));
	memset(&words, 0, sizeof(words));
	memset(&chunks, 0, sizeof(chunks));
	mb.w = w;
	mb.a = a;
	mb.variable = lance_type_has_offsets(a->type->id);
	mb.width = a->type->id == LANCE_TYPE_FIXED_SIZE_LIST
		? (int64_t) a->type->fixed_size * a->type->item->byte_width : a->type->byte_width;
	/* a struct's members always carry def levels: the struct may be null */
	mb.struct_depth = w->struct_depth;
	mb.has_def = mb.struct_depth > 0 || page_has_nulls(a, start, n);
	mb.large = w->version == LANCE_FILE_V2_2;

	while (i < start + n && status == CORE_OK)
	{
		int64_t		k = chunk_values(&mb, i, start + n);
		bool		last = i + k == start + n;
		size_t		size = 0;
		uint32_t	word;

		status = write_chunk(&mb, &chunks, i, k, &size);
		if (status != CORE_OK)
			break;
		word = (uint32_t) ((size / 8 - 1) << 4) | (last ? 0u : (uint32_t) log2_exact(k));
		if (!(mb.large ? wout_u32(&words, word) : wout_u16(&words, (uint16_t) word)))
			status = core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
		i += k;
	}
	if (status == CORE_OK &&
		!(writer_page_buffer(w, p, words.data, words.len) &&
		  writer_page_buffer(w, p, chunks.data, chunks.len)))
		status = core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	core_free(words.data);
	core_free(chunks.data);
	if (status != CORE_OK)
		return status;

	if (mb.has_def)
	{
		*layers = LAYER_NULLABLE_ITEM;
		ml->def_compression = cflat(ar, 16);
	}
	ml->value_compression = value_encoding(ar, a);
	ml->n_layers = (size_t) (1 + mb.struct_depth);
	ml->layers = layers;
	ml->has_num_buffers = 1;
	ml->num_buffers = 1;
	ml->has_num_items = 1;
	ml->num_items = (uint64_t) n;
	if (mb.large)
	{
		ml->has_has_large_chunk = 1;
		ml->has_large_chunk = 1;
	}
	layout->layout_case = LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
	layout->mini_block_layout = ml;
	return CORE_OK;
}

static CoreStatus
full_zip_page(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p,
			  Le21__PageLayout *layout)
{
	Le21__FullZipLayout *fz = WNEW(ar, Le21__FullZipLayout, LE21__FULL_ZIP_LAYOUT__INIT);
	int32_t    *layers = WNEW(ar, int32_t, {LAYER_ALL_VALID_ITEM});
	const LanceArray *items = a->children[0];
	int64_t		dim = a->type->fixed_size;
	int64_t		width = dim * items->type->byte_width;
	bool		has_def = page_has_nulls(a, start, n);
	WOut		zipped;
	bool		ok = layers != NULL;

	memset(&zipped, 0, sizeof(zipped));
	for (int64_t r = start; r < start + n && ok; r++)
	{
		uint8_t		control = lance_array_is_valid(a, r) ? 0 : 1;

		if (has_def)
			ok = wout_put(&zipped, &control, 1);
		ok = ok && wout_put(&zipped, items->values + r * width, (size_t) width);
	}
	ok = ok && writer_page_buffer(w, p, zipped.data, zipped.len);
	core_free(zipped.data);
	if (!ok)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	if (has_def)
	{
		*layers = LAYER_NULLABLE_ITEM;
		fz->has_bits_def = 1;
		fz->bits_def = 1;
	}
	fz->details_case = LE21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE;
	fz->bits_per_value = (uint32_t) (width * 8);
	fz->has_num_items = 1;
	fz->num_items = (uint32_t) n;
	fz->has_num_visible_items = 1;
	fz->num_visible_items = (uint32_t) n;
	fz->value_compression = value_encoding(ar, a);
	fz->n_layers = 1;
	fz->layers = layers;
	layout->layout_case = LE21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT;
	layout->full_zip_layout = fz;
	return CORE_OK;
}

/* Levels a list page may hold: one chunk, within its u16 fields. */
static void
list_chunk_limits(LanceFileVersion version, int64_t *max_levels, int64_t *max_value_bytes)
{
	if (version == LANCE_FILE_V2_1)
	{
		/* 8 header + 2 x 2 bytes a level + values within 32 KiB */
		*max_levels = LIST_MAX_LEVELS_V21;
		*max_value_bytes = CHUNK_MAX_BYTES_V21 - 16 - 4 * LIST_MAX_LEVELS_V21;
	}
	else
	{
		/* rep and def sizes are u16 byte counts */
		*max_levels = UINT16_MAX / 2;
		*max_value_bytes = LIST_MAX_VALUE_BYTES_V22;
	}
}

/*
 * Chunk bytes of list items [i, i + k): bits, fixed width (a whole
 * fixed-size list's for those), or variable-width.
 */
static int64_t
list_value_bytes(const LanceArray *items, int64_t i, int64_t k)
{
	if (lance_type_has_offsets(items->type->id))
		return (int64_t) variable_bytes(items, i, k);
	if (items->type->id == LANCE_TYPE_BOOL)
		return (k + 7) / 8;
	return k * items->type->byte_width;
}

CoreStatus
lance_list_row_check(LanceFileVersion version, const char *field, const LanceArray *a, int64_t r,
					 CoreError *err)
{
	const LanceArray *leaf = lance_list_leaf(a);
	int64_t		levels = lance_list_row_levels(a, r);
	int64_t		bytes = 0;
	int64_t		max_levels;
	int64_t		max_bytes;
	int64_t		first;
	int64_t		count;

	if (version == LANCE_FILE_V2_0)
		return CORE_OK;
	list_chunk_limits(version, &max_levels, &max_bytes);
	lance_list_leaf_range(a, r, r + 1, &first, &count);
	/* a list of structs has a page per member, each checked when written */
	if (leaf->type->id != LANCE_TYPE_STRUCT)
		bytes = list_value_bytes(leaf, first, count);
	if (levels <= max_levels && bytes <= max_bytes)
		return CORE_OK;
	return core_error(err, CORE_ERR_UNSUPPORTED,
					  "a value of Lance list field \"%s\" takes %" PRId64 " level pairs and %" PRId64 " value bytes, more than a list page holds in file version %s (%" PRId64 " level pairs, %" PRId64 " bytes)",
					  field, levels, bytes, lance_file_version_name(version), max_levels,
					  max_bytes);
}

/* The value bytes of fixed-width list items [i, i + k), in a new buffer. */
static uint8_t *
list_fixed_values(const LanceArray *items, int64_t i, int64_t k, size_t *len)
{
	int64_t		per = items->type->fixed_size;

	if (items->type->id == LANCE_TYPE_FIXED_SIZE_LIST)
		return writer_fixed_values(items->children[0], i * per, k * per, len);
	return writer_fixed_values(items, i, k, len);
}

int64_t
writer21_list_page_end(WFile *w, const LanceArray *a, const LanceArray *items, int64_t start)
{
	int64_t		max_levels;
	int64_t		max_bytes;
	int64_t		levels = 0;
	int64_t		end = start;

	list_chunk_limits(w->version, &max_levels, &max_bytes);
	while (end < a->length)
	{
		int64_t		rl = lance_list_row_levels(a, end);
		int64_t		first;
		int64_t		count;

		lance_list_leaf_range(a, start, end + 1, &first, &count);
		if (end > start &&
			(levels + rl > max_levels || list_value_bytes(items, first, count) > max_bytes))
			break;
		levels += rl;
		end++;
	}
	return end;
}

/*
 * The rep and def level buffers of rows [start, start + n) of a list of
 * lists, levels pairs in all.
 */
static bool
nested_list_levels(const LanceArray *a, int64_t start, int64_t n, int64_t levels, WOut *rep,
				   WOut *def)
{
	uint16_t   *r = core_malloc((size_t) (levels ? levels : 1) * sizeof(uint16_t));
	uint16_t   *d = core_malloc((size_t) (levels ? levels : 1) * sizeof(uint16_t));
	bool		ok = r != NULL && d != NULL;

	if (ok)
	{
		lance_list_levels(a, start, n, r, d);
		for (int64_t i = 0; i < levels && ok; i++)
			ok = wout_u16(rep, r[i]) && wout_u16(def, d[i]);
	}
	core_free(r);
	core_free(d);
	return ok;
}

/*
 * A page of a list (FORMAT.md 11.1, 15.1): one mini-block chunk with a
 * level pair per item or per null or empty list (rep 1 starts a row; def
 * 0 item, 1 null item, 2 null list, 3 empty list), the visible items'
 * values (flat, zeros for null items; or variable-width, empty for null
 * items: null items have value slots), and a repetition index saying the
 * chunk ends every row of the page.  For a member of a list's struct
 * items, items are the member's values and each enclosing struct adds a
 * layer between item and list (def 2 the innermost struct null, ..., the
 * list's levels after them), as for structs outside lists.  A list that
 * is a struct's member has the structs' layers after its own (a null
 * struct is one level pair, like a null list).  A list of lists has a second
 * list layer outside the first (list_levels.h): rep 2 starts a row, rep 1
 * an inner list, def 4 and 5 a null and an empty row; items are then the
 * inner lists' items.
 */
static CoreStatus
list_page(WFile *w, WArena *ar, const LanceArray *a, const LanceArray *items, int64_t start,
		  int64_t n, WPage *p, Le21__PageLayout *layout)
{
	bool		variable = lance_type_has_offsets(items->type->id);

	/* structs in the list's items (a member column), or around the list */
	int			item_depth = w->list_parent ? w->struct_depth : 0;
	int			row_depth = w->list_parent ? 0 : w->struct_depth;
	uint16_t	null_list = (uint16_t) (2 + item_depth);
	int			list_layers = lance_list_layers(a);
	int64_t		first;
	int64_t		nitems;
	int64_t		vbytes;
	int64_t		max_levels;
	int64_t		max_bytes;
	int64_t		levels = 0;
	Le21__MiniBlockLayout *ml = WNEW(ar, Le21__MiniBlockLayout, LE21__MINI_BLOCK_LAYOUT__INIT);
	int32_t		layer_init[3 + WRITER_MAX_STRUCT_DEPTH];
	int32_t    *layers;
	bool		large = w->version == LANCE_FILE_V2_2;
	WOut		rep;
	WOut		def;
	WOut		chunk;
	WOut		word;
	uint64_t	rep_index[2] = {(uint64_t) n, 0};
	size_t		len;
	uint8_t    *vals = NULL;
	bool		ok;

	/* list_levels.c knows no struct layers: the schema check keeps them apart */
	if (list_layers == 2 && w->struct_depth > 0)
		return core_error(w->err, CORE_ERR_INVALID,
						  "%s: a list of lists in or of structs reached the page encoder", w->what);
	lance_list_leaf_range(a, start, start + n, &first, &nitems);
	vbytes = list_value_bytes(items, first, nitems);
	for (int d = 0; d <= item_depth; d++)
		layer_init[d] = LAYER_NULLABLE_ITEM;
	for (int d = 1; d <= list_layers; d++)
		layer_init[item_depth + d] = LAYER_NULL_AND_EMPTY_LIST;
	for (int d = 0; d < row_depth; d++)
		layer_init[item_depth + 1 + list_layers + d] = LAYER_NULLABLE_ITEM;
	layers = warena_new(ar, layer_init,
						(size_t) (item_depth + 1 + list_layers + row_depth) * sizeof(int32_t));
	list_chunk_limits(w->version, &max_levels, &max_bytes);
	for (int64_t r = start; r < start + n; r++)
		levels += lance_list_row_levels(a, r);
	if (levels > max_levels || vbytes > max_bytes)
		return core_error(w->err, CORE_ERR_UNSUPPORTED,
						  "%s: a list of %" PRId64 " items (%" PRId64 " level pairs, %" PRId64 " bytes) is longer than one mini-block chunk holds in file version %s (%" PRId64 " level pairs, %" PRId64 " bytes)",
						  w->what, nitems, levels, vbytes, lance_file_version_name(w->version),
						  max_levels, max_bytes);
	memset(&rep, 0, sizeof(rep));
	memset(&def, 0, sizeof(def));
	memset(&chunk, 0, sizeof(chunk));
	memset(&word, 0, sizeof(word));
	ok = ml != NULL && layers != NULL;
	if (ok && list_layers == 2)
		ok = nested_list_levels(a, start, n, levels, &rep, &def);
	for (int64_t r = start; r < start + n && ok && list_layers == 1; r++)
	{
		int64_t		k = lance_array_offset(a, r + 1) - lance_array_offset(a, r);
		int64_t		off = lance_array_offset(a, r);

		if (k == 0)
		{
			int			up = row_depth > 0 ? writer_struct_null_level(w, r) : 0;

			ok = wout_u16(&rep, 1) &&
				wout_u16(&def, (uint16_t) (up > 0 ? null_list + up
										   : lance_array_is_valid(a, r) ? null_list + 1 : null_list));
			continue;
		}
		for (int64_t j = 0; j < k && ok; j++)
		{
			int			level = item_depth > 0 ? writer_struct_null_level(w, off + j) : 0;

			ok = wout_u16(&rep, j == 0 ? 1 : 0) &&
				wout_u16(&def, (uint16_t) (level > 0 ? level
										   : lance_array_is_valid(items, off + j) ? 0 : 1));
		}
	}
	if (ok && !variable)
	{
		vals = list_fixed_values(items, first, nitems, &len);
		ok = vals != NULL || nitems == 0;
	}
	ok = ok && wout_u16(&chunk, (uint16_t) levels) && wout_u16(&chunk, (uint16_t) rep.len) &&
		wout_u16(&chunk, (uint16_t) def.len);
	ok = ok && (large ? wout_u32(&chunk, (uint32_t) vbytes) : wout_u16(&chunk, (uint16_t) vbytes));
	ok = ok && pad8(&chunk) && wout_put(&chunk, rep.data, rep.len) && pad8(&chunk) &&
		wout_put(&chunk, def.data, def.len) && pad8(&chunk);
	if (ok && variable)
	{
		CoreStatus	status = put_variable(w, items, first, nitems, (size_t) vbytes, &chunk);

		if (status != CORE_OK)
		{
			core_free(rep.data);
			core_free(def.data);
			core_free(chunk.data);
			return status;
		}
	}
	else
		ok = ok && (nitems == 0 || wout_put(&chunk, vals, (size_t) vbytes));
	ok = ok && pad8(&chunk);
	/* the last (only) chunk: its value count comes from num_items */
	ok = ok && (large ? wout_u32(&word, (uint32_t) ((chunk.len / 8 - 1) << 4))
				: wout_u16(&word, (uint16_t) ((chunk.len / 8 - 1) << 4)));
	ok = ok && writer_page_buffer(w, p, word.data, word.len) &&
		writer_page_buffer(w, p, chunk.data, chunk.len) &&
		writer_page_buffer(w, p, rep_index, sizeof(rep_index));
	core_free(vals);
	core_free(rep.data);
	core_free(def.data);
	core_free(chunk.data);
	core_free(word.data);
	if (!ok)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	ml->rep_compression = cflat(ar, 16);
	ml->def_compression = cflat(ar, 16);
	ml->value_compression = value_encoding(ar, items);
	ml->n_layers = (size_t) (item_depth + 1 + list_layers + row_depth);
	ml->layers = layers;
	ml->has_num_buffers = 1;
	ml->num_buffers = 1;
	ml->has_repetition_index_depth = 1;
	ml->repetition_index_depth = 1;
	ml->has_num_items = 1;
	ml->num_items = (uint64_t) nitems;
	if (large)
	{
		ml->has_has_large_chunk = 1;
		ml->has_large_chunk = 1;
	}
	layout->layout_case = LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
	layout->mini_block_layout = ml;
	return CORE_OK;
}

CoreStatus
writer21_page(WFile *w, const LanceArray *a, int64_t start, int64_t n, WPage *p)
{
	WArena		ar;
	Le21__PageLayout *layout;
	CoreStatus	status;

	memset(&ar, 0, sizeof(ar));
	layout = WNEW(&ar, Le21__PageLayout, LE21__PAGE_LAYOUT__INIT);
	if (layout == NULL)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	if (w->list_parent != NULL)
		status = list_page(w, &ar, w->list_parent, a, start, n, p, layout);
	else if (a->type->id == LANCE_TYPE_LIST)
		status = list_page(w, &ar, a, lance_list_leaf(a), start, n, p, layout);
	else if (a->type->id == LANCE_TYPE_FIXED_SIZE_LIST &&
			 (int64_t) a->type->fixed_size * a->type->item->byte_width > FULL_ZIP_MIN_WIDTH)
		status = full_zip_page(w, &ar, a, start, n, p, layout);
	else
		status = mini_block_page(w, &ar, a, start, n, p, layout);
	if (status == CORE_OK &&
		(ar.failed ||
		 !writer_pack_any("/lance.encodings21.PageLayout", &layout->base, &p->enc, &p->enc_len)))
		status = core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	warena_free(&ar);
	return status;
}
