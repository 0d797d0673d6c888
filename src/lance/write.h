/*-------------------------------------------------------------------------
 *
 * write.h
 *	  Writing Lance data files from Arrow-shaped columns.
 *
 * A writer fills one LanceArray per top-level field of the table's schema
 * (array.h; lance_array_new_for_field makes them, the push helpers below
 * add one value at a time) and hands them to lance_datafile_write, which
 * encodes them in the table's own file version (FORMAT.md 15.4: LanceDB
 * refuses tables whose files mix versions) and stores a new, uniquely
 * named file under data/.  Encodings are the uncompressed set FORMAT.md
 * 15.1 proved LanceDB accepts:
 *
 *	  2.0		nullable + flat, binary (u64 end offsets), fixed_size_list,
 *				list (u64 end offsets; the items a column of their own)
 *	  2.1/2.2	mini-block flat / variable(32) / fixed_size_list(flat), def
 *				levels as flat 16; full-zip for values wider than 256 bytes;
 *				lists as mini-block pages of one chunk with rep and def
 *				levels (flat 16), the items flat or variable(32), and a
 *				repetition index
 *
 * Structs of scalar members and of such structs (up to 16 deep): in 2.0
 * a column of struct pages (no buffers; no null structs, which 2.0
 * cannot store) then the members' columns, in pre-order; in 2.1/2.2 a
 * column per scalar member whose def levels say which member values and
 * which structs are null (layers item, then each enclosing struct from
 * the innermost out).  Fixed-size binaries are fixed-width values (flat,
 * 8 x size bits).  Lists of such structs: in 2.0 the list's column,
 * its struct items' column, then the members'; in 2.1/2.2 a list page
 * per scalar member whose layers are item, each enclosing struct, then
 * the list.  Lists of scalars as struct members (outside lists): list
 * pages whose layers are item, list, then each enclosing struct.  Lists
 * of lists, and lists in the structs of a list's items, are refused as
 * unsupported.
 * Files are never overwritten: a name collision is an error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_WRITE_H
#define LANCEDB_LANCE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "lance/array.h"
#include "lance/schema.h"
#include "storage/storage.h"

/* File versions a writer can produce (the manifest's data_format). */
typedef enum LanceFileVersion
{
	LANCE_FILE_V2_0,
	LANCE_FILE_V2_1,
	LANCE_FILE_V2_2
} LanceFileVersion;

/* A data file just written, ready to go into a manifest's fragment. */
typedef struct LanceWrittenFile
{
	char	   *name;			/* relative to data/ ("0110...e3.lance") */
	uint64_t	rows;
	uint64_t	size_bytes;
	int			num_fields;
	int32_t    *field_ids;		/* the fields stored, in column order */
	int32_t    *column_indices;
	uint32_t	major;			/* DataFile.file_major_version */
	uint32_t	minor;
} LanceWrittenFile;

/*
 * The file version a manifest's data_format names ("2.0", "2.1", "2.2";
 * empty means 2.0 only for manifests that never had a data file, which
 * the caller decides).  UNSUPPORTED for anything else.
 */
extern CoreStatus lance_file_version_parse(const char *data_format, LanceFileVersion *out,
										   CoreError *err);
extern const char *lance_file_version_name(LanceFileVersion v);

/*
 * Whether every top-level field of the schema can be written; an
 * UNSUPPORTED error names the first field that cannot.
 */
extern CoreStatus lance_write_check_schema(const LanceSchema *schema, CoreError *err);

/*
 * Write columns[i] (one per top-level field, each `rows` long) as a new
 * data file of the dataset at `dataset` (relative to the storage root).
 * A NULL in a field the schema says is not nullable is an INVALID error
 * naming the field.  Free *out with lance_written_file_free.
 */
extern CoreStatus lance_datafile_write(Storage *st, const char *dataset,
									   const LanceSchema *schema, LanceFileVersion version,
									   LanceArray *const *columns, int64_t rows,
									   LanceWrittenFile **out, CoreError *err);
extern void lance_written_file_free(LanceWrittenFile *file);

/* A new random data file name in Lance's 50-character scheme. */
extern CoreStatus lance_random_file_name(char *buf, size_t buflen, CoreError *err);

/* 16 random bytes formatted as a hyphenated UUID (37 bytes with NUL). */
extern CoreStatus lance_random_uuid(char *buf, size_t buflen, CoreError *err);

/* A random u64 (deletion file ids). */
extern CoreStatus lance_random_u64(uint64_t *out, CoreError *err);

/*
 * Push one value onto a leaf array (array.h): fixed-width bytes (width of
 * the type), a bool, variable bytes (strings, binaries) or the items of a
 * fixed_size_list (dimension items of the item type's width).  Nulls go
 * through lance_array_append_nulls.
 */
extern CoreStatus lance_array_push_fixed(LanceArray *a, const void *value, CoreError *err);
extern CoreStatus lance_array_push_bool(LanceArray *a, bool value, CoreError *err);
extern CoreStatus lance_array_push_bytes(LanceArray *a, const void *data, size_t len,
										 CoreError *err);
extern CoreStatus lance_array_push_fsl(LanceArray *a, const void *items, CoreError *err);

/*
 * Push one list value of n fixed-width items (of the item type's width)
 * onto a list array; nulls[i] (when nulls is not NULL) makes item i null.
 */
extern CoreStatus lance_array_push_list(LanceArray *a, const void *items, const bool *nulls,
										int64_t n, CoreError *err);

/*
 * End one list value whose items were pushed onto the list's item array
 * (a->children[0]) since the previous list value ended, one at a time
 * with the helpers above: how lists of strings and binaries are built.
 */
extern CoreStatus lance_array_push_list_end(LanceArray *a, CoreError *err);

/*
 * End one struct value whose members were each pushed onto its member
 * array (a->children[i]); a null struct is lance_array_append_nulls,
 * which makes every member null too.
 */
extern CoreStatus lance_array_push_struct_end(LanceArray *a, CoreError *err);

/* Bytes an array holds (to decide when a buffer of rows is big enough). */
extern int64_t lance_array_bytes(const LanceArray *a);

#endif							/* LANCEDB_LANCE_WRITE_H */
