/*-------------------------------------------------------------------------
 *
 * writer.c
 *	  Encoding columns into a Lance 2.x data file.
 *
 * The file is assembled in memory (FORMAT.md 8.1): page buffers, each on
 * a 64-byte boundary; global buffer 0 (the FileDescriptor); one
 * ColumnMetadata per column; the column-metadata and global-buffer offset
 * tables; the 40-byte footer.  It is then stored with put-if-absent under
 * a fresh random name, so an existing file is never replaced.
 *
 * Each column is cut into pages of about PAGE_TARGET_BYTES.  A page is
 * encoded by writer20.c (file version 2.0) or writer21.c (2.1 and 2.2);
 * they append the page's buffers through writer_page_buffer and return the
 * page encoding as a serialized Any.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/list_levels.h"
#include "lance/path.h"
#include "lance/writer_int.h"
#include "lance_file2.pb-c.h"
#include "lance_table.pb-c.h"

/* Lance targets pages of about 8 MB; any size is legal. */
#define PAGE_TARGET_BYTES (8 * 1024 * 1024)
#define FOOTER_LEN 40

bool
wout_put(WOut *o, const void *data, size_t len)
{
	if (o->failed)
		return false;
	if (o->len + len > o->cap)
	{
		size_t		cap = o->cap ? o->cap : 65536;
		uint8_t    *p;

		while (cap < o->len + len)
			cap *= 2;
		p = core_realloc(o->data, cap);
		if (p == NULL)
		{
			o->failed = true;
			return false;
		}
		o->data = p;
		o->cap = cap;
	}
	if (len > 0)
		memcpy(o->data + o->len, data, len);
	o->len += len;
	return true;
}

bool
wout_pad(WOut *o, size_t align, uint8_t fill)
{
	while (o->len % align != 0)
		if (!wout_put(o, &fill, 1))
			return false;
	return true;
}

bool
wout_u16(WOut *o, uint16_t v)
{
	uint8_t		b[2] = {(uint8_t) v, (uint8_t) (v >> 8)};

	return wout_put(o, b, 2);
}

bool
wout_u32(WOut *o, uint32_t v)
{
	uint8_t		b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t) (v >> (8 * i));
	return wout_put(o, b, 4);
}

bool
wout_u64(WOut *o, uint64_t v)
{
	uint8_t		b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t) (v >> (8 * i));
	return wout_put(o, b, 8);
}

void *
warena_new(WArena *ar, const void *init, size_t size)
{
	void	   *p;

	if (ar->failed)
		return NULL;
	if (ar->count == ar->cap)
	{
		int			cap = ar->cap ? ar->cap * 2 : 32;
		void	  **items = core_realloc(ar->items, (size_t) cap * sizeof(void *));

		if (items == NULL)
		{
			ar->failed = true;
			return NULL;
		}
		ar->items = items;
		ar->cap = cap;
	}
	p = core_malloc(size);
	if (p == NULL)
	{
		ar->failed = true;
		return NULL;
	}
	memcpy(p, init, size);
	ar->items[ar->count++] = p;
	return p;
}

void
warena_free(WArena *ar)
{
	for (int i = 0; i < ar->count; i++)
		core_free(ar->items[i]);
	core_free(ar->items);
	memset(ar, 0, sizeof(*ar));
}

bool
writer_page_buffer(WFile *w, WPage *p, const void *data, size_t len)
{
	if (p->nbuf >= WRITER_MAX_PAGE_BUFFERS)
		return false;
	if (!wout_pad(&w->out, 64, 0))
		return false;
	p->offsets[p->nbuf] = w->out.len;
	p->sizes[p->nbuf] = len;
	p->nbuf++;
	return wout_put(&w->out, data, len);
}

bool
writer_pack_any(const char *type_url, const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	Lf2__AnyMsg any = LF2__ANY_MSG__INIT;
	size_t		inner_len = protobuf_c_message_get_packed_size(msg);
	uint8_t    *inner = core_malloc(inner_len ? inner_len : 1);

	*out = NULL;
	if (inner == NULL)
		return false;
	protobuf_c_message_pack(msg, inner);
	any.type_url = (char *) type_url;
	any.has_value = 1;
	any.value.data = inner;
	any.value.len = inner_len;
	*len = lf2__any_msg__get_packed_size(&any);
	*out = core_malloc(*len ? *len : 1);
	if (*out != NULL)
		lf2__any_msg__pack(&any, *out);
	core_free(inner);
	return *out != NULL;
}

/* Approximate encoded bytes of row r (for cutting pages). */
static int64_t
row_bytes(const LanceArray *a, int64_t r)
{
	switch (a->type->id)
	{
		case LANCE_TYPE_BOOL:
			return 1;
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
			return lance_array_offset(a, r + 1) - lance_array_offset(a, r) + 8;
		case LANCE_TYPE_FIXED_SIZE_LIST:
			return (int64_t) a->type->fixed_size * a->children[0]->type->byte_width;
		case LANCE_TYPE_LIST:
			return 8;			/* 2.0: an end offset; the items are a column */
		case LANCE_TYPE_STRUCT:
			return 0;			/* 2.0: no buffers; the members are columns */
		default:
			return a->type->byte_width;
	}
}

static CoreStatus
add_page(WFile *w, WPage *page)
{
	WColumn    *c = &w->cols[w->cur_col];

	if (c->npages == c->cap)
	{
		int			cap = c->cap ? c->cap * 2 : 8;
		WPage	   *pages = core_realloc(c->pages, (size_t) cap * sizeof(WPage));

		if (pages == NULL)
		{
			core_free(page->enc);
			return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
		}
		c->pages = pages;
		c->cap = cap;
	}
	c->pages[c->npages++] = *page;
	return CORE_OK;
}

int
writer_struct_null_level(const WFile *w, int64_t r)
{
	for (int j = 0; j < w->struct_depth; j++)
		if (!lance_array_is_valid(w->struct_parents[j], r))
			return 1 + w->struct_depth - j;
	return 0;
}

/*
 * Refuse nulls in a field that is not nullable; a member of a null
 * struct is null because the struct is, which does not count.
 */
static CoreStatus
check_nullable(WFile *w, const LanceField *field, const LanceArray *a)
{
	int64_t		nulls = a->null_count;

	if (w->struct_depth > 0 && nulls > 0)
		for (int64_t r = 0; r < a->length; r++)
			if (!lance_array_is_valid(a, r) && writer_struct_null_level(w, r) > 0)
				nulls--;
	if (!field->nullable && nulls > 0)
		return core_error(w->err, CORE_ERR_INVALID,
						  "field \"%s\" is not nullable, but %" PRId64 " of the rows written are null",
						  field->name, nulls);
	return CORE_OK;
}

/*
 * Refuse a fixed-size list (a column, or a list's items) with a null item
 * in a list that is not null: its values are written flat, without item
 * validity, so the null would read back as a zero.  Only values read
 * from LanceDB's files (lance_compact) can hold such nulls.
 */
static CoreStatus
check_fixed_list_items(WFile *w, const LanceField *field, const LanceArray *a)
{
	const LanceArray *fsl = a->type->id == LANCE_TYPE_LIST ? a->children[0] : a;
	const LanceArray *items;
	int64_t		per;

	if (fsl->type->id != LANCE_TYPE_FIXED_SIZE_LIST || fsl->children[0]->null_count == 0)
		return CORE_OK;
	items = fsl->children[0];
	per = fsl->type->fixed_size;
	for (int64_t r = 0; r < fsl->length; r++)
		for (int64_t j = r * per; j < (r + 1) * per && lance_array_is_valid(fsl, r); j++)
			if (!lance_array_is_valid(items, j))
				return core_error(w->err, CORE_ERR_UNSUPPORTED,
								  "field \"%s\" holds a fixed-size list with a null item, which cannot be written: its values are stored without item validity",
								  field->name);
	return CORE_OK;
}

/*
 * Encode one column, page by page; a member of a list's struct items
 * (w->list_parent) is paged by the list's rows.
 */
static CoreStatus
write_column(WFile *w, const LanceField *field, const LanceArray *a)
{
	const LanceArray *rows = w->list_parent ? w->list_parent : a;
	int64_t		start = 0;
	CoreStatus	status = check_nullable(w, field, a);

	if (status == CORE_OK)
		status = check_fixed_list_items(w, field, a);
	if (status != CORE_OK)
		return status;
	while (start < rows->length || (start == 0 && rows->length == 0))
	{
		int64_t		bytes = 0;
		int64_t		end = start;
		WPage		page;

		if (w->list_parent)
			end = writer21_list_page_end(w, w->list_parent, a, start);
		else if (a->type->id == LANCE_TYPE_LIST && w->version != LANCE_FILE_V2_0)
			end = writer21_list_page_end(w, a, lance_list_leaf(a), start);
		else
			while (end < a->length && (end == start || bytes < PAGE_TARGET_BYTES))
				bytes += row_bytes(a, end++);
		memset(&page, 0, sizeof(page));
		page.rows = (uint64_t) (end - start);
		page.priority = (uint64_t) start;
		if (w->version == LANCE_FILE_V2_0)
			status = writer20_page(w, a, start, end - start, &page);
		else
			status = writer21_page(w, a, start, end - start, &page);
		if (status != CORE_OK)
		{
			core_free(page.enc);
			return status;
		}
		status = add_page(w, &page);
		if (status != CORE_OK)
			return status;
		if (rows->length == 0)
			break;
		start = end;
	}
	return CORE_OK;
}

static CoreStatus write_field(WFile *w, const LanceField *field, const LanceArray *a);

/*
 * Encode a struct: in 2.0 its own column of struct pages, then its
 * members' columns; in 2.1+ only the members', whose def levels carry the
 * struct's nulls (w->struct_parents).
 */
static CoreStatus
write_struct(WFile *w, const LanceField *field, const LanceArray *a)
{
	CoreStatus	status = CORE_OK;
	bool		pushed = false;

	if (w->version == LANCE_FILE_V2_0)
	{
		if (a->null_count > 0)
			return core_error(w->err, CORE_ERR_UNSUPPORTED,
							  "%s: struct field \"%s\" holds %" PRId64 " null structs, which file version 2.0 cannot store",
							  w->what, field->name, a->null_count);
		status = write_column(w, field, a);
		w->cur_col++;
	}
	else
	{
		/* lance_write_check_schema kept the depth within the stack */
		status = check_nullable(w, field, a);
		if (status == CORE_OK)
		{
			w->struct_parents[w->struct_depth++] = a;
			pushed = true;
		}
	}
	for (int c = 0; c < field->num_children && status == CORE_OK; c++)
		status = write_field(w, field->children[c], a->children[c]);
	if (pushed)
		w->struct_depth--;
	return status;
}

/* Encode a field's columns (see file_columns); leaves w->cur_col past them. */
static CoreStatus
write_field(WFile *w, const LanceField *field, const LanceArray *a)
{
	CoreStatus	status;

	if (field->type.id == LANCE_TYPE_STRUCT)
		return write_struct(w, field, a);
	if (field->type.id == LANCE_TYPE_LIST && w->version != LANCE_FILE_V2_0 &&
		field->children[0]->type.id == LANCE_TYPE_STRUCT)
	{
		/* 2.1+: the list has no column; its items' members carry it */
		status = check_nullable(w, field, a);
		w->list_parent = a;
		if (status == CORE_OK)
			status = write_struct(w, field->children[0], a->children[0]);
		w->list_parent = NULL;
		return status;
	}
	status = write_column(w, field, a);
	w->cur_col++;
	/* 2.0: a list's items are a column of their own, right after it */
	if (status == CORE_OK && field->type.id == LANCE_TYPE_LIST && w->version == LANCE_FILE_V2_0)
		status = write_field(w, field->children[0], a->children[0]);
	return status;
}

/* Whether the writer descends into a field's children (lists, structs). */
static bool
has_written_children(const LanceField *f)
{
	return f->type.id == LANCE_TYPE_LIST || f->type.id == LANCE_TYPE_STRUCT;
}

/* Fields a field's subtree stores, itself included. */
static int
subtree_fields(const LanceField *f)
{
	int			n = 1;

	if (has_written_children(f))
		for (int c = 0; c < f->num_children; c++)
			n += subtree_fields(f->children[c]);
	return n;
}

/*
 * Columns a field's subtree takes: in 2.0 one per field, parents
 * included; in 2.1+ one per leaf (a list's items, a struct's members).
 */
static int
subtree_columns(const LanceField *f, LanceFileVersion version)
{
	int			n;

	if (!has_written_children(f))
		return 1;
	n = version == LANCE_FILE_V2_0 ? 1 : 0;
	for (int c = 0; c < f->num_children; c++)
		n += subtree_columns(f->children[c], version);
	return n;
}

/* Fields a data file stores: every top-level field's subtree, in pre-order. */
static int
written_fields(const LanceSchema *schema)
{
	int			n = 0;

	for (int i = 0; i < lance_schema_num_top(schema); i++)
		n += subtree_fields(lance_schema_top(schema, i));
	return n;
}

static int
file_columns(const LanceSchema *schema, LanceFileVersion version)
{
	int			n = 0;

	for (int i = 0; i < lance_schema_num_top(schema); i++)
		n += subtree_columns(lance_schema_top(schema, i), version);
	return n;
}

/* A field of the file's schema, as its descriptor lists it. */
static void
describe_field(const LanceField *f, int32_t parent_id, Lt__Field *out)
{
	Lt__Field	init = LT__FIELD__INIT;
	LanceTypeId id = f->type.id;

	*out = init;
	out->name = (char *) f->name;
	out->has_id = 1;
	out->id = f->id;
	out->has_parent_id = 1;
	out->parent_id = parent_id;
	out->logical_type = (char *) f->logical_type;
	out->has_nullable = 1;
	out->nullable = f->nullable;
	/* the legacy encoding hint lance still writes, none for structs (4.3) */
	out->has_encoding = id != LANCE_TYPE_STRUCT;
	out->encoding = (id == LANCE_TYPE_STRING || id == LANCE_TYPE_LARGE_STRING ||
					 id == LANCE_TYPE_BINARY || id == LANCE_TYPE_LARGE_BINARY) ? 2 : 1;
}

/* Describe f's subtree in pre-order into fields[*k...]. */
static void
describe_subtree(const LanceField *f, int32_t parent_id, Lt__Field *fields, Lt__Field **ptrs,
				 int *k)
{
	describe_field(f, parent_id, &fields[*k]);
	ptrs[*k] = &fields[*k];
	(*k)++;
	if (has_written_children(f))
		for (int c = 0; c < f->num_children; c++)
			describe_subtree(f->children[c], f->id, fields, ptrs, k);
}

/* Global buffer 0: the FileDescriptor with the written fields and rows. */
static CoreStatus
write_descriptor(WFile *w, const LanceSchema *schema, int64_t rows, uint64_t *pos,
				 uint64_t *size)
{
	int			n = written_fields(schema);
	Lt__Field  *fields = core_calloc((size_t) n, sizeof(Lt__Field));
	Lt__Field **ptrs = core_calloc((size_t) n, sizeof(Lt__Field *));
	int			k = 0;
	Lt__Schema sch = LT__SCHEMA__INIT;
	Lt__FileDescriptor fd = LT__FILE_DESCRIPTOR__INIT;
	uint8_t    *buf = NULL;
	size_t		len;
	bool		ok;

	if (fields == NULL || ptrs == NULL)
	{
		core_free(fields);
		core_free(ptrs);
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	}
	for (int i = 0; i < lance_schema_num_top(schema); i++)
		describe_subtree(lance_schema_top(schema, i), -1, fields, ptrs, &k);
	sch.n_fields = (size_t) n;
	sch.fields = ptrs;
	fd.schema = &sch;
	fd.has_length = 1;
	fd.length = (uint64_t) rows;
	len = lt__file_descriptor__get_packed_size(&fd);
	buf = core_malloc(len ? len : 1);
	ok = buf != NULL;
	if (ok)
	{
		lt__file_descriptor__pack(&fd, buf);
		ok = wout_pad(&w->out, 64, 0);
		*pos = w->out.len;
		*size = len;
		ok = ok && wout_put(&w->out, buf, len);
	}
	core_free(buf);
	core_free(fields);
	core_free(ptrs);
	if (!ok)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	return CORE_OK;
}

/* Serialize one column's metadata. */
static bool
write_column_meta(WFile *w, const WColumn *c)
{
	static const uint8_t column_encoding[] = {0x0a, 0x00};	/* ColumnEncoding{values: {}} */
	Lf2__ColumnMetadata cm = LF2__COLUMN_METADATA__INIT;
	Lf2__Encoding colenc = LF2__ENCODING__INIT;
	Lf2__DirectEncoding coldirect = LF2__DIRECT_ENCODING__INIT;
	Lf2__AnyMsg any = LF2__ANY_MSG__INIT;
	uint8_t    *colany = NULL;
	size_t		colany_len;
	Lf2__Page  *pages = core_calloc((size_t) c->npages + 1, sizeof(Lf2__Page));
	Lf2__Encoding *encs = core_calloc((size_t) c->npages + 1, sizeof(Lf2__Encoding));
	Lf2__DirectEncoding *directs = core_calloc((size_t) c->npages + 1, sizeof(Lf2__DirectEncoding));
	Lf2__Page **ptrs = core_calloc((size_t) c->npages + 1, sizeof(Lf2__Page *));
	uint8_t    *buf = NULL;
	size_t		len;
	bool		ok = pages && encs && directs && ptrs;

	if (ok)
	{
		any.type_url = "/lance.encodings.ColumnEncoding";
		any.has_value = 1;
		any.value.data = (uint8_t *) column_encoding;
		any.value.len = sizeof(column_encoding);
		colany_len = lf2__any_msg__get_packed_size(&any);
		colany = core_malloc(colany_len);
		ok = colany != NULL;
	}
	if (ok)
	{
		lf2__any_msg__pack(&any, colany);
		coldirect.has_encoding = 1;
		coldirect.encoding.data = colany;
		coldirect.encoding.len = colany_len;
		colenc.location_case = LF2__ENCODING__LOCATION_DIRECT;
		colenc.direct = &coldirect;
		cm.encoding = &colenc;
		for (int i = 0; i < c->npages; i++)
		{
			const WPage *wp = &c->pages[i];
			Lf2__Page	pinit = LF2__PAGE__INIT;
			Lf2__Encoding einit = LF2__ENCODING__INIT;
			Lf2__DirectEncoding dinit = LF2__DIRECT_ENCODING__INIT;

			pages[i] = pinit;
			encs[i] = einit;
			directs[i] = dinit;
			pages[i].n_buffer_offsets = (size_t) wp->nbuf;
			pages[i].buffer_offsets = (uint64_t *) wp->offsets;
			pages[i].n_buffer_sizes = (size_t) wp->nbuf;
			pages[i].buffer_sizes = (uint64_t *) wp->sizes;
			pages[i].has_length = 1;
			pages[i].length = wp->rows;
			/* 2.0 files carry priority 0, 2.1+ the page's first row (8.3) */
			pages[i].has_priority = wp->priority != 0 && w->version != LANCE_FILE_V2_0;
			pages[i].priority = wp->priority;
			directs[i].has_encoding = 1;
			directs[i].encoding.data = wp->enc;
			directs[i].encoding.len = wp->enc_len;
			encs[i].location_case = LF2__ENCODING__LOCATION_DIRECT;
			encs[i].direct = &directs[i];
			pages[i].encoding = &encs[i];
			ptrs[i] = &pages[i];
		}
		cm.n_pages = (size_t) c->npages;
		cm.pages = ptrs;
		len = lf2__column_metadata__get_packed_size(&cm);
		buf = core_malloc(len ? len : 1);
		ok = buf != NULL;
	}
	if (ok)
	{
		lf2__column_metadata__pack(&cm, buf);
		ok = wout_put(&w->out, buf, len);
	}
	core_free(buf);
	core_free(colany);
	core_free(pages);
	core_free(encs);
	core_free(directs);
	core_free(ptrs);
	return ok;
}

static void
wfile_free(WFile *w)
{
	for (int i = 0; i < w->ncols; i++)
	{
		for (int j = 0; j < w->cols[i].npages; j++)
			core_free(w->cols[i].pages[j].enc);
		core_free(w->cols[i].pages);
	}
	core_free(w->cols);
	core_free(w->out.data);
}

/* Encode the whole file into w->out. */
static CoreStatus
encode_file(WFile *w, const LanceSchema *schema, LanceArray *const *columns, int64_t rows)
{
	uint64_t	gb_pos = 0;
	uint64_t	gb_size = 0;
	uint64_t	meta_start;
	uint64_t	cmo;
	uint64_t	gbo;
	uint64_t   *meta_pos;
	CoreStatus	status;
	bool		ok;

	w->cur_col = 0;
	for (int i = 0; i < lance_schema_num_top(schema); i++)
	{
		const LanceField *f = lance_schema_top(schema, i);

		if (columns[i]->length != rows)
			return core_error(w->err, CORE_ERR_INVALID,
							  "column \"%s\" has %" PRId64 " rows, expected %" PRId64,
							  f->name, columns[i]->length, rows);
		status = write_field(w, f, columns[i]);
		if (status != CORE_OK)
			return status;
		if (w->out.failed)
			return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	}
	status = write_descriptor(w, schema, rows, &gb_pos, &gb_size);
	if (status != CORE_OK)
		return status;

	meta_pos = core_calloc((size_t) w->ncols + 1, 2 * sizeof(uint64_t));
	if (meta_pos == NULL)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	meta_start = w->out.len;
	ok = true;
	for (int i = 0; i < w->ncols && ok; i++)
	{
		meta_pos[2 * i] = w->out.len;
		ok = write_column_meta(w, &w->cols[i]);
		meta_pos[2 * i + 1] = w->out.len - meta_pos[2 * i];
	}
	cmo = w->out.len;
	for (int i = 0; i < w->ncols && ok; i++)
		ok = wout_u64(&w->out, meta_pos[2 * i]) && wout_u64(&w->out, meta_pos[2 * i + 1]);
	core_free(meta_pos);
	gbo = w->out.len;
	ok = ok && wout_u64(&w->out, gb_pos) && wout_u64(&w->out, gb_size);
	ok = ok && wout_u64(&w->out, meta_start) && wout_u64(&w->out, cmo) && wout_u64(&w->out, gbo);
	ok = ok && wout_u32(&w->out, 1) && wout_u32(&w->out, (uint32_t) w->ncols);
	/* 2.0 files say 0.3 in the footer (FORMAT.md 8.1) */
	if (w->version == LANCE_FILE_V2_0)
		ok = ok && wout_u16(&w->out, 0) && wout_u16(&w->out, 3);
	else
		ok = ok && wout_u16(&w->out, 2) &&
			wout_u16(&w->out, w->version == LANCE_FILE_V2_1 ? 1 : 2);
	ok = ok && wout_put(&w->out, "LANC", 4);
	if (!ok)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	return CORE_OK;
}

/*
 * Give f's subtree its column indices in pre-order: a list or struct has
 * a column in 2.0; in 2.1+ only its children do (-1).
 */
static void
number_columns(const LanceField *field, LanceFileVersion version, LanceWrittenFile *f, int *k,
			   int *col)
{
	bool		parent = has_written_children(field);

	f->field_ids[*k] = field->id;
	f->column_indices[(*k)++] = parent && version != LANCE_FILE_V2_0 ? -1 : (*col)++;
	if (parent)
		for (int c = 0; c < field->num_children; c++)
			number_columns(field->children[c], version, f, k, col);
}

void
lance_written_file_free(LanceWrittenFile *f)
{
	if (f == NULL)
		return;
	core_free(f->name);
	core_free(f->field_ids);
	core_free(f->column_indices);
	core_free(f);
}

CoreStatus
lance_datafile_write(Storage *st, const char *dataset, const LanceSchema *schema,
					 LanceFileVersion version, LanceArray *const *columns, int64_t rows,
					 LanceWrittenFile **out, CoreError *err)
{
	WFile		w;
	char		name[64];
	char		rel[96];
	char	   *path = NULL;
	LanceWrittenFile *f = NULL;
	CoreStatus	status;
	int			n = lance_schema_num_top(schema);
	int			nf = written_fields(schema);

	*out = NULL;
	status = lance_write_check_schema(schema, err);
	if (status != CORE_OK)
		return status;
	status = lance_random_file_name(name, sizeof(name), err);
	if (status != CORE_OK)
		return status;
	snprintf(rel, sizeof(rel), "data/%s", name);
	memset(&w, 0, sizeof(w));
	w.version = version;
	w.err = err;
	w.what = rel;
	w.ncols = file_columns(schema, version);
	w.cols = core_calloc((size_t) w.ncols + 1, sizeof(WColumn));
	if (w.cols == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory writing %s", rel);
	status = encode_file(&w, schema, columns, rows);
	if (status == CORE_OK)
	{
		path = lance_path_join(dataset, rel);
		f = core_calloc(1, sizeof(LanceWrittenFile));
		if (path == NULL || f == NULL ||
			(f->name = core_strdup(name)) == NULL ||
			(f->field_ids = core_calloc((size_t) nf + 1, sizeof(int32_t))) == NULL ||
			(f->column_indices = core_calloc((size_t) nf + 1, sizeof(int32_t))) == NULL)
			status = core_error(err, CORE_ERR_NOMEM, "out of memory writing %s", rel);
	}
	if (status == CORE_OK)
		status = storage_put_if_absent(st, path, w.out.data, w.out.len, err);
	if (status == CORE_OK)
	{
		int			k = 0;
		int			col = 0;

		f->rows = (uint64_t) rows;
		f->size_bytes = w.out.len;
		f->num_fields = nf;
		for (int i = 0; i < n; i++)
			number_columns(lance_schema_top(schema, i), version, f, &k, &col);
		f->major = 2;
		f->minor = version == LANCE_FILE_V2_0 ? 0 : version == LANCE_FILE_V2_1 ? 1 : 2;
		*out = f;
		f = NULL;
	}
	lance_written_file_free(f);
	core_free(path);
	wfile_free(&w);
	return status;
}
