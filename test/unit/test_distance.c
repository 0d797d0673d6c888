/*-------------------------------------------------------------------------
 *
 * test_distance.c
 *	  Unit tests for the float32 distance kernels and their dispatch.
 *
 * Every path this CPU can run is compared with a double-precision reference
 * on every dim from 1 to 300 and on 768, 1536 and 16000, with inputs that
 * start one float past an aligned address.
 *
 * How far a kernel may be from the reference is derived, not tuned.  With
 * u = 2^-24 (float32 unit roundoff) and gamma_k = k u / (1 - k u), a float
 * result built from terms t_i satisfies (Higham, "Accuracy and Stability of
 * Numerical Algorithms", Lemma 3.1 and section 4.2)
 *
 *		|computed - exact| <= gamma_{p + n - 1} * sum |t_i|
 *
 * where p is the number of roundings that form one term and n - 1 bounds
 * the additions on any term's path to the result, whatever the order or
 * shape of the summation: lanes, several accumulators, a horizontal sum.
 * Adding a zero (a masked-off lane, a fresh accumulator) is exact, so it
 * does not lengthen a path.  An FMA rounds product and sum once, which only
 * removes a rounding from the count.  Per kernel:
 *	- dot and the norms: t_i = a_i b_i, one rounding for the product, p = 1;
 *	- l2sq: t_i = (a_i - b_i)^2; the rounded difference is squared, so its
 *	  error enters twice, plus the product: p = 3;
 *	- l1: t_i = |a_i - b_i|; the difference rounds, fabs is exact: p = 1.
 * The reference obeys the same bound with u = 2^-53, so the two bounds add.
 * Inputs are k / 2^23 for integers 0 < |k| < 2^23 (or 0), so no product is
 * below 2^-46 and nothing underflows: the bound needs no absolute term.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/distance.h"
#include "unit.h"

#define U_FLOAT		(1.0 / 16777216.0)	/* 2^-24 */
#define U_DOUBLE	(1.0 / 9007199254740992.0)	/* 2^-53 */

/* rows in the one-to-many checks: not a multiple of 4, 8 or 16 */
#define MANY_ROWS	13

typedef enum Kernel
{
	K_L2SQ,
	K_DOT,
	K_L1,
	K_NORM						/* sum a_i^2, as dot_norms computes */
} Kernel;

/* Roundings that form one term of each kernel (see the file header). */
static const int term_roundings[] = {3, 1, 1, 1};

static const char *const kernel_names[] = {"l2sq", "dot", "l1", "norm"};

/* Return gamma_k for unit roundoff u. */
static double
gamma_k(double k, double u)
{
	return k * u / (1.0 - k * u);
}

/* Return how far a float kernel over dim terms may be from the reference. */
static double
error_bound(Kernel k, size_t dim, double abs_sum)
{
	double		steps = (double) (term_roundings[k] + dim - 1);

	return (gamma_k(steps, U_FLOAT) + gamma_k(steps, U_DOUBLE)) * abs_sum;
}

/* Compute a kernel in double precision, and the sum of |term|. */
static double
reference(Kernel k, const float *a, const float *b, size_t dim, double *abs_sum)
{
	double		s = 0.0;
	double		abs_s = 0.0;
	size_t		i;

	for (i = 0; i < dim; i++)
	{
		double		d = (double) a[i] - (double) b[i];
		double		t;

		switch (k)
		{
			case K_L2SQ:
				t = d * d;
				break;
			case K_DOT:
				t = (double) a[i] * (double) b[i];
				break;
			case K_L1:
				t = fabs(d);
				break;
			default:
				t = (double) a[i] * (double) a[i];
				break;
		}
		s += t;
		abs_s += fabs(t);
	}
	*abs_sum = abs_s;
	return s;
}

/* Step a xorshift generator; deterministic so a failure reproduces. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t	x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Fill v with k / 2^23 for random integers |k| < 2^23 (see the header). */
static void
fill_random(float *v, size_t n, uint64_t seed)
{
	uint64_t	state = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		int32_t		k = (int32_t) (next_random(&state) >> 40) - (1 << 23);

		v[i] = (float) k / 8388608.0f;
	}
}

/* Return the dims to test: 1..300, 768, 1536, 16000. */
static size_t
test_dims(size_t *dims)
{
	size_t		n = 0;
	size_t		d;

	for (d = 1; d <= 300; d++)
		dims[n++] = d;
	dims[n++] = 768;
	dims[n++] = 1536;
	dims[n++] = 16000;
	return n;
}

/*
 * Check one computed value against the reference; on failure report and
 * return false so the caller can stop.
 */
static bool
check_value(const DistanceKernels *t, Kernel k, const char *shape,
			size_t dim, size_t row, double got, const float *a,
			const float *b)
{
	double		abs_sum;
	double		want = reference(k, a, b, dim, &abs_sum);
	double		bound = error_bound(k, dim, abs_sum);

	if (fabs(got - want) <= bound)
		return true;
	unit_fail(__FILE__, __LINE__,
			  "%s %s %s dim %zu row %zu: got %.9g, reference %.17g, "
			  "error %.3g > bound %.3g",
			  t->name, kernel_names[k], shape, dim, row, got, want,
			  fabs(got - want), bound);
	return false;
}

/*
 * Check a kernel's one-to-one result and its one-to-many results over
 * MANY_ROWS rows against the reference.
 */
static bool
check_one_and_many(const DistanceKernels *t, Kernel k, size_t dim,
				   const float *q, const float *base)
{
	float		one;
	float		out[MANY_ROWS];
	size_t		r;

	switch (k)
	{
		case K_L2SQ:
			one = t->l2sq(q, base, dim);
			t->l2sq_many(q, base, MANY_ROWS, dim, out);
			break;
		case K_DOT:
			one = t->dot(q, base, dim);
			t->dot_many(q, base, MANY_ROWS, dim, out);
			break;
		default:
			one = t->l1(q, base, dim);
			t->l1_many(q, base, MANY_ROWS, dim, out);
			break;
	}
	if (!check_value(t, k, "one", dim, 0, one, q, base))
		return false;
	for (r = 0; r < MANY_ROWS; r++)
	{
		if (!check_value(t, k, "many", dim, r, out[r], q, base + r * dim))
			return false;
	}
	return true;
}

/* Check all three parts of dot_norms and both parts of dot_norms_many. */
static bool
check_dot_norms(const DistanceKernels *t, size_t dim,
				const float *q, const float *base)
{
	float		dot,
				na,
				nb;
	float		dots[MANY_ROWS];
	float		norms[MANY_ROWS];
	size_t		r;

	t->dot_norms(q, base, dim, &dot, &na, &nb);
	if (!check_value(t, K_DOT, "dot_norms.dot", dim, 0, dot, q, base) ||
		!check_value(t, K_NORM, "dot_norms.norm_a", dim, 0, na, q, q) ||
		!check_value(t, K_NORM, "dot_norms.norm_b", dim, 0, nb, base, base))
		return false;

	t->dot_norms_many(q, base, MANY_ROWS, dim, dots, norms);
	for (r = 0; r < MANY_ROWS; r++)
	{
		const float *x = base + r * dim;

		if (!check_value(t, K_DOT, "dot_norms_many.dot", dim, r, dots[r], q, x) ||
			!check_value(t, K_NORM, "dot_norms_many.norm", dim, r, norms[r], x, x))
			return false;
	}
	return true;
}

/*
 * Run one kernel (K_NORM meaning dot_norms) on every available path and
 * every test dim, one to one and one to many, with both operands one float
 * off alignment.  Stops at the first failure.
 */
static void
check_kernel_on_every_path(Kernel k)
{
	size_t		dims[320];
	size_t		ndims = test_dims(dims);
	size_t		maxdim = 16000;
	float	   *qbuf = malloc((maxdim + 1) * sizeof(float));
	float	   *bbuf = malloc((MANY_ROWS * maxdim + 1) * sizeof(float));
	const float *q = qbuf + 1;	/* unaligned on purpose */
	const float *base = bbuf + 1;
	bool		ok = true;
	int			isa;

	fill_random(qbuf, maxdim + 1, 1);
	fill_random(bbuf, MANY_ROWS * maxdim + 1, 2);

	for (isa = 0; ok && isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);
		size_t		di;

		if (t == NULL)
			continue;
		for (di = 0; ok && di < ndims; di++)
		{
			if (k == K_NORM)
				ok = check_dot_norms(t, dims[di], q, base);
			else
				ok = check_one_and_many(t, k, dims[di], q, base);
		}
	}
	free(qbuf);
	free(bbuf);
}

UNIT_TEST(l2sq_matches_double_reference_on_every_path)
{
	check_kernel_on_every_path(K_L2SQ);
}

UNIT_TEST(dot_matches_double_reference_on_every_path)
{
	check_kernel_on_every_path(K_DOT);
}

UNIT_TEST(l1_matches_double_reference_on_every_path)
{
	check_kernel_on_every_path(K_L1);
}

UNIT_TEST(dot_norms_match_double_reference_on_every_path)
{
	check_kernel_on_every_path(K_NORM);
}

/*
 * Place each operand so its last element ends a page whose successor is
 * PROT_NONE: a kernel that reads one float too far dies with SIGSEGV.
 */
UNIT_TEST(kernels_never_read_past_the_last_element)
{
	long		page = sysconf(_SC_PAGESIZE);
	size_t		maxdim = 80;
	size_t		rows = 5;
	char	   *map = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int			isa;

	CHECK(map != MAP_FAILED);
	/* pages 0-1 hold the rows, page 2 is the guard; page 3 is unused */
	CHECK(mprotect(map + 2 * page, page, PROT_NONE) == 0);
	CHECK(maxdim * rows * sizeof(float) <= (size_t) 2 * page);

	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);
		size_t		dim;

		if (t == NULL)
			continue;
		for (dim = 1; dim <= maxdim; dim++)
		{
			float	   *end = (float *) (map + 2 * page);
			float	   *base = end - rows * dim;
			float	   *q = end - dim;	/* the last row doubles as query */
			float		out[5];
			float		out2[5];
			float		d,
						na,
						nb;

			fill_random(base, rows * dim, dim);
			/* l2sq of a vector with itself is exactly zero */
			CHECK_MSG(t->l2sq(q, q, dim) == 0.0f, "%s l2sq dim %zu", t->name, dim);
			(void) t->dot(q, base, dim);
			(void) t->l1(base, q, dim);
			t->dot_norms(base, q, dim, &d, &na, &nb);
			t->l2sq_many(q, base, rows, dim, out);
			t->dot_many(q, base, rows, dim, out);
			t->l1_many(q, base, rows, dim, out);
			t->dot_norms_many(q, base, rows, dim, out, out2);
			CHECK_MSG(out2[rows - 1] == nb, "%s norm of last row dim %zu",
					  t->name, dim);
		}
	}
	munmap(map, 4 * page);
}

UNIT_TEST(empty_vectors_and_empty_blocks_give_zero_and_write_nothing)
{
	float		v[4] = {1.0f, 2.0f, 3.0f, 4.0f};
	int			isa;

	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);
		float		out[5] = {-1.0f, -1.0f, -1.0f, -1.0f, -1.0f};
		float		out2[5] = {-1.0f, -1.0f, -1.0f, -1.0f, -1.0f};
		float		d = -1.0f,
					na = -1.0f,
					nb = -1.0f;
		int			i;

		if (t == NULL)
			continue;
		CHECK_MSG(t->l2sq(v, v + 1, 0) == 0.0f, "%s l2sq dim 0", t->name);
		CHECK_MSG(t->dot(v, v + 1, 0) == 0.0f, "%s dot dim 0", t->name);
		CHECK_MSG(t->l1(v, v + 1, 0) == 0.0f, "%s l1 dim 0", t->name);
		t->dot_norms(v, v + 1, 0, &d, &na, &nb);
		CHECK_MSG(d == 0.0f && na == 0.0f && nb == 0.0f, "%s dot_norms dim 0", t->name);

		/* n = 0 writes nothing */
		t->l2sq_many(v, v, 0, 4, out);
		t->dot_norms_many(v, v, 0, 4, out, out2);
		CHECK_MSG(out[0] == -1.0f && out2[0] == -1.0f, "%s wrote with n = 0", t->name);

		/* dim 0: every row is empty, every result 0 */
		t->l1_many(v, v, 5, 0, out);
		for (i = 0; i < 5; i++)
			CHECK_MSG(out[i] == 0.0f, "%s l1_many dim 0 row %d", t->name, i);
	}
}

UNIT_TEST(scalar_path_is_always_available)
{
	const DistanceKernels *t = distance_kernels_for(KERNEL_ISA_SCALAR);

	CHECK(distance_isa_supported(KERNEL_ISA_SCALAR));
	CHECK(t != NULL);
	CHECK(t->isa == KERNEL_ISA_SCALAR);
	CHECK(strcmp(t->name, "scalar") == 0);
}

UNIT_TEST(each_table_names_its_own_isa)
{
	int			isa;

	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);

		CHECK_MSG((t != NULL) == distance_isa_supported((KernelIsa) isa),
				  "isa %d: table and support disagree", isa);
		if (t)
			CHECK_MSG(t->isa == (KernelIsa) isa, "table %s has isa %d, want %d",
					  t->name, (int) t->isa, isa);
	}
}

UNIT_TEST(out_of_range_isa_is_unsupported)
{
	CHECK(!distance_isa_supported(KERNEL_ISA_COUNT));
	CHECK(distance_kernels_for(KERNEL_ISA_COUNT) == NULL);
	CHECK(distance_kernels_for((KernelIsa) - 1) == NULL);
}

UNIT_TEST(select_scalar_forces_the_scalar_path)
{
	CHECK(distance_kernels_select("scalar"));
	CHECK(distance_kernels()->isa == KERNEL_ISA_SCALAR);
	CHECK(distance_kernels_select("auto"));
}

UNIT_TEST(select_each_supported_path_by_name)
{
	int			isa;

	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);

		if (t == NULL)
			continue;
		CHECK_MSG(distance_kernels_select(t->name), "select(%s)", t->name);
		CHECK_MSG(distance_kernels() == t, "select(%s) did not take", t->name);
	}
	CHECK(distance_kernels_select("auto"));
}

UNIT_TEST(select_auto_picks_the_widest_supported_path)
{
	KernelIsa	widest = KERNEL_ISA_SCALAR;
	int			isa;

	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
		if (distance_isa_supported((KernelIsa) isa))
			widest = (KernelIsa) isa;
	CHECK(distance_kernels_select("scalar"));
	CHECK(distance_kernels_select("auto"));
	CHECK(distance_kernels()->isa == widest);
}

UNIT_TEST(select_unknown_name_fails_and_keeps_selection)
{
	CHECK(distance_kernels_select("scalar"));
	CHECK(!distance_kernels_select("sse9"));
	CHECK(!distance_kernels_select(""));
	CHECK(!distance_kernels_select(NULL));
	CHECK(distance_kernels()->isa == KERNEL_ISA_SCALAR);
	CHECK(distance_kernels_select("auto"));
}

UNIT_TEST(select_unsupported_path_fails_and_keeps_selection)
{
	int			isa;

	CHECK(distance_kernels_select("scalar"));
	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		static const char *const names[] = {"scalar", "avx2", "avx512"};

		if (!distance_isa_supported((KernelIsa) isa))
			CHECK_MSG(!distance_kernels_select(names[isa]),
					  "select(%s) succeeded on a CPU without it", names[isa]);
	}
	CHECK(distance_kernels()->isa == KERNEL_ISA_SCALAR);
	CHECK(distance_kernels_select("auto"));
}

/*
 * LANCEDB_KERNEL acts on the first selection, which happened long ago in
 * this process, so the check runs in a fresh copy of the runner that runs
 * only this test, with the variable set and the expected path named in
 * LANCEDB_TEST_EXPECT_ISA.
 */
UNIT_TEST(lancedb_kernel_env_chooses_path_at_first_use)
{
	static const struct
	{
		const char *env;
		const char *expect;		/* NULL: the widest supported path */
	}			cases[] = {
		{"scalar", "scalar"},
		{"SCALAR", "scalar"},
		{"no-such-path", NULL},
		{"auto", NULL},
	};
	const char *expect = getenv("LANCEDB_TEST_EXPECT_ISA");
	size_t		i;

	if (expect)
	{
		/* the child: this must be the first call in the process */
		const DistanceKernels *t = distance_kernels();

		CHECK_MSG(strcmp(t->name, expect) == 0, "LANCEDB_KERNEL=%s chose %s, want %s",
				  getenv("LANCEDB_KERNEL"), t->name, expect);
		return;
	}

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *want = cases[i].expect;
		pid_t		pid;
		int			status;

		if (want == NULL)
		{
			CHECK(distance_kernels_select("auto"));
			want = distance_kernels()->name;
		}
		fflush(stdout);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
		{
			setenv("LANCEDB_KERNEL", cases[i].env, 1);
			setenv("LANCEDB_TEST_EXPECT_ISA", want, 1);
			/* the child's own "1 passed" line would clutter the report */
			if (!freopen("/dev/null", "w", stdout))
				_exit(3);
			execl("/proc/self/exe", "run_unit",
				  "lancedb_kernel_env_chooses_path_at_first_use", (char *) NULL);
			_exit(4);
		}
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				  "LANCEDB_KERNEL=%s: child did not choose %s (status %d)",
				  cases[i].env, want, status);
	}
}

UNIT_TEST(cosine_with_a_zero_vector_is_nan)
{
	CHECK(isnan(distance_cosine_from_parts(0.0, 0.0, 4.0)));
	CHECK(isnan(distance_cosine_from_parts(0.0, 4.0, 0.0)));
	CHECK(isnan(distance_cosine_from_parts(0.0, 0.0, 0.0)));
}

UNIT_TEST(cosine_of_parallel_orthogonal_and_opposite_vectors)
{
	/* a = (3, 4), b = (6, 8), c = (-4, 3), -a */
	CHECK(distance_cosine_from_parts(50.0, 25.0, 100.0) == 0.0);
	CHECK(distance_cosine_from_parts(0.0, 25.0, 25.0) == 1.0);
	CHECK(distance_cosine_from_parts(-25.0, 25.0, 25.0) == 2.0);
}

UNIT_TEST(cosine_clamps_rounding_into_zero_to_two)
{
	/* float sums can make |dot| exceed |a||b| by a few ulps */
	CHECK(distance_cosine_from_parts(1.0000001, 1.0, 1.0) == 0.0);
	CHECK(distance_cosine_from_parts(-1.0000001, 1.0, 1.0) == 2.0);
	CHECK(distance_cosine_from_parts(1e30, 1.0, 1.0) == 0.0);
}

UNIT_TEST(cosine_propagates_nan_input)
{
	CHECK(isnan(distance_cosine_from_parts(NAN, 1.0, 1.0)));
	CHECK(isnan(distance_cosine_from_parts(1.0, NAN, 1.0)));
}

UNIT_TEST(cosine_of_vector_with_itself_is_zero_on_every_path)
{
	float		v[100];
	int			isa;

	fill_random(v, 100, 7);
	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);
		float		dot,
					na,
					nb;
		double		c;

		if (t == NULL)
			continue;
		t->dot_norms(v, v, 100, &dot, &na, &nb);
		c = distance_cosine_from_parts(dot, na, nb);
		/* same terms in the same order: dot == na == nb exactly */
		CHECK_MSG(c == 0.0, "%s: cosine(v, v) = %g", t->name, c);
	}
}
