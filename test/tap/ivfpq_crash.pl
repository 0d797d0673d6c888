# lance_ivfpq crash recovery: build, insert (filling tail pages so new pages
# are chained), delete + VACUUM, kill -9 the server, restart, and check
# that WAL replay left a consistent index that still finds every row.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ivfpq');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION lancedb_fdw');
$node->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v vector(16));
	INSERT INTO t
	SELECT i, (SELECT array_agg(sin(i * 0.11 * j + j))::vector(16)
			   FROM generate_series(1, 16) j)
	FROM generate_series(1, 2000) i;
	CREATE INDEX t_ivfpq ON t USING lance_ivfpq (v vector_l2_ops) WITH (lists = 8);
});

# a checkpoint first, so that what follows is only in the WAL
$node->safe_psql('postgres', 'CHECKPOINT');
$node->safe_psql('postgres', q{
	INSERT INTO t
	SELECT i, (SELECT array_agg(cos(i * 0.07 * j + j))::vector(16)
			   FROM generate_series(1, 16) j)
	FROM generate_series(2001, 6000) i;
	DELETE FROM t WHERE id % 5 = 0;
	VACUUM t;
	INSERT INTO t
	SELECT i, (SELECT array_agg(sin(i * 0.05 * j))::vector(16)
			   FROM generate_series(1, 16) j)
	FROM generate_series(6001, 6500) i;
});
my $before = $node->safe_psql('postgres', "SELECT lance_ivfpq_check('t_ivfpq')");
is($before, 5300, 'index holds every live row before the crash');

$node->stop('immediate');
$node->start;

my $after = $node->safe_psql('postgres', "SELECT lance_ivfpq_check('t_ivfpq')");
is($after, $before, 'lance_ivfpq_check passes after recovery with the same entry count');

# every row is reachable through the index with all lists probed
my $found = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET lancedb.ivfpq_nprobes = 8;
	SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 6001) LIMIT 10000) s;
});
is($found, 5300, 'an index scan returns every row after recovery');

# the first row is the query's own
my $first = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET lancedb.ivfpq_nprobes = 8;
	SET lancedb.ivfpq_refine_factor = 10;
	SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 6001) LIMIT 1;
});
is($first, 6001, 'nearest neighbour of a row inserted before the crash is itself');

# inserts keep working on the recovered index
$node->safe_psql('postgres', q{
	INSERT INTO t SELECT i, (SELECT array_agg(cos(i * 0.03 * j))::vector(16)
							 FROM generate_series(1, 16) j)
	FROM generate_series(6501, 7000) i;
});
is($node->safe_psql('postgres', "SELECT lance_ivfpq_check('t_ivfpq')"), 5800,
	'inserts after recovery are indexed');

$node->stop;
done_testing();
