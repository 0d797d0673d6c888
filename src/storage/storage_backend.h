/*-------------------------------------------------------------------------
 *
 * storage_backend.h
 *	  The table a storage backend fills, for backend authors only.
 *
 * storage.c checks arguments and dispatches through these; a backend
 * reports errors naming the full location (storage_root + path).  Users
 * of storage include storage.h, never this.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_BACKEND_H
#define LANCEDB_STORAGE_BACKEND_H

#include <stdbool.h>

#include "storage/storage.h"

typedef struct StorageOps
{
	const char *name;			/* "local", "s3", ... */

	CoreStatus	(*size) (Storage *st, const char *path, uint64_t *size, CoreError *err);
	CoreStatus	(*read_many) (Storage *st, StorageRange *ranges, size_t count,
							  CoreError *err);
	CoreStatus	(*list) (Storage *st, const char *prefix, StorageListing *out,
						 CoreError *err);
	CoreStatus	(*put) (Storage *st, const char *path, const uint8_t *data, size_t size,
						bool if_absent, CoreError *err);
	CoreStatus	(*remove) (Storage *st, const char *path, CoreError *err);
	void		(*close) (Storage *st);
	/* optional: counters; local files leave it NULL (all zero) */
	void		(*stats) (const Storage *st, StorageStats *stats);
} StorageOps;

struct Storage
{
	const StorageOps *ops;
	char	   *root;			/* as given to storage_open */
	void	   *impl;			/* the backend's own state */
	StorageCancelFn cancel_fn;	/* storage_set_cancel's, or NULL */
	void	   *cancel_arg;
};

/* Backends: fill *out (root already copied into it). */
extern CoreStatus storage_local_open(const char *path, Storage *st, CoreError *err);

/*
 * Object stores: location is what follows the scheme ("bucket/prefix");
 * opts may be NULL.
 */
struct StorageOptions;
extern CoreStatus storage_s3_open(const char *location, const struct StorageOptions *opts,
								  Storage *st, CoreError *err);
extern CoreStatus storage_gcs_open(const char *location, const struct StorageOptions *opts,
								   Storage *st, CoreError *err);
extern CoreStatus storage_azure_open(const char *location, const struct StorageOptions *opts,
									 Storage *st, CoreError *err);

/*
 * Append an entry to the listing a backend's list callback fills; mtime is
 * the last-modified time in Unix seconds, 0 when unknown.
 */
extern CoreStatus storage_listing_add(StorageListing *out, size_t *cap, const char *name,
									  size_t len, uint64_t size, bool is_dir, int64_t mtime,
									  CoreError *err);

/* Whether the caller asked to stop (the backends' HTTP clients poll this). */
extern bool storage_canceled(void *st);

#endif							/* LANCEDB_STORAGE_BACKEND_H */
