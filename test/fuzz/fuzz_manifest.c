/*-------------------------------------------------------------------------
 *
 * fuzz_manifest.c
 *	  libFuzzer target over the manifest parser.
 *
 * Input: the bytes of a _versions/N.manifest file.  The parser must
 * return a status for any bytes (length prefix, protobuf, schema tree,
 * fragments, feature flags); ASan/UBSan turn an overread or leak into a
 * crash.  Seeds: every manifest of the LanceDB-made fixtures.
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <stdint.h>

#include "lance/manifest.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	LanceManifest *manifest;
	CoreError	err;

	if (lance_manifest_parse(data, size, "fuzz.manifest", &manifest, &err) == CORE_OK)
		lance_manifest_free(manifest);
	return 0;
}
