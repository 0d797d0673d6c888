/*-------------------------------------------------------------------------
 *
 * storage_s3.h
 *	  The S3 protocol backend, shared by s3:// and gs:// (GCS's XML API).
 *
 * GCS's XML API is S3's: the same paths, ranged GETs, list-type=2
 * listings and XML multipart uploads.  What differs is the default
 * endpoint, how requests authenticate (a bearer token, or HMAC keys
 * signed exactly like SigV4) and the conditional-put header.  So one
 * backend serves both, configured by an S3Dialect.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_S3_H
#define LANCEDB_STORAGE_S3_H

#include "storage/gcs_auth.h"
#include "storage/storage_remote.h"

typedef struct S3Dialect
{
	const char *store;			/* "S3" or "GCS", for messages */
	const char *default_endpoint;	/* NULL: AWS's regional endpoint */
	const char *if_absent_header;	/* "If-None-Match: *" or GCS's */
	const char *access_key;		/* HMAC credentials, or NULL */
	const char *secret_key;
	const char *session_token;
	const char *region;			/* signing region */
	GcsCredentials *gcs;		/* bearer tokens from a service account (owned) */
	const char *bearer_token;	/* a fixed bearer token, or NULL */
} S3Dialect;

/* Open the backend for "bucket/prefix" (the dialect is copied). */
extern CoreStatus s3_open_dialect(const char *location, const StorageOptions *opts,
								  const S3Dialect *dialect, Storage *st, CoreError *err);

#endif							/* LANCEDB_STORAGE_S3_H */
