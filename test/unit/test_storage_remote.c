/*-------------------------------------------------------------------------
 *
 * test_storage_remote.c
 *	  Object-store pieces that need no server: options, range plans, the
 *	  GCS service-account JWT, and the small XML and JSON readers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/alloc.h"
#include "storage/gcs_auth.h"
#include "storage/storage_remote.h"
#include "storage/xml_scan.h"
#include "unit.h"

UNIT_TEST(storage_options_accept_lancedb_spellings_case_insensitively)
{
	StorageOptions *o = storage_options_new();
	CoreError	err;

	CHECK(storage_options_set(o, "AWS_REGION", "eu-west-1", &err) == CORE_OK);
	CHECK(strcmp(storage_options_get(o, SOPT_AWS_REGION), "eu-west-1") == 0);
	/* a later spelling of the same setting replaces the earlier */
	CHECK(storage_options_set(o, "region", "us-east-2", &err) == CORE_OK);
	CHECK(strcmp(storage_options_get(o, SOPT_AWS_REGION), "us-east-2") == 0);
	CHECK(storage_options_set(o, "access_key_id", "AKID", &err) == CORE_OK);
	CHECK(strcmp(storage_options_get(o, SOPT_AWS_ACCESS_KEY_ID), "AKID") == 0);
	CHECK(storage_options_set(o, "no_such_option", "x", &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "no_such_option") != NULL);
	storage_options_free(o);
}

UNIT_TEST(storage_option_check_refuses_malformed_settings_naming_them)
{
	CoreError	err;

	CHECK(storage_option_check("allow_http", "TRUE", &err) == CORE_OK);
	CHECK(storage_option_check("timeout", "1500ms", &err) == CORE_OK);
	CHECK(storage_option_check("max_requests_in_flight", "256", &err) == CORE_OK);
	CHECK(storage_option_check("region", "anything at all", &err) == CORE_OK);
	CHECK(storage_option_check("aws_allow_http", "ture", &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "allow_http") != NULL);
	CHECK(storage_option_check("request_timeout", "30 seconds", &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "timeout") != NULL);
	CHECK(storage_option_check("max_requests_in_flight", "257", &err) == CORE_ERR_INVALID);
	CHECK(storage_option_check("list_page_size", "", &err) == CORE_ERR_INVALID);
	CHECK(storage_option_check("no_such_option", "1", &err) == CORE_ERR_INVALID);
	CHECK(storage_option_check("aws_endpoint", "http://127.0.0.1:7480", &err) == CORE_OK);
	CHECK(storage_option_check("endpoint", "127.0.0.1:7480", &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "endpoint") != NULL);
	CHECK(storage_option_check("endpoint", "https://", &err) == CORE_ERR_INVALID);
}

UNIT_TEST(storage_option_check_never_judges_or_quotes_a_credential)
{
	CoreError	err;

	CHECK(storage_option_check("aws_secret_access_key", "not-a-number", &err) == CORE_OK);
	CHECK(storage_option_check("sas_token", "", &err) == CORE_OK);
}

UNIT_TEST(storage_options_mark_credentials_as_secret)
{
	const char *secrets[] = {"aws_secret_access_key", "secret_access_key", "aws_session_token",
		"session_token", "aws_access_key_id", "azure_storage_account_key", "account_key",
		"sas_token", "azure_storage_sas_key", "bearer_token", "google_service_account_key",
	"service_account", "google_hmac_secret"};
	const char *settings[] = {"region", "aws_endpoint", "endpoint", "allow_http",
		"virtual_hosted_style_request", "account_name", "use_emulator", "timeout",
	"connect_timeout", "max_requests_in_flight"};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		CHECK_MSG(storage_option_is_known(secrets[i]) && storage_option_is_secret(secrets[i]),
				  "%s should be a secret", secrets[i]);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		CHECK_MSG(storage_option_is_known(settings[i]) && !storage_option_is_secret(settings[i]),
				  "%s should be a plain setting", settings[i]);
	CHECK(!storage_option_is_known("uri"));
	CHECK(!storage_option_is_secret("uri"));
}

UNIT_TEST(storage_options_reject_bad_durations_and_booleans)
{
	StorageOptions *o = storage_options_new();
	CoreError	err;
	long		ms;
	bool		b;

	CHECK(storage_options_set(o, "timeout", "1500ms", &err) == CORE_OK);
	CHECK(storage_options_millis(o, SOPT_TIMEOUT, 0, &ms, &err) == CORE_OK && ms == 1500);
	CHECK(storage_options_set(o, "timeout", "2", &err) == CORE_OK);
	CHECK(storage_options_millis(o, SOPT_TIMEOUT, 0, &ms, &err) == CORE_OK && ms == 2000);
	CHECK(storage_options_set(o, "timeout", "soon", &err) == CORE_OK);
	CHECK(storage_options_millis(o, SOPT_TIMEOUT, 0, &ms, &err) == CORE_ERR_INVALID);
	CHECK(storage_options_set(o, "allow_http", "maybe", &err) == CORE_OK);
	CHECK(storage_options_bool(o, SOPT_ALLOW_HTTP, false, &b, &err) == CORE_ERR_INVALID);
	storage_options_free(o);
}

UNIT_TEST(range_plan_merges_neighbours_and_keeps_files_apart)
{
	uint8_t		buf[8];
	StorageRange r[] = {
		{"b.lance", 100, 10, buf},
		{"a.lance", 1100, 10, buf},	/* within the gap of the rest */
		{"a.lance", 0, 100, buf},
		{"a.lance", 150, 50, buf},	/* 50 bytes after the first: merged */
		{"a.lance", 90, 20, buf},	/* overlaps the first */
		{"a.lance", 7, 0, buf},		/* empty: no request */
	};
	RangePlan	plan;
	CoreError	err;

	CHECK(range_plan_build(r, 6, 1000, 1 << 20, &plan, &err) == CORE_OK);
	CHECK_MSG(plan.nrequests == 2, "%zu requests", plan.nrequests);
	CHECK(strcmp(plan.requests[0].path, "a.lance") == 0);
	CHECK(plan.requests[0].offset == 0 && plan.requests[0].length == 1110);
	CHECK(plan.requests[0].nmembers == 4);
	CHECK(strcmp(plan.requests[1].path, "b.lance") == 0 && plan.requests[1].nmembers == 1);
	range_plan_free(&plan);
}

UNIT_TEST(range_plan_splits_at_the_gap_and_the_size_cap)
{
	uint8_t		buf[8];
	StorageRange r[] = {
		{"a", 0, 100, buf},
		{"a", 1100, 100, buf},		/* gap of 1000 > 999 */
		{"a", 1250, 100, buf},
		{"a", 1400, 100, buf},		/* would make 1100..1500 = 400 > 300 */
	};
	RangePlan	plan;
	CoreError	err;

	CHECK(range_plan_build(r, 4, 999, 300, &plan, &err) == CORE_OK);
	CHECK_MSG(plan.nrequests == 3, "%zu requests", plan.nrequests);
	CHECK(plan.requests[1].offset == 1100 && plan.requests[1].length == 250);
	range_plan_free(&plan);
}

UNIT_TEST(xml_scan_reads_nested_elements_and_entities)
{
	const char *doc = "<R><Contents><Key>a&amp;b &#x41;&#66;</Key><Size>3</Size></Contents>"
		"<Contents><Key>c</Key></Contents><NextMarker/><Empty></Empty></R>";
	XmlSpan		all = {doc, strlen(doc)};
	XmlSpan		item;
	size_t		pos = 0;
	char	   *key;
	char	   *marker;

	CHECK(xml_next(all, &pos, "Contents", &item));
	key = xml_text(item, "Key");
	CHECK(key != NULL && strcmp(key, "a&b AB") == 0);
	core_free(key);
	CHECK(xml_next(all, &pos, "Contents", &item));
	CHECK(!xml_next(all, &pos, "Contents", &item));
	marker = xml_text(all, "NextMarker");
	CHECK(marker != NULL && marker[0] == '\0');
	core_free(marker);
	/* a truncated document yields nothing rather than reading past it */
	all.len = 20;
	pos = 0;
	CHECK(!xml_next(all, &pos, "Key", &item));
}

UNIT_TEST(base64url_matches_rfc4648_without_padding)
{
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff"};
	const char *want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "-_8"};

	for (int i = 0; i < 8; i++)
	{
		char	   *got = base64url_encode((const uint8_t *) in[i], strlen(in[i]));

		CHECK(got != NULL);
		CHECK_MSG(strcmp(got, want[i]) == 0, "\"%s\" -> %s", in[i], got);
		core_free(got);
	}
}

UNIT_TEST(json_string_member_skips_other_values_and_unescapes)
{
	const char *j = "{\"a\": {\"client_email\": \"nested\"}, \"list\": [1, \"x\", {\"y\": 2}],"
		" \"n\": -1.5e3, \"t\": true, \"client_email\": \"me\\u0040x.iam\\/y\\n\"}";
	char	   *v = json_string_member(j, strlen(j), "client_email");

	CHECK(v != NULL);
	CHECK_MSG(strcmp(v, "me@x.iam/y\n") == 0, "got %s", v);
	core_free(v);
	CHECK(json_string_member(j, strlen(j), "missing") == NULL);
	CHECK(json_string_member(j, strlen(j), "n") == NULL);	/* not a string */
	CHECK(json_string_member("{\"a\": \"unterminated", 18, "a") == NULL);
}

/* Decode base64url (test helper). */
static uint8_t *
b64url_decode(const char *s, size_t len, size_t *out_len)
{
	size_t		padded = (len + 3) / 4 * 4;
	char	   *tmp = calloc(1, padded + 1);
	uint8_t    *out = calloc(1, padded);
	int			n;

	for (size_t i = 0; i < len; i++)
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (size_t i = len; i < padded; i++)
		tmp[i] = '=';
	n = EVP_DecodeBlock(out, (unsigned char *) tmp, (int) padded);
	*out_len = (size_t) n - (padded - len);
	free(tmp);
	return out;
}

UNIT_TEST(gcs_jwt_is_rs256_signed_with_the_account_claims)
{
	EVP_PKEY   *key = EVP_RSA_gen(2048);
	BIO		   *bio = BIO_new(BIO_s_mem());
	char	   *pem;
	long		pem_len;
	char		json[8192];
	char	   *p = json;
	GcsCredentials *creds = NULL;
	CoreError	err;
	char	   *jwt;
	const char *dot1,
			   *dot2;
	size_t		n;
	uint8_t    *part;
	uint8_t    *sig;
	size_t		siglen;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	CHECK(key != NULL && bio != NULL);
	PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	pem_len = BIO_get_mem_data(bio, &pem);
	/* the key file's JSON: newlines in the PEM escaped as \n */
	p += sprintf(p, "{\"type\": \"service_account\", \"private_key_id\": \"kid-1\", \"private_key\": \"");
	for (long i = 0; i < pem_len; i++)
		p += pem[i] == '\n' ? sprintf(p, "\\n") : sprintf(p, "%c", pem[i]);
	sprintf(p, "\", \"client_email\": \"sa@proj.iam.gserviceaccount.com\"}");
	BIO_free(bio);

	CHECK_MSG(gcs_credentials_from_json(json, strlen(json), &creds, &err) == CORE_OK, "%s", err.msg);
	jwt = gcs_make_jwt(creds, 1700000000, &err);
	CHECK(jwt != NULL);
	dot1 = strchr(jwt, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	CHECK(dot1 && dot2);

	part = b64url_decode(jwt, (size_t) (dot1 - jwt), &n);
	CHECK_MSG(n > 0 && strstr((char *) part, "\"alg\":\"RS256\"") && strstr((char *) part, "\"kid\":\"kid-1\""),
			  "header %.*s", (int) n, part);
	free(part);
	part = b64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), &n);
	CHECK_MSG(strstr((char *) part, "\"iss\":\"sa@proj.iam.gserviceaccount.com\"") &&
			  strstr((char *) part, "\"sub\":\"sa@proj.iam.gserviceaccount.com\"") &&
			  strstr((char *) part, "\"iat\":1700000000") &&
			  strstr((char *) part, "\"exp\":1700003600") &&
			  strstr((char *) part, "\"scope\":\"https://www.googleapis.com/auth/cloud-platform\""), "claims %.*s", (int) n, part);
	free(part);

	/* the signature verifies under the public half over header.claims */
	sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
	CHECK(siglen == 256);
	CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	CHECK(EVP_DigestVerify(md, sig, siglen, (const uint8_t *) jwt, (size_t) (dot2 - jwt)) == 1);
	/* and not over anything else */
	jwt[0] ^= 1;
	CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	CHECK(EVP_DigestVerify(md, sig, siglen, (const uint8_t *) jwt, (size_t) (dot2 - jwt)) != 1);
	free(sig);
	EVP_MD_CTX_free(md);
	core_free(jwt);
	gcs_credentials_free(creds);
	EVP_PKEY_free(key);
}

UNIT_TEST(gcs_key_without_a_private_key_is_refused)
{
	const char *j = "{\"client_email\": \"a@b\", \"private_key\": \"not a pem\"}";
	GcsCredentials *creds = NULL;
	CoreError	err;

	CHECK(gcs_credentials_from_json(j, strlen(j), &creds, &err) == CORE_ERR_INVALID);
	CHECK(creds == NULL);
	CHECK(strstr(err.msg, "not a pem") == NULL);	/* key material never echoed */
}

UNIT_TEST(object_store_open_refuses_plain_http_without_allow_http)
{
	StorageOptions *o = storage_options_new();
	Storage    *st = NULL;
	CoreError	err;

	CHECK(storage_options_set(o, "endpoint", "http://127.0.0.1:1", &err) == CORE_OK);
	CHECK(storage_open_with_options("s3://bucket/prefix", o, &st, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "allow_http") != NULL);
	CHECK(storage_options_set(o, "allow_http", "true", &err) == CORE_OK);
	CHECK_MSG(storage_open_with_options("s3://bucket/prefix", o, &st, &err) == CORE_OK, "%s", err.msg);
	CHECK(strcmp(storage_root(st), "s3://bucket/prefix") == 0);
	storage_close(st);
	CHECK(storage_open_with_options("az://container", NULL, &st, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "account_name") != NULL);
	storage_options_free(o);
}
