/*-------------------------------------------------------------------------
 *
 * list_levels.h
 *	  Repetition and definition levels of lists of one or two list layers
 *	  (list<T>, list<list<T>>), as file versions 2.1 and 2.2 store them.
 *
 * A list array here is a LanceArray of type list whose items are either
 * the leaf (one layer) or themselves a list of the leaf (two layers).
 * Levels follow FORMAT.md 11.1 with every layer nullable: the leaf a
 * NULLABLE_ITEM layer, each list a NULL_AND_EMPTY_LIST layer, so
 *
 *	  def 0 a valid item, 1 a null item,
 *		  2 a null innermost list, 3 an empty one,
 *		  4 a null outer list, 5 an empty one (two layers only);
 *	  rep = the number of list layers starts a row, 1 (with two layers)
 *		  starts an inner list inside a row, 0 continues a list.
 *
 * Every item has a level pair (a value slot), and so has every null or
 * empty list; items under a null list do not exist.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_LIST_LEVELS_H
#define LANCEDB_LANCE_LIST_LEVELS_H

#include <stdint.h>

#include "lance/array.h"
#include "lance/write.h"

/* List layers of a list array: 2 when its items are lists, else 1. */
extern int	lance_list_layers(const LanceArray *list);

/* The leaf items under a list's one or two layers. */
extern const LanceArray *lance_list_leaf(const LanceArray *list);

/* Leaf slots of rows [start, end): the first, and how many. */
extern void lance_list_leaf_range(const LanceArray *list, int64_t start, int64_t end,
								  int64_t *first, int64_t *count);

/* Level pairs row r takes. */
extern int64_t lance_list_row_levels(const LanceArray *list, int64_t r);

/*
 * Fill rep[] and def[] with the level pairs of rows [start, start + n);
 * both must hold the sum of lance_list_row_levels over those rows.
 * Returns the number of pairs written.
 */
extern int64_t lance_list_levels(const LanceArray *list, int64_t start, int64_t n,
								 uint16_t *rep, uint16_t *def);

/*
 * Whether row r of a list column fits the one mini-block chunk that a list
 * page of file version 2.1 or 2.2 is (writer21.c, where the page limits
 * live; 2.0 has none), so that a writer refuses the row it is given
 * rather than the file it writes later: CORE_ERR_UNSUPPORTED naming field
 * if not.
 */
extern CoreStatus lance_list_row_check(LanceFileVersion version, const char *field,
									   const LanceArray *list, int64_t r, CoreError *err);

#endif							/* LANCEDB_LANCE_LIST_LEVELS_H */
