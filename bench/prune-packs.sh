#!/bin/bash
# What packs hold after prunes that each leave a pack under half dead:
# a 3 MB table, six backups each changing a third of its rows (in turn),
# each followed by 'backup --prune 1'. Prints the bytes in objects/pack
# after each prune; one snapshot, about 3 MB, is all that is kept.
#   usage: bench/prune-packs.sh [BINDIR]     (default: this tree's bin)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$TOP/bin}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
sqlite3 app.db "CREATE TABLE r(id INTEGER PRIMARY KEY, v BLOB);
	INSERT INTO r(v) SELECT randomblob(1000) FROM generate_series(1, 3000);"
"$BIN/mig" -d app.db backup -q >/dev/null
sizes=""
for i in 0 1 2 3 4 5; do
	lo=$(((i % 3) * 1000))
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id > $lo AND id <= $((lo + 1000))"
	"$BIN/mig" -d app.db backup -q >/dev/null
	"$BIN/mig" -d app.db backup --prune 1 >/dev/null 2>&1
	sizes="$sizes $(du -sb app.db.mig/objects/pack | cut -f1)"
done
echo "bytes in objects/pack after each prune:$sizes"
