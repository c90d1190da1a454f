#!/bin/bash
# Snapshot speed and size against the anchors of the snapshot issue, on a
# generated database of about 550 MB with two indexes, in one run:
#   first snapshot   vs  sqlite3 DB ".backup x" && gzip -6 -c x > x.gz
#   second snapshot, after a migration that touches under 1% of pages
#   restore          vs  gunzip -c x.gz > file
# and the same for a few chunk sizes (MIG_CHUNK_SIZE, KiB), to show why
# 512 KiB is the default. Prints markdown tables. bench/peers.sh sets mig
# against restic, borg and zstd.
#   usage: bench/snapshot.sh [ROWS]     (default 3000000: ~550 MB)
set -eu
ROWS=${1:-3000000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
MIG=$TOP/bin/mig
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

secs() { # seconds "$@" takes
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s%N)
	printf '%.3f\n' "$(echo "scale=3; ($e - $s) / 1000000000" | bc)"
}
rss() { # peak KiB of "$@"
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}
ratio() { echo "scale=3; $1 / $2" | bc | sed 's/^\./0./'; }
objects() { find "$1/objects" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

sqlite3 big.db >/dev/null <<EOF
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
size=$(stat -c %s big.db)
cp big.db before.db
sync

anchor=$(secs sh -c 'sqlite3 big.db ".backup x.db" && gzip -6 -c x.db > x.gz')
gz=$(stat -c %s x.gz)
gunzip_s=$(secs sh -c 'gunzip -c x.gz > y.db')
rm -f x.db y.db

# the migration: a new table, and an indexed column changed in 1000 rows
migrate() {
	sqlite3 big.db "CREATE TABLE audit(id INTEGER PRIMARY KEY, note TEXT);
		INSERT INTO audit(note) SELECT 'n' FROM generate_series(1, 1000);
		UPDATE customer SET city = 'Zville' WHERE id BETWEEN 1000 AND 2000;"
}

declare -A first second added stored restore rss_b rss_r
for cs in 256 512 1024; do
	cp before.db big.db
	rm -rf big.db.mig
	export MIG_CHUNK_SIZE=$cs
	first[$cs]=$(secs "$MIG" -d big.db backup -q)
	stored[$cs]=$(objects big.db.mig)
	migrate
	b=${stored[$cs]}
	second[$cs]=$(secs "$MIG" -d big.db backup -q)
	added[$cs]=$(($(objects big.db.mig) - b))
	old=$("$MIG" -d big.db backup --list --porcelain | sed -n 2p | cut -f2)
	restore[$cs]=$(secs "$MIG" -d big.db restore -q --no-backup "$old")
	if [ "$cs" = 512 ]; then
		cp before.db big.db
		rss_b=$(rss "$MIG" -d big.db backup -q)
		rss_r=$(rss "$MIG" -d big.db restore -q --no-backup "$old")
	fi
done
unset MIG_CHUNK_SIZE
# pages the migration changes: compare the image before and after it
cp before.db big.db
migrate
changed=$(python3 -c '
import sys
ps, n, d = 4096, 0, 0
with open("before.db", "rb") as a, open("big.db", "rb") as b:
    while True:
        x, y = a.read(ps), b.read(ps)
        if not x and not y:
            break
        n += 1
        d += x != y
print("%d of %d pages (%.2f%%)" % (d, n, 100.0 * d / n))')

echo "database: $((size / 1048576)) MiB, $ROWS rows, two indexes; migration changes $changed"
echo "anchor: sqlite3 .backup + gzip -6 = ${anchor} s, $((gz / 1048576)) MiB; gunzip -c > file = ${gunzip_s} s"
echo
echo "| operation (512 KiB chunks) | mig | anchor | ratio | goal |"
echo "|---|---|---|---|---|"
echo "| first snapshot, time | ${first[512]} s | ${anchor} s | $(ratio "${first[512]}" "$anchor") | ≤ 0.30 |"
echo "| first snapshot, bytes stored | $((stored[512] / 1048576)) MiB | $((gz / 1048576)) MiB | $(ratio "${stored[512]}" "$gz") | ≤ 1.05 |"
echo "| second snapshot, time | ${second[512]} s | ${anchor} s | $(ratio "${second[512]}" "$anchor") | ≤ 0.05 |"
echo "| second snapshot, bytes added / database | $((added[512] / 1024)) KiB | $((size / 1048576)) MiB | $(ratio "${added[512]}" "$size") | ≤ 0.02 |"
echo "| restore | ${restore[512]} s | ${gunzip_s} s | $(ratio "${restore[512]}" "$gunzip_s") | ≤ 1.0 |"
echo "| peak RSS, backup / restore | ${rss_b} / ${rss_r} KiB | | | ≤ 64 MiB |"
echo
echo "| chunk size | first s | stored MiB | second s | added KiB | restore s |"
echo "|---|---|---|---|---|---|"
for cs in 256 512 1024; do
	echo "| $cs KiB | ${first[$cs]} | $((stored[$cs] / 1048576)) | ${second[$cs]} | $((added[$cs] / 1024)) | ${restore[$cs]} |"
done
