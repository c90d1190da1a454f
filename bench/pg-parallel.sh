#!/bin/bash
# Would dumping in parallel bring a second PostgreSQL snapshot under
# 0.2x of `pg_dump | gzip -6` (issue 15)? Times, on bench/pg-snapshot.sh's
# database in a throwaway cluster, in each of two rounds:
#   anchor   pg_dump | gzip -6 > x.sql.gz
#   floor    pg_dump > /dev/null, what mig's one pipe can never beat
#   par2     one exported snapshot (BEGIN ISOLATION LEVEL REPEATABLE
#            READ; SELECT pg_export_snapshot()) read at once by
#            pg_dump --snapshot=S of the schema, of the largest table's
#            data, and of the two others' data, all to /dev/null
#   par3     the same with one pg_dump a table
#   mig      mig backup again of the unchanged database (every chunk
#            known), as it is: one pg_dump, read into chunks
# with the load average, as the machine is shared. None of the parallel
# figures counts mig's own work on the dump (its scan and hashes; mig
# takes 0.3-0.5 s more than the floor), which would share the same cores.
#   usage: bench/pg-parallel.sh [ROWS]     (default 950000: ~500 MB)
set -eu
ROWS=${1:-950000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
MIG=$TOP/bin/mig
. "$TOP/bench/pg-bigdb.sh"
# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"
pg_scratch
DB=${BASE/\/postgres\?//big?}
psql -X -q "$BASE" -c "CREATE DATABASE big"
big_db "$DB" "$ROWS"
"$MIG" -d "$DB" --store "$W/s.mig" backup -q >/dev/null

# seconds "$@" takes
seconds() {
	local s
	s=$(date +%s%N)
	"$@"
	echo "scale=2; ($(date +%s%N) - $s) / 1000000000" | bc | sed 's/^\./0./'
}
# a snapshot exported by a psql that holds its transaction open: $S, until unhold
hold() {
	rm -f "$W/in" "$W/out"
	mkfifo "$W/in"
	psql -X -q -tA -v ON_ERROR_STOP=1 "$DB" <"$W/in" >"$W/out" &
	HOLDER=$!
	exec 3>"$W/in"
	echo "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT pg_export_snapshot();" >&3
	until [ -s "$W/out" ]; do sleep 0.01; done
	S=$(head -n 1 "$W/out")
}
unhold() {
	echo "COMMIT;" >&3
	exec 3>&-
	wait "$HOLDER"
}
# pg_dump of the held snapshot, in the background: the schema, or tables' data
part() {
	pg_dump -d "$DB" --snapshot="$S" "$@" >/dev/null &
	PARTS+=("$!")
}
anchor() { pg_dump -d "$DB" | gzip -6 >"$W/x.sql.gz"; }
floor() { pg_dump -d "$DB" >/dev/null; }
par2() {
	hold
	PARTS=()
	part --schema-only
	part --data-only -t orders
	part --data-only -t customer -t events
	wait "${PARTS[@]}"
	unhold
}
par3() {
	hold
	PARTS=()
	part --schema-only
	part --data-only -t orders
	part --data-only -t customer
	part --data-only -t events
	wait "${PARTS[@]}"
	unhold
}
mig() { "$MIG" -d "$DB" --store "$W/s.mig" backup -q >/dev/null; }
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }

echo "| round | load | anchor | floor | par2 | par3 | mig |"
echo "|---|---|---|---|---|---|---|"
for round in 1 2; do
	load=$(cut -d ' ' -f 1 /proc/loadavg)
	a=$(seconds anchor)
	row="| $round | $load | $a s"
	for what in floor par2 par3 mig; do
		t=$(seconds $what)
		row="$row | $t s ($(ratio "$t" "$a")x)"
	done
	echo "$row |"
done
