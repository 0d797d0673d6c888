# lance_bm25 survives kill -9 in the middle of a stream of inserts: after
# crash recovery (generic WAL replay) the index gives, for all 200 queries,
# the same top 10 and scores and the same @@@ counts as an index built
# fresh from the rows that committed.  The stream is long enough to turn
# the insert buffer into a segment at least once before the kill.  The
# first 30,000 documents of the corpus keep the test short; exactness on
# the whole corpus is bm25_exact.pl's.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use crash_restart;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use bm25_common;

my $data = bm25_data_dir();
plan skip_all => "the BM25 corpus is not at $data" unless -f "$data/gcide.csv.gz";

my $node = PostgreSQL::Test::Cluster->new('bm25_crash');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = '256MB'\nrestart_after_crash = on");
$node->start;
bm25_load($node, $data);
$node->safe_psql('postgres', q{
DELETE FROM docs WHERE id > 30000;
VACUUM docs;
CHECKPOINT;
CREATE INDEX docs_bm25 ON docs USING lance_bm25 (body);
CHECKPOINT;
});

# Single-row inserts, each its own transaction: copies of documents with
# shifted ids, so the statistics move with every commit.
# (IPC::Run feeds a scalar stdin only while pumped, so the script is a file.)
my $script = "${PostgreSQL::Test::Utils::tmp_check}/bm25_inserts.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	join('', map { "INSERT INTO docs SELECT id + 1000000, title, body FROM docs WHERE id = $_;\n" } 1 .. 20000));
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-f', $script ],
	'>', \$out, '2>', \$err);

# wait until more rows than one buffer's worth are in, then kill -9 the
# inserting backend: the postmaster restarts everything and replays WAL
my $n = 0;
for (my $i = 0; $i < 600 && $n < 1200; $i++)
{
	usleep(50_000);
	$n = $node->safe_psql('postgres', 'SELECT count(*) FROM docs WHERE id > 1000000');
}
cmp_ok($n, '>=', 1200, 'inserts were running when the backend was killed');
my $pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO docs%' AND pid <> pg_backend_pid()});
ok($pid =~ /^\d+$/, 'found the inserting backend');
my $up = kill_backend_and_wait_restart($node, $pid);
$h->finish;
ok($up, 'the server restarted');
like(slurp_file($node->logfile), qr/all server processes terminated; reinitializing/,
	'the server went through crash recovery');

my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM docs WHERE id > 1000000');
cmp_ok($committed, '>=', $n, 'committed inserts survived the crash');

# the recovered index, then a fresh build over the same rows
bm25_answers($node, 'recovered');
$node->safe_psql('postgres', 'DROP INDEX docs_bm25; CREATE INDEX docs_bm25 ON docs USING lance_bm25 (body)');
bm25_answers($node, 'fresh');

is(bm25_rank_differences($node, 'recovered', 'fresh'), '0',
	'after recovery all 200 top-10 lists and scores equal a fresh build');
is(bm25_count_differences($node, 'recovered', 'fresh'), '0',
	'after recovery all OR and phrase match counts equal a fresh build');
ok($node->safe_psql('postgres', 'SELECT count(*) FROM rank_fresh') > 1000, 'the queries return rows');

$node->stop;
done_testing();
