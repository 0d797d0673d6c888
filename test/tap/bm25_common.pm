# Shared by the lance_bm25 TAP tests: load the GCIDE corpus, the 200
# queries and their references (../shared/data/bm25) into a node.
package bm25_common;

use strict;
use warnings;
use Cwd qw(abs_path);
use Exporter qw(import);

our @EXPORT = qw(bm25_data_dir bm25_load);

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

1;
