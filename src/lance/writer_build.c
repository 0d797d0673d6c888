/*-------------------------------------------------------------------------
 *
 * writer_build.c
 *	  Filling arrays value by value, random names, what can be written.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lance/writer_int.h"

CoreStatus
lance_file_version_parse(const char *data_format, LanceFileVersion *out, CoreError *err)
{
	if (strcmp(data_format, "2.0") == 0)
		*out = LANCE_FILE_V2_0;
	else if (strcmp(data_format, "2.1") == 0)
		*out = LANCE_FILE_V2_1;
	else if (strcmp(data_format, "2.2") == 0)
		*out = LANCE_FILE_V2_2;
	else
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "data file version \"%s\" cannot be written; supported versions are 2.0, 2.1 and 2.2",
						  data_format);
	return CORE_OK;
}

const char *
lance_file_version_name(LanceFileVersion v)
{
	switch (v)
	{
		case LANCE_FILE_V2_0:
			return "2.0";
		case LANCE_FILE_V2_1:
			return "2.1";
		case LANCE_FILE_V2_2:
			return "2.2";
	}
	return "?";
}

/* Whether values of a leaf type are fixed-width bytes we can copy. */
static bool
writable_fixed(const LanceType *t)
{
	switch (t->id)
	{
		case LANCE_TYPE_INT8:
		case LANCE_TYPE_INT16:
		case LANCE_TYPE_INT32:
		case LANCE_TYPE_INT64:
		case LANCE_TYPE_UINT8:
		case LANCE_TYPE_UINT16:
		case LANCE_TYPE_UINT32:
		case LANCE_TYPE_UINT64:
		case LANCE_TYPE_FLOAT16:
		case LANCE_TYPE_FLOAT32:
		case LANCE_TYPE_FLOAT64:
		case LANCE_TYPE_DATE32:
		case LANCE_TYPE_DATE64:
		case LANCE_TYPE_TIME32:
		case LANCE_TYPE_TIME64:
		case LANCE_TYPE_TIMESTAMP:
		case LANCE_TYPE_DURATION:
		case LANCE_TYPE_DECIMAL128:
		case LANCE_TYPE_DECIMAL256:
		case LANCE_TYPE_FIXED_SIZE_BINARY:
			return t->byte_width > 0;
		default:
			return false;
	}
}

/* Whether values of a leaf type are variable-width bytes (strings, binaries). */
static bool
writable_variable(const LanceType *t)
{
	return t->id == LANCE_TYPE_STRING || t->id == LANCE_TYPE_LARGE_STRING ||
		t->id == LANCE_TYPE_BINARY || t->id == LANCE_TYPE_LARGE_BINARY;
}

/* Whether a list's items can be written: scalars, not bools or lists. */
static bool
writable_list_item(const LanceType *t)
{
	return writable_fixed(t) || writable_variable(t);
}

/*
 * Whether a list's items may be lists in turn (two list layers): lists of
 * scalars, or fixed-size lists of fixed-width values other than decimals
 * (written from jsonb through Postgres arrays, which write no decimal
 * fixed-size list).
 */
static bool
writable_inner_list(const LanceField *f)
{
	const LanceType *t = &f->type;

	if (t->id == LANCE_TYPE_FIXED_SIZE_LIST)
		return t->item != NULL && writable_fixed(t->item) && t->fixed_size > 0 &&
			t->item->id != LANCE_TYPE_DECIMAL128 && t->item->id != LANCE_TYPE_DECIMAL256;
	return t->id == LANCE_TYPE_LIST && f->num_children == 1 &&
		writable_list_item(&f->children[0]->type);
}

/*
 * Whether a struct can be written: members of scalar types, each a column
 * of its own, lists of scalars (not in a list's items: lists do not
 * nest), or structs of such members, at most WRITER_MAX_STRUCT_DEPTH deep
 * (depth counts f).  Otherwise *bad is the member that cannot be (f
 * itself when too deep or empty).
 */
static bool
writable_struct(const LanceField *f, int depth, bool in_list, const LanceField **bad)
{
	*bad = f;
	if (f->num_children == 0 || depth > WRITER_MAX_STRUCT_DEPTH)
		return false;
	for (int c = 0; c < f->num_children; c++)
	{
		const LanceField *m = f->children[c];
		const LanceType *t = &m->type;
		bool		ok;

		if (t->id == LANCE_TYPE_STRUCT)
		{
			if (!writable_struct(m, depth + 1, in_list, bad))
				return false;
			continue;
		}
		if (t->id == LANCE_TYPE_LIST)
			ok = !in_list && m->num_children == 1 && writable_list_item(&m->children[0]->type);
		else
			ok = t->id == LANCE_TYPE_BOOL || writable_fixed(t) || writable_variable(t);
		if (!ok)
		{
			*bad = m;
			return false;
		}
	}
	return true;
}

CoreStatus
lance_write_check_schema(const LanceSchema *schema, CoreError *err)
{
	for (int i = 0; i < lance_schema_num_top(schema); i++)
	{
		const LanceField *f = lance_schema_top(schema, i);
		const LanceType *t = &f->type;
		bool		ok;

		switch (t->id)
		{
			case LANCE_TYPE_BOOL:
			case LANCE_TYPE_STRING:
			case LANCE_TYPE_LARGE_STRING:
			case LANCE_TYPE_BINARY:
			case LANCE_TYPE_LARGE_BINARY:
				ok = true;
				break;
			case LANCE_TYPE_FIXED_SIZE_LIST:
				ok = t->item != NULL && writable_fixed(t->item) && t->fixed_size > 0;
				break;
			case LANCE_TYPE_LIST:
				{
					const LanceField *bad;

					ok = f->num_children == 1 &&
						(writable_list_item(&f->children[0]->type) ||
						 writable_inner_list(f->children[0]) ||
						 (f->children[0]->type.id == LANCE_TYPE_STRUCT &&
						  writable_struct(f->children[0], 1, true, &bad)));
					if (!ok && f->num_children == 1 &&
						f->children[0]->type.id == LANCE_TYPE_STRUCT && bad != f->children[0])
						return core_error(err, CORE_ERR_UNSUPPORTED,
										  "list field \"%s\" has struct items with a member \"%s\" of type %s, which the writer does not support there",
										  f->name, bad->name, bad->logical_type);
				}
				break;
			case LANCE_TYPE_STRUCT:
				{
					const LanceField *bad;

					ok = writable_struct(f, 1, false, &bad);
					if (!ok && bad != f)
						return core_error(err, CORE_ERR_UNSUPPORTED,
										  "struct field \"%s\" has a member \"%s\" of type %s, which the writer does not support in a struct",
										  f->name, bad->name, bad->logical_type);
				}
				break;
			default:
				ok = writable_fixed(t);
				break;
		}
		if (!ok)
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "field \"%s\" has type %s, which the writer does not support",
							  f->name, f->logical_type);
	}
	return CORE_OK;
}

static CoreStatus
random_bytes(uint8_t *buf, size_t len, CoreError *err)
{
	size_t		got = 0;

	while (got < len)
	{
		ssize_t		n = getrandom(buf + got, len - got, 0);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return core_error(err, CORE_ERR_IO, "getrandom failed: %s", strerror(errno));
		}
		got += (size_t) n;
	}
	return CORE_OK;
}

CoreStatus
lance_random_file_name(char *buf, size_t buflen, CoreError *err)
{
	uint8_t		u[16];
	size_t		pos = 0;
	CoreStatus	status;

	if (buflen < 51)
		return core_error(err, CORE_ERR_INVALID, "file name buffer too small");
	status = random_bytes(u, sizeof(u), err);
	if (status != CORE_OK)
		return status;
	/* first 3 bytes as 24 binary digits, the other 13 as hex (FORMAT.md 2) */
	for (int i = 0; i < 3; i++)
		for (int b = 7; b >= 0; b--)
			buf[pos++] = (char) ('0' + ((u[i] >> b) & 1));
	for (int i = 3; i < 16; i++)
		pos += (size_t) snprintf(buf + pos, buflen - pos, "%02x", u[i]);
	snprintf(buf + pos, buflen - pos, ".lance");
	return CORE_OK;
}

CoreStatus
lance_random_uuid(char *buf, size_t buflen, CoreError *err)
{
	uint8_t		u[16];
	CoreStatus	status;

	if (buflen < 37)
		return core_error(err, CORE_ERR_INVALID, "uuid buffer too small");
	status = random_bytes(u, sizeof(u), err);
	if (status != CORE_OK)
		return status;
	u[6] = (uint8_t) ((u[6] & 0x0f) | 0x40);	/* version 4 */
	u[8] = (uint8_t) ((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(buf, buflen,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
	return CORE_OK;
}

CoreStatus
lance_random_u64(uint64_t *out, CoreError *err)
{
	return random_bytes((uint8_t *) out, sizeof(*out), err);
}

/* Mark the row about to be pushed as valid when the array tracks nulls. */
static void
mark_valid(LanceArray *a)
{
	if (a->validity)
		lance_bit_set(a->validity, a->length, true);
}

CoreStatus
lance_array_push_fixed(LanceArray *a, const void *value, CoreError *err)
{
	int64_t		w = a->type->byte_width;
	CoreStatus	status = lance_array_reserve(a, 1, 0, err);

	if (status != CORE_OK)
		return status;
	memcpy(a->values + a->length * w, value, (size_t) w);
	mark_valid(a);
	a->length++;
	a->values_size = a->length * w;
	return CORE_OK;
}

CoreStatus
lance_array_push_bool(LanceArray *a, bool value, CoreError *err)
{
	CoreStatus	status = lance_array_reserve(a, 1, 0, err);

	if (status != CORE_OK)
		return status;
	lance_bit_set(a->values, a->length, value);
	mark_valid(a);
	a->length++;
	a->values_size = (a->length + 7) / 8;
	return CORE_OK;
}

CoreStatus
lance_array_push_bytes(LanceArray *a, const void *data, size_t len, CoreError *err)
{
	int64_t		end;
	CoreStatus	status;

	end = lance_array_offset(a, a->length) + (int64_t) len;
	if (!lance_array_large_offsets(a) && end > INT32_MAX)
		return core_error(err, CORE_ERR_INVALID,
						  "more than 2 GB of %s values in one buffer", lance_type_name(a->type->id));
	status = lance_array_reserve(a, 1, (int64_t) len, err);
	if (status != CORE_OK)
		return status;
	if (len > 0)
		memcpy(a->values + a->values_size, data, len);
	a->values_size += (int64_t) len;
	if (lance_array_large_offsets(a))
		((int64_t *) a->offsets)[a->length + 1] = end;
	else
		((int32_t *) a->offsets)[a->length + 1] = (int32_t) end;
	mark_valid(a);
	a->length++;
	return CORE_OK;
}

CoreStatus
lance_array_push_fsl(LanceArray *a, const void *items, CoreError *err)
{
	LanceArray *child = a->children[0];
	int64_t		w = child->type->byte_width;
	int64_t		n = a->type->fixed_size;
	CoreStatus	status;

	status = lance_array_reserve(a, 1, 0, err);
	if (status == CORE_OK)
		status = lance_array_reserve(child, n, 0, err);
	if (status != CORE_OK)
		return status;
	memcpy(child->values + child->length * w, items, (size_t) (n * w));
	if (child->validity)
		for (int64_t i = 0; i < n; i++)
			lance_bit_set(child->validity, child->length + i, true);
	child->length += n;
	child->values_size = child->length * w;
	mark_valid(a);
	a->length++;
	return CORE_OK;
}

CoreStatus
lance_array_push_list(LanceArray *a, const void *items, const bool *nulls, int64_t n,
					  CoreError *err)
{
	LanceArray *child = a->children[0];
	int64_t		w = child->type->byte_width;
	CoreStatus	status = CORE_OK;

	if (child->length + n > INT32_MAX)
		return core_error(err, CORE_ERR_INVALID, "more than 2^31 list items in one buffer");
	for (int64_t i = 0; i < n && status == CORE_OK; i++)
		status = nulls && nulls[i] ? lance_array_append_nulls(child, 1, err)
			: lance_array_push_fixed(child, (const uint8_t *) items + i * w, err);
	return status == CORE_OK ? lance_array_push_list_end(a, err) : status;
}

CoreStatus
lance_array_push_struct_end(LanceArray *a, CoreError *err)
{
	CoreStatus	status = lance_array_reserve(a, 1, 0, err);

	if (status != CORE_OK)
		return status;
	mark_valid(a);
	a->length++;
	return CORE_OK;
}

CoreStatus
lance_array_push_list_end(LanceArray *a, CoreError *err)
{
	int64_t		end = a->children[0]->length;
	CoreStatus	status;

	if (end > INT32_MAX)
		return core_error(err, CORE_ERR_INVALID, "more than 2^31 list items in one buffer");
	status = lance_array_reserve(a, 1, 0, err);
	if (status != CORE_OK)
		return status;
	((int32_t *) a->offsets)[a->length + 1] = (int32_t) end;
	mark_valid(a);
	a->length++;
	return CORE_OK;
}

int64_t
lance_array_bytes(const LanceArray *a)
{
	int64_t		total = a->values_size + (a->validity ? (a->length + 7) / 8 : 0);

	if (a->offsets)
		total += (a->length + 1) * (lance_array_large_offsets(a) ? 8 : 4);
	for (int i = 0; i < a->num_children; i++)
		total += lance_array_bytes(a->children[i]);
	return total;
}
