# Helpers of the TAP tests that write Lance datasets: a node with a small
# Lance table t (id, vector(4)) of 100 rows and 10,000-row files, and
# waiting for a COPY into t to write data files of its own.
package lance_write;

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(start_node_with_vector_table data_files wait_for_data_files);

# A started node named $name and the dataset root its server points at.
sub start_node_with_vector_table
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $root = PostgreSQL::Test::Utils::tempdir;

	$node->init;
	# COPY's fast path is a hook of the library: load it in every session
	$node->append_conf('postgresql.conf', "session_preload_libraries = 'lancedb_fdw'");
	$node->start;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION lancedb_fdw;
		CREATE SERVER s FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$root');
		CREATE FOREIGN TABLE t (id bigint NOT NULL, v vector(4)) SERVER s
			OPTIONS (max_rows_per_file '10000');
		SELECT lance_create_table('t');
		INSERT INTO t SELECT i, '[1,2,3,4]' FROM generate_series(1, 100) i;
	});
	return ($node, $root);
}

# How many data files table t under $root has.
sub data_files
{
	my ($root) = @_;
	return scalar(() = glob("$root/t.lance/data/*.lance"));
}

# Waits up to a minute until table t has at least $want data files, and
# returns how many it has then.
sub wait_for_data_files
{
	my ($root, $want) = @_;

	for (my $waited = 0; $waited < 600 && data_files($root) < $want; $waited++)
	{
		usleep(100_000);
	}
	return data_files($root);
}

1;
