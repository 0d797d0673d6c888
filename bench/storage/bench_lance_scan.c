/*-------------------------------------------------------------------------
 *
 * bench_lance_scan.c
 *	  A full scan of a Lance dataset through the core reader, from local
 *	  disk and from an object store: rows/s, bytes, requests per page.
 *
 *	  bench_lance_scan LOCAL_ROOT URI TABLE [key=value ...]
 *
 * LOCAL_ROOT and URI hold the same dataset TABLE.lance (run.sh uploads
 * it).  Every top-level column of every fragment is read in chunks of
 * CHUNK_ROWS rows, each chunk's pages prefetched in one storage_read_many,
 * as a foreign scan would.  "pages" counts the pages of every column of
 * every data file (what a full scan touches); requests are the storage's
 * own count, footers and manifest included.  The numbers are printed, not
 * checked.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lance/datafile.h"
#include "lance/fragment.h"
#include "lance/manifest.h"
#include "storage/storage.h"
#include "storage/storage_options.h"

#define CHUNK_ROWS 65536
#define PASSES 3

static void
die(const char *what, const CoreError *err)
{
	fprintf(stderr, "bench_lance_scan: %s: %s\n", what, err->msg);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static LanceManifest *
latest(Storage *st, const char *dataset)
{
	LanceVersionList *v;
	LanceManifest *m;
	CoreError	err;

	if (lance_versions_list(st, dataset, &v, &err) != CORE_OK)
		die("versions", &err);
	if (lance_manifest_read(st, v->entries[v->count - 1].path, &m, &err) != CORE_OK)
		die("manifest", &err);
	lance_versions_free(v);
	return m;
}

/* Pages of every column of every data file. */
static uint64_t
count_pages(Storage *st, const char *dataset, const LanceManifest *m)
{
	uint64_t	pages = 0;
	CoreError	err;

	for (int f = 0; f < m->num_fragments; f++)
		for (int d = 0; d < m->fragments[f].num_files; d++)
		{
			const LanceDataFileRef *ref = &m->fragments[f].files[d];
			char		path[1024];
			LanceFile  *file;

			snprintf(path, sizeof(path), "%s/%s", dataset, ref->path);
			if (lance_file_open(st, path, ref->size_bytes, &file, &err) != CORE_OK)
				die("open file", &err);
			for (int c = 0; c < lance_file_num_columns(file); c++)
			{
				const LanceColumnInfo *info;

				if (lance_file_column(file, c, &info, &err) != CORE_OK)
					die("column", &err);
				pages += (uint64_t) info->num_pages;
			}
			lance_file_close(file);
		}
	return pages;
}

/* One full scan; returns rows read. */
static uint64_t
scan(Storage *st, const char *dataset)
{
	LanceManifest *m = latest(st, dataset);
	int			nfields = lance_schema_num_top(m->schema);
	const LanceField **fields = calloc(nfields, sizeof(LanceField *));
	LanceArray **cols = calloc(nfields, sizeof(LanceArray *));
	uint64_t	rows = 0;
	CoreError	err;

	for (int i = 0; i < nfields; i++)
		fields[i] = lance_schema_top(m->schema, i);
	for (int f = 0; f < m->num_fragments; f++)
	{
		const LanceFragmentRef *frag = &m->fragments[f];
		LanceFragmentReader *r;

		if (lance_fragment_reader_open(st, dataset, frag, fields, nfields, &r, &err) != CORE_OK)
			die("fragment", &err);
		for (uint64_t start = 0; start < frag->physical_rows; start += CHUNK_ROWS)
		{
			uint64_t	n = frag->physical_rows - start < CHUNK_ROWS ?
				frag->physical_rows - start : CHUNK_ROWS;

			if (lance_fragment_reader_prefetch(r, start, n, &err) != CORE_OK ||
				lance_fragment_reader_read(r, start, n, cols, &err) != CORE_OK)
				die("read", &err);
			for (int i = 0; i < nfields; i++)
				lance_array_free(cols[i]);
			rows += n;
		}
		lance_fragment_reader_close(r);
	}
	free(fields);
	free(cols);
	lance_manifest_free(m);
	return rows;
}

static void
bench(const char *label, Storage *st, const char *dataset, uint64_t pages)
{
	StorageStats s0,
				s1;
	uint64_t	rows = 0;
	double		t0;
	double		secs;

	scan(st, dataset);			/* warm: page cache, connections */
	storage_get_stats(st, &s0);
	t0 = now_s();
	for (int p = 0; p < PASSES; p++)
		rows += scan(st, dataset);
	secs = now_s() - t0;
	storage_get_stats(st, &s1);
	printf("| %-7s | %9llu | %10.0f | %9.1f | %8.1f | %8.1f | %8llu | %9.3f |\n", label,
		   (unsigned long long) (rows / PASSES), rows / secs, secs / PASSES * 1000,
		   (s1.bytes_read - s0.bytes_read) / 1e6 / PASSES,
		   (s1.bytes_read - s0.bytes_read) / 1e6 / secs,
		   (unsigned long long) ((s1.requests - s0.requests) / PASSES),
		   pages ? (double) (s1.requests - s0.requests) / PASSES / pages : 0.0);
}

int
main(int argc, char **argv)
{
	StorageOptions *o = storage_options_new();
	Storage    *local;
	Storage    *remote;
	CoreError	err;
	char		dataset[256];
	LanceManifest *m;
	uint64_t	pages;

	if (argc < 4)
	{
		fprintf(stderr, "usage: bench_lance_scan LOCAL_ROOT URI TABLE [key=value ...]\n");
		return 2;
	}
	for (int i = 4; i < argc; i++)
	{
		char	   *eq = strchr(argv[i], '=');

		if (eq == NULL)
			return 2;
		*eq = '\0';
		if (storage_options_set(o, argv[i], eq + 1, &err) != CORE_OK)
			die("option", &err);
	}
	snprintf(dataset, sizeof(dataset), "%s.lance", argv[3]);
	if (storage_open(argv[1], &local, &err) != CORE_OK)
		die("open local", &err);
	if (storage_open_with_options(argv[2], o, &remote, &err) != CORE_OK)
		die("open remote", &err);
	m = latest(local, dataset);
	pages = count_pages(local, dataset, m);
	printf("%s: %d fragments, %llu pages over all columns; %d passes, chunks of %d rows\n\n",
		   dataset, m->num_fragments, (unsigned long long) pages, PASSES, CHUNK_ROWS);
	lance_manifest_free(m);
	printf("| store   |      rows |     rows/s | ms/scan   | MB/scan  |     MB/s | requests | req/page  |\n");
	printf("|---------|-----------|------------|-----------|----------|----------|----------|-----------|\n");
	bench("local", local, dataset, pages);
	bench("remote", remote, dataset, pages);
	storage_close(local);
	storage_close(remote);
	storage_options_free(o);
	return 0;
}
