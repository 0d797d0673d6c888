/*-------------------------------------------------------------------------
 *
 * test_http_time.c
 *	  The listing timestamps of S3/GCS (ISO 8601) and Azure (HTTP date).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>

#include "storage/http_time.h"
#include "unit.h"

UNIT_TEST(http_time_reads_iso8601_utc_with_and_without_fractions)
{
	int64_t		t;

	CHECK(http_time_parse("1970-01-01T00:00:00Z", &t) && t == 0);
	CHECK(http_time_parse("2023-11-14T22:13:20.000Z", &t) && t == 1700000000);
	CHECK(http_time_parse("2024-02-29T12:00:00.123456Z", &t) && t == 1709208000);
}

UNIT_TEST(http_time_reads_azure_http_dates)
{
	int64_t		t;

	CHECK(http_time_parse("Tue, 14 Nov 2023 22:13:20 GMT", &t) && t == 1700000000);
	CHECK(http_time_parse("Thu, 01 Jan 1970 00:00:01 GMT", &t) && t == 1);
}

UNIT_TEST(http_time_refuses_anything_else_and_says_zero)
{
	const char *const bad[] = {
		"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13:20+01:00",
		"2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-11-14T24:00:00Z",
		"2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "Tue, 14 Nov 2023 22:13:20",
		"Tue, 14 Foo 2023 22:13:20 GMT", "14 Nov 2023 22:13:20 GMT", "Tue, 4 Nov 2023 22:13:20 GMT",
	};
	int64_t		t = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!http_time_parse(bad[i], &t) && t == 0, "accepted \"%s\"", bad[i]);
	CHECK(!http_time_parse(NULL, &t) && t == 0);
}
