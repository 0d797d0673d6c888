/*-------------------------------------------------------------------------
 *
 * take_vectors.c
 *	  Vectors by row address with one ranged read each (full-zip pages).
 *
 * A full-zip page without repetition or definition levels (every row
 * present and valid: the layout's only layer is ALL_VALID_ITEM) of fixed
 * width stores row r's value at r * width bytes of buffer 0; a
 * fixed_size_list of flat, uncompressed float32 items is such a value.
 * Every other case is refused before anything is read.
 *
 *-------------------------------------------------------------------------
 */
#include "lance/take_vectors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/dataset.h"
#include "lance/datafile.h"
#include "lance/pbguard.h"
#include "lance_enc21.pb-c.h"

#define LAYER_ALL_VALID_ITEM 1

/* The data files opened by one call, by path. */
typedef struct OpenFiles
{
	int			count;
	char	  **paths;
	LanceFile **files;
} OpenFiles;

static CoreStatus
get_file(Storage *st, OpenFiles *of, const char *dataset, const LanceDataFileRef *ref,
		 LanceFile **out, CoreError *err)
{
	char	   *path = core_malloc(strlen(dataset) + strlen(ref->path) + 2);
	CoreStatus	status;

	if (path == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	sprintf(path, "%s%s%s", dataset, dataset[0] ? "/" : "", ref->path);
	for (int i = 0; i < of->count; i++)
	{
		if (strcmp(of->paths[i], path) == 0)
		{
			core_free(path);
			*out = of->files[i];
			return CORE_OK;
		}
	}
	status = lance_file_open(st, path, ref->size_bytes, out, err);
	if (status != CORE_OK)
	{
		core_free(path);
		return status;
	}
	of->paths[of->count] = path;
	of->files[of->count++] = *out;
	return CORE_OK;
}

/* Whether a page stores each row as `width` bytes at row * width of buffer 0. */
static bool
fixed_float_rows(ByteSpan encoding, int dim)
{
	Le21__PageLayout *layout;
	const Le21__FullZipLayout *fz;
	const Le21__CompressiveEncoding *vc;
	bool		ok;

	if (!pbguard_ok(encoding.data, encoding.len) ||
		(layout = le21__page_layout__unpack(NULL, encoding.len, encoding.data)) == NULL)
		return false;
	fz = layout->layout_case == LE21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT
		? layout->full_zip_layout : NULL;
	vc = fz ? fz->value_compression : NULL;
	ok = fz != NULL && fz->bits_rep == 0 && fz->bits_def == 0 &&
		fz->n_layers == 1 && fz->layers[0] == LAYER_ALL_VALID_ITEM &&
		fz->details_case == LE21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE &&
		fz->bits_per_value == (uint32_t) dim * 32 &&
		vc != NULL && vc->compression_case == LE21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST &&
		vc->fixed_size_list->items_per_value == (uint64_t) dim &&
		!vc->fixed_size_list->has_validity &&
		vc->fixed_size_list->values != NULL &&
		vc->fixed_size_list->values->compression_case == LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT &&
		vc->fixed_size_list->values->flat->bits_per_value == 32 &&
		vc->fixed_size_list->values->flat->data == NULL;
	le21__page_layout__free_unpacked(layout, NULL);
	return ok;
}

/* The range of row `offset` of a fragment's vector column, or a refusal. */
static CoreStatus
locate_row(Storage *st, OpenFiles *of, const char *dataset, const LanceFragmentRef *frag,
		   const LanceField *field, uint32_t offset, StorageRange *range, CoreError *err)
{
	uint64_t	width = (uint64_t) field->type.fixed_size * sizeof(float);
	const LanceColumnInfo *ci;
	LanceFile  *file;
	uint64_t	start = 0;
	int			col = -1;
	int			f = -1;
	CoreStatus	status;

	for (int i = 0; i < frag->num_files && f < 0; i++)
	{
		for (int j = 0; j < frag->files[i].num_fields && f < 0; j++)
		{
			if (frag->files[i].field_ids[j] == field->id && frag->files[i].column_indices != NULL)
			{
				f = i;
				col = frag->files[i].column_indices[j];
			}
		}
	}
	if (f < 0 || col < 0 || frag->files[f].major != 2 || frag->files[f].minor < 1)
		return core_error(err, CORE_ERR_UNSUPPORTED, "fragment %" PRIu64 ": column \"%s\" is not in a 2.1+ file",
						  frag->id, field->name);
	status = get_file(st, of, dataset, &frag->files[f], &file, err);
	if (status == CORE_OK)
		status = lance_file_column(file, col, &ci, err);
	if (status != CORE_OK)
		return status;
	for (int p = 0; p < ci->num_pages; p++)
	{
		const LancePageInfo *pi = &ci->pages[p];
		uint64_t	r = offset - start;

		if (pi->num_rows > UINT64_MAX - start)
			return core_error(err, CORE_ERR_CORRUPT, "%s: column %d page %d: row counts overflow",
							  lance_file_path(file), col, p);
		if (offset >= start + pi->num_rows)
		{
			start += pi->num_rows;
			continue;
		}
		if (pi->num_buffers < 1 || !fixed_float_rows(pi->encoding, field->type.fixed_size) ||
			width == 0 || r >= pi->buffer_sizes[0] / width)
			return core_error(err, CORE_ERR_UNSUPPORTED, "%s: column %d page %d is not full-zip fixed-width vectors",
							  lance_file_path(file), col, p);
		range->path = lance_file_path(file);
		range->offset = pi->buffer_offsets[0] + r * width;
		range->length = width;
		return CORE_OK;
	}
	return core_error(err, CORE_ERR_INVALID, "%s: row %u is past the column's %" PRIu64 " rows",
					  lance_file_path(file), offset, start);
}

/* File, then offset order: the store then opens each file once, reads forward. */
static int
cmp_range(const void *a, const void *b)
{
	const StorageRange *x = a;
	const StorageRange *y = b;
	int			c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

CoreStatus
lance_take_vectors(Storage *st, const char *dataset, const LanceManifest *m,
				   const LanceField *field, const uint64_t *addrs, int64_t n, float *out,
				   CoreError *err)
{
	OpenFiles	of = {0};
	StorageRange *ranges;
	CoreStatus	status = CORE_OK;

	if (field->type.id != LANCE_TYPE_FIXED_SIZE_LIST || field->type.item == NULL ||
		field->type.item->id != LANCE_TYPE_FLOAT32 || field->type.fixed_size <= 0)
		return core_error(err, CORE_ERR_UNSUPPORTED, "column \"%s\" is not a float32 vector", field->name);
	if (n <= 0)
		return CORE_OK;
	ranges = core_calloc((size_t) n, sizeof(StorageRange));
	of.paths = core_calloc((size_t) n, sizeof(char *));
	of.files = core_calloc((size_t) n, sizeof(LanceFile *));
	if (ranges == NULL || of.paths == NULL || of.files == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory");
	for (int64_t i = 0; status == CORE_OK && i < n; i++)
	{
		uint32_t	fid = LANCE_ROW_ADDR_FRAGMENT(addrs[i]);
		const LanceFragmentRef *frag = NULL;

		for (int f = 0; f < m->num_fragments && frag == NULL; f++)
		{
			if (m->fragments[f].id == fid)
				frag = &m->fragments[f];
		}
		if (frag == NULL)
			status = core_error(err, CORE_ERR_INVALID, "row address %" PRIu64 ": no fragment %u",
								addrs[i], fid);
		else
			status = locate_row(st, &of, dataset, frag, field, LANCE_ROW_ADDR_OFFSET(addrs[i]),
								&ranges[i], err);
		ranges[i].dest = (uint8_t *) (out + i * field->type.fixed_size);
	}
	if (status == CORE_OK)
	{
		qsort(ranges, (size_t) n, sizeof(StorageRange), cmp_range);
		status = storage_read_many(st, ranges, (size_t) n, err);
	}
	for (int i = 0; i < of.count; i++)
	{
		lance_file_close(of.files[i]);
		core_free(of.paths[i]);
	}
	core_free(of.paths);
	core_free(of.files);
	core_free(ranges);
	return status;
}
