/*-------------------------------------------------------------------------
 *
 * lance_fdw.h
 *	  Shared declarations of the lancedb_fdw foreign-data wrapper.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_LANCE_FDW_H
#define LANCEDB_FDW_LANCE_FDW_H

#include "postgres.h"

#include "commands/explain.h"
#include "core/error.h"
#include "foreign/fdwapi.h"
#include "lance/dataset.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"

/* Where a foreign table's dataset is and which version to read. */
typedef struct LanceTableOptions
{
	char	   *location;		/* the dataset directory: path or URI */
	uint64		version;		/* 0 = the newest */
	List	   *storage_options;	/* DefElems for the object store, secrets
									 * included: never show them */
} LanceTableOptions;

/* What a foreign scan produces. */
typedef enum LanceScanKind
{
	LANCE_SCAN_ROWS,			/* the table's rows */
	LANCE_SCAN_COUNT,			/* one row: count(*) from the manifest */
	LANCE_SCAN_SEARCH			/* the nearest rows to a vector (fdw_search.c) */
} LanceScanKind;

/* A dataset opened for reading, freed with its memory context (source.c). */
typedef struct LanceSource LanceSource;

/* option.c */
extern bool lance_location_is_local(const char *location);
extern void lance_check_local_read(const char *location);
extern uint64 lance_parse_version(const char *value);
extern char *lance_dataset_location(const char *root, const char *name);
extern LanceTableOptions *lance_get_table_options(Oid foreigntableid);
extern List *lance_server_storage_options(Oid serverid, Oid userid);
extern List *lance_table_storage_options(Oid foreigntableid, Oid userid);
extern List *lance_planner_storage_options(PlannerInfo *root, RelOptInfo *baserel,
										   Oid foreigntableid);
extern List *lance_scan_storage_options(ForeignScanState *node);
extern char *lance_column_field_name(Oid foreigntableid, AttrNumber attnum,
									 const char *attname);

/* source.c */
extern void lance_report_core_error(const CoreError *err) pg_attribute_noreturn();
extern CoreStatus lance_storage_open(const char *location, List *storage_options,
									 Storage **out, CoreError *err);
extern LanceSource *lance_source_open(const char *location, uint64 version,
									  List *storage_options);
extern void lance_source_forget(const char *location);
extern const LanceSchema *lance_source_schema(LanceSource *src);
extern const LanceManifest *lance_source_manifest(LanceSource *src);
extern uint64 lance_source_version(LanceSource *src);
extern int64 lance_source_live_rows(LanceSource *src);
extern void lance_source_start(LanceSource *src, const char *const *fields, int n);
extern LanceBatch *lance_source_next(LanceSource *src);
extern void lance_source_restart(LanceSource *src);
extern void lance_source_only_fragments(LanceSource *src, const uint64 *fragment_ids, int n);
extern Storage *lance_source_storage(LanceSource *src);
extern struct LanceIndexList *lance_source_indexes(LanceSource *src);
extern LanceBatch *lance_source_take(LanceSource *src, const uint64 *row_addrs, int64 n,
									 const char *const *fields, int nfields);

/* fdw.c */
extern ForeignScan *lance_make_count_plan(PlannerInfo *root, RelOptInfo *upperrel,
										  ForeignPath *best_path, List *tlist);

/* fdw_scan.c */
struct LanceConverter;
extern const LanceField *lance_bind_column(Relation rel, const LanceSchema *schema,
										   const char *location, AttrNumber attnum,
										   struct LanceConverter **conv);
extern List *lance_scan_private(LanceTableOptions *opts, uint64 planned_version,
								int num_fragments, List *attnums, LanceScanKind kind);
extern LanceScanKind lance_scan_kind(ForeignScan *plan);
extern void lance_scan_private_parts(ForeignScan *plan, char **location,
									 uint64 *version_option, List **attnums, List **extra);
extern void lanceBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *lanceIterateForeignScan(ForeignScanState *node);
extern void lanceReScanForeignScan(ForeignScanState *node);
extern void lanceEndForeignScan(ForeignScanState *node);
extern void lanceExplainForeignScan(ForeignScanState *node, ExplainState *es);
extern bool lanceAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

/* import.c */
extern List *lanceImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid);

#endif							/* LANCEDB_FDW_LANCE_FDW_H */
