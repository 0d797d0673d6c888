/*-------------------------------------------------------------------------
 *
 * import.c
 *	  IMPORT FOREIGN SCHEMA: one foreign table per dataset under a root.
 *
 * The remote schema "lance" stands for the server's root itself; any other
 * name is a subdirectory of it (a child namespace in Lance's directory
 * namespace).  Every "<name>.lance" directory there becomes a foreign table
 * <name> whose columns follow the dataset's newest schema, mapped as
 * convert.c maps types.  LIMIT TO and EXCEPT name tables without ".lance".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "fdw/convert.h"
#include "fdw/lance_fdw.h"

#define ROOT_SCHEMA_NAME "lance"

/* Whether the statement's LIMIT TO / EXCEPT lets a table through. */
static bool
table_wanted(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		listed = false;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);

		if (strcmp(rv->relname, name) == 0)
			listed = true;
	}
	return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

/* The CREATE FOREIGN TABLE statement for one dataset. */
static char *
create_table_sql(ImportForeignSchemaStmt *stmt, const char *table, const char *option,
				 const LanceSchema *schema)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE FOREIGN TABLE %s.%s (",
					 quote_identifier(stmt->local_schema), quote_identifier(table));
	for (int i = 0; i < lance_schema_num_top(schema); i++)
	{
		const LanceField *field = lance_schema_top(schema, i);
		char		colname[NAMEDATALEN];

		/* a longer name is truncated; column_name keeps the real one */
		strlcpy(colname, field->name, sizeof(colname));
		appendStringInfo(&sql, "%s\n  %s %s", i > 0 ? "," : "",
						 quote_identifier(colname), lance_field_sql_type(field));
		if (strcmp(colname, field->name) != 0)
			appendStringInfo(&sql, " OPTIONS (column_name %s)", quote_literal_cstr(field->name));
		if (!field->nullable)
			appendStringInfoString(&sql, " NOT NULL");
	}
	appendStringInfo(&sql, "\n) SERVER %s OPTIONS (table %s)",
					 quote_identifier(stmt->server_name), quote_literal_cstr(option));
	return sql.data;
}

/*
 * lanceImportForeignSchema
 *		List the datasets under the root or a subdirectory and describe each.
 */
List *
lanceImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *storage_options = lance_server_storage_options(serverOid, GetUserId());
	char	   *root = NULL;
	bool		at_root = strcmp(stmt->remote_schema, ROOT_SCHEMA_NAME) == 0;
	char	   *dir;
	Storage    *st;
	StorageListing *listing;
	CoreError	err;
	List	   *commands = NIL;
	ListCell   *lc;
	MemoryContext tmp;
	MemoryContext old;

	foreach(lc, server->options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "uri") == 0)
			root = defGetString(def);
	}
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no option \"uri\"", server->servername),
				 errhint("IMPORT FOREIGN SCHEMA lists the datasets under the server's uri.")));
	if (!at_root && (strstr(stmt->remote_schema, "..") || stmt->remote_schema[0] == '/'))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("invalid remote schema \"%s\"", stmt->remote_schema),
				 errdetail("A remote schema is \"%s\" for the server's root or a subdirectory of it.",
						   ROOT_SCHEMA_NAME)));
	dir = at_root ? root : psprintf("%s/%s", root, stmt->remote_schema);

	/* core objects are freed with this context, whatever happens */
	tmp = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw import",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);

	if (lance_storage_open(dir, storage_options, &st, &err) != CORE_OK)
		lance_report_core_error(&err);
	if (storage_list(st, "", &listing, &err) != CORE_OK)
	{
		storage_close(st);
		lance_report_core_error(&err);
	}
	storage_close(st);
	if (listing->count == 0 && !at_root)
	{
		storage_listing_free(listing);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("remote schema \"%s\" does not exist under \"%s\"",
						stmt->remote_schema, root)));
	}

	PG_TRY();
	{
		for (size_t i = 0; i < listing->count; i++)
		{
			StorageEntry *entry = &listing->entries[i];
			size_t		len = strlen(entry->name);
			char	   *table;
			LanceSource *src;
			char	   *sql;

			if (!entry->is_dir || len <= 6 || strcmp(entry->name + len - 6, ".lance") != 0)
				continue;
			table = pnstrdup(entry->name, len - 6);
			if (!table_wanted(stmt, table))
				continue;

			src = lance_source_open(psprintf("%s/%s", dir, entry->name), 0, storage_options);
			sql = create_table_sql(stmt, table,
								   at_root ? table : psprintf("%s/%s", stmt->remote_schema, table),
								   lance_source_schema(src));
			MemoryContextSwitchTo(old);
			commands = lappend(commands, pstrdup(sql));
			MemoryContextSwitchTo(tmp);
		}
	}
	PG_FINALLY();
	{
		storage_listing_free(listing);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return commands;
}
