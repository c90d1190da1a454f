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

# median wall time in seconds of running "$@" REPS times (SETUP before each)
median() {
	local reps=$1 setup=$2; shift 2
	local i s e
	for ((i = 0; i < reps; i++)); do
		eval "$setup"
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $((e - s))
	done | sort -n | awk '{ a[NR] = $1 } END { printf "%.4f", a[int((NR + 1) / 2)] / 1e9 }'
}

cd "$W/raw"
floor_up=$(median 5 'rm -f bench.db' sh -c 'sqlite3 bench.db < up.sql')
floor_status=$(median 21 : sqlite3 bench.db 'SELECT count(*) FROM schema_version')

cd "$W/mig"
mig_up=$(median 5 'rm -rf bench.db bench.db.mig' "$MIG" -d bench.db up -q --no-backup)
mig_status=$(median 21 : "$MIG" -d bench.db status)
"$MIG" -d bench.db status --check >/dev/null
# the same with its settings in a mig.conf, which libgit2 reads
printf '[mig]\n\tdatabase = bench.db\n' >mig.conf
mig_status_conf=$(median 21 : "$MIG" status)
rm mig.conf

printf '%-34s %10s %10s %7s\n' "operation ($N revisions)" "sqlite3 s" "mig s" "ratio"
printf '%-34s %10s %10s %7.2f\n' "apply all to an empty database" "$floor_up" "$mig_up" \
	"$(echo "$mig_up / $floor_up" | bc -l)"
printf '%-34s %10s %10s %7.2f\n' "status with all applied" "$floor_status" "$mig_status" \
	"$(echo "$mig_status / $floor_status" | bc -l)"
printf '%-34s %10s %10s %7.2f\n' "the same, settings in mig.conf" "$floor_status" "$mig_status_conf" \
	"$(echo "$mig_status_conf / $floor_status" | bc -l)"
