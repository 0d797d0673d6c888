/*-------------------------------------------------------------------------
 *
 * create.c
 *	  Creating an empty Lance dataset: version 1, a schema, no fragments.
 *
 * The manifest is what LanceDB writes for an empty table (FORMAT.md
 * 4.2): fields, version 1, timestamp, writer version and data format; no
 * max_fragment_id (the table never had a fragment).  Its transaction is
 * an Overwrite read at version 0, as LanceDB's table creation.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "lance/commit.h"
#include "lance/path.h"
#include "lance_table.pb-c.h"
#include "lance_txn.pb-c.h"

/* Pack msg and store it at dir/name with put-if-absent. */
static CoreStatus
put_packed(Storage *st, const char *path, const uint8_t *prefix, size_t prefix_len,
		   const ProtobufCMessage *msg, bool manifest, CoreError *err)
{
	size_t		len = protobuf_c_message_get_packed_size(msg);
	size_t		total = manifest ? 4 + len + 16 : len;
	uint8_t    *buf = core_malloc(total + prefix_len);
	CoreStatus	status;

	if (buf == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory creating a dataset");
	memcpy(buf, prefix, prefix_len);
	if (manifest)
	{
		uint32_t	l32 = (uint32_t) len;
		uint64_t	pos = 0;
		uint16_t	major = 0;
		uint16_t	minor = 2;

		memcpy(buf, &l32, 4);
		protobuf_c_message_pack(msg, buf + 4);
		memcpy(buf + 4 + len, &pos, 8);
		memcpy(buf + 12 + len, &major, 2);
		memcpy(buf + 14 + len, &minor, 2);
		memcpy(buf + 16 + len, "LANC", 4);
	}
	else
		protobuf_c_message_pack(msg, buf);
	status = storage_put_if_absent(st, path, buf, total, err);
	core_free(buf);
	return status;
}

CoreStatus
lance_dataset_create(Storage *st, const char *path, const LanceFieldSpec *specs, int num_fields,
					 LanceFileVersion version, CoreError *err)
{
	LanceFieldSpec *numbered = core_calloc((size_t) num_fields + 1, sizeof(LanceFieldSpec));
	Lt__Field  *fields = core_calloc((size_t) num_fields + 1, sizeof(Lt__Field));
	Lt__Field **ptrs = core_calloc((size_t) num_fields + 1, sizeof(Lt__Field *));
	LanceSchema *schema = NULL;
	Lt__Manifest m = LT__MANIFEST__INIT;
	Lt__Timestamp ts = LT__TIMESTAMP__INIT;
	Lt__WriterVersion wv = LT__WRITER_VERSION__INIT;
	Lt__DataStorageFormat df = LT__DATA_STORAGE_FORMAT__INIT;
	Ltx__Transaction txn = LTX__TRANSACTION__INIT;
	Ltx__Opaque overwrite = LTX__OPAQUE__INIT;
	LanceVersionList *existing = NULL;
	struct timespec now;
	char		uuid[40];
	char		txn_name[96];
	char		rel[160];
	char		vname[64];
	char	   *p = NULL;
	CoreStatus	status;

	if (numbered == NULL || fields == NULL || ptrs == NULL)
	{
		status = core_error(err, CORE_ERR_NOMEM, "out of memory creating a dataset");
		goto done;
	}
	if (num_fields == 0)
	{
		status = core_error(err, CORE_ERR_INVALID, "%s: a dataset needs at least one column", path);
		goto done;
	}
	status = lance_versions_list(st, path, &existing, err);
	if (status == CORE_OK)
	{
		lance_versions_free(existing);
		status = core_error(err, CORE_ERR_CONFLICT, "%s/%s: a dataset already exists there",
							storage_root(st), path);
		goto done;
	}
	if (status != CORE_ERR_NOT_FOUND)
		goto done;
	for (int i = 0; i < num_fields; i++)
	{
		numbered[i] = specs[i];
		numbered[i].id = i;
		/* a child names its parent by position, which comes before it */
		if (specs[i].parent_id < -1 || specs[i].parent_id >= i)
		{
			status = core_error(err, CORE_ERR_INVALID,
								"%s: field \"%s\" names parent %d, not a field before it",
								path, specs[i].name, (int) specs[i].parent_id);
			goto done;
		}
	}
	status = lance_schema_build(numbered, num_fields, path, &schema, err);
	if (status == CORE_OK)
		status = lance_write_check_schema(schema, err);
	if (status != CORE_OK)
		goto done;
	for (int i = 0; i < num_fields; i++)
	{
		Lt__Field	init = LT__FIELD__INIT;
		const LanceField *f = lance_schema_field(schema, i);
		LanceTypeId id = f->type.id;

		fields[i] = init;
		fields[i].name = (char *) f->name;
		fields[i].has_id = f->id != 0;
		fields[i].id = f->id;
		fields[i].has_parent_id = 1;
		fields[i].parent_id = f->parent_id;
		fields[i].logical_type = (char *) f->logical_type;
		fields[i].has_nullable = f->nullable;
		fields[i].nullable = f->nullable;
		/* the legacy encoding hint, none for structs (FORMAT.md 4.3) */
		fields[i].has_encoding = id != LANCE_TYPE_STRUCT;
		fields[i].encoding = (id == LANCE_TYPE_STRING || id == LANCE_TYPE_LARGE_STRING ||
							  id == LANCE_TYPE_BINARY || id == LANCE_TYPE_LARGE_BINARY) ? 2 : 1;
		ptrs[i] = &fields[i];
	}

	status = lance_random_uuid(uuid, sizeof(uuid), err);
	if (status != CORE_OK)
		goto done;
	txn.has_read_version = 0;
	txn.uuid = uuid;
	txn.operation_case = LTX__TRANSACTION__OPERATION_OVERWRITE;
	txn.overwrite = &overwrite;
	snprintf(txn_name, sizeof(txn_name), "0-%s.txn", uuid);
	snprintf(rel, sizeof(rel), "_transactions/%s", txn_name);
	p = lance_path_join(path, rel);
	status = p ? put_packed(st, p, NULL, 0, &txn.base, false, err)
		: core_error(err, CORE_ERR_NOMEM, "out of memory creating a dataset");
	core_free(p);
	p = NULL;
	if (status != CORE_OK)
		goto done;

	clock_gettime(CLOCK_REALTIME, &now);
	ts.has_seconds = 1;
	ts.seconds = now.tv_sec;
	ts.has_nanos = 1;
	ts.nanos = (int32_t) now.tv_nsec;
	wv.library = "lancedb_fdw";
	wv.version = "0.1.0";
	df.file_format = "lance";
	df.version = (char *) lance_file_version_name(version);
	m.n_fields = (size_t) num_fields;
	m.fields = ptrs;
	m.has_version = 1;
	m.version = 1;
	m.timestamp = &ts;
	m.writer_version = &wv;
	m.data_format = &df;
	m.transaction_file = txn_name;
	lance_version_name(1, true, vname, sizeof(vname));
	snprintf(rel, sizeof(rel), "_versions/%s", vname);
	p = lance_path_join(path, rel);
	status = p ? put_packed(st, p, NULL, 0, &m.base, true, err)
		: core_error(err, CORE_ERR_NOMEM, "out of memory creating a dataset");
done:
	core_free(p);
	lance_schema_free(schema);
	core_free(numbered);
	core_free(fields);
	core_free(ptrs);
	return status;
}
