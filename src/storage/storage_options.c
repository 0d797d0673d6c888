/*-------------------------------------------------------------------------
 *
 * storage_options.c
 *	  The table of object-store options and their spellings.
 *
 * Keys follow object_store (the Rust crate under Lance): a setting has one
 * canonical name and the aliases LanceDB users write.  A few short names
 * ("endpoint", "token", "bearer_token") mean the same thing on more than
 * one cloud; they are one setting here and each backend reads it.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "storage/storage_remote.h"

typedef struct OptionSpec
{
	StorageOptionId id;
	bool		secret;
	const char *names[9];		/* canonical first; NULL-terminated */
} OptionSpec;

static const OptionSpec option_specs[] = {
	/* general */
	{SOPT_ALLOW_HTTP, false, {"allow_http", "aws_allow_http", "azure_allow_http", "google_allow_http"}},
	{SOPT_ALLOW_INVALID_CERTIFICATES, false, {"allow_invalid_certificates"}},
	{SOPT_CONNECT_TIMEOUT, false, {"connect_timeout"}},
	{SOPT_TIMEOUT, false, {"timeout", "request_timeout"}},
	{SOPT_USER_AGENT, false, {"user_agent"}},
	{SOPT_MAX_RETRIES, false, {"client_max_retries", "max_retries"}},
	{SOPT_RETRY_TIMEOUT, false, {"client_retry_timeout", "retry_timeout"}},
	{SOPT_MAX_IN_FLIGHT, false, {"max_requests_in_flight"}},
	{SOPT_COALESCE_BYTES, false, {"coalesce_bytes"}},
	{SOPT_MULTIPART_PART_SIZE, false, {"multipart_part_size"}},
	{SOPT_LIST_PAGE_SIZE, false, {"list_page_size"}},
	{SOPT_ENDPOINT, false, {"endpoint", "aws_endpoint", "aws_endpoint_url", "endpoint_url",
	"azure_endpoint", "google_base_url", "base_url"}},
	/* S3 */
	{SOPT_AWS_ACCESS_KEY_ID, true, {"aws_access_key_id", "access_key_id"}},
	{SOPT_AWS_SECRET_ACCESS_KEY, true, {"aws_secret_access_key", "secret_access_key"}},
	{SOPT_AWS_SESSION_TOKEN, true, {"aws_session_token", "session_token", "aws_token"}},
	{SOPT_AWS_REGION, false, {"aws_region", "region", "aws_default_region", "default_region"}},
	{SOPT_AWS_VIRTUAL_HOSTED, false, {"aws_virtual_hosted_style_request",
	"virtual_hosted_style_request"}},
	{SOPT_AWS_SKIP_SIGNATURE, false, {"aws_skip_signature", "skip_signature",
	"azure_skip_signature", "google_skip_signature"}},
	{SOPT_AWS_UNSIGNED_PAYLOAD, false, {"aws_unsigned_payload", "unsigned_payload"}},
	/* Azure */
	{SOPT_AZURE_ACCOUNT_NAME, false, {"azure_storage_account_name", "account_name",
	"azure_account_name"}},
	{SOPT_AZURE_ACCOUNT_KEY, true, {"azure_storage_account_key", "account_key",
	"azure_storage_access_key", "azure_storage_master_key", "access_key", "master_key"}},
	{SOPT_AZURE_SAS, true, {"azure_storage_sas_key", "azure_storage_sas_token", "sas_key",
	"sas_token"}},
	{SOPT_AZURE_USE_EMULATOR, false, {"azure_storage_use_emulator", "use_emulator"}},
	/* bearer tokens: Azure and Google */
	{SOPT_BEARER_TOKEN, true, {"bearer_token", "token", "azure_storage_token",
	"google_bearer_token"}},
	/* Google */
	{SOPT_GOOGLE_SERVICE_ACCOUNT_KEY, true, {"google_service_account_key",
	"service_account_key"}},
	{SOPT_GOOGLE_SERVICE_ACCOUNT_PATH, true, {"google_service_account", "service_account",
	"google_service_account_path", "service_account_path", "google_application_credentials"}},
	{SOPT_GOOGLE_HMAC_ACCESS_ID, true, {"google_hmac_access_id", "hmac_access_id"}},
	{SOPT_GOOGLE_HMAC_SECRET, true, {"google_hmac_secret", "hmac_secret"}},
};

#define NUM_SPECS (sizeof(option_specs) / sizeof(option_specs[0]))

/*
 * The settings whose values have a form, so that a bad one can be refused
 * where it is written (CREATE SERVER ...) instead of at the first query.
 * Integer bounds are the widest any backend accepts; a backend checks its
 * own (S3's 5 MiB minimum part, say, or plain HTTP without allow_http)
 * when it opens.
 */
typedef enum ValueKind
{
	VALUE_BOOL,
	VALUE_DURATION,
	VALUE_INT,
	VALUE_URL
} ValueKind;

typedef struct ValueSpec
{
	StorageOptionId id;
	ValueKind	kind;
	long		min;
	long		max;
} ValueSpec;

static const ValueSpec value_specs[] = {
	{SOPT_ALLOW_HTTP, VALUE_BOOL},
	{SOPT_ALLOW_INVALID_CERTIFICATES, VALUE_BOOL},
	{SOPT_AWS_VIRTUAL_HOSTED, VALUE_BOOL},
	{SOPT_AWS_SKIP_SIGNATURE, VALUE_BOOL},
	{SOPT_AWS_UNSIGNED_PAYLOAD, VALUE_BOOL},
	{SOPT_AZURE_USE_EMULATOR, VALUE_BOOL},
	{SOPT_CONNECT_TIMEOUT, VALUE_DURATION},
	{SOPT_TIMEOUT, VALUE_DURATION},
	{SOPT_RETRY_TIMEOUT, VALUE_DURATION},
	{SOPT_MAX_RETRIES, VALUE_INT, 0, 100},
	{SOPT_MAX_IN_FLIGHT, VALUE_INT, 1, 256},
	{SOPT_COALESCE_BYTES, VALUE_INT, 0, 16L * 1024 * 1024},
	{SOPT_MULTIPART_PART_SIZE, VALUE_INT, 1024L * 1024, 5L * 1024 * 1024 * 1024},
	{SOPT_LIST_PAGE_SIZE, VALUE_INT, 1, 5000},
	{SOPT_ENDPOINT, VALUE_URL},
};

/* An endpoint: http:// or https:// and a host (allow_http is the backend's to judge). */
static CoreStatus
check_url(StorageOptionId id, const char *value, CoreError *err)
{
	const char *host = NULL;

	if (strncasecmp(value, "https://", 8) == 0)
		host = value + 8;
	else if (strncasecmp(value, "http://", 7) == 0)
		host = value + 7;
	if (host == NULL || *host == '\0' || *host == '/')
		return core_error(err, CORE_ERR_INVALID,
						  "storage option \"%s\" must be a URL such as \"https://host:port\", not \"%s\"",
						  storage_option_canonical(id), value);
	return CORE_OK;
}

struct StorageOptions
{
	char	   *values[SOPT_COUNT];
};

static const OptionSpec *
find_spec(const char *key)
{
	if (key == NULL)
		return NULL;
	for (size_t i = 0; i < NUM_SPECS; i++)
		for (int j = 0; option_specs[i].names[j]; j++)
			if (strcasecmp(key, option_specs[i].names[j]) == 0)
				return &option_specs[i];
	return NULL;
}

StorageOptions *
storage_options_new(void)
{
	return core_calloc(1, sizeof(StorageOptions));
}

/* Zero secrets before freeing them, so a core dump does not keep them. */
void
storage_options_free(StorageOptions *opts)
{
	if (opts == NULL)
		return;
	for (int i = 0; i < SOPT_COUNT; i++)
	{
		if (opts->values[i])
		{
			explicit_bzero(opts->values[i], strlen(opts->values[i]));
			core_free(opts->values[i]);
		}
	}
	core_free(opts);
}

CoreStatus
storage_options_set(StorageOptions *opts, const char *key, const char *value,
					CoreError *err)
{
	const OptionSpec *spec = find_spec(key);
	char	   *copy;

	if (spec == NULL)
		return core_error(err, CORE_ERR_INVALID, "unknown storage option \"%s\"", key);
	if (value == NULL)
		return core_error(err, CORE_ERR_INVALID, "storage option \"%s\" has no value", key);
	copy = core_strdup(value);
	if (copy == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory setting storage option \"%s\"", key);
	if (opts->values[spec->id])
	{
		explicit_bzero(opts->values[spec->id], strlen(opts->values[spec->id]));
		core_free(opts->values[spec->id]);
	}
	opts->values[spec->id] = copy;
	return CORE_OK;
}

bool
storage_option_is_known(const char *key)
{
	return find_spec(key) != NULL;
}

bool
storage_option_is_secret(const char *key)
{
	const OptionSpec *spec = find_spec(key);

	return spec != NULL && spec->secret;
}

CoreStatus
storage_option_check(const char *key, const char *value, CoreError *err)
{
	const OptionSpec *spec = find_spec(key);
	StorageOptions one;
	bool		b;
	long		n;

	if (spec == NULL)
		return core_error(err, CORE_ERR_INVALID, "unknown storage option \"%s\"", key);
	if (value == NULL)
		return core_error(err, CORE_ERR_INVALID, "storage option \"%s\" has no value", key);
	memset(&one, 0, sizeof(one));
	one.values[spec->id] = (char *) value;
	for (size_t i = 0; i < sizeof(value_specs) / sizeof(value_specs[0]); i++)
	{
		const ValueSpec *v = &value_specs[i];

		if (v->id != spec->id)
			continue;
		switch (v->kind)
		{
			case VALUE_BOOL:
				return storage_options_bool(&one, v->id, false, &b, err);
			case VALUE_DURATION:
				return storage_options_millis(&one, v->id, 0, &n, err);
			case VALUE_INT:
				return storage_options_int(&one, v->id, 0, v->min, v->max, &n, err);
			case VALUE_URL:
				return check_url(v->id, value, err);
		}
	}
	return CORE_OK;
}

const char *
storage_option_names(void)
{
	static const char names[] =
		"allow_http, allow_invalid_certificates, connect_timeout, timeout, user_agent, "
		"client_max_retries, client_retry_timeout, max_requests_in_flight, coalesce_bytes, "
		"multipart_part_size, list_page_size, endpoint, aws_access_key_id, aws_secret_access_key, "
		"aws_session_token, aws_region, aws_virtual_hosted_style_request, aws_skip_signature, "
		"aws_unsigned_payload, azure_storage_account_name, azure_storage_account_key, "
		"azure_storage_sas_key, azure_storage_use_emulator, bearer_token, "
		"google_service_account_key, google_service_account, google_hmac_access_id, "
		"google_hmac_secret";

	return names;
}

const char *
storage_options_get(const StorageOptions *opts, StorageOptionId id)
{
	if (opts == NULL || id < 0 || id >= SOPT_COUNT)
		return NULL;
	return opts->values[id];
}

CoreStatus
storage_options_bool(const StorageOptions *opts, StorageOptionId id, bool dflt, bool *out,
					 CoreError *err)
{
	const char *v = storage_options_get(opts, id);

	*out = dflt;
	if (v == NULL)
		return CORE_OK;
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
		strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 ||
			 strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return core_error(err, CORE_ERR_INVALID,
						  "storage option \"%s\" must be true or false, not \"%s\"",
						  storage_option_canonical(id), v);
	return CORE_OK;
}

/*
 * A duration in milliseconds: "30", "30s", "1500ms", "2m" (a bare number is
 * seconds, as object_store reads it).
 */
CoreStatus
storage_options_millis(const StorageOptions *opts, StorageOptionId id, long dflt, long *out,
					   CoreError *err)
{
	const char *v = storage_options_get(opts, id);
	char	   *end;
	double		n;
	double		scale = 1000.0;

	*out = dflt;
	if (v == NULL)
		return CORE_OK;
	n = strtod(v, &end);
	while (*end == ' ')
		end++;
	if (strcmp(end, "ms") == 0)
		scale = 1.0;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		scale = 60000.0;
	else if (*end != '\0' && strcmp(end, "s") != 0 && strcmp(end, "sec") != 0)
		n = -1;
	if (end == v || !(n >= 0) || n * scale > 86400000.0)
		return core_error(err, CORE_ERR_INVALID,
						  "storage option \"%s\" must be a duration such as \"30s\" or \"500ms\", not \"%s\"",
						  storage_option_canonical(id), v);
	*out = (long) (n * scale);
	return CORE_OK;
}

/* A positive integer within [min, max]. */
CoreStatus
storage_options_int(const StorageOptions *opts, StorageOptionId id, long dflt, long min,
					long max, long *out, CoreError *err)
{
	const char *v = storage_options_get(opts, id);
	char	   *end;
	long		n;

	*out = dflt;
	if (v == NULL)
		return CORE_OK;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max)
		return core_error(err, CORE_ERR_INVALID,
						  "storage option \"%s\" must be an integer from %ld to %ld, not \"%s\"",
						  storage_option_canonical(id), min, max, v);
	*out = n;
	return CORE_OK;
}

const char *
storage_option_canonical(StorageOptionId id)
{
	for (size_t i = 0; i < NUM_SPECS; i++)
		if (option_specs[i].id == id)
			return option_specs[i].names[0];
	return "?";
}
