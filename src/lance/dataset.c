/*-------------------------------------------------------------------------
 *
 * dataset.c
 *	  Opening a dataset version, scanning it, and taking rows by address.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/sorted.h"
#include "lance/dataset.h"
#include "lance/fragment.h"

#define DEFAULT_BATCH_ROWS 8192

struct LanceDataset
{
	Storage    *st;
	char	   *path;
	LanceManifest *manifest;
};

struct LanceScanner
{
	LanceDataset *ds;
	int			num_columns;
	const LanceField **fields;
	int64_t		batch_rows;
	int		   *order;			/* indexes into manifest->fragments */
	int			num_order;
	int			next_fragment;	/* position in order */
	LanceFragmentReader *reader;
	const LanceFragmentRef *fragment;
	uint64_t	row;			/* next physical row of the fragment */
};

typedef CoreStatus Status;

/* ---------------------------------------------------------------- dataset */

CoreStatus
lance_dataset_open(Storage *st, const char *path, uint64_t version, LanceDataset **out,
				   CoreError *err)
{
	LanceVersionList *versions;
	LanceDataset *ds;
	const LanceVersionEntry *entry = NULL;
	Status		status;

	*out = NULL;
	if (path == NULL)
		path = "";
	status = lance_versions_list(st, path, &versions, err);
	if (status != CORE_OK)
		return status;
	if (version == 0)
		entry = &versions->entries[versions->count - 1];
	else
		for (int i = 0; i < versions->count; i++)
			if (versions->entries[i].version == version)
				entry = &versions->entries[i];
	if (entry == NULL)
	{
		status = core_error(err, CORE_ERR_NOT_FOUND,
							"%s/%s: version %" PRIu64 " does not exist (versions %" PRIu64 " to %" PRIu64 " do)",
							storage_root(st), path, version, versions->entries[0].version,
							versions->entries[versions->count - 1].version);
		lance_versions_free(versions);
		return status;
	}
	ds = core_calloc(1, sizeof(LanceDataset));
	if (ds == NULL || (ds->path = core_strdup(path)) == NULL)
	{
		core_free(ds);
		lance_versions_free(versions);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	ds->st = st;
	status = lance_manifest_read(st, entry->path, &ds->manifest, err);
	if (status == CORE_OK && ds->manifest->version != entry->version)
		status = core_error(err, CORE_ERR_CORRUPT, "%s: manifest says version %" PRIu64 ", its name says %" PRIu64,
							entry->path, ds->manifest->version, entry->version);
	lance_versions_free(versions);
	if (status != CORE_OK)
	{
		lance_dataset_close(ds);
		return status;
	}
	*out = ds;
	return CORE_OK;
}

CoreStatus
lance_dataset_open_manifest(Storage *st, const char *path, LanceManifest *manifest,
							LanceDataset **out, CoreError *err)
{
	LanceDataset *ds = core_calloc(1, sizeof(LanceDataset));

	*out = NULL;
	if (ds == NULL || (ds->path = core_strdup(path ? path : "")) == NULL)
	{
		core_free(ds);
		lance_manifest_free(manifest);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	ds->st = st;
	ds->manifest = manifest;
	*out = ds;
	return CORE_OK;
}

void
lance_dataset_close(LanceDataset *ds)
{
	if (ds == NULL)
		return;
	lance_manifest_free(ds->manifest);
	core_free(ds->path);
	core_free(ds);
}

const LanceManifest *
lance_dataset_manifest(const LanceDataset *ds)
{
	return ds->manifest;
}

const LanceSchema *
lance_dataset_schema(const LanceDataset *ds)
{
	return ds->manifest->schema;
}

uint64_t
lance_dataset_version(const LanceDataset *ds)
{
	return ds->manifest->version;
}

static uint64_t
manifest_live_rows(const LanceManifest *m)
{
	uint64_t	n = 0;

	for (int i = 0; i < m->num_fragments; i++)
	{
		const LanceFragmentRef *f = &m->fragments[i];

		n += f->physical_rows - (f->has_deletion ? f->deletion.num_deleted_rows : 0);
	}
	return n;
}

uint64_t
lance_dataset_count_rows(const LanceDataset *ds)
{
	return manifest_live_rows(ds->manifest);
}

CoreStatus
lance_dataset_versions(Storage *st, const char *path, LanceVersionInfo **out, int *count,
					   CoreError *err)
{
	LanceVersionList *versions;
	LanceVersionInfo *info;
	Status		status;

	*out = NULL;
	*count = 0;
	status = lance_versions_list(st, path ? path : "", &versions, err);
	if (status != CORE_OK)
		return status;
	info = core_calloc((size_t) versions->count, sizeof(LanceVersionInfo));
	if (info == NULL)
	{
		lance_versions_free(versions);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	for (int i = 0; i < versions->count; i++)
	{
		LanceManifest *m;

		status = lance_manifest_read(st, versions->entries[i].path, &m, err);
		if (status != CORE_OK)
		{
			core_free(info);
			lance_versions_free(versions);
			return status;
		}
		info[i].version = m->version;
		info[i].timestamp_sec = m->timestamp_sec;
		info[i].timestamp_nsec = m->timestamp_nsec;
		info[i].num_rows = manifest_live_rows(m);
		info[i].num_fragments = m->num_fragments;
		lance_manifest_free(m);
	}
	*count = versions->count;
	lance_versions_free(versions);
	*out = info;
	return CORE_OK;
}

/* Top-level fields by name (NULL names: all of them, in schema order). */
static Status
resolve_columns(const LanceDataset *ds, const char *const *names, int n,
				const LanceField ***fields, int *num, CoreError *err)
{
	const LanceSchema *schema = ds->manifest->schema;
	int			count = names ? n : lance_schema_num_top(schema);
	const LanceField **out;

	*fields = NULL;
	*num = 0;
	if (count < 0)
		return core_error(err, CORE_ERR_INVALID, "negative column count");
	out = core_calloc((size_t) (count ? count : 1), sizeof(LanceField *));
	if (out == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	for (int i = 0; i < count; i++)
	{
		out[i] = names ? lance_schema_find_top(schema, names[i]) : lance_schema_top(schema, i);
		if (out[i] == NULL)
		{
			core_free(out);
			return core_error(err, CORE_ERR_INVALID,
							  "%s/%s: column \"%s\" does not exist in version %" PRIu64,
							  storage_root(ds->st), ds->path, names[i], ds->manifest->version);
		}
	}
	*fields = out;
	*num = count;
	return CORE_OK;
}

void
lance_batch_free(LanceBatch *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < b->num_columns; i++)
		lance_array_free(b->columns[i]);
	core_free(b->columns);
	core_free(b->fields);
	core_free(b->row_addrs);
	core_free(b);
}

static Status
batch_new(int ncols, const LanceField **fields, int64_t rows, LanceBatch **out, CoreError *err)
{
	LanceBatch *b = core_calloc(1, sizeof(LanceBatch));

	*out = NULL;
	if (b == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	b->columns = core_calloc((size_t) (ncols ? ncols : 1), sizeof(LanceArray *));
	b->fields = core_calloc((size_t) (ncols ? ncols : 1), sizeof(LanceField *));
	b->row_addrs = core_calloc((size_t) (rows ? rows : 1), sizeof(uint64_t));
	if (!b->columns || !b->fields || !b->row_addrs)
	{
		lance_batch_free(b);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	b->num_columns = ncols;
	memcpy(b->fields, fields, sizeof(LanceField *) * (size_t) ncols);
	b->num_rows = rows;
	*out = b;
	return CORE_OK;
}

/* ---------------------------------------------------------------- scanner */

CoreStatus
lance_scanner_open(LanceDataset *ds, const LanceScanOptions *opts, LanceScanner **out,
				   CoreError *err)
{
	LanceScanner *sc;
	const LanceManifest *m = ds->manifest;
	Status		status;

	*out = NULL;
	sc = core_calloc(1, sizeof(LanceScanner));
	if (sc == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	sc->ds = ds;
	sc->batch_rows = (opts && opts->batch_rows > 0) ? opts->batch_rows : DEFAULT_BATCH_ROWS;
	status = resolve_columns(ds, opts ? opts->columns : NULL, opts ? opts->num_columns : 0,
							 &sc->fields, &sc->num_columns, err);
	if (status != CORE_OK)
	{
		core_free(sc);
		return status;
	}
	if (opts && opts->fragment_ids)
	{
		sc->order = core_calloc((size_t) (opts->num_fragment_ids ? opts->num_fragment_ids : 1), sizeof(int));
		if (sc->order == NULL)
		{
			lance_scanner_close(sc);
			return core_error(err, CORE_ERR_NOMEM, "out of memory");
		}
		for (int i = 0; i < opts->num_fragment_ids; i++)
		{
			int			found = -1;

			for (int f = 0; f < m->num_fragments; f++)
				if (m->fragments[f].id == opts->fragment_ids[i])
					found = f;
			if (found < 0)
			{
				status = core_error(err, CORE_ERR_INVALID, "%s: version %" PRIu64 " has no fragment %" PRIu64,
									ds->path, m->version, opts->fragment_ids[i]);
				lance_scanner_close(sc);
				return status;
			}
			sc->order[sc->num_order++] = found;
		}
	}
	else
	{
		sc->order = core_calloc((size_t) (m->num_fragments ? m->num_fragments : 1), sizeof(int));
		if (sc->order == NULL)
		{
			lance_scanner_close(sc);
			return core_error(err, CORE_ERR_NOMEM, "out of memory");
		}
		for (int f = 0; f < m->num_fragments; f++)
			sc->order[sc->num_order++] = f;
	}
	*out = sc;
	return CORE_OK;
}

int
lance_scanner_num_columns(const LanceScanner *sc)
{
	return sc->num_columns;
}

const LanceField *
lance_scanner_field(const LanceScanner *sc, int i)
{
	return (i >= 0 && i < sc->num_columns) ? sc->fields[i] : NULL;
}

void
lance_scanner_close(LanceScanner *sc)
{
	if (sc == NULL)
		return;
	lance_fragment_reader_close(sc->reader);
	core_free(sc->fields);
	core_free(sc->order);
	core_free(sc);
}

/* A copy of the rows of src whose mask byte is 0. */
static Status
drop_masked(const LanceArray *src, const uint8_t *mask, int64_t n, LanceArray **out,
			CoreError *err)
{
	Status		status = lance_array_new_like(src, out, err);
	int64_t		i = 0;

	while (status == CORE_OK && i < n)
	{
		int64_t		j;

		if (mask[i])
		{
			i++;
			continue;
		}
		for (j = i; j < n && !mask[j]; j++)
			;
		status = lance_array_append(*out, src, i, j - i, err);
		i = j;
	}
	if (status != CORE_OK)
	{
		lance_array_free(*out);
		*out = NULL;
	}
	return status;
}

CoreStatus
lance_scanner_next(LanceScanner *sc, LanceBatch **out, CoreError *err)
{
	const LanceManifest *m = sc->ds->manifest;
	uint8_t    *mask = NULL;
	Status		status;

	*out = NULL;
	while (sc->next_fragment < sc->num_order || sc->reader)
	{
		const LanceFragmentRef *frag;
		const LanceDeletionSet *del;
		uint64_t	n;
		int64_t		live;
		LanceBatch *b;
		LanceArray **cols;

		if (sc->reader == NULL)
		{
			frag = &m->fragments[sc->order[sc->next_fragment++]];
			if (frag->physical_rows == 0)
				continue;
			status = lance_fragment_reader_open(sc->ds->st, sc->ds->path, frag, sc->fields,
												sc->num_columns, &sc->reader, err);
			if (status != CORE_OK)
				return status;
			sc->fragment = frag;
			sc->row = 0;
		}
		frag = sc->fragment;
		if (sc->row >= frag->physical_rows)
		{
			lance_fragment_reader_close(sc->reader);
			sc->reader = NULL;
			continue;
		}
		n = frag->physical_rows - sc->row;
		if (n > (uint64_t) sc->batch_rows)
			n = (uint64_t) sc->batch_rows;

		del = lance_fragment_reader_deletions(sc->reader);
		live = (int64_t) n;
		if (del)
		{
			mask = core_malloc((size_t) n);
			if (mask == NULL)
				return core_error(err, CORE_ERR_NOMEM, "out of memory");
			lance_deletion_mask(del, sc->row, (size_t) n, mask);
			for (uint64_t i = 0; i < n; i++)
				live -= mask[i] ? 1 : 0;
			if (live == 0)
			{
				/* a wholly deleted stretch: nothing to read */
				core_free(mask);
				mask = NULL;
				sc->row += n;
				continue;
			}
		}

		status = batch_new(sc->num_columns, sc->fields, live, &b, err);
		if (status != CORE_OK)
			goto fail;
		cols = b->columns;
		status = lance_fragment_reader_prefetch(sc->reader, sc->row, n, err);
		if (status == CORE_OK)
			status = lance_fragment_reader_read(sc->reader, sc->row, n, cols, err);
		if (status != CORE_OK)
		{
			/* read() cleared the columns it had made */
			memset(cols, 0, sizeof(LanceArray *) * (size_t) sc->num_columns);
			lance_batch_free(b);
			goto fail;
		}
		if (mask && live < (int64_t) n)
		{
			for (int c = 0; c < sc->num_columns; c++)
			{
				LanceArray *kept;

				status = drop_masked(cols[c], mask, (int64_t) n, &kept, err);
				if (status != CORE_OK)
				{
					lance_batch_free(b);
					goto fail;
				}
				lance_array_free(cols[c]);
				cols[c] = kept;
			}
		}
		{
			int64_t		k = 0;

			for (uint64_t i = 0; i < n; i++)
				if (mask == NULL || !mask[i])
					b->row_addrs[k++] = LANCE_ROW_ADDR(frag->id, sc->row + i);
		}
		core_free(mask);
		sc->row += n;
		*out = b;
		return CORE_OK;
	}
	return CORE_OK;

fail:
	core_free(mask);
	return status;
}

/* ------------------------------------------------------------------- take */

static int
compare_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

CoreStatus
lance_dataset_take(LanceDataset *ds, const uint64_t *row_addrs, int64_t count,
				   const char *const *columns, int num_columns, LanceBatch **out,
				   CoreError *err)
{
	const LanceManifest *m = ds->manifest;
	const LanceField **fields = NULL;
	int			nfields = 0;
	uint64_t   *uniq = NULL;
	int64_t		nuniq = 0;
	LanceArray **acc = NULL;
	LanceBatch *b = NULL;
	Status		status;

	*out = NULL;
	if (count < 0)
		return core_error(err, CORE_ERR_INVALID, "negative row count");
	status = resolve_columns(ds, columns, num_columns, &fields, &nfields, err);
	if (status != CORE_OK)
		return status;
	uniq = core_mallocarray((size_t) (count ? count : 1), sizeof(uint64_t));
	acc = core_calloc((size_t) (nfields ? nfields : 1), sizeof(LanceArray *));
	if (uniq == NULL || acc == NULL)
	{
		status = core_error(err, CORE_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (count)
		memcpy(uniq, row_addrs, sizeof(uint64_t) * (size_t) count);
	qsort(uniq, (size_t) count, sizeof(uint64_t), compare_u64);
	for (int64_t i = 0; i < count; i++)
		if (nuniq == 0 || uniq[nuniq - 1] != uniq[i])
			uniq[nuniq++] = uniq[i];
	for (int c = 0; c < nfields && status == CORE_OK; c++)
		status = lance_array_new_for_field(fields[c], &acc[c], err);
	if (status != CORE_OK)
		goto done;

	/* read the unique addresses fragment by fragment, in runs */
	for (int64_t i = 0; i < nuniq && status == CORE_OK;)
	{
		uint32_t	fid = LANCE_ROW_ADDR_FRAGMENT(uniq[i]);
		const LanceFragmentRef *frag = NULL;
		LanceFragmentReader *fr = NULL;
		const LanceDeletionSet *del;
		int64_t		end;

		for (int f = 0; f < m->num_fragments; f++)
			if (m->fragments[f].id == fid)
				frag = &m->fragments[f];
		for (end = i; end < nuniq && LANCE_ROW_ADDR_FRAGMENT(uniq[end]) == fid; end++)
			;
		if (frag == NULL)
		{
			status = core_error(err, CORE_ERR_INVALID,
								"row address %" PRIu64 ": version %" PRIu64 " has no fragment %u",
								uniq[i], m->version, fid);
			break;
		}
		if (LANCE_ROW_ADDR_OFFSET(uniq[end - 1]) >= frag->physical_rows)
		{
			status = core_error(err, CORE_ERR_INVALID,
								"row address %" PRIu64 ": fragment %u has only %" PRIu64 " rows",
								uniq[end - 1], fid, frag->physical_rows);
			break;
		}
		status = lance_fragment_reader_open(ds->st, ds->path, frag, fields, nfields, &fr, err);
		if (status != CORE_OK)
			break;
		del = lance_fragment_reader_deletions(fr);
		while (i < end && status == CORE_OK)
		{
			uint32_t	start = LANCE_ROW_ADDR_OFFSET(uniq[i]);
			int64_t		run = 1;
			LanceArray **cols;

			if (del && lance_deletion_contains(del, start))
			{
				status = core_error(err, CORE_ERR_INVALID,
									"row address %" PRIu64 " (fragment %u, row %u) is deleted",
									uniq[i], fid, start);
				break;
			}
			while (i + run < end && LANCE_ROW_ADDR_OFFSET(uniq[i + run]) == start + run &&
				   !(del && lance_deletion_contains(del, start + (uint32_t) run)))
				run++;
			cols = core_calloc((size_t) (nfields ? nfields : 1), sizeof(LanceArray *));
			if (cols == NULL)
			{
				status = core_error(err, CORE_ERR_NOMEM, "out of memory");
				break;
			}
			status = lance_fragment_reader_read(fr, start, (uint64_t) run, cols, err);
			for (int c = 0; c < nfields && status == CORE_OK; c++)
				status = lance_array_append(acc[c], cols[c], 0, run, err);
			for (int c = 0; c < nfields; c++)
				lance_array_free(cols[c]);
			core_free(cols);
			i += run;
		}
		lance_fragment_reader_close(fr);
	}
	if (status != CORE_OK)
		goto done;

	/* put the rows in the order asked for */
	status = batch_new(nfields, fields, count, &b, err);
	if (status == CORE_OK)
	{
		int64_t    *rows = core_mallocarray((size_t) (count ? count : 1), sizeof(int64_t));

		if (rows == NULL)
			status = core_error(err, CORE_ERR_NOMEM, "out of memory");
		for (int64_t i = 0; i < count && status == CORE_OK; i++)
			/* each address is among the unique ones */
			rows[i] = (int64_t) core_lower_bound_u64(uniq, 0, (size_t) nuniq, row_addrs[i]);
		for (int c = 0; c < nfields && status == CORE_OK; c++)
		{
			status = lance_array_new_like(acc[c], &b->columns[c], err);
			if (status == CORE_OK)
				status = lance_array_append_rows(b->columns[c], acc[c], rows, count, err);
		}
		core_free(rows);
	}
	if (status == CORE_OK)
	{
		if (count)
			memcpy(b->row_addrs, row_addrs, sizeof(uint64_t) * (size_t) count);
		*out = b;
		b = NULL;
	}

done:
	lance_batch_free(b);
	if (acc)
		for (int c = 0; c < nfields; c++)
			lance_array_free(acc[c]);
	core_free(acc);
	core_free(uniq);
	core_free(fields);
	return status;
}
