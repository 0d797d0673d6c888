/*-------------------------------------------------------------------------
 *
 * fuzz_datafile.c
 *	  libFuzzer target over data files: footer, column metadata, page
 *	  layouts and every decoder, reached through a real schema.
 *
 * A copy of a LanceDB-made dataset is made once (LANCE_FUZZ_DATASET, at
 * LANCE_FUZZ_VERSION, default 1); each input replaces the first data file
 * of its first fragment, and the whole version is scanned, every column.
 * Inputs are cut or zero-padded to the file's original size: the manifest
 * records it and footers are found from it, so any other size would stop
 * at the first check instead of reaching the pages.
 * Any bytes must give rows or an error; ASan/UBSan turn an overread,
 * overflow or leak into a crash.  Seeds: that data file and its siblings.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lance/dataset.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dataset_dir[4096];
static char target_file[4096];
static uint64_t version = 1;
static size_t file_size;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_datafile: %s\n", what);
	exit(2);
}

/* Copy the template dataset once and find the file inputs replace. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("LANCE_FUZZ_DATASET");
	const char *ver = getenv("LANCE_FUZZ_VERSION");
	char		cmd[9000];
	Storage    *st;
	LanceDataset *ds;
	const LanceManifest *m;
	CoreError	err;

	if (src == NULL)
		die("set LANCE_FUZZ_DATASET to a LanceDB-made dataset directory");
	if (ver)
		version = strtoull(ver, NULL, 10);
	snprintf(dataset_dir, sizeof(dataset_dir), "/tmp/fuzz_datafile.XXXXXX");
	if (mkdtemp(dataset_dir) == NULL)
		die("cannot make a temporary directory");
	snprintf(cmd, sizeof(cmd), "cp -r '%s/.' '%s/'", src, dataset_dir);
	if (system(cmd) != 0)
		die("cannot copy the dataset");

	if (storage_open(dataset_dir, &st, &err) != CORE_OK ||
		lance_dataset_open(st, "", version, &ds, &err) != CORE_OK)
		die(err.msg);
	m = lance_dataset_manifest(ds);
	if (m->num_fragments == 0 || m->fragments[0].num_files == 0)
		die("the dataset has no data file");
	snprintf(target_file, sizeof(target_file), "%s/%s", dataset_dir,
			 m->fragments[0].files[0].path);
	{
		FILE	   *f = fopen(target_file, "rb");

		if (f == NULL || fseek(f, 0, SEEK_END) != 0)
			die("cannot open the data file");
		file_size = (size_t) ftell(f);
		fclose(f);
	}
	lance_dataset_close(ds);
	storage_close(st);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE	   *f = fopen(target_file, "wb");
	size_t		keep = size < file_size ? size : file_size;
	Storage    *st;
	LanceDataset *ds;
	LanceScanner *sc;
	LanceBatch *batch;
	LanceScanOptions opts = {0};
	CoreError	err;

	if (f == NULL || fwrite(data, 1, keep, f) != keep)
		die("cannot write the data file");
	for (size_t i = keep; i < file_size; i++)
		fputc(0, f);
	if (fclose(f) != 0)
		die("cannot write the data file");

	if (storage_open(dataset_dir, &st, &err) != CORE_OK)
		die(err.msg);
	if (lance_dataset_open(st, "", version, &ds, &err) == CORE_OK)
	{
		if (lance_scanner_open(ds, &opts, &sc, &err) == CORE_OK)
		{
			while (lance_scanner_next(sc, &batch, &err) == CORE_OK && batch != NULL)
				lance_batch_free(batch);
			lance_scanner_close(sc);
		}
		lance_dataset_close(ds);
	}
	storage_close(st);
	return 0;
}
