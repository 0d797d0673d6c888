# Shared by the lance_bm25 TAP tests: load the GCIDE corpus, the 200
# queries and their references (../shared/data/bm25) into a node.
package bm25_common;

use strict;
use warnings;
use Cwd qw(abs_path);
use Exporter qw(import);

our @EXPORT = qw(bm25_data_dir bm25_load bm25_answers bm25_rank_differences bm25_count_differences);

# Where the corpus is: $LANCEDB_SHARED/data/bm25, else ../shared beside
# the repository.
sub bm25_data_dir
{
	my $shared = $ENV{LANCEDB_SHARED} // abs_path('../shared');
	return defined $shared ? "$shared/data/bm25" : undef;
}

sub bm25_load
{
	my ($node, $data) = @_;
	$node->safe_psql('postgres', qq{
CREATE EXTENSION lancedb_fdw;
CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
CREATE TABLE q (qid text, kind text, text text, src_doc text, df_min int, df_max int);
CREATE TABLE ref (qid text, rank int, id int, score float8, in_top int);
CREATE TABLE ref_en (LIKE ref);
CREATE TABLE mc (qid text, n_or int, n_and int, n_phrase int);
CREATE TABLE mc_en (LIKE mc);
\\copy docs FROM PROGRAM 'gzip -dc $data/gcide.csv.gz' (format csv, header)
\\copy q FROM '$data/queries.tsv' (format csv, delimiter E'\\t', header)
\\copy ref FROM '$data/ref_top10.tsv' (format csv, delimiter E'\\t', header)
\\copy ref_en FROM '$data/ref_top10_english.tsv' (format csv, delimiter E'\\t', header)
\\copy mc FROM '$data/match_counts.tsv' (format csv, delimiter E'\\t', header)
\\copy mc_en FROM '$data/match_counts_english.tsv' (format csv, delimiter E'\\t', header)
ANALYZE;
});
	return;
}

# Keep the top 10 and scores (rank_TAG) and the OR and phrase @@@ counts
# (count_TAG) of all 200 queries, as the index on table (docs unless
# given) answers them now.
sub bm25_answers
{
	my ($node, $tag, $table) = @_;
	$table //= 'docs';
	$node->safe_psql('postgres', qq{
SET enable_seqscan = off;
CREATE TABLE rank_$tag AS
	SELECT q.qid, r.id, r.s FROM q, LATERAL (
		SELECT id, -(body <\@> q.text) AS s FROM $table ORDER BY body <\@> q.text LIMIT 10) r;
CREATE TABLE count_$tag AS
	SELECT q.qid, (SELECT count(*) FROM $table WHERE body \@\@\@ q.text) AS n_or,
		(SELECT count(*) FROM $table WHERE body \@\@\@ ('"' || q.text || '"')) AS n_phrase
	FROM q;
});
	return;
}

# Rows of two bm25_answers rankings that differ (id or score).
sub bm25_rank_differences
{
	my ($node, $a, $b) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM rank_$a a FULL JOIN rank_$b b USING (qid, id)
WHERE a.s IS NULL OR b.s IS NULL OR abs(a.s - b.s) > 1e-9 * b.s});
}

# Queries whose bm25_answers counts differ.
sub bm25_count_differences
{
	my ($node, $a, $b) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM count_$a a JOIN count_$b b USING (qid)
WHERE a.n_or <> b.n_or OR a.n_phrase <> b.n_phrase});
}

1;
