#!/bin/bash
# mig on PostgreSQL against its floor: psql running the same statements
# (one transaction and one bookkeeping insert per revision, from
# ../shared/bench/pg-gen.py), in one run on a throwaway local cluster
# (tools/pg-cluster.sh: a Unix socket, fsync off, so the tools' own
# overhead shows), and the ratios. The peers (dbmate, sqitch, alembic) on
# the same work: ../shared/bench/pg-peers.sh N bin.
#   usage: bench/pg.sh [N]     (default 1000 revisions)
# Needs: postgresql (and for the peers: libdbd-pg-perl sqitch
# python3-alembic python3-psycopg2, npm's dbmate).
set -eu
N=${1:-1000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
GEN=${GEN:-$TOP/../shared/bench/pg-gen.py}
MIG=$TOP/bin/mig
W=$(mktemp -d)
chmod 755 "$W"
trap 'sh "$TOP/tools/pg-cluster.sh" stop "$W/pg"; rm -rf "$W"' EXIT
BASE=$(sh "$TOP/tools/pg-cluster.sh" start "$W/pg")
url() { echo "${BASE/\/postgres\?//$1?}"; }
P="psql -X -q -v ON_ERROR_STOP=1"
python3 "$GEN" "$N" "$W" >/dev/null

# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"

fresh() {
	$P "$BASE" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" 2>/dev/null
}

# REPS runs of the floor and of mig, taken in turn so that a change in the
# machine's load falls on both: "FLOOR MIG" medians
pair() {
	local reps=$1 fsetup=$2 fcmd=$3 msetup=$4 mcmd=$5 i
	: >"$W/f" && : >"$W/m"
	for ((i = 0; i < reps; i++)); do
		(cd "$W/floor" && eval "$fsetup" && timed "$fcmd") >>"$W/f"
		(cd "$W/mig" && eval "$msetup" && timed "$mcmd") >>"$W/m"
	done
	echo "$(median <"$W/f") $(median <"$W/m")"
}

F=$(url b_floor) M=$(url b_mig)
# a first apply on a fresh cluster pays for cold caches: thrown away
fresh b_floor && $P "$F" -f "$W/floor/up.sql" >/dev/null
read -r floor_up mig_up < <(pair 5 'fresh b_floor' "$P '$F' -f up.sql" \
	'fresh b_mig; rm -rf b_mig.mig' "'$MIG' -d '$M' up -q --no-backup")
read -r floor_status mig_status < <(pair 21 : "$P '$F' -tAc 'SELECT count(*) FROM schema_version'" \
	: "'$MIG' -d '$M' status")
# each revision's tables and rows are there, for mig as for the floor
for d in b_floor b_mig; do
	n=$($P "$(url $d)" -tAc "SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\_%'")
	[ "$n" = "$N" ] || { echo "bench/pg.sh: $d has $n tables, not $N" >&2; exit 1; }
done

printf '%-34s %10s %10s %7s\n' "operation ($N revisions)" "psql s" "mig s" "ratio"
printf '%-34s %10s %10s %7.2f\n' "apply all to an empty database" "$floor_up" "$mig_up" \
	"$(echo "$mig_up / $floor_up" | bc -l)"
printf '%-34s %10s %10s %7.2f\n' "status with all applied" "$floor_status" "$mig_status" \
	"$(echo "$mig_status / $floor_status" | bc -l)"
