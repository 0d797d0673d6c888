/*-------------------------------------------------------------------------
 *
 * http_time.h
 *	  The timestamps object stores put in listings.
 *
 * S3 and the GCS XML API write ISO 8601 in UTC ("2026-11-22T06:13:49.000Z");
 * Azure writes the HTTP date of RFC 7231 ("Sun, 22 Nov 2026 06:13:49 GMT").
 * Both come from the server and are untrusted: anything else is refused,
 * never half-read.
 *
 * Never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_HTTP_TIME_H
#define LANCEDB_STORAGE_HTTP_TIME_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Unix seconds of an ISO 8601 UTC time or an RFC 7231 HTTP date (fractions
 * of a second dropped); false, with *seconds 0, when text is neither (or
 * is NULL).
 */
extern bool http_time_parse(const char *text, int64_t *seconds);

#endif							/* LANCEDB_STORAGE_HTTP_TIME_H */
