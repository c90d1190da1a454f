#!/bin/bash
# Two or more builds of mig side by side, runs taken in turn so that a
# change in the machine's load or its disk falls on each alike: a
# 1000-revision 'up' onto an empty database (as bench/run.sh), then the
# first snapshot, a second after a small migration, and a restore of a
# generated database (as bench/snapshot.sh, 512 KiB chunks). Prints each
# run's milliseconds, then min, median and max per build and operation.
#   usage: bench/compare.sh [-n REPS] [-r ROWS] NAME=BINDIR...
#   e.g.   make && cp -r bin /tmp/new && git stash && make && cp -r bin /tmp/old &&
#          git stash pop && bench/compare.sh old=/tmp/old new=/tmp/new
set -eu
REPS=5 ROWS=1000000
while getopts n:r: o; do
	case $o in
	n) REPS=$OPTARG ;;
	r) ROWS=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n REPS] [-r ROWS] NAME=BINDIR..." >&2; exit 2; }
TOP=$(cd "$(dirname "$0")/.." && pwd)
GEN=${GEN:-$TOP/../shared/bench/gen.py}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

ms() {
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

python3 "$GEN" 1000 "$W/up" >/dev/null
sqlite3 "$W/before.db" >/dev/null <<EOF
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, city TEXT,
	balance REAL, created_at TEXT, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO customer SELECT i, 'customer ' || (i * 7919 % 1000003),
	'user' || (i * 104729 % 9999991) || '@example' || (i % 97) || '.com',
	char(65 + i % 26) || 'ville-' || (i % 1013), (i * 37 % 100000) / 100.0,
	datetime(1600000000 + i * 61, 'unixepoch'),
	CASE WHEN i % 3 = 0 THEN hex(randomblob(16)) ELSE 'regular account, no remarks' END
FROM n;
CREATE INDEX customer_email ON customer(email);
CREATE INDEX customer_city ON customer(city, balance);
EOF
sync

: >"$W/runs"
for ((i = 0; i < REPS; i++)); do
	for nb in "$@"; do
		name=${nb%%=*} mig=${nb#*=}/mig
		(cd "$W/up/mig" && rm -rf bench.db bench.db.mig &&
			echo "$name up $(ms "$mig" -d bench.db up -q --no-backup)") >>"$W/runs"
		cd "$W"
		cp before.db big.db
		rm -rf big.db.mig
		echo "$name first $(ms "$mig" -d big.db backup -q)" >>"$W/runs"
		sqlite3 big.db "CREATE TABLE audit(id INTEGER PRIMARY KEY, note TEXT);
			INSERT INTO audit(note) SELECT 'n' FROM generate_series(1, 1000);
			UPDATE customer SET city = 'Zville' WHERE id BETWEEN 1000 AND 2000;"
		echo "$name second $(ms "$mig" -d big.db backup -q)" >>"$W/runs"
		old=$("$mig" -d big.db backup --list --porcelain | sed -n 2p | cut -f2)
		echo "$name restore $(ms "$mig" -d big.db restore -q --no-backup "$old")" >>"$W/runs"
	done
done
cat "$W/runs"
echo
printf '%-12s %-8s %8s %8s %8s\n' build operation min median max
sort -k1,1 -k2,2 -k3,3n "$W/runs" | awk '
	{ k = $1 " " $2; v[k, ++n[k]] = $3; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } }
	END {
		for (i = 1; i <= nk; i++) {
			k = keys[i]; split(k, p, " ")
			printf "%-12s %-8s %8d %8d %8d\n", p[1], p[2], v[k, 1], v[k, int((n[k] + 1) / 2)], v[k, n[k]]
		}
	}'
