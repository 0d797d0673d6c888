/*-------------------------------------------------------------------------
 *
 * storage_it.c
 *	  The storage API against a real object-store server on loopback.
 *
 *	  storage_it URI [key=value ...] [-- test-name-substring]
 *
 * URI is the root to test under (a fresh prefix per run is best); the
 * key=value pairs are storage options, as a user mapping would give them.
 * Cases that need a misconfigured store (wrong secret, missing bucket,
 * unreachable endpoint, a fault-injecting proxy) derive their options
 * from these: the runner (run.sh) passes FAULT_PROXY, BAD_SECRET_KEY and
 * the like through the environment.  Prints "N passed, N failed".
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "storage/storage.h"
#include "storage/storage_options.h"

static const char *root_uri;
static char **opt_keys;
static char **opt_values;
static int	nopts;
static int	passed;
static int	failed;
static bool current_failed;

#define CHECK(cond) \
	do { if (!(cond)) { fail_at(__LINE__, "%s", #cond); return; } } while (0)
#define CHECK_MSG(cond, ...) \
	do { if (!(cond)) { fail_at(__LINE__, __VA_ARGS__); return; } } while (0)

static void
fail_at(int line, const char *fmt,...)
{
	va_list		ap;

	current_failed = true;
	printf("    storage_it.c:%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Options from the command line, with overrides (key, value, ..., NULL). */
static StorageOptions *
make_options(const char *first,...)
{
	StorageOptions *o = storage_options_new();
	CoreError	err;
	va_list		ap;

	for (int i = 0; i < nopts; i++)
	{
		bool		overridden = false;
		const char *k;

		va_start(ap, first);
		for (k = first; k; k = va_arg(ap, const char *))
		{
			(void) va_arg(ap, const char *);
			if (strcmp(k, opt_keys[i]) == 0)
				overridden = true;
		}
		va_end(ap);
		if (!overridden && storage_options_set(o, opt_keys[i], opt_values[i], &err) != CORE_OK)
		{
			fprintf(stderr, "%s\n", err.msg);
			exit(2);
		}
	}
	va_start(ap, first);
	for (const char *k = first; k; k = va_arg(ap, const char *))
	{
		const char *v = va_arg(ap, const char *);

		if (storage_options_set(o, k, v, &err) != CORE_OK)
		{
			fprintf(stderr, "%s\n", err.msg);
			exit(2);
		}
	}
	va_end(ap);
	return o;
}

static Storage *
open_root(const char *uri, StorageOptions *o)
{
	Storage    *st = NULL;
	CoreError	err;

	if (storage_open_with_options(uri, o, &st, &err) != CORE_OK)
	{
		printf("    cannot open %s: %s\n", uri, err.msg);
		st = NULL;
	}
	storage_options_free(o);
	return st;
}

static Storage *
open_default(void)
{
	return open_root(root_uri, make_options(NULL));
}

static void
fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
	{
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t) (seed >> 16);
	}
}

/* ---- the cases ---------------------------------------------------------- */

static void
put_then_read_ranges_returns_the_bytes(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t    *data = malloc(300000);
	uint8_t		a[100],
				b[5000],
				c[7],
				d[1];
	uint64_t	size = 0;
	StorageRange ranges[4];

	CHECK(st != NULL);
	fill(data, 300000, 1);
	CHECK_MSG(storage_put(st, "ranges/data.bin", data, 300000, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(storage_size(st, "ranges/data.bin", &size, &err) == CORE_OK, "%s", err.msg);
	CHECK(size == 300000);
	ranges[0] = (StorageRange) {"ranges/data.bin", 0, sizeof(a), a};
	ranges[1] = (StorageRange) {"ranges/data.bin", 250000, sizeof(b), b};
	ranges[2] = (StorageRange) {"ranges/data.bin", 50, sizeof(c), c};	/* overlaps a */
	ranges[3] = (StorageRange) {"ranges/data.bin", 299999, 1, d};
	CHECK_MSG(storage_read_many(st, ranges, 4, &err) == CORE_OK, "%s", err.msg);
	CHECK(memcmp(a, data, sizeof(a)) == 0);
	CHECK(memcmp(b, data + 250000, sizeof(b)) == 0);
	CHECK(memcmp(c, data + 50, sizeof(c)) == 0);
	CHECK(d[0] == data[299999]);
	free(data);
	storage_close(st);
}

static void
nearby_ranges_are_coalesced_into_one_request(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t		data[64 * 1024];
	uint8_t		out[64][100];
	StorageRange ranges[64];
	StorageStats before,
				after;

	CHECK(st != NULL);
	fill(data, sizeof(data), 2);
	CHECK_MSG(storage_put(st, "coalesce/pages.bin", data, sizeof(data), &err) == CORE_OK,
			  "%s", err.msg);
	for (int i = 0; i < 64; i++)
		ranges[63 - i] = (StorageRange) {"coalesce/pages.bin", (uint64_t) i * 1000, 100, out[63 - i]};
	storage_get_stats(st, &before);
	CHECK_MSG(storage_read_many(st, ranges, 64, &err) == CORE_OK, "%s", err.msg);
	storage_get_stats(st, &after);
	for (int i = 0; i < 64; i++)
		CHECK(memcmp(out[63 - i], data + i * 1000, 100) == 0);
	CHECK_MSG(after.requests - before.requests == 1, "%llu requests for 64 nearby ranges",
			  (unsigned long long) (after.requests - before.requests));
	storage_close(st);
}

static void
many_files_read_concurrently_match(void)
{
	Storage    *st = open_default();
	CoreError	err;
	enum
	{
		NFILES = 24, FSIZE = 40000
	};
	static uint8_t data[NFILES][FSIZE];
	static uint8_t got[NFILES][FSIZE];
	StorageRange ranges[NFILES];
	char		names[NFILES][64];

	CHECK(st != NULL);
	for (int i = 0; i < NFILES; i++)
	{
		fill(data[i], FSIZE, 100 + i);
		snprintf(names[i], sizeof(names[i]), "many/f%02d.bin", i);
		CHECK_MSG(storage_put(st, names[i], data[i], FSIZE, &err) == CORE_OK, "%s", err.msg);
		ranges[i] = (StorageRange) {names[i], 0, FSIZE, got[i]};
	}
	CHECK_MSG(storage_read_many(st, ranges, NFILES, &err) == CORE_OK, "%s", err.msg);
	for (int i = 0; i < NFILES; i++)
		CHECK(memcmp(data[i], got[i], FSIZE) == 0);
	storage_close(st);
}

static void
read_all_returns_the_whole_object(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t    *got = NULL;
	uint64_t	n = 0;

	CHECK(st != NULL);
	CHECK_MSG(storage_put(st, "all/x.txt", (const uint8_t *) "hello, store", 12, &err) == CORE_OK,
			  "%s", err.msg);
	CHECK_MSG(storage_read_all(st, "all/x.txt", 1 << 20, &got, &n, &err) == CORE_OK, "%s", err.msg);
	CHECK(n == 12 && memcmp(got, "hello, store", 12) == 0);
	free(got);
	/* an empty object is a valid file of size 0 */
	CHECK_MSG(storage_put(st, "all/empty", (const uint8_t *) "", 0, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(storage_read_all(st, "all/empty", 1 << 20, &got, &n, &err) == CORE_OK, "%s", err.msg);
	CHECK(n == 0);
	free(got);
	storage_close(st);
}

static void
list_shows_files_and_directories_under_a_prefix(void)
{
	Storage    *st = open_default();
	CoreError	err;
	StorageListing *l = NULL;

	CHECK(st != NULL);
	CHECK(storage_put(st, "list/a.txt", (const uint8_t *) "a", 1, &err) == CORE_OK);
	CHECK(storage_put(st, "list/b b.txt", (const uint8_t *) "bb", 2, &err) == CORE_OK);
	CHECK(storage_put(st, "list/sub/c.txt", (const uint8_t *) "c", 1, &err) == CORE_OK);
	CHECK(storage_put(st, "listing_sibling", (const uint8_t *) "x", 1, &err) == CORE_OK);
	CHECK_MSG(storage_list(st, "list", &l, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(l->count == 3, "%zu entries", l->count);
	CHECK(strcmp(l->entries[0].name, "a.txt") == 0 && l->entries[0].size == 1 && !l->entries[0].is_dir);
	CHECK(strcmp(l->entries[1].name, "b b.txt") == 0 && l->entries[1].size == 2);
	CHECK(strcmp(l->entries[2].name, "sub") == 0 && l->entries[2].is_dir);
	storage_listing_free(l);
	CHECK_MSG(storage_list(st, "no/such/prefix", &l, &err) == CORE_OK, "%s", err.msg);
	CHECK(l->count == 0);
	storage_listing_free(l);
	storage_close(st);
}

/*
 * The listing carries each object's last-modified time as the server
 * recorded it: the server shares our clock on loopback, so the time lies
 * between just before and just after the write (a few seconds of slack
 * for the store's rounding), and a directory has none.
 */
static void
list_gives_each_file_the_time_it_was_written(void)
{
	Storage    *st = open_default();
	CoreError	err;
	StorageListing *l = NULL;
	int64_t		before = (int64_t) time(NULL);
	int64_t		after;

	CHECK(st != NULL);
	CHECK(storage_put(st, "mtime/f", (const uint8_t *) "f", 1, &err) == CORE_OK);
	CHECK(storage_put(st, "mtime/sub/g", (const uint8_t *) "g", 1, &err) == CORE_OK);
	after = (int64_t) time(NULL);
	CHECK_MSG(storage_list(st, "mtime", &l, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(l->count == 2, "%zu entries", l->count);
	CHECK_MSG(l->entries[0].mtime >= before - 2 && l->entries[0].mtime <= after + 2,
			  "mtime %lld, written between %lld and %lld", (long long) l->entries[0].mtime,
			  (long long) before, (long long) after);
	CHECK(l->entries[1].is_dir && l->entries[1].mtime == 0);
	storage_listing_free(l);
	storage_close(st);
}

/* 23 files and 2 directories listed 4 to a page: 7 pages */
static void
list_follows_pagination(void)
{
	Storage    *st = open_root(root_uri, make_options("list_page_size", "4", NULL));
	CoreError	err;
	StorageListing *l = NULL;
	StorageStats s0,
				s1;
	char		name[64];

	CHECK(st != NULL);
	for (int i = 0; i < 23; i++)
	{
		snprintf(name, sizeof(name), "paged/k%05d", i);
		CHECK_MSG(storage_put(st, name, (const uint8_t *) "p", 1, &err) == CORE_OK, "%s", err.msg);
	}
	CHECK(storage_put(st, "paged/d1/x", (const uint8_t *) "x", 1, &err) == CORE_OK);
	CHECK(storage_put(st, "paged/d2/y", (const uint8_t *) "y", 1, &err) == CORE_OK);
	storage_get_stats(st, &s0);
	CHECK_MSG(storage_list(st, "paged", &l, &err) == CORE_OK, "%s", err.msg);
	storage_get_stats(st, &s1);
	CHECK_MSG(l->count == 25, "%zu of 25 entries", l->count);
	CHECK(strcmp(l->entries[0].name, "d1") == 0 && l->entries[0].is_dir);
	CHECK(strcmp(l->entries[24].name, "k00022") == 0 && !l->entries[24].is_dir);
	CHECK_MSG(s1.requests - s0.requests == 7, "%llu pages",
			  (unsigned long long) (s1.requests - s0.requests));
	storage_listing_free(l);
	storage_close(st);
}

static void
put_if_absent_lets_exactly_one_writer_win(void)
{
	Storage    *st = open_default();
	Storage    *other = open_default();
	CoreError	err;
	uint8_t    *got = NULL;
	uint64_t	n;

	CHECK(st != NULL && other != NULL);
	CHECK_MSG(storage_put_if_absent(st, "commit/_versions/1.manifest", (const uint8_t *) "first", 5,
									&err) == CORE_OK, "%s", err.msg);
	CHECK(storage_put_if_absent(other, "commit/_versions/1.manifest", (const uint8_t *) "second", 6,
								&err) == CORE_ERR_CONFLICT);
	CHECK_MSG(strstr(err.msg, "already exists") != NULL, "%s", err.msg);
	CHECK(storage_read_all(st, "commit/_versions/1.manifest", 100, &got, &n, &err) == CORE_OK);
	CHECK(n == 5 && memcmp(got, "first", 5) == 0);
	free(got);
	storage_close(st);
	storage_close(other);
}

/*
 * Two processes commit the same 16 versions at the same moment: for each,
 * exactly one must win and the other see CORE_ERR_CONFLICT (412, or 409
 * for a race the store caught mid-flight), and the object must hold the
 * winner's bytes.
 */
static void
concurrent_put_if_absent_has_one_winner_per_name(void)
{
	enum
	{
		NKEYS = 16
	};
	int			go[2];
	int			results[2][2];
	pid_t		pids[2];
	char		status[2][NKEYS];
	Storage    *st;
	CoreError	err;

	CHECK(pipe(go) == 0 && pipe(results[0]) == 0 && pipe(results[1]) == 0);
	for (int w = 0; w < 2; w++)
	{
		pids[w] = fork();
		CHECK(pids[w] >= 0);
		if (pids[w] == 0)
		{
			Storage    *mine = open_default();
			char		buf[1];
			char		out[NKEYS];

			close(go[1]);
			/* wait until both writers are ready */
			if (read(go[0], buf, 1) < 0)
				_exit(3);
			for (int k = 0; k < NKEYS; k++)
			{
				char		name[64];
				char		body[16];

				snprintf(name, sizeof(name), "race/_versions/%d.manifest", k);
				snprintf(body, sizeof(body), "writer %d", w);
				switch (mine ? storage_put_if_absent(mine, name, (const uint8_t *) body,
													 strlen(body), &err) : CORE_ERR_IO)
				{
					case CORE_OK:
						out[k] = 'W';
						break;
					case CORE_ERR_CONFLICT:
						out[k] = 'C';
						break;
					default:
						out[k] = 'E';
						break;
				}
			}
			if (write(results[w][1], out, NKEYS) != NKEYS)
				_exit(3);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);				/* both children start now */
	for (int w = 0; w < 2; w++)
	{
		CHECK(read(results[w][0], status[w], NKEYS) == NKEYS);
		waitpid(pids[w], NULL, 0);
	}
	st = open_default();
	CHECK(st != NULL);
	for (int k = 0; k < NKEYS; k++)
	{
		char		name[64];
		uint8_t    *got = NULL;
		uint64_t	n = 0;
		int			winner = status[0][k] == 'W' ? 0 : 1;

		CHECK_MSG((status[0][k] == 'W' && status[1][k] == 'C') ||
				  (status[0][k] == 'C' && status[1][k] == 'W'),
				  "version %d: writer 0 %c, writer 1 %c", k, status[0][k], status[1][k]);
		snprintf(name, sizeof(name), "race/_versions/%d.manifest", k);
		CHECK(storage_read_all(st, name, 100, &got, &n, &err) == CORE_OK);
		CHECK(n == 8 && got[7] == '0' + winner);
		free(got);
	}
	storage_close(st);
}

static void
large_put_goes_up_in_parts_and_reads_back(void)
{
	Storage    *st = open_root(root_uri, make_options("multipart_part_size", "5242880", NULL));
	CoreError	err;
	size_t		n = 11 * 1024 * 1024 + 123;
	uint8_t    *data = malloc(n);
	uint8_t    *got = NULL;
	uint64_t	got_n = 0;
	StorageStats s0,
				s1;

	CHECK(st != NULL && data != NULL);
	fill(data, n, 7);
	storage_get_stats(st, &s0);
	CHECK_MSG(storage_put(st, "big/file.lance", data, n, &err) == CORE_OK, "%s", err.msg);
	storage_get_stats(st, &s1);
	/* 3 parts, plus initiate and complete (S3) or the block list (Azure) */
	CHECK_MSG(s1.requests - s0.requests == (uint64_t) atoi(getenv("MULTIPART_REQUESTS") ?
														 getenv("MULTIPART_REQUESTS") : "5"),
			  "%llu requests", (unsigned long long) (s1.requests - s0.requests));
	CHECK_MSG(storage_read_all(st, "big/file.lance", n, &got, &got_n, &err) == CORE_OK, "%s", err.msg);
	CHECK(got_n == n && memcmp(got, data, n) == 0);
	free(got);
	free(data);
	storage_close(st);
}

static void
delete_removes_and_missing_is_not_an_error(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint64_t	size;

	CHECK(st != NULL);
	CHECK(storage_put(st, "del/x", (const uint8_t *) "x", 1, &err) == CORE_OK);
	CHECK_MSG(storage_delete(st, "del/x", &err) == CORE_OK, "%s", err.msg);
	CHECK(storage_size(st, "del/x", &size, &err) == CORE_ERR_NOT_FOUND);
	CHECK_MSG(storage_delete(st, "del/never-was", &err) == CORE_OK, "%s", err.msg);
	storage_close(st);
}

static void
missing_object_is_not_found_naming_it(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t		buf[4];
	uint64_t	size;

	CHECK(st != NULL);
	CHECK(storage_read(st, "nope/missing.lance", 0, 4, buf, &err) == CORE_ERR_NOT_FOUND);
	CHECK_MSG(strstr(err.msg, "nope/missing.lance") != NULL, "%s", err.msg);
	CHECK(storage_size(st, "nope/missing.lance", &size, &err) == CORE_ERR_NOT_FOUND);
	storage_close(st);
}

static void
range_past_the_end_is_an_error(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t		buf[100];
	CoreStatus	s;

	CHECK(st != NULL);
	CHECK(storage_put(st, "short/x", (const uint8_t *) "0123456789", 10, &err) == CORE_OK);
	s = storage_read(st, "short/x", 5, 100, buf, &err);
	CHECK_MSG(s == CORE_ERR_CORRUPT, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "short/x") != NULL, "%s", err.msg);
	storage_close(st);
}

/* The secret option name for this store, from the environment. */
static void
wrong_secret_is_access_denied_without_the_secret(void)
{
	const char *key = getenv("SECRET_OPTION");
	const char *bad = getenv("BAD_SECRET");
	Storage    *st;
	CoreError	err;
	uint8_t		buf[1];
	CoreStatus	s;

	CHECK_MSG(key && bad, "SECRET_OPTION and BAD_SECRET must be set");
	st = open_root(root_uri, make_options(key, bad, NULL));
	CHECK(st != NULL);
	s = storage_read(st, "ranges/data.bin", 0, 1, buf, &err);
	CHECK_MSG(s == CORE_ERR_PERMISSION, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "access denied to ") != NULL &&
			  strstr(err.msg, "check the user mapping's credentials") != NULL, "%s", err.msg);
	CHECK_MSG(strstr(err.msg, bad) == NULL, "the secret leaked: %s", err.msg);
	storage_close(st);
}

static void
missing_bucket_says_so(void)
{
	const char *uri = getenv("MISSING_BUCKET_URI");
	Storage    *st;
	CoreError	err;
	uint64_t	size;
	StorageListing *l = NULL;
	CoreStatus	s;

	CHECK_MSG(uri, "MISSING_BUCKET_URI must be set");
	st = open_root(uri, make_options(NULL));
	CHECK(st != NULL);
	s = storage_list(st, "", &l, &err);
	CHECK_MSG(s == CORE_ERR_NOT_FOUND, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "does not exist") != NULL, "%s", err.msg);
	CHECK(storage_size(st, "x", &size, &err) == CORE_ERR_NOT_FOUND);
	storage_close(st);
}

static void
unreachable_endpoint_fails_quickly_naming_it(void)
{
	Storage    *st = open_root(root_uri, make_options("endpoint", "http://127.0.0.1:9",
												   "client_max_retries", "2",
												   "connect_timeout", "2s", NULL));
	CoreError	err;
	uint8_t		buf[1];
	CoreStatus	s;

	CHECK(st != NULL);
	s = storage_read(st, "x", 0, 1, buf, &err);
	CHECK_MSG(s == CORE_ERR_IO, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "cannot reach") != NULL && strstr(err.msg, "127.0.0.1:9") != NULL &&
			  strstr(err.msg, "3 attempts") != NULL, "%s", err.msg);
	storage_close(st);
}

static void
plain_http_needs_allow_http(void)
{
	Storage    *st = open_root(root_uri, make_options("allow_http", "false", NULL));

	if (st)
		storage_close(st);
	CHECK(st == NULL);
}

static bool
always_cancel(void *arg)
{
	(*(int *) arg)++;
	return true;
}

static void
cancel_callback_stops_a_read(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t		buf[1];
	int			calls = 0;
	CoreStatus	s;

	CHECK(st != NULL);
	storage_set_cancel(st, always_cancel, &calls);
	s = storage_read(st, "ranges/data.bin", 0, 1, buf, &err);
	CHECK_MSG(s == CORE_ERR_CANCELED, "status %s: %s", core_status_name(s), err.msg);
	CHECK(calls >= 1);
	storage_close(st);
}

/*
 * Through the fault proxy (FAULT_PROXY=http://127.0.0.1:PORT), which
 * answers the first requests of each path prefix "flaky503" with 503 and
 * drops the connection of requests under "dropped/".
 */
static void
injected_503s_are_retried_then_succeed(void)
{
	const char *proxy = getenv("FAULT_PROXY");
	Storage    *direct = open_default();
	Storage    *st;
	CoreError	err;
	uint8_t		buf[4];
	StorageStats stats;

	CHECK_MSG(proxy, "FAULT_PROXY must be set");
	CHECK(direct != NULL);
	CHECK(storage_put(direct, "flaky503/x", (const uint8_t *) "abcd", 4, &err) == CORE_OK);
	storage_close(direct);
	st = open_root(root_uri, make_options("endpoint", proxy, NULL));
	CHECK(st != NULL);
	CHECK_MSG(storage_read(st, "flaky503/x", 0, 4, buf, &err) == CORE_OK, "%s", err.msg);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	storage_get_stats(st, &stats);
	CHECK_MSG(stats.retries == 2, "%llu retries", (unsigned long long) stats.retries);
	storage_close(st);
}

static void
server_gone_mid_read_is_a_clear_error(void)
{
	const char *proxy = getenv("FAULT_PROXY");
	Storage    *st;
	CoreError	err;
	uint8_t		buf[4];
	CoreStatus	s;

	CHECK_MSG(proxy, "FAULT_PROXY must be set");
	st = open_root(root_uri, make_options("endpoint", proxy, "client_max_retries", "1", NULL));
	CHECK(st != NULL);
	s = storage_read(st, "dropped/x", 0, 4, buf, &err);
	CHECK_MSG(s == CORE_ERR_IO, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "dropped/x") != NULL, "%s", err.msg);
	storage_close(st);
}

static void
silent_server_times_out_instead_of_hanging(void)
{
	const char *proxy = getenv("FAULT_PROXY");
	Storage    *st;
	CoreError	err;
	uint8_t		buf[4];
	CoreStatus	s;

	CHECK_MSG(proxy, "FAULT_PROXY must be set");
	st = open_root(root_uri, make_options("endpoint", proxy, "timeout", "500ms",
										  "client_max_retries", "1", NULL));
	CHECK(st != NULL);
	s = storage_read(st, "stalled/x", 0, 4, buf, &err);
	CHECK_MSG(s == CORE_ERR_IO, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "did not answer in time") != NULL && strstr(err.msg, "2 attempts"),
			  "%s", err.msg);
	storage_close(st);
}

/* Says "stop" from its fifth call on: some waiting has happened by then. */
static bool
cancel_after_a_while(void *arg)
{
	return ++(*(int *) arg) > 4;
}

static void
cancel_interrupts_a_wait_on_a_silent_server(void)
{
	const char *proxy = getenv("FAULT_PROXY");
	Storage    *st;
	CoreError	err;
	uint8_t		buf[4];
	int			calls = 0;
	CoreStatus	s;

	CHECK_MSG(proxy, "FAULT_PROXY must be set");
	/* the default timeout (30 s) and retries would outlast any test */
	st = open_root(root_uri, make_options("endpoint", proxy, NULL));
	CHECK(st != NULL);
	storage_set_cancel(st, cancel_after_a_while, &calls);
	s = storage_read(st, "stalled/y", 0, 4, buf, &err);
	CHECK_MSG(s == CORE_ERR_CANCELED, "status %s: %s", core_status_name(s), err.msg);
	CHECK(calls == 5);
	storage_close(st);
}

static void
connections_are_reused_across_calls(void)
{
	Storage    *st = open_default();
	CoreError	err;
	uint8_t		buf[8];
	StorageStats stats;

	CHECK(st != NULL);
	CHECK(storage_put(st, "reuse/x", (const uint8_t *) "12345678", 8, &err) == CORE_OK);
	for (int i = 0; i < 5; i++)
		CHECK_MSG(storage_read(st, "reuse/x", 0, 8, buf, &err) == CORE_OK, "%s", err.msg);
	storage_get_stats(st, &stats);
	CHECK_MSG(stats.requests == 6 && stats.connections == 1,
			  "%llu connections for %llu sequential requests",
			  (unsigned long long) stats.connections, (unsigned long long) stats.requests);
	storage_close(st);
}

static void
wrong_region_names_the_right_one(void)
{
	const char *proxy = getenv("FAULT_PROXY");
	Storage    *st;
	CoreError	err;
	uint8_t		buf[4];
	CoreStatus	s;

	CHECK_MSG(proxy, "FAULT_PROXY must be set");
	st = open_root(root_uri, make_options("endpoint", proxy, NULL));
	CHECK(st != NULL);
	s = storage_read(st, "wrongregion/x", 0, 4, buf, &err);
	CHECK_MSG(s == CORE_ERR_INVALID, "status %s: %s", core_status_name(s), err.msg);
	CHECK_MSG(strstr(err.msg, "\"eu-west-1\"") != NULL && strstr(err.msg, "region option") != NULL,
			  "%s", err.msg);
	storage_close(st);
}

/* ---- the runner --------------------------------------------------------- */

typedef struct Case
{
	const char *name;
	void		(*fn) (void);
	const char *needs;			/* environment variable it needs, or NULL */
} Case;

static const Case cases[] = {
	{"put_then_read_ranges_returns_the_bytes", put_then_read_ranges_returns_the_bytes},
	{"nearby_ranges_are_coalesced_into_one_request", nearby_ranges_are_coalesced_into_one_request},
	{"many_files_read_concurrently_match", many_files_read_concurrently_match},
	{"read_all_returns_the_whole_object", read_all_returns_the_whole_object},
	{"list_shows_files_and_directories_under_a_prefix", list_shows_files_and_directories_under_a_prefix},
	{"list_gives_each_file_the_time_it_was_written", list_gives_each_file_the_time_it_was_written},
	{"list_follows_pagination", list_follows_pagination},
	{"put_if_absent_lets_exactly_one_writer_win", put_if_absent_lets_exactly_one_writer_win},
	{"concurrent_put_if_absent_has_one_winner_per_name", concurrent_put_if_absent_has_one_winner_per_name},
	{"large_put_goes_up_in_parts_and_reads_back", large_put_goes_up_in_parts_and_reads_back},
	{"delete_removes_and_missing_is_not_an_error", delete_removes_and_missing_is_not_an_error},
	{"missing_object_is_not_found_naming_it", missing_object_is_not_found_naming_it},
	{"range_past_the_end_is_an_error", range_past_the_end_is_an_error},
	{"wrong_secret_is_access_denied_without_the_secret", wrong_secret_is_access_denied_without_the_secret, "BAD_SECRET"},
	{"missing_bucket_says_so", missing_bucket_says_so, "MISSING_BUCKET_URI"},
	{"unreachable_endpoint_fails_quickly_naming_it", unreachable_endpoint_fails_quickly_naming_it},
	{"plain_http_needs_allow_http", plain_http_needs_allow_http, "ENDPOINT_IS_HTTP"},
	{"cancel_callback_stops_a_read", cancel_callback_stops_a_read},
	{"injected_503s_are_retried_then_succeed", injected_503s_are_retried_then_succeed, "FAULT_PROXY"},
	{"server_gone_mid_read_is_a_clear_error", server_gone_mid_read_is_a_clear_error, "FAULT_PROXY"},
	{"wrong_region_names_the_right_one", wrong_region_names_the_right_one, "WRONG_REGION_CASE"},
	{"silent_server_times_out_instead_of_hanging", silent_server_times_out_instead_of_hanging, "FAULT_PROXY"},
	{"cancel_interrupts_a_wait_on_a_silent_server", cancel_interrupts_a_wait_on_a_silent_server, "FAULT_PROXY"},
	{"connections_are_reused_across_calls", connections_are_reused_across_calls},
};

int
main(int argc, char **argv)
{
	const char *only = NULL;
	const char *label;

	if (argc < 2)
	{
		fprintf(stderr, "usage: storage_it URI [key=value ...] [-- name-substring]\n");
		return 2;
	}
	root_uri = argv[1];
	opt_keys = calloc(argc, sizeof(char *));
	opt_values = calloc(argc, sizeof(char *));
	for (int i = 2; i < argc; i++)
	{
		char	   *eq;

		if (strcmp(argv[i], "--") == 0)
		{
			only = i + 1 < argc ? argv[i + 1] : NULL;
			break;
		}
		eq = strchr(argv[i], '=');
		if (eq == NULL)
		{
			fprintf(stderr, "not key=value: %s\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		opt_keys[nopts] = argv[i];
		opt_values[nopts++] = eq + 1;
	}
	label = getenv("STORE_LABEL") ? getenv("STORE_LABEL") : "store";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (only && strstr(cases[i].name, only) == NULL)
			continue;
		if (cases[i].needs && getenv(cases[i].needs) == NULL)
			continue;
		current_failed = false;
		cases[i].fn();
		printf("%s %s: %s\n", current_failed ? "FAIL" : "ok  ", label, cases[i].name);
		if (current_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
