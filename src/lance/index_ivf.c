/*-------------------------------------------------------------------------
 *
 * index_ivf.c
 *	  Opening and searching a LanceDB-built IVF_PQ or IVF_FLAT index.
 *
 * Both files of the index are Lance 2.x files whose schema metadata says
 * what they hold (docs/lance-index-format.md):
 *
 *	index.idx	  "lance:index" = {"type":"IVF_PQ","distance_type":...};
 *				  "lance:ivf" = the number of the global buffer holding the
 *				  IVF message, whose centroids_tensor is [partitions, dim].
 *	auxiliary.idx "storage_metadata" = a JSON array of one JSON string with
 *				  codebook_position (a global buffer holding the codebook
 *				  tensor [256, dim], sub-vector after sub-vector), nbits,
 *				  num_sub_vectors, dimension and transposed; "lance:ivf" =
 *				  the buffer of an IVF message whose offsets and lengths
 *				  place each partition's rows; columns _rowid (uint64) and
 *				  __pq_code (fixed_size_list<uint8, m>), the codes of one
 *				  partition stored transposed (m runs of one byte per row).
 *				  IVF_FLAT's holds {"dim":...} and, instead of codes, the
 *				  column flat (fixed_size_list<float32, dim>), the vectors.
 *
 * The two small files' tails are read with index_file.h; the rows of
 * auxiliary.idx through the fragment reader, as a one-file fragment whose
 * fields are its columns, all of them at open (8 + m, or 8 + 4 dim, bytes
 * a row), so that an opened index holds no file and a caller may keep it
 * for many searches, as LanceDB keeps its indexes in memory.  Codes are
 * kept transposed per partition.
 *
 *-------------------------------------------------------------------------
 */
#include "lance/index_ivf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kernels/distance.h"
#include "kernels/pq.h"
#include "lance/bytes.h"
#include "lance/fragment.h"
#include "lance/index_file.h"
#include "lance/schema.h"

#define TENSOR_FLOAT32 2
#define ROWID_FIELD "_rowid"
#define CODE_FIELD "__pq_code"
#define FLAT_FIELD "flat"

struct LanceIvfIndex
{
	LanceIvfKind kind;
	LanceIvfMetric metric;
	int			dim;
	int			nparts;
	int			m;
	bool		transposed;
	uint64_t	num_rows;
	float	   *centroids;		/* nparts * dim */
	float	   *codebook;		/* m * PQ_KSUB * (dim / m) */
	uint64_t   *offsets;		/* first row of each partition */
	uint32_t   *lengths;		/* rows of each partition */
	uint64_t   *row_ids;		/* num_rows, partition after partition */
	uint8_t    *codes;			/* PQ: num_rows * m, each partition transposed */
	float	   *vectors;		/* FLAT: num_rows * dim */
};

static bool
parse_metric(const char *name, LanceIvfMetric *out)
{
	if (strcmp(name, "l2") == 0 || strcmp(name, "euclidean") == 0)
		*out = LANCE_IVF_L2;
	else if (strcmp(name, "cosine") == 0)
		*out = LANCE_IVF_COSINE;
	else if (strcmp(name, "dot") == 0)
		*out = LANCE_IVF_DOT;
	else
		return false;
	return true;
}

/* ---------------------------------------------------------------------
 * Opening
 * ---------------------------------------------------------------------
 */

/* The IVF message in the global buffer a file's "lance:ivf" names. */
static CoreStatus
read_ivf(Storage *st, const LanceIndexFile *f, Li__Ivf **out, CoreError *err)
{
	char	   *pos = lance_index_file_meta(f, "lance:ivf");
	char	   *end;
	uint64_t	buf;
	uint8_t    *bytes;
	uint64_t	len;
	CoreStatus	status;

	*out = NULL;
	if (pos == NULL)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: no \"lance:ivf\" metadata (an index layout before Lance's v3 files)",
						  f->path);
	buf = strtoull(pos, &end, 10);
	status = (end == pos || *end != '\0')
		? core_error(err, CORE_ERR_CORRUPT, "%s: \"lance:ivf\" is \"%s\", not a buffer number",
					 f->path, pos)
		: lance_index_file_buffer(st, f, buf, &bytes, &len, err);
	core_free(pos);
	if (status != CORE_OK)
		return status;
	*out = li__ivf__unpack(NULL, len, bytes);
	core_free(bytes);
	if (*out == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: IVF message in global buffer %" PRIu64 " does not parse",
						  f->path, buf);
	return CORE_OK;
}

/* A float32 tensor of rows x cols into a new array. */
static CoreStatus
tensor_floats(const char *path, const char *what, const Li__Tensor *t, uint64_t rows,
			  uint64_t cols, float **out, CoreError *err)
{
	uint64_t	count = 1;

	*out = NULL;
	if (t->data_type != TENSOR_FLOAT32)
		return core_error(err, CORE_ERR_UNSUPPORTED, "%s: %s tensor of data type %u, not float32",
						  path, what, t->data_type);
	for (size_t i = 0; i < t->n_shape; i++)
		count *= t->shape[i];
	if (t->n_shape == 0 || count != rows * cols || t->data.len != count * sizeof(float))
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %s tensor holds %zu bytes, expected %" PRIu64 " x %" PRIu64 " floats",
						  path, what, t->data.len, rows, cols);
	*out = core_mallocarray(count, sizeof(float));
	if (*out == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory for the %s", path, what);
	memcpy(*out, t->data.data, count * sizeof(float));
	return CORE_OK;
}

/* index.idx: the index type, its metric and the centroids. */
static CoreStatus
open_index_file(Storage *st, LanceIvfIndex *ix, const LanceIndexFile *f, CoreError *err)
{
	char	   *desc = lance_index_file_meta(f, "lance:index");
	char		type[32];
	char		metric[32];
	Li__Ivf    *ivf;
	CoreStatus	status;

	if (desc == NULL)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: no \"lance:index\" metadata (an index layout before Lance's v3 files)",
						  f->path);
	if (!lance_json_string(desc, "type", type, sizeof(type)) ||
		!lance_json_string(desc, "distance_type", metric, sizeof(metric)))
		status = core_error(err, CORE_ERR_CORRUPT, "%s: \"lance:index\" is not {type, distance_type}",
							f->path);
	else if (strcmp(type, "IVF_PQ") != 0 && strcmp(type, "IVF_FLAT") != 0)
		status = core_error(err, CORE_ERR_UNSUPPORTED, "%s: index type %s is not IVF_PQ or IVF_FLAT",
							f->path, type);
	else if (!parse_metric(metric, &ix->metric))
		status = core_error(err, CORE_ERR_UNSUPPORTED, "%s: distance type %s", f->path, metric);
	else
		status = CORE_OK;
	core_free(desc);
	if (status != CORE_OK)
		return status;
	ix->kind = strcmp(type, "IVF_PQ") == 0 ? LANCE_IVF_KIND_PQ : LANCE_IVF_KIND_FLAT;

	status = read_ivf(st, f, &ivf, err);
	if (status != CORE_OK)
		return status;
	if (ivf->centroids_tensor != NULL && ivf->centroids_tensor->n_shape == 2)
	{
		ix->nparts = (int) ivf->centroids_tensor->shape[0];
		ix->dim = (int) ivf->centroids_tensor->shape[1];
		status = ix->nparts > 0 && ix->dim > 0
			? tensor_floats(f->path, "centroids", ivf->centroids_tensor, ix->nparts, ix->dim,
							&ix->centroids, err)
			: core_error(err, CORE_ERR_CORRUPT, "%s: empty centroids tensor", f->path);
	}
	else
		status = core_error(err, CORE_ERR_UNSUPPORTED,
							"%s: IVF centroids are not a two-dimensional tensor", f->path);
	li__ivf__free_unpacked(ivf, NULL);
	return status;
}

/* auxiliary.idx of IVF_PQ: the PQ parameters and the codebook. */
static CoreStatus
read_pq_storage(Storage *st, LanceIvfIndex *ix, const LanceIndexFile *f, const char *meta,
				CoreError *err)
{
	int64_t		cb_pos = 0,
				nbits = 0,
				m = 0,
				dim = 0;
	const char *t = lance_json_value(meta, "transposed");
	uint8_t    *bytes = NULL;
	uint64_t	len;
	Li__Tensor *cb;
	CoreStatus	status;

	if (!lance_json_int(meta, "codebook_position", &cb_pos) || !lance_json_int(meta, "nbits", &nbits) ||
		!lance_json_int(meta, "num_sub_vectors", &m) || !lance_json_int(meta, "dimension", &dim))
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: no PQ storage_metadata with codebook_position, nbits, num_sub_vectors, dimension",
						  f->path);
	ix->transposed = t != NULL && strncmp(t, "true", 4) == 0;
	if (nbits != PQ_NBITS)
		return core_error(err, CORE_ERR_UNSUPPORTED, "%s: %" PRId64 "-bit PQ codes (only 8-bit are read)",
						  f->path, nbits);
	if (dim != ix->dim || m <= 0 || m > dim || dim % m != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: PQ of dimension %" PRId64 " in %" PRId64 " sub-vectors for centroids of dimension %d",
						  f->path, dim, m, ix->dim);
	ix->m = (int) m;

	status = lance_index_file_buffer(st, f, (uint64_t) cb_pos, &bytes, &len, err);
	if (status != CORE_OK)
		return status;
	cb = li__tensor__unpack(NULL, len, bytes);
	core_free(bytes);
	if (cb == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: codebook in global buffer %" PRId64 " does not parse",
						  f->path, cb_pos);
	status = tensor_floats(f->path, "codebook", cb, PQ_KSUB, (uint64_t) dim, &ix->codebook, err);
	li__tensor__free_unpacked(cb, NULL);
	return status;
}

/* auxiliary.idx: the storage's parameters and where each partition's rows are. */
static CoreStatus
open_aux_file(Storage *st, LanceIvfIndex *ix, const LanceIndexFile *f, CoreError *err)
{
	char	   *raw = lance_index_file_meta(f, "storage_metadata");
	char	   *meta = raw ? lance_json_first_string(raw) : NULL;
	int64_t		dim = 0;
	Li__Ivf    *ivf = NULL;
	uint64_t	next = 0;
	CoreStatus	status;

	core_free(raw);
	if (meta == NULL)
		return core_error(err, CORE_ERR_UNSUPPORTED, "%s: no storage_metadata", f->path);
	if (ix->kind == LANCE_IVF_KIND_PQ)
		status = read_pq_storage(st, ix, f, meta, err);
	else if (!lance_json_int(meta, "dim", &dim) || dim != ix->dim)
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s: flat storage of dimension %" PRId64 " for centroids of dimension %d",
							f->path, dim, ix->dim);
	else
		status = CORE_OK;
	core_free(meta);
	if (status != CORE_OK)
		return status;

	status = read_ivf(st, f, &ivf, err);
	if (status != CORE_OK)
		return status;
	ix->num_rows = f->fd->has_length ? f->fd->length : 0;
	if (ivf->n_offsets != (size_t) ix->nparts || ivf->n_lengths != (size_t) ix->nparts)
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s: %zu partition offsets and %zu lengths for %d centroids",
							f->path, ivf->n_offsets, ivf->n_lengths, ix->nparts);
	/* partitions follow each other and cover the file: no row twice */
	for (int p = 0; status == CORE_OK && p < ix->nparts; p++)
	{
		if (ivf->offsets[p] != next || !span_range_ok(ix->num_rows, next, ivf->lengths[p]))
			status = core_error(err, CORE_ERR_CORRUPT,
								"%s: partition %d (rows %" PRIu64 " + %u) does not follow row %" PRIu64 " within the file's %" PRIu64 " rows",
								f->path, p, ivf->offsets[p], ivf->lengths[p], next, ix->num_rows);
		next += ivf->lengths[p];
	}
	if (status == CORE_OK && next != ix->num_rows)
		status = core_error(err, CORE_ERR_CORRUPT,
							"%s: partitions hold %" PRIu64 " rows, the file %" PRIu64,
							f->path, next, ix->num_rows);
	if (status == CORE_OK)
	{
		ix->offsets = core_mallocarray(ix->nparts, sizeof(uint64_t));
		ix->lengths = core_mallocarray(ix->nparts, sizeof(uint32_t));
		if (ix->offsets == NULL || ix->lengths == NULL)
			status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory", f->path);
		else
		{
			memcpy(ix->offsets, ivf->offsets, sizeof(uint64_t) * ix->nparts);
			memcpy(ix->lengths, ivf->lengths, sizeof(uint32_t) * ix->nparts);
		}
	}
	li__ivf__free_unpacked(ivf, NULL);
	return status;
}

/* Transpose n codes of m bytes (row after row) into m runs of n bytes. */
static void
transpose_codes(const uint8_t *codes, int64_t n, int m, uint8_t *out)
{
	for (int64_t i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
			out[(int64_t) j * n + i] = codes[i * m + j];
}

/*
 * Read auxiliary.idx's rows as a fragment of one file: find its _rowid
 * and __pq_code (or flat) columns, the file's top-level fields, one column
 * each, and keep every row id and code (or vector).
 */
static CoreStatus
read_codes(Storage *st, const char *dataset, LanceIvfIndex *ix, const LanceIndexFile *f,
		   const char *relpath, CoreError *err)
{
	const Li__FileSchema *s = f->fd->schema;
	char		code_type[64];
	LanceFieldSpec specs[2];
	const LanceField *fields[2];
	int32_t		file_fields[2];
	int32_t		file_columns[2];
	LanceDataFileRef file = {0};
	LanceFragmentRef fragment = {0};
	LanceSchema *schema = NULL;
	LanceFragmentReader *reader = NULL;
	LanceArray *cols[2] = {NULL, NULL};
	int			found = 0;
	CoreStatus	status;

	const char *code_field = ix->kind == LANCE_IVF_KIND_PQ ? CODE_FIELD : FLAT_FIELD;
	size_t		row_bytes = ix->kind == LANCE_IVF_KIND_PQ ? (size_t) ix->m : sizeof(float) * ix->dim;

	if (ix->kind == LANCE_IVF_KIND_PQ)
		snprintf(code_type, sizeof(code_type), "fixed_size_list:uint8:%d", ix->m);
	else
		snprintf(code_type, sizeof(code_type), "fixed_size_list:float:%d", ix->dim);
	specs[0] = (LanceFieldSpec) {0, -1, ROWID_FIELD, "uint64", true};
	specs[1] = (LanceFieldSpec) {1, -1, code_field, code_type, true};
	if (s->n_fields != 2)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: %zu fields, expected _rowid and %s", f->path, s->n_fields, code_field);
	for (size_t i = 0; i < 2; i++)
	{
		const Li__FileField *ff = s->fields[i];
		int			which = -1;

		if (ff->name != NULL && strcmp(ff->name, ROWID_FIELD) == 0)
			which = 0;
		else if (ff->name != NULL && strcmp(ff->name, code_field) == 0)
			which = 1;
		if (which < 0 || ff->logical_type == NULL ||
			strcmp(ff->logical_type, specs[which].logical_type) != 0 ||
			(ff->has_parent_id && ff->parent_id != -1))
			return core_error(err, CORE_ERR_UNSUPPORTED,
							  "%s: field \"%s\" (%s) is not one of _rowid (uint64), %s (%s)",
							  f->path, ff->name ? ff->name : "", ff->logical_type ? ff->logical_type : "",
							  code_field, code_type);
		file_fields[i] = which;
		file_columns[i] = (int32_t) i;
		found |= 1 << which;
	}
	if (found != 3)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: fields are not _rowid and %s", f->path, code_field);

	ix->row_ids = core_mallocarray(ix->num_rows ? ix->num_rows : 1, sizeof(uint64_t));
	if (ix->kind == LANCE_IVF_KIND_PQ)
		ix->codes = core_mallocarray(ix->num_rows ? ix->num_rows : 1, row_bytes);
	else
		ix->vectors = core_mallocarray(ix->num_rows ? ix->num_rows : 1, row_bytes);
	if (ix->row_ids == NULL || (ix->codes == NULL && ix->vectors == NULL))
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory for %" PRIu64 " rows of codes",
						  f->path, ix->num_rows);
	if (ix->num_rows == 0)
		return CORE_OK;

	status = lance_schema_build(specs, 2, f->path, &schema, err);
	if (status != CORE_OK)
		return status;
	file.path = (char *) relpath;
	file.num_fields = 2;
	file.field_ids = file_fields;
	file.column_indices = file_columns;
	file.major = 2;
	file.minor = f->minor;
	file.size_bytes = f->size;
	fragment.physical_rows = ix->num_rows;
	fragment.num_files = 1;
	fragment.files = &file;
	fields[0] = lance_schema_top(schema, 0);
	fields[1] = lance_schema_top(schema, 1);
	status = lance_fragment_reader_open(st, dataset, &fragment, fields, 2, &reader, err);
	if (status == CORE_OK)
		status = lance_fragment_reader_read(reader, 0, ix->num_rows, cols, err);
	if (status == CORE_OK)
	{
		const uint8_t *codes = cols[1]->children[0]->values;

		memcpy(ix->row_ids, cols[0]->values, sizeof(uint64_t) * ix->num_rows);
		if (ix->kind == LANCE_IVF_KIND_FLAT)
			memcpy(ix->vectors, codes, row_bytes * ix->num_rows);
		else if (ix->transposed)
			memcpy(ix->codes, codes, (size_t) ix->num_rows * ix->m);
		else
		{
			for (int p = 0; p < ix->nparts; p++)
				transpose_codes(codes + ix->offsets[p] * ix->m, ix->lengths[p], ix->m,
								ix->codes + ix->offsets[p] * ix->m);
		}
	}
	lance_array_free(cols[0]);
	lance_array_free(cols[1]);
	lance_fragment_reader_close(reader);
	lance_schema_free(schema);
	return status;
}

CoreStatus
lance_ivf_open(Storage *st, const char *dataset, const char *uuid, LanceIvfIndex **out,
				 CoreError *err)
{
	LanceIvfIndex *ix = core_calloc(1, sizeof(LanceIvfIndex));
	LanceIndexFile		f;
	char		rel[128];
	char	   *path = NULL;
	CoreStatus	status;

	*out = NULL;
	if (ix == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory");

	snprintf(rel, sizeof(rel), "_indices/%s/index.idx", uuid);
	path = core_malloc(strlen(dataset) + sizeof(rel) + 2);
	if (path == NULL)
	{
		lance_ivf_close(ix);
		return core_error(err, CORE_ERR_NOMEM, "out of memory");
	}
	sprintf(path, "%s%s%s", dataset, dataset[0] ? "/" : "", rel);
	status = lance_index_file_open(st, path, &f, err);
	if (status == CORE_OK)
		status = open_index_file(st, ix, &f, err);
	lance_index_file_free(&f);

	if (status == CORE_OK)
	{
		snprintf(rel, sizeof(rel), "_indices/%s/auxiliary.idx", uuid);
		sprintf(path, "%s%s%s", dataset, dataset[0] ? "/" : "", rel);
		status = lance_index_file_open(st, path, &f, err);
		if (status == CORE_OK)
			status = open_aux_file(st, ix, &f, err);
		if (status == CORE_OK)
			status = read_codes(st, dataset, ix, &f, rel, err);
		lance_index_file_free(&f);
	}
	core_free(path);
	if (status != CORE_OK)
	{
		lance_ivf_close(ix);
		return status;
	}
	*out = ix;
	return CORE_OK;
}

void
lance_ivf_close(LanceIvfIndex *ix)
{
	if (ix == NULL)
		return;
	core_free(ix->row_ids);
	core_free(ix->codes);
	core_free(ix->vectors);
	core_free(ix->centroids);
	core_free(ix->codebook);
	core_free(ix->offsets);
	core_free(ix->lengths);
	core_free(ix);
}

LanceIvfKind
lance_ivf_kind(const LanceIvfIndex *ix)
{
	return ix->kind;
}

LanceIvfMetric
lance_ivf_metric(const LanceIvfIndex *ix)
{
	return ix->metric;
}

int
lance_ivf_dim(const LanceIvfIndex *ix)
{
	return ix->dim;
}

int
lance_ivf_num_partitions(const LanceIvfIndex *ix)
{
	return ix->nparts;
}

int
lance_ivf_num_sub_vectors(const LanceIvfIndex *ix)
{
	return ix->m;
}

uint64_t
lance_ivf_num_rows(const LanceIvfIndex *ix)
{
	return ix->num_rows;
}

uint64_t
lance_ivf_memory(const LanceIvfIndex *ix)
{
	uint64_t	row_bytes = ix->kind == LANCE_IVF_KIND_PQ ? (uint64_t) ix->m : sizeof(float) * ix->dim;

	return ix->num_rows * (sizeof(uint64_t) + row_bytes) +
		((uint64_t) ix->nparts * ix->dim + (ix->codebook ? (uint64_t) PQ_KSUB * ix->dim : 0)) * sizeof(float) +
		(uint64_t) ix->nparts * (sizeof(uint64_t) + sizeof(uint32_t));
}

/* ---------------------------------------------------------------------
 * Searching
 * ---------------------------------------------------------------------
 */

/* The nprobes partitions nearest q, nearest first; returns how many. */
static int
nearest_partitions(const LanceIvfIndex *ix, const float *q, int nprobes, int *parts,
				   float *dist, CoreError *err)
{
	const DistanceKernels *dk = distance_kernels();
	TopK	   *top = topk_new(nprobes);
	TopkEntry  *best;
	int			n;

	if (top == NULL || (best = core_mallocarray(nprobes, sizeof(TopkEntry))) == NULL)
	{
		topk_free(top);
		core_error(err, CORE_ERR_NOMEM, "out of memory ranking %d partitions", ix->nparts);
		return -1;
	}
	if (ix->metric == LANCE_IVF_DOT)
		dk->dot_many(q, ix->centroids, ix->nparts, ix->dim, dist);
	else
		dk->l2sq_many(q, ix->centroids, ix->nparts, ix->dim, dist);
	for (int p = 0; p < ix->nparts; p++)
	{
		TopkEntry	e = {0};

		e.key = ix->metric == LANCE_IVF_DOT ? -dist[p] : dist[p];
		e.tier = isnan(e.key) ? 1 : 0;
		if (isnan(e.key))
			e.key = 0;
		e.seq = (uint64_t) p;
		e.payload = (uint64_t) p;
		topk_push(top, &e);
	}
	n = (int) topk_drain_sorted(top, best);
	for (int i = 0; i < n; i++)
		parts[i] = (int) best[i].payload;
	core_free(best);
	topk_free(top);
	return n;
}

/*
 * IVF_FLAT's distances from q (normalized for cosine) to n stored vectors:
 * squared l2, cosine distance, or negative dot product; norms is scratch
 * of n floats.
 */
static void
flat_distances(const LanceIvfIndex *ix, const float *q, const float *x, int64_t n,
			   float *dist, float *norms)
{
	const DistanceKernels *dk = distance_kernels();

	switch (ix->metric)
	{
		case LANCE_IVF_L2:
			dk->l2sq_many(q, x, n, ix->dim, dist);
			break;
		case LANCE_IVF_DOT:
			dk->dot_many(q, x, n, ix->dim, dist);
			for (int64_t i = 0; i < n; i++)
				dist[i] = -dist[i];
			break;
		case LANCE_IVF_COSINE:
			dk->dot_norms_many(q, x, n, ix->dim, dist, norms);
			for (int64_t i = 0; i < n; i++)
				dist[i] = (float) distance_cosine_from_parts(dist[i], 1.0, norms[i]);
			break;
	}
}

/* Score one partition's rows and offer them to out. */
static CoreStatus
search_partition(LanceIvfIndex *ix, int p, const float *q, float *resid, float *table,
				 float *dist, float *norms, LanceIvfRowFilter filter, void *arg, TopK *out, CoreError *err)
{
	int64_t		n = ix->lengths[p];
	const uint64_t *rowids = ix->row_ids + ix->offsets[p];

	if (n == 0)
		return CORE_OK;

	if (ix->kind == LANCE_IVF_KIND_FLAT)
		flat_distances(ix, q, ix->vectors + ix->offsets[p] * ix->dim, n, dist, norms);
	/* l2 and cosine quantize residuals to the centroid; dot the vectors */
	else if (ix->metric == LANCE_IVF_DOT)
	{
		pq_table(ix->codebook, ix->dim, ix->m, PQ_METRIC_DOT, q, table);
		pq_scan(table, ix->m, ix->codes + ix->offsets[p] * ix->m, n, dist);
	}
	else
	{
		const float *c = ix->centroids + (size_t) p * ix->dim;

		for (int d = 0; d < ix->dim; d++)
			resid[d] = q[d] - c[d];
		pq_table(ix->codebook, ix->dim, ix->m, PQ_METRIC_L2, resid, table);
		pq_scan(table, ix->m, ix->codes + ix->offsets[p] * ix->m, n, dist);
	}

	for (int64_t i = 0; i < n; i++)
	{
		TopkEntry	e = {0};

		e.tier = isnan(dist[i]) ? 1 : 0;
		e.key = isnan(dist[i]) ? 0 : dist[i];
		e.seq = rowids[i];
		e.payload = rowids[i];
		if (topk_full(out) && !topk_entry_less(&e, topk_worst(out)))
			continue;
		if (filter != NULL && !filter(rowids[i], arg))
			continue;
		if (!topk_push(out, &e))
			return core_error(err, CORE_ERR_NOMEM, "out of memory for index candidates");
	}
	return CORE_OK;
}

CoreStatus
lance_ivf_search(LanceIvfIndex *ix, const float *q, int nprobes, int64_t min_results,
				 LanceIvfRowFilter filter, void *arg, TopK *out, CoreError *err)
{
	int			np = ix->nparts;
	float	   *qn = core_mallocarray(ix->dim, sizeof(float));
	float	   *resid = core_mallocarray(ix->dim, sizeof(float));
	float	   *table = core_mallocarray((size_t) ix->m * PQ_KSUB, sizeof(float));
	float	   *cdist = core_mallocarray(ix->nparts, sizeof(float));
	int		   *parts = core_mallocarray(np > 0 ? np : 1, sizeof(int));
	uint32_t	longest = 0;
	float	   *dist;
	float	   *norms;
	CoreStatus	status = CORE_OK;

	for (int p = 0; p < ix->nparts; p++)
		longest = ix->lengths[p] > longest ? ix->lengths[p] : longest;
	dist = core_mallocarray(longest ? longest : 1, sizeof(float));
	norms = core_mallocarray(longest ? longest : 1, sizeof(float));
	if (qn == NULL || resid == NULL || table == NULL || cdist == NULL || parts == NULL ||
		dist == NULL || norms == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "out of memory searching an IVF_PQ index");
	else if (np > 0)
	{
		memcpy(qn, q, sizeof(float) * ix->dim);
		/* a cosine index holds normalized vectors, ranked by l2 */
		if (ix->metric == LANCE_IVF_COSINE)
		{
			double		norm = sqrt((double) distance_kernels()->dot(q, q, ix->dim));

			for (int d = 0; norm > 0 && d < ix->dim; d++)
				qn[d] = (float) (q[d] / norm);
		}
		/* every partition ranked: more are probed while too few rows were found */
		np = nearest_partitions(ix, qn, np, parts, cdist, err);
		if (np < 0)
			status = err->status;
		for (int i = 0; status == CORE_OK && i < np &&
			 (i < nprobes || topk_count(out) < min_results); i++)
			status = search_partition(ix, parts[i], qn, resid, table, dist, norms, filter, arg,
									  out, err);
	}
	core_free(qn);
	core_free(resid);
	core_free(table);
	core_free(cdist);
	core_free(parts);
	core_free(dist);
	core_free(norms);
	return status;
}
