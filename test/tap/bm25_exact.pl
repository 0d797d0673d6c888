# The exactness gate of lance_bm25 on the shared GCIDE corpus (126,236
# documents, 200 queries): in the built-in "simple" mode and with the
# 'english' text search configuration, every query's top 10 equals the
# exact BM25 reference (ties at the 10th score accepted, as its README
# says) with scores equal to 1e-6 relative, and @@@ counts equal the
# reference match counts in OR, AND and phrase modes.
#
# The reference files print scores with six decimals, so a score may be
# off by 5e-7 from its printed value on top of the 1e-6 relative bound.
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

my $node = PostgreSQL::Test::Cluster->new('bm25_exact');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = '256MB'\nfsync = off");
$node->start;
bm25_load($node, $data);

# Queries whose top 10 is not the reference's: a wrong count, an id that is
# neither in the top 10 nor tied with the 10th, or a score that differs.
sub wrong_rankings
{
	my ($ref) = @_;
	return $node->safe_psql('postgres', qq{
CREATE TEMP TABLE got AS
	SELECT q.qid, r.id, r.s FROM q, LATERAL (
		SELECT id, -(body <\@> q.text) AS s FROM docs ORDER BY body <\@> q.text LIMIT 10) r;
SELECT string_agg(q.qid, ' ' ORDER BY q.qid) FROM q WHERE
	(SELECT count(*) FROM got g WHERE g.qid = q.qid) <>
		(SELECT count(*) FROM $ref r WHERE r.qid = q.qid AND r.in_top = 1)
	OR EXISTS (SELECT 1 FROM got g WHERE g.qid = q.qid AND NOT EXISTS (
		SELECT 1 FROM $ref r WHERE r.qid = g.qid AND r.id = g.id
			AND abs(r.score - g.s) <= 1e-6 * r.score + 5e-7));
});
}

# Queries whose @@@ count differs from the reference in a mode.
sub wrong_counts
{
	my ($mc, $mode) = @_;
	my %rhs = (
		or => 'q.text',
		and => q{replace(q.text, ' ', ' AND ')},
		phrase => q{('"' || q.text || '"')});
	my $col = "n_$mode";
	return $node->safe_psql('postgres', qq{
SET enable_seqscan = off;
SELECT string_agg(q.qid, ' ' ORDER BY q.qid) FROM q JOIN $mc m USING (qid)
WHERE m.$col IS NOT NULL
	AND (SELECT count(*) FROM docs WHERE body \@\@\@ $rhs{$mode}) <> m.$col;
});
}

sub check_plan
{
	my ($index) = @_;
	my $plan = $node->safe_psql('postgres',
		q{EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY body <@> 'ocean wave' LIMIT 10});
	like($plan, qr/Index Scan using $index/, "ORDER BY <\@> LIMIT is a scan of $index");
	$plan = $node->safe_psql('postgres',
		q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT count(*) FROM docs WHERE body @@@ 'ocean'});
	like($plan, qr/$index/, "WHERE \@\@\@ uses $index");
}

$node->safe_psql('postgres', 'CREATE INDEX docs_simple ON docs USING lance_bm25 (body)');
check_plan('docs_simple');
is(wrong_rankings('ref'), '', 'simple: all 200 top-10 lists and scores equal ref_top10.tsv');
is(wrong_counts('mc', 'or'), '', 'simple: OR match counts equal match_counts.tsv');
is(wrong_counts('mc', 'and'), '', 'simple: AND match counts equal match_counts.tsv');
is(wrong_counts('mc', 'phrase'), '', 'simple: phrase match counts equal match_counts.tsv');

$node->safe_psql('postgres', q{
DROP INDEX docs_simple;
CREATE INDEX docs_english ON docs USING lance_bm25 (body) WITH (text_config = 'english');
});
check_plan('docs_english');
is(wrong_rankings('ref_en'), '', 'english: all 200 top-10 lists and scores equal ref_top10_english.tsv');
is(wrong_counts('mc_en', 'or'), '', 'english: OR match counts equal match_counts_english.tsv');
is(wrong_counts('mc_en', 'and'), '', 'english: AND match counts equal match_counts_english.tsv');

$node->stop;
done_testing();
