/*-------------------------------------------------------------------------
 *
 * datafile.c
 *	  Footer, column metadata and page buffers of Lance 2.x data files.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/datafile.h"
#include "lance_file2.pb-c.h"

#define FOOTER_LEN 40
/* The first read takes this much of the tail, enough for most files' metadata. */
#define TAIL_READ (64 * 1024)
/* Metadata regions larger than this are refused. */
#define MAX_METADATA_BYTES (UINT64_C(1) << 30)

#define TYPE_URL_V20 "/lance.encodings.ArrayEncoding"
#define TYPE_URL_V21 "/lance.encodings21.PageLayout"

typedef struct ColumnSlot
{
	bool		parsed;
	LanceColumnInfo info;
	LancePageInfo *pages;
	Lf2__ColumnMetadata *pb;	/* owns the page arrays */
	Lf2__AnyMsg **anys;			/* one per page, own the encoding bytes */
} ColumnSlot;

struct LanceFile
{
	Storage    *st;
	char	   *path;
	uint64_t	size;
	LanceFileVersion version;
	uint64_t	column_meta_start;
	uint64_t	cmo_table;
	uint64_t	gbo_table;
	uint32_t	num_global_buffers;
	uint32_t	num_columns;
	uint8_t    *meta;			/* file bytes [meta_start, size) */
	uint64_t	meta_start;
	ColumnSlot *columns;
};

const char *
lance_file_path(const LanceFile *f)
{
	return f->path;
}

LanceFileVersion
lance_file_version(const LanceFile *f)
{
	return f->version;
}

int
lance_file_num_columns(const LanceFile *f)
{
	return (int) f->num_columns;
}

void
lance_file_close(LanceFile *f)
{
	if (f == NULL)
		return;
	if (f->columns)
	{
		for (uint32_t i = 0; i < f->num_columns; i++)
		{
			ColumnSlot *c = &f->columns[i];

			if (c->anys)
			{
				for (int p = 0; p < c->info.num_pages; p++)
					if (c->anys[p])
						lf2__any_msg__free_unpacked(c->anys[p], NULL);
				core_free(c->anys);
			}
			if (c->pb)
				lf2__column_metadata__free_unpacked(c->pb, NULL);
			core_free(c->pages);
		}
		core_free(f->columns);
	}
	core_free(f->meta);
	core_free(f->path);
	core_free(f);
}

/* The metadata bytes [off, off + len) as a span, if the tail holds them. */
static bool
meta_span(const LanceFile *f, uint64_t off, uint64_t len, ByteSpan *out)
{
	ByteSpan	meta = span_make(f->meta, f->size - f->meta_start);

	if (off < f->meta_start)
		return false;
	return span_sub(meta, off - f->meta_start, len, out);
}

static CoreStatus
parse_footer(LanceFile *f, CoreError *err)
{
	ByteSpan	footer;
	uint64_t	v;
	uint16_t	major;
	uint16_t	minor;

	if (!meta_span(f, f->size - FOOTER_LEN, FOOTER_LEN, &footer))
		return core_error(err, CORE_ERR_CORRUPT, "%s: footer out of range", f->path);
	if (memcmp(footer.data + 36, "LANC", 4) != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: data file does not end with the magic \"LANC\"", f->path);
	span_u64(footer, 0, &f->column_meta_start);
	span_u64(footer, 8, &f->cmo_table);
	span_u64(footer, 16, &f->gbo_table);
	span_uint(footer, 24, 4, &v);
	f->num_global_buffers = (uint32_t) v;
	span_uint(footer, 28, 4, &v);
	f->num_columns = (uint32_t) v;
	span_u16(footer, 32, &major);
	span_u16(footer, 34, &minor);

	if (major == 0 && minor == 3)
		f->version = LANCE_FILE_V2_0;
	else if (major == 2 && minor >= 1 && minor <= 3)
		f->version = (LanceFileVersion) (0x200 | minor);
	else if (major == 0 && minor <= 2)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: legacy Lance file format %u.%u (v0.1) is not supported",
						  f->path, major, minor);
	else
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: Lance file format version %u.%u is not supported (2.0, 2.1, 2.2 are)",
						  f->path, major, minor);

	if (f->column_meta_start > f->size - FOOTER_LEN || f->cmo_table > f->size - FOOTER_LEN ||
		f->gbo_table > f->size - FOOTER_LEN || f->column_meta_start > f->cmo_table)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: footer offsets (column metadata %" PRIu64 ", tables %" PRIu64 " and %" PRIu64 ") are not within the file of %" PRIu64 " bytes",
						  f->path, f->column_meta_start, f->cmo_table, f->gbo_table, f->size);
	if ((uint64_t) f->num_columns * 16 > f->size - FOOTER_LEN - f->cmo_table)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: footer says %u columns, but the column table at %" PRIu64 " cannot hold them",
						  f->path, f->num_columns, f->cmo_table);
	if ((uint64_t) f->num_global_buffers * 16 > f->size - FOOTER_LEN - f->gbo_table)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: footer says %u global buffers, but the table at %" PRIu64 " cannot hold them",
						  f->path, f->num_global_buffers, f->gbo_table);
	if (f->num_global_buffers == 0)
		return core_error(err, CORE_ERR_CORRUPT, "%s: data file has no global buffers", f->path);
	return CORE_OK;
}

CoreStatus
lance_file_open(Storage *st, const char *path, uint64_t size, LanceFile **out, CoreError *err)
{
	LanceFile  *f;
	CoreStatus	status;
	uint64_t	tail;

	*out = NULL;
	f = core_calloc(1, sizeof(LanceFile));
	if (f == NULL || (f->path = core_strdup(path)) == NULL)
	{
		core_free(f);
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", path);
	}
	f->st = st;
	if (size == 0)
	{
		status = storage_size(st, path, &size, err);
		if (status != CORE_OK)
			goto fail;
	}
	f->size = size;
	if (size < FOOTER_LEN)
	{
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s: data file is %" PRIu64 " bytes, too short for a footer", path, size);
		goto fail;
	}
	tail = size < TAIL_READ ? size : TAIL_READ;
	f->meta_start = size - tail;
	f->meta = core_malloc((size_t) tail);
	if (f->meta == NULL)
	{
		status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	status = storage_read(st, path, f->meta_start, tail, f->meta, err);
	if (status != CORE_OK)
		goto fail;
	status = parse_footer(f, err);
	if (status != CORE_OK)
		goto fail;

	/* Read the rest of the metadata region if the tail did not reach it. */
	if (f->column_meta_start < f->meta_start)
	{
		uint64_t	len = size - f->column_meta_start;
		uint8_t    *meta;

		if (len > MAX_METADATA_BYTES)
		{
			status = core_error(err, CORE_ERR_NOMEM,
								"%s: %" PRIu64 " bytes of column metadata exceed the limit",
								path, len);
			goto fail;
		}
		meta = core_malloc((size_t) len);
		if (meta == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory", path);
			goto fail;
		}
		status = storage_read(st, path, f->column_meta_start, len - tail, meta, err);
		if (status != CORE_OK)
		{
			core_free(meta);
			goto fail;
		}
		memcpy(meta + (len - tail), f->meta, (size_t) tail);
		core_free(f->meta);
		f->meta = meta;
		f->meta_start = f->column_meta_start;
	}

	f->columns = core_calloc(f->num_columns, sizeof(ColumnSlot));
	if (f->columns == NULL && f->num_columns > 0)
	{
		status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	*out = f;
	return CORE_OK;

fail:
	lance_file_close(f);
	return status;
}

/* Parse column `col`'s metadata and check every page buffer range. */
static CoreStatus
parse_column(LanceFile *f, int col, ColumnSlot *c, CoreError *err)
{
	ByteSpan	entry;
	ByteSpan	msg;
	uint64_t	pos;
	uint64_t	len;
	Lf2__ColumnMetadata *pb;
	const char *want_url = f->version == LANCE_FILE_V2_0 ? TYPE_URL_V20 : TYPE_URL_V21;

	if (!meta_span(f, f->cmo_table + (uint64_t) col * 16, 16, &entry))
		return core_error(err, CORE_ERR_CORRUPT, "%s: column %d: column table entry out of range",
						  f->path, col);
	span_u64(entry, 0, &pos);
	span_u64(entry, 8, &len);
	if (!meta_span(f, pos, len, &msg) || pos < f->column_meta_start)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: column %d: metadata at %" PRIu64 " (%" PRIu64 " bytes) is outside the metadata region [%" PRIu64 ", %" PRIu64 ")",
						  f->path, col, pos, len, f->column_meta_start, f->size - FOOTER_LEN);
	pb = lf2__column_metadata__unpack(NULL, msg.len, msg.data);
	if (pb == NULL)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: column %d: metadata protobuf at %" PRIu64 " does not parse",
						  f->path, col, pos);
	c->pb = pb;
	if (pb->n_pages > INT32_MAX)
		return core_error(err, CORE_ERR_CORRUPT, "%s: column %d: too many pages", f->path, col);
	c->pages = core_calloc(pb->n_pages, sizeof(LancePageInfo));
	c->anys = core_calloc(pb->n_pages, sizeof(Lf2__AnyMsg *));
	if ((c->pages == NULL || c->anys == NULL) && pb->n_pages > 0)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", f->path);
	c->info.num_pages = (int) pb->n_pages;
	c->info.pages = c->pages;
	for (size_t p = 0; p < pb->n_pages; p++)
	{
		Lf2__Page  *pg = pb->pages[p];
		LancePageInfo *pi = &c->pages[p];
		Lf2__AnyMsg *any;

		if (pg->n_buffer_offsets != pg->n_buffer_sizes || pg->n_buffer_offsets > INT32_MAX)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: column %d page %zu: %zu buffer offsets but %zu sizes",
							  f->path, col, p, pg->n_buffer_offsets, pg->n_buffer_sizes);
		for (size_t b = 0; b < pg->n_buffer_offsets; b++)
		{
			uint64_t	off = pg->buffer_offsets[b];
			uint64_t	sz = pg->buffer_sizes[b];

			if (off > f->column_meta_start || sz > f->column_meta_start - off)
				return core_error(err, CORE_ERR_CORRUPT,
								  "%s: column %d page %zu buffer %zu: range [%" PRIu64 ", +%" PRIu64 ") runs past the data region, which ends at %" PRIu64,
								  f->path, col, p, b, off, sz, f->column_meta_start);
		}
		if (c->info.num_rows + pg->length < c->info.num_rows)
			return core_error(err, CORE_ERR_CORRUPT, "%s: column %d: page row counts overflow",
							  f->path, col);
		pi->num_rows = pg->length;
		pi->priority = pg->priority;
		pi->num_buffers = (int) pg->n_buffer_offsets;
		pi->buffer_offsets = pg->buffer_offsets;
		pi->buffer_sizes = pg->buffer_sizes;
		c->info.num_rows += pg->length;

		if (pg->encoding == NULL ||
			pg->encoding->location_case != LF2__ENCODING__LOCATION_DIRECT)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: column %d page %zu: only direct page encodings are supported",
							  f->path, col, p);
		any = lf2__any_msg__unpack(NULL, pg->encoding->direct->encoding.len,
								   pg->encoding->direct->encoding.data);
		if (any == NULL)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: column %d page %zu: encoding wrapper does not parse",
							  f->path, col, p);
		c->anys[p] = any;
		if (any->type_url == NULL || strcmp(any->type_url, want_url) != 0)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: column %d page %zu: encoding type \"%s\", expected \"%s\" in a %s file",
							  f->path, col, p, any->type_url ? any->type_url : "",
							  want_url, f->version == LANCE_FILE_V2_0 ? "2.0" : "2.1+");
		pi->encoding = span_make(any->value.data, any->value.len);
	}
	return CORE_OK;
}

CoreStatus
lance_file_column(LanceFile *f, int column, const LanceColumnInfo **out, CoreError *err)
{
	ColumnSlot *c;
	CoreStatus	status;

	*out = NULL;
	if (column < 0 || (uint32_t) column >= f->num_columns)
		return core_error(err, CORE_ERR_CORRUPT, "%s: column %d does not exist (the file has %u)",
						  f->path, column, f->num_columns);
	c = &f->columns[column];
	if (!c->parsed)
	{
		status = parse_column(f, column, c, err);
		if (status != CORE_OK)
		{
			/* leave the slot unparsed and empty so a retry fails the same way */
			if (c->anys)
			{
				for (int p = 0; p < c->info.num_pages; p++)
					if (c->anys[p])
						lf2__any_msg__free_unpacked(c->anys[p], NULL);
				core_free(c->anys);
			}
			if (c->pb)
				lf2__column_metadata__free_unpacked(c->pb, NULL);
			core_free(c->pages);
			memset(c, 0, sizeof(*c));
			return status;
		}
		c->parsed = true;
	}
	*out = &c->info;
	return CORE_OK;
}

void
lance_page_data_free(LancePageData *d)
{
	if (d == NULL)
		return;
	core_free(d->buffers);
	core_free(d->memory);
	memset(d, 0, sizeof(*d));
}

static CoreStatus read_pages(Storage *st, LancePageRequest *reqs, int count, int lazy,
							 CoreError *err);

CoreStatus
lance_file_read_pages(Storage *st, LancePageRequest *reqs, int count, CoreError *err)
{
	return read_pages(st, reqs, count, -1, err);
}

CoreStatus
lance_file_read_page_except(Storage *st, LanceFile *file, int column, int page, int lazy,
							LancePageData *out, CoreError *err)
{
	LancePageRequest req = {file, column, page, out};

	return read_pages(st, &req, 1, lazy, err);
}

/*
 * Read the buffers of the requested pages with one storage call, except
 * buffer `lazy` of each page (-1: none), whose span gets no bytes.
 */
static CoreStatus
read_pages(Storage *st, LancePageRequest *reqs, int count, int lazy, CoreError *err)
{
	StorageRange *ranges;
	int			nranges = 0;
	int			total = 0;
	CoreStatus	status;

	for (int i = 0; i < count; i++)
	{
		const LanceColumnInfo *ci;

		status = lance_file_column(reqs[i].file, reqs[i].column, &ci, err);
		if (status != CORE_OK)
			return status;
		if (reqs[i].page < 0 || reqs[i].page >= ci->num_pages)
			return core_error(err, CORE_ERR_INVALID, "%s: column %d has no page %d",
							  reqs[i].file->path, reqs[i].column, reqs[i].page);
		total += ci->pages[reqs[i].page].num_buffers;
	}
	ranges = core_calloc((size_t) (total ? total : 1), sizeof(StorageRange));
	if (ranges == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory reading pages");
	for (int i = 0; i < count; i++)
	{
		const LancePageInfo *pi = &reqs[i].file->columns[reqs[i].column].pages[reqs[i].page];
		LancePageData *d = reqs[i].out;
		uint64_t	bytes = 0;
		uint64_t	at = 0;

		memset(d, 0, sizeof(*d));
		for (int b = 0; b < pi->num_buffers; b++)
			if (b != lazy)
				bytes += pi->buffer_sizes[b];	/* each is within the file: no overflow */
		d->buffers = core_calloc((size_t) (pi->num_buffers ? pi->num_buffers : 1), sizeof(ByteSpan));
		/* 8 spare bytes let decoders read whole words at a buffer's end */
		d->memory = core_malloc((size_t) bytes + 8);
		if (d->buffers == NULL || d->memory == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory for %" PRIu64 " bytes of column %d page %d",
								reqs[i].file->path, bytes, reqs[i].column, reqs[i].page);
			goto fail;
		}
		memset(d->memory + bytes, 0, 8);
		d->num_buffers = pi->num_buffers;
		for (int b = 0; b < pi->num_buffers; b++)
		{
			if (b == lazy)
			{
				d->buffers[b] = span_make(NULL, pi->buffer_sizes[b]);
				continue;
			}
			d->buffers[b] = span_make(d->memory + at, pi->buffer_sizes[b]);
			ranges[nranges].path = reqs[i].file->path;
			ranges[nranges].offset = pi->buffer_offsets[b];
			ranges[nranges].length = pi->buffer_sizes[b];
			ranges[nranges].dest = d->memory + at;
			nranges++;
			at += pi->buffer_sizes[b];
		}
	}
	status = storage_read_many(st, ranges, (size_t) nranges, err);
	core_free(ranges);
	if (status != CORE_OK)
	{
		for (int i = 0; i < count; i++)
			lance_page_data_free(reqs[i].out);
	}
	return status;

fail:
	core_free(ranges);
	for (int i = 0; i < count; i++)
		lance_page_data_free(reqs[i].out);
	return status;
}
