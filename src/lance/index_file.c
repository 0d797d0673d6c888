/*-------------------------------------------------------------------------
 *
 * index_file.c
 *	  The tail of an index's Lance file: global buffers, schema metadata.
 *
 * Every offset and length comes from the file, so each is checked against
 * the file's size before it is used.
 *
 *-------------------------------------------------------------------------
 */
#include "lance/index_file.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/bytes.h"

#define FOOTER_LEN 40

void
lance_index_file_free(LanceIndexFile *f)
{
	if (f->fd != NULL)
		li__file_descriptor__free_unpacked(f->fd, NULL);
	core_free(f->path);
	core_free(f->buf_pos);
	core_free(f->buf_len);
	memset(f, 0, sizeof(*f));
}

/* Global buffer i of the file, read into a new buffer. */
CoreStatus
lance_index_file_buffer(Storage *st, const LanceIndexFile *f, uint64_t i, uint8_t **out, uint64_t *len,
				CoreError *err)
{
	*out = NULL;
	if (i >= f->num_buffers)
		return core_error(err, CORE_ERR_CORRUPT, "%s: global buffer %" PRIu64 " of %u asked for",
						  f->path, i, f->num_buffers);
	*len = f->buf_len[i];
	*out = core_malloc(*len ? *len : 1);
	if (*out == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory for global buffer %" PRIu64,
						  f->path, i);
	if (storage_read(st, f->path, f->buf_pos[i], *len, *out, err) != CORE_OK)
	{
		core_free(*out);
		*out = NULL;
		return err->status;
	}
	return CORE_OK;
}

/* Read a file's footer, its global buffer table and its file descriptor. */
CoreStatus
lance_index_file_open(Storage *st, const char *path, LanceIndexFile *f, CoreError *err)
{
	uint8_t		footer[FOOTER_LEN];
	ByteSpan	tail = span_make(footer, FOOTER_LEN);
	uint64_t	gbo;
	uint32_t	n;
	uint8_t    *table = NULL;
	uint8_t    *desc = NULL;
	uint64_t	desc_len;
	CoreStatus	status;

	memset(f, 0, sizeof(*f));
	f->path = core_strdup(path);
	if (f->path == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	status = storage_size(st, path, &f->size, err);
	if (status != CORE_OK)
		return status;
	if (f->size < FOOTER_LEN)
		return core_error(err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " bytes is too short for a Lance file",
						  path, f->size);
	status = storage_read(st, path, f->size - FOOTER_LEN, FOOTER_LEN, footer, err);
	if (status != CORE_OK)
		return status;
	if (memcmp(footer + FOOTER_LEN - 4, "LANC", 4) != 0)
		return core_error(err, CORE_ERR_CORRUPT, "%s: does not end with a Lance footer", path);
	span_u64(tail, 16, &gbo);
	span_u32(tail, 24, &n);
	{
		uint32_t	major = footer[32] | (uint32_t) footer[33] << 8;

		f->minor = footer[34] | (uint32_t) footer[35] << 8;
		if (major == 0)
			f->minor = 0;
	}
	if (n == 0 || gbo > f->size - FOOTER_LEN ||
		(uint64_t) n * 16 > f->size - FOOTER_LEN - gbo)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: global buffer table at %" PRIu64 " (%u entries) lies outside the file",
						  path, gbo, n);
	table = core_malloc((size_t) n * 16);
	f->buf_pos = core_mallocarray(n, sizeof(uint64_t));
	f->buf_len = core_mallocarray(n, sizeof(uint64_t));
	if (table == NULL || f->buf_pos == NULL || f->buf_len == NULL)
	{
		core_free(table);
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", path);
	}
	status = storage_read(st, path, gbo, (uint64_t) n * 16, table, err);
	for (uint32_t i = 0; status == CORE_OK && i < n; i++)
	{
		ByteSpan	t = span_make(table, (uint64_t) n * 16);

		span_u64(t, (uint64_t) i * 16, &f->buf_pos[i]);
		span_u64(t, (uint64_t) i * 16 + 8, &f->buf_len[i]);
		if (!span_range_ok(f->size, f->buf_pos[i], f->buf_len[i]))
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s: global buffer %u (%" PRIu64 " bytes at %" PRIu64 ") lies outside the file (%" PRIu64 " bytes)",
								path, i, f->buf_len[i], f->buf_pos[i], f->size);
	}
	core_free(table);
	if (status != CORE_OK)
		return status;
	f->num_buffers = n;

	status = lance_index_file_buffer(st, f, 0, &desc, &desc_len, err);
	if (status != CORE_OK)
		return status;
	f->fd = li__file_descriptor__unpack(NULL, desc_len, desc);
	core_free(desc);
	if (f->fd == NULL || f->fd->schema == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: file descriptor does not parse", path);
	return CORE_OK;
}

/* The schema metadata value of key, NUL-terminated in a new string, or NULL. */
char *
lance_index_file_meta(const LanceIndexFile *f, const char *key)
{
	const Li__FileSchema *s = f->fd->schema;

	for (size_t i = 0; i < s->n_metadata; i++)
	{
		const Li__MetadataEntry *e = s->metadata[i];
		char	   *v;

		if (e->key == NULL || strcmp(e->key, key) != 0 || !e->has_value)
			continue;
		v = core_malloc(e->value.len + 1);
		if (v == NULL)
			return NULL;
		memcpy(v, e->value.data, e->value.len);
		v[e->value.len] = '\0';
		return v;
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * The small JSON objects of the metadata: flat, with known keys
 * ---------------------------------------------------------------------
 */

/* The text after `"key":` in a flat JSON object, or NULL. */
const char *
lance_json_value(const char *json, const char *key)
{
	size_t		klen = strlen(key);

	for (const char *p = strchr(json, '"'); p != NULL; p = strchr(p + 1, '"'))
	{
		const char *q = p + 1 + klen;

		if (strncmp(p + 1, key, klen) != 0 || *q != '"')
			continue;
		q++;
		while (*q == ' ')
			q++;
		if (*q != ':')
			continue;
		q++;
		while (*q == ' ')
			q++;
		return q;
	}
	return NULL;
}

bool
lance_json_int(const char *json, const char *key, int64_t *out)
{
	const char *v = lance_json_value(json, key);
	char	   *end;

	if (v == NULL)
		return false;
	*out = strtoll(v, &end, 10);
	return end != v;
}

/* A string value (no escapes in the values read here) into buf. */
bool
lance_json_string(const char *json, const char *key, char *buf, size_t buflen)
{
	const char *v = lance_json_value(json, key);
	const char *end;

	if (v == NULL || *v != '"' || (end = strchr(v + 1, '"')) == NULL ||
		(size_t) (end - v - 1) >= buflen)
		return false;
	memcpy(buf, v + 1, end - v - 1);
	buf[end - v - 1] = '\0';
	return true;
}

/*
 * The first string of a JSON array of strings, unescaped: storage_metadata
 * is `["{\"codebook_position\":2,...}"]`.
 */
char *
lance_json_first_string(const char *json)
{
	const char *p = strchr(json, '"');
	char	   *out;
	size_t		n = 0;

	if (p == NULL || (out = core_malloc(strlen(p) + 1)) == NULL)
		return NULL;
	for (p++; *p != '\0' && *p != '"'; p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}
