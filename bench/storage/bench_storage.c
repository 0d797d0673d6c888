/*-------------------------------------------------------------------------
 *
 * bench_storage.c
 *	  Read throughput and requests per page: local files vs an object store.
 *
 *	  bench_storage LOCAL_DIR URI [key=value ...]
 *
 * Writes one 64 MiB file to each store, then reads it back the way the
 * Lance reader does: pages of 64 KiB asked for in batches of 64 through
 * storage_read_many, (a) every page in order (a full column scan: pages
 * are adjacent, so coalescing merges them) and (b) every fourth page (a
 * filtered scan: gaps of 192 KiB, merged only when the gap is below
 * coalesce_bytes).  Prints MB/s, pages/s and requests per page from the
 * storage's own counters.  A benchmark, not a test: it asserts nothing
 * beyond the bytes read matching the bytes written.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/storage.h"
#include "storage/storage_options.h"

#define FILE_BYTES	(64u * 1024 * 1024)
#define PAGE		(64u * 1024)
#define BATCH		64
#define REPEAT		3

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, CoreError *err)
{
	fprintf(stderr, "%s: %s\n", what, err->msg);
	exit(1);
}

/* Read every stride-th page; returns seconds; adds pages read to *pages. */
static double
scan(Storage *st, const uint8_t *expect, int stride, uint64_t *pages)
{
	static uint8_t out[BATCH][PAGE];
	StorageRange r[BATCH];
	CoreError	err;
	double		t0 = now_s();
	uint32_t	npages = FILE_BYTES / PAGE;

	for (uint32_t p = 0; p < npages;)
	{
		int			n = 0;

		for (; n < BATCH && p < npages; p += stride, n++)
			r[n] = (StorageRange) {"bench/data.bin", (uint64_t) p * PAGE, PAGE, out[n]};
		if (storage_read_many(st, r, n, &err) != CORE_OK)
			die("read", &err);
		for (int i = 0; i < n; i++)
			if (memcmp(out[i], expect + r[i].offset, PAGE) != 0)
			{
				fprintf(stderr, "page at %llu differs\n", (unsigned long long) r[i].offset);
				exit(1);
			}
		*pages += n;
	}
	return now_s() - t0;
}

static void
bench(const char *label, Storage *st, const uint8_t *data)
{
	CoreError	err;
	const char *names[] = {"full scan", "every 4th page"};
	int			strides[] = {1, 4};

	if (storage_put(st, "bench/data.bin", data, FILE_BYTES, &err) != CORE_OK)
		die("put", &err);
	for (int k = 0; k < 2; k++)
	{
		StorageStats s0,
					s1;
		uint64_t	pages = 0;
		double		secs = 0;

		storage_get_stats(st, &s0);
		for (int rep = 0; rep < REPEAT; rep++)
			secs += scan(st, data, strides[k], &pages);
		storage_get_stats(st, &s1);
		printf("| %-7s | %-14s | %8.0f | %9.0f | %8llu | %9.3f | %10.1f |\n", label, names[k],
			   pages * (double) PAGE / secs / 1e6, pages / secs,
			   (unsigned long long) (s1.requests - s0.requests),
			   pages ? (double) (s1.requests - s0.requests) / pages : 0.0,
			   (s1.bytes_read - s0.bytes_read) / 1e6);
	}
}

int
main(int argc, char **argv)
{
	StorageOptions *o = storage_options_new();
	Storage    *local;
	Storage    *remote;
	CoreError	err;
	uint8_t    *data = malloc(FILE_BYTES);

	if (argc < 3)
	{
		fprintf(stderr, "usage: bench_storage LOCAL_DIR URI [key=value ...]\n");
		return 2;
	}
	for (uint32_t i = 0; i < FILE_BYTES; i++)
		data[i] = (uint8_t) (i * 2654435761u >> 24);
	for (int i = 3; i < argc; i++)
	{
		char	   *eq = strchr(argv[i], '=');

		if (eq == NULL)
			return 2;
		*eq = '\0';
		if (storage_options_set(o, argv[i], eq + 1, &err) != CORE_OK)
			die("option", &err);
	}
	if (storage_open(argv[1], &local, &err) != CORE_OK)
		die("open local", &err);
	if (storage_open_with_options(argv[2], o, &remote, &err) != CORE_OK)
		die("open remote", &err);
	printf("64 MiB file, 64 KiB pages, %d pages per storage_read_many, %d passes\n\n", BATCH, REPEAT);
	printf("| store   | pattern        |     MB/s |   pages/s | requests | req/page  | MB fetched |\n");
	printf("|---------|----------------|----------|-----------|----------|-----------|------------|\n");
	bench("local", local, data);
	bench("remote", remote, data);
	storage_close(local);
	storage_close(remote);
	storage_options_free(o);
	free(data);
	return 0;
}
