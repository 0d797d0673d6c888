# Kill a backend with SIGKILL and wait until the postmaster has restarted
# the server.  Polling with a query is not enough: a query can still
# succeed in the moment before the postmaster notices the death, and the
# next one then meets a server in recovery.  The restart is over once the
# log says so after the kill.
package crash_restart;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;

our @EXPORT = qw(kill_backend_and_wait_restart);

# Returns true once the restarted server accepts connections; croaks on
# timeout (wait_for_log's).
sub kill_backend_and_wait_restart
{
	my ($node, $pid) = @_;
	my $offset = -s $node->logfile;

	kill 'KILL', $pid;
	$node->wait_for_log(qr/terminated by signal 9/, $offset);
	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	return 1;
}

1;
