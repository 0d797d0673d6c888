# A backend killed in the middle of a COPY into a Lance foreign table leaves
# the dataset readable at its previous version: data files already written
# are orphans no manifest names, and no version appears.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use crash_restart;
use lance_write;

my $node = PostgreSQL::Test::Cluster->new('write_crash');
$node->init;
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
# COPY's fast path is a hook of the library: load it in every session
$node->append_conf('postgresql.conf', "session_preload_libraries = 'lancedb_fdw'");
$node->start;

my $root = PostgreSQL::Test::Utils::tempdir;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION lancedb_fdw;
	CREATE SERVER s FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$root');
	CREATE FOREIGN TABLE t (id bigint NOT NULL) SERVER s OPTIONS (max_rows_per_file '10000');
	SELECT lance_create_table('t');
	INSERT INTO t SELECT generate_series(1, 100);
});
is($node->safe_psql('postgres', 'SELECT max(version) FROM lance_versions(\'t\')'),
	'2', 'the dataset is at version 2 before the COPY');

# a COPY fed 10 000 rows every 0.1 s for a minute, killed while it runs;
# the program stops at its first write after the backend is gone (it
# holds the client socket too, so it must not outlive the backend)
my ($out, $err) = ('', '');
my $copy = IPC::Run::start(
	[
		'psql', '-X', '-d', $node->connstr('postgres'), '-c',
		q{COPY t FROM PROGRAM 'i=1000; while [ $i -lt 6000000 ]; do seq $i $((i + 9999)) || exit 1; i=$((i + 10000)); sleep 0.1; done'}
	],
	'>', \$out, '2>', \$err);

# wait until the COPY has written data files of its own
my $files_before = data_files($root);
ok(wait_for_data_files($root, $files_before + 2) >= $files_before + 2,
	'the COPY wrote data files before it was killed');

my $pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY t FROM%' AND pid <> pg_backend_pid()});
ok($pid =~ /^\d+$/, 'found the COPY backend');
kill_backend_and_wait_restart($node, $pid);
$copy->finish;

is($node->safe_psql('postgres', 'SELECT max(version) FROM lance_versions(\'t\')'),
	'2', 'no version was made by the killed COPY');
is($node->safe_psql('postgres', 'SELECT count(*), sum(id) FROM t'),
	'100|5050', 'the dataset reads at its previous version');

# and it can still be written
$node->safe_psql('postgres', 'INSERT INTO t VALUES (101)');
is($node->safe_psql('postgres', 'SELECT max(version) FROM lance_versions(\'t\')'),
	'3', 'a new write after the crash makes version 3');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '101', 'and reads back');

$node->stop;
done_testing();
