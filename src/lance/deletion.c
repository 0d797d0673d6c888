/*-------------------------------------------------------------------------
 *
 * deletion.c
 *	  Deletion files: Arrow IPC (.arrow) and Roaring (.bin), read and
 *	  written (FORMAT.md 7.2).
 *
 * No Arrow library is at hand, so the Arrow IPC file is parsed here: the
 * footer (a flatbuffer) names the schema and the record batches; each
 * batch is an encapsulated message (0xFFFFFFFF, length, flatbuffer
 * Message) followed by its body.  Only what a deletion file needs is
 * understood: one non-null 32-bit integer column, buffers raw or
 * compressed per buffer (BodyCompression: int64 uncompressed length, -1
 * for raw, then an LZ4 frame or a zstd frame).
 *
 * Flatbuffers are read through FbOpen/FbField and friends, which check
 * every offset against the buffer before following it, so a hostile file
 * cannot steer a read outside the bytes it came in.  Flatbuffers are
 * written with a small forward builder (FbwTable and friends): each table
 * is laid out as its vtable, then the table, then the objects it refers
 * to, so every reference points forward as the format requires.
 *
 * A Roaring file is checked structurally here (cookie, container headers,
 * sorted keys and values, cardinalities) before CRoaring deserializes it,
 * so the library only ever sees a well-formed bitmap.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include <lz4frame.h>
#include <roaring/roaring.h>
#include <zstd.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/codec_int.h"
#include "lance/deletion.h"

struct LanceDeletionSet
{
	roaring_bitmap_t *bitmap;
};

/* Arrow's flatbuffer enums and field numbers used below. */
#define ARROW_MAGIC "ARROW1"
#define ARROW_CONTINUATION 0xFFFFFFFFu
#define ARROW_HEADER_SCHEMA 1
#define ARROW_HEADER_RECORD_BATCH 3
#define ARROW_TYPE_INT 2
#define ARROW_CODEC_LZ4_FRAME 0
#define ARROW_CODEC_ZSTD 1
#define ARROW_METADATA_V5 4

/* Roaring portable format. */
#define ROARING_COOKIE_NO_RUNS 12346
#define ROARING_COOKIE_RUNS 12347
#define ROARING_NO_OFFSET_THRESHOLD 4
#define ROARING_ARRAY_MAX 4096

/* ---------------------------------------------------------------------
 * The set
 * ---------------------------------------------------------------------
 */

LanceDeletionSet *
lance_deletion_new(void)
{
	LanceDeletionSet *set = core_calloc(1, sizeof(LanceDeletionSet));

	if (set == NULL)
		return NULL;
	set->bitmap = roaring_bitmap_create();
	if (set->bitmap == NULL)
	{
		core_free(set);
		return NULL;
	}
	return set;
}

LanceDeletionSet *
lance_deletion_copy(const LanceDeletionSet *set)
{
	LanceDeletionSet *copy = core_calloc(1, sizeof(LanceDeletionSet));

	if (copy == NULL)
		return NULL;
	copy->bitmap = roaring_bitmap_copy(set->bitmap);
	if (copy->bitmap == NULL)
	{
		core_free(copy);
		return NULL;
	}
	return copy;
}

void
lance_deletion_free(LanceDeletionSet *set)
{
	if (set == NULL)
		return;
	roaring_bitmap_free(set->bitmap);
	core_free(set);
}

bool
lance_deletion_contains(const LanceDeletionSet *set, uint32_t k)
{
	return roaring_bitmap_contains(set->bitmap, k);
}

uint64_t
lance_deletion_count(const LanceDeletionSet *set)
{
	return roaring_bitmap_get_cardinality(set->bitmap);
}

bool
lance_deletion_max(const LanceDeletionSet *set, uint32_t *max)
{
	if (roaring_bitmap_is_empty(set->bitmap))
		return false;
	*max = roaring_bitmap_maximum(set->bitmap);
	return true;
}

void
lance_deletion_add(LanceDeletionSet *set, uint32_t k)
{
	roaring_bitmap_add(set->bitmap, k);
}

/*
 * One offset at a time: CRoaring's range add makes run containers, and
 * the Roaring files written here keep the run-free form LanceDB writes.
 */
void
lance_deletion_add_range(LanceDeletionSet *set, uint64_t start, uint64_t end)
{
	for (uint64_t k = start; k < end && k <= UINT32_MAX; k++)
		roaring_bitmap_add(set->bitmap, (uint32_t) k);
}

void
lance_deletion_merge(LanceDeletionSet *set, const LanceDeletionSet *other)
{
	roaring_bitmap_or_inplace(set->bitmap, other->bitmap);
}

size_t
lance_deletion_next(const LanceDeletionSet *set, uint32_t from,
					uint32_t *out, size_t cap)
{
	roaring_uint32_iterator_t it;
	size_t		got = 0;

	roaring_init_iterator(set->bitmap, &it);
	if (!roaring_move_uint32_iterator_equalorlarger(&it, from))
		return 0;
	while (got < cap && it.has_value)
	{
		uint32_t	chunk = cap - got > UINT32_MAX ? UINT32_MAX : (uint32_t) (cap - got);

		got += roaring_read_uint32_iterator(&it, out + got, chunk);
	}
	return got;
}

void
lance_deletion_mask(const LanceDeletionSet *set, uint64_t start, size_t n,
					uint8_t *mask)
{
	uint32_t	buf[256];
	uint64_t	end = start + n;
	uint64_t	from = start;

	memset(mask, 0, n);
	while (from <= UINT32_MAX && from < end)
	{
		size_t		got = lance_deletion_next(set, (uint32_t) from, buf, 256);
		size_t		i;

		for (i = 0; i < got; i++)
		{
			if (buf[i] >= end)
				return;
			mask[buf[i] - start] = 1;
		}
		if (got < 256)
			return;
		from = (uint64_t) buf[got - 1] + 1;
	}
}

LanceDeletionFileType
lance_deletion_preferred_type(const LanceDeletionSet *set)
{
	return lance_deletion_count(set) <= 5000 ? LANCE_DELETION_ARROW :
		LANCE_DELETION_BITMAP;
}

/* ---------------------------------------------------------------------
 * Reading flatbuffers, bounds-checked
 * ---------------------------------------------------------------------
 */
typedef struct FbBuf
{
	const uint8_t *p;
	size_t		len;
} FbBuf;

typedef struct FbTable
{
	const FbBuf *fb;
	size_t		pos;			/* the table's start */
	size_t		vt;				/* its vtable's start */
	uint16_t	vt_len;
} FbTable;

/* Open the table at pos; false when it or its vtable is out of bounds. */
static bool
FbOpen(const FbBuf *fb, size_t pos, FbTable *t)
{
	int64_t		vt;

	if (!codec_has(fb->len, pos, 4))
		return false;
	vt = (int64_t) pos - (int32_t) codec_ld32(fb->p + pos);
	if (vt < 0 || !codec_has(fb->len, (size_t) vt, 4))
		return false;
	t->fb = fb;
	t->pos = pos;
	t->vt = (size_t) vt;
	t->vt_len = codec_ld16(fb->p + vt);
	if (t->vt_len < 4 || !codec_has(fb->len, t->vt, t->vt_len))
		return false;
	return true;
}

/* Open the root table of a flatbuffer. */
static bool
FbRoot(const FbBuf *fb, FbTable *t)
{
	if (fb->len < 4)
		return false;
	return FbOpen(fb, codec_ld32(fb->p), t);
}

/* Where field `field` of t is stored, 0 when absent. */
static size_t
FbField(const FbTable *t, unsigned field)
{
	size_t		slot = 4 + 2 * (size_t) field;
	uint16_t	off;

	if (slot + 2 > t->vt_len)
		return 0;
	off = codec_ld16(t->fb->p + t->vt + slot);
	return off ? t->pos + off : 0;
}

/* A scalar field of `size` bytes, def when absent; false if out of bounds. */
static bool
FbScalar(const FbTable *t, unsigned field, unsigned size, uint64_t def,
		 uint64_t *out)
{
	size_t		at = FbField(t, field);

	if (at == 0)
	{
		*out = def;
		return true;
	}
	if (!codec_has(t->fb->len, at, size))
		return false;
	*out = codec_ld(t->fb->p + at, size);
	return true;
}

/* Follow the uoffset at `at` (absolute); false if it leaves the buffer. */
static bool
FbDeref(const FbBuf *fb, size_t at, size_t *target)
{
	uint32_t	off;

	if (!codec_has(fb->len, at, 4))
		return false;
	off = codec_ld32(fb->p + at);
	if (off > fb->len - at)
		return false;
	*target = at + off;
	return true;
}

/* The table in field `field`; *present false when the field is absent. */
static bool
FbSubTable(const FbTable *t, unsigned field, FbTable *sub, bool *present)
{
	size_t		at = FbField(t, field);
	size_t		target;

	*present = at != 0;
	if (at == 0)
		return true;
	return FbDeref(t->fb, at, &target) && FbOpen(t->fb, target, sub);
}

/*
 * The vector in field `field`: *start = its first element, *count its
 * length (0 when absent), checked to fit with elem_size bytes each.
 */
static bool
FbVector(const FbTable *t, unsigned field, size_t elem_size, size_t *start,
		 size_t *count)
{
	size_t		at = FbField(t, field);
	size_t		target;
	uint32_t	n;

	*start = 0;
	*count = 0;
	if (at == 0)
		return true;
	if (!FbDeref(t->fb, at, &target) || !codec_has(t->fb->len, target, 4))
		return false;
	n = codec_ld32(t->fb->p + target);
	if (elem_size && n > (t->fb->len - target - 4) / elem_size)
		return false;
	*start = target + 4;
	*count = n;
	return true;
}

/* ---------------------------------------------------------------------
 * Reading the Arrow IPC file
 * ---------------------------------------------------------------------
 */

/*
 * Check the schema: a single field of type Int with 32 bits, little
 * endian.  (The protobuf says Int32; LanceDB writes UInt32.)
 */
static CoreStatus
CheckSchema(const FbTable *schema, CoreError *err)
{
	const char *enc = "arrow deletion file";
	uint64_t	endianness;
	size_t		fields;
	size_t		nfields;
	size_t		field_pos;
	FbTable		field;
	FbTable		type;
	uint64_t	type_type;
	uint64_t	bit_width;
	bool		present;

	if (!FbScalar(schema, 0, 2, 0, &endianness) ||
		!FbVector(schema, 1, 4, &fields, &nfields))
		return core_error(err, CORE_ERR_CORRUPT, "%s: schema is malformed", enc);
	if (endianness != 0)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: big-endian data is not supported", enc);
	if (nfields != 1)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: schema has %zu fields, expected 1", enc, nfields);
	if (!FbDeref(schema->fb, fields, &field_pos) ||
		!FbOpen(schema->fb, field_pos, &field) ||
		!FbScalar(&field, 2, 1, 0, &type_type) ||
		!FbSubTable(&field, 3, &type, &present))
		return core_error(err, CORE_ERR_CORRUPT, "%s: schema field is malformed", enc);
	if (type_type != ARROW_TYPE_INT || !present ||
		!FbScalar(&type, 0, 4, 0, &bit_width) || bit_width != 32)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: the column is not a 32-bit integer (type %llu)",
						  enc, (unsigned long long) type_type);
	return CORE_OK;
}

/*
 * The bytes of buffer `index` of a batch body, decompressed if the batch
 * says so.  *owned is set when *data was allocated (the caller frees it).
 */
static CoreStatus
BatchBuffer(const uint8_t *body, size_t body_len, const FbTable *batch,
			size_t index, int codec, size_t max_len, const uint8_t **data,
			size_t *len, uint8_t **owned, CoreError *err)
{
	const char *enc = "arrow deletion file";
	size_t		bufs;
	size_t		nbufs;
	uint64_t	off;
	uint64_t	blen;
	int64_t		raw_len;
	uint8_t    *dst;
	CoreStatus	st;

	*owned = NULL;
	if (!FbVector(batch, 2, 16, &bufs, &nbufs))
		return core_error(err, CORE_ERR_CORRUPT, "%s: batch buffers are malformed", enc);
	if (index >= nbufs)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: batch has %zu buffers, expected %zu", enc, nbufs, index + 1);
	off = codec_ld64(batch->fb->p + bufs + 16 * index);
	blen = codec_ld64(batch->fb->p + bufs + 16 * index + 8);
	if (off > body_len || blen > body_len - off)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: buffer %zu at %llu+%llu is outside the %zu-byte body",
						  enc, index, (unsigned long long) off,
						  (unsigned long long) blen, body_len);
	*data = body + off;
	*len = (size_t) blen;
	if (codec < 0 || blen == 0)
		return CORE_OK;
	/* compressed body: int64 uncompressed length, -1 = stored raw */
	if (blen < 8)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: compressed buffer %zu has %llu bytes, less than its length prefix",
						  enc, index, (unsigned long long) blen);
	raw_len = (int64_t) codec_ld64(*data);
	*data += 8;
	*len -= 8;
	if (raw_len == -1)
		return CORE_OK;
	if (raw_len < 0 || (uint64_t) raw_len > max_len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: buffer %zu claims %lld uncompressed bytes, at most %zu expected",
						  enc, index, (long long) raw_len, max_len);
	dst = core_malloc((size_t) raw_len);
	if (dst == NULL)
		return core_error(err, CORE_ERR_NOMEM,
						  "%s: cannot allocate %lld bytes", enc, (long long) raw_len);
	if (codec == ARROW_CODEC_ZSTD)
		st = lance_zstd_decompress_exact(*data, *len, dst, (size_t) raw_len, err);
	else
		st = lance_lz4frame_decompress_exact(*data, *len, dst, (size_t) raw_len, err);
	if (st != CORE_OK)
	{
		core_free(dst);
		return core_error_prefix(err, "%s: buffer %zu", enc, index);
	}
	*data = dst;
	*len = (size_t) raw_len;
	*owned = dst;
	return CORE_OK;
}

/*
 * Add the offsets of the record batch described by one footer Block.
 */
static CoreStatus
ReadBatch(const uint8_t *buf, size_t data_end, const uint8_t *block,
		  roaring_bitmap_t *bitmap, uint64_t *total, CoreError *err)
{
	const char *enc = "arrow deletion file";
	uint64_t	offset = codec_ld64(block);
	uint32_t	meta_len = codec_ld32(block + 8);
	uint64_t	body_len = codec_ld64(block + 16);
	size_t		prefix;
	uint32_t	fb_len;
	FbBuf		fb;
	FbTable		msg;
	FbTable		batch;
	FbTable		compression;
	bool		present;
	uint64_t	header_type;
	uint64_t	rows;
	uint64_t	codec_id;
	int			codec = -1;
	size_t		nodes;
	size_t		nnodes;
	const uint8_t *values = NULL;
	size_t		values_len = 0;
	uint8_t    *owned;
	CoreStatus	st;

	if (offset > data_end || meta_len > data_end - offset ||
		body_len > data_end - offset - meta_len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: record batch at %llu (%u + %llu bytes) passes the footer at %zu",
						  enc, (unsigned long long) offset, meta_len,
						  (unsigned long long) body_len, data_end);
	if (meta_len < 8)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: record batch metadata at %llu is %u bytes",
						  enc, (unsigned long long) offset, meta_len);
	/* 0xFFFFFFFF + length since Arrow 0.15; the length alone before */
	if (codec_ld32(buf + offset) == ARROW_CONTINUATION)
	{
		fb_len = codec_ld32(buf + offset + 4);
		prefix = 8;
	}
	else
	{
		fb_len = codec_ld32(buf + offset);
		prefix = 4;
	}
	if (fb_len > meta_len - prefix)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: message at %llu has %u bytes of metadata in a %u-byte block",
						  enc, (unsigned long long) offset, fb_len, meta_len);
	fb.p = buf + offset + prefix;
	fb.len = fb_len;
	if (!FbRoot(&fb, &msg) || !FbScalar(&msg, 1, 1, 0, &header_type) ||
		!FbSubTable(&msg, 2, &batch, &present) || !present)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: message at %llu is malformed", enc, (unsigned long long) offset);
	if (header_type != ARROW_HEADER_RECORD_BATCH)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: message at %llu is of type %llu, not a record batch",
						  enc, (unsigned long long) offset, (unsigned long long) header_type);
	if (!FbScalar(&batch, 0, 8, 0, &rows) || !FbVector(&batch, 1, 16, &nodes, &nnodes) ||
		!FbSubTable(&batch, 3, &compression, &present))
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: record batch at %llu is malformed", enc, (unsigned long long) offset);
	if (present)
	{
		if (!FbScalar(&compression, 0, 1, 0, &codec_id))
			return core_error(err, CORE_ERR_CORRUPT, "%s: body compression is malformed", enc);
		if (codec_id != ARROW_CODEC_LZ4_FRAME && codec_id != ARROW_CODEC_ZSTD)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: body compression codec %llu is not supported",
							  enc, (unsigned long long) codec_id);
		codec = (int) codec_id;
	}
	if (nnodes != 1)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: record batch has %zu field nodes, expected 1", enc, nnodes);
	if (codec_ld64(fb.p + nodes) != rows)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: column length %llu differs from the batch length %llu", enc,
						  (unsigned long long) codec_ld64(fb.p + nodes),
						  (unsigned long long) rows);
	if (codec_ld64(fb.p + nodes + 8) != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: the column has %llu nulls, none are allowed", enc,
						  (unsigned long long) codec_ld64(fb.p + nodes + 8));
	if (rows > LANCE_DELETION_ARROW_MAX_ROWS - *total)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %llu deleted offsets, more than the %d an Arrow deletion file may hold",
						  enc, (unsigned long long) (rows + *total),
						  LANCE_DELETION_ARROW_MAX_ROWS);
	st = BatchBuffer(buf + offset + meta_len, (size_t) body_len, &batch, 1, codec,
					 (size_t) rows * 4 + 64, &values, &values_len, &owned, err);
	if (st != CORE_OK)
		return st;
	if (values_len < rows * 4)
	{
		core_free(owned);
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: values buffer has %zu bytes, %llu offsets need %llu",
						  enc, values_len, (unsigned long long) rows,
						  (unsigned long long) rows * 4);
	}
	if (rows > 0)
	{
		/* roaring_bitmap_add_many wants aligned uint32s */
		uint32_t   *vals = core_mallocarray((size_t) rows, sizeof(uint32_t));

		if (vals == NULL)
		{
			core_free(owned);
			return core_error(err, CORE_ERR_NOMEM, "%s: cannot allocate %llu offsets",
							  enc, (unsigned long long) rows);
		}
		memcpy(vals, values, (size_t) rows * 4);
		roaring_bitmap_add_many(bitmap, (size_t) rows, vals);
		core_free(vals);
	}
	core_free(owned);
	*total += rows;
	return CORE_OK;
}

CoreStatus
lance_deletion_read_arrow(const uint8_t *buf, size_t len,
						  LanceDeletionSet **out, CoreError *err)
{
	const char *enc = "arrow deletion file";
	int32_t		footer_len;
	size_t		footer_start;
	FbBuf		fb;
	FbTable		footer;
	FbTable		schema;
	bool		present;
	size_t		blocks;
	size_t		nblocks;
	size_t		i;
	uint64_t	total = 0;
	LanceDeletionSet *set;
	CoreStatus	st;

	*out = NULL;
	/* magic, 2 bytes of padding, ..., footer, i32 footer length, magic */
	if (len < 8 + 4 + 6 || memcmp(buf, ARROW_MAGIC, 6) != 0 ||
		memcmp(buf + len - 6, ARROW_MAGIC, 6) != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: no ARROW1 magic at both ends of its %zu bytes", enc, len);
	footer_len = (int32_t) codec_ld32(buf + len - 10);
	if (footer_len <= 0 || (size_t) footer_len > len - 10 - 8)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: footer length %d at offset %zu does not fit the file",
						  enc, footer_len, len - 10);
	footer_start = len - 10 - (size_t) footer_len;
	fb.p = buf + footer_start;
	fb.len = (size_t) footer_len;
	if (!FbRoot(&fb, &footer) || !FbSubTable(&footer, 1, &schema, &present) ||
		!FbVector(&footer, 3, 24, &blocks, &nblocks))
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: footer at offset %zu is malformed", enc, footer_start);
	if (!present)
		return core_error(err, CORE_ERR_CORRUPT, "%s: footer has no schema", enc);
	st = CheckSchema(&schema, err);
	if (st != CORE_OK)
		return st;
	set = lance_deletion_new();
	if (set == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: cannot allocate a set", enc);
	for (i = 0; i < nblocks; i++)
	{
		st = ReadBatch(buf, footer_start, fb.p + blocks + 24 * i, set->bitmap,
					   &total, err);
		if (st != CORE_OK)
		{
			lance_deletion_free(set);
			return st;
		}
	}
	*out = set;
	return CORE_OK;
}

/* ---------------------------------------------------------------------
 * Reading Roaring
 * ---------------------------------------------------------------------
 */

/*
 * Walk a portable-format bitmap and check everything CRoaring would
 * trust: sizes, key order, value order, run bounds, cardinalities.
 */
static CoreStatus
CheckRoaring(const uint8_t *buf, size_t len, CoreError *err)
{
	const char *enc = "roaring deletion file";
	uint32_t	cookie;
	size_t		size;
	size_t		pos;
	size_t		runmap = 0;
	bool		has_runs;
	size_t		header;
	size_t		i;
	int64_t		prev_key = -1;

	if (len < 4)
		return codec_short(err, enc, "the cookie", 0, 4, len);
	cookie = codec_ld32(buf);
	if ((cookie & 0xFFFF) == ROARING_COOKIE_RUNS)
	{
		has_runs = true;
		size = (cookie >> 16) + 1;
		runmap = 4;
		pos = 4 + (size + 7) / 8;
	}
	else if (cookie == ROARING_COOKIE_NO_RUNS)
	{
		has_runs = false;
		if (len < 8)
			return codec_short(err, enc, "the container count", 4, 4, len);
		size = codec_ld32(buf + 4);
		if (size > 65536)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: %zu containers, at most 65536", enc, size);
		pos = 8;
	}
	else
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: cookie %08x is not a Roaring bitmap's", enc, cookie);
	if (pos > len)
		return codec_short(err, enc, "the run-container bitmap", 4, pos - 4, len);
	header = pos;
	pos += size * 4;
	if (!has_runs || size >= ROARING_NO_OFFSET_THRESHOLD)
		pos += size * 4;		/* offset header, not needed to read */
	if (pos > len)
		return codec_short(err, enc, "the container headers", header,
						   pos - header, len);
	for (i = 0; i < size; i++)
	{
		uint16_t	key = codec_ld16(buf + header + 4 * i);
		size_t		card = (size_t) codec_ld16(buf + header + 4 * i + 2) + 1;
		bool		is_run = has_runs && (buf[runmap + i / 8] >> (i % 8)) & 1;

		if ((int64_t) key <= prev_key)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: container %zu key %u is not above the previous %lld",
							  enc, i, key, (long long) prev_key);
		prev_key = key;
		if (is_run)
		{
			size_t		nruns;
			size_t		r;
			size_t		sum = 0;
			int64_t		prev_end = -1;

			if (!codec_has(len, pos, 2))
				return codec_short(err, enc, "a run count", pos, 2, len);
			nruns = codec_ld16(buf + pos);
			pos += 2;
			if (!codec_has(len, pos, nruns * 4))
				return codec_short(err, enc, "runs", pos, nruns * 4, len);
			for (r = 0; r < nruns; r++)
			{
				uint32_t	start = codec_ld16(buf + pos + 4 * r);
				uint32_t	extra = codec_ld16(buf + pos + 4 * r + 2);

				if ((int64_t) start <= prev_end || start + extra > 65535)
					return core_error(err, CORE_ERR_CORRUPT,
									  "%s: container %zu run %zu (%u+%u) overlaps or overflows",
									  enc, i, r, start, extra);
				prev_end = start + extra;
				sum += extra + 1;
			}
			if (sum != card)
				return core_error(err, CORE_ERR_CORRUPT,
								  "%s: container %zu runs hold %zu values, header says %zu",
								  enc, i, sum, card);
			pos += nruns * 4;
		}
		else if (card > ROARING_ARRAY_MAX)
		{
			size_t		bits = 0;
			size_t		w;

			if (!codec_has(len, pos, 8192))
				return codec_short(err, enc, "a bitset container", pos, 8192, len);
			for (w = 0; w < 1024; w++)
				bits += __builtin_popcountll(codec_ld64(buf + pos + 8 * w));
			if (bits != card)
				return core_error(err, CORE_ERR_CORRUPT,
								  "%s: container %zu bitset holds %zu values, header says %zu",
								  enc, i, bits, card);
			pos += 8192;
		}
		else
		{
			size_t		v;

			if (!codec_has(len, pos, card * 2))
				return codec_short(err, enc, "an array container", pos, card * 2, len);
			for (v = 1; v < card; v++)
				if (codec_ld16(buf + pos + 2 * v) <= codec_ld16(buf + pos + 2 * v - 2))
					return core_error(err, CORE_ERR_CORRUPT,
									  "%s: container %zu values are not ascending at %zu",
									  enc, i, v);
			pos += card * 2;
		}
	}
	return CORE_OK;
}

CoreStatus
lance_deletion_read_bitmap(const uint8_t *buf, size_t len,
						   LanceDeletionSet **out, CoreError *err)
{
	LanceDeletionSet *set;
	CoreStatus	st;

	*out = NULL;
	st = CheckRoaring(buf, len, err);
	if (st != CORE_OK)
		return st;
	set = core_calloc(1, sizeof(LanceDeletionSet));
	if (set == NULL)
		return core_error(err, CORE_ERR_NOMEM, "roaring deletion file: cannot allocate");
	set->bitmap = roaring_bitmap_portable_deserialize_safe((const char *) buf, len);
	if (set->bitmap == NULL)
	{
		core_free(set);
		return core_error(err, CORE_ERR_CORRUPT,
						  "roaring deletion file: CRoaring rejected its %zu bytes", len);
	}
	*out = set;
	return CORE_OK;
}

CoreStatus
lance_deletion_read(LanceDeletionFileType type, const uint8_t *buf, size_t len,
					LanceDeletionSet **out, CoreError *err)
{
	switch (type)
	{
		case LANCE_DELETION_ARROW:
			return lance_deletion_read_arrow(buf, len, out, err);
		case LANCE_DELETION_BITMAP:
			return lance_deletion_read_bitmap(buf, len, out, err);
	}
	*out = NULL;
	return core_error(err, CORE_ERR_UNSUPPORTED,
					  "deletion file type %d is not supported (0 arrow, 1 bitmap)",
					  (int) type);
}

/* ---------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------
 */

CoreStatus
lance_deletion_write_bitmap(const LanceDeletionSet *set, uint8_t **out,
							size_t *out_len, CoreError *err)
{
	size_t		size = roaring_bitmap_portable_size_in_bytes(set->bitmap);
	uint8_t    *buf = core_malloc(size);

	if (buf == NULL)
		return core_error(err, CORE_ERR_NOMEM,
						  "roaring deletion file: cannot allocate %zu bytes", size);
	*out_len = roaring_bitmap_portable_serialize(set->bitmap, (char *) buf);
	*out = buf;
	return CORE_OK;
}

/*
 * A forward flatbuffer builder: bytes appended at the end, uoffsets
 * patched once their targets are placed.  `failed` records an allocation
 * failure so callers check once at the end.
 */
typedef struct Fbw
{
	uint8_t    *buf;
	size_t		len;
	size_t		cap;
	bool		failed;
} Fbw;

/* Make room for n more bytes; false (and failed) when out of memory. */
static bool
FbwReserve(Fbw *w, size_t n)
{
	size_t		cap = w->cap ? w->cap : 256;
	uint8_t    *grown;

	if (w->failed)
		return false;
	while (cap - w->len < n)
		cap *= 2;
	if (cap == w->cap)
		return true;
	grown = core_realloc(w->buf, cap);
	if (grown == NULL)
	{
		w->failed = true;
		return false;
	}
	w->buf = grown;
	w->cap = cap;
	return true;
}

/* Append n bytes (zeros when data is NULL); returns where they went. */
static size_t
FbwPut(Fbw *w, const void *data, size_t n)
{
	size_t		at = w->len;

	if (!FbwReserve(w, n))
		return at;
	if (data)
		memcpy(w->buf + at, data, n);
	else
		memset(w->buf + at, 0, n);
	w->len += n;
	return at;
}

/* Pad with zeros to a multiple of align (relative to base). */
static void
FbwAlign(Fbw *w, size_t base, size_t align)
{
	size_t		rem = (w->len - base) % align;

	if (rem)
		FbwPut(w, NULL, align - rem);
}

/* Point the uoffset at `at` to `target` (which lies after it). */
static void
FbwPatch(Fbw *w, size_t at, size_t target)
{
	if (!w->failed)
		codec_st32(w->buf + at, (uint32_t) (target - at));
}

typedef struct FbwField
{
	unsigned	size;			/* 1, 2, 4 or 8 bytes; 0 = absent */
	uint64_t	value;			/* scalars; references are patched later */
} FbwField;

/*
 * Write a table (its vtable first) of nfields fields and return the
 * table's position; where[i] receives the position of field i, for
 * patching references.  Fields are placed largest first so each is
 * aligned within a table that starts at a multiple of 8 from base.
 */
static size_t
FbwTable(Fbw *w, size_t base, const FbwField *fields, unsigned nfields,
		 size_t *where)
{
	uint16_t	offs[8] = {0};
	uint16_t	tsize = 4;
	uint16_t	vt_len = (uint16_t) (4 + 2 * nfields);
	size_t		vt;
	size_t		table;
	unsigned	size;
	unsigned	i;

	for (size = 8; size >= 1; size /= 2)
		for (i = 0; i < nfields; i++)
			if (fields[i].size == size)
			{
				tsize = (uint16_t) ((tsize + size - 1) / size * size);
				offs[i] = tsize;
				tsize = (uint16_t) (tsize + size);
			}
	tsize = (uint16_t) ((tsize + 3) / 4 * 4);
	/* the vtable, placed so that the table after it starts 8-aligned */
	FbwAlign(w, base, 2);
	while ((w->len - base + vt_len) % 8 != 0)
		FbwPut(w, NULL, 2);
	vt = FbwPut(w, &vt_len, 2);
	FbwPut(w, &tsize, 2);
	FbwPut(w, offs, 2 * nfields);
	table = FbwPut(w, NULL, tsize);
	if (w->failed)
		return table;
	codec_st32(w->buf + table, (uint32_t) (table - vt));
	for (i = 0; i < nfields; i++)
	{
		where[i] = fields[i].size ? table + offs[i] : 0;
		if (fields[i].size)
			memcpy(w->buf + table + offs[i], &fields[i].value, fields[i].size);
	}
	return table;
}

/*
 * Write a vector's length so its elements start aligned to `align` (from
 * base); returns the vector's position (that of the length).
 */
static size_t
FbwVector(Fbw *w, size_t base, size_t align, uint32_t count)
{
	while ((w->len - base + 4) % align != 0)
		FbwPut(w, NULL, 1);
	return FbwPut(w, &count, 4);
}

/*
 * Write the Schema table { fields: [Field { name "row_id", nullable
 * false, type Int { bitWidth 32, is_signed false }, children [] }] } and
 * return its position.
 */
static size_t
FbwSchema(Fbw *w, size_t base)
{
	FbwField	schema_f[2] = {{0, 0}, {4, 0}};
	FbwField	field_f[6] = {{4, 0}, {1, 0}, {1, ARROW_TYPE_INT}, {4, 0}, {0, 0}, {4, 0}};
	FbwField	int_f[2] = {{4, 32}, {1, 0}};
	size_t		schema_at[2];
	size_t		field_at[6];
	size_t		int_at[2];
	size_t		schema;
	size_t		slot;
	size_t		pos;
	uint32_t	name_len = 6;

	schema = FbwTable(w, base, schema_f, 2, schema_at);
	pos = FbwVector(w, base, 4, 1);
	FbwPatch(w, schema_at[1], pos);
	slot = FbwPut(w, NULL, 4);
	pos = FbwTable(w, base, field_f, 6, field_at);
	FbwPatch(w, slot, pos);
	FbwAlign(w, base, 4);
	pos = FbwPut(w, &name_len, 4);
	FbwPut(w, "row_id", 7);
	FbwPatch(w, field_at[0], pos);
	pos = FbwTable(w, base, int_f, 2, int_at);
	FbwPatch(w, field_at[3], pos);
	pos = FbwVector(w, base, 4, 0);
	FbwPatch(w, field_at[5], pos);
	return schema;
}

/*
 * Begin an encapsulated message: continuation, a length to fill in, and
 * the flatbuffer's root uoffset (whose position is the flatbuffer base).
 */
static size_t
FbwMessageStart(Fbw *w, size_t *root)
{
	uint32_t	cont = ARROW_CONTINUATION;
	size_t		start = FbwPut(w, &cont, 4);

	FbwPut(w, NULL, 4);
	*root = FbwPut(w, NULL, 4);
	return start;
}

/* End a message: pad to 8, fill in its length; returns its whole size. */
static size_t
FbwMessageEnd(Fbw *w, size_t start)
{
	FbwAlign(w, 0, 8);
	if (!w->failed)
		codec_st32(w->buf + start + 4, (uint32_t) (w->len - start - 8));
	return w->len - start;
}

/*
 * Compress one body buffer as Arrow wants it: int64 uncompressed length,
 * then a zstd frame or an LZ4 frame.
 */
static CoreStatus
ArrowCompress(int codec, const uint8_t *src, size_t len, uint8_t **out,
			  size_t *out_len, CoreError *err)
{
	size_t		bound;
	size_t		got;
	uint8_t    *dst;

	bound = 8 + (codec == ARROW_CODEC_ZSTD ? ZSTD_compressBound(len) :
				 LZ4F_compressFrameBound(len, NULL));
	dst = core_malloc(bound);
	if (dst == NULL)
		return core_error(err, CORE_ERR_NOMEM, "arrow deletion file: cannot allocate");
	codec_st64(dst, len);
	if (codec == ARROW_CODEC_ZSTD)
	{
		got = ZSTD_compress(dst + 8, bound - 8, src, len, ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(got))
		{
			core_free(dst);
			return core_error(err, CORE_ERR_INVALID, "zstd: %s", ZSTD_getErrorName(got));
		}
	}
	else
	{
		got = LZ4F_compressFrame(dst + 8, bound - 8, src, len, NULL);
		if (LZ4F_isError(got))
		{
			core_free(dst);
			return core_error(err, CORE_ERR_INVALID, "lz4 frame: %s",
							  LZ4F_getErrorName(got));
		}
	}
	*out = dst;
	*out_len = 8 + got;
	return CORE_OK;
}

CoreStatus
lance_deletion_write_arrow(const LanceDeletionSet *set,
						   LanceCompression body_compression,
						   uint8_t **out, size_t *out_len, CoreError *err)
{
	const char *enc = "arrow deletion file";
	uint64_t	rows = lance_deletion_count(set);
	size_t		values_len = (size_t) rows * 4;
	uint32_t   *values;
	uint8_t    *body;
	size_t		body_len;
	size_t		body_padded;
	Fbw			w = {0};
	int			codec = -1;
	size_t		root;
	size_t		msg;
	size_t		pos;
	size_t		batch_msg;
	size_t		batch_meta;
	size_t		footer;
	size_t		msg_at[4];
	size_t		batch_at[4];
	size_t		footer_at[4];
	size_t		cmp_at[2];
	uint64_t	pair[2];
	uint64_t	block[3];
	uint32_t	eos[2] = {ARROW_CONTINUATION, 0};
	int32_t		footer_len;

	*out = NULL;
	*out_len = 0;
	if (body_compression == LANCE_COMPRESSION_ZSTD)
		codec = ARROW_CODEC_ZSTD;
	else if (body_compression == LANCE_COMPRESSION_LZ4)
		codec = ARROW_CODEC_LZ4_FRAME;
	else if (body_compression != LANCE_COMPRESSION_NONE)
		return core_error(err, CORE_ERR_INVALID, "%s: unknown body compression %d",
						  enc, (int) body_compression);

	values = core_mallocarray(rows ? (size_t) rows : 1, sizeof(uint32_t));
	if (values == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: cannot allocate", enc);
	roaring_bitmap_to_uint32_array(set->bitmap, values);
	body = (uint8_t *) values;
	body_len = values_len;
	if (codec >= 0 && values_len > 0)
	{
		CoreStatus	st = ArrowCompress(codec, (uint8_t *) values, values_len,
									   &body, &body_len, err);

		core_free(values);
		values = NULL;
		if (st != CORE_OK)
			return st;
	}
	body_padded = (body_len + 7) / 8 * 8;

	FbwPut(&w, "ARROW1\0\0", 8);

	/* the schema message */
	msg = FbwMessageStart(&w, &root);
	{
		FbwField	f[4] = {{2, ARROW_METADATA_V5}, {1, ARROW_HEADER_SCHEMA}, {4, 0}, {8, 0}};

		pos = FbwTable(&w, root, f, 4, msg_at);
		FbwPatch(&w, root, pos);
		pos = FbwSchema(&w, root);
		FbwPatch(&w, msg_at[2], pos);
	}
	FbwMessageEnd(&w, msg);

	/* the record batch message and its body */
	batch_msg = FbwMessageStart(&w, &root);
	{
		FbwField	f[4] = {{2, ARROW_METADATA_V5}, {1, ARROW_HEADER_RECORD_BATCH},
		{4, 0}, {8, body_padded}};
		FbwField	b[4] = {{8, rows}, {4, 0}, {4, 0}, {codec >= 0 ? 4 : 0, 0}};
		FbwField	c[2] = {{1, (uint64_t) (codec >= 0 ? codec : 0)}, {1, 0}};

		pos = FbwTable(&w, root, f, 4, msg_at);
		FbwPatch(&w, root, pos);
		pos = FbwTable(&w, root, b, 4, batch_at);
		FbwPatch(&w, msg_at[2], pos);
		/* nodes: [{length rows, null_count 0}] */
		pos = FbwVector(&w, root, 8, 1);
		FbwPatch(&w, batch_at[1], pos);
		pair[0] = rows;
		pair[1] = 0;
		FbwPut(&w, pair, 16);
		/* buffers: validity (none), values */
		pos = FbwVector(&w, root, 8, 2);
		FbwPatch(&w, batch_at[2], pos);
		pair[0] = 0;
		pair[1] = 0;
		FbwPut(&w, pair, 16);
		pair[1] = body_len;
		FbwPut(&w, pair, 16);
		if (codec >= 0)
		{
			pos = FbwTable(&w, root, c, 2, cmp_at);
			FbwPatch(&w, batch_at[3], pos);
		}
	}
	batch_meta = FbwMessageEnd(&w, batch_msg);
	FbwPut(&w, body, body_len);
	FbwAlign(&w, 0, 8);
	FbwPut(&w, eos, 8);

	/* the footer */
	footer = FbwPut(&w, NULL, 4);
	{
		FbwField	f[4] = {{2, ARROW_METADATA_V5}, {4, 0}, {4, 0}, {4, 0}};

		pos = FbwTable(&w, footer, f, 4, footer_at);
		FbwPatch(&w, footer, pos);
		pos = FbwSchema(&w, footer);
		FbwPatch(&w, footer_at[1], pos);
		pos = FbwVector(&w, footer, 8, 0);
		FbwPatch(&w, footer_at[2], pos);
		pos = FbwVector(&w, footer, 8, 1);
		FbwPatch(&w, footer_at[3], pos);
		block[0] = batch_msg;
		block[1] = batch_meta;	/* i32 metaDataLength + 4 bytes of padding */
		block[2] = body_padded;
		FbwPut(&w, block, 24);
	}
	footer_len = (int32_t) (w.len - footer);
	FbwPut(&w, &footer_len, 4);
	FbwPut(&w, ARROW_MAGIC, 6);

	if (values)
		core_free(values);
	else
		core_free(body);
	if (w.failed)
	{
		core_free(w.buf);
		return core_error(err, CORE_ERR_NOMEM, "%s: cannot allocate", enc);
	}
	*out = w.buf;
	*out_len = w.len;
	return CORE_OK;
}
