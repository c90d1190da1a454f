#!/usr/bin/env bats
# The store's snapshot formats: what mig writes now (manifest version 2,
# chunks as zstd frames in git blobs) and what it wrote before (version
# 1, chunks deflated by git's loose format only), which it still reads,
# verifies, restores and builds new snapshots on.
# backend: sqlite (the store's formats, read from SQLite images)
load helper

# A store made by mig before zstd (tests/cli/fixtures/v1-store.tar.gz,
# by the build of commit 3571455, MIG_CHUNK_SIZE=64): a table t of 4000
# rows, snapshot V1_FIRST; then rows 10 and 3000 set to 'changed',
# snapshot V1_SECOND, two of whose three chunks are deltas.
V1_FIRST=e9b8caae326bd2f9e33ed5494647d56ba49554ff
V1_SECOND=53153f50e58c1a89d30ef2d850ef0c32dc72e475

v1_store() {
	tar -xzf "$TOP/tests/cli/fixtures/v1-store.tar.gz"
}

rows() {
	q app.db "SELECT count(*), sum(length(v)), group_concat(id) FILTER (WHERE v = 'changed') FROM t"
}

# chunk-bytes DB I: chunk I of 64 KiB of the database file
chunk_bytes() {
	dd if="$1" bs=65536 skip="$2" count=1 status=none
}

@test "a version 1 store (deflate chunks, deltas) verifies and restores" {
	v1_store
	git --git-dir=app.db.mig cat-file blob "$V1_SECOND:manifest" >manifest
	[ "$(head -1 manifest)" = "mig-snapshot 1" ]
	[ "$(grep -c '^delta ' manifest)" = 2 ]
	run -0 mig -d app.db backup --verify
	[ "${lines[0]}" = "$V1_SECOND ok" ]
	[ "${lines[1]}" = "$V1_FIRST ok" ]
	run -0 mig -d app.db restore -q --no-backup "$V1_FIRST"
	[ "$(rows)" = "4000|100893|" ]
	run -0 mig -d app.db restore -q --no-backup "$V1_SECOND"
	[ "$(rows)" = "4000|100849|10,3000" ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
}

@test "a new snapshot on a version 1 store is version 2 and shares its chunks and bases" {
	v1_store
	mig -d app.db restore -q --no-backup "$V1_SECOND"
	q app.db "UPDATE t SET v = 'again' WHERE id = 20"
	id=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
	git --git-dir=app.db.mig cat-file blob "$id:manifest" >new
	git --git-dir=app.db.mig cat-file blob "$V1_SECOND:manifest" >old
	[ "$(head -1 new)" = "mig-snapshot 2" ]
	# chunk 2 did not change: the old deflated blob, as it was
	[ "$(sed -n 8p new)" = "$(sed -n 8p old)" ]
	# chunk 0 (the header, row 20) is a delta on the old raw base
	[ "$(sed -n 6p new | cut -d' ' -f1,4)" = "$(sed -n 6p old | cut -d' ' -f1,4)" ]
	run -0 mig -d app.db backup --verify "$id"
	q app.db "DELETE FROM t"
	run -0 mig -d app.db restore -q --no-backup "$id"
	[ "$(q app.db "SELECT group_concat(id) FROM t WHERE v IN ('changed', 'again')")" = "10,20,3000" ]
	run -0 git --git-dir=app.db.mig fsck --strict --no-dangling
}

@test "a chunk is a git blob holding a zstd frame of its bytes, which git and zstd read back" {
	command -v zstd >/dev/null || skip "no zstd(1)"
	q app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d', value) FROM generate_series(1, 20000)"
	id=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
	oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/00000001")
	size=$(git --git-dir=app.db.mig cat-file -s "$oid")
	[ "$size" -lt 65536 ]
	git --git-dir=app.db.mig cat-file blob "$oid" | zstd -dc >chunk
	chunk_bytes app.db 1 | cmp - chunk
	run -0 git --git-dir=app.db.mig fsck --strict --no-dangling
}

# forge-chunk ID MODE: snapshot ID with chunk 1's blob replaced by its
# zstd frame damaged as MODE says (cut: its last 8 bytes gone; flip: a
# byte in the middle changed), under a ref of its own; prints its id
forge_chunk() {
	python3 - "$@" <<'PY'
import subprocess, sys
def git(*a, data=None, text=True):
    out = subprocess.run(["git", "--git-dir=app.db.mig"] + list(a), input=data, capture_output=True,
                         check=True).stdout
    return out.decode().strip() if text else out
sid, mode = sys.argv[1], sys.argv[2]
lines = git("cat-file", "blob", sid + ":manifest").split("\n")
old = lines[6].split(" ")
frame = bytearray(git("cat-file", "blob", old[2], text=False))
assert frame[:4] == b"\x28\xb5\x2f\xfd", "chunk 1 is no zstd frame"
if mode == "cut":
    frame = frame[:-8]
else:
    frame[len(frame) // 2] ^= 0x55
new = git("hash-object", "-w", "--stdin", data=bytes(frame))
lines[6] = "chunk %s %s" % (old[1], new)
manifest = git("hash-object", "-w", "--stdin", data="\n".join(lines).encode() + b"\n")
entries = git("ls-tree", sid + ":chunks").split("\n")
entries = [e.replace(old[2], new) for e in entries]
chunks = git("mktree", data=("\n".join(entries) + "\n").encode())
tree = git("mktree", data=("100644 blob %s\tmanifest\n040000 tree %s\tchunks\n" % (manifest, chunks)).encode())
commit = git("commit-tree", tree, "-m", "forged " + mode)
git("update-ref", "refs/mig/snapshots/" + commit, commit)
print(commit)
PY
}

@test "a damaged zstd chunk fails --verify and restore, naming it; the database stays as it was" {
	q app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d', value) FROM generate_series(1, 20000)"
	id=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
	q app.db "DELETE FROM t WHERE id % 2 = 0"
	sum=$(cksum <app.db)
	# a frame cut short, in a blob whose id is right: zstd refuses it
	bad=$(forge_chunk "$id" cut)
	oid=$(git --git-dir=app.db.mig rev-parse "$bad:chunks/00000001")
	run -6 --separate-stderr mig -d app.db backup --verify "$bad"
	[ "$stderr" = "mig-backup: error: snapshot ${bad:0:12} is damaged: chunk 1 (object $oid) does not decompress to its chunk" ]
	run -6 --separate-stderr mig -d app.db restore --no-backup "$bad"
	[ "$stderr" = "mig-restore: error: snapshot ${bad:0:12} is damaged: chunk 1 (object $oid) does not decompress to its chunk" ]
	[ "$(cksum <app.db)" = "$sum" ]
	# a byte changed inside the frame: other bytes, or none
	bad=$(forge_chunk "$id" flip)
	oid=$(git --git-dir=app.db.mig rev-parse "$bad:chunks/00000001")
	run -6 --separate-stderr mig -d app.db restore --no-backup "$bad"
	[[ "$stderr" == "mig-restore: error: snapshot ${bad:0:12} is damaged: chunk 1 (object $oid) "@(does not decompress to its chunk|does not match the manifest) ]]
	[ "$(cksum <app.db)" = "$sum" ]
	# the object file itself changed on disk: its checksum finds it
	oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/00000001")
	f=app.db.mig/objects/${oid:0:2}/${oid:2}
	chmod u+w "$f"
	flip "$f" 200
	run -6 --separate-stderr mig -d app.db restore --no-backup "$id"
	[ "$stderr" = "mig-restore: error: snapshot ${id:0:12} is damaged: chunk 1 (object $oid) does not inflate to a blob of the right size" ]
	[ "$(cksum <app.db)" = "$sum" ]
}

@test "restore reads only the chunks that differ: a damaged one the database holds already is not needed" {
	q app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d', value) FROM generate_series(1, 20000)"
	id=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
	bad=$(forge_chunk "$id" cut)
	# a row in the last chunk changed: chunk 1 is as the snapshot has it
	q app.db "UPDATE t SET v = 'changed' WHERE id = 20000"
	run -0 mig -d app.db restore -q --no-backup "$bad"
	[ "$(q app.db "SELECT count(*) FROM t WHERE v = 'changed'")" = 0 ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	[ ! -e app.db-journal ]
	# --verify reads every chunk, and names it
	run -6 mig -d app.db backup --verify "$bad"
	[[ "$output" == *"chunk 1 (object "*") does not decompress to its chunk" ]]
}

@test "a base chunk whose object holds other bytes is no base: the new snapshot stores its chunk whole" {
	command -v zstd >/dev/null || skip "no zstd(1)"
	q app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d', value) FROM generate_series(1, 20000)"
	id=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
	oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/00000001")
	# chunk 1's object now holds a frame of other bytes (a byte changed), under the same name
	chunk_bytes app.db 1 | python3 -c 'import sys; d = bytearray(sys.stdin.buffer.read()); d[3000] ^= 1; sys.stdout.buffer.write(d)' >other
	zstd -q -c other >frame
	f=app.db.mig/objects/${oid:0:2}/${oid:2}
	chmod u+w "$f"
	python3 -c 'import sys, zlib; d = open("frame", "rb").read(); open(sys.argv[1], "wb").write(zlib.compress(b"blob %d\0" % len(d) + d))' "$f"
	# a row of chunk 1 changed: the old chunk 1 would be its base
	before=$(chunk_bytes app.db 1 | cksum)
	q app.db "UPDATE t SET v = 'changed' WHERE id = 7000"
	[ "$(chunk_bytes app.db 1 | cksum)" != "$before" ]
	new=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
	[ "$(git --git-dir=app.db.mig cat-file blob "$new:manifest" | sed -n 7p | cut -d' ' -f1)" = chunk ]
	run -0 mig -d app.db backup --verify "$new"
	q app.db "DELETE FROM t"
	run -0 mig -d app.db restore -q --no-backup "$new"
	[ "$(q app.db "SELECT v FROM t WHERE id = 7000")" = changed ]
}
