#!/bin/bash
# PostgreSQL snapshots against pg_dump and psql, on a generated database
# of about 500 MB (three tables, five indexes) in a throwaway local
# cluster (tools/pg-cluster.sh: a Unix socket, fsync off), one run each:
#   first snapshot    vs  pg_dump | gzip -6 > x.sql.gz (time and bytes)
#   second snapshot, after a migration that touches under 1% of rows:
#                         time vs the same, bytes added vs the first's
#   restore of the first, into the migrated database,
#                     vs  gunzip -c x.sql.gz | psql, into an empty one
#   peak RSS of backup and restore (the largest of mig, pg_dump, psql)
# and pg_dump > /dev/null alone, the floor of any snapshot. Prints a
# markdown table.
#   usage: bench/pg-snapshot.sh [ROWS]     (default 950000: ~500 MB)
set -eu
ROWS=${1:-950000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
MIG=$TOP/bin/mig
. "$TOP/bench/pg-bigdb.sh"
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
pg_scratch
url() { echo "${BASE/\/postgres\?//$1?}"; }
P="psql -X -q -v ON_ERROR_STOP=1"
DB=$(url big)
cd "$W"

# run "$@" once: "SECONDS PEAK_KIB" on stdout, its output discarded;
# without GNU time, getrusage's through python3
measure() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %M' -o "$W/time" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	else
		python3 -c 'import resource, subprocess, sys, time
s = time.time()
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
open(sys.argv[1] + ".t", "w").write("%.2f %d\n" % (time.time() - s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)' "$W/err" "$@" || { cat "$W/err" >&2; exit 1; }
		mv "$W/err.t" "$W/time"
	fi
	cat "$W/time"
}
ratio() { echo "scale=3; $1 / $2" | bc | sed 's/^\./0./'; }
mib() { echo "scale=1; $1 / 1048576" | bc | sed 's/^\./0./'; }
objects() { find "$1/objects" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# what the rows say, to check a restore: a count and a hash of each table
digest() {
	$P "$1" -tAc "SELECT (SELECT count(*) || ':' || sum(hashtext(c::text)) FROM customer c) || ' ' ||
		(SELECT count(*) || ':' || sum(hashtext(o::text)) FROM orders o) || ' ' ||
		(SELECT count(*) || ':' || sum(hashtext(e::text)) FROM events e)"
}

$P "$BASE" -c "CREATE DATABASE big" -c "CREATE DATABASE floor"
big_db "$DB" "$ROWS"
size=$($P "$DB" -tAc "SELECT pg_database_size(current_database())")
before=$(digest "$DB")

read -r floor_s _ < <(measure sh -c "pg_dump -d '$DB' >/dev/null")
dumped=$(pg_dump -d "$DB" | wc -c)
read -r anchor_s _ < <(measure sh -c "pg_dump -d '$DB' | gzip -6 > x.sql.gz")
gz=$(stat -c %s x.sql.gz)
read -r first_s first_rss < <(measure "$MIG" -d "$DB" --store s.mig backup -q)
first_b=$(objects s.mig)
first=$("$MIG" -d "$DB" --store s.mig backup --list --porcelain | head -n 1 | cut -f2)
image=$("$MIG" -d "$DB" --store s.mig backup --list --porcelain | head -n 1 | cut -f5)

# the migration: a new table, a new index, 0.5% of one table's rows changed, a few added to another
$P "$DB" <<EOF
CREATE TABLE audit (id serial PRIMARY KEY, note text);
INSERT INTO audit (note) SELECT 'n' FROM generate_series(1, 1000);
UPDATE customer SET city = 'Zville' WHERE id BETWEEN $((ROWS / 3)) AND $((ROWS / 3 + ROWS / 200));
INSERT INTO orders SELECT i, 1 + i % $ROWS, 1.00, 'new', now() FROM generate_series(2 * $ROWS + 1, 2 * $ROWS + 1000) i;
CREATE INDEX orders_status ON orders (status);
EOF
changed=$($P "$DB" -tAc "SELECT $((ROWS / 200 + 1 + 1000 + 1000)) * 100.0 / ($ROWS * 3.5 + 2000)" | cut -c1-4)
read -r second_s _ < <(measure "$MIG" -d "$DB" --store s.mig backup -q)
added=$(($(objects s.mig) - first_b))

read -r gunzip_s _ < <(measure sh -c "gunzip -c x.sql.gz | $P -o /dev/null '$(url floor)'")
read -r restore_s restore_rss < <(measure "$MIG" -d "$DB" --store s.mig restore -q --no-backup "$first")
after=$(digest "$DB")
floor_digest=$(digest "$(url floor)")
if [ "$after" != "$before" ] || [ "$floor_digest" != "$before" ]; then
	echo "bench/pg-snapshot.sh: a restore lost rows: $before / mig $after / psql $floor_digest" >&2
	exit 1
fi

echo "database: $((size / 1048576)) MiB ($ROWS customers, $((2 * ROWS)) orders, $((ROWS / 2)) events, five indexes);"
echo "pg_dump: $((dumped / 1048576)) MiB of SQL in ${floor_s} s to /dev/null; mig's image $((image / 1048576)) MiB"
echo "(padding $(echo "scale=1; 100 * ($image - $dumped) / $dumped" | bc)%); the migration changes ${changed}% of rows"
echo
echo "| operation | mig | anchor | ratio | goal |"
echo "|---|---|---|---|---|"
echo "| first snapshot, time | ${first_s} s | ${anchor_s} s | $(ratio "$first_s" "$anchor_s") | ≤ 1.0 |"
echo "| first snapshot, bytes | $(mib "$first_b") MiB | $(mib "$gz") MiB | $(ratio "$first_b" "$gz") | ≤ 1.05 |"
echo "| second snapshot, time | ${second_s} s | ${anchor_s} s | $(ratio "$second_s" "$anchor_s") | ≤ 0.2 |"
echo "| second snapshot, bytes added / first's | $(mib "$added") MiB | $(mib "$first_b") MiB | $(ratio "$added" "$first_b") | ≤ 0.05 |"
echo "| restore | ${restore_s} s | ${gunzip_s} s | $(ratio "$restore_s" "$gunzip_s") | ≤ 1.0 |"
echo "| peak RSS, first backup / restore | $((first_rss / 1024)) / $((restore_rss / 1024)) MiB | | | < 64 MiB |"
