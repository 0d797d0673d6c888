/*-------------------------------------------------------------------------
 *
 * index_meta.h
 *	  The indexes a manifest lists: name, columns, kind, fragments covered.
 *
 * A manifest may point (Manifest.index_section) at an IndexSection stored
 * in the same file, after the manifest itself: a u32 little-endian length
 * and a protobuf with one IndexMetadata per index.  Each one names its
 * files (_indices/{uuid}/), the field ids it indexes, the dataset version
 * it was built at, the fragments it covers (a Roaring bitmap) and, in an
 * Any message, its kind ("...BTreeIndexDetails", "...VectorIndexDetails").
 * Fragments added after an index was built are not covered by it: a reader
 * must search those without the index.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_INDEX_META_H
#define LANCEDB_LANCE_INDEX_META_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "storage/storage.h"

typedef struct LanceIndexInfo
{
	char		uuid[37];		/* 8-4-4-4-12 lower-case hex */
	char	   *name;
	int			num_fields;
	int32_t    *field_ids;
	uint64_t	dataset_version;
	/* the details message's name, e.g. "BTreeIndexDetails"; "" if none */
	char	   *details_type;
	bool		has_fragments;	/* false: the manifest does not say */
	int64_t		num_fragments;
	uint32_t   *fragment_ids;	/* ascending */
} LanceIndexInfo;

typedef struct LanceIndexList
{
	int			count;
	LanceIndexInfo *indexes;
} LanceIndexList;

/*
 * The indexes listed by a manifest file (all of its bytes; `name` is used
 * in messages).  A manifest without an index section gives an empty list.
 */
extern CoreStatus lance_index_list_parse(const uint8_t *bytes, uint64_t size, const char *name,
										 LanceIndexList **out, CoreError *err);

/* Read the manifest at path (relative to the storage root) and list its indexes. */
extern CoreStatus lance_index_list_read(Storage *st, const char *path, LanceIndexList **out,
										CoreError *err);

extern void lance_index_list_free(LanceIndexList *list);

#endif							/* LANCEDB_LANCE_INDEX_META_H */
