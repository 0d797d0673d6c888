/*-------------------------------------------------------------------------
 *
 * writer_int.h
 *	  Internals shared by the data file writer's files (writer.c, the
 *	  container; writer20.c and writer21.c, the page encoders).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_WRITER_INT_H
#define LANCEDB_LANCE_WRITER_INT_H

#include <protobuf-c/protobuf-c.h>

#include "lance/write.h"

#define WRITER_MAX_PAGE_BUFFERS 4
/* Structs nested in structs the writer takes, the outermost included. */
#define WRITER_MAX_STRUCT_DEPTH 16

/* A growing byte buffer; failed sticks after the first allocation failure. */
typedef struct WOut
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} WOut;

extern bool wout_put(WOut *o, const void *data, size_t len);
extern bool wout_pad(WOut *o, size_t align, uint8_t fill);
extern bool wout_u16(WOut *o, uint16_t v);
extern bool wout_u32(WOut *o, uint32_t v);
extern bool wout_u64(WOut *o, uint64_t v);

/* Protobuf nodes of one page encoding, freed together. */
typedef struct WArena
{
	void	  **items;
	int			count;
	int			cap;
	bool		failed;
} WArena;

/* A copy of *init in the arena; NULL (and ar->failed) when out of memory. */
extern void *warena_new(WArena *ar, const void *init, size_t size);
extern void warena_free(WArena *ar);

#define WNEW(ar, T, INIT) ((T *) warena_new((ar), &(T) INIT, sizeof(T)))

typedef struct WPage
{
	uint64_t	offsets[WRITER_MAX_PAGE_BUFFERS];
	uint64_t	sizes[WRITER_MAX_PAGE_BUFFERS];
	int			nbuf;
	uint64_t	rows;
	uint64_t	priority;		/* first row of the page */
	uint8_t    *enc;			/* serialized Any: the page encoding */
	size_t		enc_len;
} WPage;

typedef struct WColumn
{
	WPage	   *pages;
	int			npages;
	int			cap;
} WColumn;

typedef struct WFile
{
	WOut		out;
	WColumn    *cols;
	int			ncols;
	int			cur_col;
	LanceFileVersion version;
	/*
	 * 2.1+: the structs enclosing the member column being written,
	 * outermost first (their nulls are the column's upper def levels).
	 */
	const LanceArray *struct_parents[WRITER_MAX_STRUCT_DEPTH];
	int			struct_depth;

	/*
	 * 2.1+: the list whose items (structs) hold the member column being
	 * written, or NULL; the struct_parents are then the items' structs,
	 * indexed by item, and the column's pages cut the list's rows.
	 */
	const LanceArray *list_parent;
	CoreError  *err;
	const char *what;			/* the file, for messages */
} WFile;

/* Append a page buffer at the next 64-byte boundary and record it. */
extern bool writer_page_buffer(WFile *w, WPage *p, const void *data, size_t len);

/* Serialize msg wrapped in an Any with type_url. */
extern bool writer_pack_any(const char *type_url, const ProtobufCMessage *msg,
							uint8_t **out, size_t *len);

/* Encode rows [start, start + n) of a as one page (fills p's encoding). */
extern CoreStatus writer20_page(WFile *w, const LanceArray *a, int64_t start, int64_t n,
								WPage *p);
extern CoreStatus writer21_page(WFile *w, const LanceArray *a, int64_t start, int64_t n,
								WPage *p);

/*
 * The end of a list page of a 2.1/2.2 file that starts at row start of
 * list a whose items (or, for a member of its struct items, the member's
 * values) are items.
 */
extern int64_t writer21_list_page_end(WFile *w, const LanceArray *a, const LanceArray *items,
									  int64_t start);

/*
 * The value bytes of rows [start, start + n) of a fixed-width leaf or
 * bool array (bools re-aligned to bit 0), in a new buffer of *len bytes.
 */
extern uint8_t *writer_fixed_values(const LanceArray *a, int64_t start, int64_t n, size_t *len);

/*
 * Whether row r of the column being written is null because a struct
 * enclosing it is (2.1+), and the def level that says so: 2 for the
 * innermost struct up to 1 + depth for the outermost; 0 when none is.
 */
extern int	writer_struct_null_level(const WFile *w, int64_t r);

/* Validity of rows [start, start + n) re-aligned to bit 0; NULL = no nulls. */
extern uint8_t *writer_validity(const LanceArray *a, int64_t start, int64_t n, bool *oom);

#endif							/* LANCEDB_LANCE_WRITER_INT_H */
