/*-------------------------------------------------------------------------
 *
 * datafile.h
 *	  The container of a Lance 2.x data file: footer, column metadata,
 *	  pages and their buffers (FORMAT.md section 8).
 *
 *	  0 ................. page / column / global buffers (64-byte aligned)
 *	  column_meta_start . ColumnMetadata protobuf of each column
 *	  cmo_table ......... num_columns x {u64 position, u64 size}
 *	  gbo_table ......... num_global_buffers x {u64 position, u64 size}
 *	  size - 40 ......... u64 column_meta_start, u64 cmo_table, u64 gbo_table,
 *						  u32 num_global_buffers, u32 num_columns,
 *						  u16 major, u16 minor, "LANC"
 *
 * Opening a file reads its tail once (footer, tables and every column's
 * metadata); a column's metadata is parsed the first time it is asked
 * for, and every page buffer range is checked against the file then.
 * Page bytes are read on demand, many pages per storage call.
 *
 * This layer knows nothing of encodings: a page's encoding is handed on
 * as the bytes of the message inside its Any wrapper.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_DATAFILE_H
#define LANCEDB_LANCE_DATAFILE_H

#include <stdint.h>

#include "core/error.h"
#include "lance/bytes.h"
#include "storage/storage.h"

typedef struct LanceFile LanceFile;

/* File format versions, as (major << 8 | minor) of the data format. */
typedef enum LanceFileVersion
{
	LANCE_FILE_V2_0 = 0x200,	/* footer says 0.3 */
	LANCE_FILE_V2_1 = 0x201,
	LANCE_FILE_V2_2 = 0x202,
	LANCE_FILE_V2_3 = 0x203		/* read with the 2.2 rules */
} LanceFileVersion;

typedef struct LancePageInfo
{
	uint64_t	num_rows;		/* rows (2.0 list items: items) in the page */
	uint64_t	priority;		/* first row of the page in 2.1+ */
	int			num_buffers;
	const uint64_t *buffer_offsets; /* absolute, checked within the file */
	const uint64_t *buffer_sizes;
	ByteSpan	encoding;		/* the ArrayEncoding / PageLayout message */
} LancePageInfo;

typedef struct LanceColumnInfo
{
	int			num_pages;
	const LancePageInfo *pages;
	uint64_t	num_rows;		/* sum of the pages' rows */
} LanceColumnInfo;

/* The buffers of one page, read into memory. */
typedef struct LancePageData
{
	int			num_buffers;
	ByteSpan   *buffers;
	uint8_t    *memory;			/* owns every buffer's bytes */
} LancePageData;

/* One page to load: filled in by lance_file_read_pages. */
typedef struct LancePageRequest
{
	LanceFile  *file;
	int			column;
	int			page;
	LancePageData *out;
} LancePageRequest;

/*
 * Open the data file at path (relative to the storage root).  size is the
 * file's size from the manifest, or 0 to ask the storage.
 */
extern CoreStatus lance_file_open(Storage *st, const char *path, uint64_t size,
								  LanceFile **out, CoreError *err);
extern void lance_file_close(LanceFile *file);

extern const char *lance_file_path(const LanceFile *file);
extern LanceFileVersion lance_file_version(const LanceFile *file);
extern int	lance_file_num_columns(const LanceFile *file);

/* The pages of a column (parsed on first use, then kept). */
extern CoreStatus lance_file_column(LanceFile *file, int column, const LanceColumnInfo **out,
									CoreError *err);

/*
 * Read the buffers of many pages (possibly of different files of one
 * storage) with one storage_read_many call.
 */
extern CoreStatus lance_file_read_pages(Storage *st, LancePageRequest *requests, int count,
										CoreError *err);
/*
 * Read one page's buffers except buffer `lazy`, whose span gets its length
 * and no bytes: a reader that decodes that buffer a range at a time reads
 * the ranges itself, as it needs them.
 */
extern CoreStatus lance_file_read_page_except(Storage *st, LanceFile *file, int column, int page,
											  int lazy, LancePageData *out, CoreError *err);
extern void lance_page_data_free(LancePageData *data);

#endif							/* LANCEDB_LANCE_DATAFILE_H */
