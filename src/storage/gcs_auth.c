/*-------------------------------------------------------------------------
 *
 * gcs_auth.c
 *	  Bearer tokens for GCS from a service-account key: self-signed JWTs.
 *
 * A JWT is base64url(header) "." base64url(claims) "." base64url(RS256
 * signature of the first two parts), RFC 7519 and 7518.  The key file is
 * untrusted JSON: only three top-level string members are read
 * (client_email, private_key, private_key_id), by a scanner that skips
 * every other value without interpreting it.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/alloc.h"
#include "storage/gcs_auth.h"
#include "storage/strbuf.h"

struct GcsCredentials
{
	char	   *client_email;
	char	   *private_key_id;
	EVP_PKEY   *key;
	char	   *token;			/* the current JWT */
	int64_t		token_expires;
};

char *
base64url_encode(const uint8_t *data, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	StrBuf		sb;
	size_t		i;

	strbuf_init(&sb);
	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) data[i] << 16) | ((uint32_t) data[i + 1] << 8) | data[i + 2];

		strbuf_append_char(&sb, alphabet[(v >> 18) & 63]);
		strbuf_append_char(&sb, alphabet[(v >> 12) & 63]);
		strbuf_append_char(&sb, alphabet[(v >> 6) & 63]);
		strbuf_append_char(&sb, alphabet[v & 63]);
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) data[i] << 16;

		strbuf_append_char(&sb, alphabet[(v >> 18) & 63]);
		strbuf_append_char(&sb, alphabet[(v >> 12) & 63]);
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) data[i] << 16) | ((uint32_t) data[i + 1] << 8);

		strbuf_append_char(&sb, alphabet[(v >> 18) & 63]);
		strbuf_append_char(&sb, alphabet[(v >> 12) & 63]);
		strbuf_append_char(&sb, alphabet[(v >> 6) & 63]);
	}
	return strbuf_finish(&sb);
}

/* Skip whitespace. */
static size_t
skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/*
 * Parse the string starting at s[i] == '"'; when out is non-NULL append
 * its unescaped value.  Returns the index after the closing quote, or 0
 * when malformed.
 */
static size_t
parse_string(const char *s, size_t len, size_t i, StrBuf *out)
{
	if (i >= len || s[i] != '"')
		return 0;
	for (i++; i < len; i++)
	{
		char		c = s[i];

		if (c == '"')
			return i + 1;
		if (c != '\\')
		{
			if (out)
				strbuf_append_char(out, c);
			continue;
		}
		if (++i >= len)
			return 0;
		switch (s[i])
		{
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u':
				{
					unsigned	cp = 0;

					if (i + 4 >= len)
						return 0;
					for (int k = 1; k <= 4; k++)
					{
						char		h = s[i + k];

						cp <<= 4;
						if (h >= '0' && h <= '9')
							cp |= (unsigned) (h - '0');
						else if (h >= 'a' && h <= 'f')
							cp |= (unsigned) (h - 'a' + 10);
						else if (h >= 'A' && h <= 'F')
							cp |= (unsigned) (h - 'A' + 10);
						else
							return 0;
					}
					i += 4;
					if (out)
					{
						/* BMP only; the members we read are ASCII */
						if (cp < 0x80)
							strbuf_append_char(out, (char) cp);
						else if (cp < 0x800)
						{
							strbuf_append_char(out, (char) (0xC0 | (cp >> 6)));
							strbuf_append_char(out, (char) (0x80 | (cp & 0x3F)));
						}
						else
						{
							strbuf_append_char(out, (char) (0xE0 | (cp >> 12)));
							strbuf_append_char(out, (char) (0x80 | ((cp >> 6) & 0x3F)));
							strbuf_append_char(out, (char) (0x80 | (cp & 0x3F)));
						}
					}
					continue;
				}
			default:
				c = s[i];		/* \" \\ \/ */
				break;
		}
		if (out)
			strbuf_append_char(out, c);
	}
	return 0;
}

/* Skip any JSON value at s[i]; returns the index after it, or 0. */
static size_t
skip_value(const char *s, size_t len, size_t i)
{
	int			depth = 0;

	i = skip_ws(s, len, i);
	if (i >= len)
		return 0;
	if (s[i] == '"')
		return parse_string(s, len, i, NULL);
	if (s[i] != '{' && s[i] != '[')
	{
		while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
			   s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			i++;
		return i;
	}
	for (; i < len; i++)
	{
		if (s[i] == '"')
		{
			i = parse_string(s, len, i, NULL);
			if (i == 0)
				return 0;
			i--;
		}
		else if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
	}
	return 0;
}

char *
json_string_member(const char *s, size_t len, const char *name)
{
	size_t		i = skip_ws(s, len, 0);

	if (i >= len || s[i] != '{')
		return NULL;
	i++;
	for (;;)
	{
		StrBuf		key;
		bool		match;

		i = skip_ws(s, len, i);
		if (i >= len || s[i] == '}')
			return NULL;
		strbuf_init(&key);
		i = parse_string(s, len, i, &key);
		if (i == 0 || key.broken)
		{
			strbuf_free(&key);
			return NULL;
		}
		match = key.data != NULL && strcmp(key.data, name) == 0;
		strbuf_free(&key);
		i = skip_ws(s, len, i);
		if (i >= len || s[i] != ':')
			return NULL;
		i = skip_ws(s, len, i + 1);
		if (match)
		{
			StrBuf		value;

			if (i >= len || s[i] != '"')
				return NULL;
			strbuf_init(&value);
			if (parse_string(s, len, i, &value) == 0)
			{
				strbuf_free(&value);
				return NULL;
			}
			if (value.data == NULL)
				strbuf_append(&value, "");
			return strbuf_finish(&value);
		}
		i = skip_value(s, len, i);
		if (i == 0)
			return NULL;
		i = skip_ws(s, len, i);
		if (i < len && s[i] == ',')
			i++;
	}
}

static void
free_secret(char *s)
{
	if (s)
	{
		OPENSSL_cleanse(s, strlen(s));
		core_free(s);
	}
}

CoreStatus
gcs_credentials_from_json(const char *json, size_t len, GcsCredentials **out, CoreError *err)
{
	GcsCredentials *c;
	char	   *pem;
	BIO		   *bio;

	*out = NULL;
	c = core_calloc(1, sizeof(GcsCredentials));
	if (c == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory reading the service account key");
	c->client_email = json_string_member(json, len, "client_email");
	c->private_key_id = json_string_member(json, len, "private_key_id");
	pem = json_string_member(json, len, "private_key");
	if (c->client_email == NULL || pem == NULL)
	{
		free_secret(pem);
		gcs_credentials_free(c);
		return core_error(err, CORE_ERR_INVALID,
						  "the service account key is not a JSON object with client_email and private_key");
	}
	bio = BIO_new_mem_buf(pem, -1);
	if (bio)
	{
		c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	free_secret(pem);
	if (c->key == NULL || EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA)
	{
		gcs_credentials_free(c);
		return core_error(err, CORE_ERR_INVALID,
						  "the service account key's private_key is not an RSA key in PEM form");
	}
	*out = c;
	return CORE_OK;
}

void
gcs_credentials_free(GcsCredentials *c)
{
	if (c == NULL)
		return;
	core_free(c->client_email);
	core_free(c->private_key_id);
	free_secret(c->token);
	EVP_PKEY_free(c->key);
	core_free(c);
}

/* Append a JSON string literal (the values here need only these escapes). */
static void
append_json_string(StrBuf *sb, const char *s)
{
	strbuf_append_char(sb, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			strbuf_append_char(sb, '\\');
		if ((unsigned char) *s < 0x20)
			strbuf_appendf(sb, "\\u%04x", (unsigned char) *s);
		else
			strbuf_append_char(sb, *s);
	}
	strbuf_append_char(sb, '"');
}

char *
gcs_make_jwt(GcsCredentials *c, int64_t now, CoreError *err)
{
	StrBuf		header;
	StrBuf		claims;
	StrBuf		jwt;
	char	   *h64;
	char	   *c64;
	char	   *s64 = NULL;
	char	   *signing_input;
	EVP_MD_CTX *md;
	uint8_t    *sig = NULL;
	size_t		siglen = 0;
	bool		ok = false;

	strbuf_init(&header);
	strbuf_append(&header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"");
	if (c->private_key_id)
	{
		strbuf_append(&header, ",\"kid\":");
		append_json_string(&header, c->private_key_id);
	}
	strbuf_append_char(&header, '}');
	strbuf_init(&claims);
	strbuf_append(&claims, "{\"iss\":");
	append_json_string(&claims, c->client_email);
	strbuf_append(&claims, ",\"sub\":");
	append_json_string(&claims, c->client_email);
	strbuf_appendf(&claims, ",\"scope\":\"%s\",\"iat\":%lld,\"exp\":%lld}", GCS_SCOPE,
				   (long long) now, (long long) (now + GCS_TOKEN_LIFETIME));
	if (header.broken || claims.broken)
	{
		strbuf_free(&header);
		strbuf_free(&claims);
		core_error(err, CORE_ERR_NOMEM, "out of memory making a GCS token");
		return NULL;
	}
	h64 = base64url_encode((const uint8_t *) header.data, header.len);
	c64 = base64url_encode((const uint8_t *) claims.data, claims.len);
	strbuf_free(&header);
	strbuf_free(&claims);
	strbuf_init(&jwt);
	if (h64 && c64)
		strbuf_appendf(&jwt, "%s.%s", h64, c64);
	core_free(h64);
	core_free(c64);
	signing_input = strbuf_finish(&jwt);
	if (signing_input == NULL)
	{
		core_error(err, CORE_ERR_NOMEM, "out of memory making a GCS token");
		return NULL;
	}

	md = EVP_MD_CTX_new();
	if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, c->key) == 1 &&
		EVP_DigestSign(md, NULL, &siglen, (const uint8_t *) signing_input,
					   strlen(signing_input)) == 1 &&
		(sig = core_malloc(siglen)) != NULL &&
		EVP_DigestSign(md, sig, &siglen, (const uint8_t *) signing_input,
					   strlen(signing_input)) == 1)
		ok = true;
	EVP_MD_CTX_free(md);
	if (ok)
		s64 = base64url_encode(sig, siglen);
	core_free(sig);
	if (s64 == NULL)
	{
		core_free(signing_input);
		core_error(err, ok ? CORE_ERR_NOMEM : CORE_ERR_INVALID,
				   "could not sign a GCS token with the service account key");
		return NULL;
	}
	strbuf_init(&jwt);
	strbuf_appendf(&jwt, "%s.%s", signing_input, s64);
	core_free(signing_input);
	core_free(s64);
	{
		char	   *out = strbuf_finish(&jwt);

		if (out == NULL)
			core_error(err, CORE_ERR_NOMEM, "out of memory making a GCS token");
		return out;
	}
}

CoreStatus
gcs_bearer_token(GcsCredentials *c, int64_t now, const char **token, CoreError *err)
{
	if (c->token == NULL || now > c->token_expires - 300)
	{
		char	   *fresh = gcs_make_jwt(c, now, err);

		if (fresh == NULL)
			return err ? err->status : CORE_ERR_INVALID;
		free_secret(c->token);
		c->token = fresh;
		c->token_expires = now + GCS_TOKEN_LIFETIME;
	}
	*token = c->token;
	return CORE_OK;
}
