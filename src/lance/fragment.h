/*-------------------------------------------------------------------------
 *
 * fragment.h
 *	  Reading rows of one fragment: fields to columns, pages to arrays.
 *
 * A fragment's rows live in one or more data files; each schema field is
 * found in the file whose field list names it (FORMAT.md 7.1, 9).  A
 * field no file has (added after the fragment was written) reads as NULL.
 * Files of format 2.0 give every field, parents included, a column; files
 * of 2.1/2.2 give only leaves a column, and the reader rebuilds lists and
 * structs from the leaves' levels.
 *
 * Reads return rows by physical offset, deleted rows included: the caller
 * drops deleted rows (the deletion set is loaded here too).  Each column
 * keeps its most recent decoded page, so reading a fragment front to back
 * decodes every page once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_FRAGMENT_H
#define LANCEDB_LANCE_FRAGMENT_H

#include <stdint.h>

#include "core/error.h"
#include "lance/array.h"
#include "lance/deletion.h"
#include "lance/manifest.h"
#include "storage/storage.h"

typedef struct LanceFragmentReader LanceFragmentReader;

/*
 * Open a reader of the given top-level fields of a fragment of the
 * dataset at `dataset` (relative to the storage root).  Opens the data
 * files that hold those fields (reading their footers) and loads the
 * deletion file, if any.
 */
extern CoreStatus lance_fragment_reader_open(Storage *st, const char *dataset,
											 const LanceFragmentRef *fragment,
											 const LanceField *const *fields, int num_fields,
											 LanceFragmentReader **out, CoreError *err);
extern void lance_fragment_reader_close(LanceFragmentReader *reader);

/*
 * Load, in one storage call, the pages that reading rows [start, start +
 * count) will need first.  Optional: read() loads what it lacks.
 */
extern CoreStatus lance_fragment_reader_prefetch(LanceFragmentReader *reader, uint64_t start,
												 uint64_t count, CoreError *err);

/*
 * Rows [start, start + count) of every field, one new array per field in
 * columns[] (the caller frees them).
 */
extern CoreStatus lance_fragment_reader_read(LanceFragmentReader *reader, uint64_t start,
											 uint64_t count, LanceArray **columns,
											 CoreError *err);

/* The fragment's deleted offsets, or NULL when none are deleted. */
extern const LanceDeletionSet *lance_fragment_reader_deletions(const LanceFragmentReader *reader);

/*
 * Load a fragment's deletion set (NULL when it has no deletion file),
 * checking it against the manifest's count and the fragment's rows.
 */
extern CoreStatus lance_fragment_load_deletions(Storage *st, const char *dataset,
												const LanceFragmentRef *fragment,
												LanceDeletionSet **out, CoreError *err);

#endif							/* LANCEDB_LANCE_FRAGMENT_H */
