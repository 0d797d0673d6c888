/*-------------------------------------------------------------------------
 *
 * test_lance_decode.c
 *	  2.1/2.2 pages built by hand: rep/def levels unravel into lists and
 *	  structs exactly as FORMAT.md section 11.1 describes, and malformed
 *	  pages are errors.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "lance/decode.h"
#include "lance_enc21.pb-c.h"
#include "unit.h"

/* Little-endian writers into a byte buffer. */
static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

/* A schema from (id, parent, name, type, nullable) rows. */
static LanceSchema *
schema_of(const LanceFieldSpec *specs, int n)
{
	LanceSchema *s = NULL;
	CoreError	err;

	if (lance_schema_build(specs, n, "test", &s, &err) != CORE_OK)
		return NULL;
	return s;
}

/* Encodings we build: flat of some width. */
static Le21__CompressiveEncoding *
flat_enc(Le21__CompressiveEncoding *e, Le21__Flat *f, unsigned bits)
{
	le21__compressive_encoding__init(e);
	le21__flat__init(f);
	f->has_bits_per_value = true;
	f->bits_per_value = bits;
	e->compression_case = LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
	e->flat = f;
	return e;
}

/*
 * One 2.1 mini-block page with a single chunk: u16 levels (rep and/or
 * def, NULL to leave out), int32 values.  Returns the packed PageLayout
 * and fills the page's two buffers.
 */
typedef struct MiniPage
{
	uint8_t    *layout;
	size_t		layout_len;
	uint8_t		meta[2];
	uint8_t		chunk[1024];
	ByteSpan	bufs[2];
	LancePageData data;
} MiniPage;

static void
mini_page(MiniPage *p, const uint16_t *rep, const uint16_t *def, int nlevels,
		  const int32_t *values, int nvalues, const int32_t *layers, int nlayers)
{
	Le21__PageLayout pl;
	Le21__MiniBlockLayout mb;
	Le21__CompressiveEncoding re;
	Le21__CompressiveEncoding de;
	Le21__CompressiveEncoding ve;
	Le21__Flat rf;
	Le21__Flat df;
	Le21__Flat vf;
	size_t		at = 0;
	size_t		hdr = 2 + (rep ? 2 : 0) + (def ? 2 : 0) + 2;

	le21__page_layout__init(&pl);
	le21__mini_block_layout__init(&mb);
	pl.layout_case = LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
	pl.mini_block_layout = &mb;
	if (rep)
		mb.rep_compression = flat_enc(&re, &rf, 16);
	if (def)
		mb.def_compression = flat_enc(&de, &df, 16);
	mb.value_compression = flat_enc(&ve, &vf, 32);
	mb.n_layers = (size_t) nlayers;
	mb.layers = (int32_t *) layers;
	mb.has_num_buffers = true;
	mb.num_buffers = 1;
	mb.has_num_items = true;
	mb.num_items = (uint64_t) nvalues;
	p->layout_len = le21__page_layout__get_packed_size(&pl);
	p->layout = malloc(p->layout_len);
	le21__page_layout__pack(&pl, p->layout);

	memset(p->chunk, 0xfe, sizeof(p->chunk));
	put16(p->chunk + at, (uint16_t) nlevels);
	at += 2;
	if (rep)
	{
		put16(p->chunk + at, (uint16_t) (nlevels * 2));
		at += 2;
	}
	if (def)
	{
		put16(p->chunk + at, (uint16_t) (nlevels * 2));
		at += 2;
	}
	put16(p->chunk + at, (uint16_t) (nvalues * 4));
	at = (hdr + 7) & ~(size_t) 7;
	if (rep)
	{
		for (int i = 0; i < nlevels; i++)
			put16(p->chunk + at + 2 * i, rep[i]);
		at = (at + (size_t) nlevels * 2 + 7) & ~(size_t) 7;
	}
	if (def)
	{
		for (int i = 0; i < nlevels; i++)
			put16(p->chunk + at + 2 * i, def[i]);
		at = (at + (size_t) nlevels * 2 + 7) & ~(size_t) 7;
	}
	for (int i = 0; i < nvalues; i++)
		put32(p->chunk + at + 4 * (size_t) i, (uint32_t) values[i]);
	at = (at + (size_t) nvalues * 4 + 7) & ~(size_t) 7;
	/* one (last) chunk of at bytes: (words - 1) << 4, count nibble 0 */
	put16(p->meta, (uint16_t) (((at / 8) - 1) << 4));
	p->bufs[0] = span_make(p->meta, 2);
	p->bufs[1] = span_make(p->chunk, at);
	p->data.num_buffers = 2;
	p->data.buffers = p->bufs;
	p->data.memory = NULL;
}

static const LanceFieldSpec list_schema[] = {
	{0, -1, "li", "list", true},
	{1, 0, "item", "int32", true},
};

UNIT_TEST(list_levels_unravel_to_the_worked_example)
{
	/* rows: null, [1], [2,3], [3,4,null], [], [5], [6,7], [7,8,null], [], [9] */
	static const uint16_t rep[] = {1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1};
	/*
	 * FORMAT.md prints the def levels as "... 0 0 0 0 1 3 0 0", one place
	 * off: [7,8,null] is levels 11-13, so its null item is level 13.
	 */
	static const uint16_t def[] = {2, 0, 0, 0, 0, 0, 1, 3, 0, 0, 0, 0, 0, 1, 3, 0};
	static const int32_t values[] = {1, 2, 3, 3, 4, 0, 5, 6, 7, 7, 8, 0, 9};
	static const int32_t layers[] = {3, 6};	/* NULLABLE_ITEM, NULL_AND_EMPTY_LIST */
	static const int64_t offsets[] = {0, 0, 1, 3, 6, 6, 7, 9, 12, 12, 13};
	LanceSchema *s = schema_of(list_schema, 2);
	const LanceField *li;
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	CHECK(s != NULL);
	li = lance_schema_top(s, 0);
	mini_page(&p, rep, def, 16, values, 13, layers, 2);
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(p.layout, p.layout_len),
								 &p.data, 10, li, li->children[0], &a, &err);
	free(p.layout);
	CHECK_MSG(status == CORE_OK, "%s", err.msg);
	CHECK(a->length == 10 && a->null_count == 1 && !lance_array_is_valid(a, 0));
	for (int i = 0; i <= 10; i++)
		CHECK_MSG(lance_array_offset(a, i) == offsets[i], "offset %d is %lld", i,
				  (long long) lance_array_offset(a, i));
	CHECK(a->children[0]->length == 13);
	CHECK(!lance_array_is_valid(a->children[0], 5) && !lance_array_is_valid(a->children[0], 11));
	CHECK(((const int32_t *) (const void *) a->children[0]->values)[12] == 9);
	CHECK(lance_array_is_valid(a, 4) && lance_array_offset(a, 5) == lance_array_offset(a, 4));
	lance_array_free(a);
	lance_schema_free(s);
}

UNIT_TEST(struct_levels_give_struct_and_member_nulls)
{
	/* rows: {x:1}, {x:null}, null, {x:4} */
	static const LanceFieldSpec spec[] = {{0, -1, "st", "struct", true}, {1, 0, "x", "int32", true}};
	static const uint16_t def[] = {0, 1, 2, 0};
	static const int32_t values[] = {1, 0, 0, 4};
	static const int32_t layers[] = {3, 3};
	LanceSchema *s = schema_of(spec, 2);
	const LanceField *st;
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	CHECK(s != NULL);
	st = lance_schema_top(s, 0);
	mini_page(&p, NULL, def, 4, values, 4, layers, 2);
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(p.layout, p.layout_len),
								 &p.data, 4, st, st->children[0], &a, &err);
	free(p.layout);
	CHECK_MSG(status == CORE_OK, "%s", err.msg);
	CHECK(a->length == 4 && a->num_children == 1);
	CHECK(lance_array_is_valid(a, 1) && !lance_array_is_valid(a, 2));
	CHECK(lance_array_is_valid(a->children[0], 0) && !lance_array_is_valid(a->children[0], 1));
	CHECK(((const int32_t *) (const void *) a->children[0]->values)[3] == 4);
	lance_array_free(a);
	lance_schema_free(s);
}

UNIT_TEST(repetition_level_above_the_list_depth_is_corrupt)
{
	static const uint16_t rep[] = {1, 2};
	static const uint16_t def[] = {0, 0};
	static const int32_t values[] = {1, 2};
	static const int32_t layers[] = {3, 6};
	LanceSchema *s = schema_of(list_schema, 2);
	const LanceField *li = lance_schema_top(s, 0);
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	mini_page(&p, rep, def, 2, values, 2, layers, 2);
	status = lance_decode21_page("data/x.lance: column 1 page 0", LANCE_FILE_V2_1,
								 span_make(p.layout, p.layout_len), &p.data, 1, li,
								 li->children[0], &a, &err);
	free(p.layout);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "data/x.lance: column 1 page 0") && strstr(err.msg, "repetition"),
			  "%s", err.msg);
}

UNIT_TEST(continuing_a_list_before_any_row_is_corrupt)
{
	static const uint16_t rep[] = {0, 1};
	static const uint16_t def[] = {0, 0};
	static const int32_t values[] = {1, 2};
	static const int32_t layers[] = {3, 6};
	LanceSchema *s = schema_of(list_schema, 2);
	const LanceField *li = lance_schema_top(s, 0);
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	mini_page(&p, rep, def, 2, values, 2, layers, 2);
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(p.layout, p.layout_len),
								 &p.data, 2, li, li->children[0], &a, &err);
	free(p.layout);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
}

UNIT_TEST(definition_level_above_the_layers_is_corrupt)
{
	static const uint16_t def[] = {0, 7};
	static const int32_t values[] = {1, 2};
	static const int32_t layers[] = {3};
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", true}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	mini_page(&p, NULL, def, 2, values, 2, layers, 1);
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(p.layout, p.layout_len),
								 &p.data, 2, x, x, &a, &err);
	free(p.layout);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "definition") != NULL, "%s", err.msg);
}

UNIT_TEST(chunk_larger_than_its_buffer_is_corrupt)
{
	static const uint16_t def[] = {0, 1};
	static const int32_t values[] = {1, 2};
	static const int32_t layers[] = {3};
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", true}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	mini_page(&p, NULL, def, 2, values, 2, layers, 1);
	put16(p.meta, (uint16_t) (0x7ff << 4));	/* a chunk of 16 KiB */
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(p.layout, p.layout_len),
								 &p.data, 2, x, x, &a, &err);
	free(p.layout);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "chunk 0") != NULL, "%s", err.msg);
}

UNIT_TEST(values_fewer_than_the_page_promises_are_corrupt)
{
	static const uint16_t def[] = {0, 0, 0};
	static const int32_t values[] = {1, 2, 3};
	static const int32_t layers[] = {3};
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", true}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	MiniPage	p;
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	mini_page(&p, NULL, def, 3, values, 3, layers, 1);
	/* the page says 3 rows; ask for 4 */
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(p.layout, p.layout_len),
								 &p.data, 4, x, x, &a, &err);
	free(p.layout);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
}

UNIT_TEST(large_chunk_grammar_in_a_2_1_file_is_corrupt)
{
	Le21__PageLayout pl;
	Le21__MiniBlockLayout mb;
	Le21__CompressiveEncoding ve;
	Le21__Flat vf;
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", false}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	uint8_t		layout[64];
	size_t		len;
	ByteSpan	bufs[2] = {{(const uint8_t *) "\0\0\0\0", 4}, {(const uint8_t *) "", 0}};
	LancePageData data = {2, bufs, NULL};
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	le21__page_layout__init(&pl);
	le21__mini_block_layout__init(&mb);
	pl.layout_case = LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
	pl.mini_block_layout = &mb;
	mb.value_compression = flat_enc(&ve, &vf, 32);
	mb.has_has_large_chunk = true;
	mb.has_large_chunk = true;
	len = le21__page_layout__pack(&pl, layout);
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(layout, len), &data, 0, x, x,
								 &a, &err);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "2.1") != NULL, "%s", err.msg);
}

UNIT_TEST(opt_in_encodings_are_refused_by_name)
{
	Le21__PageLayout pl;
	Le21__MiniBlockLayout mb;
	Le21__CompressiveEncoding ve;
	Le21__Opaque bss;
	static const LanceFieldSpec spec[] = {{0, -1, "x", "float", false}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	uint8_t		layout[64];
	uint8_t		chunk[16] = {0};
	size_t		len;
	ByteSpan	bufs[2] = {{(const uint8_t *) "\x10\x00", 2}, {chunk, 16}};
	LancePageData data = {2, bufs, NULL};
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	le21__page_layout__init(&pl);
	le21__mini_block_layout__init(&mb);
	le21__compressive_encoding__init(&ve);
	le21__opaque__init(&bss);
	pl.layout_case = LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
	pl.mini_block_layout = &mb;
	ve.compression_case = LE21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT;
	ve.byte_stream_split = &bss;
	mb.value_compression = &ve;
	mb.has_num_items = true;
	mb.num_items = 1;
	put16(chunk + 2, 4);
	len = le21__page_layout__pack(&pl, layout);
	status = lance_decode21_page("page", LANCE_FILE_V2_1, span_make(layout, len), &data, 1, x, x,
								 &a, &err);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_UNSUPPORTED);
	CHECK_MSG(strstr(err.msg, "byte_stream_split") != NULL, "%s", err.msg);
}

UNIT_TEST(all_null_page_without_levels_is_all_null)
{
	Le21__PageLayout pl;
	Le21__ConstantLayout cl;
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int64", true}};
	static const int32_t layers[] = {3};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	uint8_t		layout[64];
	size_t		len;
	LancePageData data = {0, NULL, NULL};
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	le21__page_layout__init(&pl);
	le21__constant_layout__init(&cl);
	pl.layout_case = LE21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT;
	pl.constant_layout = &cl;
	cl.n_layers = 1;
	cl.layers = (int32_t *) layers;
	len = le21__page_layout__pack(&pl, layout);
	status = lance_decode21_page("page", LANCE_FILE_V2_2, span_make(layout, len), &data, 5, x, x,
								 &a, &err);
	lance_schema_free(s);
	CHECK_MSG(status == CORE_OK, "%s", err.msg);
	CHECK(a->length == 5 && a->null_count == 5 && !lance_array_is_valid(a, 4));
	lance_array_free(a);
}

UNIT_TEST(constant_page_repeats_its_inline_scalar)
{
	Le21__PageLayout pl;
	Le21__ConstantLayout cl;
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", false}};
	static const int32_t layers[] = {1};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	uint8_t		layout[64];
	uint8_t		v[4] = {0x32, 0x79, 0x06, 0x00};	/* 424242 */
	size_t		len;
	LancePageData data = {0, NULL, NULL};
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	le21__page_layout__init(&pl);
	le21__constant_layout__init(&cl);
	pl.layout_case = LE21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT;
	pl.constant_layout = &cl;
	cl.n_layers = 1;
	cl.layers = (int32_t *) layers;
	cl.has_inline_value = true;
	cl.inline_value.data = v;
	cl.inline_value.len = 4;
	len = le21__page_layout__pack(&pl, layout);
	status = lance_decode21_page("page", LANCE_FILE_V2_2, span_make(layout, len), &data, 3, x, x,
								 &a, &err);
	lance_schema_free(s);
	CHECK_MSG(status == CORE_OK, "%s", err.msg);
	CHECK(a->length == 3 && a->null_count == 0);
	CHECK(((const int32_t *) (const void *) a->values)[2] == 424242);
	lance_array_free(a);
}

UNIT_TEST(garbage_page_layout_is_corrupt)
{
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", false}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	LancePageData data = {0, NULL, NULL};
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;

	status = lance_decode21_page("page", LANCE_FILE_V2_2, span_make((const uint8_t *) "\x0a\xff\x01", 3),
								 &data, 3, x, x, &a, &err);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
}

UNIT_TEST(deeply_nested_encoding_is_refused_before_parsing)
{
	/* 4000 levels of field 1 wrappers: would recurse in protobuf-c */
	static uint8_t enc[4000 * 3];
	static const LanceFieldSpec spec[] = {{0, -1, "x", "int32", false}};
	LanceSchema *s = schema_of(spec, 1);
	const LanceField *x = lance_schema_top(s, 0);
	LancePageData data = {0, NULL, NULL};
	LanceArray *a = NULL;
	CoreError	err;
	CoreStatus	status;
	size_t		n = 0;
	size_t		depth = 4000;

	/* build inside out: each level is 0x0a <len varint> <inner> */
	for (size_t i = 0; i < depth; i++)
	{
		size_t		inner = n;
		uint8_t		hdr[3];
		size_t		hl = 0;

		hdr[hl++] = 0x0a;
		if (inner < 128)
			hdr[hl++] = (uint8_t) inner;
		else
		{
			hdr[hl++] = (uint8_t) (0x80 | (inner & 0x7f));
			hdr[hl++] = (uint8_t) (inner >> 7);
		}
		if (n + hl > sizeof(enc) || inner >= 16384)
			break;
		memmove(enc + hl, enc, n);
		memcpy(enc, hdr, hl);
		n += hl;
	}
	status = lance_decode21_page("page", LANCE_FILE_V2_2, span_make(enc, n), &data, 3, x, x, &a, &err);
	lance_schema_free(s);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "nested") != NULL, "%s", err.msg);
}
