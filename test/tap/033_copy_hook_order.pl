# COPY's fast path and other extensions' ProcessUtility hooks: with
# pg_stat_statements' hook installed before ours, COPY keeps the standard
# path (lancedb.copy_fast_path_available says so) and pg_stat_statements
# counts it; with lancedb_fdw loaded first, its hook is the innermost one,
# COPY takes the fast path, and pg_stat_statements, whose hook wraps ours,
# still counts it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('copy_hook_order');
my $root = PostgreSQL::Test::Utils::tempdir;

$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements'
session_preload_libraries = 'lancedb_fdw'
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION pg_stat_statements;
	CREATE EXTENSION lancedb_fdw;
	CREATE SERVER s FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$root');
	CREATE FOREIGN TABLE t (id bigint NOT NULL, v vector(2)) SERVER s;
	SELECT lance_create_table('t');
});

# COPY 3 rows in a session of its own, with DEBUG1 messages shown; its
# stderr, and the calls and rows pg_stat_statements counted for it
sub copy_rows
{
	my ($tag) = @_;
	my ($stdout, $stderr);

	$node->psql('postgres', qq{
SET client_min_messages = debug1;
COPY t FROM PROGRAM 'printf "1\\t[1,2]\\n2\\t[3,4]\\n3\\t[5,6]\\n"' /* $tag */;
}, stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
	my $counted = $node->safe_psql('postgres',
		qq{SELECT calls, rows FROM pg_stat_statements WHERE query LIKE 'COPY t%$tag%'});
	return ($stderr, $counted);
}

my ($stderr, $counted) = copy_rows('outer_hook');
unlike($stderr, qr/runs on the Lance fast path/,
	'with a hook installed before ours, COPY takes the standard path');
is($node->safe_psql('postgres', 'SHOW lancedb.copy_fast_path_available'), 'off',
	'lancedb.copy_fast_path_available says the fast path is off');
is($counted, '1|3', 'pg_stat_statements counted the standard-path COPY');

# lancedb_fdw first: pg_stat_statements' hook wraps ours
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lancedb_fdw, pg_stat_statements'
session_preload_libraries = ''
});
$node->restart;
($stderr, $counted) = copy_rows('inner_hook');
like($stderr, qr/runs on the Lance fast path/,
	'loaded before pg_stat_statements, COPY takes the fast path');
is($node->safe_psql('postgres', 'SHOW lancedb.copy_fast_path_available'), 'on',
	'lancedb.copy_fast_path_available says the fast path is on');
is($counted, '1|3', 'pg_stat_statements counted the fast-path COPY');
is($node->safe_psql('postgres', 'SELECT count(*), sum(id) FROM t'), '6|12',
	'both COPYs wrote their rows');

$node->stop;
done_testing();
