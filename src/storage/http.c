/*-------------------------------------------------------------------------
 *
 * http.c
 *	  Many HTTP requests in flight over libcurl's multi interface.
 *
 * One loop: start requests while fewer than max_in_flight are running
 * (retries whose backoff has passed first, then new ones), let curl move
 * bytes, collect finished transfers, and wait on the sockets for at most
 * CANCEL_POLL_MS so the cancel callback is asked often.  A failed attempt
 * that may succeed on a second try (no connection, reset, timeout, 5xx,
 * 429) is queued again after 100 ms * 2^attempt, jittered to between half
 * and all of that so that many clients do not retry in step, and capped;
 * other 4xx are answers, not accidents, and are never retried.
 *
 * Easy handles are pooled; connections live in the multi handle's cache,
 * so a second batch to the same host reuses the first batch's sockets.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "storage/http.h"

#define CANCEL_POLL_MS		50
#define BACKOFF_BASE_MS		100
#define BACKOFF_CAP_MS		10000
#define DEFAULT_MAX_BODY	(1024 * 1024)

struct HttpClient
{
	CURLM	   *multi;
	HttpConfig	cfg;
	char	   *user_agent;
	StorageCancelFn cancel;
	void	   *cancel_arg;
	CURL	  **pool;			/* idle easy handles */
	size_t		npool;
	size_t		pool_cap;
	StorageStats stats;
	unsigned int rng;
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

CoreStatus
http_client_new(const HttpConfig *cfg, HttpClient **out, CoreError *err)
{
	static bool global_done = false;
	HttpClient *c;

	*out = NULL;
	/*
	 * curl_global_init is not thread-safe.  Clients are made only on the
	 * caller's thread, when a storage is opened; a writer's background
	 * thread (writer_flush.h) uses a storage opened before it started, so
	 * it never gets here and the flag needs no lock.
	 */
	if (!global_done)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return core_error(err, CORE_ERR_IO, "could not initialise libcurl");
		global_done = true;
	}
	c = core_calloc(1, sizeof(HttpClient));
	if (c == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory creating an HTTP client");
	c->cfg = *cfg;
	if (c->cfg.max_in_flight < 1)
		c->cfg.max_in_flight = 1;
	c->user_agent = core_strdup(cfg->user_agent ? cfg->user_agent : "lancedb_fdw/0.1");
	c->multi = curl_multi_init();
	if (c->user_agent == NULL || c->multi == NULL)
	{
		http_client_free(c);
		return core_error(err, CORE_ERR_NOMEM, "out of memory creating an HTTP client");
	}
	c->cfg.user_agent = c->user_agent;
	/* keep a few idle connections per host beyond those in flight */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long) c->cfg.max_in_flight + 4);
	c->rng = (unsigned int) (now_us() ^ (int64_t) getpid());
	*out = c;
	return CORE_OK;
}

void
http_client_free(HttpClient *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	core_free(c->pool);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	core_free(c->user_agent);
	core_free(c);
}

void
http_client_set_cancel(HttpClient *c, StorageCancelFn fn, void *arg)
{
	c->cancel = fn;
	c->cancel_arg = arg;
}

void
http_client_stats(const HttpClient *c, StorageStats *stats)
{
	*stats = c->stats;
}

bool
http_add_header(HttpRequest *req, const char *name, const char *value)
{
	char		line[8192];
	struct curl_slist *grown;
	int			n = snprintf(line, sizeof(line), "%s: %s", name, value);

	if (n < 0 || (size_t) n >= sizeof(line))
		return false;
	grown = curl_slist_append(req->headers, line);
	if (grown == NULL)
		return false;
	req->headers = grown;
	return true;
}

void
http_request_reset(HttpRequest *req)
{
	core_free(req->url);
	curl_slist_free_all(req->headers);
	core_free(req->resp);
	memset(req, 0, sizeof(*req));
}

/* Append to the growable body, refusing to pass max_body. */
static bool
append_resp(HttpRequest *req, const char *data, size_t n)
{
	size_t		cap = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	uint8_t    *grown;

	if (n > cap - req->resp_len)
	{
		req->overflow = true;
		return false;
	}
	grown = core_realloc(req->resp, req->resp_len + n + 1);
	if (grown == NULL)
	{
		req->overflow = true;
		return false;
	}
	req->resp = grown;
	memcpy(req->resp + req->resp_len, data, n);
	req->resp_len += n;
	req->resp[req->resp_len] = '\0';
	return true;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	HttpRequest *req = arg;
	size_t		n = size * nmemb;
	size_t		used = 0;

	if (req->status == 0)
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
	if (req->dest == NULL || req->status < 200 || req->status >= 300)
		return append_resp(req, data, n) ? n : 0;

	/* a store that ignored Range sends the whole object: skip to ours */
	if (req->status == 200 && req->range_offset > 0)
	{
		uint64_t	skip = req->range_offset - req->skipped;

		used = n < skip ? n : (size_t) skip;
		req->skipped += used;
	}
	if (used < n)
	{
		size_t		rest = n - used;
		uint64_t	room = req->dest_len - req->received;

		if (rest > room)
		{
			if (req->status != 200)
				req->overflow = true;
			rest = (size_t) room;
		}
		memcpy(req->dest + req->received, data + used, rest);
		req->received += rest;
	}
	return n;
}

/* Copy a header's value (trimmed) if the line is that header. */
static void
capture_header(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t		nlen = strlen(name);
	size_t		vlen;
	const char *v;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return;
	v = line + nlen + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
	{
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= outlen)
		vlen = outlen - 1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
}

static size_t
header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	HttpRequest *req = arg;
	size_t		n = size * nmemb;

	capture_header(line, n, "etag", req->etag, sizeof(req->etag));
	capture_header(line, n, "x-amz-bucket-region", req->bucket_region, sizeof(req->bucket_region));
	capture_header(line, n, "x-ms-error-code", req->error_code, sizeof(req->error_code));
	return n;
}

/* The upload body; req->sent tracks the position (reset per attempt). */
static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	HttpRequest *req = arg;
	size_t		room = size * nmemb;
	size_t		left = req->body_len - (size_t) req->sent;
	size_t		n = left < room ? left : room;

	if (n > 0)
		memcpy(buf, req->body + req->sent, n);
	req->sent += n;
	return n;
}

static CURL *
take_easy(HttpClient *c)
{
	if (c->npool > 0)
		return c->pool[--c->npool];
	return curl_easy_init();
}

static void
give_easy(HttpClient *c, CURL *easy)
{
	if (c->npool == c->pool_cap)
	{
		size_t		ncap = c->pool_cap ? c->pool_cap * 2 : 8;
		CURL	  **grown = core_realloc(c->pool, ncap * sizeof(CURL *));

		if (grown == NULL)
		{
			curl_easy_cleanup(easy);
			return;
		}
		c->pool = grown;
		c->pool_cap = ncap;
	}
	curl_easy_reset(easy);
	c->pool[c->npool++] = easy;
}

static bool
has_body(const HttpRequest *req)
{
	return strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0;
}

/* Set up and add one attempt of req to the multi handle. */
static CoreStatus
start_request(HttpClient *c, HttpRequest *req, CoreError *err)
{
	CURL	   *e = take_easy(c);

	if (e == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory starting an HTTP request");
	if (req->attempts == 0 && has_body(req))
	{
		/* no "100 Continue" round trip: the stores answer errors anyway */
		if (!http_add_header(req, "Expect", ""))
		{
			give_easy(c, e);
			return core_error(err, CORE_ERR_NOMEM, "out of memory starting an HTTP request");
		}
	}
	req->easy = e;
	req->status = 0;
	req->curl_code = CURLE_OK;
	req->curl_msg[0] = '\0';
	req->resp_len = 0;
	req->received = 0;
	req->overflow = false;
	req->sent = 0;
	req->skipped = 0;
	req->content_length = -1;
	req->etag[0] = req->bucket_region[0] = req->error_code[0] = '\0';

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_msg);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->cfg.user_agent);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->cfg.connect_timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
	if (c->cfg.timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
	if (c->cfg.insecure)
	{
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (has_body(req))
	{
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, req);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_len);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	else if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);

	if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
	{
		req->easy = NULL;
		give_easy(c, e);
		return core_error(err, CORE_ERR_IO, "could not start an HTTP request");
	}
	c->stats.requests++;
	return CORE_OK;
}

/* Failures worth a second try: the network's, the server's, throttling. */
static bool
retryable(const HttpRequest *req)
{
	switch (req->curl_code)
	{
		case CURLE_OK:
			return req->status >= 500 || req->status == 429;
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_SSL_CONNECT_ERROR:
			return true;
		default:
			return false;
	}
}

static int64_t
backoff_us(HttpClient *c, int attempt)
{
	int64_t		ms = BACKOFF_BASE_MS;

	for (int i = 1; i < attempt && ms < BACKOFF_CAP_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_CAP_MS)
		ms = BACKOFF_CAP_MS;
	ms = ms / 2 + rand_r(&c->rng) % (ms / 2 + 1);
	return ms * 1000;
}

/* Take req off the multi handle after a finished attempt. */
static void
finish_attempt(HttpClient *c, HttpRequest *req, CURLcode code)
{
	curl_off_t	down = 0;
	curl_off_t	up = 0;
	curl_off_t	clen = -1;
	long		connects = 0;

	req->curl_code = code;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
	curl_easy_getinfo(req->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(req->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(req->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	curl_easy_getinfo(req->easy, CURLINFO_NUM_CONNECTS, &connects);
	req->content_length = clen;
	c->stats.connections += (uint64_t) connects;
	c->stats.bytes_read += (uint64_t) down;
	c->stats.bytes_written += (uint64_t) up;
	/* an overflow aborted the write: that is ours, not the network's */
	if (code == CURLE_WRITE_ERROR && req->overflow)
		req->curl_code = CURLE_OK;
	curl_multi_remove_handle(c->multi, req->easy);
	give_easy(c, req->easy);
	req->easy = NULL;
	req->attempts++;
}

/* Abandon whatever is in flight (after a cancel or an internal failure). */
static void
abandon(HttpClient *c, HttpRequest **reqs, size_t count)
{
	for (size_t i = 0; i < count; i++)
	{
		if (reqs[i]->easy)
		{
			curl_multi_remove_handle(c->multi, reqs[i]->easy);
			curl_easy_cleanup(reqs[i]->easy);
			reqs[i]->easy = NULL;
		}
	}
}

CoreStatus
http_run(HttpClient *c, HttpRequest **reqs, size_t count, CoreError *err)
{
	size_t		next = 0;		/* first never-started request */
	size_t		remaining = count;
	size_t		active = 0;
	size_t	   *retry_q;		/* requests waiting out a backoff */
	size_t		nretry = 0;
	int64_t		started = now_us();
	CoreStatus	status = CORE_OK;

	if (count == 0)
		return CORE_OK;
	retry_q = core_mallocarray(count, sizeof(size_t));
	if (retry_q == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory running %zu HTTP requests", count);
	for (size_t i = 0; i < count; i++)
	{
		reqs[i]->attempts = 0;
		reqs[i]->done = false;
		reqs[i]->easy = NULL;
		reqs[i]->not_before_us = 0;
		reqs[i]->run_index = i;
	}

	while (remaining > 0)
	{
		int			running;
		int			queued;
		CURLMsg    *msg;
		int64_t		now = now_us();
		int64_t		wake = now + CANCEL_POLL_MS * 1000;
		bool		startable;

		if (c->cancel && c->cancel(c->cancel_arg))
		{
			status = core_error(err, CORE_ERR_CANCELED, "canceled while waiting for the object store");
			break;
		}

		/* start retries that are due, then new requests */
		for (size_t i = 0; i < nretry && active < (size_t) c->cfg.max_in_flight;)
		{
			HttpRequest *r = reqs[retry_q[i]];

			if (r->not_before_us > now)
			{
				if (r->not_before_us < wake)
					wake = r->not_before_us;
				i++;
				continue;
			}
			status = start_request(c, r, err);
			if (status != CORE_OK)
				break;
			active++;
			retry_q[i] = retry_q[--nretry];
		}
		while (status == CORE_OK && next < count && active < (size_t) c->cfg.max_in_flight)
		{
			status = start_request(c, reqs[next], err);
			if (status != CORE_OK)
				break;
			next++;
			active++;
		}
		if (status != CORE_OK)
			break;

		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
		{
			status = core_error(err, CORE_ERR_IO, "HTTP transfer loop failed");
			break;
		}
		while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL)
		{
			HttpRequest *r;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
			finish_attempt(c, r, msg->data.result);
			active--;
			if (retryable(r) && r->attempts <= c->cfg.max_retries &&
				now_us() - started < (int64_t) c->cfg.retry_timeout_ms * 1000)
			{
				r->not_before_us = now_us() + backoff_us(c, r->attempts);
				retry_q[nretry++] = r->run_index;
				c->stats.retries++;
				continue;
			}
			r->done = true;
			remaining--;
		}
		if (remaining == 0)
			break;

		/* more to start right now: do not sleep */
		startable = active < (size_t) c->cfg.max_in_flight && next < count;
		for (size_t i = 0; !startable && i < nretry; i++)
			startable = active < (size_t) c->cfg.max_in_flight &&
				reqs[retry_q[i]]->not_before_us <= now_us();
		if (!startable)
		{
			int64_t		wait_ms = (wake - now_us()) / 1000;

			if (wait_ms < 1)
				wait_ms = 1;
			if (wait_ms > CANCEL_POLL_MS)
				wait_ms = CANCEL_POLL_MS;
			curl_multi_poll(c->multi, NULL, 0, (int) wait_ms, NULL);
		}
	}
	if (status != CORE_OK)
		abandon(c, reqs, count);
	core_free(retry_q);
	return status;
}
