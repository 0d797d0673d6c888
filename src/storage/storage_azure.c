/*-------------------------------------------------------------------------
 *
 * storage_azure.c
 *	  az://container/prefix: Azure Blob Storage over its REST API.
 *
 * Authentication, as object_store offers it:
 *	- an account key: every request signed with SharedKey, an HMAC-SHA256
 *	  (under the base64-decoded key) of the verb, the standard headers,
 *	  the sorted x-ms-* headers and the canonicalized resource
 *	  "/account/uri-path" followed by each query parameter, sorted, as
 *	  "\nname:decoded-value" ("Authorize with Shared Key");
 *	- a SAS token: appended to every URL, no Authorization header;
 *	- a bearer token;
 *	- nothing: public containers.
 * The emulator (use_emulator) is http://127.0.0.1:10000/devstoreaccount1,
 * path style; its SharedKey resource is "/devstoreaccount1" followed by
 * the whole URI path, which itself starts with the account again.
 *
 * Ranges go in x-ms-range (Azure has no suffix ranges; we never need
 * them).  Conditional create is If-None-Match: *, answered with 409
 * BlobAlreadyExists.  Large blobs go up as blocks (Put Block, in
 * parallel) committed by one Put Block List.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/alloc.h"
#include "storage/http_time.h"
#include "storage/sigv4.h"
#include "storage/storage_remote.h"
#include "storage/strbuf.h"
#include "storage/xml_scan.h"

#define AZURE_API_VERSION		"2021-08-06"
#define EMULATOR_ACCOUNT		"devstoreaccount1"
#define EMULATOR_ENDPOINT		"http://127.0.0.1:10000/devstoreaccount1"
#define DEFAULT_COALESCE_BYTES	(1024 * 1024)
#define MAX_REQUEST_BYTES		(16 * 1024 * 1024)
#define DEFAULT_PART_SIZE		(8 * 1024 * 1024)
#define MIN_PART_SIZE			(1024 * 1024)
#define MAX_BLOCKS				50000
#define LIST_MAX_BODY			(32 * 1024 * 1024)

typedef struct AzureStorage
{
	HttpClient *http;
	char	   *account;
	char	   *container;
	char	   *prefix;			/* blob-name prefix without trailing '/' */
	char	   *endpoint;		/* scheme://host[:port][/account], for URLs */
	char	   *endpoint_path;	/* the endpoint's own path ("" or "/account") */
	uint8_t    *key;			/* decoded account key, or NULL */
	size_t		key_len;
	char	   *sas;			/* SAS query without '?', or NULL */
	char	   *bearer;			/* bearer token, or NULL */
	uint64_t	coalesce_gap;
	uint64_t	part_size;
	long		list_page_size; /* maxresults per listing page; 0: the store's */
} AzureStorage;

/* One query parameter: name and raw (unencoded) value. */
typedef struct AzParam
{
	const char *name;
	const char *value;
} AzParam;

static char *
blob_name(const AzureStorage *a, const char *path)
{
	StrBuf		sb;

	strbuf_init(&sb);
	strbuf_append(&sb, a->prefix);
	if (*a->prefix && path && *path)
		strbuf_append_char(&sb, '/');
	if (path)
		strbuf_append(&sb, path);
	return strbuf_finish(&sb);
}

/* RFC 1123 date in English whatever the locale (LC_TIME may not be C). */
static void
http_date(char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		t = time(NULL);
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
			 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
compare_params(const void *a, const void *b)
{
	return strcmp(((const AzParam *) a)->name, ((const AzParam *) b)->name);
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The SharedKey signature for a request.  xms holds "x-ms-name:value"
 * lines (lower-case names); params the query (raw values).
 */
static char *
shared_key(AzureStorage *a, const char *method, size_t content_length,
		   const char *if_none_match, char **xms, int nxms, const char *uri_path,
		   AzParam *params, int nparams)
{
	StrBuf		sb;
	uint8_t		mac[32];
	unsigned int maclen = sizeof(mac);
	char		b64[64];
	char	   *to_sign;

	qsort(xms, nxms, sizeof(char *), compare_strings);
	qsort(params, nparams, sizeof(AzParam), compare_params);
	strbuf_init(&sb);
	strbuf_appendf(&sb, "%s\n\n\n", method);
	if (content_length > 0)
		strbuf_appendf(&sb, "%zu", content_length);
	strbuf_append(&sb, "\n\n\n\n\n\n");
	strbuf_append(&sb, if_none_match ? if_none_match : "");
	strbuf_append(&sb, "\n\n\n");
	for (int i = 0; i < nxms; i++)
	{
		strbuf_append(&sb, xms[i]);
		strbuf_append_char(&sb, '\n');
	}
	strbuf_appendf(&sb, "/%s%s", a->account, uri_path);
	for (int i = 0; i < nparams; i++)
		strbuf_appendf(&sb, "\n%s:%s", params[i].name, params[i].value);
	to_sign = strbuf_finish(&sb);
	if (to_sign == NULL)
		return NULL;
	HMAC(EVP_sha256(), a->key, (int) a->key_len, (const uint8_t *) to_sign, strlen(to_sign),
		 mac, &maclen);
	core_free(to_sign);
	EVP_EncodeBlock((unsigned char *) b64, mac, (int) maclen);
	strbuf_init(&sb);
	strbuf_appendf(&sb, "SharedKey %s:%s", a->account, b64);
	return strbuf_finish(&sb);
}

/*
 * Fill req for method on a blob (NULL: the container) with the given
 * query parameters and extra x-ms-* headers ("x-ms-range", value).
 */
static CoreStatus
az_prepare(AzureStorage *a, HttpRequest *req, const char *method, const char *blob,
		   AzParam *params, int nparams, const char *xms_name, const char *xms_value,
		   bool if_absent, const uint8_t *body, size_t body_len, CoreError *err)
{
	StrBuf		path;
	StrBuf		url;
	char	   *uri_path = NULL;
	char	   *enc = NULL;
	char		date[40];
	char	   *xms[4];
	int			nxms = 0;
	bool		ok = true;

	req->method = method;
	req->body = body;
	req->body_len = body_len;

	strbuf_init(&path);
	strbuf_append(&path, a->endpoint_path);
	strbuf_append_char(&path, '/');
	enc = sigv4_uri_encode(a->container, strlen(a->container), false);
	if (enc)
		strbuf_append(&path, enc);
	core_free(enc);
	if (blob)
	{
		enc = sigv4_uri_encode(blob, strlen(blob), true);
		strbuf_append_char(&path, '/');
		if (enc)
			strbuf_append(&path, enc);
		else
			path.broken = true;
		core_free(enc);
	}
	uri_path = strbuf_finish(&path);
	if (uri_path == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory building a request");

	strbuf_init(&url);
	strbuf_append_len(&url, a->endpoint, strlen(a->endpoint) - strlen(a->endpoint_path));
	strbuf_append(&url, uri_path);
	for (int i = 0; i < nparams; i++)
	{
		enc = sigv4_uri_encode(params[i].value, strlen(params[i].value), false);
		strbuf_appendf(&url, "%c%s=%s", i == 0 ? '?' : '&', params[i].name, enc ? enc : "");
		if (enc == NULL)
			url.broken = true;
		core_free(enc);
	}
	if (a->sas)
		strbuf_appendf(&url, "%c%s", nparams == 0 ? '?' : '&', a->sas);
	req->url = strbuf_finish(&url);
	if (req->url == NULL)
	{
		core_free(uri_path);
		return core_error(err, CORE_ERR_NOMEM, "out of memory building a request");
	}

	http_date(date);
	ok = http_add_header(req, "x-ms-date", date) &&
		http_add_header(req, "x-ms-version", AZURE_API_VERSION);
	if (ok && xms_name)
		ok = http_add_header(req, xms_name, xms_value);
	if (ok && if_absent)
		ok = http_add_header(req, "If-None-Match", "*");

	if (ok && a->key)
	{
		StrBuf		line;
		char	   *auth;

		for (int i = 0; i < 3; i++)
			xms[i] = NULL;
		strbuf_init(&line);
		strbuf_appendf(&line, "x-ms-date:%s", date);
		xms[nxms++] = strbuf_finish(&line);
		strbuf_init(&line);
		strbuf_append(&line, "x-ms-version:" AZURE_API_VERSION);
		xms[nxms++] = strbuf_finish(&line);
		if (xms_name)
		{
			strbuf_init(&line);
			strbuf_appendf(&line, "%s:%s", xms_name, xms_value);
			xms[nxms++] = strbuf_finish(&line);
		}
		for (int i = 0; i < nxms; i++)
			ok = ok && xms[i] != NULL;
		auth = ok ? shared_key(a, method, body_len, if_absent ? "*" : NULL, xms, nxms, uri_path,
							   params, nparams) : NULL;
		for (int i = 0; i < nxms; i++)
			core_free(xms[i]);
		ok = auth != NULL && http_add_header(req, "Authorization", auth);
		core_free(auth);
	}
	else if (ok && a->bearer)
	{
		StrBuf		v;
		char	   *value;

		strbuf_init(&v);
		strbuf_appendf(&v, "Bearer %s", a->bearer);
		value = strbuf_finish(&v);
		ok = value != NULL && http_add_header(req, "Authorization", value);
		core_free(value);
	}
	core_free(uri_path);
	if (!ok)
		return core_error(err, CORE_ERR_NOMEM, "out of memory building a request");
	return CORE_OK;
}

static CoreStatus
az_check(AzureStorage *a, Storage *st, const HttpRequest *req, const char *path, CoreError *err)
{
	char		location[1024];
	char	   *body_code = NULL;
	const char *code = req->error_code[0] ? req->error_code : NULL;
	CoreStatus	status;

	if (http_ok(req))
		return CORE_OK;
	if (path && *path)
		snprintf(location, sizeof(location), "%s/%s", st->root, path);
	else
		snprintf(location, sizeof(location), "%s", st->root);
	if (code == NULL && req->resp_len > 0)
	{
		XmlSpan		body = {(const char *) req->resp, req->resp_len};

		body_code = xml_text(body, "Code");
		code = body_code;
	}
	if (req->curl_code == CURLE_OK && req->status == 416)
		status = core_error(err, CORE_ERR_CORRUPT, "%s: requested range is past the end of the blob",
							location);
	else
		status = remote_check(req, "Azure", location, a->endpoint, code, err);
	core_free(body_code);
	return status;
}

static CoreStatus
run_one(AzureStorage *a, HttpRequest *req, CoreError *err)
{
	HttpRequest *reqs[1] = {req};

	return http_run(a->http, reqs, 1, err);
}

static CoreStatus
az_size(Storage *st, const char *path, uint64_t *size, CoreError *err)
{
	AzureStorage *a = st->impl;
	HttpRequest req = {0};
	char	   *blob = blob_name(a, path);
	CoreStatus	status;

	if (blob == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = az_prepare(a, &req, "HEAD", blob, NULL, 0, NULL, NULL, false, NULL, 0, err);
	core_free(blob);
	if (status == CORE_OK)
		status = run_one(a, &req, err);
	if (status == CORE_OK)
		status = az_check(a, st, &req, path, err);
	if (status == CORE_OK && req.content_length < 0)
		status = core_error(err, CORE_ERR_IO, "%s/%s: the store sent no blob size", st->root, path);
	if (status == CORE_OK)
		*size = (uint64_t) req.content_length;
	http_request_reset(&req);
	return status;
}

static CoreStatus
az_read_many(Storage *st, StorageRange *ranges, size_t count, CoreError *err)
{
	AzureStorage *a = st->impl;
	RangePlan	plan;
	HttpRequest *reqs;
	HttpRequest **ptrs;
	uint8_t   **bufs;
	CoreStatus	status;

	status = range_plan_build(ranges, count, a->coalesce_gap, MAX_REQUEST_BYTES, &plan, err);
	if (status != CORE_OK)
		return status;
	reqs = core_calloc(plan.nrequests ? plan.nrequests : 1, sizeof(HttpRequest));
	ptrs = core_calloc(plan.nrequests ? plan.nrequests : 1, sizeof(HttpRequest *));
	bufs = core_calloc(plan.nrequests ? plan.nrequests : 1, sizeof(uint8_t *));
	if (reqs == NULL || ptrs == NULL || bufs == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory reading %zu ranges", count);
	for (size_t i = 0; i < plan.nrequests && status == CORE_OK; i++)
	{
		RangeRequest *rr = &plan.requests[i];
		StorageRange *only = &ranges[plan.members[rr->first_member]];
		char		range[64];
		char	   *blob;

		ptrs[i] = &reqs[i];
		if (rr->nmembers == 1 && only->offset == rr->offset && only->length == rr->length)
			reqs[i].dest = only->dest;
		else
		{
			bufs[i] = rr->length <= SIZE_MAX ? core_malloc((size_t) rr->length) : NULL;
			if (bufs[i] == NULL)
			{
				status = core_error(err, CORE_ERR_NOMEM, "%s/%s: out of memory for %llu bytes",
									st->root, rr->path, (unsigned long long) rr->length);
				break;
			}
			reqs[i].dest = bufs[i];
		}
		reqs[i].dest_len = rr->length;
		reqs[i].range_offset = rr->offset;
		snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long) rr->offset,
				 (unsigned long long) (rr->offset + rr->length - 1));
		blob = blob_name(a, rr->path);
		if (blob == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory");
			break;
		}
		status = az_prepare(a, &reqs[i], "GET", blob, NULL, 0, "x-ms-range", range, false,
							NULL, 0, err);
		core_free(blob);
	}
	if (status == CORE_OK)
		status = http_run(a->http, ptrs, plan.nrequests, err);
	for (size_t i = 0; i < plan.nrequests && status == CORE_OK; i++)
	{
		RangeRequest *rr = &plan.requests[i];

		status = az_check(a, st, &reqs[i], rr->path, err);
		if (status == CORE_OK && (reqs[i].received != rr->length || reqs[i].overflow))
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s/%s: range [%llu, +%llu) returned %llu bytes (past the end of the blob?)",
								st->root, rr->path, (unsigned long long) rr->offset,
								(unsigned long long) rr->length,
								(unsigned long long) reqs[i].received);
		for (size_t m = 0; status == CORE_OK && bufs[i] && m < rr->nmembers; m++)
		{
			StorageRange *r = &ranges[plan.members[rr->first_member + m]];

			memcpy(r->dest, bufs[i] + (r->offset - rr->offset), (size_t) r->length);
		}
	}
	for (size_t i = 0; reqs && i < plan.nrequests; i++)
	{
		http_request_reset(&reqs[i]);
		core_free(bufs ? bufs[i] : NULL);
	}
	core_free(reqs);
	core_free(ptrs);
	core_free(bufs);
	range_plan_free(&plan);
	return status;
}

static CoreStatus
parse_list_page(const HttpRequest *req, const char *list_prefix, StorageListing *out,
				size_t *cap, char **marker, CoreError *err)
{
	XmlSpan		body = {(const char *) req->resp, req->resp_len};
	XmlSpan		item;
	size_t		pos = 0;
	size_t		plen = strlen(list_prefix);
	CoreStatus	status = CORE_OK;

	*marker = NULL;
	while (status == CORE_OK && xml_next(body, &pos, "Blob", &item))
	{
		char	   *name = xml_text(item, "Name");
		char	   *size = xml_text(item, "Content-Length");
		char	   *modified = xml_text(item, "Last-Modified");
		int64_t		mtime;

		/* an unreadable time is unknown (0): cleanup then keeps the blob */
		http_time_parse(modified, &mtime);
		if (name == NULL || size == NULL)
			status = core_error(err, CORE_ERR_CORRUPT, "blob listing entry without Name or size");
		else if (strncmp(name, list_prefix, plen) == 0 && strchr(name + plen, '/') == NULL)
			status = storage_listing_add(out, cap, name + plen, strlen(name + plen),
										 strtoull(size, NULL, 10), false, mtime, err);
		core_free(name);
		core_free(size);
		core_free(modified);
	}
	pos = 0;
	while (status == CORE_OK && xml_next(body, &pos, "BlobPrefix", &item))
	{
		char	   *name = xml_text(item, "Name");

		if (name == NULL)
			status = core_error(err, CORE_ERR_CORRUPT, "blob listing prefix without a name");
		else if (strncmp(name, list_prefix, plen) == 0)
			status = storage_listing_add(out, cap, name + plen, strcspn(name + plen, "/"), 0, true,
										 0, err);
		core_free(name);
	}
	if (status == CORE_OK)
	{
		char	   *next = xml_text(body, "NextMarker");

		if (next && *next)
			*marker = next;
		else
			core_free(next);
	}
	return status;
}

static CoreStatus
az_list(Storage *st, const char *prefix, StorageListing *out, CoreError *err)
{
	AzureStorage *a = st->impl;
	char	   *name = blob_name(a, prefix);
	char	   *list_prefix;
	char	   *marker = NULL;
	size_t		cap = 0;
	StrBuf		sb;
	CoreStatus	status = CORE_OK;

	if (name == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
	strbuf_init(&sb);
	strbuf_append(&sb, name);
	if (*name)
		strbuf_append_char(&sb, '/');
	core_free(name);
	list_prefix = strbuf_finish(&sb);
	if (list_prefix == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
	do
	{
		HttpRequest req = {0};
		char		page[24];
		AzParam		params[6] = {
			{"restype", "container"}, {"comp", "list"}, {"delimiter", "/"},
			{"prefix", list_prefix}
		};
		int			nparams = 4;

		if (a->list_page_size > 0)
		{
			snprintf(page, sizeof(page), "%ld", a->list_page_size);
			params[nparams++] = (AzParam) {"maxresults", page};
		}
		if (marker)
			params[nparams++] = (AzParam) {"marker", marker};
		req.max_body = LIST_MAX_BODY;
		status = az_prepare(a, &req, "GET", NULL, params, nparams, NULL, NULL, false,
							NULL, 0, err);
		core_free(marker);
		marker = NULL;
		if (status == CORE_OK)
			status = run_one(a, &req, err);
		if (status == CORE_OK)
			status = az_check(a, st, &req, prefix, err);
		if (status == CORE_OK && req.overflow)
			status = core_error(err, CORE_ERR_IO, "%s/%s: listing page too large", st->root, prefix);
		if (status == CORE_OK)
			status = parse_list_page(&req, list_prefix, out, &cap, &marker, err);
		http_request_reset(&req);
	} while (status == CORE_OK && marker != NULL);
	core_free(marker);
	core_free(list_prefix);
	return status;
}

/* A fixed-width block id (all ids of a blob must have one length). */
static void
block_id(size_t n, char out[32])
{
	char		raw[16];

	snprintf(raw, sizeof(raw), "block-%08zu", n);
	EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) raw, (int) strlen(raw));
}

static CoreStatus
put_blocks(AzureStorage *a, Storage *st, const char *path, const char *blob,
		   const uint8_t *data, size_t size, CoreError *err)
{
	size_t		nblocks = (size + a->part_size - 1) / a->part_size;
	HttpRequest *reqs;
	HttpRequest **ptrs;
	char	  (*ids)[32];
	CoreStatus	status = CORE_OK;

	if (nblocks > MAX_BLOCKS)
		return core_error(err, CORE_ERR_INVALID, "%s/%s: %zu bytes need more than %d blocks",
						  st->root, path, size, MAX_BLOCKS);
	reqs = core_calloc(nblocks, sizeof(HttpRequest));
	ptrs = core_calloc(nblocks, sizeof(HttpRequest *));
	ids = core_calloc(nblocks, 32);
	if (reqs == NULL || ptrs == NULL || ids == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory uploading %s/%s", st->root, path);
	for (size_t i = 0; i < nblocks && status == CORE_OK; i++)
	{
		size_t		off = i * a->part_size;
		size_t		len = size - off < a->part_size ? size - off : a->part_size;
		AzParam		params[2];

		block_id(i, ids[i]);
		params[0] = (AzParam) {"comp", "block"};
		params[1] = (AzParam) {"blockid", ids[i]};
		ptrs[i] = &reqs[i];
		status = az_prepare(a, &reqs[i], "PUT", blob, params, 2, NULL, NULL, false,
							data + off, len, err);
	}
	if (status == CORE_OK)
		status = http_run(a->http, ptrs, nblocks, err);
	for (size_t i = 0; i < nblocks && status == CORE_OK; i++)
		status = az_check(a, st, &reqs[i], path, err);
	if (status == CORE_OK)
	{
		HttpRequest commit = {0};
		AzParam		params[1] = {{"comp", "blocklist"}};
		StrBuf		sb;
		char	   *xml;

		strbuf_init(&sb);
		strbuf_append(&sb, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
		for (size_t i = 0; i < nblocks; i++)
			strbuf_appendf(&sb, "<Latest>%s</Latest>", ids[i]);
		strbuf_append(&sb, "</BlockList>");
		xml = strbuf_finish(&sb);
		if (xml == NULL)
			status = core_error(err, CORE_ERR_NOMEM, "out of memory uploading");
		else
			status = az_prepare(a, &commit, "PUT", blob, params, 1, NULL, NULL, false,
								(const uint8_t *) xml, strlen(xml), err);
		if (status == CORE_OK)
			status = run_one(a, &commit, err);
		if (status == CORE_OK)
			status = az_check(a, st, &commit, path, err);
		http_request_reset(&commit);
		core_free(xml);
	}
	for (size_t i = 0; reqs && i < nblocks; i++)
		http_request_reset(&reqs[i]);
	core_free(reqs);
	core_free(ptrs);
	core_free(ids);
	return status;
}

static CoreStatus
az_put(Storage *st, const char *path, const uint8_t *data, size_t size, bool if_absent,
	   CoreError *err)
{
	AzureStorage *a = st->impl;
	char	   *blob = blob_name(a, path);
	HttpRequest req = {0};
	CoreStatus	status;

	if (blob == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	/* uncommitted blocks are discarded by Azure after a week */
	if (!if_absent && size > a->part_size)
		status = put_blocks(a, st, path, blob, data, size, err);
	else
	{
		status = az_prepare(a, &req, "PUT", blob, NULL, 0, "x-ms-blob-type", "BlockBlob",
							if_absent, data, size, err);
		if (status == CORE_OK)
			status = run_one(a, &req, err);
		if (status == CORE_OK)
			status = az_check(a, st, &req, path, err);
		http_request_reset(&req);
	}
	core_free(blob);
	return status;
}

static CoreStatus
az_remove(Storage *st, const char *path, CoreError *err)
{
	AzureStorage *a = st->impl;
	char	   *blob = blob_name(a, path);
	HttpRequest req = {0};
	CoreStatus	status;

	if (blob == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = az_prepare(a, &req, "DELETE", blob, NULL, 0, NULL, NULL, false, NULL, 0, err);
	core_free(blob);
	if (status == CORE_OK)
		status = run_one(a, &req, err);
	if (status == CORE_OK && !(req.curl_code == CURLE_OK && req.status == 404 &&
							   strcmp(req.error_code, "ContainerNotFound") != 0))
		status = az_check(a, st, &req, path, err);
	http_request_reset(&req);
	return status;
}

static void
az_stats(const Storage *st, StorageStats *stats)
{
	const AzureStorage *a = st->impl;

	http_client_stats(a->http, stats);
}

static void
az_close(Storage *st)
{
	AzureStorage *a = st->impl;

	if (a == NULL)
		return;
	http_client_free(a->http);
	if (a->key)
		OPENSSL_cleanse(a->key, a->key_len);
	core_free(a->key);
	if (a->sas)
		OPENSSL_cleanse(a->sas, strlen(a->sas));
	core_free(a->sas);
	if (a->bearer)
		OPENSSL_cleanse(a->bearer, strlen(a->bearer));
	core_free(a->bearer);
	core_free(a->account);
	core_free(a->container);
	core_free(a->prefix);
	core_free(a->endpoint);
	core_free(a);
	st->impl = NULL;
}

static const StorageOps azure_ops = {
	.name = "azure",
	.size = az_size,
	.read_many = az_read_many,
	.list = az_list,
	.put = az_put,
	.remove = az_remove,
	.close = az_close,
	.stats = az_stats,
};

/* Decode a base64 account key; NULL when it is not base64. */
static uint8_t *
decode_key(const char *b64, size_t *len)
{
	size_t		n = strlen(b64);
	uint8_t    *out;
	int			got;

	if (n == 0 || n % 4 != 0)
		return NULL;
	out = core_malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	got = EVP_DecodeBlock(out, (const unsigned char *) b64, (int) n);
	if (got < 0)
	{
		core_free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (b64[n - 1] == '=')
		got--;
	if (b64[n - 2] == '=')
		got--;
	*len = (size_t) got;
	return out;
}

static CoreStatus
setup(AzureStorage *a, const char *location, const StorageOptions *opts, Storage *st,
	  CoreError *err)
{
	size_t		clen = strcspn(location, "/");
	const char *account = storage_options_get(opts, SOPT_AZURE_ACCOUNT_NAME);
	const char *endpoint = storage_options_get(opts, SOPT_ENDPOINT);
	const char *key = storage_options_get(opts, SOPT_AZURE_ACCOUNT_KEY);
	const char *sas = storage_options_get(opts, SOPT_AZURE_SAS);
	const char *bearer = storage_options_get(opts, SOPT_BEARER_TOKEN);
	bool		emulator;
	bool		allow_http;
	bool		skip;
	long		n;
	StrBuf		sb;
	const char *host;
	HttpConfig	cfg;

	if (storage_options_bool(opts, SOPT_AZURE_USE_EMULATOR, false, &emulator, err) != CORE_OK ||
		storage_options_bool(opts, SOPT_ALLOW_HTTP, false, &allow_http, err) != CORE_OK ||
		storage_options_bool(opts, SOPT_AWS_SKIP_SIGNATURE, false, &skip, err) != CORE_OK)
		return CORE_ERR_INVALID;
	if (clen == 0)
		return core_error(err, CORE_ERR_INVALID, "%s: no container name", st->root);
	if (emulator && account == NULL)
		account = EMULATOR_ACCOUNT;
	if (account == NULL)
		return core_error(err, CORE_ERR_INVALID,
						  "%s: set azure_storage_account_name (or use_emulator)", st->root);
	a->account = core_strdup(account);
	a->container = core_malloc(clen + 1);
	a->prefix = core_strdup(location[clen] ? location + clen + 1 : "");
	strbuf_init(&sb);
	if (endpoint)
		strbuf_append(&sb, endpoint);
	else if (emulator)
		strbuf_append(&sb, getenv("AZURITE_BLOB_STORAGE_URL") ? getenv("AZURITE_BLOB_STORAGE_URL") :
					  EMULATOR_ENDPOINT);
	else
		strbuf_appendf(&sb, "https://%s.blob.core.windows.net", account);
	a->endpoint = strbuf_finish(&sb);
	if (a->account == NULL || a->container == NULL || a->prefix == NULL || a->endpoint == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", st->root);
	memcpy(a->container, location, clen);
	a->container[clen] = '\0';
	for (size_t len = strlen(a->endpoint); len > 0 && a->endpoint[len - 1] == '/'; len--)
		a->endpoint[len - 1] = '\0';
	if (strncasecmp(a->endpoint, "https://", 8) == 0)
		host = a->endpoint + 8;
	else if (strncasecmp(a->endpoint, "http://", 7) == 0 && (allow_http || emulator))
		host = a->endpoint + 7;
	else if (strncasecmp(a->endpoint, "http://", 7) == 0)
		return core_error(err, CORE_ERR_INVALID,
						  "%s: endpoint %s uses plain HTTP; set allow_http to true to permit it",
						  st->root, a->endpoint);
	else
		return core_error(err, CORE_ERR_INVALID,
						  "%s: endpoint \"%s\" must start with https:// (or http:// with allow_http)",
						  st->root, a->endpoint);
	a->endpoint_path = (char *) host + strcspn(host, "/");

	if (!skip && key)
	{
		a->key = decode_key(key, &a->key_len);
		if (a->key == NULL)
			return core_error(err, CORE_ERR_INVALID,
							  "%s: the account key is not valid base64", st->root);
	}
	else if (!skip && sas)
	{
		a->sas = core_strdup(sas[0] == '?' ? sas + 1 : sas);
		if (a->sas == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", st->root);
	}
	else if (!skip && bearer)
	{
		a->bearer = core_strdup(bearer);
		if (a->bearer == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", st->root);
	}

	if (storage_options_int(opts, SOPT_COALESCE_BYTES, DEFAULT_COALESCE_BYTES, 0,
							MAX_REQUEST_BYTES, &n, err) != CORE_OK)
		return CORE_ERR_INVALID;
	a->coalesce_gap = (uint64_t) n;
	if (storage_options_int(opts, SOPT_MULTIPART_PART_SIZE, DEFAULT_PART_SIZE, MIN_PART_SIZE,
							4000L * 1024 * 1024, &n, err) != CORE_OK)
		return CORE_ERR_INVALID;
	a->part_size = (uint64_t) n;
	if (storage_options_int(opts, SOPT_LIST_PAGE_SIZE, 0, 1, 5000, &a->list_page_size,
							err) != CORE_OK)
		return CORE_ERR_INVALID;
	if (remote_http_config(opts, &cfg, err) != CORE_OK)
		return CORE_ERR_INVALID;
	if (http_client_new(&cfg, &a->http, err) != CORE_OK)
		return CORE_ERR_NOMEM;
	http_client_set_cancel(a->http, storage_canceled, st);
	return CORE_OK;
}

CoreStatus
storage_azure_open(const char *location, const StorageOptions *opts, Storage *st,
				   CoreError *err)
{
	AzureStorage *a = core_calloc(1, sizeof(AzureStorage));
	CoreStatus	status;

	if (a == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", st->root);
	st->impl = a;
	st->ops = &azure_ops;
	status = setup(a, location, opts, st, err);
	if (status != CORE_OK)
	{
		az_close(st);
		st->ops = NULL;
	}
	return status;
}
