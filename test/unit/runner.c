/*-------------------------------------------------------------------------
 *
 * runner.c
 *	  Runs every registered unit test, or those whose name contains argv[1].
 *
 * Environment: LANCEDB_FIXTURES names the directory of LanceDB-made
 * fixtures; tests that need them skip (and say so) when it is unset.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define MAX_TESTS 4096

typedef struct UnitTest
{
	const char *file;
	const char *name;
	UnitTestFn	fn;
} UnitTest;

static UnitTest tests[MAX_TESTS];
static int	ntests;
static bool current_failed;

void
unit_register(const char *file, const char *name, UnitTestFn fn)
{
	if (ntests == MAX_TESTS)
	{
		fprintf(stderr, "unit: more than %d tests; raise MAX_TESTS\n", MAX_TESTS);
		exit(2);
	}
	tests[ntests++] = (UnitTest) {file, name, fn};
}

void
unit_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	current_failed = true;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

const char *
unit_fixture_dir(void)
{
	const char *dir = getenv("LANCEDB_FIXTURES");

	return (dir && *dir) ? dir : NULL;
}

static int
compare_tests(const void *a, const void *b)
{
	const UnitTest *ta = a;
	const UnitTest *tb = b;
	int			c = strcmp(ta->file, tb->file);

	return c ? c : strcmp(ta->name, tb->name);
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int			passed = 0;
	int			failed = 0;

	/* constructors run in link order; sort so output is stable */
	qsort(tests, ntests, sizeof(UnitTest), compare_tests);

	for (int i = 0; i < ntests; i++)
	{
		if (filter && strstr(tests[i].name, filter) == NULL)
			continue;
		current_failed = false;
		tests[i].fn();
		if (current_failed)
		{
			failed++;
			printf("not ok  %s (%s)\n", tests[i].name, tests[i].file);
		}
		else
		{
			passed++;
			printf("ok      %s\n", tests[i].name);
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
