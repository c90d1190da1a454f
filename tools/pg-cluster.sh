#!/bin/sh
# A throwaway PostgreSQL cluster for the tests, from Debian's
# postgresql package: initdb in a temporary directory, listening on a
# Unix socket there only (no port to collide with), trust auth for the
# superuser "tester". The server must not run as root, so as root (CI) it
# runs as the postgres user the package creates, or as nobody.
#
#   tools/pg-cluster.sh start DIR   prints the URL of its "postgres" database
#   tools/pg-cluster.sh stop DIR    stops it and removes DIR
set -eu
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "pg-cluster: no PostgreSQL server: apt-get install postgresql" >&2
	exit 1
fi
cmd=$1
dir=$2
as=
if [ "$(id -u)" = 0 ]; then
	user=postgres
	id "$user" >/dev/null 2>&1 || user=nobody
	as="runuser -u $user --"
fi
case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -z "$as" ] || chown "$user" "$dir"
	$as "$bindir/initdb" -D "$dir/data" -U tester --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	$as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-c listen_addresses='' \
-c unix_socket_directories='$dir' -c fsync=off -c max_connections=60" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	echo "postgres://tester@/postgres?host=$dir"
	;;
stop)
	[ -d "$dir/data" ] && $as "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: pg-cluster.sh start|stop DIR" >&2
	exit 2
	;;
esac
