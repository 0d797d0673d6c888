/*-------------------------------------------------------------------------
 *
 * storage.h
 *	  Where a dataset's bytes live: local files now, object stores later.
 *
 * A Storage is opened on a root (a directory, or later a bucket and
 * prefix); every other call names a file by a path relative to that root,
 * with '/' separators.  The readers above never see file descriptors or
 * HTTP: they ask for byte ranges, and ask for many at once
 * (storage_read_many) so that an object-store backend can issue them
 * concurrently and coalesce neighbours.
 *
 * Each backend fills a StorageOps table (storage_backend.h); this header
 * is the API the Lance reader and writer use.  Errors name the file by
 * its full location (root + path).
 *
 * Never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_STORAGE_H
#define LANCEDB_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct Storage Storage;

/* One range of one file to read into dest (length bytes). */
typedef struct StorageRange
{
	const char *path;			/* relative to the root */
	uint64_t	offset;
	uint64_t	length;
	uint8_t    *dest;
} StorageRange;

/* One entry of a listing: a name directly under the listed prefix. */
typedef struct StorageEntry
{
	char	   *name;			/* last path component */
	uint64_t	size;			/* bytes; 0 for a directory */
	int			is_dir;
	int64_t		mtime;			/* last modified, Unix seconds; 0 when the
								 * store did not say (and for a directory) */
} StorageEntry;

typedef struct StorageListing
{
	size_t		count;
	StorageEntry *entries;		/* sorted by name (bytewise) */
} StorageListing;

/*
 * Open a storage rooted at uri: a local path ("/data/db" or
 * "file:///data/db"), or an object store: s3://bucket/prefix,
 * gs://bucket/prefix, az://container/prefix (also abfs[s]://, azure://,
 * gcs://).  storage_open uses no options: object stores then get their
 * defaults and anonymous access.
 */
extern CoreStatus storage_open(const char *uri, Storage **out, CoreError *err);

/*
 * Open with settings and credentials (storage_options.h); opts is only
 * read during the call, and may be NULL.
 */
struct StorageOptions;
extern CoreStatus storage_open_with_options(const char *uri, const struct StorageOptions *opts,
											Storage **out, CoreError *err);

/*
 * A callback polled between waits on the network (about every 50 ms);
 * returning true abandons the call in progress with CORE_ERR_CANCELED.
 * The Postgres side passes one that checks for a pending interrupt.
 */
typedef bool (*StorageCancelFn) (void *arg);
extern void storage_set_cancel(Storage *st, StorageCancelFn fn, void *arg);

/* What a storage has done since it was opened (for EXPLAIN and benchmarks). */
typedef struct StorageStats
{
	uint64_t	requests;		/* requests sent, retries included */
	uint64_t	retries;
	uint64_t	bytes_read;		/* response bytes received */
	uint64_t	bytes_written;	/* request bytes sent */
	uint64_t	connections;	/* new connections opened (the rest reused one) */
} StorageStats;

extern void storage_get_stats(const Storage *st, StorageStats *stats);
extern void storage_close(Storage *st);

/* The root as given to storage_open (for messages). */
extern const char *storage_root(const Storage *st);

/* Whether the files are on local disk, where small reads cost no round trip. */
extern bool storage_is_local(const Storage *st);

/* Size of a file; CORE_ERR_NOT_FOUND when it does not exist. */
extern CoreStatus storage_size(Storage *st, const char *path, uint64_t *size,
							   CoreError *err);

/*
 * Read one range; it must lie within the file (a short file is an error
 * naming the file, the range and the size).
 */
extern CoreStatus storage_read(Storage *st, const char *path, uint64_t offset,
							   uint64_t length, uint8_t *dest, CoreError *err);

/*
 * Read many ranges, possibly of different files, in one call.  Backends
 * may run them concurrently and in any order; all succeed or the call
 * fails (dest contents are then unspecified).
 */
extern CoreStatus storage_read_many(Storage *st, StorageRange *ranges, size_t count,
									CoreError *err);

/* Read a whole file into a new buffer (at most max_size bytes). */
extern CoreStatus storage_read_all(Storage *st, const char *path, uint64_t max_size,
								   uint8_t **data, uint64_t *size, CoreError *err);

/*
 * The entries directly under a directory/prefix ("" = the root).  A prefix
 * that does not exist lists as empty.  Free with storage_listing_free.
 */
extern CoreStatus storage_list(Storage *st, const char *prefix, StorageListing **out,
							   CoreError *err);
extern void storage_listing_free(StorageListing *listing);

/* Create or replace a file with data (parents created as needed). */
extern CoreStatus storage_put(Storage *st, const char *path, const uint8_t *data,
							  size_t size, CoreError *err);

/*
 * Create a file only if the name is free, atomically: readers never see a
 * partial file, and of two writers exactly one succeeds; the other gets
 * CORE_ERR_CONFLICT.  This is the commit point of a Lance version.
 */
extern CoreStatus storage_put_if_absent(Storage *st, const char *path, const uint8_t *data,
										size_t size, CoreError *err);

/* Delete a file; deleting a missing file is not an error. */
extern CoreStatus storage_delete(Storage *st, const char *path, CoreError *err);

#endif							/* LANCEDB_STORAGE_STORAGE_H */
