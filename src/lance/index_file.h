/*-------------------------------------------------------------------------
 *
 * index_file.h
 *	  The tail of a Lance 2.x file that belongs to an index: its global
 *	  buffers and the schema metadata that says what they hold.
 *
 * LanceDB's vector indexes keep their models (centroids, codebooks,
 * partition offsets) in global buffers of Lance files and name them in
 * the schema's metadata, often as small JSON objects; their rows are read
 * as columns like any data file's (fragment.h).  This module reads the
 * footer, the global buffer table and the file descriptor (global buffer
 * 0), and looks up metadata values.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_INDEX_FILE_H
#define LANCEDB_LANCE_INDEX_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "lance_index.pb-c.h"
#include "storage/storage.h"

typedef struct LanceIndexFile
{
	char	   *path;			/* relative to the storage root */
	uint64_t	size;
	uint32_t	minor;			/* data format 2.minor (2.0 says 0.3) */
	uint32_t	num_buffers;
	uint64_t   *buf_pos;		/* checked within the file */
	uint64_t   *buf_len;
	Li__FileDescriptor *fd;		/* its schema: fields and metadata */
} LanceIndexFile;

/* Read a file's footer, its global buffer table and its file descriptor. */
extern CoreStatus lance_index_file_open(Storage *st, const char *path, LanceIndexFile *f,
										CoreError *err);
extern void lance_index_file_free(LanceIndexFile *f);

/* Global buffer i of the file, read into a new buffer (core_free it). */
extern CoreStatus lance_index_file_buffer(Storage *st, const LanceIndexFile *f, uint64_t i,
										  uint8_t **out, uint64_t *len, CoreError *err);

/* The schema metadata value of key, NUL-terminated in a new string, or NULL. */
extern char *lance_index_file_meta(const LanceIndexFile *f, const char *key);

/*
 * The small JSON objects of the metadata: flat, with known keys.  The
 * text after `"key":` in a flat object, or NULL; an integer; a string
 * without escapes into buf; and the first string of a JSON array of
 * strings, unescaped, in a new string (storage_metadata is
 * `["{\"codebook_position\":2,...}"]`).
 */
extern const char *lance_json_value(const char *json, const char *key);
extern bool lance_json_int(const char *json, const char *key, int64_t *out);
extern bool lance_json_string(const char *json, const char *key, char *buf, size_t buflen);
extern char *lance_json_first_string(const char *json);

#endif							/* LANCEDB_LANCE_INDEX_FILE_H */
