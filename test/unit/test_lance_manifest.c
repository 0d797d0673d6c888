/*-------------------------------------------------------------------------
 *
 * test_lance_manifest.c
 *	  Manifests, version names, schemas and logical types.
 *
 * Most tests build a manifest with protobuf-c from our own messages, so
 * each one says exactly which field is wrong.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "lance/manifest.h"
#include "lance_table.pb-c.h"
#include "lance_testutil.h"
#include "unit.h"

/* The file bytes of a manifest: [u32 len][protobuf][u64 pos][0][2]["LANC"]. */
static uint8_t *
manifest_file(const Lt__Manifest *m, size_t *len)
{
	size_t		plen = lt__manifest__get_packed_size(m);
	uint8_t    *buf = calloc(1, plen + 20);

	buf[0] = (uint8_t) plen;
	buf[1] = (uint8_t) (plen >> 8);
	buf[2] = (uint8_t) (plen >> 16);
	buf[3] = (uint8_t) (plen >> 24);
	lt__manifest__pack(m, buf + 4);
	/* manifest_pos = 0, major 0, minor 2 */
	buf[plen + 4 + 10] = 2;
	memcpy(buf + plen + 4 + 12, "LANC", 4);
	*len = plen + 20;
	return buf;
}

/* A small valid manifest: id int32, name string, one fragment of 10 rows. */
typedef struct TestManifest
{
	Lt__Manifest m;
	Lt__Field	f0;
	Lt__Field	f1;
	Lt__Field  *fields[2];
	Lt__DataFragment frag;
	Lt__DataFragment *frags[1];
	Lt__DataFile file;
	Lt__DataFile *files[1];
	int32_t		ids[2];
	int32_t		cols[2];
	Lt__DataStorageFormat fmt;
} TestManifest;

static void
test_manifest_init(TestManifest *t)
{
	lt__manifest__init(&t->m);
	lt__field__init(&t->f0);
	lt__field__init(&t->f1);
	t->f0.name = "id";
	t->f0.has_id = true;
	t->f0.id = 0;
	t->f0.has_parent_id = true;
	t->f0.parent_id = -1;
	t->f0.logical_type = "int32";
	t->f1.name = "name";
	t->f1.has_id = true;
	t->f1.id = 1;
	t->f1.has_parent_id = true;
	t->f1.parent_id = -1;
	t->f1.logical_type = "string";
	t->f1.has_nullable = true;
	t->f1.nullable = true;
	t->fields[0] = &t->f0;
	t->fields[1] = &t->f1;
	t->m.n_fields = 2;
	t->m.fields = t->fields;
	t->m.has_version = true;
	t->m.version = 3;

	lt__data_file__init(&t->file);
	t->file.path = "abc.lance";
	t->ids[0] = 0;
	t->ids[1] = 1;
	t->cols[0] = 0;
	t->cols[1] = 1;
	t->file.n_fields = 2;
	t->file.fields = t->ids;
	t->file.n_column_indices = 2;
	t->file.column_indices = t->cols;
	t->file.has_file_major_version = true;
	t->file.file_major_version = 2;
	t->file.has_file_minor_version = true;
	t->file.file_minor_version = 2;
	t->files[0] = &t->file;
	lt__data_fragment__init(&t->frag);
	t->frag.n_files = 1;
	t->frag.files = t->files;
	t->frag.has_physical_rows = true;
	t->frag.physical_rows = 10;
	t->frags[0] = &t->frag;
	t->m.n_fragments = 1;
	t->m.fragments = t->frags;
	lt__data_storage_format__init(&t->fmt);
	t->fmt.file_format = "lance";
	t->fmt.version = "2.2";
	t->m.data_format = &t->fmt;
}

static CoreStatus
parse(const Lt__Manifest *m, LanceManifest **out, CoreError *err)
{
	size_t		len;
	uint8_t    *bytes = manifest_file(m, &len);
	CoreStatus	status = lance_manifest_parse(bytes, len, "_versions/3.manifest", out, err);

	free(bytes);
	return status;
}

UNIT_TEST(manifest_round_trip_gives_schema_fragments_and_files)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;
	const LanceField *name;

	test_manifest_init(&t);
	CHECK_MSG(parse(&t.m, &m, &err) == CORE_OK, "%s", err.msg);
	CHECK(m->version == 3);
	CHECK(strcmp(m->data_format, "2.2") == 0);
	CHECK(lance_schema_num_top(m->schema) == 2);
	name = lance_schema_find_top(m->schema, "name");
	CHECK(name && name->id == 1 && name->nullable && name->type.id == LANCE_TYPE_STRING);
	CHECK(m->num_fragments == 1 && m->fragments[0].physical_rows == 10);
	CHECK(strcmp(m->fragments[0].files[0].path, "data/abc.lance") == 0);
	CHECK(m->fragments[0].files[0].column_indices[1] == 1);
	lance_manifest_free(m);
}

UNIT_TEST(unknown_reader_feature_flag_is_refused_naming_the_flag)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;

	test_manifest_init(&t);
	t.m.has_reader_feature_flags = true;
	t.m.reader_feature_flags = 64 | 1;
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_UNSUPPORTED);
	CHECK_MSG(strstr(err.msg, "64") && strstr(err.msg, "overlay") &&
			  strstr(err.msg, "_versions/3.manifest"), "%s", err.msg);

	t.m.reader_feature_flags = UINT64_C(1) << 40;
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_UNSUPPORTED);
	CHECK_MSG(strstr(err.msg, "1099511627776") != NULL, "%s", err.msg);
}

UNIT_TEST(known_reader_feature_flags_are_accepted)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;

	test_manifest_init(&t);
	t.m.has_reader_feature_flags = true;
	t.m.reader_feature_flags = 1 | 2 | 4 | 8 | 32 | 128 | 256;
	CHECK_MSG(parse(&t.m, &m, &err) == CORE_OK, "%s", err.msg);
	lance_manifest_free(m);
}

UNIT_TEST(manifest_with_wrong_magic_is_an_error_naming_the_file)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;
	size_t		len;
	uint8_t    *bytes;
	CoreStatus	status;

	test_manifest_init(&t);
	bytes = manifest_file(&t.m, &len);
	bytes[len - 1] = 'X';
	status = lance_manifest_parse(bytes, len, "_versions/9.manifest", &m, &err);
	free(bytes);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "_versions/9.manifest") && strstr(err.msg, "LANC"), "%s", err.msg);
}

UNIT_TEST(truncated_manifest_is_an_error)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;
	size_t		len;
	uint8_t    *bytes;

	test_manifest_init(&t);
	bytes = manifest_file(&t.m, &len);
	/* every shorter prefix fails cleanly */
	for (size_t cut = 0; cut < len; cut++)
		CHECK_MSG(lance_manifest_parse(bytes, cut, "m", &m, &err) != CORE_OK, "prefix %zu parsed", cut);
	free(bytes);
}

UNIT_TEST(manifest_length_prefix_must_match_the_footer)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;
	size_t		len;
	uint8_t    *bytes;
	CoreStatus	status;

	test_manifest_init(&t);
	bytes = manifest_file(&t.m, &len);
	bytes[0] ^= 1;
	status = lance_manifest_parse(bytes, len, "m", &m, &err);
	free(bytes);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "bytes") != NULL, "%s", err.msg);
}

UNIT_TEST(manifest_with_bad_protobuf_is_an_error)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;
	size_t		len;
	uint8_t    *bytes;
	CoreStatus	status;

	test_manifest_init(&t);
	bytes = manifest_file(&t.m, &len);
	/* a length-delimited field running past the message */
	bytes[4] = 0x0a;
	bytes[5] = 0x7f;
	status = lance_manifest_parse(bytes, len, "m", &m, &err);
	free(bytes);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "protobuf") != NULL, "%s", err.msg);
}

UNIT_TEST(data_file_paths_that_leave_the_dataset_are_refused)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;

	test_manifest_init(&t);
	t.file.path = "../../../etc/passwd";
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_CORRUPT);
	t.file.path = "/etc/passwd";
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_CORRUPT);
	t.file.path = "";
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "relative path") != NULL, "%s", err.msg);
}

UNIT_TEST(schema_child_must_name_an_earlier_parent)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;

	test_manifest_init(&t);
	t.f0.parent_id = 1;			/* a parent that comes later (and is a string) */
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "\"id\"") != NULL, "%s", err.msg);
}

UNIT_TEST(unknown_logical_type_is_unsupported_naming_field_and_type)
{
	TestManifest t;
	LanceManifest *m;
	CoreError	err;

	test_manifest_init(&t);
	t.f1.logical_type = "dict:string:int8:false";
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_UNSUPPORTED);
	CHECK_MSG(strstr(err.msg, "\"name\"") && strstr(err.msg, "dict:string"), "%s", err.msg);
}

UNIT_TEST(deletion_file_reference_gets_its_path)
{
	TestManifest t;
	Lt__DeletionFile del;
	LanceManifest *m;
	CoreError	err;

	test_manifest_init(&t);
	lt__deletion_file__init(&del);
	del.has_file_type = true;
	del.file_type = 1;
	del.has_read_version = true;
	del.read_version = 4;
	del.has_id = true;
	del.id = 77;
	del.has_num_deleted_rows = true;
	del.num_deleted_rows = 3;
	t.frag.has_id = true;
	t.frag.id = 5;
	t.frag.deletion_file = &del;
	CHECK_MSG(parse(&t.m, &m, &err) == CORE_OK, "%s", err.msg);
	CHECK(m->fragments[0].has_deletion);
	CHECK(strcmp(m->fragments[0].deletion.path, "_deletions/5-4-77.bin") == 0);
	lance_manifest_free(m);

	del.num_deleted_rows = 11;	/* more than the fragment's 10 rows */
	CHECK(parse(&t.m, &m, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(version_names_parse_in_both_schemes)
{
	uint64_t	v;
	bool		v2;
	char		buf[64];

	CHECK(lance_version_name_parse("18446744073709551614.manifest", &v, &v2) && v == 1 && v2);
	CHECK(lance_version_name_parse("18446744073709551609.manifest", &v, &v2) && v == 6 && v2);
	CHECK(lance_version_name_parse("12.manifest", &v, &v2) && v == 12 && !v2);
	CHECK(!lance_version_name_parse("d12.manifest", &v, &v2));
	CHECK(!lance_version_name_parse("12.manifest-1b2c", &v, &v2));
	CHECK(!lance_version_name_parse("latest_version_hint.json", &v, &v2));
	CHECK(!lance_version_name_parse(".manifest", &v, &v2));
	CHECK(!lance_version_name_parse("99999999999999999999.manifest", &v, &v2));
	lance_version_name(6, true, buf, sizeof(buf));
	CHECK(strcmp(buf, "18446744073709551609.manifest") == 0);
	lance_version_name(6, false, buf, sizeof(buf));
	CHECK(strcmp(buf, "6.manifest") == 0);
}

UNIT_TEST(logical_types_parse_to_widths_units_and_items)
{
	LanceType	t;

	CHECK(lance_type_parse("timestamp:ms:UTC", &t) && t.id == LANCE_TYPE_TIMESTAMP &&
		  t.unit == LANCE_UNIT_MS && t.byte_width == 8 && strcmp(t.timezone, "UTC") == 0);
	lance_type_release(&t);
	CHECK(lance_type_parse("timestamp:us:-", &t) && t.timezone == NULL);
	CHECK(lance_type_parse("fixed_size_list:float:128", &t) && t.fixed_size == 128 &&
		  t.item->id == LANCE_TYPE_FLOAT32 && t.byte_width == 512);
	lance_type_release(&t);
	CHECK(lance_type_parse("decimal:128:38:-2", &t) && t.precision == 38 && t.scale == -2 &&
		  t.byte_width == 16);
	CHECK(lance_type_parse("fixed_size_binary:16", &t) && t.byte_width == 16);
	CHECK(lance_type_parse("date32:day", &t) && t.byte_width == 4);
	CHECK(lance_type_parse("time64:ns", &t) && t.id == LANCE_TYPE_TIME64);
	CHECK(!lance_type_parse("time32:ns", &t));
	CHECK(!lance_type_parse("fixed_size_list:string:4", &t));
	CHECK(!lance_type_parse("fixed_size_list:float:0", &t));
	CHECK(!lance_type_parse("int33", &t));
}

UNIT_TEST(versions_of_a_v1_named_fixture_are_listed_in_order)
{
	char		path[1024];
	Storage    *st;
	LanceVersionList *vl;
	CoreError	err;

	if (!tu_fixture_path("manifest_v1_names.lance", path, sizeof(path)))
		return;					/* needs LANCEDB_FIXTURES */
	CHECK(storage_open(path, &st, &err) == CORE_OK);
	CHECK_MSG(lance_versions_list(st, "", &vl, &err) == CORE_OK, "%s", err.msg);
	CHECK(vl->count == 2 && vl->entries[0].version == 1 && vl->entries[1].version == 2);
	CHECK(strcmp(vl->entries[1].path, "_versions/2.manifest") == 0);
	lance_versions_free(vl);
	storage_close(st);
}
