/*-------------------------------------------------------------------------
 *
 * manifest_raw.h
 *	  A manifest file as bytes plus its unpacked protobuf, for writers:
 *	  they rebuild manifests from the protobuf (which keeps fields our
 *	  .proto does not name) and copy sections (index, transaction) by
 *	  offset.  Internal to src/lance.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_MANIFEST_RAW_H
#define LANCEDB_LANCE_MANIFEST_RAW_H

#include <stdint.h>

#include "core/error.h"
#include "lance_table.pb-c.h"
#include "storage/storage.h"

typedef struct RawManifest
{
	uint8_t    *bytes;
	uint64_t	size;
	uint64_t	pos;			/* of the u32 length before the protobuf */
	Lt__Manifest *pm;
} RawManifest;

/* Read and unpack the manifest file at path (relative to the storage root). */
extern CoreStatus lance_raw_manifest_read(Storage *st, const char *path, RawManifest *r,
										  CoreError *err);
extern void lance_raw_manifest_free(RawManifest *r);

/* A section (u32 length + bytes) at offset; NULL when out of range. */
extern const uint8_t *lance_raw_manifest_section(const RawManifest *r, uint64_t offset,
												 uint32_t *len);

#endif							/* LANCEDB_LANCE_MANIFEST_RAW_H */
