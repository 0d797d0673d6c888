/*-------------------------------------------------------------------------
 *
 * error.c
 *	  Status codes and error messages for the Postgres-free core.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"

CoreStatus
core_verror(CoreError *err, CoreStatus status, const char *fmt, va_list ap)
{
	if (err)
	{
		err->status = status;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return status;
}

CoreStatus
core_error(CoreError *err, CoreStatus status, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	core_verror(err, status, fmt, ap);
	va_end(ap);
	return status;
}

CoreStatus
core_error_prefix(CoreError *err, const char *fmt,...)
{
	char		prefix[CORE_ERROR_MSG_LEN];
	char		old[CORE_ERROR_MSG_LEN];
	va_list		ap;

	if (err == NULL)
		return CORE_OK;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return err->status;
}

const char *
core_status_name(CoreStatus status)
{
	switch (status)
	{
		case CORE_OK:
			return "ok";
		case CORE_ERR_IO:
			return "I/O error";
		case CORE_ERR_NOT_FOUND:
			return "not found";
		case CORE_ERR_PERMISSION:
			return "permission denied";
		case CORE_ERR_CORRUPT:
			return "corrupt data";
		case CORE_ERR_UNSUPPORTED:
			return "unsupported";
		case CORE_ERR_INVALID:
			return "invalid argument";
		case CORE_ERR_CONFLICT:
			return "commit conflict";
		case CORE_ERR_NOMEM:
			return "out of memory";
		case CORE_ERR_CANCELED:
			return "canceled";
	}
	return "unknown error";
}
