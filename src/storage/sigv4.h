/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *	  AWS Signature Version 4 over OpenSSL's HMAC-SHA256.
 *
 * Both forms S3 accepts: an Authorization header, and query parameters
 * (a presigned URL).  The caller builds the request; this module turns it
 * into the canonical request, the string to sign and the signature
 * exactly as "Authenticating Requests (AWS Signature Version 4)" defines
 * them.  It never logs or returns the secret.  curl's own --aws-sigv4
 * neither sorts nor encodes the query string, which is why this exists.
 *
 * GCS's XML API accepts the same signature with HMAC keys, so the S3
 * backend signs for gs:// too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_SIGV4_H
#define LANCEDB_STORAGE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SIGV4_HEX_LEN 64
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct SigV4Key
{
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* NULL unless temporary credentials */
	const char *region;
	const char *service;		/* "s3" */
} SigV4Key;

/* One header to sign: lower-case name and its value. */
typedef struct SigV4Header
{
	const char *name;
	const char *value;
} SigV4Header;

typedef struct SigV4Request
{
	const char *method;
	const char *path;			/* already URI-encoded, '/' kept */
	const char *query;			/* "a=1&b" already encoded, any order; may be NULL */
	const SigV4Header *headers; /* must include host and x-amz-date */
	int			nheaders;
	const char *payload_hash;	/* hex SHA-256 of the body or "UNSIGNED-PAYLOAD" */
} SigV4Request;

/*
 * RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every
 * other byte as %XX (upper-case); '/' kept when keep_slash.  Returns a new
 * string, or NULL when out of memory.
 */
extern char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash);

/* Hex SHA-256 of data into out (65 bytes with the terminator). */
extern void sigv4_sha256_hex(const uint8_t *data, size_t len, char out[SIGV4_HEX_LEN + 1]);

/* "YYYYMMDDTHHMMSSZ" for a Unix time. */
extern void sigv4_amz_date(int64_t unix_seconds, char out[17]);

/*
 * The canonical request (newline-separated, as the spec prints it).  A new
 * string, or NULL when out of memory.  Exposed so tests can compare it.
 */
extern char *sigv4_canonical_request(const SigV4Request *req, char **signed_headers);

/*
 * The value of the Authorization header for req signed at amz_date.
 * Returns a new string, or NULL when out of memory.
 */
extern char *sigv4_authorization(const SigV4Key *key, const char *amz_date,
								 const SigV4Request *req);

/*
 * Presigning: the query string (without '?') to append to the URL, which
 * has req->query plus the X-Amz-* parameters and the signature.  Only the
 * host header is signed, and the payload is UNSIGNED-PAYLOAD.  Returns a
 * new string, or NULL when out of memory.
 */
extern char *sigv4_presign_query(const SigV4Key *key, const char *amz_date, int expires,
								 const char *method, const char *path, const char *query,
								 const char *host);

#endif							/* LANCEDB_STORAGE_SIGV4_H */
