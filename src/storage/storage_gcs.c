/*-------------------------------------------------------------------------
 *
 * storage_gcs.c
 *	  gs://bucket/prefix: Google Cloud Storage through its XML API.
 *
 * The XML API speaks S3's protocol, so this file only chooses how
 * requests authenticate and hands over to storage_s3.c:
 *	- a service-account key (inline JSON, or a file on the server): a
 *	  self-signed RS256 JWT as the bearer token (gcs_auth.c), the way
 *	  object_store does it; the key may carry "gcs_base_url" to point at
 *	  an emulator;
 *	- a bearer token given directly;
 *	- HMAC keys (an access id and secret): SigV4 with region "auto", which
 *	  GCS accepts from S3 clients;
 *	- nothing: anonymous access to public buckets.
 * Conditional writes use x-goog-if-generation-match: 0 ("only if there is
 * no live object").
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "storage/storage_s3.h"

#define GCS_ENDPOINT "https://storage.googleapis.com"
#define MAX_KEY_FILE (64 * 1024)

/* Read a service-account key file (at most MAX_KEY_FILE bytes). */
static CoreStatus
read_key_file(const char *root, const char *path, char **out, size_t *len, CoreError *err)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	size_t		n;

	*out = NULL;
	if (f == NULL)
		return core_error(err, CORE_ERR_NOT_FOUND,
						  "%s: cannot open the service account key file named by google_service_account",
						  root);
	buf = core_malloc(MAX_KEY_FILE + 1);
	if (buf == NULL)
	{
		fclose(f);
		return core_error(err, CORE_ERR_NOMEM, "out of memory reading the service account key");
	}
	n = fread(buf, 1, MAX_KEY_FILE + 1, f);
	fclose(f);
	if (n > MAX_KEY_FILE)
	{
		core_free(buf);
		return core_error(err, CORE_ERR_INVALID, "%s: the service account key file is too large",
						  root);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return CORE_OK;
}

CoreStatus
storage_gcs_open(const char *location, const StorageOptions *opts, Storage *st, CoreError *err)
{
	S3Dialect	d = {0};
	const char *inline_key = storage_options_get(opts, SOPT_GOOGLE_SERVICE_ACCOUNT_KEY);
	const char *key_path = storage_options_get(opts, SOPT_GOOGLE_SERVICE_ACCOUNT_PATH);
	char	   *base_url = NULL;
	bool		skip;
	CoreStatus	status;

	if (storage_options_bool(opts, SOPT_AWS_SKIP_SIGNATURE, false, &skip, err) != CORE_OK)
		return CORE_ERR_INVALID;
	d.store = "GCS";
	d.default_endpoint = GCS_ENDPOINT;
	d.if_absent_header = "x-goog-if-generation-match: 0";
	d.region = "auto";
	if (!skip && (inline_key || key_path))
	{
		char	   *file = NULL;
		const char *json = inline_key;
		size_t		len = inline_key ? strlen(inline_key) : 0;

		if (json == NULL)
		{
			status = read_key_file(st->root, key_path, &file, &len, err);
			if (status != CORE_OK)
				return status;
			json = file;
		}
		status = gcs_credentials_from_json(json, len, &d.gcs, err);
		if (status == CORE_OK)
			base_url = json_string_member(json, len, "gcs_base_url");
		if (file)
		{
			explicit_bzero(file, len);
			core_free(file);
		}
		if (status != CORE_OK)
			return core_error_prefix(err, "%s", st->root);
		if (base_url)
			d.default_endpoint = base_url;
	}
	else if (!skip && storage_options_get(opts, SOPT_BEARER_TOKEN))
		d.bearer_token = storage_options_get(opts, SOPT_BEARER_TOKEN);
	else if (!skip && storage_options_get(opts, SOPT_GOOGLE_HMAC_ACCESS_ID))
	{
		d.access_key = storage_options_get(opts, SOPT_GOOGLE_HMAC_ACCESS_ID);
		d.secret_key = storage_options_get(opts, SOPT_GOOGLE_HMAC_SECRET);
		if (d.secret_key == NULL)
			return core_error(err, CORE_ERR_INVALID,
							  "%s: google_hmac_access_id was given without google_hmac_secret",
							  st->root);
	}
	/* the dialect's credentials pass to the backend, which frees them */
	status = s3_open_dialect(location, opts, &d, st, err);
	core_free(base_url);
	return status;
}
