/*-------------------------------------------------------------------------
 *
 * rowaddr48.h
 *	  Packing a 64-bit Lance row address into 48 bits and back.
 *
 * A Lance row address is fragment id << 32 | offset in the fragment; a
 * Postgres TID, which carries row identity for UPDATE and DELETE, holds
 * 48 bits.  Both halves are usually small, so the 48 bits are a 6-bit
 * header h, the number of significant bits of the offset, then the
 * fragment id and the offset in h bits:
 *
 *		h (6) | fragment id (42 - h) | offset (h)
 *
 * Every address whose fragment id and offset need at most 42 significant
 * bits together fits: with LanceDB's fragments of up to 2^20 rows,
 * fragment ids up to 2^22; with fragments of up to 1024 rows, any 32-bit
 * fragment id.  The packing needs no state (no manifest), so the side
 * that packs and the side that unpacks agree without sharing anything.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_CORE_ROWADDR48_H
#define LANCEDB_CORE_ROWADDR48_H

#include <stdbool.h>
#include <stdint.h>

#define ROWADDR48_PAYLOAD_BITS 42

/* The 48-bit form of addr; false when it does not fit. */
extern bool rowaddr48_pack(uint64_t addr, uint64_t *packed);

/* The address a 48-bit value packs; false when it is not a packed address. */
extern bool rowaddr48_unpack(uint64_t packed, uint64_t *addr);

#endif							/* LANCEDB_CORE_ROWADDR48_H */
