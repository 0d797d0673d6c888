/*-------------------------------------------------------------------------
 *
 * manifest.c
 *	  Reading manifests and finding versions.
 *
 * Manifest file layout (FORMAT.md 4.1):
 *
 *	  [optional sections: u32 length + protobuf each]
 *	  manifest_pos:   u32 LE length, Manifest protobuf
 *	  size - 16:      u64 LE manifest_pos, u16 major, u16 minor, "LANC"
 *
 * The protobuf must end exactly where the footer begins.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/bytes.h"
#include "lance/manifest.h"
#include "lance/path.h"
#include "lance_table.pb-c.h"

#define MANIFEST_FOOTER_LEN 16
/* A manifest bigger than this is refused rather than read into memory. */
#define MANIFEST_MAX_BYTES (UINT64_C(1) << 30)

static const char *const flag_names[] = {
	"deletion files",			/* 1 */
	"stable row ids",			/* 2 */
	"v2 format",				/* 4 */
	"table config",				/* 8 */
	"multiple base paths",		/* 16 */
	"transaction files disabled",	/* 32 */
	"data overlay files",		/* 64 */
	"covered index metadata",	/* 128 */
	"mixed data file versions", /* 256 */
};

void
lance_manifest_free(LanceManifest *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < m->num_fragments; i++)
	{
		LanceFragmentRef *f = &m->fragments[i];

		for (int j = 0; j < f->num_files; j++)
		{
			core_free(f->files[j].path);
			core_free(f->files[j].field_ids);
			core_free(f->files[j].column_indices);
		}
		core_free(f->files);
		core_free(f->deletion.path);
	}
	core_free(m->fragments);
	lance_schema_free(m->schema);
	core_free(m->name);
	core_free(m->data_format);
	core_free(m->writer_library);
	core_free(m->writer_version);
	core_free(m);
}

/* Refuse reader flags we do not implement, naming each. */
static CoreStatus
check_reader_flags(const char *name, uint64_t flags, CoreError *err)
{
	uint64_t	unknown = flags & ~LANCE_READER_KNOWN_FLAGS;
	char		list[256] = "";
	size_t		used = 0;

	if (unknown == 0)
		return CORE_OK;
	for (int bit = 0; bit < 64; bit++)
	{
		uint64_t	v = UINT64_C(1) << bit;
		int			n;

		if (!(unknown & v))
			continue;
		if (bit < (int) (sizeof(flag_names) / sizeof(flag_names[0])))
			n = snprintf(list + used, sizeof(list) - used, "%s%" PRIu64 " (%s)",
						 used ? ", " : "", v, flag_names[bit]);
		else
			n = snprintf(list + used, sizeof(list) - used, "%s%" PRIu64,
						 used ? ", " : "", v);
		if (n < 0 || (size_t) n >= sizeof(list) - used)
			break;
		used += (size_t) n;
	}
	return core_error(err, CORE_ERR_UNSUPPORTED,
					  "%s: the dataset needs reader feature flag %s, which this reader does not support",
					  name, list);
}

static char *
dup_or_empty(const char *s)
{
	return core_strdup(s ? s : "");
}

/* Copy one fragment out of the protobuf, checking its data files. */
static CoreStatus
convert_fragment(const char *name, const Lt__DataFragment *pf, LanceFragmentRef *f,
				 CoreError *err)
{
	f->id = pf->id;
	f->physical_rows = pf->physical_rows;
	if (pf->n_files > INT32_MAX)
		return core_error(err, CORE_ERR_CORRUPT, "%s: fragment %" PRIu64 " has too many data files",
						  name, f->id);
	f->files = core_calloc(pf->n_files, sizeof(LanceDataFileRef));
	if (f->files == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	for (size_t j = 0; j < pf->n_files; j++)
	{
		const Lt__DataFile *pd = pf->files[j];
		LanceDataFileRef *d = &f->files[j];

		f->num_files = (int) j + 1;
		if (!lance_path_is_safe(pd->path))
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: fragment %" PRIu64 " data file %zu has path \"%s\", expected a relative path",
							  name, f->id, j, pd->path ? pd->path : "");
		if (pd->has_base_id)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: fragment %" PRIu64 " data file \"%s\" lives under base path %u; multiple base paths are not supported",
							  name, f->id, pd->path, pd->base_id);
		d->path = lance_path_join("data", pd->path);
		if (d->path == NULL)
			return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
		if (pd->n_column_indices != 0 && pd->n_column_indices != pd->n_fields)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: data file \"%s\" lists %zu fields but %zu column indices",
							  name, pd->path, pd->n_fields, pd->n_column_indices);
		if (pd->n_fields > INT32_MAX)
			return core_error(err, CORE_ERR_CORRUPT, "%s: data file \"%s\" has too many fields",
							  name, pd->path);
		d->num_fields = (int) pd->n_fields;
		d->field_ids = core_mallocarray(pd->n_fields, sizeof(int32_t));
		d->column_indices = core_mallocarray(pd->n_fields, sizeof(int32_t));
		if (d->field_ids == NULL || d->column_indices == NULL)
			return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
		for (size_t k = 0; k < pd->n_fields; k++)
		{
			d->field_ids[k] = pd->fields[k];
			/* legacy files have no column indices: the k-th field is column k */
			d->column_indices[k] = pd->n_column_indices ? pd->column_indices[k] : (int32_t) k;
		}
		d->major = pd->file_major_version;
		d->minor = pd->file_minor_version;
		d->size_bytes = pd->file_size_bytes;
	}
	if (pf->deletion_file)
	{
		const Lt__DeletionFile *pdel = pf->deletion_file;
		char		rel[128];

		if (pdel->file_type != LANCE_DELETION_ARROW && pdel->file_type != LANCE_DELETION_BITMAP)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: fragment %" PRIu64 " has a deletion file of unknown type %d",
							  name, f->id, (int) pdel->file_type);
		if (pdel->has_base_id)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: fragment %" PRIu64 " deletion file lives under base path %u; multiple base paths are not supported",
							  name, f->id, pdel->base_id);
		f->has_deletion = true;
		f->deletion.kind = (LanceDeletionFileType) pdel->file_type;
		f->deletion.read_version = pdel->read_version;
		f->deletion.id = pdel->id;
		f->deletion.num_deleted_rows = pdel->num_deleted_rows;
		snprintf(rel, sizeof(rel), "_deletions/%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".%s",
				 f->id, pdel->read_version, pdel->id,
				 pdel->file_type == LANCE_DELETION_BITMAP ? "bin" : "arrow");
		f->deletion.path = core_strdup(rel);
		if (f->deletion.path == NULL)
			return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
		if (pdel->num_deleted_rows > pf->physical_rows)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: fragment %" PRIu64 " deletes %" PRIu64 " rows of %" PRIu64,
							  name, f->id, pdel->num_deleted_rows, pf->physical_rows);
	}
	return CORE_OK;
}

static CoreStatus
convert_manifest(const char *name, const Lt__Manifest *pm, LanceManifest *m, CoreError *err)
{
	LanceFieldSpec *specs;
	CoreStatus	status;

	m->version = pm->version;
	if (pm->timestamp)
	{
		m->timestamp_sec = pm->timestamp->seconds;
		m->timestamp_nsec = pm->timestamp->nanos;
	}
	m->reader_flags = pm->reader_feature_flags;
	m->writer_flags = pm->writer_feature_flags;
	m->has_max_fragment_id = pm->has_max_fragment_id;
	m->max_fragment_id = pm->max_fragment_id;
	m->next_row_id = pm->next_row_id;
	m->data_format = dup_or_empty(pm->data_format ? pm->data_format->version : NULL);
	m->writer_library = dup_or_empty(pm->writer_version ? pm->writer_version->library : NULL);
	m->writer_version = dup_or_empty(pm->writer_version ? pm->writer_version->version : NULL);
	if (!m->data_format || !m->writer_library || !m->writer_version)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);

	status = check_reader_flags(name, m->reader_flags, err);
	if (status != CORE_OK)
		return status;
	if (pm->n_base_paths > 0)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: the dataset uses %zu base paths (shallow clone), which this reader does not support",
						  name, pm->n_base_paths);
	if (pm->n_fields > INT32_MAX || pm->n_fragments > INT32_MAX)
		return core_error(err, CORE_ERR_CORRUPT, "%s: too many fields or fragments", name);

	specs = core_calloc(pm->n_fields, sizeof(LanceFieldSpec));
	if (specs == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	for (size_t i = 0; i < pm->n_fields; i++)
	{
		specs[i].id = pm->fields[i]->id;
		/* proto3 omits 0: an absent parent_id is field 0, not top level */
		specs[i].parent_id = pm->fields[i]->parent_id;
		specs[i].name = pm->fields[i]->name;
		specs[i].logical_type = pm->fields[i]->logical_type;
		specs[i].nullable = pm->fields[i]->nullable;
	}
	status = lance_schema_build(specs, (int) pm->n_fields, name, &m->schema, err);
	core_free(specs);
	if (status != CORE_OK)
		return status;

	m->fragments = core_calloc(pm->n_fragments, sizeof(LanceFragmentRef));
	if (m->fragments == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	for (size_t i = 0; i < pm->n_fragments; i++)
	{
		m->num_fragments = (int) i + 1;
		status = convert_fragment(name, pm->fragments[i], &m->fragments[i], err);
		if (status != CORE_OK)
			return status;
		for (size_t j = 0; j < i; j++)
			if (m->fragments[j].id == m->fragments[i].id)
				return core_error(err, CORE_ERR_CORRUPT, "%s: fragment id %" PRIu64 " appears twice",
								  name, m->fragments[i].id);
		if (m->fragments[i].id > UINT32_MAX)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: fragment id %" PRIu64 " does not fit a row address",
							  name, m->fragments[i].id);
		if (m->fragments[i].physical_rows > UINT32_MAX)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: fragment %" PRIu64 " has %" PRIu64 " rows, more than a row address can hold",
							  name, m->fragments[i].id, m->fragments[i].physical_rows);
	}
	return CORE_OK;
}

CoreStatus
lance_manifest_parse(const uint8_t *bytes, uint64_t size, const char *name,
					 LanceManifest **out, CoreError *err)
{
	ByteSpan	file = span_make(bytes, size);
	ByteSpan	proto;
	uint64_t	pos = 0;
	uint32_t	len = 0;
	Lt__Manifest *pm;
	LanceManifest *m;
	CoreStatus	status;

	*out = NULL;
	if (size < MANIFEST_FOOTER_LEN + 4)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: manifest is %" PRIu64 " bytes, too short for a footer", name, size);
	if (memcmp(bytes + size - 4, "LANC", 4) != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: manifest does not end with the magic \"LANC\"", name);
	span_u64(file, size - MANIFEST_FOOTER_LEN, &pos);
	if (pos > size - MANIFEST_FOOTER_LEN - 4)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: manifest position %" PRIu64 " is past the footer at %" PRIu64,
						  name, pos, size - MANIFEST_FOOTER_LEN);
	span_u32(file, pos, &len);
	if ((uint64_t) len != size - MANIFEST_FOOTER_LEN - pos - 4)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: manifest at %" PRIu64 " says %u bytes, but %" PRIu64 " bytes lie before the footer",
						  name, pos, len, size - MANIFEST_FOOTER_LEN - pos - 4);
	if (!span_sub(file, pos + 4, len, &proto))
		return core_error(err, CORE_ERR_CORRUPT, "%s: manifest protobuf out of bounds", name);

	pm = lt__manifest__unpack(NULL, proto.len, proto.data);
	if (pm == NULL)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: manifest protobuf at %" PRIu64 " (%u bytes) does not parse",
						  name, pos + 4, len);
	m = core_calloc(1, sizeof(LanceManifest));
	if (m == NULL || (m->name = core_strdup(name)) == NULL)
	{
		core_free(m);
		lt__manifest__free_unpacked(pm, NULL);
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	}
	status = convert_manifest(name, pm, m, err);
	lt__manifest__free_unpacked(pm, NULL);
	if (status != CORE_OK)
	{
		lance_manifest_free(m);
		return status;
	}
	*out = m;
	return CORE_OK;
}

CoreStatus
lance_manifest_read(Storage *st, const char *path, LanceManifest **out, CoreError *err)
{
	uint8_t    *bytes;
	uint64_t	size;
	CoreStatus	status;

	*out = NULL;
	status = storage_read_all(st, path, MANIFEST_MAX_BYTES, &bytes, &size, err);
	if (status != CORE_OK)
		return status;
	status = lance_manifest_parse(bytes, size, path, out, err);
	core_free(bytes);
	return status;
}

/* ---------------------------------------------------------------- versions */

bool
lance_version_name_parse(const char *name, uint64_t *version, bool *is_v2)
{
	size_t		len = strlen(name);
	size_t		digits;
	uint64_t	v = 0;

	if (len <= 9 || strcmp(name + len - 9, ".manifest") != 0)
		return false;
	digits = len - 9;
	if (digits > 20)
		return false;
	for (size_t i = 0; i < digits; i++)
	{
		unsigned	d;

		if (name[i] < '0' || name[i] > '9')
			return false;
		d = (unsigned) (name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (digits == 20)
	{
		/* V2: the name is u64::MAX - version, zero padded */
		*is_v2 = true;
		*version = UINT64_MAX - v;
	}
	else
	{
		*is_v2 = false;
		*version = v;
	}
	return *version != 0;
}

void
lance_version_name(uint64_t version, bool v2, char *buf, size_t buflen)
{
	if (v2)
		snprintf(buf, buflen, "%020" PRIu64 ".manifest", UINT64_MAX - version);
	else
		snprintf(buf, buflen, "%" PRIu64 ".manifest", version);
}

void
lance_versions_free(LanceVersionList *list)
{
	if (list == NULL)
		return;
	for (int i = 0; i < list->count; i++)
		core_free(list->entries[i].path);
	core_free(list->entries);
	core_free(list);
}

static int
compare_versions(const void *a, const void *b)
{
	uint64_t	x = ((const LanceVersionEntry *) a)->version;
	uint64_t	y = ((const LanceVersionEntry *) b)->version;

	return x < y ? -1 : x > y;
}

CoreStatus
lance_versions_list(Storage *st, const char *dataset, LanceVersionList **out, CoreError *err)
{
	char	   *dir;
	StorageListing *listing = NULL;
	LanceVersionList *list;
	CoreStatus	status;
	int			n_v1 = 0;
	int			n_v2 = 0;

	*out = NULL;
	dir = lance_path_join(dataset, "_versions");
	if (dir == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = storage_list(st, dir, &listing, err);
	if (status != CORE_OK)
	{
		core_free(dir);
		return status;
	}
	list = core_calloc(1, sizeof(LanceVersionList));
	if (list == NULL || (listing->count > 0 &&
						 (list->entries = core_calloc(listing->count, sizeof(LanceVersionEntry))) == NULL))
	{
		core_free(list);
		storage_listing_free(listing);
		core_free(dir);
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing versions");
	}
	for (size_t i = 0; i < listing->count; i++)
	{
		uint64_t	v;
		bool		v2;
		LanceVersionEntry *e;

		if (listing->entries[i].is_dir)
			continue;
		/* skips detached (d...), staging and hint files */
		if (!lance_version_name_parse(listing->entries[i].name, &v, &v2))
			continue;
		if (v2)
			n_v2++;
		else
			n_v1++;
		e = &list->entries[list->count];
		e->version = v;
		e->path = lance_path_join(dir, listing->entries[i].name);
		if (e->path == NULL)
		{
			lance_versions_free(list);
			storage_listing_free(listing);
			core_free(dir);
			return core_error(err, CORE_ERR_NOMEM, "out of memory listing versions");
		}
		list->count++;
	}
	storage_listing_free(listing);
	if (list->count == 0)
	{
		status = core_error(err, CORE_ERR_NOT_FOUND, "%s/%s: no manifests; not a Lance dataset",
							storage_root(st), dir);
		core_free(dir);
		lance_versions_free(list);
		return status;
	}
	if (n_v1 > 0 && n_v2 > 0)
	{
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s/%s: manifests use both naming schemes (%d V1, %d V2)",
							storage_root(st), dir, n_v1, n_v2);
		core_free(dir);
		lance_versions_free(list);
		return status;
	}
	core_free(dir);
	qsort(list->entries, list->count, sizeof(LanceVersionEntry), compare_versions);
	for (int i = 1; i < list->count; i++)
		if (list->entries[i].version == list->entries[i - 1].version)
		{
			status = core_error(err, CORE_ERR_CORRUPT, "%s: version %" PRIu64 " has two manifests",
								list->entries[i].path, list->entries[i].version);
			lance_versions_free(list);
			return status;
		}
	*out = list;
	return CORE_OK;
}
