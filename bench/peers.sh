#!/bin/bash
# Snapshots against what a user would reach for instead, in one run on one
# machine (issue 16): sqlite3 .backup piped to gzip -6 and to zstd -3 -T2,
# and the deduplicating backup tools restic and borg (zstd,3) over a
# .backup copy, as a careful user would give them; then mig backup and
# restore on the same database. The peers get their own install:
#   apt-get install restic borgbackup zstd bc time
# The database (events, two indexes: ROWS 3000000 is about 540 MiB) is
# changed by a small migration (a partial index, every 997th row
# updated); restore follows a DELETE of a third of the rows, so nearly
# every page changes back. mig is measured twice: with the database in
# rollback-journal mode (the file read in chunks under a read
# transaction) and in WAL mode (the backup API, page by page).
# Data goes to a directory under TMPDIR, removed at the end.
#   usage: bench/peers.sh [ROWS]          prints markdown tables
set -eu
ROWS=${1:-3000000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
MIG=$TOP/bin/mig
for t in sqlite3 gzip zstd restic borg bc /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "$0: $t is missing: apt-get install restic borgbackup zstd bc time" >&2; exit 2; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"

now() { date +%s.%N; }
el() { printf '%.2f' "$(echo "$(now) - $1" | bc)"; }
sz() { du -sb "$1" | cut -f1; }
mb() { printf '%.1f' "$(echo "$1 / 1000000" | bc -l)"; }
ratio() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
rss() { # peak MiB of "$@"
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.1f", $1 / 1024 }'
}

sqlite3 big.db "CREATE TABLE events(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, user_email TEXT,
	created_at TEXT, amount REAL, payload TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < $ROWS)
INSERT INTO events SELECT i, CASE i%5 WHEN 0 THEN 'login' WHEN 1 THEN 'purchase' WHEN 2 THEN 'logout'
	WHEN 3 THEN 'refund' ELSE 'view' END, 'user' || (i % 50000) || '@example.com',
	datetime(1700000000 + i*7, 'unixepoch'), (i % 1000) / 7.0, hex(randomblob(24)) || ' note ' || (i%97) FROM c;
CREATE INDEX ix_events_user ON events(user_email); CREATE INDEX ix_events_kind ON events(kind, created_at);"
mkdir migrations
printf -- '-- mig:up\nSELECT 1;\n' >migrations/0001_events.sql
printf -- '-- mig:parents 0001_events\n-- mig:up\nCREATE INDEX ix_amount ON events(amount) WHERE id %% 50 = 0;\nUPDATE events SET kind = upper(kind) WHERE id %% 997 = 0;\n-- mig:down\nDROP INDEX ix_amount;\n' \
	>migrations/0002_change.sql
"$MIG" -d big.db fake 0001_events >/dev/null 2>&1
cp big.db base.db
sync
size=$(sz base.db)
migrate() { cp base.db big.db; "$MIG" -d big.db up --no-backup >/dev/null 2>&1; sync; }

declare -A T1 B1 T2 B2 TR
# gzip and zstd of a .backup copy: no deduplication, the second costs the first again
for c in "gzip -6" "zstd -q -3 -T2"; do
	k=${c%% *}
	cp base.db big.db; sync
	s=$(now); sqlite3 big.db ".backup b.db" && $c -c b.db >img; T1[$k]=$(el "$s"); B1[$k]=$(sz img); rm -f b.db
	T2[$k]=${T1[$k]} B2[$k]=${B1[$k]}
	s=$(now); $c -d -c img >r.db; TR[$k]=$(el "$s"); rm -f r.db img
done
export RESTIC_PASSWORD=x RESTIC_CACHE_DIR=$W/rcache
restic init -q -r rr >/dev/null
cp base.db big.db; sync
s=$(now); sqlite3 big.db ".backup snap.db" && restic -q -r rr backup snap.db >/dev/null; T1[restic]=$(el "$s"); B1[restic]=$(sz rr)
migrate
s=$(now); sqlite3 big.db ".backup snap.db" && restic -q -r rr backup snap.db >/dev/null; T2[restic]=$(el "$s")
B2[restic]=$(($(sz rr) - B1[restic]))
s=$(now); restic -q -r rr restore latest --target rt >/dev/null; TR[restic]=$(el "$s"); rm -rf rt rr snap.db
export BORG_PASSPHRASE= BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_CACHE_DIR=$W/bcache BORG_BASE_DIR=$W/bbase
borg init -e none bb >/dev/null 2>&1
cp base.db big.db; sync
s=$(now); sqlite3 big.db ".backup snap.db" && borg create --compression zstd,3 bb::a snap.db; T1[borg]=$(el "$s"); B1[borg]=$(sz bb)
migrate
s=$(now); sqlite3 big.db ".backup snap.db" && borg create --compression zstd,3 bb::b snap.db; T2[borg]=$(el "$s")
B2[borg]=$(($(sz bb) - B1[borg]))
mkdir bt; s=$(now); (cd bt && borg extract ../bb::b); TR[borg]=$(el "$s"); rm -rf bt bb snap.db

# mig: MODE is delete (rollback journal, as generated) or wal
mig_run() {
	local k=$1
	cp base.db big.db
	[ "$k" = mig ] || sqlite3 big.db "PRAGMA journal_mode=WAL" >/dev/null
	rm -rf big.db.mig; "$MIG" -d big.db fake 0001_events >/dev/null 2>&1; sync
	s=$(now); "$MIG" -d big.db backup -q >/dev/null; T1[$k]=$(el "$s"); B1[$k]=$(sz big.db.mig)
	"$MIG" -d big.db up --no-backup >/dev/null 2>&1; sync
	s=$(now); "$MIG" -d big.db backup -q >/dev/null; T2[$k]=$(el "$s"); B2[$k]=$(($(sz big.db.mig) - B1[$k]))
	sqlite3 big.db "DELETE FROM events WHERE id % 3 = 0"; sync
	s=$(now); "$MIG" -d big.db restore -q --no-backup; TR[$k]=$(el "$s")
}
mig_run mig
# peak memory: a first snapshot, and a restore over a third of the rows deleted
cp base.db big.db; rm -rf big.db.mig
rss_b=$(rss "$MIG" -d big.db backup -q)
sqlite3 big.db "DELETE FROM events WHERE id % 3 = 0"; sync
rss_r=$(rss "$MIG" -d big.db restore -q --no-backup)
mig_run mig-wal

echo "database: $(mb "$size") MB ($ROWS rows, two indexes); $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| tool | first snapshot | bytes | second snapshot | bytes added | restore |"
echo "|---|---|---|---|---|---|"
for k in gzip zstd restic borg mig mig-wal; do
	case $k in
	gzip) name='`.backup` + `gzip -6`' ;;
	zstd) name='`.backup` + `zstd -3 -T2`' ;;
	borg) name='borg (zstd,3)' ;;
	mig) name='**mig**' ;;
	mig-wal) name='mig, WAL mode (backup API)' ;;
	*) name=$k ;;
	esac
	echo "| $name | ${T1[$k]} s | $(mb "${B1[$k]}") MB | ${T2[$k]} s | $(mb "${B2[$k]}") MB | ${TR[$k]} s |"
done
echo
echo "| goal (issue 16) | mig | against | ratio | goal |"
echo "|---|---|---|---|---|"
echo "| first snapshot, time | ${T1[mig]} s | zstd ${T1[zstd]} s | $(ratio "${T1[mig]}" "${T1[zstd]}") | ≤ 1.0 |"
echo "| first snapshot, bytes | $(mb "${B1[mig]}") MB | zstd $(mb "${B1[zstd]}") MB | $(ratio "${B1[mig]}" "${B1[zstd]}") | ≤ 1.0 |"
echo "| second snapshot, time | ${T2[mig]} s | zstd ${T1[zstd]} s | $(ratio "${T2[mig]}" "${T1[zstd]}") | ≤ 0.25 |"
echo "| second snapshot, bytes added | $(mb "${B2[mig]}") MB | borg $(mb "${B2[borg]}") MB | $(ratio "${B2[mig]}" "${B2[borg]}") | ≤ 0.02 |"
echo "| restore | ${TR[mig]} s | borg ${TR[borg]} s | $(ratio "${TR[mig]}" "${TR[borg]}") | ≤ 1.0 |"
echo "| peak RSS, backup / restore | $rss_b / $rss_r MiB | | | < 64 MiB |"
