/*-------------------------------------------------------------------------
 *
 * codec.h
 *	  Decoding primitives of the Lance file format (2.0, 2.1, 2.2).
 *
 * These are the byte-level codecs that the page layouts of a Lance data
 * file are built from: FastLanes bit packing (inline and out-of-line), run
 * length encoding, FSST string compression, LZ4/zstd general compression,
 * variable-width offsets, the constant layout's tiny Arrow scalar and
 * validity bitmaps.  They know nothing of protobuf: the reader pulls the
 * parameters (bit widths, value counts, the compression scheme) out of the
 * page's encoding message and hands them here with plain pointers.
 *
 * Conventions shared by every function:
 *	- input buffers are untrusted bytes: every length and count found in
 *	  them is checked before use, and a malformed buffer gives
 *	  CORE_ERR_CORRUPT with a message naming the encoding, the byte offset
 *	  in the buffer and the expected against the actual size (the caller
 *	  prefixes the file, column and page with core_error_prefix);
 *	- input buffers need no alignment; multi-byte values in them are
 *	  little-endian;
 *	- "bits" is the uncompressed width T of a value (8, 16, 32 or 64) and
 *	  decoded values are written as a native array of uint8_t, uint16_t,
 *	  uint32_t or uint64_t (T/8 bytes each) into the caller's buffer of at
 *	  least n * T/8 bytes;
 *	- "width" is the packed bit width W, 0 <= W <= T;
 *	- outputs whose size depends on the data are allocated with
 *	  core_malloc and become the caller's (core_free); a caller-given
 *	  max_out caps such allocations (CORE_ERR_CORRUPT when a header asks
 *	  for more);
 *	- on error nothing is allocated for the caller and the contents of the
 *	  caller's output buffers are unspecified.
 *
 * Encoders (the *_pack and *_encode functions) are the exact inverses, for
 * the writer; they take trusted input and only fail on bad arguments or
 * allocation failure.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_CODEC_H
#define LANCEDB_LANCE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ---------------------------------------------------------------------
 * FastLanes bit packing (FORMAT.md 12.3)
 *
 * A FastLanes block holds 1024 values of W bits in 1024 * W / T words of
 * T bits, i.e. always 128 * W bytes whatever T is.  The word order within
 * the block interleaves 1024 / T lanes (see fastlanes.c).
 * ---------------------------------------------------------------------
 */
#define LANCE_FL_BLOCK_VALUES 1024

/* Bytes of one packed block of 1024 W-bit values: 128 * W. */
#define LANCE_FL_PACKED_BYTES(width) ((size_t) 128 * (size_t) (width))

/*
 * Unpack one block: packed holds at least LANCE_FL_PACKED_BYTES(width)
 * bytes (packed_len says how many are there), out receives 1024 values of
 * `bits` bits.  width == 0 gives 1024 zeros and reads nothing.
 */
extern CoreStatus lance_fastlanes_unpack(const uint8_t *packed, size_t packed_len,
										 unsigned bits, unsigned width,
										 void *out, CoreError *err);

/*
 * Pack one block of 1024 values (native array of `bits`-bit integers) into
 * LANCE_FL_PACKED_BYTES(width) little-endian bytes at packed.  Bits of a
 * value above `width` are dropped.
 */
extern CoreStatus lance_fastlanes_pack(const void *in, unsigned bits, unsigned width,
									   uint8_t *packed, CoreError *err);

/* Smallest W that holds every one of the n values (0 when all are 0). */
extern unsigned lance_bit_width(const void *values, size_t n, unsigned bits);

/* ---------------------------------------------------------------------
 * inline_bitpacking (12.3): per 1024 values one record
 *		[W as one T-bit word][128 * W bytes of FastLanes block]
 * the last record padded to 1024 values.  The same format serves the
 * mini-block context (one chunk, n <= 1024 normally) and the block context
 * (records repeat).
 * ---------------------------------------------------------------------
 */

/*
 * Decode n values of `bits` bits from buf into out.  *consumed (may be
 * NULL) receives the bytes the records took; bytes past them are left to
 * the caller to judge (padding).
 */
extern CoreStatus lance_inline_bitpack_decode(const uint8_t *buf, size_t len,
											  unsigned bits, size_t n, void *out,
											  size_t *consumed, CoreError *err);

/* Upper bound of the encoded size of n values: records of width = bits. */
extern size_t lance_inline_bitpack_max_size(unsigned bits, size_t n);

/*
 * Encode n values (native `bits`-bit array), each 1024-value record with
 * its own smallest width, into out (at least lance_inline_bitpack_max_size
 * bytes); *out_len receives the bytes written.
 */
extern CoreStatus lance_inline_bitpack_encode(const void *in, unsigned bits, size_t n,
											  uint8_t *out, size_t *out_len,
											  CoreError *err);

/* ---------------------------------------------------------------------
 * out_of_line_bitpacking (12.4): one width W for the whole buffer, the
 * full 1024-value blocks back to back, then the tail of n % 1024 values
 * either as one more padded block or as raw T-bit words: raw iff exactly
 * tail * T / 8 bytes remain.
 * ---------------------------------------------------------------------
 */
extern CoreStatus lance_ool_bitpack_decode(const uint8_t *buf, size_t len,
										   unsigned bits, unsigned width, size_t n,
										   void *out, CoreError *err);

/* Encoded size of n values with width W (tail written raw when smaller). */
extern size_t lance_ool_bitpack_size(unsigned bits, unsigned width, size_t n);

/* Encode n values with width W into out (lance_ool_bitpack_size bytes). */
extern CoreStatus lance_ool_bitpack_encode(const void *in, unsigned bits,
										   unsigned width, size_t n, uint8_t *out,
										   CoreError *err);

/* ---------------------------------------------------------------------
 * rle (12.5): run values (T-bit words) and run lengths (u8, runs longer
 * than 255 split).  The runs must hold at least n values; runs past n
 * are ignored, as lance's decoder does (its chunker can leave some).
 * ---------------------------------------------------------------------
 */

/* Mini-block form: the two value buffers of the chunk. */
extern CoreStatus lance_rle_decode(const uint8_t *values, size_t values_len,
								   const uint8_t *lengths, size_t lengths_len,
								   unsigned bits, size_t n, void *out,
								   CoreError *err);

/* Block form: u64 LE byte length of the values, values, u8 lengths. */
extern CoreStatus lance_rle_decode_block(const uint8_t *buf, size_t len,
										 unsigned bits, size_t n, void *out,
										 CoreError *err);

/*
 * Count the runs of n values (the size of the encoding: runs * T/8 value
 * bytes + runs length bytes).
 */
extern size_t lance_rle_count_runs(const void *in, unsigned bits, size_t n);

/*
 * Encode n values: the run values go to values_out (runs * T/8 bytes), the
 * lengths to lengths_out (runs bytes); *nruns receives the run count.
 */
extern CoreStatus lance_rle_encode(const void *in, unsigned bits, size_t n,
								   uint8_t *values_out, uint8_t *lengths_out,
								   size_t *nruns, CoreError *err);

/* ---------------------------------------------------------------------
 * Variable-width values (12.2, 10.3): decoded to "normalized" offsets, n+1
 * uint64 with offsets[0] == 0, monotone, and a pointer to the bytes they
 * index (inside the input buffer, not copied).
 * ---------------------------------------------------------------------
 */

/*
 * Mini-block form: n+1 offsets of offset_bits (32 or 64) relative to the
 * start of buf, then the bytes, then padding.  The first offset must lie
 * past the n+1 offsets (a chunk may hold more values than asked for).
 */
extern CoreStatus lance_variable_decode_miniblock(const uint8_t *buf, size_t len,
												  unsigned offset_bits, size_t n,
												  uint64_t *offsets,
												  const uint8_t **bytes,
												  CoreError *err);

/*
 * Block form: u32 32 + u32 data_start (or u64 64 + u64 data_start), then
 * the offsets, then the bytes from data_start; the offsets index into the
 * bytes and the first may be non-zero.  n comes from the caller (e.g.
 * num_dictionary_items); the offsets area must hold at least n+1 of them.
 * The older header (one byte 32/64, the value count, data_start) is
 * recognised too.
 */
extern CoreStatus lance_variable_decode_block(const uint8_t *buf, size_t len,
											  size_t n, uint64_t *offsets,
											  const uint8_t **bytes,
											  CoreError *err);

/* Encoded size of the block form. */
extern size_t lance_variable_block_size(unsigned offset_bits, size_t n,
										size_t nbytes);

/* Encode the block form (offsets as for the mini-block encoder). */
extern CoreStatus lance_variable_encode_block(const uint64_t *offsets,
											  const uint8_t *bytes, size_t n,
											  unsigned offset_bits,
											  uint8_t *out, CoreError *err);

/* Encoded size of the mini-block form of n values with nbytes of data. */
extern size_t lance_variable_miniblock_size(unsigned offset_bits, size_t n,
											size_t nbytes);

/*
 * Encode the mini-block form from normalized offsets (n+1, offsets[0] may
 * be non-zero: bytes are taken from bytes + offsets[0]); out has
 * lance_variable_miniblock_size bytes (no padding written).
 */
extern CoreStatus lance_variable_encode_miniblock(const uint64_t *offsets,
												  const uint8_t *bytes, size_t n,
												  unsigned offset_bits,
												  uint8_t *out, CoreError *err);

/* ---------------------------------------------------------------------
 * FSST (12.6)
 * ---------------------------------------------------------------------
 */
#define LANCE_FSST_MAX_SYMBOLS 255

/* lance's decoder insists on a table buffer of exactly this size */
#define LANCE_FSST_TABLE_BYTES (8 + 256 * 8 + 256)

typedef struct LanceFsstTable
{
	bool		enabled;		/* false: values are stored uncompressed */
	unsigned	nsymbols;		/* codes 0 .. nsymbols-1 are defined */
	uint64_t	symbols[LANCE_FSST_MAX_SYMBOLS];	/* bytes, little-endian */
	uint8_t		lengths[LANCE_FSST_MAX_SYMBOLS];	/* 1..8 */
} LanceFsstTable;

/*
 * Parse lance's serialized symbol table (the encoding's symbol_table);
 * only the 8 + 9 * nsymbols bytes it uses need be there.
 */
extern CoreStatus lance_fsst_parse_table(const uint8_t *buf, size_t len,
										 LanceFsstTable *table, CoreError *err);

/*
 * Expand n compressed strings given by normalized offsets (n+1) into
 * bytes.  out_offsets (caller's, n+1) receives the new offsets; *out_bytes
 * is allocated (at most max_out bytes, else an error), *out_len its size.
 * A disabled table copies the strings unchanged.
 */
extern CoreStatus lance_fsst_decode(const LanceFsstTable *table,
									const uint64_t *offsets, const uint8_t *bytes,
									size_t n, size_t max_out,
									uint64_t *out_offsets, uint8_t **out_bytes,
									size_t *out_len, CoreError *err);

/*
 * Serialized size of a table: always LANCE_FSST_TABLE_BYTES (the header,
 * the symbols and their lengths, then zeros), as lance writes it.
 */
extern size_t lance_fsst_table_size(const LanceFsstTable *table);

/* Serialize a table into out (lance_fsst_table_size bytes). */
extern void lance_fsst_write_table(const LanceFsstTable *table, uint8_t *out);

/* ---------------------------------------------------------------------
 * General compression (12.8) with lance's framing:
 *	LZ4:  u32 LE uncompressed size + one raw LZ4 block;
 *	ZSTD: u64 LE uncompressed size + a zstd frame, or a bare zstd frame.
 * The scheme numbers are those of BufferCompression.scheme.
 * ---------------------------------------------------------------------
 */
typedef enum LanceCompression
{
	LANCE_COMPRESSION_NONE = 0,
	LANCE_COMPRESSION_LZ4 = 1,
	LANCE_COMPRESSION_ZSTD = 2
} LanceCompression;

/*
 * Decompress buf into a new buffer *out of *out_len bytes.  The size in
 * the header must not exceed max_out and must match what the codec
 * produces exactly.
 */
extern CoreStatus lance_decompress(LanceCompression scheme,
								   const uint8_t *buf, size_t len, size_t max_out,
								   uint8_t **out, size_t *out_len, CoreError *err);

/*
 * Compress with lance's framing into a new buffer; level 0 = the codec's
 * default.
 */
extern CoreStatus lance_compress(LanceCompression scheme, int level,
								 const uint8_t *buf, size_t len,
								 uint8_t **out, size_t *out_len, CoreError *err);

/*
 * A bare zstd frame of known uncompressed size (Arrow IPC body buffers):
 * decompress into the caller's out of exactly out_len bytes.
 */
extern CoreStatus lance_zstd_decompress_exact(const uint8_t *buf, size_t len,
											  uint8_t *out, size_t out_len,
											  CoreError *err);

/* Same for a raw LZ4 frame (Arrow's LZ4_FRAME body compression). */
extern CoreStatus lance_lz4frame_decompress_exact(const uint8_t *buf, size_t len,
												  uint8_t *out, size_t out_len,
												  CoreError *err);

/* ---------------------------------------------------------------------
 * The constant layout's scalar (11.4): a tiny Arrow array serialized as
 *	u32 buffer count c, c x u32 lengths, the c buffers back to back.
 * ---------------------------------------------------------------------
 */
#define LANCE_SCALAR_MAX_BUFFERS 8

typedef struct LanceScalarBuffers
{
	unsigned	nbuffers;
	const uint8_t *data[LANCE_SCALAR_MAX_BUFFERS];	/* point into the input */
	size_t		len[LANCE_SCALAR_MAX_BUFFERS];
} LanceScalarBuffers;

extern CoreStatus lance_scalar_parse(const uint8_t *buf, size_t len,
									 LanceScalarBuffers *out, CoreError *err);

/*
 * Interpret a parsed scalar as one variable-width value: buffers [offsets,
 * bytes] or [validity, offsets, bytes], offsets of 8 bytes (i32 pair) or
 * 16 bytes (i64 pair).  The value points into the input.
 */
extern CoreStatus lance_scalar_binary(const LanceScalarBuffers *scalar,
									  const uint8_t **value, size_t *value_len,
									  CoreError *err);

/* ---------------------------------------------------------------------
 * Flat values and bitmaps (10.1, 12.1)
 * ---------------------------------------------------------------------
 */

/*
 * Copy n values of `bits` bits (8, 16, 32, 64, or any multiple of 8 for
 * fixed-size binary) from buf into out, checking buf holds them.
 */
extern CoreStatus lance_flat_decode(const uint8_t *buf, size_t len,
									unsigned bits, size_t n, void *out,
									CoreError *err);

/*
 * Widen n little-endian values of in_bits (8, 16 or 32) to uint16 levels
 * (rep/def levels), failing when a value does not fit.
 */
extern CoreStatus lance_levels_to_u16(const void *in, unsigned in_bits, size_t n,
									  uint16_t *out, CoreError *err);

/* Bit i of an LSB-first bitmap. */
static inline bool
lance_bitmap_get(const uint8_t *bits, size_t i)
{
	return (bits[i >> 3] >> (i & 7)) & 1;
}

/*
 * Unpack n bits starting at bit `offset` of an LSB-first bitmap of len
 * bytes into one byte (0 or 1) per value.
 */
extern CoreStatus lance_bitmap_unpack(const uint8_t *bits, size_t len,
									  size_t offset, size_t n, uint8_t *out,
									  CoreError *err);

/* Count the set bits among the first n of a bitmap (len >= (n+7)/8). */
extern size_t lance_bitmap_count(const uint8_t *bits, size_t n);

/* Pack n bytes (non-zero = 1) into an LSB-first bitmap of (n+7)/8 bytes. */
extern void lance_bitmap_pack(const uint8_t *in, size_t n, uint8_t *bits);

#endif							/* LANCEDB_LANCE_CODEC_H */
