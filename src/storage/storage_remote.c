/*-------------------------------------------------------------------------
 *
 * storage_remote.c
 *	  What the object-store backends share: HTTP settings, range plans and
 *	  HTTP failures in user terms.
 *
 * Range plans are where "requests per page" is decided.  A Lance reader
 * asks for every page of a batch in one storage_read_many; pages of one
 * column sit next to each other in a data file, so sorting by (file,
 * offset) and merging neighbours less than `gap` apart turns hundreds of
 * small ranges into a few requests, at the price of reading the gaps.
 * A cap on the merged size keeps requests parallel (and retries cheap).
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "storage/storage_remote.h"

#define DEFAULT_CONNECT_TIMEOUT_MS	5000
#define DEFAULT_TIMEOUT_MS			30000
#define DEFAULT_MAX_RETRIES			3
#define DEFAULT_RETRY_TIMEOUT_MS	180000
#define DEFAULT_MAX_IN_FLIGHT		16

CoreStatus
remote_http_config(const StorageOptions *opts, HttpConfig *cfg, CoreError *err)
{
	long		n;
	bool		b;

	memset(cfg, 0, sizeof(*cfg));
	if (storage_options_millis(opts, SOPT_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT_MS,
							   &cfg->connect_timeout_ms, err) != CORE_OK ||
		storage_options_millis(opts, SOPT_TIMEOUT, DEFAULT_TIMEOUT_MS, &cfg->timeout_ms,
							   err) != CORE_OK ||
		storage_options_millis(opts, SOPT_RETRY_TIMEOUT, DEFAULT_RETRY_TIMEOUT_MS,
							   &cfg->retry_timeout_ms, err) != CORE_OK)
		return err ? err->status : CORE_ERR_INVALID;
	if (storage_options_int(opts, SOPT_MAX_RETRIES, DEFAULT_MAX_RETRIES, 0, 100, &n,
							err) != CORE_OK)
		return CORE_ERR_INVALID;
	cfg->max_retries = (int) n;
	if (storage_options_int(opts, SOPT_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT, 1, 256, &n,
							err) != CORE_OK)
		return CORE_ERR_INVALID;
	cfg->max_in_flight = (int) n;
	if (storage_options_bool(opts, SOPT_ALLOW_INVALID_CERTIFICATES, false, &b, err) != CORE_OK)
		return CORE_ERR_INVALID;
	cfg->insecure = b;
	cfg->user_agent = storage_options_get(opts, SOPT_USER_AGENT);
	return CORE_OK;
}

/* Sort order of a plan: by path, then offset. */
static const StorageRange *sort_ranges;

static int
compare_range_index(const void *a, const void *b)
{
	const StorageRange *x = &sort_ranges[*(const size_t *) a];
	const StorageRange *y = &sort_ranges[*(const size_t *) b];
	int			c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

CoreStatus
range_plan_build(const StorageRange *ranges, size_t count, uint64_t gap, uint64_t max_request,
				 RangePlan *plan, CoreError *err)
{
	size_t		n = 0;

	memset(plan, 0, sizeof(*plan));
	plan->members = core_mallocarray(count ? count : 1, sizeof(size_t));
	plan->requests = core_mallocarray(count ? count : 1, sizeof(RangeRequest));
	if (plan->members == NULL || plan->requests == NULL)
	{
		range_plan_free(plan);
		return core_error(err, CORE_ERR_NOMEM, "out of memory planning %zu reads", count);
	}
	/* zero-length ranges need no bytes and no request */
	for (size_t i = 0; i < count; i++)
		if (ranges[i].length > 0)
			plan->members[n++] = i;
	sort_ranges = ranges;
	qsort(plan->members, n, sizeof(size_t), compare_range_index);
	sort_ranges = NULL;

	for (size_t i = 0; i < n; i++)
	{
		const StorageRange *r = &ranges[plan->members[i]];
		RangeRequest *cur = plan->nrequests ? &plan->requests[plan->nrequests - 1] : NULL;

		if (r->offset > UINT64_MAX - r->length)
		{
			range_plan_free(plan);
			return core_error(err, CORE_ERR_INVALID, "%s: range at %llu of %llu bytes overflows",
							  r->path, (unsigned long long) r->offset,
							  (unsigned long long) r->length);
		}
		if (cur && strcmp(cur->path, r->path) == 0 &&
			r->offset <= cur->offset + cur->length + gap &&
			r->offset + r->length - cur->offset <= max_request)
		{
			uint64_t	end = r->offset + r->length;

			if (end > cur->offset + cur->length)
				cur->length = end - cur->offset;
			cur->nmembers++;
			continue;
		}
		cur = &plan->requests[plan->nrequests++];
		cur->path = r->path;
		cur->offset = r->offset;
		cur->length = r->length;
		cur->first_member = i;
		cur->nmembers = 1;
	}
	return CORE_OK;
}

void
range_plan_free(RangePlan *plan)
{
	core_free(plan->requests);
	core_free(plan->members);
	memset(plan, 0, sizeof(*plan));
}

CoreStatus
remote_check(const HttpRequest *req, const char *store, const char *location,
			 const char *endpoint, const char *code, CoreError *err)
{
	const char *why = req->curl_msg[0] ? req->curl_msg : curl_easy_strerror(req->curl_code);
	const char *detail = code && *code ? code : NULL;

	switch (req->curl_code)
	{
		case CURLE_OK:
			break;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			return core_error(err, CORE_ERR_IO,
							  "cannot reach the %s endpoint %s for %s after %d attempts: %s",
							  store, endpoint, location, req->attempts, why);
		case CURLE_OPERATION_TIMEDOUT:
			return core_error(err, CORE_ERR_IO,
							  "the %s endpoint %s did not answer in time for %s (%d attempts): %s",
							  store, endpoint, location, req->attempts, why);
		default:
			return core_error(err, CORE_ERR_IO, "%s: request to the %s endpoint %s failed: %s",
							  location, store, endpoint, why);
	}
	if (req->status >= 200 && req->status < 300)
		return CORE_OK;
	switch (req->status)
	{
		case 401:
		case 403:
			return core_error(err, CORE_ERR_PERMISSION,
							  "access denied to %s (check the user mapping's credentials)%s%s",
							  location, detail ? ": " : "", detail ? detail : "");
		case 404:
			if (detail && (strcmp(detail, "NoSuchBucket") == 0 ||
						   strcmp(detail, "ContainerNotFound") == 0))
				return core_error(err, CORE_ERR_NOT_FOUND, "%s: the %s does not exist", location,
								  strcmp(detail, "NoSuchBucket") == 0 ? "bucket" : "container");
			return core_error(err, CORE_ERR_NOT_FOUND, "%s: not found", location);
		case 409:
		case 412:
			return core_error(err, CORE_ERR_CONFLICT, "%s: already exists", location);
		default:
			return core_error(err, CORE_ERR_IO, "%s: the %s store answered HTTP %ld%s%s%s",
							  location, store, req->status, detail ? " (" : "",
							  detail ? detail : "", detail ? ")" : "");
	}
}
