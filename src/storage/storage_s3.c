/*-------------------------------------------------------------------------
 *
 * storage_s3.c
 *	  The S3 backend (also GCS's XML API): SigV4-signed HTTP over libcurl.
 *
 * s3://bucket/prefix: objects are prefix/path in the bucket.  URLs are
 * path style (endpoint/bucket/key) unless virtual_hosted_style_request,
 * then bucket.endpoint-host/key.  Every request is signed with SigV4 in
 * the Authorization header, the payload hashed for PUTs (radosgw and AWS
 * check it) and the session token, when there is one, signed as
 * x-amz-security-token.
 *
 * Writes: one PUT below the multipart part size, or when the write must
 * be conditional (put_if_absent: "If-None-Match: *", which S3 and radosgw
 * answer with 412 when the key exists, or 409 to the loser of a race);
 * otherwise a multipart upload whose parts go up concurrently, aborted
 * on failure so no parts are left behind.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "storage/http_time.h"
#include "storage/sigv4.h"
#include "storage/storage_s3.h"
#include "storage/strbuf.h"
#include "storage/xml_scan.h"

#define DEFAULT_COALESCE_BYTES	(1024 * 1024)
#define MAX_REQUEST_BYTES		(16 * 1024 * 1024)
#define DEFAULT_PART_SIZE		(8 * 1024 * 1024)
#define MIN_PART_SIZE			(5 * 1024 * 1024)
#define MAX_PARTS				10000
#define LIST_MAX_BODY			(32 * 1024 * 1024)

typedef struct S3Storage
{
	HttpClient *http;
	S3Dialect	d;				/* strings below are owned copies */
	char	   *bucket_path;	/* "/bucket" */
	const char *bucket;			/* bucket_path + 1 */
	char	   *prefix;			/* key prefix without a trailing '/', may be "" */
	char	   *endpoint;		/* scheme://host[:port], for messages */
	char	   *base_url;		/* what a key's encoded path is appended to */
	char	   *host;			/* the Host header the signature covers */
	char	   *path_base;		/* "/bucket" (path style) or "" */
	bool		unsigned_payload;
	uint64_t	coalesce_gap;
	uint64_t	part_size;
	long		list_page_size; /* max-keys per listing page; 0: the store's */
} S3Storage;

static char *
dup_or_null(const char *s)
{
	return s ? core_strdup(s) : NULL;
}

/* The object key for a path under the root. */
static char *
object_key(const S3Storage *s, const char *path)
{
	StrBuf		sb;

	strbuf_init(&sb);
	strbuf_append(&sb, s->prefix);
	if (*s->prefix && path && *path)
		strbuf_append_char(&sb, '/');
	if (path)
		strbuf_append(&sb, path);
	return strbuf_finish(&sb);
}

/*
 * Fill req's URL and headers for method on key (NULL for the bucket) with
 * an encoded query, and sign.  extra is one more header to send and sign
 * ("if-none-match: *", "range: bytes=..."); may be NULL.
 */
static CoreStatus
s3_prepare(S3Storage *s, HttpRequest *req, const char *method, const char *key,
		   const char *query, const char *extra_name, const char *extra_value,
		   const uint8_t *body, size_t body_len, CoreError *err)
{
	char	   *enc_key = NULL;
	char	   *path = NULL;
	StrBuf		url;
	StrBuf		canon_path;
	char		amz_date[17];
	char		payload[SIGV4_HEX_LEN + 1];
	SigV4Header h[6];
	int			nh = 0;

	req->method = method;
	req->body = body;
	req->body_len = body_len;
	if (key)
	{
		enc_key = sigv4_uri_encode(key, strlen(key), true);
		if (enc_key == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory building a request");
	}
	strbuf_init(&canon_path);
	strbuf_append(&canon_path, s->path_base);
	strbuf_append_char(&canon_path, '/');
	if (enc_key)
		strbuf_append(&canon_path, enc_key);
	path = strbuf_finish(&canon_path);

	strbuf_init(&url);
	strbuf_append(&url, s->endpoint);
	if (path)
		strbuf_append(&url, path);
	if (query && *query)
	{
		strbuf_append_char(&url, '?');
		strbuf_append(&url, query);
	}
	core_free(enc_key);
	req->url = strbuf_finish(&url);
	if (req->url == NULL || path == NULL)
	{
		core_free(path);
		return core_error(err, CORE_ERR_NOMEM, "out of memory building a request");
	}

	if (extra_name && !http_add_header(req, extra_name, extra_value))
		goto nomem;

	if (s->d.gcs || s->d.bearer_token)
	{
		const char *token = s->d.bearer_token;
		StrBuf		auth;
		char	   *value;

		if (s->d.gcs && gcs_bearer_token(s->d.gcs, (int64_t) time(NULL), &token, err) != CORE_OK)
		{
			core_free(path);
			return err ? err->status : CORE_ERR_PERMISSION;
		}
		strbuf_init(&auth);
		strbuf_appendf(&auth, "Bearer %s", token);
		value = strbuf_finish(&auth);
		if (value == NULL || !http_add_header(req, "Authorization", value))
		{
			core_free(value);
			goto nomem;
		}
		core_free(value);
		core_free(path);
		return CORE_OK;
	}
	if (s->d.access_key == NULL)
	{
		/* anonymous: public buckets, or aws_skip_signature */
		core_free(path);
		return CORE_OK;
	}

	sigv4_amz_date((int64_t) time(NULL), amz_date);
	if (body_len > 0 && !s->unsigned_payload)
		sigv4_sha256_hex(body, body_len, payload);
	else if (body != NULL || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)
		snprintf(payload, sizeof(payload), "%s",
				 s->unsigned_payload ? "UNSIGNED-PAYLOAD" : SIGV4_EMPTY_SHA256);
	else
		snprintf(payload, sizeof(payload), "%s", SIGV4_EMPTY_SHA256);

	h[nh++] = (SigV4Header) {"host", s->host};
	h[nh++] = (SigV4Header) {"x-amz-content-sha256", payload};
	h[nh++] = (SigV4Header) {"x-amz-date", amz_date};
	if (s->d.session_token)
		h[nh++] = (SigV4Header) {"x-amz-security-token", s->d.session_token};
	if (extra_name)
		h[nh++] = (SigV4Header) {extra_name, extra_value};
	{
		SigV4Key	k = {s->d.access_key, s->d.secret_key, s->d.session_token, s->d.region, "s3"};
		SigV4Request sr = {method, path, query, h, nh, payload};
		char	   *auth = sigv4_authorization(&k, amz_date, &sr);

		core_free(path);
		path = NULL;
		if (auth == NULL ||
			!http_add_header(req, "x-amz-content-sha256", payload) ||
			!http_add_header(req, "x-amz-date", amz_date) ||
			(s->d.session_token && !http_add_header(req, "x-amz-security-token", s->d.session_token)) ||
			!http_add_header(req, "Authorization", auth))
		{
			core_free(auth);
			goto nomem;
		}
		core_free(auth);
	}
	return CORE_OK;

nomem:
	core_free(path);
	return core_error(err, CORE_ERR_NOMEM, "out of memory building a request");
}

/*
 * A finished request's status with S3's own causes first: the wrong
 * region (S3 names the right one), then the generic mapping.
 */
static CoreStatus
s3_check(S3Storage *s, Storage *st, const HttpRequest *req, const char *path, CoreError *err)
{
	char		location[1024];
	char	   *code = NULL;
	char	   *region = NULL;
	CoreStatus	status;

	if (path && *path)
		snprintf(location, sizeof(location), "%s/%s", st->root, path);
	else
		snprintf(location, sizeof(location), "%s", st->root);
	if (http_ok(req))
		return CORE_OK;
	if (req->curl_code == CURLE_OK && req->resp_len > 0)
	{
		XmlSpan		body = {(const char *) req->resp, req->resp_len};

		code = xml_text(body, "Code");
		region = xml_text(body, "Region");
	}
	if (req->curl_code == CURLE_OK && (req->status == 301 || req->status == 400) &&
		(req->bucket_region[0] || region))
	{
		status = core_error(err, CORE_ERR_INVALID,
							"%s: the bucket \"%s\" is in region \"%s\", not \"%s\" (set the region option)",
							location, s->bucket, req->bucket_region[0] ? req->bucket_region : region,
							s->d.region);
	}
	else if (req->curl_code == CURLE_OK && req->status == 416)
		status = core_error(err, CORE_ERR_CORRUPT, "%s: requested range is past the end of the object",
							location);
	else
		status = remote_check(req, s->d.store, location, s->endpoint, code, err);
	core_free(code);
	core_free(region);
	return status;
}

static CoreStatus
s3_size(Storage *st, const char *path, uint64_t *size, CoreError *err)
{
	S3Storage  *s = st->impl;
	HttpRequest req = {0};
	HttpRequest *reqs[1] = {&req};
	char	   *key = object_key(s, path);
	CoreStatus	status;

	if (key == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = s3_prepare(s, &req, "HEAD", key, NULL, NULL, NULL, NULL, 0, err);
	core_free(key);
	if (status == CORE_OK)
		status = http_run(s->http, reqs, 1, err);
	if (status == CORE_OK)
		status = s3_check(s, st, &req, path, err);
	if (status == CORE_OK)
	{
		if (req.content_length < 0)
			status = core_error(err, CORE_ERR_IO, "%s/%s: the store sent no object size",
								st->root, path);
		else
			*size = (uint64_t) req.content_length;
	}
	http_request_reset(&req);
	return status;
}

static CoreStatus
s3_read_many(Storage *st, StorageRange *ranges, size_t count, CoreError *err)
{
	S3Storage  *s = st->impl;
	RangePlan	plan;
	HttpRequest *reqs = NULL;
	HttpRequest **ptrs = NULL;
	uint8_t   **bufs = NULL;
	CoreStatus	status;

	status = range_plan_build(ranges, count, s->coalesce_gap, MAX_REQUEST_BYTES, &plan, err);
	if (status != CORE_OK)
		return status;
	reqs = core_calloc(plan.nrequests ? plan.nrequests : 1, sizeof(HttpRequest));
	ptrs = core_calloc(plan.nrequests ? plan.nrequests : 1, sizeof(HttpRequest *));
	bufs = core_calloc(plan.nrequests ? plan.nrequests : 1, sizeof(uint8_t *));
	if (reqs == NULL || ptrs == NULL || bufs == NULL)
	{
		status = core_error(err, CORE_ERR_NOMEM, "out of memory reading %zu ranges", count);
		goto done;
	}
	for (size_t i = 0; i < plan.nrequests && status == CORE_OK; i++)
	{
		RangeRequest *rr = &plan.requests[i];
		StorageRange *only = &ranges[plan.members[rr->first_member]];
		char		range[64];
		char	   *key;

		ptrs[i] = &reqs[i];
		/* one range alone lands straight in its destination */
		if (rr->nmembers == 1 && only->offset == rr->offset && only->length == rr->length)
			reqs[i].dest = only->dest;
		else
		{
			if (rr->length > SIZE_MAX)
			{
				status = core_error(err, CORE_ERR_NOMEM, "range too large");
				break;
			}
			bufs[i] = core_malloc((size_t) rr->length);
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
		key = object_key(s, rr->path);
		if (key == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory");
			break;
		}
		status = s3_prepare(s, &reqs[i], "GET", key, NULL, "range", range, NULL, 0, err);
		core_free(key);
	}
	if (status == CORE_OK)
		status = http_run(s->http, ptrs, plan.nrequests, err);
	for (size_t i = 0; i < plan.nrequests && status == CORE_OK; i++)
	{
		RangeRequest *rr = &plan.requests[i];

		status = s3_check(s, st, &reqs[i], rr->path, err);
		if (status == CORE_OK && (reqs[i].received != rr->length || reqs[i].overflow))
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s/%s: range [%llu, +%llu) returned %llu bytes (past the end of the object?)",
								st->root, rr->path, (unsigned long long) rr->offset,
								(unsigned long long) rr->length,
								(unsigned long long) reqs[i].received);
		if (status == CORE_OK && bufs[i])
		{
			for (size_t m = 0; m < rr->nmembers; m++)
			{
				StorageRange *r = &ranges[plan.members[rr->first_member + m]];

				memcpy(r->dest, bufs[i] + (r->offset - rr->offset), (size_t) r->length);
			}
		}
	}
done:
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

/* One page of a ListObjectsV2 answer into out; *token gets the next one. */
static CoreStatus
parse_list_page(const HttpRequest *req, const char *list_prefix, StorageListing *out,
				size_t *cap, char **token, CoreError *err)
{
	XmlSpan		body = {(const char *) req->resp, req->resp_len};
	XmlSpan		item;
	size_t		pos = 0;
	size_t		plen = strlen(list_prefix);
	char	   *truncated;
	CoreStatus	status = CORE_OK;

	*token = NULL;
	while (status == CORE_OK && xml_next(body, &pos, "Contents", &item))
	{
		char	   *key = xml_text(item, "Key");
		char	   *size = xml_text(item, "Size");
		char	   *modified = xml_text(item, "LastModified");
		int64_t		mtime;

		if (key == NULL || size == NULL)
			status = core_error(err, CORE_ERR_CORRUPT, "listing entry without Key or Size");
		else if (strncmp(key, list_prefix, plen) == 0)
		{
			const char *name = key + plen;
			size_t		len = strcspn(name, "/");

			/* an unreadable time is unknown (0): cleanup then keeps the file */
			http_time_parse(modified, &mtime);
			/* a key below a deeper '/' would be a CommonPrefix; skip it */
			if (name[len] == '\0')
				status = storage_listing_add(out, cap, name, len, strtoull(size, NULL, 10), false,
											 mtime, err);
		}
		core_free(key);
		core_free(size);
		core_free(modified);
	}
	pos = 0;
	while (status == CORE_OK && xml_next(body, &pos, "CommonPrefixes", &item))
	{
		char	   *p = xml_text(item, "Prefix");

		if (p == NULL)
			status = core_error(err, CORE_ERR_CORRUPT, "listing prefix without a name");
		else if (strncmp(p, list_prefix, plen) == 0)
		{
			const char *name = p + plen;

			status = storage_listing_add(out, cap, name, strcspn(name, "/"), 0, true, 0, err);
		}
		core_free(p);
	}
	truncated = xml_text(body, "IsTruncated");
	if (status == CORE_OK && truncated && strcmp(truncated, "true") == 0)
	{
		*token = xml_text(body, "NextContinuationToken");
		if (*token == NULL)
			status = core_error(err, CORE_ERR_CORRUPT,
								"truncated listing without a continuation token");
	}
	core_free(truncated);
	return status;
}

static CoreStatus
s3_list(Storage *st, const char *prefix, StorageListing *out, CoreError *err)
{
	S3Storage  *s = st->impl;
	char	   *key = object_key(s, prefix);
	char	   *list_prefix;
	char	   *enc_prefix;
	char	   *token = NULL;
	size_t		cap = 0;
	CoreStatus	status = CORE_OK;
	StrBuf		sb;

	if (key == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
	strbuf_init(&sb);
	strbuf_append(&sb, key);
	if (*key)
		strbuf_append_char(&sb, '/');
	core_free(key);
	list_prefix = strbuf_finish(&sb);
	if (list_prefix == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
	enc_prefix = sigv4_uri_encode(list_prefix, strlen(list_prefix), false);
	if (enc_prefix == NULL)
	{
		core_free(list_prefix);
		return core_error(err, CORE_ERR_NOMEM, "out of memory listing");
	}

	do
	{
		HttpRequest req = {0};
		HttpRequest *reqs[1] = {&req};
		char	   *query;

		strbuf_init(&sb);
		strbuf_appendf(&sb, "list-type=2&delimiter=%%2F&prefix=%s", enc_prefix);
		if (s->list_page_size > 0)
			strbuf_appendf(&sb, "&max-keys=%ld", s->list_page_size);
		if (token)
		{
			char	   *enc_token = sigv4_uri_encode(token, strlen(token), false);

			if (enc_token)
				strbuf_appendf(&sb, "&continuation-token=%s", enc_token);
			else
				sb.broken = true;
			core_free(enc_token);
			core_free(token);
			token = NULL;
		}
		query = strbuf_finish(&sb);
		if (query == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory listing");
			break;
		}
		req.max_body = LIST_MAX_BODY;
		status = s3_prepare(s, &req, "GET", NULL, query, NULL, NULL, NULL, 0, err);
		core_free(query);
		if (status == CORE_OK)
			status = http_run(s->http, reqs, 1, err);
		if (status == CORE_OK)
			status = s3_check(s, st, &req, prefix, err);
		if (status == CORE_OK && req.overflow)
			status = core_error(err, CORE_ERR_IO, "%s/%s: listing page too large", st->root, prefix);
		if (status == CORE_OK)
			status = parse_list_page(&req, list_prefix, out, &cap, &token, err);
		http_request_reset(&req);
	} while (status == CORE_OK && token != NULL);
	core_free(token);
	core_free(list_prefix);
	core_free(enc_prefix);
	return status;
}

/* A single PUT, conditional when if_absent. */
static CoreStatus
put_single(S3Storage *s, Storage *st, const char *path, const char *key, const uint8_t *data,
		   size_t size, bool if_absent, CoreError *err)
{
	HttpRequest req = {0};
	HttpRequest *reqs[1] = {&req};
	char		name[64] = {0};
	const char *value = NULL;
	CoreStatus	status;

	if (if_absent)
	{
		const char *colon = strchr(s->d.if_absent_header, ':');

		snprintf(name, sizeof(name), "%.*s", (int) (colon - s->d.if_absent_header),
				 s->d.if_absent_header);
		for (char *c = name; *c; c++)
			*c = (*c >= 'A' && *c <= 'Z') ? (char) (*c + 32) : *c;
		value = colon + 2;
	}
	status = s3_prepare(s, &req, "PUT", key, NULL, if_absent ? name : NULL, value,
						data, size, err);
	if (status == CORE_OK)
		status = http_run(s->http, reqs, 1, err);
	if (status == CORE_OK)
		status = s3_check(s, st, &req, path, err);
	http_request_reset(&req);
	return status;
}

/* Abort a multipart upload, best effort (its own failure is not reported). */
static void
abort_multipart(S3Storage *s, const char *key, const char *enc_upload)
{
	HttpRequest req = {0};
	HttpRequest *reqs[1] = {&req};
	char	   *query;
	StrBuf		sb;
	CoreError	ignored;

	strbuf_init(&sb);
	strbuf_appendf(&sb, "uploadId=%s", enc_upload);
	query = strbuf_finish(&sb);
	if (query && s3_prepare(s, &req, "DELETE", key, query, NULL, NULL, NULL, 0, &ignored) == CORE_OK)
		http_run(s->http, reqs, 1, &ignored);
	core_free(query);
	http_request_reset(&req);
}

static CoreStatus
put_multipart(S3Storage *s, Storage *st, const char *path, const char *key,
			  const uint8_t *data, size_t size, CoreError *err)
{
	HttpRequest init = {0};
	HttpRequest *one[1] = {&init};
	size_t		nparts = (size + s->part_size - 1) / s->part_size;
	HttpRequest *parts = NULL;
	HttpRequest **ptrs = NULL;
	char	   *upload_id = NULL;
	char	   *enc_upload = NULL;
	StrBuf		sb;
	CoreStatus	status;

	if (nparts > MAX_PARTS)
		return core_error(err, CORE_ERR_INVALID, "%s/%s: %zu bytes need more than %d parts",
						  st->root, path, size, MAX_PARTS);
	status = s3_prepare(s, &init, "POST", key, "uploads", NULL, NULL, NULL, 0, err);
	if (status == CORE_OK)
		status = http_run(s->http, one, 1, err);
	if (status == CORE_OK)
		status = s3_check(s, st, &init, path, err);
	if (status == CORE_OK)
	{
		XmlSpan		body = {(const char *) init.resp, init.resp_len};

		upload_id = xml_text(body, "UploadId");
		if (upload_id == NULL)
			status = core_error(err, CORE_ERR_IO, "%s/%s: the store started no multipart upload",
								st->root, path);
	}
	http_request_reset(&init);
	if (status != CORE_OK)
		return status;
	enc_upload = sigv4_uri_encode(upload_id, strlen(upload_id), false);
	parts = core_calloc(nparts, sizeof(HttpRequest));
	ptrs = core_calloc(nparts, sizeof(HttpRequest *));
	if (enc_upload == NULL || parts == NULL || ptrs == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory uploading %s/%s", st->root, path);

	for (size_t i = 0; i < nparts && status == CORE_OK; i++)
	{
		size_t		off = i * s->part_size;
		size_t		len = size - off < s->part_size ? size - off : s->part_size;
		char	   *query;

		strbuf_init(&sb);
		strbuf_appendf(&sb, "partNumber=%zu&uploadId=%s", i + 1, enc_upload);
		query = strbuf_finish(&sb);
		if (query == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "out of memory uploading");
			break;
		}
		ptrs[i] = &parts[i];
		status = s3_prepare(s, &parts[i], "PUT", key, query, NULL, NULL, data + off, len, err);
		core_free(query);
	}
	if (status == CORE_OK)
		status = http_run(s->http, ptrs, nparts, err);
	for (size_t i = 0; i < nparts && status == CORE_OK; i++)
	{
		status = s3_check(s, st, &parts[i], path, err);
		if (status == CORE_OK && parts[i].etag[0] == '\0')
			status = core_error(err, CORE_ERR_IO, "%s/%s: part %zu came back without an ETag",
								st->root, path, i + 1);
	}
	if (status == CORE_OK)
	{
		HttpRequest done = {0};
		char	   *query;
		char	   *xml;

		strbuf_init(&sb);
		strbuf_append(&sb, "<CompleteMultipartUpload>");
		for (size_t i = 0; i < nparts; i++)
			strbuf_appendf(&sb, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>",
						   i + 1, parts[i].etag);
		strbuf_append(&sb, "</CompleteMultipartUpload>");
		xml = strbuf_finish(&sb);
		strbuf_init(&sb);
		strbuf_appendf(&sb, "uploadId=%s", enc_upload);
		query = strbuf_finish(&sb);
		one[0] = &done;
		if (xml == NULL || query == NULL)
			status = core_error(err, CORE_ERR_NOMEM, "out of memory uploading");
		else
			status = s3_prepare(s, &done, "POST", key, query, NULL, NULL,
								(const uint8_t *) xml, strlen(xml), err);
		if (status == CORE_OK)
			status = http_run(s->http, one, 1, err);
		if (status == CORE_OK)
			status = s3_check(s, st, &done, path, err);
		/* CompleteMultipartUpload can fail inside a 200 answer */
		if (status == CORE_OK && done.resp && strstr((const char *) done.resp, "<Error>"))
		{
			XmlSpan		body = {(const char *) done.resp, done.resp_len};
			char	   *code = xml_text(body, "Code");

			status = core_error(err, CORE_ERR_IO, "%s/%s: completing the upload failed: %s",
								st->root, path, code ? code : "unknown error");
			core_free(code);
		}
		http_request_reset(&done);
		core_free(xml);
		core_free(query);
	}
	if (status != CORE_OK && status != CORE_ERR_CANCELED && enc_upload)
		abort_multipart(s, key, enc_upload);
	for (size_t i = 0; parts && i < nparts; i++)
		http_request_reset(&parts[i]);
	core_free(parts);
	core_free(ptrs);
	core_free(upload_id);
	core_free(enc_upload);
	return status;
}

static CoreStatus
s3_put(Storage *st, const char *path, const uint8_t *data, size_t size, bool if_absent,
	   CoreError *err)
{
	S3Storage  *s = st->impl;
	char	   *key = object_key(s, path);
	CoreStatus	status;

	if (key == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	/* a conditional write must be one request to be atomic */
	if (!if_absent && size > s->part_size)
		status = put_multipart(s, st, path, key, data, size, err);
	else
		status = put_single(s, st, path, key, data, size, if_absent, err);
	core_free(key);
	return status;
}

static CoreStatus
s3_remove(Storage *st, const char *path, CoreError *err)
{
	S3Storage  *s = st->impl;
	HttpRequest req = {0};
	HttpRequest *reqs[1] = {&req};
	char	   *key = object_key(s, path);
	CoreStatus	status;

	if (key == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = s3_prepare(s, &req, "DELETE", key, NULL, NULL, NULL, NULL, 0, err);
	core_free(key);
	if (status == CORE_OK)
		status = http_run(s->http, reqs, 1, err);
	if (status == CORE_OK && !(req.curl_code == CURLE_OK && req.status == 404))
		status = s3_check(s, st, &req, path, err);
	http_request_reset(&req);
	return status;
}

static void
s3_stats(const Storage *st, StorageStats *stats)
{
	const S3Storage *s = st->impl;

	http_client_stats(s->http, stats);
}

static void
free_secret(const char *s)
{
	if (s)
	{
		explicit_bzero((char *) s, strlen(s));
		core_free((char *) s);
	}
}

static void
s3_close(Storage *st)
{
	S3Storage  *s = st->impl;

	if (s == NULL)
		return;
	http_client_free(s->http);
	free_secret(s->d.access_key);
	free_secret(s->d.secret_key);
	free_secret(s->d.session_token);
	free_secret(s->d.bearer_token);
	core_free((char *) s->d.region);
	gcs_credentials_free(s->d.gcs);
	core_free(s->bucket_path);
	core_free(s->prefix);
	core_free(s->endpoint);
	core_free(s->base_url);
	core_free(s->host);
	core_free(s->path_base);
	core_free(s);
	st->impl = NULL;
}

static const StorageOps s3_ops = {
	.name = "s3",
	.size = s3_size,
	.read_many = s3_read_many,
	.list = s3_list,
	.put = s3_put,
	.remove = s3_remove,
	.close = s3_close,
	.stats = s3_stats,
};

/*
 * Work out the endpoint, the Host that is signed and the path base:
 * path style puts the bucket in the path; virtual-hosted style puts it in
 * front of the endpoint's host (unless the endpoint already names it).
 */
static CoreStatus
setup_endpoint(S3Storage *s, const StorageOptions *opts, const char *root, CoreError *err)
{
	const char *given = storage_options_get(opts, SOPT_ENDPOINT);
	bool		virtual_hosted;
	bool		allow_http;
	const char *scheme_end;
	const char *host;
	size_t		host_len;
	StrBuf		sb;
	char	   *endpoint;

	if (storage_options_bool(opts, SOPT_AWS_VIRTUAL_HOSTED, false, &virtual_hosted, err) != CORE_OK ||
		storage_options_bool(opts, SOPT_ALLOW_HTTP, false, &allow_http, err) != CORE_OK)
		return CORE_ERR_INVALID;

	strbuf_init(&sb);
	if (given)
		strbuf_append(&sb, given);
	else if (s->d.default_endpoint)
		strbuf_append(&sb, s->d.default_endpoint);
	else
		strbuf_appendf(&sb, "https://s3.%s.amazonaws.com", s->d.region);
	endpoint = strbuf_finish(&sb);
	if (endpoint == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", root);
	for (size_t n = strlen(endpoint); n > 0 && endpoint[n - 1] == '/'; n--)
		endpoint[n - 1] = '\0';

	if (strncasecmp(endpoint, "https://", 8) == 0)
		scheme_end = endpoint + 8;
	else if (strncasecmp(endpoint, "http://", 7) == 0)
	{
		scheme_end = endpoint + 7;
		if (!allow_http)
		{
			CoreStatus	st = core_error(err, CORE_ERR_INVALID,
										"%s: endpoint %s uses plain HTTP; set allow_http to true to permit it",
										root, endpoint);

			core_free(endpoint);
			return st;
		}
	}
	else
	{
		CoreStatus	st = core_error(err, CORE_ERR_INVALID,
									"%s: endpoint \"%s\" must start with https:// (or http:// with allow_http)",
									root, endpoint);

		core_free(endpoint);
		return st;
	}
	host = scheme_end;
	host_len = strcspn(host, "/");
	if (host[host_len] != '\0')
	{
		CoreStatus	st = core_error(err, CORE_ERR_INVALID,
									"%s: endpoint \"%s\" must not have a path", root, endpoint);

		core_free(endpoint);
		return st;
	}

	strbuf_init(&sb);
	if (virtual_hosted && !(strncmp(host, s->bucket, strlen(s->bucket)) == 0 &&
							host[strlen(s->bucket)] == '.'))
	{
		strbuf_append_len(&sb, endpoint, (size_t) (scheme_end - endpoint));
		strbuf_appendf(&sb, "%s.%s", s->bucket, host);
		core_free(endpoint);
		endpoint = strbuf_finish(&sb);
		if (endpoint == NULL)
			return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", root);
		scheme_end = strstr(endpoint, "://") + 3;
		host = scheme_end;
		host_len = strlen(host);
	}
	else
		strbuf_free(&sb);
	s->endpoint = endpoint;
	s->host = core_malloc(host_len + 1);
	if (s->host == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", root);
	memcpy(s->host, host, host_len);
	s->host[host_len] = '\0';
	if (virtual_hosted)
		s->path_base = core_strdup("");
	else
		s->path_base = sigv4_uri_encode(s->bucket_path, strlen(s->bucket_path), true);
	if (s->path_base == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", root);
	return CORE_OK;
}

CoreStatus
s3_open_dialect(const char *location, const StorageOptions *opts, const S3Dialect *dialect,
				Storage *st, CoreError *err)
{
	S3Storage  *s;
	HttpConfig	cfg;
	size_t		blen = strcspn(location, "/");
	long		n;
	CoreStatus	status;

	if (blen == 0)
	{
		gcs_credentials_free(dialect->gcs);
		return core_error(err, CORE_ERR_INVALID, "%s: no bucket name", st->root);
	}
	s = core_calloc(1, sizeof(S3Storage));
	if (s == NULL)
	{
		gcs_credentials_free(dialect->gcs);
		return core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", st->root);
	}
	st->impl = s;
	st->ops = &s3_ops;
	s->d = *dialect;
	s->d.access_key = dup_or_null(dialect->access_key);
	s->d.secret_key = dup_or_null(dialect->secret_key);
	s->d.session_token = dup_or_null(dialect->session_token);
	s->d.bearer_token = dup_or_null(dialect->bearer_token);
	s->d.region = core_strdup(dialect->region ? dialect->region : "us-east-1");
	s->bucket_path = core_malloc(blen + 2);
	if (s->bucket_path)
	{
		s->bucket_path[0] = '/';
		memcpy(s->bucket_path + 1, location, blen);
		s->bucket_path[blen + 1] = '\0';
		s->bucket = s->bucket_path + 1;
	}
	s->prefix = core_strdup(location[blen] ? location + blen + 1 : "");
	if (s->d.region == NULL || s->bucket == NULL || s->prefix == NULL ||
		(dialect->access_key && s->d.access_key == NULL) ||
		(dialect->secret_key && s->d.secret_key == NULL) ||
		(dialect->session_token && s->d.session_token == NULL) ||
		(dialect->bearer_token && s->d.bearer_token == NULL))
	{
		status = core_error(err, CORE_ERR_NOMEM, "out of memory opening %s", st->root);
		goto fail;
	}
	if (s->d.access_key && s->d.secret_key == NULL)
	{
		status = core_error(err, CORE_ERR_INVALID,
							"%s: an access key id was given without its secret", st->root);
		goto fail;
	}
	status = storage_options_int(opts, SOPT_COALESCE_BYTES, DEFAULT_COALESCE_BYTES, 0,
								 MAX_REQUEST_BYTES, &n, err);
	if (status != CORE_OK)
		goto fail;
	s->coalesce_gap = (uint64_t) n;
	status = storage_options_int(opts, SOPT_MULTIPART_PART_SIZE, DEFAULT_PART_SIZE,
								 MIN_PART_SIZE, 5L * 1024 * 1024 * 1024, &n, err);
	if (status != CORE_OK)
		goto fail;
	s->part_size = (uint64_t) n;
	status = storage_options_int(opts, SOPT_LIST_PAGE_SIZE, 0, 1, 5000, &s->list_page_size, err);
	if (status != CORE_OK)
		goto fail;
	{
		bool		b;

		status = storage_options_bool(opts, SOPT_AWS_UNSIGNED_PAYLOAD, false, &b, err);
		if (status != CORE_OK)
			goto fail;
		s->unsigned_payload = b;
	}
	status = setup_endpoint(s, opts, st->root, err);
	s->d.default_endpoint = NULL;	/* the caller's string; copied by now */
	if (status != CORE_OK)
		goto fail;
	status = remote_http_config(opts, &cfg, err);
	if (status == CORE_OK)
		status = http_client_new(&cfg, &s->http, err);
	if (status != CORE_OK)
		goto fail;
	http_client_set_cancel(s->http, storage_canceled, st);
	return CORE_OK;

fail:
	s3_close(st);
	st->ops = NULL;
	return status;
}

CoreStatus
storage_s3_open(const char *location, const StorageOptions *opts, Storage *st, CoreError *err)
{
	S3Dialect	d = {0};
	bool		skip;

	if (storage_options_bool(opts, SOPT_AWS_SKIP_SIGNATURE, false, &skip, err) != CORE_OK)
		return CORE_ERR_INVALID;
	d.store = "S3";
	d.if_absent_header = "If-None-Match: *";
	d.region = storage_options_get(opts, SOPT_AWS_REGION);
	if (!skip)
	{
		d.access_key = storage_options_get(opts, SOPT_AWS_ACCESS_KEY_ID);
		d.secret_key = storage_options_get(opts, SOPT_AWS_SECRET_ACCESS_KEY);
		d.session_token = storage_options_get(opts, SOPT_AWS_SESSION_TOKEN);
		if (d.access_key == NULL && d.secret_key != NULL)
			return core_error(err, CORE_ERR_INVALID,
							  "%s: a secret access key was given without its access key id",
							  st->root);
	}
	return s3_open_dialect(location, opts, &d, st, err);
}
