/*-------------------------------------------------------------------------
 *
 * manifest.h
 *	  Lance manifests: one version of a dataset, and the list of versions.
 *
 * A dataset directory holds one manifest per version under _versions/,
 * named either "{version}.manifest" (V1) or "{u64::MAX - version}" padded
 * to 20 digits + ".manifest" (V2, the default; newest sorts first).  A
 * manifest is a protobuf (FORMAT.md section 4) with the schema, the
 * fragments and their data and deletion files, feature flags and a
 * commit timestamp.
 *
 * The structs below are read-only descriptors owned by the LanceManifest.
 * Every path in them was checked to be relative without '..'.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_MANIFEST_H
#define LANCEDB_LANCE_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "lance/deletion.h"
#include "lance/schema.h"
#include "storage/storage.h"

/* Reader feature flags (Manifest field 9) this reader implements. */
#define LANCE_FLAG_DELETION_FILES		UINT64_C(1)
#define LANCE_FLAG_STABLE_ROW_IDS		UINT64_C(2)
#define LANCE_FLAG_USE_V2_FORMAT		UINT64_C(4)
#define LANCE_FLAG_TABLE_CONFIG			UINT64_C(8)
#define LANCE_FLAG_BASE_PATHS			UINT64_C(16)
#define LANCE_FLAG_NO_TRANSACTIONS		UINT64_C(32)
#define LANCE_FLAG_DATA_OVERLAYS		UINT64_C(64)
#define LANCE_FLAG_COVERED_INDEX_META	UINT64_C(128)
#define LANCE_FLAG_MIXED_FILE_VERSIONS	UINT64_C(256)

#define LANCE_READER_KNOWN_FLAGS \
	(LANCE_FLAG_DELETION_FILES | LANCE_FLAG_STABLE_ROW_IDS | LANCE_FLAG_USE_V2_FORMAT | \
	 LANCE_FLAG_TABLE_CONFIG | LANCE_FLAG_NO_TRANSACTIONS | LANCE_FLAG_COVERED_INDEX_META | \
	 LANCE_FLAG_MIXED_FILE_VERSIONS)

typedef struct LanceDeletionRef
{
	LanceDeletionFileType kind; /* .arrow or .bin (deletion.h) */
	uint64_t	read_version;
	uint64_t	id;
	uint64_t	num_deleted_rows;
	char	   *path;			/* relative to the dataset directory */
} LanceDeletionRef;

typedef struct LanceDataFileRef
{
	char	   *path;			/* relative to the dataset directory ("data/...") */
	int			num_fields;
	int32_t    *field_ids;		/* -2 = tombstone */
	int32_t    *column_indices; /* -1 = no column */
	uint32_t	major;			/* 2 for 2.x files */
	uint32_t	minor;			/* 0, 1, 2, ... */
	uint64_t	size_bytes;		/* 0 = unknown */
} LanceDataFileRef;

typedef struct LanceFragmentRef
{
	uint64_t	id;
	uint64_t	physical_rows;	/* rows in the files, deleted ones included */
	int			num_files;
	LanceDataFileRef *files;
	bool		has_deletion;
	LanceDeletionRef deletion;
} LanceFragmentRef;

typedef struct LanceManifest
{
	char	   *name;			/* _versions/... as read, for messages */
	uint64_t	version;
	int64_t		timestamp_sec;	/* commit time, UTC */
	int32_t		timestamp_nsec;
	uint64_t	reader_flags;
	uint64_t	writer_flags;
	char	   *data_format;	/* "2.0", "2.1", "2.2" (may be empty) */
	char	   *writer_library;
	char	   *writer_version;
	bool		has_max_fragment_id;
	uint32_t	max_fragment_id;
	uint64_t	next_row_id;
	LanceSchema *schema;
	int			num_fragments;
	LanceFragmentRef *fragments;
} LanceManifest;

/* One version found in _versions/. */
typedef struct LanceVersionEntry
{
	uint64_t	version;
	char	   *path;			/* relative to the dataset directory */
} LanceVersionEntry;

typedef struct LanceVersionList
{
	int			count;
	LanceVersionEntry *entries; /* ascending by version */
} LanceVersionList;

/*
 * Parse manifest bytes (the whole file).  `name` is used in messages.
 * Refuses unknown reader feature flags (naming them) and files whose
 * footer, length prefix or protobuf is malformed.
 */
extern CoreStatus lance_manifest_parse(const uint8_t *bytes, uint64_t size, const char *name,
									   LanceManifest **out, CoreError *err);

/* Read and parse the manifest at path (relative to the storage root). */
extern CoreStatus lance_manifest_read(Storage *st, const char *path, LanceManifest **out,
									  CoreError *err);
extern void lance_manifest_free(LanceManifest *manifest);

/*
 * The versions of the dataset at `dataset` (relative to the storage root,
 * "" for the root itself).  NOT_FOUND when there are none.  Mixed naming
 * schemes are refused; detached ("d...") and staging names are skipped.
 */
extern CoreStatus lance_versions_list(Storage *st, const char *dataset,
									  LanceVersionList **out, CoreError *err);
extern void lance_versions_free(LanceVersionList *list);

/*
 * Parse one name in _versions/: true with *version set for "N.manifest"
 * (V1) and 20-digit inverted names (V2); *is_v2 says which.
 */
extern bool lance_version_name_parse(const char *name, uint64_t *version, bool *is_v2);

/* The _versions/ file name of a version in a naming scheme. */
extern void lance_version_name(uint64_t version, bool v2, char *buf, size_t buflen);

#endif							/* LANCEDB_LANCE_MANIFEST_H */
