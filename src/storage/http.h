/*-------------------------------------------------------------------------
 *
 * http.h
 *	  Many HTTP requests in flight over libcurl's multi interface.
 *
 * An HttpClient lives as long as its backend and keeps one curl multi
 * handle, so connections (and TLS sessions, DNS answers) are reused from
 * one call to the next.  http_run takes a batch of prepared requests and
 * runs them with at most max_in_flight at once, retrying transport
 * failures, timeouts, 5xx and 429 with exponential backoff and jitter
 * (never other 4xx), and polls the cancel callback between waits so a
 * statement_timeout or Ctrl-C ends the batch within about 50 ms.
 *
 * A request's response body goes either into the caller's buffer (dest,
 * exactly dest_len bytes: ranged GETs land where the reader wants them)
 * or into a growable buffer capped at max_body.  Error responses always
 * go to the growable buffer so the caller can read the store's error code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_HTTP_H
#define LANCEDB_STORAGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "core/error.h"
#include "storage/storage.h"

typedef struct HttpConfig
{
	long		connect_timeout_ms;
	long		timeout_ms;		/* whole request, as object_store's "timeout" */
	int			max_retries;
	long		retry_timeout_ms;	/* no retry starts after this much time */
	int			max_in_flight;
	bool		insecure;		/* skip TLS certificate checks */
	const char *user_agent;
} HttpConfig;

typedef struct HttpClient HttpClient;

typedef struct HttpRequest
{
	/* set by the caller */
	const char *method;			/* GET, HEAD, PUT, POST, DELETE */
	char	   *url;			/* owned; freed by http_request_reset */
	struct curl_slist *headers; /* owned */
	const uint8_t *body;		/* request body (PUT/POST), not owned */
	size_t		body_len;
	uint8_t    *dest;			/* response body sink for 2xx, or NULL */
	uint64_t	dest_len;
	uint64_t	range_offset;	/* what a 200 to a ranged GET must skip */
	size_t		max_body;		/* cap of the growable buffer */

	/* results */
	long		status;			/* HTTP status, 0 if none arrived */
	CURLcode	curl_code;
	char		curl_msg[CURL_ERROR_SIZE];
	uint8_t    *resp;			/* growable body (NUL-terminated) */
	size_t		resp_len;
	uint64_t	received;		/* bytes written into dest */
	bool		overflow;		/* more bytes came than fit */
	int64_t		content_length; /* -1 when unknown */
	char		etag[128];
	char		bucket_region[64];	/* x-amz-bucket-region */
	char		error_code[64]; /* x-ms-error-code */
	int			attempts;

	/* private to http.c */
	CURL	   *easy;
	int64_t		not_before_us;
	bool		done;
	uint64_t	sent;			/* upload position */
	uint64_t	skipped;		/* bytes dropped before range_offset */
	size_t		run_index;
} HttpRequest;

extern CoreStatus http_client_new(const HttpConfig *cfg, HttpClient **out, CoreError *err);
extern void http_client_free(HttpClient *client);
extern void http_client_set_cancel(HttpClient *client, StorageCancelFn fn, void *arg);
extern void http_client_stats(const HttpClient *client, StorageStats *stats);

/* Append "Name: value" to req->headers; false when out of memory. */
extern bool http_add_header(HttpRequest *req, const char *name, const char *value);

/* Free what the request owns and zero it for reuse. */
extern void http_request_reset(HttpRequest *req);

/*
 * Run reqs to completion.  CORE_OK means every request finished: look at
 * each one's curl_code and status.  CORE_ERR_CANCELED when the cancel
 * callback said so (everything in flight is abandoned).
 */
extern CoreStatus http_run(HttpClient *client, HttpRequest **reqs, size_t count,
						   CoreError *err);

/* Whether a finished request succeeded (transport ok and 2xx). */
static inline bool
http_ok(const HttpRequest *req)
{
	return req->curl_code == CURLE_OK && req->status >= 200 && req->status < 300;
}

#endif							/* LANCEDB_STORAGE_HTTP_H */
