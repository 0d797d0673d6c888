/*-------------------------------------------------------------------------
 *
 * storage.c
 *	  Opening a storage by URI and the calls every backend shares.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "storage/storage_backend.h"
#include "storage/storage_options.h"

typedef CoreStatus (*RemoteOpenFn) (const char *location, const StorageOptions *opts,
								   Storage *st, CoreError *err);

/* URI schemes of object stores, as object_store spells them. */
static const struct
{
	const char *prefix;
	RemoteOpenFn open;
}			remote_schemes[] = {
	{"s3://", storage_s3_open},
	{"s3a://", storage_s3_open},
	{"gs://", storage_gcs_open},
	{"gcs://", storage_gcs_open},
	{"az://", storage_azure_open},
	{"azure://", storage_azure_open},
	{"abfs://", storage_azure_open},
	{"abfss://", storage_azure_open},
};

CoreStatus
storage_open(const char *uri, Storage **out, CoreError *err)
{
	return storage_open_with_options(uri, NULL, out, err);
}

/* Open a storage rooted at a local path, a file:// URI or an object store. */
CoreStatus
storage_open_with_options(const char *uri, const StorageOptions *opts, Storage **out,
						  CoreError *err)
{
	Storage    *st;
	const char *path = uri;
	RemoteOpenFn remote = NULL;
	CoreStatus	status;

	*out = NULL;
	if (uri == NULL || *uri == '\0')
		return core_error(err, CORE_ERR_INVALID, "storage location is empty");
	for (size_t i = 0; i < sizeof(remote_schemes) / sizeof(remote_schemes[0]); i++)
	{
		size_t		n = strlen(remote_schemes[i].prefix);

		if (strncasecmp(uri, remote_schemes[i].prefix, n) == 0)
		{
			remote = remote_schemes[i].open;
			path = uri + n;
			break;
		}
	}
	if (remote == NULL && strncmp(uri, "file://", 7) == 0)
		path = uri + 7;
	if (remote == NULL && strstr(path, "://") != NULL)
		return core_error(err, CORE_ERR_UNSUPPORTED, "%s: unknown storage scheme", uri);
	if (*path == '\0')
		return core_error(err, CORE_ERR_INVALID, "%s: empty path", uri);

	st = core_calloc(1, sizeof(Storage));
	if (st == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", uri);
	st->root = core_strdup(remote ? uri : path);
	if (st->root == NULL)
	{
		core_free(st);
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", uri);
	}
	/* a trailing '/' would double up when paths are joined */
	for (size_t n = strlen(st->root); n > 1 && st->root[n - 1] == '/'; n--)
		st->root[n - 1] = '\0';

	if (remote)
		status = remote(st->root + (path - uri), opts, st, err);
	else
		status = storage_local_open(st->root, st, err);
	if (status != CORE_OK)
	{
		core_free(st->root);
		core_free(st);
		return status;
	}
	*out = st;
	return CORE_OK;
}

void
storage_set_cancel(Storage *st, StorageCancelFn fn, void *arg)
{
	st->cancel_fn = fn;
	st->cancel_arg = arg;
}

bool
storage_canceled(void *arg)
{
	Storage    *st = arg;

	return st->cancel_fn != NULL && st->cancel_fn(st->cancel_arg);
}

void
storage_get_stats(const Storage *st, StorageStats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (st->ops->stats)
		st->ops->stats(st, stats);
}

void
storage_close(Storage *st)
{
	if (st == NULL)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st);
	core_free(st->root);
	core_free(st);
}

const char *
storage_root(const Storage *st)
{
	return st->root;
}

bool
storage_is_local(const Storage *st)
{
	return strcmp(st->ops->name, "local") == 0;
}

/*
 * Paths come from manifests, which are untrusted: refuse absolute paths
 * and '..' components so no file outside the root is ever touched.
 */
static CoreStatus
check_path(const Storage *st, const char *path, CoreError *err)
{
	const char *p = path;

	if (path == NULL)
		return core_error(err, CORE_ERR_INVALID, "%s: missing path", st->root);
	if (*path == '/')
		return core_error(err, CORE_ERR_INVALID, "%s: path \"%s\" is not relative",
						  st->root, path);
	while (*p)
	{
		size_t		len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return core_error(err, CORE_ERR_INVALID, "%s: path \"%s\" leaves the root",
							  st->root, path);
		p += len;
		while (*p == '/')
			p++;
	}
	return CORE_OK;
}

CoreStatus
storage_size(Storage *st, const char *path, uint64_t *size, CoreError *err)
{
	if (check_path(st, path, err) != CORE_OK)
		return CORE_ERR_INVALID;
	return st->ops->size(st, path, size, err);
}

CoreStatus
storage_read(Storage *st, const char *path, uint64_t offset, uint64_t length,
			 uint8_t *dest, CoreError *err)
{
	StorageRange range = {path, offset, length, dest};

	return storage_read_many(st, &range, 1, err);
}

CoreStatus
storage_read_many(Storage *st, StorageRange *ranges, size_t count, CoreError *err)
{
	if (count == 0)
		return CORE_OK;
	for (size_t i = 0; i < count; i++)
	{
		CoreStatus	status = check_path(st, ranges[i].path, err);

		if (status != CORE_OK)
			return status;
	}
	return st->ops->read_many(st, ranges, count, err);
}

/* Read a whole file, refusing one larger than max_size. */
CoreStatus
storage_read_all(Storage *st, const char *path, uint64_t max_size, uint8_t **data,
				 uint64_t *size, CoreError *err)
{
	uint64_t	n;
	uint8_t    *buf;
	CoreStatus	status;

	*data = NULL;
	*size = 0;
	status = storage_size(st, path, &n, err);
	if (status != CORE_OK)
		return status;
	if (n > max_size || n > SIZE_MAX - 1)
		return core_error(err, CORE_ERR_NOMEM, "%s/%s: file of %llu bytes exceeds the limit of %llu",
						  st->root, path, (unsigned long long) n,
						  (unsigned long long) max_size);
	buf = core_malloc((size_t) n + 1);
	if (buf == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s/%s: out of memory for %llu bytes",
						  st->root, path, (unsigned long long) n);
	status = storage_read(st, path, 0, n, buf, err);
	if (status != CORE_OK)
	{
		core_free(buf);
		return status;
	}
	buf[n] = 0;
	*data = buf;
	*size = n;
	return CORE_OK;
}

static int
compare_entries(const void *a, const void *b)
{
	return strcmp(((const StorageEntry *) a)->name, ((const StorageEntry *) b)->name);
}

CoreStatus
storage_list(Storage *st, const char *prefix, StorageListing **out, CoreError *err)
{
	StorageListing *listing;
	CoreStatus	status;

	*out = NULL;
	if (check_path(st, prefix, err) != CORE_OK)
		return CORE_ERR_INVALID;
	listing = core_calloc(1, sizeof(StorageListing));
	if (listing == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing %s/%s", st->root, prefix);
	status = st->ops->list(st, prefix, listing, err);
	if (status != CORE_OK)
	{
		storage_listing_free(listing);
		return status;
	}
	if (listing->count > 1)
		qsort(listing->entries, listing->count, sizeof(StorageEntry), compare_entries);
	*out = listing;
	return CORE_OK;
}

/*
 * Append an entry to a listing a backend is filling: the first len bytes
 * of name (an empty name, such as an object store's marker for the
 * prefix itself, is skipped).  *cap is the room out->entries has.
 */
CoreStatus
storage_listing_add(StorageListing *out, size_t *cap, const char *name, size_t len,
					uint64_t size, bool is_dir, int64_t mtime, CoreError *err)
{
	StorageEntry *e;

	if (len == 0)
		return CORE_OK;
	if (out->count == *cap)
	{
		size_t		ncap = *cap ? *cap * 2 : 64;
		StorageEntry *grown = core_realloc(out->entries, ncap * sizeof(StorageEntry));

		if (grown == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
		out->entries = grown;
		*cap = ncap;
	}
	e = &out->entries[out->count];
	e->name = core_malloc(len + 1);
	if (e->name == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->size = size;
	e->is_dir = is_dir;
	e->mtime = mtime;
	out->count++;
	return CORE_OK;
}

void
storage_listing_free(StorageListing *listing)
{
	if (listing == NULL)
		return;
	for (size_t i = 0; i < listing->count; i++)
		core_free(listing->entries[i].name);
	core_free(listing->entries);
	core_free(listing);
}

CoreStatus
storage_put(Storage *st, const char *path, const uint8_t *data, size_t size, CoreError *err)
{
	if (check_path(st, path, err) != CORE_OK)
		return CORE_ERR_INVALID;
	return st->ops->put(st, path, data, size, false, err);
}

CoreStatus
storage_put_if_absent(Storage *st, const char *path, const uint8_t *data, size_t size,
					  CoreError *err)
{
	if (check_path(st, path, err) != CORE_OK)
		return CORE_ERR_INVALID;
	return st->ops->put(st, path, data, size, true, err);
}

CoreStatus
storage_delete(Storage *st, const char *path, CoreError *err)
{
	if (check_path(st, path, err) != CORE_OK)
		return CORE_ERR_INVALID;
	return st->ops->remove(st, path, err);
}
