/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A small test harness for the Postgres-free core.
 *
 * A test is a function declared with UNIT_TEST(name); it registers itself
 * before main() runs, so a new test file needs no edit anywhere else.  Name
 * a test for the behaviour it checks ("truncated_footer_names_the_file").
 * A failed CHECK reports the file, line and message and ends that test; the
 * runner goes on with the next one and finishes with "N passed, N failed".
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_TEST_UNIT_H
#define LANCEDB_TEST_UNIT_H

#include <stdbool.h>

typedef void (*UnitTestFn) (void);

extern void unit_register(const char *file, const char *name, UnitTestFn fn);
extern void unit_fail(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Where test data lives (the fixtures made by LanceDB), or NULL if not set. */
extern const char *unit_fixture_dir(void);

#define UNIT_TEST(fn) \
	static void fn(void); \
	__attribute__((constructor)) static void fn##_register(void) \
	{ unit_register(__FILE__, #fn, fn); } \
	static void fn(void)

#define CHECK(cond) \
	do { if (!(cond)) { unit_fail(__FILE__, __LINE__, "%s", #cond); return; } } while (0)

#define CHECK_MSG(cond, ...) \
	do { if (!(cond)) { unit_fail(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)

#endif							/* LANCEDB_TEST_UNIT_H */
