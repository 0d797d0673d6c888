/*-------------------------------------------------------------------------
 *
 * error.h
 *	  Status codes and error messages for the Postgres-free core.
 *
 * Core functions return a CoreStatus; on failure they also fill a caller's
 * CoreError with a message that names the file, the place in it and what
 * was expected ("data/ab12.lance: column 3 page 0: buffer ends at 4096,
 * past file size 4000").  The Postgres glue turns the status into a
 * SQLSTATE and the message into errmsg/errdetail.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_CORE_ERROR_H
#define LANCEDB_CORE_ERROR_H

#include <stdarg.h>

typedef enum CoreStatus
{
	CORE_OK = 0,
	CORE_ERR_IO,				/* the store failed or is unreachable */
	CORE_ERR_NOT_FOUND,			/* a file, dataset or version does not exist */
	CORE_ERR_PERMISSION,		/* the store refused access */
	CORE_ERR_CORRUPT,			/* bytes that break the format's rules */
	CORE_ERR_UNSUPPORTED,		/* valid, but a feature we do not implement */
	CORE_ERR_INVALID,			/* a caller's argument is wrong */
	CORE_ERR_CONFLICT,			/* a concurrent commit won */
	CORE_ERR_NOMEM,				/* allocation failed or would exceed a cap */
	CORE_ERR_CANCELED			/* the caller asked to stop */
} CoreStatus;

#define CORE_ERROR_MSG_LEN 1024

typedef struct CoreError
{
	CoreStatus	status;
	char		msg[CORE_ERROR_MSG_LEN];
} CoreError;

/*
 * Record an error and return its status, so call sites read
 *		return core_error(err, CORE_ERR_CORRUPT, "%s: footer ...", path);
 * err may be NULL when the caller does not want the message.
 */
extern CoreStatus core_error(CoreError *err, CoreStatus status, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern CoreStatus core_verror(CoreError *err, CoreStatus status, const char *fmt, va_list ap)
			__attribute__((format(printf, 3, 0)));

/* Put "prefix: " in front of the message already in err (adds context). */
extern CoreStatus core_error_prefix(CoreError *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* A short name for a status ("corrupt", "not found", ...). */
extern const char *core_status_name(CoreStatus status);

#endif							/* LANCEDB_CORE_ERROR_H */
