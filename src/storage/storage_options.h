/*-------------------------------------------------------------------------
 *
 * storage_options.h
 *	  Settings and credentials for object stores, by LanceDB's names.
 *
 * A StorageOptions is a list of key/value pairs as a user would paste
 * LanceDB's storage_options: keys are case-insensitive and each setting
 * has the spellings object_store accepts ("aws_access_key_id" and
 * "access_key_id", ...).  Every key is either a setting (region, endpoint,
 * timeouts: fine on a SERVER) or a secret (keys, tokens, SAS, service-
 * account keys: only in a USER MAPPING); the FDW validator asks
 * storage_option_is_secret and storage_option_is_known.  Secret values
 * never appear in any message the storage layer writes.
 *
 * Never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_OPTIONS_H
#define LANCEDB_STORAGE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct StorageOptions StorageOptions;

extern StorageOptions *storage_options_new(void);
extern void storage_options_free(StorageOptions *opts);

/*
 * Set key to value (a later set of the same setting, under any of its
 * spellings, replaces the earlier).  An unknown key is CORE_ERR_INVALID
 * with a message listing nothing secret.
 */
extern CoreStatus storage_options_set(StorageOptions *opts, const char *key,
									  const char *value, CoreError *err);

/* Whether key is a setting or secret this module understands. */
extern bool storage_option_is_known(const char *key);

/* Whether key holds a credential (allowed only in a USER MAPPING). */
extern bool storage_option_is_secret(const char *key);

/*
 * Check a value has the form its setting needs (a boolean, a duration, an
 * integer in range); CORE_ERR_INVALID with a message naming the setting
 * otherwise.  Credentials and free-form settings (endpoint, region) pass:
 * only a store can tell whether those are right, and a message must never
 * quote a credential.
 */
extern CoreStatus storage_option_check(const char *key, const char *value, CoreError *err);

/*
 * The known keys, one canonical spelling each, comma-separated (for an
 * "unknown option" hint).
 */
extern const char *storage_option_names(void);

#endif							/* LANCEDB_STORAGE_OPTIONS_H */
