/*-------------------------------------------------------------------------
 *
 * fragment.c
 *	  Field readers over the columns of one fragment's data files.
 *
 * A FieldReader produces rows of one field:
 *
 *	  FR_NULL	no data file holds the field: every row is NULL
 *	  FR_V20	a 2.0 column; list pages pull their items from the item
 *				field's reader, struct pages their members from theirs
 *	  FR_V21	2.1/2.2 leaf columns, one per leaf under the field; each leaf
 *				page decodes to a path array, and the path arrays of all
 *				leaves are merged into the field's array
 *
 * A PageCursor walks one column's pages, keeping the last decoded page
 * and, after a prefetch, the raw buffers of the next one.  The pages of a
 * top-level field without lists in a 2.1+ file are not decoded whole, so
 * that a scan holds a batch's rows, not a page's, and touches each byte
 * once while it is in cache:
 *
 *	  stride pages (full-zip fixed-width: vector columns) are read by row
 *	  range, one ranged read per batch straight into the returned array;
 *	  mini-block pages are decoded a few chunks at a time, their chunk
 *	  buffer read a few MiB ahead of the decoding into one reused buffer.
 *
 * That is for local files; on object stores pages are read whole.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/datafile.h"
#include "lance/decode.h"
#include "lance/fragment.h"
#include "lance/path.h"

/*
 * Bytes of a mini-block page's chunk buffer read at once (or the chunks
 * one read needs, if more): large sequential reads, one small buffer.
 */
#define CHUNK_READ_AHEAD (UINT64_C(4) << 20)

/* Deletion files bigger than this are refused. */
#define MAX_DELETION_FILE_BYTES (UINT64_C(1) << 30)

typedef enum FieldReaderKind
{
	FR_NULL,
	FR_V20,
	FR_V21
} FieldReaderKind;

/* How a page of a cursor is read. */
typedef enum PageRead
{
	PAGE_WHOLE,					/* decoded whole, then sliced */
	PAGE_STRIDE,				/* stride page: rows by byte range */
	PAGE_CHUNKED				/* mini-block page: rows by chunks */
} PageRead;

typedef struct PageCursor
{
	Storage    *st;
	LanceFile  *file;
	int			column;
	const LanceColumnInfo *info;
	uint64_t   *starts;			/* num_pages + 1: first row of each page */
	uint64_t   *item_starts;	/* 2.0 lists: first item of each page */
	int			decoded_page;
	LanceArray *decoded;
	int			loaded_page;
	LancePageData loaded;
	/* row-range reads (2.1+ top-level fields without lists) */
	const LanceField *range_field;	/* the field, or NULL: always PAGE_WHOLE */
	int			read_page;		/* the page `read` was worked out for */
	PageRead	read;
	LanceStridePage stride;		/* PAGE_STRIDE: the layout */
	uint8_t    *scratch;		/* PAGE_STRIDE: rows with control bytes */
	uint64_t	scratch_cap;
	int			chunked_page;	/* the page `chunked` is open on, or -1 */
	LanceChunkedPage *chunked;
	uint8_t    *ahead;			/* bytes [ahead_at, + ahead_len) of its */
	uint64_t	ahead_at;		/* chunk buffer, 8 readable bytes beyond */
	uint64_t	ahead_len;
	uint64_t	ahead_cap;
} PageCursor;

typedef struct FieldReader FieldReader;

struct FieldReader
{
	FieldReaderKind kind;
	const LanceField *field;
	/* FR_V20 */
	PageCursor	cursor;
	int			num_children;
	FieldReader **children;
	/* FR_V21 */
	int			num_leaves;
	const LanceField **leaves;
	PageCursor *leaf_cursors;
};

struct LanceFragmentReader
{
	Storage    *st;
	char	   *dataset;
	const LanceFragmentRef *fragment;
	LanceFile **files;			/* one per data file, opened on demand */
	int			num_fields;
	FieldReader **readers;
	LanceDeletionSet *deletions;
};

typedef CoreStatus Status;

static Status field_read(LanceFragmentReader *fr, FieldReader *r, uint64_t start, uint64_t count,
						 LanceArray **out, CoreError *err);

/* ------------------------------------------------------------ page cursors */

static void
cursor_unload(PageCursor *c)
{
	lance_page_data_free(&c->loaded);
	c->loaded_page = -1;
}

static void
cursor_release(PageCursor *c)
{
	lance_array_free(c->decoded);
	cursor_unload(c);
	lance_decode21_chunked_free(c->chunked);
	core_free(c->starts);
	core_free(c->item_starts);
	core_free(c->scratch);
	core_free(c->ahead);
	memset(c, 0, sizeof(*c));
}

static Status
cursor_init(PageCursor *c, Storage *st, LanceFile *file, int column, CoreError *err)
{
	Status		status;

	memset(c, 0, sizeof(*c));
	c->decoded_page = -1;
	c->loaded_page = -1;
	c->read_page = -1;
	c->chunked_page = -1;
	c->st = st;
	c->file = file;
	c->column = column;
	status = lance_file_column(file, column, &c->info, err);
	if (status != CORE_OK)
		return status;
	c->starts = core_mallocarray((size_t) c->info->num_pages + 1, sizeof(uint64_t));
	if (c->starts == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", lance_file_path(file));
	c->starts[0] = 0;
	for (int p = 0; p < c->info->num_pages; p++)
		c->starts[p + 1] = c->starts[p] + c->info->pages[p].num_rows;
	return CORE_OK;
}

static uint64_t
cursor_rows(const PageCursor *c)
{
	return c->starts[c->info->num_pages];
}

/* The page holding row (row < cursor_rows). */
static int
cursor_find(const PageCursor *c, uint64_t row)
{
	int			lo = 0;
	int			hi = c->info->num_pages - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (c->starts[mid] <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	/* skip empty pages */
	while (lo < c->info->num_pages - 1 && c->starts[lo + 1] <= row)
		lo++;
	return lo;
}

static void
page_what(const PageCursor *c, int page, char *buf, size_t len)
{
	snprintf(buf, len, "%s: column %d page %d", lance_file_path(c->file), c->column, page);
}

/* Load page p's raw buffers into c->loaded, unless they are there. */
static Status
cursor_load(PageCursor *c, int p, CoreError *err)
{
	LancePageRequest req = {c->file, c->column, p, NULL};
	Status		status;

	if (c->loaded_page == p)
		return CORE_OK;
	cursor_unload(c);
	req.out = &c->loaded;
	status = lance_file_read_pages(c->st, &req, 1, err);
	if (status != CORE_OK)
		return status;
	c->loaded_page = p;
	return CORE_OK;
}

/* How page p is read (worked out once per page). */
static PageRead
cursor_page_read(PageCursor *c, int p)
{
	const LancePageInfo *pi = &c->info->pages[p];

	if (c->range_field == NULL)
		return PAGE_WHOLE;
	if (c->read_page != p)
	{
		if (pi->num_buffers == 1 &&
			lance_decode21_stride_page(pi->encoding, pi->num_rows, pi->buffer_sizes[0],
									   c->range_field, &c->stride))
			c->read = PAGE_STRIDE;
		else if (pi->num_buffers >= 2 &&
				 lance_decode21_chunked_page(pi->encoding, pi->num_rows, c->range_field))
			c->read = PAGE_CHUNKED;
		else
			c->read = PAGE_WHOLE;
		c->read_page = p;
	}
	return c->read;
}

/*
 * LanceChunkFetch for the open chunked page: serve the range from the
 * read-ahead buffer, reading from the range on when it is not all there:
 * CHUNK_READ_AHEAD bytes when the reads go front to back (a scan), just
 * the range otherwise (a take of scattered rows).  The chunk map checked
 * every chunk against the buffer's size, so a range outside it is a bug.
 */
static CoreStatus
fetch_chunks(void *arg, uint64_t offset, uint64_t len, ByteSpan *out, CoreError *err)
{
	PageCursor *c = arg;
	const LancePageInfo *pi = &c->info->pages[c->chunked_page];
	uint64_t	size = pi->buffer_sizes[1];
	Status		status;

	if (offset > size || len > size - offset)
		return core_error(err, CORE_ERR_INVALID, "%s: column %d page %d: chunk bytes [%" PRIu64 ", +%" PRIu64 ") of %" PRIu64,
						  lance_file_path(c->file), c->column, c->chunked_page, offset, len, size);
	if (c->ahead_len == 0 || offset < c->ahead_at || offset + len > c->ahead_at + c->ahead_len)
	{
		bool		onward = offset == 0 ||
			(c->ahead_len > 0 && offset >= c->ahead_at && offset <= c->ahead_at + c->ahead_len);
		uint64_t	want = onward && len < CHUNK_READ_AHEAD ? CHUNK_READ_AHEAD : len;

		if (want > size - offset)
			want = size - offset;
		c->ahead_len = 0;
		if (want + 8 > c->ahead_cap)
		{
			core_free(c->ahead);
			c->ahead_cap = 0;
			c->ahead = core_malloc((size_t) want + 8);
			if (c->ahead == NULL)
				return core_error(err, CORE_ERR_NOMEM, "%s: out of memory for %" PRIu64 " bytes of column %d",
								  lance_file_path(c->file), want, c->column);
			c->ahead_cap = want + 8;
		}
		status = storage_read(c->st, lance_file_path(c->file), pi->buffer_offsets[1] + offset, want,
							  c->ahead, err);
		if (status != CORE_OK)
			return status;
		memset(c->ahead + want, 0, 8);
		c->ahead_at = offset;
		c->ahead_len = want;
	}
	*out = span_make(c->ahead + (offset - c->ahead_at), len);
	return CORE_OK;
}

/*
 * Open chunked page p, unless open: read its buffers other than the chunk
 * buffer (metadata, dictionary), which the open uses and does not keep.
 */
static Status
cursor_open_chunked(PageCursor *c, int p, CoreError *err)
{
	const LancePageInfo *pi = &c->info->pages[p];
	LancePageData part;
	char		what[512];
	Status		status;

	if (c->chunked_page == p)
		return CORE_OK;
	lance_decode21_chunked_free(c->chunked);
	c->chunked = NULL;
	c->chunked_page = -1;
	c->ahead_len = 0;
	status = lance_file_read_page_except(c->st, c->file, c->column, p, 1, &part, err);
	if (status != CORE_OK)
		return status;
	page_what(c, p, what, sizeof(what));
	status = lance_decode21_chunked_open(what, lance_file_version(c->file), pi->encoding, &part,
										 pi->num_rows, c->range_field, fetch_chunks, c,
										 &c->chunked, err);
	lance_page_data_free(&part);
	if (status == CORE_OK)
		c->chunked_page = p;
	return status;
}

/* Decode page p into c->decoded (fr and r give the field context). */
static Status
cursor_decode(LanceFragmentReader *fr, FieldReader *r, int leaf, PageCursor *c, int p,
			  CoreError *err)
{
	const LancePageInfo *pi = &c->info->pages[p];
	char		what[512];
	LanceArray *arr = NULL;
	Status		status;

	if (c->decoded_page == p)
		return CORE_OK;
	lance_array_free(c->decoded);
	c->decoded = NULL;
	c->decoded_page = -1;
	status = cursor_load(c, p, err);
	if (status != CORE_OK)
		return status;
	page_what(c, p, what, sizeof(what));

	if (r->kind == FR_V20)
	{
		uint64_t	items = 0;

		status = lance_decode20_page(what, pi->encoding, &c->loaded, pi->num_rows, r->field,
									 &arr, &items, err);
		if (status == CORE_OK && (r->field->type.id == LANCE_TYPE_LIST ||
								  r->field->type.id == LANCE_TYPE_LARGE_LIST))
		{
			LanceArray *child = NULL;

			if (items != c->item_starts[p + 1] - c->item_starts[p])
				status = core_error(err, CORE_ERR_CORRUPT, "%s: list page has %" PRIu64 " items, expected %" PRIu64,
									what, items, c->item_starts[p + 1] - c->item_starts[p]);
			else
				status = field_read(fr, r->children[0], c->item_starts[p], items, &child, err);
			if (status == CORE_OK)
			{
				lance_array_free(arr->children[0]);
				arr->children[0] = child;
				status = lance_array_validate(arr, what, err);
			}
		}
		else if (status == CORE_OK && r->field->type.id == LANCE_TYPE_STRUCT)
		{
			for (int i = 0; i < r->num_children && status == CORE_OK; i++)
			{
				LanceArray *child = NULL;

				status = field_read(fr, r->children[i], c->starts[p], pi->num_rows, &child, err);
				if (status == CORE_OK)
				{
					lance_array_free(arr->children[i]);
					arr->children[i] = child;
				}
			}
		}
	}
	else
		status = lance_decode21_page(what, lance_file_version(c->file), pi->encoding, &c->loaded,
									 pi->num_rows, r->field, r->leaves[leaf], &arr, err);

	/* the raw bytes are not needed once decoded */
	cursor_unload(c);
	if (status != CORE_OK)
	{
		lance_array_free(arr);
		return status;
	}
	c->decoded = arr;
	c->decoded_page = p;
	return CORE_OK;
}

/*
 * Append rows [off, off + n) of stride page p to acc with one ranged read:
 * into acc itself when rows are bare values, else into the scratch buffer
 * and from there without their control bytes.  The page's rows fit its
 * buffer (checked by cursor_page_read), so the range is within the file.
 */
static Status
cursor_read_stride(PageCursor *c, int p, uint64_t off, uint64_t n, LanceArray *acc,
				   CoreError *err)
{
	const LancePageInfo *pi = &c->info->pages[p];
	uint64_t	at = pi->buffer_offsets[0] + off * c->stride.stride;
	uint64_t	bytes = n * c->stride.stride;
	uint8_t    *dest;
	Status		status;

	if (c->stride.ctrl_bytes == 0)
	{
		status = lance_array_extend_fixed(acc, (int64_t) n, &dest, err);
		if (status != CORE_OK)
			return status;
		return storage_read(c->st, lance_file_path(c->file), at, bytes, dest, err);
	}
	if (bytes > c->scratch_cap)
	{
		core_free(c->scratch);
		c->scratch_cap = 0;
		c->scratch = core_malloc((size_t) bytes);
		if (c->scratch == NULL)
			return core_error(err, CORE_ERR_NOMEM, "%s: out of memory for %" PRIu64 " bytes of column %d",
							  lance_file_path(c->file), bytes, c->column);
		c->scratch_cap = bytes;
	}
	status = storage_read(c->st, lance_file_path(c->file), at, bytes, c->scratch, err);
	if (status != CORE_OK)
		return status;
	return lance_decode21_stride_rows(&c->stride, c->scratch, n, acc, err);
}

/* Rows [start, start + count) of a column into a new array (count > 0). */
static Status
cursor_read(LanceFragmentReader *fr, FieldReader *r, int leaf, PageCursor *c, uint64_t start,
			uint64_t count, LanceArray **out, CoreError *err)
{
	LanceArray *acc = NULL;
	uint64_t	row = start;
	uint64_t	left = count;
	Status		status;

	*out = NULL;
	if (start > cursor_rows(c) || count > cursor_rows(c) - start)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: column %d has %" PRIu64 " rows, rows [%" PRIu64 ", +%" PRIu64 ") were asked for",
						  lance_file_path(c->file), c->column, cursor_rows(c), start, count);
	while (left > 0)
	{
		int			p = cursor_find(c, row);
		uint64_t	off = row - c->starts[p];
		uint64_t	take = c->starts[p + 1] - row;

		if (take > left)
			take = left;
		if (c->decoded_page != p && cursor_page_read(c, p) != PAGE_WHOLE)
		{
			if (acc == NULL &&
				(status = lance_array_new_for_field(c->range_field, &acc, err)) != CORE_OK)
				goto fail;
			if (c->read == PAGE_STRIDE)
				status = cursor_read_stride(c, p, off, take, acc, err);
			else if ((status = cursor_open_chunked(c, p, err)) == CORE_OK)
				status = lance_decode21_chunked_rows(c->chunked, off, take, acc, err);
			if (status != CORE_OK)
				goto fail;
			row += take;
			left -= take;
			continue;
		}
		status = cursor_decode(fr, r, leaf, c, p, err);
		if (status != CORE_OK)
			goto fail;
		if (acc == NULL && off == 0 && take == (uint64_t) c->decoded->length && take == left)
		{
			/* exactly one whole page: hand it over */
			*out = c->decoded;
			c->decoded = NULL;
			c->decoded_page = -1;
			return CORE_OK;
		}
		if (acc == NULL && (status = lance_array_new_like(c->decoded, &acc, err)) != CORE_OK)
			goto fail;
		status = lance_array_append(acc, c->decoded, (int64_t) off, (int64_t) take, err);
		if (status != CORE_OK)
			goto fail;
		row += take;
		left -= take;
	}
	*out = acc;
	return CORE_OK;

fail:
	lance_array_free(acc);
	return status;
}

/* ---------------------------------------------------------- field readers */

static void
field_reader_free(FieldReader *r)
{
	if (r == NULL)
		return;
	cursor_release(&r->cursor);
	for (int i = 0; i < r->num_children; i++)
		field_reader_free(r->children[i]);
	core_free(r->children);
	for (int i = 0; i < r->num_leaves; i++)
		cursor_release(&r->leaf_cursors[i]);
	core_free(r->leaf_cursors);
	core_free(r->leaves);
	core_free(r);
}

static int
count_leaves(const LanceField *f)
{
	int			n = 0;

	if (lance_field_is_leaf(f))
		return 1;
	for (int i = 0; i < f->num_children; i++)
		n += count_leaves(f->children[i]);
	return n;
}

static void
collect_leaves(const LanceField *f, const LanceField **out, int *n)
{
	if (lance_field_is_leaf(f))
	{
		out[(*n)++] = f;
		return;
	}
	for (int i = 0; i < f->num_children; i++)
		collect_leaves(f->children[i], out, n);
}

/* The data file and column holding a field, or false. */
static bool
find_column(const LanceFragmentRef *frag, int32_t field_id, int *file, int *column)
{
	bool		found = false;

	/* a later file wins over an earlier one */
	for (int f = 0; f < frag->num_files; f++)
	{
		const LanceDataFileRef *df = &frag->files[f];

		for (int k = 0; k < df->num_fields; k++)
			if (df->field_ids[k] == field_id && df->column_indices[k] >= 0)
			{
				*file = f;
				*column = df->column_indices[k];
				found = true;
			}
	}
	return found;
}

/* Open data file f of the fragment, checking its version against the manifest. */
static Status
get_file(LanceFragmentReader *fr, int f, LanceFile **out, CoreError *err)
{
	const LanceDataFileRef *df = &fr->fragment->files[f];
	LanceFileVersion want;
	char	   *path;
	Status		status;

	if (fr->files[f])
	{
		*out = fr->files[f];
		return CORE_OK;
	}
	if (df->major != 2 || df->minor > 3)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: data file version %u.%u is not supported (2.0, 2.1, 2.2 are)",
						  df->path, df->major, df->minor);
	want = (LanceFileVersion) (0x200 | df->minor);
	path = lance_path_join(fr->dataset, df->path);
	if (path == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = lance_file_open(fr->st, path, df->size_bytes, &fr->files[f], err);
	core_free(path);
	if (status != CORE_OK)
		return status;
	if (lance_file_version(fr->files[f]) != want)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: the file says format %d.%d, the manifest says %u.%u",
						  lance_file_path(fr->files[f]), (lance_file_version(fr->files[f]) >> 8),
						  (lance_file_version(fr->files[f]) & 0xff), df->major, df->minor);
	*out = fr->files[f];
	return CORE_OK;
}

/* A reader for a field of a 2.0 file (recursively for its children). */
static Status
make_reader20(LanceFragmentReader *fr, const LanceField *field, FieldReader **out, CoreError *err)
{
	FieldReader *r = core_calloc(1, sizeof(FieldReader));
	int			f;
	int			col;
	LanceFile  *file;
	Status		status;

	*out = NULL;
	if (r == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	r->field = field;
	r->cursor.decoded_page = -1;
	r->cursor.loaded_page = -1;
	if (!find_column(fr->fragment, field->id, &f, &col))
	{
		r->kind = FR_NULL;
		*out = r;
		return CORE_OK;
	}
	r->kind = FR_V20;
	if ((status = get_file(fr, f, &file, err)) != CORE_OK ||
		(status = cursor_init(&r->cursor, fr->st, file, col, err)) != CORE_OK)
		goto fail;
	if (!lance_field_is_leaf(field))
	{
		r->children = core_calloc((size_t) field->num_children, sizeof(FieldReader *));
		if (r->children == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory");
			goto fail;
		}
		for (int i = 0; i < field->num_children; i++)
		{
			status = make_reader20(fr, field->children[i], &r->children[i], err);
			r->num_children = i + 1;
			if (status != CORE_OK)
				goto fail;
		}
	}
	if (field->type.id == LANCE_TYPE_LIST || field->type.id == LANCE_TYPE_LARGE_LIST)
	{
		PageCursor *c = &r->cursor;
		FieldReader *items = r->children[0];

		c->item_starts = core_mallocarray((size_t) c->info->num_pages + 1, sizeof(uint64_t));
		if (c->item_starts == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory");
			goto fail;
		}
		c->item_starts[0] = 0;
		for (int p = 0; p < c->info->num_pages; p++)
		{
			char		what[512];
			uint64_t	n;

			page_what(c, p, what, sizeof(what));
			status = lance_decode20_list_items(what, c->info->pages[p].encoding, &n, err);
			if (status != CORE_OK)
				goto fail;
			if (c->item_starts[p] + n < n)
			{
				status = core_error(err, CORE_ERR_CORRUPT, "%s: item counts overflow", what);
				goto fail;
			}
			c->item_starts[p + 1] = c->item_starts[p] + n;
		}
		if (items->kind == FR_V20 && cursor_rows(&items->cursor) != c->item_starts[c->info->num_pages])
		{
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s: list column %d has %" PRIu64 " items, its item column %d has %" PRIu64,
								lance_file_path(file), col, c->item_starts[c->info->num_pages],
								items->cursor.column, cursor_rows(&items->cursor));
			goto fail;
		}
	}
	*out = r;
	return CORE_OK;

fail:
	field_reader_free(r);
	return status;
}

/* A reader for a field of 2.1/2.2 files: one cursor per leaf. */
static Status
make_reader21(LanceFragmentReader *fr, const LanceField *field, FieldReader **out, CoreError *err)
{
	FieldReader *r = core_calloc(1, sizeof(FieldReader));
	int			nleaves = count_leaves(field);
	int			n = 0;
	int			found = 0;
	Status		status;

	*out = NULL;
	if (r == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	r->field = field;
	r->kind = FR_V21;
	r->cursor.decoded_page = -1;
	r->cursor.loaded_page = -1;
	r->leaves = core_calloc((size_t) (nleaves ? nleaves : 1), sizeof(LanceField *));
	r->leaf_cursors = core_calloc((size_t) (nleaves ? nleaves : 1), sizeof(PageCursor));
	if (r->leaves == NULL || r->leaf_cursors == NULL)
	{
		field_reader_free(r);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	collect_leaves(field, r->leaves, &n);
	for (int i = 0; i < n; i++)
	{
		int			f;
		int			col;

		if (find_column(fr->fragment, r->leaves[i]->id, &f, &col))
			found++;
	}
	if (found == 0)
	{
		r->kind = FR_NULL;
		*out = r;
		return CORE_OK;
	}
	if (found != n)
	{
		field_reader_free(r);
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "fragment %" PRIu64 ": field \"%s\" has only %d of its %d leaf columns; partly added nested fields are not supported",
						  fr->fragment->id, field->name, found, n);
	}
	for (int i = 0; i < n; i++)
	{
		int			f = 0;
		int			col = 0;
		LanceFile  *file;

		find_column(fr->fragment, r->leaves[i]->id, &f, &col);
		r->num_leaves = i + 1;
		if ((status = get_file(fr, f, &file, err)) != CORE_OK ||
			(status = cursor_init(&r->leaf_cursors[i], fr->st, file, col, err)) != CORE_OK)
		{
			field_reader_free(r);
			return status;
		}
		if (lance_file_version(file) == LANCE_FILE_V2_0)
		{
			field_reader_free(r);
			return core_error(err, CORE_ERR_CORRUPT, "%s: field \"%s\" mixes 2.0 and 2.1+ files",
							  lance_file_path(file), field->name);
		}
	}
	/*
	 * Reading by row range and chunk makes one request per batch or
	 * read-ahead, each waited for in turn: on local disk that is cheap, but
	 * an object store answers far faster with whole pages fetched together
	 * (coalesced and in flight at once), so there the pages are read whole.
	 */
	if (n == 1 && r->leaves[0] == field && field->parent == NULL && storage_is_local(fr->st))
		r->leaf_cursors[0].range_field = field;
	*out = r;
	return CORE_OK;
}

static void
free_parts(LanceArray **parts, int k)
{
	for (int i = 0; i < k; i++)
	{
		lance_array_free(parts[i]);
		parts[i] = NULL;
	}
}

/*
 * Merge the path arrays of a field's k leaves into the field's array.
 * Takes ownership of every part, also on error.
 */
static Status
merge_parts(const LanceField *f, LanceArray **parts, int k, LanceArray **out, CoreError *err)
{
	LanceArray *base;
	LanceArray *node = NULL;
	LanceArray **sub;
	Status		status = CORE_OK;
	bool		is_struct = f->type.id == LANCE_TYPE_STRUCT;

	*out = NULL;
	if (k == 0)
		return core_error(err, CORE_ERR_INVALID, "field \"%s\" has no leaves", f->name);
	base = parts[0];
	if (lance_field_is_leaf(f))
	{
		free_parts(parts + 1, k - 1);
		*out = base;
		return CORE_OK;
	}
	for (int i = 0; i < k && status == CORE_OK; i++)
		if (parts[i]->length != base->length || parts[i]->num_children != 1)
			status = core_error(err, CORE_ERR_CORRUPT,
								"field \"%s\": leaf columns disagree on the row count (%" PRId64 " and %" PRId64 ")",
								f->name, base->length, parts[i]->length);
	/* list leaves must agree on offsets and validity; the first's are kept */
	for (int i = 1; !is_struct && i < k && status == CORE_OK; i++)
		for (int64_t j = 0; j <= base->length && status == CORE_OK; j++)
			if (lance_array_offset(parts[i], j) != lance_array_offset(base, j) ||
				(j < base->length &&
				 lance_array_is_valid(parts[i], j) != lance_array_is_valid(base, j)))
				status = core_error(err, CORE_ERR_CORRUPT,
									"field \"%s\": leaf columns disagree on the list of row %" PRId64,
									f->name, j);
	sub = status == CORE_OK ? core_calloc((size_t) k, sizeof(LanceArray *)) : NULL;
	if (status == CORE_OK && sub == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory");
	if (status == CORE_OK && is_struct)
	{
		status = lance_array_new_node(&f->type, f->num_children, &node, err);
		if (status == CORE_OK)
		{
			node->length = base->length;
			node->cap_rows = base->cap_rows;
			node->validity = base->validity;
			node->null_count = base->null_count;
			base->validity = NULL;
		}
	}
	if (status != CORE_OK)
	{
		core_free(sub);
		free_parts(parts, k);
		return status;
	}

	for (int i = 0; i < k; i++)
	{
		sub[i] = parts[i]->children[0];
		parts[i]->children[0] = NULL;
	}
	if (is_struct)
	{
		int			idx = 0;

		for (int c = 0; c < f->num_children; c++)
		{
			int			nl = count_leaves(f->children[c]);

			if (status == CORE_OK)
				status = merge_parts(f->children[c], sub + idx, nl, &node->children[c], err);
			else
				free_parts(sub + idx, nl);
			idx += nl;
		}
		free_parts(parts, k);
		if (status != CORE_OK)
		{
			lance_array_free(node);
			node = NULL;
		}
	}
	else
	{
		status = merge_parts(f->children[0], sub, k, &base->children[0], err);
		free_parts(parts + 1, k - 1);
		node = base;
		if (status != CORE_OK)
		{
			lance_array_free(base);
			node = NULL;
		}
	}
	core_free(sub);
	*out = node;
	return status;
}

static Status
field_read(LanceFragmentReader *fr, FieldReader *r, uint64_t start, uint64_t count,
		   LanceArray **out, CoreError *err)
{
	Status		status;

	*out = NULL;
	if (count == 0 || r->kind == FR_NULL)
	{
		status = lance_array_new_for_field(r->field, out, err);
		if (status == CORE_OK && count > 0)
			status = lance_array_append_nulls(*out, (int64_t) count, err);
		if (status != CORE_OK)
		{
			lance_array_free(*out);
			*out = NULL;
		}
		return status;
	}
	if (r->kind == FR_V20)
		return cursor_read(fr, r, 0, &r->cursor, start, count, out, err);

	{
		LanceArray **parts = core_calloc((size_t) r->num_leaves, sizeof(LanceArray *));

		if (parts == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory");
		for (int i = 0; i < r->num_leaves; i++)
		{
			status = cursor_read(fr, r, i, &r->leaf_cursors[i], start, count, &parts[i], err);
			if (status != CORE_OK)
			{
				for (int j = 0; j < i; j++)
					lance_array_free(parts[j]);
				core_free(parts);
				return status;
			}
		}
		/* merge_parts owns the parts now */
		status = merge_parts(r->field, parts, r->num_leaves, out, err);
		core_free(parts);
		return status;
	}
}

/* ------------------------------------------------------------- prefetch */

typedef struct Prefetch
{
	LancePageRequest *reqs;
	PageCursor **cursors;
	int			count;
	int			cap;
} Prefetch;

static Status
prefetch_add(Prefetch *pf, PageCursor *c, uint64_t start, uint64_t count, CoreError *err)
{
	int			p;

	if (count == 0 || start >= cursor_rows(c))
		return CORE_OK;
	p = cursor_find(c, start);
	if (c->decoded_page == p || c->loaded_page == p || cursor_page_read(c, p) != PAGE_WHOLE)
		return CORE_OK;
	if (pf->count == pf->cap)
	{
		int			cap = pf->cap ? pf->cap * 2 : 16;
		LancePageRequest *reqs = core_realloc(pf->reqs, (size_t) cap * sizeof(LancePageRequest));
		PageCursor **cursors;

		if (reqs == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory");
		pf->reqs = reqs;
		cursors = core_realloc(pf->cursors, (size_t) cap * sizeof(PageCursor *));
		if (cursors == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory");
		pf->cursors = cursors;
		pf->cap = cap;
	}
	cursor_unload(c);
	pf->reqs[pf->count] = (LancePageRequest) {c->file, c->column, p, &c->loaded};
	pf->cursors[pf->count] = c;
	pf->count++;
	/* mark now so a cursor is not asked for twice */
	c->loaded_page = p;
	return CORE_OK;
}

static Status
prefetch_field(Prefetch *pf, FieldReader *r, uint64_t start, uint64_t count, CoreError *err)
{
	Status		status = CORE_OK;

	if (r->kind == FR_V20)
	{
		status = prefetch_add(pf, &r->cursor, start, count, err);
		/* struct members share the rows; list items are found when decoding */
		if (status == CORE_OK && r->field->type.id == LANCE_TYPE_STRUCT)
			for (int i = 0; i < r->num_children && status == CORE_OK; i++)
				status = prefetch_field(pf, r->children[i], start, count, err);
	}
	else if (r->kind == FR_V21)
		for (int i = 0; i < r->num_leaves && status == CORE_OK; i++)
			status = prefetch_add(pf, &r->leaf_cursors[i], start, count, err);
	return status;
}

CoreStatus
lance_fragment_reader_prefetch(LanceFragmentReader *fr, uint64_t start, uint64_t count,
							   CoreError *err)
{
	Prefetch	pf = {0};
	Status		status = CORE_OK;

	for (int i = 0; i < fr->num_fields && status == CORE_OK; i++)
		status = prefetch_field(&pf, fr->readers[i], start, count, err);
	if (status == CORE_OK && pf.count > 0)
		status = lance_file_read_pages(fr->st, pf.reqs, pf.count, err);
	if (status != CORE_OK)
		for (int i = 0; i < pf.count; i++)
			pf.cursors[i]->loaded_page = -1;
	core_free(pf.reqs);
	core_free(pf.cursors);
	return status;
}

/* ------------------------------------------------------------ the reader */

CoreStatus
lance_fragment_load_deletions(Storage *st, const char *dataset, const LanceFragmentRef *frag,
							  LanceDeletionSet **out, CoreError *err)
{
	char	   *path;
	uint8_t    *bytes;
	uint64_t	size;
	Status		status;
	uint32_t	max;

	*out = NULL;
	if (!frag->has_deletion)
		return CORE_OK;
	path = lance_path_join(dataset, frag->deletion.path);
	if (path == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = storage_read_all(st, path, MAX_DELETION_FILE_BYTES, &bytes, &size, err);
	if (status != CORE_OK)
	{
		core_free(path);
		return status;
	}
	status = lance_deletion_read(frag->deletion.kind, bytes, (size_t) size, out, err);
	core_free(bytes);
	if (status != CORE_OK)
	{
		core_error_prefix(err, "%s", path);
		core_free(path);
		return status;
	}
	/* 0 = not recorded (older writers); anything else must agree */
	if (frag->deletion.num_deleted_rows != 0 &&
		lance_deletion_count(*out) != frag->deletion.num_deleted_rows)
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s: deletion file holds %" PRIu64 " rows, the manifest says %" PRIu64,
							path, lance_deletion_count(*out), frag->deletion.num_deleted_rows);
	else if (lance_deletion_max(*out, &max) && (uint64_t) max >= frag->physical_rows)
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s: deletes row %u of a fragment of %" PRIu64 " rows",
							path, max, frag->physical_rows);
	core_free(path);
	if (status != CORE_OK)
	{
		lance_deletion_free(*out);
		*out = NULL;
	}
	return status;
}

void
lance_fragment_reader_close(LanceFragmentReader *fr)
{
	if (fr == NULL)
		return;
	for (int i = 0; i < fr->num_fields; i++)
		field_reader_free(fr->readers[i]);
	core_free(fr->readers);
	if (fr->files)
		for (int f = 0; f < fr->fragment->num_files; f++)
			lance_file_close(fr->files[f]);
	core_free(fr->files);
	lance_deletion_free(fr->deletions);
	core_free(fr->dataset);
	core_free(fr);
}

CoreStatus
lance_fragment_reader_open(Storage *st, const char *dataset, const LanceFragmentRef *frag,
						   const LanceField *const *fields, int num_fields,
						   LanceFragmentReader **out, CoreError *err)
{
	LanceFragmentReader *fr;
	Status		status;

	*out = NULL;
	fr = core_calloc(1, sizeof(LanceFragmentReader));
	if (fr == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	fr->st = st;
	fr->fragment = frag;
	fr->dataset = core_strdup(dataset ? dataset : "");
	fr->files = core_calloc((size_t) (frag->num_files ? frag->num_files : 1), sizeof(LanceFile *));
	fr->readers = core_calloc((size_t) (num_fields ? num_fields : 1), sizeof(FieldReader *));
	if (fr->dataset == NULL || fr->files == NULL || fr->readers == NULL)
	{
		lance_fragment_reader_close(fr);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	status = lance_fragment_load_deletions(st, dataset, frag, &fr->deletions, err);
	for (int i = 0; i < num_fields && status == CORE_OK; i++)
	{
		const LanceField *field = fields[i];
		int			f;
		int			col;
		const LanceField *probe = field;
		bool		v20 = false;

		/* the file of the field's own column (2.0) or of its first leaf (2.1+) */
		if (find_column(frag, field->id, &f, &col))
			v20 = frag->files[f].minor == 0;
		else
		{
			while (!lance_field_is_leaf(probe) && probe->num_children > 0)
				probe = probe->children[0];
			if (find_column(frag, probe->id, &f, &col))
				v20 = frag->files[f].minor == 0;
		}
		status = v20 ? make_reader20(fr, field, &fr->readers[i], err) :
			make_reader21(fr, field, &fr->readers[i], err);
		fr->num_fields = i + 1;
		if (status == CORE_OK && fr->readers[i]->kind != FR_NULL)
		{
			PageCursor *c = fr->readers[i]->kind == FR_V20 ? &fr->readers[i]->cursor :
				&fr->readers[i]->leaf_cursors[0];

			if (cursor_rows(c) != frag->physical_rows)
				status = core_error(err, CORE_ERR_CORRUPT,
									"%s: column %d holds %" PRIu64 " rows, fragment %" PRIu64 " has %" PRIu64,
									lance_file_path(c->file), c->column, cursor_rows(c), frag->id,
									frag->physical_rows);
			for (int l = 1; fr->readers[i]->kind == FR_V21 && l < fr->readers[i]->num_leaves &&
				 status == CORE_OK; l++)
			{
				PageCursor *lc = &fr->readers[i]->leaf_cursors[l];

				if (cursor_rows(lc) != frag->physical_rows)
					status = core_error(err, CORE_ERR_CORRUPT,
										"%s: column %d holds %" PRIu64 " rows, fragment %" PRIu64 " has %" PRIu64,
										lance_file_path(lc->file), lc->column, cursor_rows(lc), frag->id,
										frag->physical_rows);
			}
		}
	}
	if (status != CORE_OK)
	{
		lance_fragment_reader_close(fr);
		return status;
	}
	*out = fr;
	return CORE_OK;
}

CoreStatus
lance_fragment_reader_read(LanceFragmentReader *fr, uint64_t start, uint64_t count,
						   LanceArray **columns, CoreError *err)
{
	if (start > fr->fragment->physical_rows || count > fr->fragment->physical_rows - start)
		return core_error(err, CORE_ERR_INVALID,
						  "fragment %" PRIu64 " has %" PRIu64 " rows, rows [%" PRIu64 ", +%" PRIu64 ") were asked for",
						  fr->fragment->id, fr->fragment->physical_rows, start, count);
	for (int i = 0; i < fr->num_fields; i++)
	{
		Status		status = field_read(fr, fr->readers[i], start, count, &columns[i], err);

		if (status != CORE_OK)
		{
			for (int j = 0; j < i; j++)
			{
				lance_array_free(columns[j]);
				columns[j] = NULL;
			}
			return status;
		}
	}
	return CORE_OK;
}

const LanceDeletionSet *
lance_fragment_reader_deletions(const LanceFragmentReader *fr)
{
	return fr->deletions;
}
