/*-------------------------------------------------------------------------
 *
 * deletion.h
 *	  A fragment's deletion file: the set of deleted row offsets.
 *
 * Lance marks deleted rows of a fragment with a deletion file holding the
 * cumulative set of their offsets (FORMAT.md 7.2), in one of two formats:
 *	- file_type 0, ".arrow": an Arrow IPC file with one record batch of a
 *	  single non-null uint32 column, values unsorted, buffers optionally
 *	  compressed (zstd or lz4 frame, Arrow BodyCompression);
 *	- file_type 1, ".bin": a 32-bit Roaring bitmap, portable serialization.
 * An Arrow file may hold at most LANCE_DELETION_ARROW_MAX_ROWS offsets (lance
 * switches to Roaring above 5000, so a larger one is suspect and would
 * otherwise let a tiny compressed file ask for gigabytes).
 * Both load into one LanceDeletionSet that answers "is offset k deleted"
 * in constant time for a scan.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_DELETION_H
#define LANCEDB_LANCE_DELETION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "lance/codec.h"

/* DeletionFile.file_type values of the manifest. */
typedef enum LanceDeletionFileType
{
	LANCE_DELETION_ARROW = 0,
	LANCE_DELETION_BITMAP = 1
} LanceDeletionFileType;

#define LANCE_DELETION_ARROW_MAX_ROWS (16 * 1024 * 1024)

typedef struct LanceDeletionSet LanceDeletionSet;

/* An empty set (nothing deleted); NULL when out of memory. */
extern LanceDeletionSet *lance_deletion_new(void);

/*
 * Parse a deletion file's bytes.  The set is the caller's
 * (lance_deletion_free).
 */
extern CoreStatus lance_deletion_read(LanceDeletionFileType type,
									  const uint8_t *buf, size_t len,
									  LanceDeletionSet **out, CoreError *err);
extern CoreStatus lance_deletion_read_arrow(const uint8_t *buf, size_t len,
											LanceDeletionSet **out,
											CoreError *err);
extern CoreStatus lance_deletion_read_bitmap(const uint8_t *buf, size_t len,
											 LanceDeletionSet **out,
											 CoreError *err);

extern void lance_deletion_free(LanceDeletionSet *set);

/* A copy of set; NULL when out of memory (as far as CRoaring reports it). */
extern LanceDeletionSet *lance_deletion_copy(const LanceDeletionSet *set);

/* Is row offset k deleted? */
extern bool lance_deletion_contains(const LanceDeletionSet *set, uint32_t k);

/* Number of deleted offsets. */
extern uint64_t lance_deletion_count(const LanceDeletionSet *set);

/* The largest deleted offset; false when the set is empty. */
extern bool lance_deletion_max(const LanceDeletionSet *set, uint32_t *max);

/*
 * Changing a set, for writers.  CRoaring (0.2) reports no failed
 * allocation: it dereferences the NULL, so running out of memory inside
 * these ends the process wherever they are called.  What each may
 * allocate:
 *	- add: grows the container of k's 65536-offset block, or makes one;
 *	- add_range: adds start..end - 1 one by one, as add;
 *	- merge: adds every offset of other to set, copying containers.
 * Writers take deletes back by keeping a copy (lance_deletion_copy) of
 * the set as it was, never by removing offsets.
 */
extern void lance_deletion_add(LanceDeletionSet *set, uint32_t k);
extern void lance_deletion_add_range(LanceDeletionSet *set, uint64_t start, uint64_t end);
extern void lance_deletion_merge(LanceDeletionSet *set, const LanceDeletionSet *other);

/*
 * Mark the deleted rows among offsets [start, start + n): mask[i] = 1 when
 * offset start + i is deleted, else 0.  For a batch of a scan.
 */
extern void lance_deletion_mask(const LanceDeletionSet *set, uint64_t start,
								 size_t n, uint8_t *mask);

/*
 * Iterate in ascending order: fill up to cap offsets >= from into out and
 * return how many were written (fewer than cap: the end was reached).
 * Continue with from = last + 1.
 */
extern size_t lance_deletion_next(const LanceDeletionSet *set, uint32_t from,
								  uint32_t *out, size_t cap);

/*
 * Serialize, for writers.  Arrow: an IPC file with one batch of the
 * uint32 column LanceDB writes, offsets ascending, the buffers compressed
 * with body_compression (LANCE_COMPRESSION_NONE; ZSTD as lance does; LZ4
 * for Arrow's LZ4_FRAME).  Bitmap: Roaring portable format.  *out is
 * allocated with core_malloc.
 */
extern CoreStatus lance_deletion_write_arrow(const LanceDeletionSet *set,
											 LanceCompression body_compression,
											 uint8_t **out, size_t *out_len,
											 CoreError *err);
extern CoreStatus lance_deletion_write_bitmap(const LanceDeletionSet *set,
											  uint8_t **out, size_t *out_len,
											  CoreError *err);

/* Lance's choice: Arrow up to 5000 deleted rows, Roaring above. */
extern LanceDeletionFileType lance_deletion_preferred_type(const LanceDeletionSet *set);

#endif							/* LANCEDB_LANCE_DELETION_H */
