/*-------------------------------------------------------------------------
 *
 * storage_local.c
 *	  The local-file storage backend: pread, opendir, link-based commits.
 *
 * Paths are joined to the root with '/'.  storage.c has already refused
 * absolute paths and '..' components, so nothing here escapes the root.
 *
 * put_if_absent writes a temporary file in the target directory, fsyncs
 * it and hard-links it to the final name; link() fails with EEXIST when
 * another writer got there first, which is exactly the commit conflict
 * Lance's protocol needs (FORMAT.md 16.1).
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "storage/storage_backend.h"

typedef struct LocalStorage
{
	unsigned	tmp_counter;	/* makes temporary names unique per handle */
} LocalStorage;

/* root + "/" + path into buf; false when it does not fit. */
static bool
join_path(const Storage *st, const char *path, char *buf, size_t buflen)
{
	int			n;

	if (path == NULL || *path == '\0')
		n = snprintf(buf, buflen, "%s", st->root);
	else
		n = snprintf(buf, buflen, "%s/%s", st->root, path);
	return n >= 0 && (size_t) n < buflen;
}

/*
 * The text for an errno.  A writer's background thread stores files
 * through this backend (writer_flush.h), so strerror's shared buffer
 * will not do: each thread gets its own.
 */
static const char *
os_error(int e)
{
	static __thread char buf[128];

	return strerror_r(e, buf, sizeof(buf));
}

/* The status for an errno from open/stat. */
static CoreStatus
errno_status(int e)
{
	switch (e)
	{
		case ENOENT:
		case ENOTDIR:
			return CORE_ERR_NOT_FOUND;
		case EACCES:
		case EPERM:
			return CORE_ERR_PERMISSION;
		case ENOMEM:
			return CORE_ERR_NOMEM;
		default:
			return CORE_ERR_IO;
	}
}

static CoreStatus
local_size(Storage *st, const char *path, uint64_t *size, CoreError *err)
{
	char		full[PATH_MAX];
	struct stat sb;

	if (!join_path(st, path, full, sizeof(full)))
		return core_error(err, CORE_ERR_INVALID, "%s/%s: path too long", st->root, path);
	if (stat(full, &sb) != 0)
		return core_error(err, errno_status(errno), "%s: %s", full, os_error(errno));
	if (!S_ISREG(sb.st_mode))
		return core_error(err, CORE_ERR_NOT_FOUND, "%s: not a regular file", full);
	*size = (uint64_t) sb.st_size;
	return CORE_OK;
}

/* Read exactly length bytes at offset, retrying short reads and EINTR. */
static CoreStatus
read_fully(int fd, const char *full, uint64_t offset, uint64_t length, uint8_t *dest,
		   CoreError *err)
{
	uint64_t	done = 0;

	while (done < length)
	{
		size_t		chunk = (length - done > (1u << 30)) ? (1u << 30) : (size_t) (length - done);
		ssize_t		n = pread(fd, dest + done, chunk, (off_t) (offset + done));

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return core_error(err, CORE_ERR_IO, "%s: read of %llu bytes at offset %llu failed: %s",
							  full, (unsigned long long) length, (unsigned long long) offset,
							  os_error(errno));
		}
		if (n == 0)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: file ended at %llu while reading %llu bytes at offset %llu",
							  full, (unsigned long long) (offset + done),
							  (unsigned long long) length, (unsigned long long) offset);
		done += (uint64_t) n;
	}
	return CORE_OK;
}

/*
 * Read each range; consecutive ranges of one file share one open.  A range
 * past the end of the file is an error naming the file and its size.
 */
static CoreStatus
local_read_many(Storage *st, StorageRange *ranges, size_t count, CoreError *err)
{
	char		full[PATH_MAX];
	const char *open_path = NULL;
	int			fd = -1;
	uint64_t	fsize = 0;
	CoreStatus	status = CORE_OK;

	for (size_t i = 0; i < count && status == CORE_OK; i++)
	{
		StorageRange *r = &ranges[i];

		if (open_path == NULL || strcmp(open_path, r->path) != 0)
		{
			struct stat sb;

			if (fd >= 0)
				close(fd);
			open_path = NULL;
			if (!join_path(st, r->path, full, sizeof(full)))
			{
				status = core_error(err, CORE_ERR_INVALID, "%s/%s: path too long",
									st->root, r->path);
				break;
			}
			fd = open(full, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
			{
				status = core_error(err, errno_status(errno), "%s: %s", full, os_error(errno));
				break;
			}
			if (fstat(fd, &sb) != 0)
			{
				status = core_error(err, CORE_ERR_IO, "%s: %s", full, os_error(errno));
				break;
			}
			fsize = (uint64_t) sb.st_size;
			open_path = r->path;
		}
		if (r->offset > fsize || r->length > fsize - r->offset)
		{
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s: range [%llu, +%llu) is past the end of the file (size %llu)",
								full, (unsigned long long) r->offset,
								(unsigned long long) r->length, (unsigned long long) fsize);
			break;
		}
		status = read_fully(fd, full, r->offset, r->length, r->dest, err);
	}
	if (fd >= 0)
		close(fd);
	return status;
}

static CoreStatus
local_list(Storage *st, const char *prefix, StorageListing *out, CoreError *err)
{
	char		full[PATH_MAX];
	DIR		   *dir;
	struct dirent *de;
	size_t		cap = 0;

	if (!join_path(st, prefix, full, sizeof(full)))
		return core_error(err, CORE_ERR_INVALID, "%s/%s: path too long", st->root, prefix);
	dir = opendir(full);
	if (dir == NULL)
	{
		if (errno == ENOENT)
			return CORE_OK;		/* a missing prefix lists as empty */
		return core_error(err, errno_status(errno), "%s: cannot list: %s", full, os_error(errno));
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL)
	{
		struct stat sb;
		CoreStatus	status;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), de->d_name, &sb, 0) != 0)
		{
			if (errno == ENOENT)
			{
				errno = 0;
				continue;		/* removed while we listed */
			}
			memset(&sb, 0, sizeof(sb));
		}
		status = storage_listing_add(out, &cap, de->d_name, strlen(de->d_name),
									 S_ISDIR(sb.st_mode) ? 0 : (uint64_t) sb.st_size,
									 S_ISDIR(sb.st_mode),
									 S_ISDIR(sb.st_mode) ? 0 : (int64_t) sb.st_mtime, err);
		if (status != CORE_OK)
		{
			closedir(dir);
			core_error_prefix(err, "%s", full);
			return status;
		}
		errno = 0;
	}
	if (errno != 0)
	{
		int			e = errno;

		closedir(dir);
		return core_error(err, CORE_ERR_IO, "%s: cannot list: %s", full, os_error(e));
	}
	closedir(dir);
	return CORE_OK;
}

/* mkdir -p of the directory part of full (which ends in a file name). */
static CoreStatus
make_parents(char *full, CoreError *err)
{
	for (char *p = full + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(full, 0777) != 0 && errno != EEXIST)
		{
			int			e = errno;

			*p = '/';
			return core_error(err, errno_status(e), "%s: cannot create directory: %s",
							  full, os_error(e));
		}
		*p = '/';
	}
	return CORE_OK;
}

static CoreStatus
fsync_dir_of(const char *full, CoreError *err)
{
	char		dir[PATH_MAX];
	const char *slash = strrchr(full, '/');
	int			fd;

	if (slash == NULL || slash == full)
		return CORE_OK;
	snprintf(dir, sizeof(dir), "%.*s", (int) (slash - full), full);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return core_error(err, CORE_ERR_IO, "%s: cannot open directory: %s", dir, os_error(errno));
	if (fsync(fd) != 0 && errno != EINVAL)
	{
		int			e = errno;

		close(fd);
		return core_error(err, CORE_ERR_IO, "%s: fsync failed: %s", dir, os_error(e));
	}
	close(fd);
	return CORE_OK;
}

/*
 * Write data to a temporary file beside the target, then link (if_absent)
 * or rename it into place, so no reader ever sees a partial file.
 */
static CoreStatus
local_put(Storage *st, const char *path, const uint8_t *data, size_t size, bool if_absent,
		  CoreError *err)
{
	LocalStorage *ls = st->impl;
	char		full[PATH_MAX];
	char		tmp[PATH_MAX];
	const char *slash;
	int			fd;
	size_t		done = 0;
	CoreStatus	status;

	if (!join_path(st, path, full, sizeof(full)))
		return core_error(err, CORE_ERR_INVALID, "%s/%s: path too long", st->root, path);
	status = make_parents(full, err);
	if (status != CORE_OK)
		return status;
	slash = strrchr(full, '/');
	if (snprintf(tmp, sizeof(tmp), "%.*s/.tmp_%ld_%u_%ld", (int) (slash - full), full,
				 (long) getpid(), ls->tmp_counter++, (long) time(NULL)) >= (int) sizeof(tmp))
		return core_error(err, CORE_ERR_INVALID, "%s: path too long", full);

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return core_error(err, errno_status(errno), "%s: cannot create: %s", tmp, os_error(errno));
	while (done < size)
	{
		ssize_t		n = write(fd, data + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			int			e = errno;

			close(fd);
			unlink(tmp);
			return core_error(err, CORE_ERR_IO, "%s: write failed: %s", tmp, os_error(e));
		}
		done += (size_t) n;
	}
	if (fsync(fd) != 0)
	{
		int			e = errno;

		close(fd);
		unlink(tmp);
		return core_error(err, CORE_ERR_IO, "%s: fsync failed: %s", tmp, os_error(e));
	}
	close(fd);

	if (if_absent)
	{
		if (link(tmp, full) != 0)
		{
			int			e = errno;

			unlink(tmp);
			if (e == EEXIST)
				return core_error(err, CORE_ERR_CONFLICT, "%s: already exists", full);
			return core_error(err, errno_status(e), "%s: cannot create: %s", full, os_error(e));
		}
		unlink(tmp);
	}
	else if (rename(tmp, full) != 0)
	{
		int			e = errno;

		unlink(tmp);
		return core_error(err, errno_status(e), "%s: cannot replace: %s", full, os_error(e));
	}
	return fsync_dir_of(full, err);
}

static CoreStatus
local_remove(Storage *st, const char *path, CoreError *err)
{
	char		full[PATH_MAX];

	if (!join_path(st, path, full, sizeof(full)))
		return core_error(err, CORE_ERR_INVALID, "%s/%s: path too long", st->root, path);
	if (unlink(full) != 0 && errno != ENOENT)
		return core_error(err, errno_status(errno), "%s: cannot delete: %s", full, os_error(errno));
	return CORE_OK;
}

static void
local_close(Storage *st)
{
	core_free(st->impl);
	st->impl = NULL;
}

static const StorageOps local_ops = {
	.name = "local",
	.size = local_size,
	.read_many = local_read_many,
	.list = local_list,
	.put = local_put,
	.remove = local_remove,
	.close = local_close,
};

/* The root need not exist yet (a writer may create it). */
CoreStatus
storage_local_open(const char *path, Storage *st, CoreError *err)
{
	st->impl = core_calloc(1, sizeof(LocalStorage));
	if (st->impl == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", path);
	st->ops = &local_ops;
	return CORE_OK;
}
