# VACUUM of rows deleted all over a lance_bm25 index records them beside
# its segment (a deletion record, generic WAL) instead of rewriting it;
# after a crash right after it (no checkpoint since), WAL replay restores
# the record: all 200 queries give the top 10, scores and @@@ counts of an
# index built fresh from the surviving rows, before and after the crash,
# and a second VACUUM adds to the recovered record.  The first 30,000
# documents of the corpus keep the test short.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use bm25_common;

my $data = bm25_data_dir();
plan skip_all => "the BM25 corpus is not at $data" unless -f "$data/gcide.csv.gz";

my $node = PostgreSQL::Test::Cluster->new('bm25_vacuum_crash');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = '256MB'\nautovacuum = off");
$node->start;
bm25_load($node, $data);
$node->safe_psql('postgres', q{
DELETE FROM docs WHERE id > 30000;
VACUUM docs;
CREATE INDEX docs_bm25 ON docs USING lance_bm25 (body);
CHECKPOINT;
DELETE FROM docs WHERE id % 10 = 3;
VACUUM (INDEX_CLEANUP ON) docs;
});
is($node->safe_psql('postgres', q{SELECT string_agg(docs || '/' || dead, ' ') FROM lance_bm25_segments('docs_bm25')}),
	'30000/3000', 'VACUUM recorded the dead rows without rewriting the segment');
bm25_answers($node, 'vacuumed');

$node->stop('immediate');
$node->start;
like(slurp_file($node->logfile), qr/database system was not properly shut down; automatic recovery in progress/,
	'the server went through crash recovery');
is($node->safe_psql('postgres', q{SELECT string_agg(docs || '/' || dead, ' ') FROM lance_bm25_segments('docs_bm25')}),
	'30000/3000', 'the deletion record survived the crash');
bm25_answers($node, 'recovered');

# a fresh build of the surviving rows, in a copy of the table
sub fresh_answers
{
	my ($tag) = @_;
	$node->safe_psql('postgres', qq{
DROP TABLE IF EXISTS docs_fresh;
CREATE TABLE docs_fresh AS SELECT * FROM docs;
CREATE INDEX ON docs_fresh USING lance_bm25 (body);
});
	bm25_answers($node, $tag, 'docs_fresh');
	return;
}
fresh_answers('fresh');
for my $tag ('vacuumed', 'recovered')
{
	is(bm25_rank_differences($node, $tag, 'fresh'), '0',
		"$tag: all 200 top-10 lists and scores equal a fresh build");
	is(bm25_count_differences($node, $tag, 'fresh'), '0',
		"$tag: all OR and phrase match counts equal a fresh build");
}
ok($node->safe_psql('postgres', 'SELECT count(*) FROM rank_fresh') > 1000, 'the queries return rows');

# a second VACUUM adds to the recovered record
$node->safe_psql('postgres', q{
DELETE FROM docs WHERE id % 10 = 7;
VACUUM (INDEX_CLEANUP ON) docs;
});
is($node->safe_psql('postgres', q{SELECT string_agg(docs || '/' || dead, ' ') FROM lance_bm25_segments('docs_bm25')}),
	'30000/6000', 'a second VACUUM added to the record');
bm25_answers($node, 'second');
fresh_answers('fresh_second');
is(bm25_rank_differences($node, 'second', 'fresh_second'), '0',
	'after the second VACUUM all 200 top-10 lists and scores equal a fresh build');
is(bm25_count_differences($node, 'second', 'fresh_second'), '0',
	'after the second VACUUM all OR and phrase match counts equal a fresh build');

$node->stop;
done_testing();
