/*-------------------------------------------------------------------------
 *
 * lance_over_store.c
 *	  The core Lance reader and the storage backends on a dataset that
 *	  LanceDB wrote into an object store, and the reverse.
 *
 *	  lance_over_store sum  URI TABLE [key=value ...]
 *		read TABLE.lance's latest version through storage URI: print
 *		{"rows": N, "sum": S} over the int64 column "id", deleted rows
 *		excluded, plus the requests the storage issued;
 *	  lance_over_store copy SRC_DIR URI TABLE [key=value ...]
 *		upload the dataset SRC_DIR/TABLE.lance into URI the way a writer
 *		commits: data and deletion files first, then each manifest with
 *		put_if_absent, so LanceDB can then read it from the store.
 *
 * run.sh compares both directions with what LanceDB itself reports.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lance/fragment.h"
#include "lance/manifest.h"
#include "storage/storage.h"
#include "storage/storage_options.h"

#define CHUNK_ROWS 1024

static void
die(const char *what, const CoreError *err)
{
	fprintf(stderr, "lance_over_store: %s: %s\n", what, err->msg);
	exit(1);
}

static Storage *
open_with(const char *uri, int argc, char **argv)
{
	StorageOptions *o = storage_options_new();
	Storage    *st;
	CoreError	err;

	for (int i = 0; i < argc; i++)
	{
		char	   *eq = strchr(argv[i], '=');

		if (eq == NULL)
		{
			fprintf(stderr, "not key=value: %s\n", argv[i]);
			exit(2);
		}
		*eq = '\0';
		if (storage_options_set(o, argv[i], eq + 1, &err) != CORE_OK)
			die("option", &err);
	}
	if (storage_open_with_options(uri, o, &st, &err) != CORE_OK)
		die("open", &err);
	storage_options_free(o);
	return st;
}

static int
sum_table(Storage *st, const char *table)
{
	char		dataset[256];
	LanceVersionList *versions;
	LanceManifest *m;
	const LanceField *id = NULL;
	CoreError	err;
	uint64_t	rows = 0;
	__int128	sum = 0;
	StorageStats stats;
	char		digits[64];
	int			nd = 0;

	snprintf(dataset, sizeof(dataset), "%s.lance", table);
	if (lance_versions_list(st, dataset, &versions, &err) != CORE_OK)
		die("versions", &err);
	/* the entry's path already starts with the dataset's directory */
	if (lance_manifest_read(st, versions->entries[versions->count - 1].path, &m, &err) != CORE_OK)
		die("manifest", &err);
	for (int i = 0; i < lance_schema_num_top(m->schema); i++)
		if (strcmp(lance_schema_top(m->schema, i)->name, "id") == 0)
			id = lance_schema_top(m->schema, i);
	if (id == NULL || id->type.id != LANCE_TYPE_INT64)
	{
		fprintf(stderr, "lance_over_store: no int64 column \"id\"\n");
		return 1;
	}
	for (int f = 0; f < m->num_fragments; f++)
	{
		const LanceFragmentRef *frag = &m->fragments[f];
		LanceFragmentReader *r;
		const LanceDeletionSet *del;

		if (lance_fragment_reader_open(st, dataset, frag, &id, 1, &r, &err) != CORE_OK)
			die("fragment", &err);
		del = lance_fragment_reader_deletions(r);
		for (uint64_t start = 0; start < frag->physical_rows; start += CHUNK_ROWS)
		{
			uint64_t	n = frag->physical_rows - start < CHUNK_ROWS ?
				frag->physical_rows - start : CHUNK_ROWS;
			LanceArray *col;

			if (lance_fragment_reader_read(r, start, n, &col, &err) != CORE_OK)
				die("read", &err);
			for (uint64_t i = 0; i < n; i++)
			{
				if (del && lance_deletion_contains(del, (uint32_t) (start + i)))
					continue;
				sum += ((const int64_t *) col->values)[i];
				rows++;
			}
			lance_array_free(col);
		}
		lance_fragment_reader_close(r);
	}
	storage_get_stats(st, &stats);
	/* print the 128-bit sum in decimal */
	{
		unsigned __int128 v = sum < 0 ? -(unsigned __int128) sum : (unsigned __int128) sum;

		do
		{
			digits[nd++] = (char) ('0' + (int) (v % 10));
			v /= 10;
		} while (v > 0);
		if (sum < 0)
			digits[nd++] = '-';
	}
	printf("{\"rows\":%llu,\"sum\":\"", (unsigned long long) rows);
	while (nd > 0)
		putchar(digits[--nd]);
	printf("\"}\nrequests=%llu bytes=%llu\n", (unsigned long long) stats.requests,
		   (unsigned long long) stats.bytes_read);
	lance_manifest_free(m);
	lance_versions_free(versions);
	return 0;
}

/* Upload every file under dir (relative path rel) into dst; manifests wait. */
static void
copy_tree(Storage *src, Storage *dst, const char *rel, bool manifests)
{
	StorageListing *l;
	CoreError	err;

	if (storage_list(src, rel, &l, &err) != CORE_OK)
		die("list", &err);
	for (size_t i = 0; i < l->count; i++)
	{
		char		path[1024];
		bool		is_versions = strcmp(rel, "_versions") == 0 ||
			(strlen(rel) > 10 && strcmp(rel + strlen(rel) - 10, "/_versions") == 0);
		uint8_t    *data;
		uint64_t	n;

		snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", l->entries[i].name);
		if (l->entries[i].is_dir)
		{
			copy_tree(src, dst, path, manifests);
			continue;
		}
		if (is_versions != manifests)
			continue;
		if (storage_read_all(src, path, 1ull << 32, &data, &n, &err) != CORE_OK)
			die("read", &err);
		if ((manifests ? storage_put_if_absent(dst, path, data, n, &err) :
			 storage_put(dst, path, data, n, &err)) != CORE_OK)
			die("put", &err);
		free(data);
	}
	storage_listing_free(l);
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "sum") == 0)
	{
		Storage    *st = open_with(argv[2], argc - 4, argv + 4);
		int			rc = sum_table(st, argv[3]);

		storage_close(st);
		return rc;
	}
	if (argc >= 5 && strcmp(argv[1], "copy") == 0)
	{
		char		src_root[1024];
		char		rel[256];
		Storage    *src;
		Storage    *dst = open_with(argv[3], argc - 5, argv + 5);
		CoreError	err;

		snprintf(src_root, sizeof(src_root), "%s", argv[2]);
		snprintf(rel, sizeof(rel), "%s.lance", argv[4]);
		if (storage_open(src_root, &src, &err) != CORE_OK)
			die("open source", &err);
		copy_tree(src, dst, rel, false);	/* data, deletions, indexes */
		copy_tree(src, dst, rel, true); /* then the commits */
		storage_close(src);
		storage_close(dst);
		return 0;
	}
	fprintf(stderr, "usage: lance_over_store sum URI TABLE [k=v ...] | copy SRC_DIR URI TABLE [k=v ...]\n");
	return 2;
}
