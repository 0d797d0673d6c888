# A transaction whose COPY into a Lance table leaves a data file being
# written in the background.  The first half is a smoke test only: a heap
# query under a savepoint is canceled and rolled back, and the COPY's rows
# are committed; local files never poll the cancel callback, so it would
# pass even if a cancel stopped background writes.  The race of a cancel
# with an upload is tested by test_writer's stalled-upload unit tests.  The
# second half can fail: a background write that fails is reported by the
# next statement that changes the table under a new savepoint.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use lance_write;

my ($node, $root) = start_node_with_vector_table('write_background');

# 25 000 rows: two files started, 5 000 rows left in the buffer
my $copy = q{COPY t FROM PROGRAM 'seq 1001 26000 | sed ''s/$/\t[1,2,3,4]/''';};
my $copy_one = q{COPY t FROM PROGRAM 'seq 30001 45000 | sed ''s/$/\t[1,2,3,4]/''';};
my ($ret, $out, $err) = $node->psql('postgres', qq{
BEGIN;
$copy
SAVEPOINT s;
SET LOCAL statement_timeout = '100ms';
SELECT pg_sleep(10);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT 'after commit', count(*), sum(id) FROM t;
}, on_error_stop => 0);
like($err, qr/canceling statement due to statement timeout/,
	'the heap query under the savepoint was canceled');
unlike($err, qr/could not commit/, 'the commit did not fail');
like($out, qr/^after commit\|25100\|\d+$/m, 'the COPY\'s rows were committed');
is($node->safe_psql('postgres', q{SELECT sum(id) FROM t}),
	100 * 101 / 2 + (1001 + 26000) * 25000 / 2, 'every row is there once');

# a data file cannot be created: a file takes the data folder's place
rename("$root/t.lance/data", "$root/t.lance/data.saved") or die "rename: $!";
open(my $fh, '>', "$root/t.lance/data") or die "cannot write: $!";
close($fh);
# 15 000 rows: one file started, 5 000 rows left in the buffer
($ret, $out, $err) = $node->psql('postgres', qq{
BEGIN;
$copy_one
SELECT 'copied';
SAVEPOINT s;
INSERT INTO t VALUES (0, '[1,2,3,4]');
ROLLBACK;
}, on_error_stop => 0);
like($out, qr/^copied$/m, 'the COPY itself ended before the failure was known');
like($err, qr/ERROR:.*t\.lance\/data/,
	'the INSERT under the savepoint reported the failed background write');
unlink("$root/t.lance/data") or die "unlink: $!";
rename("$root/t.lance/data.saved", "$root/t.lance/data") or die "rename: $!";
is($node->safe_psql('postgres', q{SELECT count(*) FROM t}), '25100',
	'the failed transaction left the table as it was');

$node->stop;
done_testing();
