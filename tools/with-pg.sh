#!/bin/sh
# Run a command with a throwaway PostgreSQL cluster (tools/pg-cluster.sh)
# that MIG_TEST_PG names, stopped and removed when the command ends. With
# MIG_TEST_PG set already, the command uses that server instead. Without
# a server to start, the command runs all the same, and the tests that
# need one fail: they never skip.
set -u
if [ -n "${MIG_TEST_PG:-}" ]; then
	exec "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/mig-pg.XXXXXX") || exit 1
trap 'sh "$here/pg-cluster.sh" stop "$dir"' EXIT
trap 'exit 130' INT TERM
if url=$(sh "$here/pg-cluster.sh" start "$dir"); then
	MIG_TEST_PG=$url
	export MIG_TEST_PG
else
	echo "with-pg: cannot start a PostgreSQL cluster: the PostgreSQL tests will fail" >&2
fi
"$@"
