/*-------------------------------------------------------------------------
 *
 * take_vectors.h
 *	  The vectors of a few rows, by row address, with one small ranged read
 *	  per row instead of decoding the pages they lie in.
 *
 * LanceDB writes a fixed_size_list<float32> column of a 2.1+ file in the
 * full-zip layout: with no nulls to record, a row's vector is the dim
 * floats at offset row * dim * 4 of the page's first buffer.  A page may
 * hold a whole fragment's vectors (128 MB for 250k x 128), so re-ranking
 * a few index candidates reads 512 bytes each this way where lance_dataset_take
 * would decode every page they touch.  Any other layout (nulls, another
 * encoding, compression, a 2.0 file) is CORE_ERR_UNSUPPORTED: the caller
 * then takes the rows the general way.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_TAKE_VECTORS_H
#define LANCEDB_LANCE_TAKE_VECTORS_H

#include <stdint.h>

#include "core/error.h"
#include "lance/manifest.h"
#include "lance/schema.h"
#include "storage/storage.h"

/*
 * Read the vectors of field (a top-level fixed_size_list<float32, dim>) at
 * n row addresses of live rows of the dataset at `dataset` (relative to
 * the storage root) into out (n * dim floats), in the order given.
 */
extern CoreStatus lance_take_vectors(Storage *st, const char *dataset, const LanceManifest *m,
									 const LanceField *field, const uint64_t *addrs, int64_t n,
									 float *out, CoreError *err);

#endif							/* LANCEDB_LANCE_TAKE_VECTORS_H */
