# lancedb_fdw — PGXS build.
#
#   make               build the extension (the core library is linked in)
#   make install       install it into the server found by pg_config
#   make installcheck  pg_regress against a running server
#   make unit          build and run the core's unit tests (no server needed)
#   make bench         build the benchmarks and run the kernel benchmark
#
# The core (src/core, src/kernels, src/lance, src/storage) is compiled without the
# server's include directories, so a stray #include "postgres.h" there fails
# to build: that is how DESIGN.md's layering rule is kept.

EXTENSION = lancedb_fdw
MODULE_big = lancedb_fdw
# The install script is assembled from one part per feature area.
EXT_VERSION = 0.1.0
EXT_SCRIPT = lancedb_fdw--$(EXT_VERSION).sql
EXT_PARTS = $(sort $(wildcard sql/ext/*.sql))
DATA_built = $(EXT_SCRIPT)
PGFILEDESC = "lancedb_fdw - Lance datasets, vector indexes and BM25 in PostgreSQL"

REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

# Isolation specs (concurrency) run with installcheck when there are any:
# test/isolation/specs/NAME.spec with test/isolation/expected/NAME.out.
ISOLATION := $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config

# Bitcode for the JIT would need the ISA flags below in clang too; the
# kernels are already vectorized by hand, so skip it.
override with_llvm = no

# --- the Postgres-free core -------------------------------------------------

PROTOS = $(wildcard src/lance/proto/*.proto)
PROTO_C = $(PROTOS:.proto=.pb-c.c)
PROTO_H = $(PROTOS:.proto=.pb-c.h)

CORE_SRCS = $(sort $(wildcard src/core/*.c src/kernels/*.c src/lance/*.c src/storage/*.c) $(PROTO_C))
CORE_OBJS = $(CORE_SRCS:.c=.o)

BACKEND_SRCS = $(sort $(wildcard src/*.c src/types/*.c src/fdw/*.c src/am/*.c src/am/*/*.c))
BACKEND_OBJS = $(BACKEND_SRCS:.c=.o)

OBJS = $(BACKEND_OBJS) $(CORE_OBJS)

CORE_LIBS = -lzstd -llz4 -lcurl -lssl -lcrypto -lopenblas -lprotobuf-c -lroaring -lm
SHLIB_LINK = $(CORE_LIBS)

# -Wextra meets the server's headers, which trip these three by design.
WARNINGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
WERROR ?= -Werror
PG_CFLAGS = $(WARNINGS) $(WERROR)
PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/lance/proto

EXTRA_CLEAN = $(OBJS:.o=.d) $(PROTO_C) $(PROTO_H) test/unit/run_unit bench/kernels/bench_kernels \
	test/interop/lance_dump \
	results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Rebuild an object when a header it includes changes (PGXS does not track
# headers unless the server was configured with --enable-depend).
$(OBJS): CFLAGS += -MMD -MP
-include $(OBJS:.o=.d)

# The core sees only its own headers (and the system's).
$(CORE_OBJS): override CPPFLAGS = -D_GNU_SOURCE -I$(srcdir)/src -I$(srcdir)/src/lance/proto
$(CORE_OBJS): | $(PROTO_H)
$(BACKEND_OBJS): | $(PROTO_H)

# One file per instruction set, each built for that set alone.
%_avx2.o: CFLAGS += -mavx2 -mfma
# BM25 scores must come out bit-equal whichever path ranks them: no FMA fusing
src/kernels/bm25_%.o: CFLAGS += -ffp-contract=off
%_avx512.o: CFLAGS += -mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma

$(EXT_SCRIPT): $(EXT_PARTS)
	cat $^ > $@

%.pb-c.c %.pb-c.h: %.proto
	protoc-c --proto_path=$(dir $<) --c_out=$(dir $<) $<

# --- unit tests and benchmarks ----------------------------------------------

UNIT_SRCS = $(sort $(wildcard test/unit/*.c))

test/unit/run_unit: $(UNIT_SRCS) $(CORE_OBJS) $(wildcard test/unit/*.h)
	$(CC) $(CFLAGS) $(WARNINGS) $(WERROR) -D_GNU_SOURCE -I$(srcdir)/src -I$(srcdir)/src/lance/proto \
		-o $@ $(UNIT_SRCS) $(CORE_OBJS) $(CORE_LIBS)

.PHONY: unit bench
unit: test/unit/run_unit
	test/unit/run_unit

# --- interop with the real LanceDB -----------------------------------------
#   make test/interop/lance_dump   our reader as a command (prints a dataset
#                                  the way lancedb_ref.mjs dump does)
#   make interop-core              compare it with LanceDB on every fixture
#                                  table and version; needs LANCEDB_FIXTURES
#                                  (made by lancedb_ref.mjs make-fixtures) and
#                                  LANCEDB_REF (the folder of lancedb_ref.mjs,
#                                  default test/interop/.lancedb); nested types
#                                  in big pages: make_nested_fixtures.mjs

test/interop/lance_dump: test/interop/lance_dump.c $(CORE_OBJS)
	$(CC) $(CFLAGS) $(WARNINGS) $(WERROR) -D_GNU_SOURCE -I$(srcdir)/src \
		-o $@ $< $(CORE_OBJS) $(CORE_LIBS)

.PHONY: interop-core
interop-core: test/interop/lance_dump
	test/interop/compare_core.sh

bench/kernels/bench_kernels: bench/kernels/bench_kernels.c $(CORE_OBJS)
	$(CC) $(CFLAGS) $(WARNINGS) $(WERROR) -D_GNU_SOURCE -I$(srcdir)/src \
		-o $@ $< $(CORE_OBJS) $(CORE_LIBS)

bench: bench/kernels/bench_kernels
	bench/kernels/bench_kernels

# --- fuzzing (clang + libFuzzer + ASan/UBSan; not part of the PGXS build) --
#   make fuzz [FUZZ_SECONDS=60]   build every target and run each for that
#                                 long; seeds come from LANCEDB_FIXTURES.
#   fuzz_codec     every codec and deletion-file reader (selector byte first)
#   fuzz_manifest  the manifest parser, seeded with the fixtures' manifests
#   fuzz_datafile  a data file of a copied fixture dataset, scanned whole;
#                  run once per file format (2.0, 2.1, 2.2)
# Corpora live in .build/; a crash leaves its input there as crash-*.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# The targets never reach the kernels (and the ISA files need their own
# flags), so the kernels and the index search that calls them stay out.
FUZZ_CORE_SRCS = $(filter-out src/kernels/% src/lance/index_ivf.c,$(CORE_SRCS))
FUZZ_TARGETS = test/fuzz/fuzz_codec test/fuzz/fuzz_manifest test/fuzz/fuzz_datafile

test/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_CORE_SRCS) $(PROTO_H) $(wildcard src/*/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -I$(srcdir)/src -I$(srcdir)/src/lance/proto -o $@ \
		$< $(FUZZ_CORE_SRCS) $(CORE_LIBS)

.PHONY: fuzz
fuzz: $(FUZZ_TARGETS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) test/fuzz/run.sh
