# lance_hnsw crash recovery: kill -9 the server during a stream of
# committed inserts, restart, and check that the graph is sound and every
# committed row is found through the index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use FindBin;
use lib $FindBin::RealBin;
use crash_restart;

my $node = PostgreSQL::Test::Cluster->new('hnsw_crash');
$node->init;
# the test framework turns this off; the crash below relies on it
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION lancedb_fdw;
	CREATE TABLE t (id int, v vector(8));
	INSERT INTO t SELECT i, (SELECT array_agg(random()) FROM generate_series(1, 8) WHERE i > 0)::vector
		FROM generate_series(1, 500) i;
	CREATE INDEX t_v_idx ON t USING lance_hnsw (v) WITH (m = 8, ef_construction = 32);
	CREATE PROCEDURE fill(n int) LANGUAGE plpgsql AS $$
	BEGIN
		FOR i IN 501 .. 500 + n LOOP
			INSERT INTO t SELECT i, (SELECT array_agg(random()) FROM generate_series(1, 8) WHERE i > 0)::vector;
			COMMIT;
		END LOOP;
	END $$;
});

# a stream of single-row transactions, killed mid-way
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', 'CALL fill(1000000)' ],
	'>', \$out, '2>', \$err);
my $rows = 0;
for (my $i = 0; $i < 600 && $rows < 2000; $i++)
{
	usleep(100_000);
	$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
}
cmp_ok($rows, '>=', 2000, 'inserts were running when the server was killed');

# kill -9 the inserting backend: the postmaster then resets every backend
# and replays the WAL, as after a crash of the whole server
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL fill%'");
kill_backend_and_wait_restart($node, $pid);
eval { $h->finish; };
like(slurp_file($node->logfile), qr/database system was not properly shut down/,
	'the server replayed its WAL');

# An insert cut off between writing its element and linking it leaves
# that element unreachable; its row never committed.  At most the one
# insert in flight can be in that state, and VACUUM removes it.
my ($unreachable, $bad) = split /\|/, $node->safe_psql('postgres',
	"SELECT unreachable, bad_links + bad_levels FROM lance_hnsw_check('t_v_idx')");
is($bad, '0', 'no link is broken after crash recovery');
cmp_ok($unreachable, '<=', 1, 'at most the interrupted insert is unlinked');
$node->safe_psql('postgres', 'VACUUM t');
is($node->safe_psql('postgres', "SELECT ok FROM lance_hnsw_check('t_v_idx')"),
	't', 'the graph is sound after crash recovery and VACUUM');

my ($committed, $indexed) = split /\|/, $node->safe_psql('postgres',
	"SELECT count(*), (SELECT elements FROM lance_hnsw_check('t_v_idx')) FROM t");
cmp_ok($indexed, '>=', $committed, 'every committed row has an element');

# each row's own vector must lead back to it through the index
my $lost = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET lancedb.hnsw_ef_search = 100;
	SELECT count(*) FROM t
	WHERE t.id <> (SELECT t2.id FROM t t2 ORDER BY t2.v <-> t.v LIMIT 1);
});
is($lost, '0', 'every committed row is found through the index');

# and the index keeps working: more inserts, a vacuum, a check
$node->safe_psql('postgres', q{
	CALL fill(200);
	DELETE FROM t WHERE id % 4 = 0;
	VACUUM t;
});
is($node->safe_psql('postgres', "SELECT ok FROM lance_hnsw_check('t_v_idx')"),
	't', 'inserts and vacuum after recovery keep the graph sound');

$node->stop;
done_testing();
