#!/bin/bash
# One revision of many statements: mig up against the floor, sqlite3
# running the same statements in one transaction, in one run on this
# machine, with ratios. The cost of a statement must not grow with the
# size of the revision, so it runs at two sizes.
#   usage: bench/big.sh [N]     (default 200000 statements; N/4 as well)
set -eu
N=${1:-200000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
MIG=$TOP/bin/mig
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# gen DIR N: DIR/migrations/0001_big.sql and DIR/plain.sql, the same statements
gen() {
	mkdir -p "$1/migrations"
	python3 - "$1" "$2" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
body = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, note TEXT);\n" + "".join(
    f"INSERT INTO t(name, note) VALUES ('row {i}', 'some text to make it a real row {i}');\n"
    for i in range(n))
open(f"{d}/migrations/0001_big.sql", "w").write("-- mig:up\n" + body)
open(f"{d}/plain.sql", "w").write("BEGIN;\n" + body + "COMMIT;\n")
PY
}

# shellcheck source=bench/lib.sh
. "$TOP/bench/lib.sh"

# floor and mig in turn, 5 runs each: "FLOOR MIG" medians
pair() {
	local i
	: >"$W/f" && : >"$W/m"
	for ((i = 0; i < 5; i++)); do
		(cd "$1" && rm -f f.db && timed 'sqlite3 f.db < plain.sql') >>"$W/f"
		(cd "$1" && rm -rf m.db m.db.mig && timed '"$MIG" -d m.db up -q') >>"$W/m"
	done
	echo "$(median <"$W/f") $(median <"$W/m")"
}

printf '%-36s %10s %10s %7s\n' "one revision of" "sqlite3 s" "mig s" "ratio"
for n in $((N / 4)) "$N"; do
	gen "$W/$n" "$n"
	read -r f m < <(pair "$W/$n")
	printf '%-36s %10s %10s %7.2f\n' "$n INSERTs ($(du -h "$W/$n/plain.sql" | cut -f1))" "$f" "$m" \
		"$(echo "$m / $f" | bc -l)"
done
