/*-------------------------------------------------------------------------
 *
 * test_sigv4.c
 *	  The SigV4 signer against the signatures AWS publishes.
 *
 * Vectors: the Signature Version 4 test suite (get-vanilla,
 * get-vanilla-query-order-key-case; credentials AKIDEXAMPLE, 2015-08-30)
 * and the S3 API reference's worked examples ("Example: GET Object",
 * "Example: PUT Object", "Example: GET Bucket (List Objects)", and the
 * presigned URL of "Authenticating Requests: Using Query Parameters").
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "core/alloc.h"
#include "storage/sigv4.h"
#include "unit.h"

static const SigV4Key suite_key = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "service"
};

static const SigV4Key s3_key = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "s3"
};

/* The signature part of an Authorization header value. */
static const char *
signature_of(const char *auth)
{
	const char *s = auth ? strstr(auth, "Signature=") : NULL;

	return s ? s + 10 : "";
}

UNIT_TEST(sigv4_get_vanilla_matches_the_aws_suite)
{
	SigV4Header h[] = {{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}};
	SigV4Request req = {"GET", "/", NULL, h, 2, SIGV4_EMPTY_SHA256};
	char	   *auth = sigv4_authorization(&suite_key, "20150830T123600Z", &req);

	CHECK(auth != NULL);
	CHECK_MSG(strcmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
					 "aws4_request, SignedHeaders=host;x-amz-date, Signature="
					 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31") == 0,
			  "got %s", auth);
	core_free(auth);
}

UNIT_TEST(sigv4_sorts_query_parameters_before_signing)
{
	SigV4Header h[] = {{"x-amz-date", "20150830T123600Z"}, {"Host", "example.amazonaws.com"}};
	SigV4Request req = {"GET", "/", "Param2=value2&Param1=value1", h, 2, SIGV4_EMPTY_SHA256};
	char	   *auth = sigv4_authorization(&suite_key, "20150830T123600Z", &req);

	CHECK(auth != NULL);
	CHECK_MSG(strcmp(signature_of(auth),
					 "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500") == 0,
			  "got %s", auth);
	core_free(auth);
}

UNIT_TEST(sigv4_s3_ranged_get_matches_the_s3_example)
{
	SigV4Header h[] = {
		{"host", "examplebucket.s3.amazonaws.com"},
		{"range", "bytes=0-9"},
		{"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	SigV4Request req = {"GET", "/test.txt", NULL, h, 4, SIGV4_EMPTY_SHA256};
	char	   *auth = sigv4_authorization(&s3_key, "20130524T000000Z", &req);

	CHECK(auth != NULL);
	CHECK_MSG(strstr(auth, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,") != NULL,
			  "got %s", auth);
	CHECK_MSG(strcmp(signature_of(auth),
					 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") == 0,
			  "got %s", auth);
	core_free(auth);
}

UNIT_TEST(sigv4_s3_put_signs_the_payload_hash_and_encoded_path)
{
	char		payload_hash[SIGV4_HEX_LEN + 1];
	const char *body = "Welcome to Amazon S3.";
	char	   *path = sigv4_uri_encode("/test$file.text", 15, true);
	SigV4Header h[] = {
		{"date", "Fri, 24 May 2013 00:00:00 GMT"},
		{"host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-content-sha256", payload_hash},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
	};
	SigV4Request req = {"PUT", path, NULL, h, 5, payload_hash};
	char	   *auth;

	sigv4_sha256_hex((const uint8_t *) body, strlen(body), payload_hash);
	CHECK(strcmp(payload_hash,
				 "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072") == 0);
	CHECK(strcmp(path, "/test%24file.text") == 0);
	auth = sigv4_authorization(&s3_key, "20130524T000000Z", &req);
	core_free(path);
	CHECK(auth != NULL);
	CHECK_MSG(strcmp(signature_of(auth),
					 "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") == 0,
			  "got %s", auth);
	core_free(auth);
}

UNIT_TEST(sigv4_s3_list_objects_matches_the_s3_example)
{
	SigV4Header h[] = {
		{"host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	SigV4Request req = {"GET", "/", "prefix=J&max-keys=2", h, 3, SIGV4_EMPTY_SHA256};
	char	   *auth = sigv4_authorization(&s3_key, "20130524T000000Z", &req);

	CHECK(auth != NULL);
	CHECK_MSG(strcmp(signature_of(auth),
					 "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == 0,
			  "got %s", auth);
	core_free(auth);
}

UNIT_TEST(sigv4_presigned_url_matches_the_s3_example)
{
	char	   *q = sigv4_presign_query(&s3_key, "20130524T000000Z", 86400, "GET", "/test.txt",
										NULL, "examplebucket.s3.amazonaws.com");

	CHECK(q != NULL);
	CHECK_MSG(strcmp(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
					 "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
					 "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
					 "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") == 0,
			  "got %s", q);
	core_free(q);
}

UNIT_TEST(sigv4_bare_query_names_become_name_equals)
{
	SigV4Header h[] = {{"host", "h"}};
	SigV4Request req = {"POST", "/b/k", "uploads", h, 1, "UNSIGNED-PAYLOAD"};
	char	   *signed_headers;
	char	   *canonical = sigv4_canonical_request(&req, &signed_headers);

	CHECK(canonical != NULL);
	CHECK_MSG(strcmp(canonical, "POST\n/b/k\nuploads=\nhost:h\n\nhost\nUNSIGNED-PAYLOAD") == 0,
			  "got %s", canonical);
	core_free(canonical);
	core_free(signed_headers);
}

UNIT_TEST(sigv4_uri_encode_keeps_unreserved_and_encodes_the_rest)
{
	char	   *a = sigv4_uri_encode("a b/c~d_e.f-g*h+i=", 18, false);
	char	   *b = sigv4_uri_encode("dir/x y", 7, true);

	CHECK(a != NULL && b != NULL);
	CHECK_MSG(strcmp(a, "a%20b%2Fc~d_e.f-g%2Ah%2Bi%3D") == 0, "got %s", a);
	CHECK_MSG(strcmp(b, "dir/x%20y") == 0, "got %s", b);
	core_free(a);
	core_free(b);
}

UNIT_TEST(sigv4_presigned_url_carries_the_session_token)
{
	SigV4Key	k = s3_key;
	char	   *q;

	k.session_token = "tok/en+1=";
	q = sigv4_presign_query(&k, "20130524T000000Z", 60, "GET", "/test.txt", NULL,
							"examplebucket.s3.amazonaws.com");
	CHECK(q != NULL);
	CHECK_MSG(strstr(q, "&X-Amz-Security-Token=tok%2Fen%2B1%3D&X-Amz-Signature=") != NULL,
			  "got %s", q);
	core_free(q);
}
