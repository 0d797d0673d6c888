/*-------------------------------------------------------------------------
 *
 * cleanup.c
 *	  Removing old versions and the files only they needed.
 *
 * A file may go when no kept version names it and it is older than the
 * cutoff: the age test keeps the files of a writer that has written data
 * files but not committed yet (they are named by no manifest so far).
 * A file's age is the last-modified time its store's listing gives (the
 * server's clock for an object store); a file whose time the store did
 * not give is kept.  Manifests go first, so no reader finds a version
 * whose files are gone.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/commit.h"
#include "lance/manifest_raw.h"
#include "lance/path.h"

typedef struct NameSet
{
	char	  **names;
	size_t		count;
	size_t		cap;
} NameSet;

static bool
names_add(NameSet *s, const char *dir, const char *name)
{
	char	   *p;

	if (name == NULL || name[0] == '\0')
		return true;
	if (s->count == s->cap)
	{
		size_t		cap = s->cap ? s->cap * 2 : 64;
		char	  **names = core_realloc(s->names, cap * sizeof(char *));

		if (names == NULL)
			return false;
		s->names = names;
		s->cap = cap;
	}
	p = lance_path_join(dir, name);
	if (p == NULL)
		return false;
	s->names[s->count++] = p;
	return true;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool
names_contain(const NameSet *s, const char *name)
{
	return bsearch(&name, s->names, s->count, sizeof(char *), compare_names) != NULL;
}

static void
names_free(NameSet *s)
{
	for (size_t i = 0; i < s->count; i++)
		core_free(s->names[i]);
	core_free(s->names);
}

/* Everything one kept version refers to. */
static bool
add_references(NameSet *refs, const Lt__Manifest *pm)
{
	bool		ok = names_add(refs, "_transactions", pm->transaction_file);

	for (size_t i = 0; i < pm->n_fragments && ok; i++)
	{
		const Lt__DataFragment *f = pm->fragments[i];

		for (size_t j = 0; j < f->n_files && ok; j++)
			ok = names_add(refs, "data", f->files[j]->path);
		if (ok && f->deletion_file)
		{
			char		name[128];

			snprintf(name, sizeof(name), "%" PRIu64 "-%" PRIu64 "-%" PRIu64 ".%s",
					 f->id, f->deletion_file->read_version, f->deletion_file->id,
					 f->deletion_file->file_type == 1 ? "bin" : "arrow");
			ok = names_add(refs, "_deletions", name);
		}
	}
	return ok;
}

/* Remove the unreferenced files of one directory older than the cutoff. */
static CoreStatus
sweep(Storage *st, const char *dir, const NameSet *refs, int64_t before_sec,
	  LanceCleanupStats *stats, CoreError *err)
{
	StorageListing *listing;
	CoreStatus	status = storage_list(st, dir, &listing, err);

	if (status != CORE_OK)
		return status;
	for (size_t i = 0; i < listing->count && status == CORE_OK; i++)
	{
		const StorageEntry *e = &listing->entries[i];
		char	   *rel;

		if (e->is_dir || e->mtime == 0 || e->mtime >= before_sec)
			continue;
		rel = lance_path_join(dir, e->name);
		if (rel == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory cleaning up %s",
								storage_root(st));
			break;
		}
		if (!names_contain(refs, rel))
		{
			status = storage_delete(st, rel, err);
			if (status == CORE_OK)
			{
				stats->files_removed++;
				stats->bytes_removed += e->size;
			}
		}
		core_free(rel);
	}
	storage_listing_free(listing);
	return status;
}

CoreStatus
lance_dataset_cleanup(Storage *st, int64_t before_sec, LanceCleanupStats *stats,
					  CoreError *err)
{
	LanceVersionList *versions = NULL;
	NameSet		refs;
	bool	   *keep = NULL;
	CoreStatus	status;

	memset(stats, 0, sizeof(*stats));
	memset(&refs, 0, sizeof(refs));
	status = lance_versions_list(st, "", &versions, err);
	if (status == CORE_OK && (keep = core_calloc((size_t) versions->count, sizeof(bool))) == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory cleaning up %s",
								storage_root(st));

	/* which versions stay, and what they refer to */
	for (int i = 0; status == CORE_OK && i < versions->count; i++)
	{
		RawManifest r;

		status = lance_raw_manifest_read(st, versions->entries[i].path, &r, err);
		if (status != CORE_OK)
			break;
		keep[i] = i == versions->count - 1 ||
			(r.pm->timestamp && r.pm->timestamp->seconds >= before_sec);
		if (keep[i] && !add_references(&refs, r.pm))
			status = core_error(err, CORE_ERR_NOMEM, "out of memory cleaning up %s",
								storage_root(st));
		lance_raw_manifest_free(&r);
	}
	if (status == CORE_OK)
		qsort(refs.names, refs.count, sizeof(char *), compare_names);

	/* manifests first: no reader may open a version whose files are gone */
	for (int i = 0; status == CORE_OK && i < versions->count; i++)
		if (!keep[i])
		{
			status = storage_delete(st, versions->entries[i].path, err);
			if (status == CORE_OK)
				stats->versions_removed++;
		}
	if (status == CORE_OK)
		status = sweep(st, "data", &refs, before_sec, stats, err);
	if (status == CORE_OK)
		status = sweep(st, "_deletions", &refs, before_sec, stats, err);
	if (status == CORE_OK)
		status = sweep(st, "_transactions", &refs, before_sec, stats, err);

	names_free(&refs);
	core_free(keep);
	lance_versions_free(versions);
	return status;
}
