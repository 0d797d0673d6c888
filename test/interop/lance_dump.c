/*-------------------------------------------------------------------------
 *
 * lance_dump.c
 *	  Print a Lance dataset as JSON lines, exactly as lancedb_ref.mjs dump
 *	  does, so the two can be compared byte for byte.
 *
 *	  lance_dump DATASET_DIR [--version N] [--rowaddr] [--columns a,b,c]
 *	  lance_dump DATASET_DIR --versions
 *	  lance_dump DATASET_DIR --count
 *	  lance_dump DATASET_DIR --take ADDR,ADDR,... [--version N] [--rowaddr] [--columns a,b]
 *
 * --take prints the rows at those row addresses, in that order, through
 * the random-access path (lance_dataset_take) instead of a scan.
 *
 * Value conventions (shared/interop/README.md): integers exact, floats as
 * the shortest decimal that reads back as the same double (JavaScript's
 * Number.prototype.toString), NaN/Infinity as strings, binary as hex,
 * dates and times as raw integers, decimals as the unscaled integer in a
 * string, lists as arrays, structs as objects in schema order.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lance/dataset.h"

static void
die(const char *msg)
{
	fprintf(stderr, "lance_dump: %s\n", msg);
	exit(2);
}

/* ---------------------------------------------------------------- numbers */

/* A double the way JavaScript's Number.prototype.toString writes it. */
static void
print_double(FILE *out, double v)
{
	char		buf[64];
	char		digits[32];
	int			k = 0;
	int			exp10;
	int			n;
	char	   *e;

	if (isnan(v))
	{
		fputs("\"NaN\"", out);
		return;
	}
	if (isinf(v))
	{
		fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
		return;
	}
	if (v == 0)
	{
		fputs(signbit(v) ? "-0.0" : "0", out);
		return;
	}
	if (v < 0)
	{
		fputc('-', out);
		v = -v;
	}
	/*
	 * The fewest significant digits that read back as v.  If p digits do,
	 * so do p + 1, so a binary search over 1..17 finds the least.
	 */
	{
		int			lo = 1;
		int			hi = 17;

		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			snprintf(buf, sizeof(buf), "%.*e", mid - 1, v);
			if (strtod(buf, NULL) == v)
				hi = mid;
			else
				lo = mid + 1;
		}
		snprintf(buf, sizeof(buf), "%.*e", lo - 1, v);
	}
	e = strchr(buf, 'e');
	exp10 = atoi(e + 1);
	for (char *p = buf; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[k++] = *p;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	n = exp10 + 1;				/* the decimal point sits after n digits */
	if (k <= n && n <= 21)
	{
		fputs(digits, out);
		for (int i = k; i < n; i++)
			fputc('0', out);
	}
	else if (0 < n && n <= 21)
		fprintf(out, "%.*s.%s", n, digits, digits + n);
	else if (-6 < n && n <= 0)
	{
		fputs("0.", out);
		for (int i = 0; i < -n; i++)
			fputc('0', out);
		fputs(digits, out);
	}
	else
	{
		fputc(digits[0], out);
		if (k > 1)
			fprintf(out, ".%s", digits + 1);
		fprintf(out, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
}

static double
half_to_double(uint16_t h)
{
	int			sign = h >> 15;
	int			exp = (h >> 10) & 0x1f;
	int			frac = h & 0x3ff;
	double		v;

	if (exp == 0)
		v = ldexp(frac, -24);
	else if (exp == 31)
		v = frac ? NAN : INFINITY;
	else
		v = ldexp(frac + 1024, exp - 25);
	return sign ? -v : v;
}

/* A little-endian two's complement integer of `bytes` bytes, in decimal. */
static void
print_decimal(FILE *out, const uint8_t *p, int bytes)
{
	uint8_t		mag[32];
	char		digits[100];
	int			nd = 0;
	bool		neg = (p[bytes - 1] & 0x80) != 0;
	bool		zero;

	memcpy(mag, p, (size_t) bytes);
	if (neg)
	{
		int			carry = 1;

		for (int i = 0; i < bytes; i++)
		{
			int			x = (uint8_t) ~mag[i] + carry;

			mag[i] = (uint8_t) x;
			carry = x >> 8;
		}
	}
	do
	{
		int			rem = 0;

		zero = true;
		for (int i = bytes - 1; i >= 0; i--)
		{
			int			cur = rem * 256 + mag[i];

			mag[i] = (uint8_t) (cur / 10);
			rem = cur % 10;
			if (mag[i])
				zero = false;
		}
		digits[nd++] = (char) ('0' + rem);
	} while (!zero);
	fputc('"', out);
	if (neg)
		fputc('-', out);
	while (nd > 0)
		fputc(digits[--nd], out);
	fputc('"', out);
}

static void
print_string(FILE *out, const uint8_t *s, int64_t len)
{
	fputc('"', out);
	for (int64_t i = 0; i < len; i++)
	{
		uint8_t		c = s[i];

		switch (c)
		{
			case '"':
				fputs("\\\"", out);
				break;
			case '\\':
				fputs("\\\\", out);
				break;
			case '\b':
				fputs("\\b", out);
				break;
			case '\f':
				fputs("\\f", out);
				break;
			case '\n':
				fputs("\\n", out);
				break;
			case '\r':
				fputs("\\r", out);
				break;
			case '\t':
				fputs("\\t", out);
				break;
			default:
				if (c < 0x20)
					fprintf(out, "\\u%04x", c);
				else
					fputc(c, out);
		}
	}
	fputc('"', out);
}

static void
print_hex(FILE *out, const uint8_t *s, int64_t len)
{
	fputc('"', out);
	for (int64_t i = 0; i < len; i++)
		fprintf(out, "%02x", s[i]);
	fputc('"', out);
}

/* ------------------------------------------------------------------ values */

static void
print_value(FILE *out, const LanceArray *a, const LanceField *field, int64_t i)
{
	const LanceType *t = a->type;
	const uint8_t *v = a->values;

	if (!lance_array_is_valid(a, i))
	{
		fputs("null", out);
		return;
	}
	switch (t->id)
	{
		case LANCE_TYPE_NULL:
			fputs("null", out);
			break;
		case LANCE_TYPE_BOOL:
			fputs(lance_bit_get(v, i) ? "true" : "false", out);
			break;
		case LANCE_TYPE_INT8:
			fprintf(out, "%d", ((const int8_t *) v)[i]);
			break;
		case LANCE_TYPE_INT16:
			fprintf(out, "%d", ((const int16_t *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_INT32:
		case LANCE_TYPE_DATE32:
		case LANCE_TYPE_TIME32:
			fprintf(out, "%d", ((const int32_t *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_INT64:
		case LANCE_TYPE_DATE64:
		case LANCE_TYPE_TIME64:
		case LANCE_TYPE_TIMESTAMP:
		case LANCE_TYPE_DURATION:
			fprintf(out, "%" PRId64, ((const int64_t *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_UINT8:
			fprintf(out, "%u", v[i]);
			break;
		case LANCE_TYPE_UINT16:
			fprintf(out, "%u", ((const uint16_t *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_UINT32:
			fprintf(out, "%u", ((const uint32_t *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_UINT64:
			fprintf(out, "%" PRIu64, ((const uint64_t *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_FLOAT16:
			print_double(out, half_to_double(((const uint16_t *) (const void *) v)[i]));
			break;
		case LANCE_TYPE_FLOAT32:
			print_double(out, (double) ((const float *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_FLOAT64:
			print_double(out, ((const double *) (const void *) v)[i]);
			break;
		case LANCE_TYPE_DECIMAL128:
		case LANCE_TYPE_DECIMAL256:
			print_decimal(out, v + i * t->byte_width, t->byte_width);
			break;
		case LANCE_TYPE_FIXED_SIZE_BINARY:
			print_hex(out, v + i * t->byte_width, t->byte_width);
			break;
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
			print_string(out, v + lance_array_offset(a, i),
						 lance_array_offset(a, i + 1) - lance_array_offset(a, i));
			break;
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
			print_hex(out, v + lance_array_offset(a, i),
					  lance_array_offset(a, i + 1) - lance_array_offset(a, i));
			break;
		case LANCE_TYPE_FIXED_SIZE_LIST:
			fputc('[', out);
			for (int64_t k = 0; k < t->fixed_size; k++)
			{
				if (k)
					fputc(',', out);
				print_value(out, a->children[0], NULL, i * t->fixed_size + k);
			}
			fputc(']', out);
			break;
		case LANCE_TYPE_LIST:
		case LANCE_TYPE_LARGE_LIST:
			fputc('[', out);
			for (int64_t k = lance_array_offset(a, i); k < lance_array_offset(a, i + 1); k++)
			{
				if (k > lance_array_offset(a, i))
					fputc(',', out);
				print_value(out, a->children[0], field->children[0], k);
			}
			fputc(']', out);
			break;
		case LANCE_TYPE_STRUCT:
			fputc('{', out);
			for (int c = 0; c < a->num_children; c++)
			{
				if (c)
					fputc(',', out);
				print_string(out, (const uint8_t *) field->children[c]->name,
							 (int64_t) strlen(field->children[c]->name));
				fputc(':', out);
				print_value(out, a->children[c], field->children[c], i);
			}
			fputc('}', out);
			break;
	}
}

static void print_batch(const LanceBatch *b, bool rowaddr);

/* Split "a,b,c" into names (modifies s). */
static int
split_columns(char *s, const char ***names)
{
	int			n = 1;
	int			k = 0;

	for (char *p = s; *p; p++)
		n += *p == ',';
	*names = calloc((size_t) n, sizeof(char *));
	if (*names == NULL)
		die("out of memory");
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
		(*names)[k++] = tok;
	return k;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	uint64_t	version = 0;
	bool		rowaddr = false;
	bool		list_versions = false;
	bool		count = false;
	char	   *columns = NULL;
	char	   *take = NULL;
	const char **names = NULL;
	int			num_names = 0;
	Storage    *st;
	LanceDataset *ds;
	LanceScanner *sc;
	LanceScanOptions opts;
	LanceBatch *b;
	CoreError	err;
	CoreStatus	status;
	static char outbuf[1 << 16];

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
			version = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--rowaddr") == 0)
			rowaddr = true;
		else if (strcmp(argv[i], "--columns") == 0 && i + 1 < argc)
			columns = argv[++i];
		else if (strcmp(argv[i], "--versions") == 0)
			list_versions = true;
		else if (strcmp(argv[i], "--count") == 0)
			count = true;
		else if (strcmp(argv[i], "--take") == 0 && i + 1 < argc)
			take = argv[++i];
		else if (argv[i][0] != '-' && dir == NULL)
			dir = argv[i];
		else
			die("usage: lance_dump DATASET_DIR [--version N] [--rowaddr] [--columns a,b] | --versions | --count");
	}
	if (dir == NULL)
		die("usage: lance_dump DATASET_DIR [--version N] [--rowaddr] [--columns a,b] | --versions | --count");
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	if (storage_open(dir, &st, &err) != CORE_OK)
		die(err.msg);
	if (list_versions)
	{
		LanceVersionInfo *info;
		int			n;

		if (lance_dataset_versions(st, "", &info, &n, &err) != CORE_OK)
			die(err.msg);
		for (int i = 0; i < n; i++)
			printf("{\"version\":%" PRIu64 ",\"timestamp\":%" PRId64 ".%09d,\"num_rows\":%" PRIu64 ",\"fragments\":%d}\n",
				   info[i].version, info[i].timestamp_sec, info[i].timestamp_nsec,
				   info[i].num_rows, info[i].num_fragments);
		free(info);
		storage_close(st);
		return 0;
	}
	if (lance_dataset_open(st, "", version, &ds, &err) != CORE_OK)
		die(err.msg);
	if (count)
	{
		printf("%" PRIu64 "\n", lance_dataset_count_rows(ds));
		lance_dataset_close(ds);
		storage_close(st);
		return 0;
	}
	if (columns)
		num_names = split_columns(columns, &names);
	if (take)
	{
		uint64_t   *addrs = calloc(strlen(take) / 2 + 2, sizeof(uint64_t));
		int64_t		n = 0;

		for (char *tok = strtok(take, ","); tok; tok = strtok(NULL, ","))
			addrs[n++] = strtoull(tok, NULL, 10);
		if (lance_dataset_take(ds, addrs, n, names, num_names, &b, &err) != CORE_OK)
			die(err.msg);
		free(addrs);
		print_batch(b, rowaddr);
		lance_batch_free(b);
		fflush(stdout);
		lance_dataset_close(ds);
		storage_close(st);
		free(names);
		return 0;
	}
	memset(&opts, 0, sizeof(opts));
	opts.columns = names;
	opts.num_columns = num_names;
	if (lance_scanner_open(ds, &opts, &sc, &err) != CORE_OK)
		die(err.msg);
	while ((status = lance_scanner_next(sc, &b, &err)) == CORE_OK && b)
	{
		print_batch(b, rowaddr);
		lance_batch_free(b);
	}
	fflush(stdout);
	if (status != CORE_OK)
		die(err.msg);
	lance_scanner_close(sc);
	lance_dataset_close(ds);
	storage_close(st);
	free(names);
	return 0;
}

/* Print a batch as JSON lines. */
static void
print_batch(const LanceBatch *b, bool rowaddr)
{
	for (int64_t r = 0; r < b->num_rows; r++)
	{
		bool		first = true;

		fputc('{', stdout);
		if (rowaddr)
		{
			printf("\"_rowaddr\":%" PRIu64, b->row_addrs[r]);
			first = false;
		}
		for (int c = 0; c < b->num_columns; c++)
		{
			if (!first)
				fputc(',', stdout);
			first = false;
			print_string(stdout, (const uint8_t *) b->fields[c]->name,
						 (int64_t) strlen(b->fields[c]->name));
			fputc(':', stdout);
			print_value(stdout, b->columns[c], b->fields[c], r);
		}
		fputs("}\n", stdout);
	}
}
