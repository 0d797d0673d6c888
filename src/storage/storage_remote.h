/*-------------------------------------------------------------------------
 *
 * storage_remote.h
 *	  What the object-store backends share: option lookup, the plan that
 *	  turns many ranges into few requests, and HTTP failures in user terms.
 *
 * For backend authors only (storage_s3.c, storage_azure.c); users of
 * storage include storage.h and storage_options.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_REMOTE_H
#define LANCEDB_STORAGE_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/http.h"
#include "storage/storage_backend.h"
#include "storage/storage_options.h"

typedef enum StorageOptionId
{
	SOPT_ALLOW_HTTP,
	SOPT_ALLOW_INVALID_CERTIFICATES,
	SOPT_CONNECT_TIMEOUT,
	SOPT_TIMEOUT,
	SOPT_USER_AGENT,
	SOPT_MAX_RETRIES,
	SOPT_RETRY_TIMEOUT,
	SOPT_MAX_IN_FLIGHT,
	SOPT_COALESCE_BYTES,
	SOPT_MULTIPART_PART_SIZE,
	SOPT_LIST_PAGE_SIZE,
	SOPT_ENDPOINT,
	SOPT_AWS_ACCESS_KEY_ID,
	SOPT_AWS_SECRET_ACCESS_KEY,
	SOPT_AWS_SESSION_TOKEN,
	SOPT_AWS_REGION,
	SOPT_AWS_VIRTUAL_HOSTED,
	SOPT_AWS_SKIP_SIGNATURE,
	SOPT_AWS_UNSIGNED_PAYLOAD,
	SOPT_AZURE_ACCOUNT_NAME,
	SOPT_AZURE_ACCOUNT_KEY,
	SOPT_AZURE_SAS,
	SOPT_AZURE_USE_EMULATOR,
	SOPT_BEARER_TOKEN,
	SOPT_GOOGLE_SERVICE_ACCOUNT_KEY,
	SOPT_GOOGLE_SERVICE_ACCOUNT_PATH,
	SOPT_GOOGLE_HMAC_ACCESS_ID,
	SOPT_GOOGLE_HMAC_SECRET,
	SOPT_COUNT
} StorageOptionId;

/* The value of a setting (NULL when unset); opts may be NULL. */
extern const char *storage_options_get(const StorageOptions *opts, StorageOptionId id);
extern const char *storage_option_canonical(StorageOptionId id);
extern CoreStatus storage_options_bool(const StorageOptions *opts, StorageOptionId id,
									   bool dflt, bool *out, CoreError *err);
extern CoreStatus storage_options_millis(const StorageOptions *opts, StorageOptionId id,
										 long dflt, long *out, CoreError *err);
extern CoreStatus storage_options_int(const StorageOptions *opts, StorageOptionId id,
									  long dflt, long min, long max, long *out,
									  CoreError *err);

/* The HTTP settings every backend reads the same way. */
extern CoreStatus remote_http_config(const StorageOptions *opts, HttpConfig *cfg,
									 CoreError *err);

/*
 * Reading many ranges: ranges of one object closer than gap bytes are
 * merged into one request of at most max_request bytes.  Each request
 * reads [offset, offset + length) of ranges[first].path and scatters into
 * members[first_member .. first_member + nmembers).
 */
typedef struct RangeRequest
{
	const char *path;
	uint64_t	offset;
	uint64_t	length;
	size_t		first_member;
	size_t		nmembers;
} RangeRequest;

typedef struct RangePlan
{
	RangeRequest *requests;
	size_t		nrequests;
	size_t	   *members;		/* indexes into the caller's ranges */
} RangePlan;

extern CoreStatus range_plan_build(const StorageRange *ranges, size_t count, uint64_t gap,
								   uint64_t max_request, RangePlan *plan, CoreError *err);
extern void range_plan_free(RangePlan *plan);

/*
 * Turn a finished request into a status and a message about location
 * (e.g. "s3://bucket/key"): transport failures name the endpoint, 403
 * points at the user mapping, 404 is CORE_ERR_NOT_FOUND.  code is the
 * store's error code if known (S3's <Code>, Azure's x-ms-error-code).
 */
extern CoreStatus remote_check(const HttpRequest *req, const char *store, const char *location,
							   const char *endpoint, const char *code, CoreError *err);

#endif							/* LANCEDB_STORAGE_REMOTE_H */
