/*-------------------------------------------------------------------------
 *
 * array.h
 *	  Decoded columns, laid out the way Arrow lays them out.
 *
 * A LanceArray is one column of `length` values:
 *
 *	  validity  LSB-first bitmap, bit i set = value i is valid; NULL when
 *				every value is valid (null_count is then 0)
 *	  offsets	strings, binaries and lists: length + 1 offsets, int32_t
 *				for string/binary/list, int64_t for the large_ variants;
 *				offsets[0] need not be 0
 *	  values	fixed-width types: length * byte_width bytes, little-endian;
 *				bool: a bitmap; strings/binaries: the bytes the offsets index
 *	  children	list: 1 (the items, indexed by offsets); fixed_size_list: 1
 *				(length * dimension items); struct: one per member, each
 *				`length` long
 *
 * So a float32 vector column is a fixed_size_list whose child's values are
 * the floats of every row back to back, ready for a distance kernel.
 * Null slots hold unspecified bytes (zeros in practice).
 *
 * Arrays own their buffers.  The append functions grow an array; they are
 * how batches are cut from decoded pages, how deleted rows are dropped and
 * how take() gathers rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_ARRAY_H
#define LANCEDB_LANCE_ARRAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "lance/schema.h"

typedef struct LanceArray
{
	const LanceType *type;		/* borrowed from the schema */
	int64_t		length;
	int64_t		null_count;
	uint8_t    *validity;
	void	   *offsets;		/* int32_t[] or int64_t[], see lance_array_large_offsets */
	uint8_t    *values;
	int64_t		values_size;	/* bytes used in values */
	int			num_children;
	struct LanceArray **children;

	/* growth bookkeeping, private to array.c */
	int64_t		cap_rows;		/* rows validity/offsets/fixed values can hold */
	int64_t		cap_values;		/* bytes values can hold (variable width) */
} LanceArray;

/*
 * An empty array for a field: list, struct and fixed_size_list children
 * are created from the field's children and item type.
 */
extern CoreStatus lance_array_new_for_field(const LanceField *field, LanceArray **out,
											CoreError *err);

/* An empty array of a type with no child fields (leaf and FSL types). */
extern CoreStatus lance_array_new_for_type(const LanceType *type, LanceArray **out,
										   CoreError *err);

/*
 * An empty array of a type with num_children empty child slots, for
 * decoders that assemble nested arrays from parts (children set by them).
 */
extern CoreStatus lance_array_new_node(const LanceType *type, int num_children,
									   LanceArray **out, CoreError *err);

/* An empty array of the same shape (type, children) as proto. */
extern CoreStatus lance_array_new_like(const LanceArray *proto, LanceArray **out,
									   CoreError *err);

extern void lance_array_free(LanceArray *array);

/*
 * Append rows [start, start + count) of src to dst.  The two must have the
 * same shape.  Offsets are rebased; children get the rows they need.
 */
extern CoreStatus lance_array_append(LanceArray *dst, const LanceArray *src, int64_t start,
									 int64_t count, CoreError *err);

/*
 * Append the rows src[rows[0]], src[rows[1]], ... (n of them, any order,
 * repeats allowed, each < src->length) to dst: a gather, for dictionaries
 * and take().  Flat types are copied without per-row calls.
 */
extern CoreStatus lance_array_append_rows(LanceArray *dst, const LanceArray *src,
										  const int64_t *rows, int64_t n, CoreError *err);

/*
 * Add n valid rows to a fixed-width array (a fixed-width type, or a
 * fixed_size_list of one) and point *dest at their bytes, uninitialized,
 * for the caller to fill: n * row width bytes, contiguous.  This is how a
 * decoder reads rows straight into a batch instead of copying them there.
 */
extern CoreStatus lance_array_extend_fixed(LanceArray *a, int64_t n, uint8_t **dest,
										   CoreError *err);

/* Mark existing row i null (its bytes are left as they are). */
extern CoreStatus lance_array_set_null(LanceArray *a, int64_t i, CoreError *err);

/*
 * Keep the first n rows and drop the rest, children included: a nested
 * value left half-pushed (members or items pushed, its parent row not yet
 * ended) is dropped too.  Buffers keep their capacity, so this cannot
 * fail; it is how a writer takes back rows.
 */
extern void lance_array_truncate(LanceArray *a, int64_t n);

/* Append count null rows (empty lists, zeroed values). */
extern CoreStatus lance_array_append_nulls(LanceArray *dst, int64_t count, CoreError *err);

/* Reserve room for rows more rows (and value_bytes more variable bytes). */
extern CoreStatus lance_array_reserve(LanceArray *array, int64_t rows, int64_t value_bytes,
									  CoreError *err);

/*
 * Whether the offsets are int64_t (large_string, large_binary, large_list).
 * Inline: a scan asks for every string it reads.
 */
static inline bool
lance_array_large_offsets(const LanceArray *a)
{
	return a->type->id == LANCE_TYPE_LARGE_STRING || a->type->id == LANCE_TYPE_LARGE_BINARY ||
		a->type->id == LANCE_TYPE_LARGE_LIST;
}

/* Whether the type has offsets (strings, binaries, lists). */
extern bool lance_type_has_offsets(LanceTypeId id);

/* Whether value i is valid. */
static inline bool
lance_array_is_valid(const LanceArray *a, int64_t i)
{
	return a->validity == NULL || ((a->validity[i >> 3] >> (i & 7)) & 1);
}

/* Offset i (0 .. length) of a string, binary or list array. */
static inline int64_t
lance_array_offset(const LanceArray *a, int64_t i)
{
	if (lance_array_large_offsets(a))
		return ((const int64_t *) a->offsets)[i];
	return ((const int32_t *) a->offsets)[i];
}

/* Bit helpers for validity and bool values. */
static inline bool
lance_bit_get(const uint8_t *bits, int64_t i)
{
	return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void
lance_bit_set(uint8_t *bits, int64_t i, bool v)
{
	if (v)
		bits[i >> 3] |= (uint8_t) (1u << (i & 7));
	else
		bits[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

/* Copy count bits from src starting at bit s to dst starting at bit d. */
extern void lance_bits_copy(uint8_t *dst, int64_t d, const uint8_t *src, int64_t s, int64_t count);

/* Count the zero bits among the first n bits. */
extern int64_t lance_bits_count_zeros(const uint8_t *bits, int64_t n);

/*
 * Check an array's internal consistency (offsets monotone and within the
 * values/children, children long enough); used on decoder output before
 * anything trusts it.  `what` names the column for the message.
 */
extern CoreStatus lance_array_validate(const LanceArray *array, const char *what,
									   CoreError *err);

#endif							/* LANCEDB_LANCE_ARRAY_H */
