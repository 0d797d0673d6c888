# Throwaway PostgreSQL cluster for tests and the demo; source this file.
#
#   cluster_start     initdb in a new temporary folder, start the server on a
#                     Unix socket there, export PGHOST/PGPORT/PGUSER/PGDATABASE
#   cluster_stop      stop it and remove the folder (safe to call twice)
#
# The server listens on no TCP port, so clusters never collide.  Postgres
# refuses to run as root; as root we run it as the postgres user.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}

_cluster_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cluster_start() {
	CLUSTER_DIR=$(mktemp -d /tmp/lancedb_fdw_pg.XXXXXX)
	[ "$(id -u)" -eq 0 ] && chown postgres "$CLUSTER_DIR"
	_cluster_as_owner "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -U postgres -A trust \
		--no-sync >"$CLUSTER_DIR/initdb.log" 2>&1 ||
		{ cat "$CLUSTER_DIR/initdb.log"; return 1; }
	_cluster_as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w \
		-o "-k $CLUSTER_DIR -p 5432 -c listen_addresses='' -c fsync=off" start >/dev/null ||
		{ cat "$CLUSTER_DIR/server.log"; return 1; }
	export PGHOST=$CLUSTER_DIR PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
}

cluster_stop() {
	[ -n "${CLUSTER_DIR:-}" ] || return 0
	_cluster_as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=
}
