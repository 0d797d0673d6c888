/*-------------------------------------------------------------------------
 *
 * schema.c
 *	  Lance schemas: logical type strings and the field tree.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/schema.h"

/* Deepest nesting accepted; real schemas are a few levels deep. */
#define LANCE_MAX_FIELD_DEPTH 64

struct LanceSchema
{
	int			num_fields;
	LanceField *fields;			/* pre-order */
	int			num_top;
	const LanceField **top;
	char	  **strings;		/* names and type strings we own */
	int			num_strings;
};

typedef struct SimpleType
{
	const char *name;
	LanceTypeId id;
	int32_t		width;
} SimpleType;

static const SimpleType simple_types[] = {
	{"null", LANCE_TYPE_NULL, 0},
	{"bool", LANCE_TYPE_BOOL, 0},
	{"int8", LANCE_TYPE_INT8, 1},
	{"int16", LANCE_TYPE_INT16, 2},
	{"int32", LANCE_TYPE_INT32, 4},
	{"int64", LANCE_TYPE_INT64, 8},
	{"uint8", LANCE_TYPE_UINT8, 1},
	{"uint16", LANCE_TYPE_UINT16, 2},
	{"uint32", LANCE_TYPE_UINT32, 4},
	{"uint64", LANCE_TYPE_UINT64, 8},
	{"halffloat", LANCE_TYPE_FLOAT16, 2},
	{"float", LANCE_TYPE_FLOAT32, 4},
	{"double", LANCE_TYPE_FLOAT64, 8},
	{"string", LANCE_TYPE_STRING, 0},
	{"large_string", LANCE_TYPE_LARGE_STRING, 0},
	{"binary", LANCE_TYPE_BINARY, 0},
	{"large_binary", LANCE_TYPE_LARGE_BINARY, 0},
	{"json", LANCE_TYPE_LARGE_BINARY, 0},
	{"struct", LANCE_TYPE_STRUCT, 0},
	{"list", LANCE_TYPE_LIST, 0},
	{"large_list", LANCE_TYPE_LARGE_LIST, 0},
	{"list.struct", LANCE_TYPE_LIST, 0},
	{"large_list.struct", LANCE_TYPE_LARGE_LIST, 0},
	{"date32:day", LANCE_TYPE_DATE32, 4},
	{"date64:ms", LANCE_TYPE_DATE64, 8},
	{NULL, 0, 0}
};

static bool
parse_unit(const char *s, size_t len, LanceTimeUnit *unit)
{
	if (len == 1 && s[0] == 's')
		*unit = LANCE_UNIT_S;
	else if (len == 2 && memcmp(s, "ms", 2) == 0)
		*unit = LANCE_UNIT_MS;
	else if (len == 2 && memcmp(s, "us", 2) == 0)
		*unit = LANCE_UNIT_US;
	else if (len == 2 && memcmp(s, "ns", 2) == 0)
		*unit = LANCE_UNIT_NS;
	else
		return false;
	return true;
}

/* A positive decimal integer that fills the whole string. */
static bool
parse_int(const char *s, int32_t max, int32_t *out)
{
	char	   *end;
	long		v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return false;
	*out = (int32_t) v;
	return true;
}

bool
lance_type_parse(const char *lt, LanceType *type)
{
	memset(type, 0, sizeof(*type));
	if (lt == NULL)
		return false;
	for (int i = 0; simple_types[i].name; i++)
	{
		if (strcmp(lt, simple_types[i].name) == 0)
		{
			type->id = simple_types[i].id;
			type->byte_width = simple_types[i].width;
			return true;
		}
	}
	if (strncmp(lt, "time32:", 7) == 0 || strncmp(lt, "time64:", 7) == 0)
	{
		bool		is64 = lt[5] == '6';

		if (!parse_unit(lt + 7, strlen(lt + 7), &type->unit))
			return false;
		if (is64 != (type->unit == LANCE_UNIT_US || type->unit == LANCE_UNIT_NS))
			return false;
		type->id = is64 ? LANCE_TYPE_TIME64 : LANCE_TYPE_TIME32;
		type->byte_width = is64 ? 8 : 4;
		return true;
	}
	if (strncmp(lt, "duration:", 9) == 0)
	{
		if (!parse_unit(lt + 9, strlen(lt + 9), &type->unit))
			return false;
		type->id = LANCE_TYPE_DURATION;
		type->byte_width = 8;
		return true;
	}
	if (strncmp(lt, "timestamp:", 10) == 0)
	{
		const char *u = lt + 10;
		const char *colon = strchr(u, ':');

		if (colon == NULL || !parse_unit(u, (size_t) (colon - u), &type->unit))
			return false;
		type->id = LANCE_TYPE_TIMESTAMP;
		type->byte_width = 8;
		if (strcmp(colon + 1, "-") != 0 && colon[1] != '\0')
		{
			type->timezone = core_strdup(colon + 1);
			if (type->timezone == NULL)
				return false;
		}
		return true;
	}
	if (strncmp(lt, "decimal:", 8) == 0)
	{
		char		buf[64];
		char	   *bits;
		char	   *prec;
		char	   *scale;

		if (strlen(lt) >= sizeof(buf))
			return false;
		strcpy(buf, lt + 8);
		bits = buf;
		prec = strchr(bits, ':');
		if (prec == NULL)
			return false;
		*prec++ = '\0';
		scale = strchr(prec, ':');
		if (scale == NULL)
			return false;
		*scale++ = '\0';
		if (strcmp(bits, "128") == 0)
		{
			type->id = LANCE_TYPE_DECIMAL128;
			type->byte_width = 16;
		}
		else if (strcmp(bits, "256") == 0)
		{
			type->id = LANCE_TYPE_DECIMAL256;
			type->byte_width = 32;
		}
		else
			return false;
		/* the scale may be negative */
		if (!parse_int(prec, 76, &type->precision))
			return false;
		if (*scale == '-')
		{
			if (!parse_int(scale + 1, 76, &type->scale))
				return false;
			type->scale = -type->scale;
		}
		else if (!parse_int(scale, 76, &type->scale))
			return false;
		return true;
	}
	if (strncmp(lt, "fixed_size_binary:", 18) == 0)
	{
		if (!parse_int(lt + 18, INT32_MAX, &type->fixed_size) || type->fixed_size == 0)
			return false;
		type->id = LANCE_TYPE_FIXED_SIZE_BINARY;
		type->byte_width = type->fixed_size;
		return true;
	}
	if (strncmp(lt, "fixed_size_list:", 16) == 0)
	{
		const char *inner = lt + 16;
		const char *last = strrchr(inner, ':');
		char	   *item_str;
		LanceType  *item;
		bool		ok;

		if (last == NULL || last == inner)
			return false;
		if (!parse_int(last + 1, INT32_MAX, &type->fixed_size) || type->fixed_size == 0)
			return false;
		item_str = core_malloc((size_t) (last - inner) + 1);
		item = core_calloc(1, sizeof(LanceType));
		if (item_str == NULL || item == NULL)
		{
			core_free(item_str);
			core_free(item);
			return false;
		}
		memcpy(item_str, inner, (size_t) (last - inner));
		item_str[last - inner] = '\0';
		ok = lance_type_parse(item_str, item);
		core_free(item_str);
		/* items must be fixed width (or bool): that is what Lance stores this way */
		if (!ok || (item->byte_width == 0 && item->id != LANCE_TYPE_BOOL))
		{
			lance_type_release(item);
			core_free(item);
			return false;
		}
		type->id = LANCE_TYPE_FIXED_SIZE_LIST;
		type->item = item;
		if (item->byte_width > 0 && (int64_t) item->byte_width * type->fixed_size <= INT32_MAX)
			type->byte_width = item->byte_width * type->fixed_size;
		return true;
	}
	return false;
}

void
lance_type_release(LanceType *type)
{
	if (type == NULL)
		return;
	core_free((void *) type->timezone);
	type->timezone = NULL;
	if (type->item)
	{
		LanceType  *item = (LanceType *) type->item;

		lance_type_release(item);
		core_free(item);
		type->item = NULL;
	}
}

const char *
lance_type_name(LanceTypeId id)
{
	switch (id)
	{
		case LANCE_TYPE_NULL:
			return "null";
		case LANCE_TYPE_BOOL:
			return "bool";
		case LANCE_TYPE_INT8:
			return "int8";
		case LANCE_TYPE_INT16:
			return "int16";
		case LANCE_TYPE_INT32:
			return "int32";
		case LANCE_TYPE_INT64:
			return "int64";
		case LANCE_TYPE_UINT8:
			return "uint8";
		case LANCE_TYPE_UINT16:
			return "uint16";
		case LANCE_TYPE_UINT32:
			return "uint32";
		case LANCE_TYPE_UINT64:
			return "uint64";
		case LANCE_TYPE_FLOAT16:
			return "float16";
		case LANCE_TYPE_FLOAT32:
			return "float32";
		case LANCE_TYPE_FLOAT64:
			return "float64";
		case LANCE_TYPE_DATE32:
			return "date32";
		case LANCE_TYPE_DATE64:
			return "date64";
		case LANCE_TYPE_TIME32:
			return "time32";
		case LANCE_TYPE_TIME64:
			return "time64";
		case LANCE_TYPE_TIMESTAMP:
			return "timestamp";
		case LANCE_TYPE_DURATION:
			return "duration";
		case LANCE_TYPE_DECIMAL128:
			return "decimal128";
		case LANCE_TYPE_DECIMAL256:
			return "decimal256";
		case LANCE_TYPE_FIXED_SIZE_BINARY:
			return "fixed_size_binary";
		case LANCE_TYPE_STRING:
			return "string";
		case LANCE_TYPE_LARGE_STRING:
			return "large_string";
		case LANCE_TYPE_BINARY:
			return "binary";
		case LANCE_TYPE_LARGE_BINARY:
			return "large_binary";
		case LANCE_TYPE_FIXED_SIZE_LIST:
			return "fixed_size_list";
		case LANCE_TYPE_LIST:
			return "list";
		case LANCE_TYPE_LARGE_LIST:
			return "large_list";
		case LANCE_TYPE_STRUCT:
			return "struct";
	}
	return "unknown";
}

bool
lance_field_is_leaf(const LanceField *field)
{
	return field->type.id != LANCE_TYPE_LIST && field->type.id != LANCE_TYPE_LARGE_LIST &&
		field->type.id != LANCE_TYPE_STRUCT;
}

static char *
keep_string(LanceSchema *schema, const char *s)
{
	char	   *copy = core_strdup(s ? s : "");

	if (copy == NULL)
		return NULL;
	schema->strings[schema->num_strings++] = copy;
	return copy;
}

void
lance_schema_free(LanceSchema *schema)
{
	if (schema == NULL)
		return;
	for (int i = 0; i < schema->num_fields; i++)
	{
		lance_type_release(&schema->fields[i].type);
		core_free((void *) schema->fields[i].children);
	}
	for (int i = 0; i < schema->num_strings; i++)
		core_free(schema->strings[i]);
	core_free(schema->strings);
	core_free(schema->fields);
	core_free(schema->top);
	core_free(schema);
}

/*
 * Build the tree.  Checks: ids unique and >= 0, each parent precedes its
 * children, only lists and structs have children, a list has exactly one,
 * nesting is bounded.
 */
CoreStatus
lance_schema_build(const LanceFieldSpec *specs, int count, const char *where,
				   LanceSchema **out, CoreError *err)
{
	LanceSchema *schema;
	CoreStatus	status = CORE_OK;
	int		   *nkids = NULL;

	*out = NULL;
	if (count < 0)
		return core_error(err, CORE_ERR_INVALID, "%s: negative field count", where);
	schema = core_calloc(1, sizeof(LanceSchema));
	if (schema == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory for the schema", where);
	schema->fields = core_calloc((size_t) count, sizeof(LanceField));
	schema->top = core_calloc((size_t) count, sizeof(LanceField *));
	schema->strings = core_calloc((size_t) count * 2, sizeof(char *));
	nkids = core_calloc((size_t) count, sizeof(int));
	if (!schema->fields || !schema->top || !schema->strings || !nkids)
	{
		status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory for the schema", where);
		goto done;
	}

	for (int i = 0; i < count; i++)
	{
		const LanceFieldSpec *s = &specs[i];
		LanceField *f = &schema->fields[i];
		int			parent = -1;
		int			depth = 0;

		schema->num_fields = i + 1;
		f->id = s->id;
		f->parent_id = s->parent_id;
		f->nullable = s->nullable;
		f->name = keep_string(schema, s->name);
		f->logical_type = keep_string(schema, s->logical_type);
		if (f->name == NULL || f->logical_type == NULL)
		{
			status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory for the schema", where);
			goto done;
		}
		if (s->id < 0)
		{
			status = core_error(err, CORE_ERR_CORRUPT, "%s: field \"%s\" has negative id %d",
								where, f->name, (int) s->id);
			goto done;
		}
		for (int j = 0; j < i; j++)
		{
			if (schema->fields[j].id == s->id)
			{
				status = core_error(err, CORE_ERR_CORRUPT, "%s: field id %d is used twice (\"%s\" and \"%s\")",
									where, (int) s->id, schema->fields[j].name, f->name);
				goto done;
			}
			if (schema->fields[j].id == s->parent_id)
				parent = j;
		}
		if (!lance_type_parse(s->logical_type, &f->type))
		{
			status = core_error(err, CORE_ERR_UNSUPPORTED,
								"%s: field \"%s\" (id %d) has logical type \"%s\", which is not supported",
								where, f->name, (int) f->id, f->logical_type);
			goto done;
		}
		if (s->parent_id < 0)
		{
			if (s->parent_id != -1)
			{
				status = core_error(err, CORE_ERR_CORRUPT, "%s: field \"%s\" has parent id %d",
									where, f->name, (int) s->parent_id);
				goto done;
			}
			schema->top[schema->num_top++] = f;
			continue;
		}
		if (parent < 0)
		{
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s: field \"%s\" (id %d) names parent %d, which does not precede it",
								where, f->name, (int) f->id, (int) s->parent_id);
			goto done;
		}
		if (lance_field_is_leaf(&schema->fields[parent]))
		{
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s: field \"%s\" (id %d) has parent \"%s\" of type %s, which cannot have children",
								where, f->name, (int) f->id, schema->fields[parent].name,
								schema->fields[parent].logical_type);
			goto done;
		}
		f->parent = &schema->fields[parent];
		for (const LanceField *p = f->parent; p; p = p->parent)
			depth++;
		if (depth > LANCE_MAX_FIELD_DEPTH)
		{
			status = core_error(err, CORE_ERR_UNSUPPORTED, "%s: field \"%s\" is nested deeper than %d levels",
								where, f->name, LANCE_MAX_FIELD_DEPTH);
			goto done;
		}
		nkids[parent]++;
	}

	/* children arrays, in pre-order (= declaration order) */
	for (int i = 0; i < count; i++)
	{
		LanceField *f = &schema->fields[i];

		if (nkids[i] > 0)
		{
			f->children = core_calloc((size_t) nkids[i], sizeof(LanceField *));
			if (f->children == NULL)
			{
				status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory for the schema", where);
				goto done;
			}
		}
	}
	for (int i = 0; i < count; i++)
	{
		LanceField *f = &schema->fields[i];

		if (f->parent)
		{
			LanceField *p = (LanceField *) f->parent;

			p->children[p->num_children++] = f;
		}
	}
	for (int i = 0; i < count; i++)
	{
		LanceField *f = &schema->fields[i];

		if ((f->type.id == LANCE_TYPE_LIST || f->type.id == LANCE_TYPE_LARGE_LIST) &&
			f->num_children != 1)
		{
			status = core_error(err, CORE_ERR_CORRUPT, "%s: list field \"%s\" has %d child fields, expected 1",
								where, f->name, f->num_children);
			goto done;
		}
	}

done:
	core_free(nkids);
	if (status != CORE_OK)
	{
		lance_schema_free(schema);
		return status;
	}
	*out = schema;
	return CORE_OK;
}

int
lance_schema_num_top(const LanceSchema *schema)
{
	return schema->num_top;
}

const LanceField *
lance_schema_top(const LanceSchema *schema, int i)
{
	return (i >= 0 && i < schema->num_top) ? schema->top[i] : NULL;
}

int
lance_schema_num_fields(const LanceSchema *schema)
{
	return schema->num_fields;
}

const LanceField *
lance_schema_field(const LanceSchema *schema, int i)
{
	return (i >= 0 && i < schema->num_fields) ? &schema->fields[i] : NULL;
}

const LanceField *
lance_schema_find_id(const LanceSchema *schema, int32_t id)
{
	for (int i = 0; i < schema->num_fields; i++)
		if (schema->fields[i].id == id)
			return &schema->fields[i];
	return NULL;
}

const LanceField *
lance_schema_find_top(const LanceSchema *schema, const char *name)
{
	for (int i = 0; i < schema->num_top; i++)
		if (strcmp(schema->top[i]->name, name) == 0)
			return schema->top[i];
	return NULL;
}
