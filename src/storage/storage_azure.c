#include "storage/storage_remote.h"
CoreStatus
storage_azure_open(const char *location, const StorageOptions *opts, Storage *st, CoreError *err)
{
	return core_error(err, CORE_ERR_UNSUPPORTED, "todo");
}
