/*-------------------------------------------------------------------------
 *
 * index_meta.c
 *	  Reading a manifest's index section.
 *
 * The manifest file ends with a 16-byte footer whose first 8 bytes give
 * the position of the length-prefixed Manifest protobuf; its field
 * index_section gives the position of the length-prefixed IndexSection.
 * Both positions and lengths come from the file, so each is checked
 * against the file's size before use.
 *
 *-------------------------------------------------------------------------
 */
#include "lance/index_meta.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <roaring/roaring.h>

#include "core/alloc.h"
#include "lance/bytes.h"
#include "lance_table.pb-c.h"

#define FOOTER_LEN 16
#define MANIFEST_MAX_BYTES (UINT64_C(1) << 30)

/* The length-prefixed protobuf at pos, within the file. */
static CoreStatus
prefixed_message(ByteSpan file, uint64_t pos, const char *name, const char *what,
				 ByteSpan *out, CoreError *err)
{
	uint32_t	len;

	if (!span_u32(file, pos, &len) || !span_sub(file, pos + 4, len, out))
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %s at %" PRIu64 " runs past the end of the file (%" PRIu64 " bytes)",
						  name, what, pos, file.len);
	return CORE_OK;
}

/* Fill one entry from its protobuf; the list owns what it allocates. */
static CoreStatus
convert_index(const char *name, const Lt__IndexMetadata *pi, LanceIndexInfo *info,
			  CoreError *err)
{
	const char *type_url = "";
	const char *slash;

	if (pi->uuid != NULL && pi->uuid->has_uuid && pi->uuid->uuid.len == 16)
	{
		const uint8_t *u = pi->uuid->uuid.data;

		snprintf(info->uuid, sizeof(info->uuid),
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
				 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
				 u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	}
	else
		return core_error(err, CORE_ERR_CORRUPT, "%s: index \"%s\" has no 16-byte uuid",
						  name, pi->name ? pi->name : "");

	if (pi->index_details != NULL && pi->index_details->type_url != NULL)
		type_url = pi->index_details->type_url;
	slash = strrchr(type_url, '/');
	if (slash != NULL)
		type_url = slash + 1;
	/* "lance.table.BTreeIndexDetails": keep the message's own name */
	slash = strrchr(type_url, '.');
	if (slash != NULL)
		type_url = slash + 1;

	info->name = core_strdup(pi->name ? pi->name : "");
	info->details_type = core_strdup(type_url);
	info->num_fields = (int) pi->n_fields;
	info->field_ids = core_mallocarray(pi->n_fields ? pi->n_fields : 1, sizeof(int32_t));
	if (info->name == NULL || info->details_type == NULL || info->field_ids == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	if (pi->n_fields > 0)
		memcpy(info->field_ids, pi->fields, pi->n_fields * sizeof(int32_t));
	info->dataset_version = pi->has_dataset_version ? pi->dataset_version : 0;

	if (pi->has_fragment_bitmap)
	{
		roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe((const char *) pi->fragment_bitmap.data,
																		 pi->fragment_bitmap.len);
		uint64_t	n;

		if (bm == NULL)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: index \"%s\": fragment bitmap (%zu bytes) is not a Roaring bitmap",
							  name, info->name, pi->fragment_bitmap.len);
		n = roaring_bitmap_get_cardinality(bm);
		info->fragment_ids = core_mallocarray(n ? n : 1, sizeof(uint32_t));
		if (info->fragment_ids == NULL)
		{
			roaring_bitmap_free(bm);
			return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
		}
		roaring_bitmap_to_uint32_array(bm, info->fragment_ids);
		roaring_bitmap_free(bm);
		info->has_fragments = true;
		info->num_fragments = (int64_t) n;
	}
	return CORE_OK;
}

CoreStatus
lance_index_list_parse(const uint8_t *bytes, uint64_t size, const char *name,
					   LanceIndexList **out, CoreError *err)
{
	ByteSpan	file = span_make(bytes, size);
	ByteSpan	proto;
	uint64_t	pos;
	Lt__Manifest *pm;
	Lt__IndexSection *ps;
	LanceIndexList *list;
	CoreStatus	status = CORE_OK;

	*out = NULL;
	if (size < FOOTER_LEN || memcmp(bytes + size - 4, "LANC", 4) != 0 ||
		!span_u64(file, size - FOOTER_LEN, &pos))
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: manifest does not end with a Lance footer", name);
	status = prefixed_message(file, pos, name, "manifest", &proto, err);
	if (status != CORE_OK)
		return status;
	pm = lt__manifest__unpack(NULL, proto.len, proto.data);
	if (pm == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: manifest protobuf does not parse", name);

	list = core_calloc(1, sizeof(LanceIndexList));
	if (list == NULL)
	{
		lt__manifest__free_unpacked(pm, NULL);
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	}
	if (!pm->has_index_section)
	{
		lt__manifest__free_unpacked(pm, NULL);
		*out = list;
		return CORE_OK;
	}
	pos = pm->index_section;
	lt__manifest__free_unpacked(pm, NULL);

	status = prefixed_message(file, pos, name, "index section", &proto, err);
	if (status != CORE_OK)
	{
		lance_index_list_free(list);
		return status;
	}
	ps = lt__index_section__unpack(NULL, proto.len, proto.data);
	if (ps == NULL)
	{
		lance_index_list_free(list);
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: index section at %" PRIu64 " does not parse", name, pos);
	}
	list->indexes = core_calloc(ps->n_indices ? ps->n_indices : 1, sizeof(LanceIndexInfo));
	if (list->indexes == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory", name);
	for (size_t i = 0; status == CORE_OK && i < ps->n_indices; i++)
	{
		list->count++;
		status = convert_index(name, ps->indices[i], &list->indexes[i], err);
	}
	lt__index_section__free_unpacked(ps, NULL);
	if (status != CORE_OK)
	{
		lance_index_list_free(list);
		return status;
	}
	*out = list;
	return CORE_OK;
}

CoreStatus
lance_index_list_read(Storage *st, const char *path, LanceIndexList **out, CoreError *err)
{
	uint8_t    *bytes;
	uint64_t	size;
	CoreStatus	status;

	*out = NULL;
	status = storage_read_all(st, path, MANIFEST_MAX_BYTES, &bytes, &size, err);
	if (status != CORE_OK)
		return status;
	status = lance_index_list_parse(bytes, size, path, out, err);
	core_free(bytes);
	return status;
}

void
lance_index_list_free(LanceIndexList *list)
{
	if (list == NULL)
		return;
	for (int i = 0; i < list->count; i++)
	{
		core_free(list->indexes[i].name);
		core_free(list->indexes[i].details_type);
		core_free(list->indexes[i].field_ids);
		core_free(list->indexes[i].fragment_ids);
	}
	core_free(list->indexes);
	core_free(list);
}
