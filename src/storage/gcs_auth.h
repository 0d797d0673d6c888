/*-------------------------------------------------------------------------
 *
 * gcs_auth.h
 *	  Bearer tokens for GCS from a service-account key: self-signed JWTs.
 *
 * As object_store (and so Lance) does, no OAuth token endpoint is called:
 * the token is a JWT signed with the key's RSA private key (RS256), with
 * iss = sub = the account's e-mail, the cloud-platform scope and a one-hour
 * lifetime, and kid = the key's id.  Google accepts such a JWT directly
 * as a bearer token.  Tokens are remade five minutes before they expire.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_GCS_AUTH_H
#define LANCEDB_STORAGE_GCS_AUTH_H

#include <stdint.h>

#include "core/error.h"

/* the scope object_store asks for, which GCS accepts for storage */
#define GCS_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GCS_TOKEN_LIFETIME 3600

typedef struct GcsCredentials GcsCredentials;

/* Parse a service-account key (the JSON file's contents). */
extern CoreStatus gcs_credentials_from_json(const char *json, size_t len,
											GcsCredentials **out, CoreError *err);
extern void gcs_credentials_free(GcsCredentials *creds);

/* The bearer token to send at time now (Unix seconds); owned by creds. */
extern CoreStatus gcs_bearer_token(GcsCredentials *creds, int64_t now, const char **token,
								   CoreError *err);

/* The JWT for a given time (exposed for tests); a new string or NULL. */
extern char *gcs_make_jwt(GcsCredentials *creds, int64_t now, CoreError *err);

/* base64url without padding (exposed for tests); a new string or NULL. */
extern char *base64url_encode(const uint8_t *data, size_t len);

/*
 * The value of a top-level string member of a JSON object, unescaped;
 * NULL when absent, not a string, or out of memory.
 */
extern char *json_string_member(const char *json, size_t len, const char *name);

#endif							/* LANCEDB_STORAGE_GCS_AUTH_H */
