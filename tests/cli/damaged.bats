#!/usr/bin/env bats
# Snapshots damaged in every way a store can be: a manifest that does not
# parse, a chunk list that does not match it, deltas that are not deltas
# or do not give the chunk, bases missing or of the wrong size, a ref to
# no commit. Each is named by --verify and refused by restore, which
# leaves the database as it was. And the smaller things around snapshots:
# progress on a terminal, MIG_CHUNK_SIZE, sizes in MiB, image headers.
# backend: sqlite (damaged stores of SQLite images; the store's checks are one for both)
load helper

# a database of about 450 KiB, snapshot in 64 KiB chunks: seven of them
setup_snapshot() {
	q app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d %s', value, hex(randomblob(40))) FROM generate_series(1, 4000);"
	id=$(MIG_CHUNK_SIZE=64 mig -d app.db backup)
}

# forge ID MODE: a copy of snapshot ID damaged as MODE says, under its own
# ref; prints its id
forge() {
	python3 - "$@" <<'EOF'
import subprocess, sys
def git(*a, data=None):
    return subprocess.run(["git", "--git-dir=app.db.mig"] + list(a), input=data, capture_output=True,
                          check=True).stdout.decode().strip()
def blob(data):
    return git("hash-object", "-w", "--stdin", data=data)
sid, mode = sys.argv[1], sys.argv[2]
lines = git("cat-file", "blob", sid + ":manifest").split("\n")
entries = [l.split("\t") for l in git("ls-tree", sid + ":chunks").split("\n")]
chunks = {name: info.split()[2] for info, name in entries}
head, refs = lines[:5], lines[5:]
tree_has_chunks = True
def as_delta(i, oid, base):
    # chunk i becomes a delta of oid on base
    f = refs[i].split(" ")
    refs[i] = "delta %s %s %s" % (f[1], oid, base)
    chunks["%08d" % i] = oid
    chunks["%08d-base" % i] = base
if mode == "long-line":
    refs.append("x" * 200)
elif mode == "unknown-line":
    refs.append("what 1")
elif mode == "bad-hash":
    f = refs[0].split(" ")
    refs[0] = "chunk %s %s" % ("zz" * 16, f[2])
elif mode == "bad-size":
    head = [l if not l.startswith("size ") else "size %d" % (int(l[5:]) + 65536) for l in head]
elif mode == "bad-chunk-size":
    head = [l if not l.startswith("chunk-size ") else "chunk-size 1000" for l in head]
elif mode == "no-checksum":
    head = [l for l in head if not l.startswith("checksum ")] + ["page-size 4096"]
elif mode == "tree-short":
    del chunks["%08d" % (len(refs) - 1)]
elif mode == "tree-swapped":
    chunks["00000000"], chunks["00000001"] = chunks["00000001"], chunks["00000000"]
elif mode == "no-chunks":
    tree_has_chunks = False
elif mode == "checksum":
    head = [l if not l.startswith("checksum ") else "checksum xxh128-list:" + "0" * 32 for l in head]
elif mode == "not-a-delta":
    # chunk 2's own blob, which holds no delta, as a delta on chunk 0
    as_delta(2, chunks["00000002"], chunks["00000000"])
elif mode == "delta-cut":
    as_delta(2, blob(b"mig-delta 1\n\0\0\0\0"), chunks["00000000"])
elif mode == "delta-past-end":
    as_delta(2, blob(b"mig-delta 1\n\0\1\0\0\0\0\0\1x"), chunks["00000000"])
elif mode == "delta-wrong":
    # an empty delta: chunk 0's bytes, which are not chunk 2's
    as_delta(2, blob(b"mig-delta 1\n"), chunks["00000000"])
elif mode == "delta-missing":
    as_delta(2, "1" * 40, chunks["00000000"])
elif mode == "base-missing":
    as_delta(2, blob(b"mig-delta 1\n"), "2" * 40)
elif mode == "base-small":
    as_delta(2, blob(b"mig-delta 1\n"), blob(b"too small"))
manifest = blob(("\n".join(head + refs) + "\n").encode())
tree = "100644 blob %s\tmanifest\n" % manifest
if tree_has_chunks:
    ct = git("mktree", "--missing", data="".join("100644 blob %s\t%s\n" % (o, n) for n, o in sorted(chunks.items())).encode())
    tree += "040000 tree %s\tchunks\n" % ct
commit = git("commit-tree", git("mktree", data=tree.encode()), "-m", "forged " + mode)
git("update-ref", "refs/mig/snapshots/" + commit, commit)
print(commit)
EOF
}

# damaged MODE MESSAGE [RESTORE]: the forged snapshot fails --verify with
# "snapshot ID is damaged: MESSAGE" and restore with the same (or RESTORE,
# when it finds it first, before reading), and the database stays as it is
damaged() {
	local bad sum
	# every page differs from the snapshot's, so restore reads every chunk
	q app.db "UPDATE t SET v = upper(v)"
	bad=$(forge "$id" "$1")
	run -6 --separate-stderr mig -d app.db backup --verify "$bad"
	[ "$stderr" = "mig-backup: error: snapshot ${bad:0:12} is damaged: $2" ]
	sum=$(cksum <app.db)
	run -6 --separate-stderr mig -d app.db restore --no-backup "$bad"
	[ "$stderr" = "mig-restore: error: snapshot ${bad:0:12} is damaged: ${3:-$2}" ]
	[ "$(cksum <app.db)" = "$sum" ]
	git --git-dir=app.db.mig update-ref -d "refs/mig/snapshots/$bad"
}

@test "a manifest that does not parse, or says what its chunks cannot be" {
	setup_snapshot
	for mode in long-line unknown-line bad-hash bad-size bad-chunk-size no-checksum; do
		damaged "$mode" "its manifest does not parse"
	done
}

@test "a chunk list that does not match the manifest, or a checksum that does not" {
	setup_snapshot
	damaged tree-short "its chunk list does not match its manifest"
	damaged no-chunks "its chunk list does not match its manifest"
	damaged tree-swapped "chunk 0 differs between its tree and its manifest"
	damaged checksum "its checksum does not match its chunks"
}

@test "a delta that is none, is cut short, writes past the chunk, or gives other bytes" {
	setup_snapshot
	damaged not-a-delta "chunk 2 (object $(git --git-dir=app.db.mig rev-parse "$id:chunks/00000002")) is no delta"
	for mode in delta-cut delta-past-end; do
		bad=$(forge "$id" "$mode")
		run -6 mig -d app.db backup --verify "$bad"
		[[ "$output" == "mig-backup: error: snapshot ${bad:0:12} is damaged: chunk 2 (object "*") is no delta" ]]
	done
	bad=$(forge "$id" delta-wrong)
	run -6 mig -d app.db backup --verify "$bad"
	[[ "$output" == "mig-backup: error: snapshot ${bad:0:12} is damaged: chunk 2 (object "*") does not match the manifest" ]]
	damaged delta-missing "chunk 2 (object 1111111111111111111111111111111111111111) is missing"
}

@test "a delta's base missing, or of the wrong size, loose or packed" {
	setup_snapshot
	damaged base-missing "chunk 2 (base 2222222222222222222222222222222222222222) is missing"
	small=$(printf 'too small' | git hash-object --stdin)
	bad=$(forge "$id" base-small)
	run -6 mig -d app.db backup --verify "$bad"
	# shorter than its chunk: a zstd frame, which it is not
	[ "$output" = "mig-backup: error: snapshot ${bad:0:12} is damaged: chunk 2 (base $small) does not decompress to its chunk" ]
	# packed, it is read through the object database
	git --git-dir=app.db.mig repack -adq
	git --git-dir=app.db.mig prune-packed
	run -6 mig -d app.db backup --verify "$bad"
	[ "$output" = "mig-backup: error: snapshot ${bad:0:12} is damaged: chunk 2 (base $small) does not decompress to its chunk" ]
	run -0 mig -d app.db backup --verify "$id"
}

@test "a snapshot ref that names no commit: listing, verify and restore exit 6 naming it" {
	setup_snapshot
	b=$(printf 'not a commit' | git --git-dir=app.db.mig hash-object -w --stdin)
	git --git-dir=app.db.mig update-ref "refs/mig/snapshots/$b" "$b"
	for cmd in "backup --list" "backup --verify" "restore $id"; do
		run -6 mig -d app.db $cmd
		[ "${lines[0]}" = "mig-${cmd%% *}: error: snapshot ${b:0:12} is damaged: its commit cannot be read" ]
	done
}

@test "no meter on a terminal for work under a second; MIG_CHUNK_SIZE takes multiples of 64 up to 4096, else the default" {
	command -v script >/dev/null || skip "no script(1) for a terminal"
	q app.db "CREATE TABLE t(v INT); INSERT INTO t SELECT randomblob(1000) FROM generate_series(1, 3000)"
	run -0 script -qc 'mig -d app.db backup' /dev/null
	[[ "$output" =~ ^[0-9a-f]{40}$'\r'?$ ]]
	run -0 script -qc 'mig -d app.db backup --verify' /dev/null
	[[ "$output" != *"MiB ("* ]]
	[[ "$output" == *" ok"* ]]
	run -0 mig -d app.db backup --list
	[[ "${lines[0]}" == *"  2."?" MiB  "* ]]
	for kib in 128:131072 4096:4194304 100:524288 8192:524288 0:524288 x:524288; do
		id=$(MIG_CHUNK_SIZE=${kib%:*} mig -d app.db backup --message "$kib")
		[ "$(git --git-dir=app.db.mig cat-file blob "$id:manifest" | sed -n 's/^chunk-size //p')" = "${kib#*:}" ]
	done
}

@test "restore -i: a page size no SQLite writes is refused; a header without a page count is read" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t VALUES (1)"
	before=$(cksum <app.db)
	# page size 1000: not a power of two
	python3 -c '
import sys
d = bytearray(open("app.db", "rb").read())
d[16:18] = (1000).to_bytes(2, "big")
sys.stdout.buffer.write(d)' | gzip >odd.gz
	run -6 mig -d app.db restore -i odd.gz
	[ "$output" = "mig-restore: error: 'odd.gz' does not hold an SQLite database" ]
	[ "$(cksum <app.db)" = "$before" ]
	# as SQLite before 3.7.0 wrote it: no page count in the header
	q app.db "INSERT INTO t VALUES (2)"
	python3 -c '
import sys
d = bytearray(open("app.db", "rb").read())
d[28:32] = bytes(4)
d[92:96] = bytes(4)
sys.stdout.buffer.write(d)' | gzip >old.gz
	q app.db "DELETE FROM t"
	run -0 mig -d app.db restore -q -i old.gz
	[ "$(q app.db 'SELECT group_concat(x) FROM t')" = "1,2" ]
}

@test "restore -i: 64 KiB pages are read; a page size under 512, an empty image or a directory are refused" {
	sqlite3 big.db 'PRAGMA page_size = 65536; CREATE TABLE t(x INT); INSERT INTO t VALUES (1)'
	gzip -c big.db >big.gz
	q app.db 'CREATE TABLE u(y INT)'
	run -0 mig -d app.db restore -q -i big.gz
	[ "$(q app.db 'PRAGMA page_size; SELECT x FROM t')" = $'65536\n1' ]
	before=$(cksum <app.db)
	python3 -c '
import sys
d = bytearray(open("big.db", "rb").read())
d[16:18] = (256).to_bytes(2, "big")
sys.stdout.buffer.write(d)' | gzip >p256.gz
	run -6 mig -d app.db restore -i p256.gz
	[ "$output" = "mig-restore: error: 'p256.gz' does not hold an SQLite database" ]
	: | gzip >empty.gz
	run -6 mig -d app.db restore -i empty.gz
	[ "$output" = "mig-restore: error: 'empty.gz' does not hold an SQLite database: 0 bytes is no whole number of pages" ]
	mkdir d
	run -6 mig -d app.db restore -i d
	[ "$output" = "mig-restore: error: cannot read 'd': Is a directory" ]
	[ "$(cksum <app.db)" = "$before" ]
}

@test "snapshot refs: a stray file among them is passed over; a file where their directory should be exits 6" {
	setup_snapshot
	: >app.db.mig/refs/mig/snapshots/README
	run -0 mig -d app.db backup --list --porcelain
	[ "${#lines[@]}" = 1 ]
	[ "$(cut -f2 <<<"$output")" = "$id" ]
	git --git-dir=app.db.mig pack-refs --all
	rm -rf app.db.mig/refs/mig/snapshots
	: >app.db.mig/refs/mig/snapshots
	run -6 mig -d app.db backup --list
	[ "$output" = "mig-backup: error: cannot list snapshots in 'app.db.mig/refs/mig/snapshots/': Not a directory" ]
	run -2 mig -d app.db restore "$(printf 'a%.0s' $(seq 41))"
	[ "$output" = "mig-restore: error: '$(printf 'a%.0s' $(seq 41))' is no snapshot id: give 4 to 40 hex digits" ]
}

@test "a snapshot commit written by hand: its time from 'taken' whole seconds, or from the commit; odd refs passed over" {
	setup_snapshot
	tree=$(git --git-dir=app.db.mig rev-parse "$id^{tree}")
	# 'xtaken' is no fact; 'taken' without a fraction of a second is one
	a=$(git --git-dir=app.db.mig commit-tree "$tree" -m $'by hand\n\nxtaken 5\ntaken 1700000000\nsize 10')
	git --git-dir=app.db.mig update-ref "refs/mig/snapshots/$a" "$a"
	b=$(GIT_COMMITTER_DATE='1600000000 +0000' git --git-dir=app.db.mig commit-tree "$tree" -m 'no facts at all')
	git --git-dir=app.db.mig update-ref "refs/mig/snapshots/$b" "$b"
	git --git-dir=app.db.mig update-ref refs/mig/snapshots/short "$a"
	run -0 mig -d app.db backup --list --porcelain
	[ "${#lines[@]}" = 3 ]
	has "snapshot	$a	2023-11-14T22:13:20Z	0	10	0	by hand"
	has "snapshot	$b	2020-09-13T12:26:40Z	0	0	0	no facts at all"
}

@test "status names a mig run that holds the store while the database is locked, even with no name in its lock" {
	setup_snapshot
	printf '[mig]\n\tdatabase = app.db\n\tlockTimeout = 100\n' >mig.conf
	: >app.db.mig/mig.lock
	run -0 python3 - "$(command -v mig)" <<'PY'
import fcntl, sqlite3, subprocess, sys
with open("app.db.mig/mig.lock", "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    c = sqlite3.connect("app.db", isolation_level=None)
    c.execute("BEGIN EXCLUSIVE")
    r = subprocess.run([sys.argv[1], "status"], capture_output=True, text=True)
    c.execute("ROLLBACK")
print(r.returncode)
print(r.stderr, end="")
PY
	[ "${lines[0]}" = 6 ]
	has "hint: a mig run is in progress (unknown holder)"
}

# be32 FILE OFFSET N: write N at OFFSET of FILE, big-endian, over what is there
be32() {
	python3 -c 'import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    f.write(struct.pack(">I", int(sys.argv[3])))' "$@"
}

@test "a pack whose header counts other objects than its index, or whose checksum is not its index's: damage that names it" {
	sqlite3 app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d %s', value, hex(randomblob(40))) FROM generate_series(1, 4000);"
	id=$(MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0 mig -d app.db backup)
	oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/00000000")
	pack=$(ls app.db.mig/objects/pack/*.pack)
	n=$(git --git-dir=app.db.mig verify-pack -v "${pack%.pack}.idx" | grep -c ' blob ')
	chmod u+w "$pack"
	cp "$pack" pack.orig
	sqlite3 app.db "DELETE FROM t WHERE id % 2 = 0"
	before=$(sqlite3 app.db .dump)
	be32 "$pack" 8 $((n + 1))
	run -6 mig -d app.db backup --verify "$id"
	[ "$output" = "mig-backup: error: snapshot ${id:0:12} is damaged: chunk 0 (object $oid) is in a damaged pack, '$pack': its header counts $((n + 1)) objects, its index $n" ]
	run -6 mig -d app.db restore -q --no-backup "$id"
	[ "$output" = "mig-restore: error: snapshot ${id:0:12} is damaged: chunk 0 (object $oid) is in a damaged pack, '$pack': its header counts $((n + 1)) objects, its index $n" ]
	[ "$(sqlite3 app.db .dump)" = "$before" ]
	# the count right, the trailing checksum not the one the index records
	cp pack.orig "$pack"
	run -0 mig -d app.db backup --verify "$id"
	printf '\000\000\000\000' | dd of="$pack" bs=1 seek=$(($(stat -c %s "$pack") - 4)) conv=notrunc status=none
	run -6 mig -d app.db backup --verify "$id"
	[ "$output" = "mig-backup: error: snapshot ${id:0:12} is damaged: chunk 0 (object $oid) is in a damaged pack, '$pack': its checksum is not the one its index records" ]
	run -6 mig -d app.db restore -q --no-backup "$id"
	[ "$output" = "mig-restore: error: snapshot ${id:0:12} is damaged: chunk 0 (object $oid) is in a damaged pack, '$pack': its checksum is not the one its index records" ]
	[ "$(sqlite3 app.db .dump)" = "$before" ]
	# nothing is taken from it: a new snapshot stores its chunks anew
	run -0 env MIG_CHUNK_SIZE=64 mig -d app.db backup
	run -0 mig -d app.db backup --verify "$output"
}

@test "a chunk damaged in a pack mig wrote, or its pack gone: verify and restore name it; the database stays" {
	sqlite3 app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d %s', value, hex(randomblob(40))) FROM generate_series(1, 4000);"
	id=$(MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0 mig -d app.db backup)
	oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/00000003")
	idx=$(ls app.db.mig/objects/pack/*.idx)
	# a byte in the middle of chunk 3's entry
	read -r _ _ _ len off < <(git --git-dir=app.db.mig verify-pack -v "$idx" | grep "^$oid ")
	chmod u+w "${idx%.idx}.pack"
	flip "${idx%.idx}.pack" $((off + len / 2))
	sqlite3 app.db "DELETE FROM t WHERE id % 2 = 0"
	before=$(sqlite3 app.db .dump)
	run -6 mig -d app.db backup --verify "$id"
	[[ "$output" == "mig-backup: error: snapshot ${id:0:12} is damaged: chunk 3 (object $oid) "* ]]
	run -6 mig -d app.db restore -q --no-backup "$id"
	[[ "$output" == "mig-restore: error: snapshot ${id:0:12} is damaged: chunk 3 (object $oid) "* ]]
	[ "$(sqlite3 app.db .dump)" = "$before" ]
	# the pack gone, its index left: each chunk is missing
	rm "${idx%.idx}.pack"
	run -6 mig -d app.db backup --verify "$id"
	[[ "$output" =~ ^mig-backup:\ error:\ snapshot\ ${id:0:12}\ is\ damaged:\ chunk\ [0-9]+\ \(object\ [0-9a-f]{40}\)\ is\ missing$ ]]
	[ "$(sqlite3 app.db .dump)" = "$before" ]
}

@test "a chunk damaged where it is read first, whole in another copy: verify and restore read the whole one" {
	q app.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d %s', value, hex(randomblob(40))) FROM generate_series(1, 4000);"
	# four chunks loose, the rest in mig's pack: which four is the order
	# the workers finished in; the first loose one is damaged
	id=$(MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=4 mig -d app.db backup)
	for chunk in 0 1 2 3 4 5 6 7; do
		oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/0000000$chunk")
		loose=app.db.mig/objects/${oid:0:2}/${oid:2}
		[ ! -e "$loose" ] || break
	done
	[ -e "$loose" ]
	before=$(sqlite3 app.db .dump)
	# a copy in a pack of git's, then a byte in the middle of the loose one, which is read first
	gp=$(echo "$oid" | git --git-dir=app.db.mig pack-objects -q app.db.mig/objects/pack/pack)
	chmod u+w "$loose"
	flip "$loose" $(($(stat -c %s "$loose") / 2))
	run -0 mig -d app.db backup --verify "$id"
	[ "$output" = "$id ok" ]
	q app.db "DELETE FROM t"
	run -0 mig -d app.db restore -q --no-backup "$id"
	[ "$(sqlite3 app.db .dump)" = "$before" ]
	# the other copy gone, the damaged one is all there is: damage, and the database stays
	rm "app.db.mig/objects/pack/pack-$gp.idx" "app.db.mig/objects/pack/pack-$gp.pack"
	q app.db "DELETE FROM t WHERE id % 2 = 0"
	changed=$(sqlite3 app.db .dump)
	run -6 mig -d app.db backup --verify "$id"
	[ "$output" = "mig-backup: error: snapshot ${id:0:12} is damaged: chunk $chunk (object $oid) does not inflate to a blob of the right size" ]
	run -6 mig -d app.db restore -q --no-backup "$id"
	[ "$output" = "mig-restore: error: snapshot ${id:0:12} is damaged: chunk $chunk (object $oid) does not inflate to a blob of the right size" ]
	[ "$(sqlite3 app.db .dump)" = "$changed" ]
}
