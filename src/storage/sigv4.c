/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *	  AWS Signature Version 4 over OpenSSL's HMAC-SHA256.
 *
 * The steps, as the AWS documentation numbers them:
 *	1. canonical request: method, path, sorted query, sorted lower-case
 *	   headers with trimmed values, the signed-header list, payload hash;
 *	2. string to sign: algorithm, date, scope, hex SHA-256 of step 1;
 *	3. signing key: HMAC chain "AWS4"+secret -> date -> region -> service
 *	   -> "aws4_request";
 *	4. signature: hex HMAC of step 2 under the key of step 3.
 * S3 does not normalise the path (no '.'/'..' folding, no double
 * encoding), so the caller's encoded path is used as it is.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/alloc.h"
#include "storage/sigv4.h"
#include "storage/strbuf.h"

static const char hexdigits[] = "0123456789abcdef";

static void
to_hex(const uint8_t *bytes, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = hexdigits[bytes[i] >> 4];
		out[2 * i + 1] = hexdigits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

void
sigv4_sha256_hex(const uint8_t *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	uint8_t		digest[SHA256_DIGEST_LENGTH];

	SHA256(data, len, digest);
	to_hex(digest, sizeof(digest), out);
}

static void
hmac(const uint8_t *key, size_t keylen, const char *msg, size_t msglen,
	 uint8_t out[SHA256_DIGEST_LENGTH])
{
	unsigned int outlen = SHA256_DIGEST_LENGTH;

	HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) msg, msglen, out, &outlen);
}

void
sigv4_amz_date(int64_t unix_seconds, char out[17])
{
	time_t		t = (time_t) unix_seconds;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_' || c == '.' || c == '~';
}

char *
sigv4_uri_encode(const char *s, size_t len, bool keep_slash)
{
	StrBuf		sb;

	strbuf_init(&sb);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			strbuf_append_char(&sb, (char) c);
		else
			strbuf_appendf(&sb, "%%%02X", c);
	}
	return strbuf_finish(&sb);
}

/* One query parameter split into its encoded name and value. */
typedef struct QueryParam
{
	const char *name;
	size_t		name_len;
	const char *value;
	size_t		value_len;
} QueryParam;

static int
compare_params(const void *a, const void *b)
{
	const QueryParam *x = a;
	const QueryParam *y = b;
	size_t		n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int			c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	n = x->value_len < y->value_len ? x->value_len : y->value_len;
	c = memcmp(x->value, y->value, n);
	if (c != 0)
		return c;
	return x->value_len < y->value_len ? -1 : (x->value_len > y->value_len);
}

/* Sort "a=1&b" by name then value; a bare name becomes "name=". */
static void
append_canonical_query(StrBuf *sb, const char *query)
{
	QueryParam *params;
	size_t		n = 0;
	size_t		cap = 1;
	const char *p;

	if (query == NULL || *query == '\0')
		return;
	for (p = query; *p; p++)
		cap += (*p == '&');
	params = core_calloc(cap, sizeof(QueryParam));
	if (params == NULL)
	{
		sb->broken = true;
		return;
	}
	p = query;
	while (*p)
	{
		size_t		len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);

		if (len > 0)
		{
			params[n].name = p;
			params[n].name_len = eq ? (size_t) (eq - p) : len;
			params[n].value = eq ? eq + 1 : p + len;
			params[n].value_len = eq ? len - (size_t) (eq - p) - 1 : 0;
			n++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	qsort(params, n, sizeof(QueryParam), compare_params);
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			strbuf_append_char(sb, '&');
		strbuf_append_len(sb, params[i].name, params[i].name_len);
		strbuf_append_char(sb, '=');
		strbuf_append_len(sb, params[i].value, params[i].value_len);
	}
	core_free(params);
}

static int
compare_headers(const void *a, const void *b)
{
	return strcmp(((const SigV4Header *) a)->name, ((const SigV4Header *) b)->name);
}

/* A header value with outer spaces trimmed and inner runs collapsed. */
static void
append_trimmed(StrBuf *sb, const char *v)
{
	bool		space = false;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++)
	{
		if (*v == ' ' || *v == '\t')
		{
			space = true;
			continue;
		}
		if (space)
			strbuf_append_char(sb, ' ');
		space = false;
		strbuf_append_char(sb, *v);
	}
}

char *
sigv4_canonical_request(const SigV4Request *req, char **signed_headers)
{
	StrBuf		sb;
	StrBuf		names;
	SigV4Header *sorted;

	*signed_headers = NULL;
	sorted = core_calloc(req->nheaders ? req->nheaders : 1, sizeof(SigV4Header));
	if (sorted == NULL)
		return NULL;
	if (req->nheaders > 0)
		memcpy(sorted, req->headers, sizeof(SigV4Header) * req->nheaders);
	qsort(sorted, req->nheaders, sizeof(SigV4Header), compare_headers);

	strbuf_init(&sb);
	strbuf_init(&names);
	strbuf_append(&sb, req->method);
	strbuf_append_char(&sb, '\n');
	strbuf_append(&sb, req->path && *req->path ? req->path : "/");
	strbuf_append_char(&sb, '\n');
	append_canonical_query(&sb, req->query);
	strbuf_append_char(&sb, '\n');
	for (int i = 0; i < req->nheaders; i++)
	{
		for (const char *c = sorted[i].name; *c; c++)
			strbuf_append_char(&sb, (*c >= 'A' && *c <= 'Z') ? (char) (*c + 32) : *c);
		strbuf_append_char(&sb, ':');
		append_trimmed(&sb, sorted[i].value);
		strbuf_append_char(&sb, '\n');
		if (i > 0)
			strbuf_append_char(&names, ';');
		for (const char *c = sorted[i].name; *c; c++)
			strbuf_append_char(&names, (*c >= 'A' && *c <= 'Z') ? (char) (*c + 32) : *c);
	}
	strbuf_append_char(&sb, '\n');
	if (names.len > 0)
		strbuf_append_len(&sb, names.data, names.len);
	strbuf_append_char(&sb, '\n');
	strbuf_append(&sb, req->payload_hash);
	core_free(sorted);

	*signed_headers = strbuf_finish(&names);
	if (*signed_headers == NULL)
	{
		strbuf_free(&sb);
		return NULL;
	}
	{
		char	   *out = strbuf_finish(&sb);

		if (out == NULL)
		{
			core_free(*signed_headers);
			*signed_headers = NULL;
		}
		return out;
	}
}

/* Steps 2 to 4: the hex signature of a canonical request. */
static bool
sign_canonical(const SigV4Key *key, const char *amz_date, const char *canonical,
			   char signature[SIGV4_HEX_LEN + 1])
{
	char		canonical_hash[SIGV4_HEX_LEN + 1];
	char		date[9];
	uint8_t		k[SHA256_DIGEST_LENGTH];
	uint8_t		sig[SHA256_DIGEST_LENGTH];
	StrBuf		sts;
	StrBuf		secret;
	char	   *to_sign;

	memcpy(date, amz_date, 8);
	date[8] = '\0';
	sigv4_sha256_hex((const uint8_t *) canonical, strlen(canonical), canonical_hash);

	strbuf_init(&sts);
	strbuf_appendf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date,
				   key->region, key->service, canonical_hash);
	to_sign = strbuf_finish(&sts);
	if (to_sign == NULL)
		return false;

	strbuf_init(&secret);
	strbuf_append(&secret, "AWS4");
	strbuf_append(&secret, key->secret_key);
	if (secret.broken)
	{
		core_free(to_sign);
		strbuf_free(&secret);
		return false;
	}
	hmac((const uint8_t *) secret.data, secret.len, date, strlen(date), k);
	OPENSSL_cleanse(secret.data, secret.len);
	strbuf_free(&secret);
	hmac(k, sizeof(k), key->region, strlen(key->region), k);
	hmac(k, sizeof(k), key->service, strlen(key->service), k);
	hmac(k, sizeof(k), "aws4_request", 12, k);
	hmac(k, sizeof(k), to_sign, strlen(to_sign), sig);
	OPENSSL_cleanse(k, sizeof(k));
	core_free(to_sign);
	to_hex(sig, sizeof(sig), signature);
	return true;
}

char *
sigv4_authorization(const SigV4Key *key, const char *amz_date, const SigV4Request *req)
{
	char	   *signed_headers;
	char	   *canonical = sigv4_canonical_request(req, &signed_headers);
	char		signature[SIGV4_HEX_LEN + 1];
	StrBuf		sb;
	bool		ok;

	if (canonical == NULL)
		return NULL;
	ok = sign_canonical(key, amz_date, canonical, signature);
	core_free(canonical);
	if (!ok)
	{
		core_free(signed_headers);
		return NULL;
	}
	strbuf_init(&sb);
	strbuf_appendf(&sb, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
				   "SignedHeaders=%s, Signature=%s",
				   key->access_key, amz_date, key->region, key->service, signed_headers,
				   signature);
	core_free(signed_headers);
	return strbuf_finish(&sb);
}

char *
sigv4_presign_query(const SigV4Key *key, const char *amz_date, int expires, const char *method,
					const char *path, const char *query, const char *host)
{
	StrBuf		q;
	StrBuf		cred;
	char	   *cred_enc;
	char	   *token_enc = NULL;
	char	   *full_query;
	char	   *canonical;
	char	   *signed_headers;
	char		signature[SIGV4_HEX_LEN + 1];
	SigV4Header h = {"host", host};
	SigV4Request req;
	bool		ok;

	strbuf_init(&cred);
	strbuf_appendf(&cred, "%s/%.8s/%s/%s/aws4_request", key->access_key, amz_date,
				   key->region, key->service);
	if (cred.broken)
		return NULL;
	cred_enc = sigv4_uri_encode(cred.data, cred.len, false);
	strbuf_free(&cred);
	if (key->session_token)
		token_enc = sigv4_uri_encode(key->session_token, strlen(key->session_token), false);
	if (cred_enc == NULL || (key->session_token && token_enc == NULL))
	{
		core_free(cred_enc);
		core_free(token_enc);
		return NULL;
	}

	strbuf_init(&q);
	if (query && *query)
	{
		strbuf_append(&q, query);
		strbuf_append_char(&q, '&');
	}
	strbuf_appendf(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s"
				   "&X-Amz-Date=%s&X-Amz-Expires=%d&X-Amz-SignedHeaders=host",
				   cred_enc, amz_date, expires);
	if (token_enc)
		strbuf_appendf(&q, "&X-Amz-Security-Token=%s", token_enc);
	core_free(cred_enc);
	core_free(token_enc);
	full_query = strbuf_finish(&q);
	if (full_query == NULL)
		return NULL;

	req.method = method;
	req.path = path;
	req.query = full_query;
	req.headers = &h;
	req.nheaders = 1;
	req.payload_hash = "UNSIGNED-PAYLOAD";
	canonical = sigv4_canonical_request(&req, &signed_headers);
	if (canonical == NULL)
	{
		core_free(full_query);
		return NULL;
	}
	core_free(signed_headers);
	ok = sign_canonical(key, amz_date, canonical, signature);
	core_free(canonical);
	if (!ok)
	{
		core_free(full_query);
		return NULL;
	}
	strbuf_init(&q);
	strbuf_append(&q, full_query);
	strbuf_appendf(&q, "&X-Amz-Signature=%s", signature);
	core_free(full_query);
	return strbuf_finish(&q);
}
