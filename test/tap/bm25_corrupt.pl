# A lance_bm25 metapage whose deletion fields are corrupt: every query is
# an "index corrupted" error naming the index and the segment, not silently
# wrong statistics or a failed allocation; and a deletion record that cannot
# be read fails each query without leaking the cache entry it was filling
# (the backend's TopMemoryContext does not grow over 500 failed queries).
# The fields are patched in the index file while the server is stopped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Bm25MetaPageData after the 24-byte page header; segs[0] at 40, each
# Bm25SegMeta 144 bytes with del_head at 112, del_npages at 116,
# del_nbytes at 120 and ndead at 128.
my $seg0 = 24 + 40;
my %field = (
	del_head => [ $seg0 + 112, 'V' ],
	del_npages => [ $seg0 + 116, 'V' ],
	del_nbytes => [ $seg0 + 120, 'Q<' ],
	ndead => [ $seg0 + 128, 'Q<' ]);

my $node = PostgreSQL::Test::Cluster->new('bm25_corrupt');
$node->init;
$node->append_conf('postgresql.conf', 'autovacuum = off');
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION lancedb_fdw;
CREATE TABLE docs (id int, body text);
INSERT INTO docs SELECT g, 'w' || g % 97 || ' x' || g % 89 || ' doc' || g
FROM generate_series(1, 20000) g;
CREATE INDEX docs_bm25 ON docs USING lance_bm25 (body);
DELETE FROM docs WHERE id % 10 = 3;
VACUUM (INDEX_CLEANUP ON) docs;
});
is($node->safe_psql('postgres', q{SELECT string_agg(docs || '/' || dead, ' ') FROM lance_bm25_segments('docs_bm25')}),
	'20000/2000', 'VACUUM wrote a deletion record');
my $file = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('docs_bm25')});
my $query = q{SET enable_seqscan = off; SELECT count(*) FROM docs WHERE body @@@ 'w5'};
my $want = $node->safe_psql('postgres', q{SELECT count(*) FROM docs WHERE body LIKE 'w5 %'});
is($node->safe_psql('postgres', $query), $want, 'the intact index answers');
$node->stop;
my $intact = slurp_file($file);
my ($ndead_off, $ndead_fmt) = @{ $field{ndead} };
is(unpack($ndead_fmt, substr($intact, $ndead_off, 8)), 2000,
	'segment 0 of the metapage is where this test patches it');

# Start the server on a copy of the index with one field of segment 0 set.
sub corrupt
{
	my ($name, $value) = @_;
	my ($off, $fmt) = @{ $field{$name} };
	my $bytes = $intact;
	substr($bytes, $off, length(pack($fmt, 0)), pack($fmt, $value));
	open(my $fh, '>:raw', $file) or die "cannot write $file: $!";
	print $fh $bytes;
	close($fh);
	$node->start;
	return;
}

sub restore
{
	$node->stop;
	open(my $fh, '>:raw', $file) or die "cannot write $file: $!";
	print $fh $intact;
	close($fh);
	return;
}

my @cases = (
	[ 'del_npages', 0, 'dead documents without a record' ],
	[ 'del_nbytes', 1 << 40, 'a record longer than its pages' ],
	[ 'ndead', 30000, 'more dead documents than documents' ]);
for my $case (@cases)
{
	my ($name, $value, $what) = @$case;

	corrupt($name, $value);
	my ($rc, $out, $err) = $node->psql('postgres', $query);
	like($err, qr/lance_bm25 index "docs_bm25": segment \d+ has .* dead/, "$what: the query names index and segment");
	($rc, $out, $err) = $node->psql('postgres', 'VACUUM docs');
	like($err, qr/index "docs_bm25": segment \d+ has/, "$what: VACUUM fails the same way");
	restore();
}

# a record whose directory is the metapage cannot be read
corrupt('del_head', 0);
my ($rc, $out, $err) = $node->psql('postgres', $query);
like($err, qr/block 0 is not a segment directory page/, 'an unreadable record fails the query');
my $growth = $node->safe_psql('postgres', q{
CREATE FUNCTION fail_queries(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	SET enable_seqscan = off;
	FOR i IN 1 .. n LOOP
		BEGIN
			PERFORM count(*) FROM docs WHERE body @@@ 'w5';
		EXCEPTION WHEN index_corrupted THEN
			NULL;
		END;
	END LOOP;
END
$$;
SELECT fail_queries(20);
CREATE TEMP TABLE mem_before AS
	SELECT used_bytes FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext';
SELECT fail_queries(500);
SELECT m.used_bytes - b.used_bytes
FROM pg_backend_memory_contexts m, mem_before b WHERE m.name = 'TopMemoryContext';
});
$growth = (split /\n/, $growth)[-1];
cmp_ok($growth, '<', 8192, "500 failed queries leave TopMemoryContext as it was (grew $growth bytes)");
restore();

$node->start;
is($node->safe_psql('postgres', $query), $want, 'the restored index answers');
$node->stop;
done_testing();
