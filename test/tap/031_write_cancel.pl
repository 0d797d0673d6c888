# A COPY into a Lance foreign table canceled while data files are being
# written in the background: the statement fails with the cancel, the
# backend waits for the file being written and goes on working, no version
# appears, and inside a transaction ROLLBACK TO SAVEPOINT keeps the rows
# written before the savepoint.
use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use lance_write;

my ($node, $root) = start_node_with_vector_table('write_cancel');

# rows fed 10 000 every 0.1 s for a minute: a data file each time
my $feed = q{'i=1000; while [ $i -lt 6000000 ]; do seq $i $((i + 9999)) | sed ''s/$/\t[1,2,3,4]/'' || exit 1; i=$((i + 10000)); sleep 0.1; done'};

# one session: a canceled COPY, then a transaction whose COPY after a
# savepoint is canceled and rolled back to it
my $script = qq{
COPY t FROM PROGRAM $feed;
SELECT 'after cancel', count(*), sum(id) FROM t;
INSERT INTO t VALUES (101, '[1,2,3,4]');
BEGIN;
INSERT INTO t SELECT i, '[1,2,3,4]' FROM generate_series(102, 110) i;
SAVEPOINT s;
COPY t FROM PROGRAM $feed /* second */;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT 'after rollback', count(*), sum(id) FROM t;
};
# (a file: input from a scalar would only be fed when the harness is pumped)
my $script_file = "$root/script.sql";
open(my $fh, '>', $script_file) or die "cannot write $script_file: $!";
print $fh $script;
close($fh);
my ($out, $err) = ('', '');
my $psql = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-f', $script_file ],
	'>', \$out, '2>', \$err);

# Wait until the COPY whose query matches $like has written at least two
# data files more than $files_before, then cancel it.
sub cancel_copy_after_files
{
	my ($like, $files_before) = @_;

	ok(wait_for_data_files($root, $files_before + 2) >= $files_before + 2,
		"the COPY ($like) wrote data files before it was canceled");
	is($node->safe_psql('postgres',
		qq{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		   WHERE query LIKE '$like' AND pid <> pg_backend_pid()}),
		't', "canceled the COPY ($like)");
}

cancel_copy_after_files('COPY t FROM%', data_files($root));
# the second COPY starts once the first is canceled
for (my $waited = 0; $waited < 600; $waited++)
{
	last if $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%second%' AND query LIKE 'COPY%'}) eq '1';
	usleep(100_000);
}
cancel_copy_after_files('%second%', data_files($root));
$psql->finish;

is(scalar(() = $err =~ /canceling statement due to user request/g), 2,
	'both COPYs failed with the cancel');
like($out, qr/^after cancel\|100\|5050$/m,
	'the canceled COPY left the rows as they were');
like($out, qr/^after rollback\|110\|6105$/m,
	'the session went on writing, and the rollback to the savepoint kept the earlier rows');
is($node->safe_psql('postgres', q{SELECT max(version) FROM lance_versions('t')}),
	'4', 'only the INSERT and the transaction made versions');

$node->stop;
done_testing();
