#!/bin/bash
# Measure mig against the floor: sqlite3 running the same statements (one
# transaction and one bookkeeping insert per revision), in one run on this
# machine, and print ratios. Peers (dbmate, sqitch, alembic) are measured
# by ../shared/bench/peers.sh when installed.
#   usage: bench/run.sh [N]     (default 1000 revisions)
set -eu
N=${1:-1000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
GEN=${GEN:-$TOP/../shared/bench/gen.py}
MIG=$TOP/bin/mig
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 "$GEN" "$N" "$W" >/dev/null

# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"

# REPS runs of the floor and of mig, taken in turn so that a change in the
# machine's load or its disk's fsync falls on both: "FLOOR MIG" medians
pair() {
	local reps=$1 fdir=$2 fsetup=$3 fcmd=$4 mdir=$5 msetup=$6 mcmd=$7 i
	: >"$W/f" && : >"$W/m"
	for ((i = 0; i < reps; i++)); do
		(cd "$fdir" && eval "$fsetup" && timed "$fcmd") >>"$W/f"
		(cd "$mdir" && eval "$msetup" && timed "$mcmd") >>"$W/m"
	done
	echo "$(median <"$W/f") $(median <"$W/m")"
}

R=$W/raw M=$W/mig
read -r floor_up mig_up < <(pair 7 "$R" 'rm -f bench.db' 'sqlite3 bench.db < up.sql' \
	"$M" 'rm -rf bench.db bench.db.mig' '"$MIG" -d bench.db up -q --no-backup')
# the status floor reads the database the last apply left, as mig does
"$MIG" -C "$M" -d bench.db status --check >/dev/null
sleep 2.1	# older than the caches' two-second slack, as files at rest are
read -r floor_status mig_status < <(pair 21 "$R" : "sqlite3 bench.db 'SELECT count(*) FROM schema_version'" \
	"$M" : '"$MIG" -d bench.db status')
# the same with its settings in a mig.conf, which libgit2 reads; what it
# says is remembered, here in the scratch directory
export XDG_CACHE_HOME=$W/cache
printf '[mig]\n\tdatabase = bench.db\n' >"$M/mig.conf"
sleep 2.1
"$MIG" -C "$M" status --check >/dev/null
read -r floor_status2 mig_status_conf < <(pair 21 "$R" : "sqlite3 bench.db 'SELECT count(*) FROM schema_version'" \
	"$M" : '"$MIG" status')
rm "$M/mig.conf"

printf '%-34s %10s %10s %7s\n' "operation ($N revisions)" "sqlite3 s" "mig s" "ratio"
printf '%-34s %10s %10s %7.2f\n' "apply all to an empty database" "$floor_up" "$mig_up" \
	"$(echo "$mig_up / $floor_up" | bc -l)"
printf '%-34s %10s %10s %7.2f\n' "status with all applied" "$floor_status" "$mig_status" \
	"$(echo "$mig_status / $floor_status" | bc -l)"
printf '%-34s %10s %10s %7.2f\n' "the same, settings in mig.conf" "$floor_status2" "$mig_status_conf" \
	"$(echo "$mig_status_conf / $floor_status2" | bc -l)"
