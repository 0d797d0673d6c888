/*-------------------------------------------------------------------------
 *
 * option.c
 *	  Options of lancedb_fdw servers, foreign tables and columns: the
 *	  validator, and the resolution of a foreign table to its dataset.
 *
 * A server names a root (a directory of datasets, Lance's "directory
 * namespace"); a foreign table names one dataset under it with `table`
 * ('items' is <root>/items.lance) or anywhere with `path`, and may pin a
 * `version` for time travel.  Setting a local path (a server's uri, a
 * table's path) needs superuser or pg_read_server_files, as file_fdw
 * requires; a server is then a grant of its directory to the roles given
 * USAGE on it, so `table` may not climb out of it.
 *
 * A dataset in an object store (s3://, gs://, az://) also takes the
 * store's options, by LanceDB's names (storage_options.h): settings such as
 * region, endpoint and timeouts on the server or the foreign table, and
 * credentials only in a user mapping, whose options only its user and the
 * server's owner can read.  A credential anywhere else would be visible to
 * every role that can read the catalogs, so the validator refuses it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "fdw/lance_fdw.h"
#include "fdw/lance_write.h"
#include "storage/storage_options.h"

typedef struct LanceOptionDef
{
	const char *name;
	Oid			context;		/* catalog the option belongs to */
} LanceOptionDef;

static const LanceOptionDef lance_options[] = {
	{"uri", ForeignServerRelationId},
	{"table", ForeignTableRelationId},
	{"path", ForeignTableRelationId},
	{"version", ForeignTableRelationId},
	{"max_rows_per_file", ForeignTableRelationId},
	{"column_name", AttributeRelationId},
	{NULL, InvalidOid}
};

PG_FUNCTION_INFO_V1(lancedb_fdw_validator);

static bool
is_valid_option(const char *name, Oid context)
{
	for (const LanceOptionDef *opt = lance_options; opt->name; opt++)
	{
		if (opt->context == context && strcmp(opt->name, name) == 0)
			return true;
	}
	return false;
}

/*
 * Append the object-store options a catalog accepts to a list of names:
 * every one in a user mapping, the settings elsewhere.
 */
static void
append_storage_option_names(StringInfo names, Oid context)
{
	char	   *all = pstrdup(storage_option_names());
	char	   *save = NULL;

	for (char *name = strtok_r(all, ", ", &save); name; name = strtok_r(NULL, ", ", &save))
	{
		if (context == UserMappingRelationId || !storage_option_is_secret(name))
			appendStringInfo(names, "%s%s", names->len > 0 ? ", " : "", name);
	}
	pfree(all);
}

/* Report an unknown option, listing the ones this catalog accepts. */
static void
report_invalid_option(const char *name, Oid context)
{
	StringInfoData valid;

	initStringInfo(&valid);
	for (const LanceOptionDef *opt = lance_options; opt->name; opt++)
	{
		if (opt->context == context)
			appendStringInfo(&valid, "%s%s", valid.len > 0 ? ", " : "", opt->name);
	}
	if (context == ForeignServerRelationId || context == ForeignTableRelationId ||
		context == UserMappingRelationId)
		append_storage_option_names(&valid, context);
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\"", name),
			 valid.len > 0
			 ? errhint("Valid options in this context are: %s.", valid.data)
			 : errhint("There are no valid options in this context.")));
}

/*
 * Check an object-store option is set where it may be (a credential only
 * in a user mapping) and that a setting's value has its form (a boolean,
 * a duration, an integer in range), so a typo fails here rather than at
 * the first query.  Messages name the option, never a credential's value.
 */
static void
check_storage_option(DefElem *def, Oid context)
{
	const char *name = def->defname;
	CoreError	err;

	if (context != UserMappingRelationId &&
		context != ForeignServerRelationId && context != ForeignTableRelationId)
		report_invalid_option(name, context);
	if (context != UserMappingRelationId && storage_option_is_secret(name))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" is a credential and may only be set in a user mapping",
						name),
				 errdetail("Options of servers and foreign tables are readable by every role."),
				 errhint("Use CREATE USER MAPPING FOR ... SERVER ... OPTIONS (%s '...').", name)));
	if (storage_option_check(name, defGetString(def), &err) != CORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\"", name),
				 errdetail("%s", err.msg)));
}

/*
 * Whether a location is on this server's file system: a plain path or a
 * file:// URI.  Object-store URIs (s3://, gs://, az://) are not.
 */
bool
lance_location_is_local(const char *location)
{
	const char *sep = strstr(location, "://");

	return sep == NULL || strncmp(location, "file://", 7) == 0;
}

/*
 * Check the current user may read local files, as file_fdw does: the
 * dataset's bytes become query results.
 */
void
lance_check_local_read(const char *location)
{
	if (!lance_location_is_local(location))
		return;
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read Lance datasets on the server's file system"),
				 errdetail("Location \"%s\" is a local path.", location),
				 errhint("Only superusers and roles with privileges of the pg_read_server_files role may use local Lance datasets.")));
}

/* Check a `table` name stays under the server's root. */
static void
check_table_name(const char *name)
{
	const char *p = name;

	if (*name == '\0' || *name == '/' || strstr(name, "://") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"table\": \"%s\"", name),
				 errdetail("A table is named relative to the server's uri."),
				 errhint("Use option \"path\" for a dataset at a full path or URI.")));

	/* no ".." component: a server grants its root, not its parent */
	while (*p)
	{
		const char *end = strchr(p, '/');
		size_t		len = end ? (size_t) (end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid value for option \"table\": \"%s\"", name),
					 errdetail("A table name may not contain \"..\".")));
		p += len;
		while (*p == '/')
			p++;
	}
}

/* Parse a `version` option: a positive integer. */
uint64
lance_parse_version(const char *value)
{
	char	   *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v == 0 || value[0] == '-')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"version\": \"%s\"", value),
				 errdetail("A version is a positive integer.")));
	return (uint64) v;
}

/*
 * lancedb_fdw_validator
 *		Check the options of a CREATE/ALTER SERVER, USER MAPPING, FOREIGN TABLE
 *		or a column, as they are given.
 */
Datum
lancedb_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		has_table = false;
	bool		has_path = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);
		char	   *value;

		if (storage_option_is_known(def->defname))
		{
			check_storage_option(def, catalog);
			continue;
		}
		if (!is_valid_option(def->defname, catalog))
			report_invalid_option(def->defname, catalog);

		value = defGetString(def);
		if (strcmp(def->defname, "uri") == 0 || strcmp(def->defname, "path") == 0)
		{
			if (*value == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" may not be empty", def->defname)));
			lance_check_local_read(value);
			has_path |= strcmp(def->defname, "path") == 0;
		}
		else if (strcmp(def->defname, "table") == 0)
		{
			check_table_name(value);
			has_table = true;
		}
		else if (strcmp(def->defname, "version") == 0)
			(void) lance_parse_version(value);
		else if (strcmp(def->defname, "max_rows_per_file") == 0)
			(void) lance_parse_max_rows_per_file(value);
	}

	if (has_table && has_path)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("options \"table\" and \"path\" cannot be used together"),
				 errhint("Use \"table\" for a dataset under the server's uri, \"path\" for one elsewhere.")));

	PG_RETURN_VOID();
}

/* The value of one option in a list, or NULL. */
static char *
find_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/*
 * Join a root and a dataset name into the dataset's location, adding the
 * ".lance" suffix Lance's directory namespace uses.
 */
char *
lance_dataset_location(const char *root, const char *name)
{
	size_t		len = strlen(root);
	bool		has_suffix = strlen(name) > 6 &&
		strcmp(name + strlen(name) - 6, ".lance") == 0;

	while (len > 1 && root[len - 1] == '/')
		len--;
	return psprintf("%.*s/%s%s", (int) len, root, name, has_suffix ? "" : ".lance");
}

/*
 * Resolve a foreign table to where its dataset lives and which version
 * to read.  Privileges were checked when the location was set, as
 * file_fdw does: whoever may read the table (a GRANT) may read its data.
 */
LanceTableOptions *
lance_get_table_options(Oid foreigntableid)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	ForeignServer *server = GetForeignServer(table->serverid);
	LanceTableOptions *opts = palloc0(sizeof(LanceTableOptions));
	char	   *root = find_option(server->options, "uri");
	char	   *name = find_option(table->options, "table");
	char	   *path = find_option(table->options, "path");
	char	   *version = find_option(table->options, "version");

	if (path != NULL)
		opts->location = path;
	else
	{
		if (root == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("foreign table \"%s\" has no dataset location",
							get_rel_name(foreigntableid)),
					 errhint("Give the server option \"uri\" or the table option \"path\".")));
		opts->location = lance_dataset_location(root,
												name ? name : get_rel_name(foreigntableid));
	}
	opts->version = version ? lance_parse_version(version) : 0;
	opts->storage_options = lance_table_storage_options(foreigntableid, GetUserId());
	return opts;
}

/* Append the object-store options of a catalog entry to a list. */
static List *
append_storage_options(List *merged, List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (storage_option_is_known(def->defname))
			merged = lappend(merged, def);
	}
	return merged;
}

/*
 * The options of a user's mapping to a server, or of the PUBLIC one, or
 * none: a store that needs no credentials (a public bucket) needs no
 * mapping, so unlike GetUserMapping a missing one is not an error.
 */
static List *
user_mapping_options(Oid userid, Oid serverid)
{
	HeapTuple	tp;
	Datum		datum;
	bool		isnull;
	List	   *options = NIL;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		return NIL;
	datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp, Anum_pg_user_mapping_umoptions, &isnull);
	if (!isnull)
		options = untransformRelOptions(datum);
	ReleaseSysCache(tp);
	return options;
}

/*
 * The object-store options a user reaches a server's datasets with: the
 * server's settings, then the user mapping's (later ones win, so a
 * mapping may override a setting for its user).
 */
List *
lance_server_storage_options(Oid serverid, Oid userid)
{
	List	   *merged = append_storage_options(NIL, GetForeignServer(serverid)->options);

	return append_storage_options(merged, user_mapping_options(userid, serverid));
}

/*
 * The object-store options of a foreign table for a user: the server's,
 * the table's own settings, then the user mapping's.
 */
List *
lance_table_storage_options(Oid foreigntableid, Oid userid)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	List	   *merged;

	merged = append_storage_options(NIL, GetForeignServer(table->serverid)->options);
	merged = append_storage_options(merged, table->options);
	return append_storage_options(merged, user_mapping_options(userid, table->serverid));
}

/*
 * The object-store options the planner reads a foreign table's manifest
 * with: those of the user the query will check permissions as, as
 * lance_scan_storage_options picks at execution.
 */
List *
lance_planner_storage_options(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);

	return lance_table_storage_options(foreigntableid,
									   OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId());
}

/*
 * The object-store options a foreign scan runs with: those of the user
 * the query checks permissions as (a view's owner through a view), as
 * postgres_fdw picks its user mapping.
 */
List *
lance_scan_storage_options(ForeignScanState *node)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	int			rtindex = plan->scan.scanrelid > 0
		? (int) plan->scan.scanrelid
		: bms_next_member(plan->fs_relids, -1);
	RangeTblEntry *rte = exec_rt_fetch(rtindex, estate);

	return lance_table_storage_options(rte->relid,
									   OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId());
}

/* The Lance field a column maps to: its column_name option, or its name. */
char *
lance_column_field_name(Oid foreigntableid, AttrNumber attnum, const char *attname)
{
	List	   *options = GetForeignColumnOptions(foreigntableid, attnum);
	char	   *name = find_option(options, "column_name");

	return name ? name : pstrdup(attname);
}
