/*-------------------------------------------------------------------------
 *
 * decode.h
 *	  Turning one page of a Lance data file into an Arrow-shaped array.
 *	  Internal to src/lance: the fragment reader is the only caller.
 *
 * File format 2.0 (decode20.c): every field, parents included, has a
 * column.  A page of a leaf column decodes to its values; a page of a
 * list column decodes to offsets and validity relative to the page's own
 * items (which live in the child field's column: the caller appends
 * *num_items of them to out->children[0]); a page of a struct column
 * decodes to `rows` valid rows whose member arrays the caller fills.
 *
 * File formats 2.1 / 2.2 (decode21.c): only leaf fields have columns, and
 * each value carries repetition/definition levels that say where lists
 * start and which ancestor is null or empty.  A page of a leaf column
 * decodes to a "path array": an array of the top-level field's type in
 * which every struct keeps only the one child on the way to this leaf.
 * The fragment reader merges the path arrays of a field's leaves.
 *
 * `what` names the place for messages ("data/x.lance: column 3 page 0").
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_DECODE_H
#define LANCEDB_LANCE_DECODE_H

#include <stdint.h>

#include "core/error.h"
#include "lance/array.h"
#include "lance/datafile.h"
#include "lance/schema.h"

/* Upper bound on the bytes one decoded page may take. */
#define LANCE_MAX_PAGE_BYTES (UINT64_C(1) << 30)

extern CoreStatus lance_decode20_page(const char *what, ByteSpan encoding,
									  const LancePageData *data, uint64_t rows,
									  const LanceField *field, LanceArray **out,
									  uint64_t *num_items, CoreError *err);

/*
 * The item count of a 2.0 list page, read from its encoding alone (the
 * reader needs every page's count to map list pages to item rows).
 */
extern CoreStatus lance_decode20_list_items(const char *what, ByteSpan encoding,
											uint64_t *num_items, CoreError *err);

extern CoreStatus lance_decode21_page(const char *what, LanceFileVersion version,
									  ByteSpan encoding, const LancePageData *data,
									  uint64_t rows, const LanceField *top,
									  const LanceField *leaf, LanceArray **out,
									  CoreError *err);

/*
 * A 2.1/2.2 page whose rows can be read a range at a time: a full-zip page
 * of a top-level fixed-width field (a number, or a fixed_size_list of
 * numbers) with no repetition.  Row i is the `stride` bytes at i * stride
 * of the page's only buffer: a control byte when the field has nulls
 * (bit 0 set = the row is null), then the value's bytes.  A scan then
 * reads each batch's byte range straight into the batch (or, with control
 * bytes, strips them on the way) instead of decoding the whole page.
 */
typedef struct LanceStridePage
{
	uint64_t	stride;			/* bytes per row */
	unsigned	ctrl_bytes;		/* 0 or 1 */
	unsigned	value_bytes;	/* stride - ctrl_bytes */
} LanceStridePage;

/*
 * Whether the page (of `rows` rows, whose buffer 0 is buffer_len bytes)
 * has that layout for the top-level leaf field `field`; fills *out if so.
 * A page that does not (or whose layout does not parse) is decoded whole
 * by lance_decode21_page, which reports what is wrong with it.
 */
extern bool lance_decode21_stride_page(ByteSpan encoding, uint64_t rows, uint64_t buffer_len,
									   const LanceField *field, LanceStridePage *out);

/*
 * Append the n rows stored stride-packed at `rows` (n * stride bytes) of a
 * page with control bytes to out, an array of the field's type, dropping
 * the control bytes.  (Rows without them are their values' bytes already:
 * the reader reads those into lance_array_extend_fixed's room.)
 */
extern CoreStatus lance_decode21_stride_rows(const LanceStridePage *page, const uint8_t *rows,
											 uint64_t n, LanceArray *out, CoreError *err);

/*
 * A 2.1/2.2 mini-block page of a top-level field without repetition, read
 * a range of rows at a time: each read decodes only the chunks (a few KiB
 * each) that hold its rows, so a scan never holds a whole decoded page.
 * The last chunks decoded are kept for the next read, which usually starts
 * inside them; a dictionary is decoded once, when the page is opened.
 * The chunk buffer (buffer 1) need not be in memory: the page asks for
 * the byte ranges it decodes through a fetch function.
 */
typedef struct LanceChunkedPage LanceChunkedPage;

/*
 * Point *out at bytes [offset, offset + len) of the page's chunk buffer,
 * valid until the next call (followed by 8 readable bytes, as every page
 * buffer is, so decoders may load whole words at the end).
 */
typedef CoreStatus (*LanceChunkFetch) (void *arg, uint64_t offset, uint64_t len, ByteSpan *out,
									   CoreError *err);

/* Whether a page is of that kind (else decode it whole). */
extern bool lance_decode21_chunked_page(ByteSpan encoding, uint64_t rows, const LanceField *field);

/*
 * Open such a page.  data holds its buffers other than the chunk buffer,
 * whose span need only have the right length; it is read while opening
 * (chunk sizes, dictionary) and not kept.
 */
extern CoreStatus lance_decode21_chunked_open(const char *what, LanceFileVersion version,
											  ByteSpan encoding, const LancePageData *data,
											  uint64_t rows, const LanceField *field,
											  LanceChunkFetch fetch, void *fetch_arg,
											  LanceChunkedPage **out, CoreError *err);

/* Append rows [start, start + count) of the page to out. */
extern CoreStatus lance_decode21_chunked_rows(LanceChunkedPage *page, uint64_t start,
											  uint64_t count, LanceArray *out, CoreError *err);
extern void lance_decode21_chunked_free(LanceChunkedPage *page);

#endif							/* LANCEDB_LANCE_DECODE_H */
