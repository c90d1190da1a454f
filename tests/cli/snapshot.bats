#!/usr/bin/env bats
# mig backup and mig restore: snapshots, their checks, gzip images, and the
# snapshots up and down take by themselves.
# backend: sqlite (SQLite images; pg.bats has PostgreSQL's snapshots)
load helper

# a database with a few hundred KiB in it
data() {
	q "${1:-app.db}" "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
		INSERT INTO t(v) SELECT printf('row %d %s', value, hex(randomblob(40))) FROM generate_series(1, 5000);
		CREATE INDEX t_v ON t(v);"
}

# a database big enough that backup and restore take a while
big() {
	q "${1:-app.db}" "CREATE TABLE big(id INTEGER PRIMARY KEY, v BLOB);
		INSERT INTO big(v) SELECT randomblob(1000) FROM generate_series(1, 80000);"
}

dump() {
	q "${1:-app.db}" .dump
}

# the newest snapshot's id
newest() {
	mig -d app.db backup --list --porcelain | head -1 | cut -f2
}

# the loose object file of chunk N of snapshot ID
chunk_file() {
	local oid
	oid=$(git --git-dir=app.db.mig rev-parse "$1:chunks/$(printf %08d "$2")")
	echo "app.db.mig/objects/${oid:0:2}/${oid:2}"
}

@test "backup prints the id; restore brings the data back exactly" {
	data
	before=$(dump)
	run -0 --separate-stderr mig -d app.db backup --message "first one"
	[[ "$output" =~ ^[0-9a-f]{40}$ ]]
	id=$output
	[ -z "$stderr" ]
	q app.db "DELETE FROM t WHERE id % 3 = 0; CREATE TABLE extra(x INT)"
	[ "$(dump)" != "$before" ]
	run -0 mig -d app.db restore "${id:0:7}"
	[[ "$output" == "mig-restore: restored snapshot ${id:0:12} into 'app.db'; what was there is snapshot "* ]]
	[ "$(dump)" = "$before" ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	# the snapshot of what was replaced can be restored too
	after=$(newest)
	[ "$after" != "$id" ]
	run -0 mig -d app.db restore -q "$after"
	[ -z "$output" ]
	[ "$(q app.db 'SELECT count(*) FROM extra')" = 0 ]
}

# the store's objects and refs (not its lock or caches), to see that nothing changed
store_sum() {
	(cd app.db.mig && find . -type f ! -name mig.lock ! -name '*.cache' -exec cksum {} + | sort)
}

@test "a journal pointing at a missing object: backup, prune and restore exit 6 and change nothing" {
	data
	id=$(mig -d app.db backup)
	mig -d app.db backup -q -o image.gz >/dev/null
	q app.db "DELETE FROM t WHERE id % 2 = 0"
	bad=1234567890123456789012345678901234567890
	echo "$bad" >app.db.mig/refs/mig/journal
	msg="error: store 'app.db.mig': the journal refs/mig/journal points at missing object $bad"
	db=$(cksum <app.db)
	img=$(cksum <image.gz)
	store=$(store_sum)
	for cmd in backup "backup -o image.gz" "backup --prune 1" restore "restore -i image.gz"; do
		run -6 mig -d app.db $cmd
		has "mig-${cmd%% *}: $msg"
		[ "$(cksum <app.db)" = "$db" ]
		[ "$(cksum <image.gz)" = "$img" ]
		[ "$(store_sum)" = "$store" ]
	done
}

@test "backup -o refuses the database, its journals and the store by any name (exit 5), and changes nothing" {
	data
	mkdir sub
	ln -s app.db link.db
	ln app.db hard.db
	db=$(cksum <app.db)
	for o in app.db ./app.db "$PWD/./app.db" sub/../app.db link.db hard.db; do
		run -5 mig -d app.db backup -o "$o"
		[ "${lines[0]}" = "mig-backup: error: refusing to write to '$o': it is the database 'app.db'" ]
		[ "${lines[1]}" = "hint: write the image to a file of its own, such as 'app.db.gz'" ]
		[ "$(cksum <app.db)" = "$db" ]
		[ ! -e app.db.mig ]
	done
	run -5 mig -d app.db backup -o app.db-journal
	has "mig-backup: error: refusing to write to 'app.db-journal': it is the rollback journal of the database 'app.db'"
	run -5 mig -d app.db backup -o sub/../app.db-shm
	has "mig-backup: error: refusing to write to 'sub/../app.db-shm': it is the shared-memory index of the database 'app.db'"
	# standard output appended to the database
	run -5 --separate-stderr sh -c 'mig -d app.db backup -o - >>app.db'
	[ "${stderr_lines[0]}" = "mig-backup: error: refusing to write to standard output: it is the database 'app.db'" ]
	[ "$(cksum <app.db)" = "$db" ]
	# inside the store, whether it exists yet or not
	run -5 mig -d app.db backup -o app.db.mig/image.gz
	has "mig-backup: error: refusing to write to 'app.db.mig/image.gz': it is inside the store 'app.db.mig'"
	[ ! -e app.db.mig ]
	mig -d app.db backup >/dev/null
	store=$(store_sum)
	run -5 mig -d app.db backup -o app.db.mig/objects
	has "mig-backup: error: refusing to write to 'app.db.mig/objects': it is inside the store 'app.db.mig'"
	run -5 mig -d app.db backup -o app.db.mig/HEAD
	[ "$(store_sum)" = "$store" ]
	[ "$(cksum <app.db)" = "$db" ]
}

@test "backup -o never deletes a WAL: the rows only in it stay" {
	data
	python3 - <<'EOF'
import os, sqlite3, subprocess
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("INSERT INTO t(v) VALUES ('only in the wal')")
wal = open("app.db-wal", "rb").read()
for o in ("app.db-wal", "app.db-shm"):
    r = subprocess.run(["mig", "-d", "app.db", "backup", "-o", o], capture_output=True, text=True)
    assert r.returncode == 5, r
    assert r.stderr.startswith("mig-backup: error: refusing to write to '%s': it is the " % o), r.stderr
    assert open("app.db-wal", "rb").read() == wal
r = subprocess.run(["sqlite3", "app.db", "SELECT count(*) FROM t WHERE v = 'only in the wal'"],
                   capture_output=True, text=True, check=True)
assert r.stdout == "1\n", r
os._exit(0)     # no checkpoint on close: the row stays in the WAL only
EOF
	[ "$(q app.db "SELECT count(*) FROM t WHERE v = 'only in the wal'")" = 1 ]
}

@test "backup -o writes the image whole or not at all, and keeps the mode of the file it replaces" {
	data
	run -0 mig -d app.db backup -q -o new.gz
	[ "$(stat -c %a new.gz)" = 600 ]
	echo "an older image" >image.gz
	chmod 640 image.gz
	# a backup that fails leaves the file as it was, and no temporary file
	python3 - <<'EOF'
import sqlite3, subprocess
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
r = subprocess.run(["mig", "-d", "app.db", "backup", "--lock-timeout", "100", "-o", "image.gz"],
                   capture_output=True, text=True)
assert r.returncode == 6, r
c.execute("ROLLBACK")
EOF
	[ "$(cat image.gz)" = "an older image" ]
	[ -z "$(ls -A | grep tmp)" ]
	run -0 mig -d app.db backup -q -o image.gz
	[ "$(stat -c %a image.gz)" = 640 ]
	gunzip -c image.gz >copy.db
	[ "$(sqlite3 copy.db 'SELECT count(*) FROM t')" = 5000 ]
	# through a symlink: the file it names gets the image
	ln -s image.gz link.gz
	q app.db "DELETE FROM t WHERE id > 10"
	run -0 mig -d app.db backup -q -o link.gz
	[ -L link.gz ]
	gunzip -c image.gz >copy2.db
	[ "$(sqlite3 copy2.db 'SELECT count(*) FROM t')" = 10 ]
	# a device is written as it is
	run -0 mig -d app.db backup -q -o /dev/null
	[ -c /dev/null ]
	# a path stat cannot see through is not taken for a new file and replaced
	ln -s loop.gz loop.gz
	run -6 mig -d app.db backup -q -o loop.gz
	[ "${lines[0]}" = "mig-backup: error: cannot write 'loop.gz': Too many levels of symbolic links" ]
	[ "$(readlink loop.gz)" = loop.gz ]
}

@test "the list shows id, time, revisions, size and new bytes; an unchanged database stores nothing new" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	mig -d app.db up -q
	data
	mig -d app.db backup >/dev/null
	mig -d app.db backup --message again >/dev/null
	run -0 mig -d app.db backup --list --porcelain
	[ "${#lines[@]}" = 2 ]
	IFS=$'\t' read -r kind id when revs size stored msg <<<"${lines[0]}"
	[ "$kind" = snapshot ]
	[ "$msg" = again ]
	[ "$revs" = 1 ]
	[ "$size" = "$(stat -c %s app.db)" ]
	[ "$stored" = 0 ]
	[[ "$when" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
	IFS=$'\t' read -r kind id when revs size stored msg <<<"${lines[1]}"
	[ "$msg" = backup ]
	[ "$stored" -gt 0 ]
	run -0 mig -d app.db backup --list
	[[ "${lines[0]}" == "${id:0:12}"* ]] || [[ "${lines[1]}" == "${id:0:12}"* ]]
	[[ "${lines[0]}" == *"1 revision "*" again" ]]
	run -0 mig -d app.db backup --list --json
	python3 -c 'import json,sys; d = json.load(sys.stdin)["snapshots"]; assert [s["message"] for s in d] == ["again", "backup"], d' <<<"$output"
	# the snapshot is a commit git can read: its message names the applied revision
	git --git-dir=app.db.mig cat-file -p "$id" | grep -q "^revision $(git hash-object migrations/0001_a.sql) 0001_a$"
}

@test "the list escapes a message: no tab splits a porcelain record, no escape reaches a terminal" {
	data
	mig -d app.db backup -q --message $'red \e[31m\tand a tab' >/dev/null
	run -0 mig -d app.db backup --list --porcelain
	IFS=$'\t' read -r kind id when revs size stored msg <<<"${lines[0]}"
	[ "$msg" = 'red \x1b[31m\tand a tab' ]
	run -0 mig -d app.db backup --list
	[[ "${lines[0]}" == *' new  red \x1b[31m\tand a tab' ]]
	run -0 mig -d app.db backup --list --json
	python3 -c 'import json,sys; d = json.load(sys.stdin)["snapshots"]; assert d[0]["message"] == "red \x1b[31m\tand a tab", d' <<<"$output"
}

# a snapshot made by hand whose manifest says size $1, chunk size $2 and has no chunks; prints its id
crafted() {
	local git="git --git-dir=app.db.mig" man chunks tree c
	# the checksum of no chunks
	man=$(printf 'mig-snapshot 1\npage-size 4096\nsize %s\nchunk-size %s\nchecksum xxh128-list:99aa06d3014798d86001c324468d497f\n' \
		"$1" "$2" | $git hash-object -w --stdin)
	chunks=$($git mktree </dev/null)
	tree=$(printf '100644 blob %s\tmanifest\n040000 tree %s\tchunks\n' "$man" "$chunks" | $git mktree)
	c=$(echo crafted | $git commit-tree "$tree")
	$git update-ref "refs/mig/snapshots/$c" "$c"
	echo "$c"
}

@test "a manifest mig cannot have written is damage (exit 6): no endless restore, no 1 TiB allocation" {
	data
	mig -d app.db backup -q >/dev/null
	db=$(dump)
	for c in "$(crafted 18446744073709551615 65536)" "$(crafted 0 1099511627776)" "$(crafted 4000 65536)"; do
		run -6 timeout 20 mig -d app.db restore --no-backup "$c"
		[ "$output" = "mig-restore: error: snapshot ${c:0:12} is damaged: its manifest does not parse" ]
		run -6 timeout 20 mig -d app.db backup --verify "$c"
		[ "$output" = "mig-backup: error: snapshot ${c:0:12} is damaged: its manifest does not parse" ]
		[ "$(dump)" = "$db" ]
	done
	# the one with no chunks and no bytes is whole, if useless
	c=$(crafted 0 65536)
	run -0 mig -d app.db backup --verify "$c"
}

@test "a second snapshot after a small change stores only what changed" {
	big
	mig -d app.db backup >/dev/null
	q app.db "UPDATE big SET v = zeroblob(1000) WHERE id < 100"
	mig -d app.db backup >/dev/null
	first=$(mig -d app.db backup --list --porcelain | sed -n 2p | cut -f6)
	second=$(mig -d app.db backup --list --porcelain | sed -n 1p | cut -f6)
	size=$(stat -c %s app.db)
	[ "$first" -gt $((size / 2)) ]
	[ "$second" -lt $((size / 20)) ]
}

@test "-o writes a gzip image gunzip and sqlite3 read; -o - sends it to stdout and the id to stderr" {
	data
	run -0 mig -d app.db backup -o image.gz
	gunzip -c image.gz >copy.db
	[ "$(dump copy.db)" = "$(dump)" ]
	[ "$(stat -c %a image.gz)" = 600 ]
	mig -d app.db backup -o - 2>id.txt | gunzip -c >copy2.db
	[ "$(dump copy2.db)" = "$(dump)" ]
	grep -Eq '^[0-9a-f]{40}$' id.txt
	run -2 mig -d app.db backup --list -o x.gz
	has "mig-backup: error: --message and -o go with taking a snapshot"
}

@test "backup -o - into a pipe no one reads: exit 6 saying so, not killed; the database and the store whole" {
	data
	before=$(dump)
	# the pipe's reader is gone before mig starts (with | head it is a race)
	run -0 python3 - "$(command -v mig)" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "-d", "app.db", "backup", "-o", "-"], stdout=w, stderr=subprocess.PIPE, text=True)
print(p.returncode)
print(p.stderr, end="")
PY
	[ "${lines[0]}" = 6 ]
	[ "${lines[-1]}" = "mig-backup: error: cannot write 'standard output': Broken pipe" ]
	[ "$(dump)" = "$before" ]
	run -0 mig -d app.db backup --verify
}

@test "restore -i reads a gzip image from a file or stdin, and it becomes a snapshot" {
	data
	mig -d app.db backup -q -o image.gz >/dev/null
	before=$(dump)
	q app.db "DROP TABLE t"
	run -0 mig -d app.db restore -q -i image.gz
	[ "$(dump)" = "$before" ]
	q app.db "DROP TABLE t"
	mig -d app.db restore -q -i - <image.gz
	[ "$(dump)" = "$before" ]
	run -0 mig -d app.db backup --list --porcelain
	[[ "$output" == *"	import image.gz"* ]]
	[[ "$output" == *"import from standard input"* ]]
}

@test "restore -i refuses what is not a gzip database image, and touches nothing" {
	data
	sum=$(sha1sum <app.db)
	echo "not gzip" >bad.gz
	run -6 mig -d app.db restore -i bad.gz
	has "mig-restore: error: 'bad.gz' is not a gzip stream: incorrect header check"
	echo "plain text, no database" | gzip >text.gz
	run -6 mig -d app.db restore -i text.gz
	has "mig-restore: error: 'text.gz' does not hold an SQLite database"
	mig -d app.db backup -q -o image.gz >/dev/null
	head -c 20000 image.gz >short.gz
	run -6 mig -d app.db restore -i short.gz
	has "mig-restore: error: 'short.gz' ends in the middle of its gzip stream"
	run -6 mig -d app.db restore -i missing.gz
	has "mig-restore: error: cannot open 'missing.gz': No such file or directory"
	# nothing compressed, and a whole image with something after it that is no gzip member
	gzip </dev/null >empty.gz
	run -6 mig -d app.db restore -i empty.gz
	has "mig-restore: error: 'empty.gz' does not hold an SQLite database: 0 bytes is no whole number of pages"
	cat image.gz bad.gz >trailing.gz
	run -6 mig -d app.db restore -i trailing.gz
	has "mig-restore: error: 'trailing.gz' is not a gzip stream: incorrect header check"
	[ "$(sha1sum <app.db)" = "$sum" ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = 1 ]
}

@test "verify re-reads every chunk; a damaged chunk is named, and restore refuses it, touching nothing" {
	data
	id=$(mig -d app.db backup)
	run -0 mig -d app.db backup --verify
	[ "$output" = "$id ok" ]
	f=$(chunk_file "$id" 1)
	chmod u+w "$f"
	printf 'garbage' | dd of="$f" bs=1 seek=30 conv=notrunc 2>/dev/null
	oid=$(git --git-dir=app.db.mig rev-parse "$id:chunks/00000001")
	run -6 mig -d app.db backup --verify "${id:0:8}"
	has "mig-backup: error: snapshot ${id:0:12} is damaged: chunk 1 (object $oid) does not inflate to a blob of the right size"
	q app.db "DELETE FROM t"
	sum=$(sha1sum <app.db)
	n=$(mig -d app.db backup --list --porcelain | wc -l)
	run -6 mig -d app.db restore "$id"
	has "mig-restore: error: snapshot ${id:0:12} is damaged: chunk 1 (object $oid) does not inflate to a blob of the right size"
	[ "$(sha1sum <app.db)" = "$sum" ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	# a missing chunk is found before the current state is snapshot
	rm "$f"
	run -6 mig -d app.db restore "$id"
	has "mig-restore: error: snapshot ${id:0:12} is damaged: chunk 1 (object $oid) is missing"
	[ "$(sha1sum <app.db)" = "$sum" ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = $((n + 1)) ]
}

@test "a chunk whose bytes inflate but hash wrong is caught too" {
	data
	id=$(mig -d app.db backup)
	f=$(chunk_file "$id" 0)
	other=$(chunk_file "$id" 1)
	chmod u+w "$f"
	cp "$other" "$f"
	run -6 mig -d app.db backup --verify
	[[ "$output" == *"chunk 0 (object "*") does not inflate to a blob of the right size"* ||
	   "$output" == *"chunk 0 (object "*") does not match its id"* ]]
}

@test "prune keeps the newest, removes what only the others used, never revision bodies" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	data
	mig -d app.db up -q
	old=$(newest)
	q app.db "DELETE FROM t WHERE id < 2500; VACUUM"
	mig -d app.db backup >/dev/null
	q app.db "INSERT INTO t(v) VALUES ('x')"
	keep=$(mig -d app.db backup)
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = 3 ]
	run -0 mig -d app.db backup --prune 1
	[[ "$output" =~ ^mig-backup:\ pruned\ 2\ snapshots\;\ removed\ ([0-9]+)\ objects ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "$(mig -d app.db backup --list --porcelain | cut -f2)" = "$keep" ]
	run -0 mig -d app.db backup --verify
	[ "$output" = "$keep ok" ]
	run ! git --git-dir=app.db.mig cat-file -e "$old:manifest"
	git --git-dir=app.db.mig cat-file -e "$(git hash-object migrations/0001_a.sql)"
	run -0 mig -d app.db log -n 1
	[[ "$output" == *" ok: prune: keep 1 ("* ]]
	git --git-dir=app.db.mig cat-file -e "$(git hash-object migrations/0001_a.sql)"
}

@test "prune removes from packs too what only the pruned snapshots used, after a git gc; the rest stays" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	q app.db "CREATE TABLE r(id INTEGER PRIMARY KEY, v BLOB);
		INSERT INTO r(v) SELECT randomblob(1000) FROM generate_series(1, 3000);"
	mig -d app.db up -q 0001
	q app.db "UPDATE r SET v = randomblob(1000)"
	mig -d app.db up -q
	old=$(mig -d app.db backup --list --porcelain | tail -1 | cut -f2)
	git --git-dir=app.db.mig gc -q
	# the old snapshot's chunks are packed now
	[ ! -e "$(chunk_file "$old" 1)" ]
	objects() {
		git --git-dir=app.db.mig cat-file --batch-all-objects --batch-check='%(objectname)' | sort
	}
	objects >before
	packed=$(du -sb app.db.mig/objects/pack | cut -f1)
	run -0 mig -d app.db backup --prune 1
	[[ "$output" =~ ^mig-backup:\ pruned\ 1\ snapshot\;\ removed\ ([0-9]+)\ objects\ \(([0-9.]+)\ MiB\)$ ]]
	removed=${BASH_REMATCH[1]}
	[ "$removed" -gt 0 ]
	[ "${BASH_REMATCH[2]}" != 0.0 ]
	objects >after
	# only objects went, as many as it says, and none that anything still reaches;
	# what is new is the journal entry for the prune
	git --git-dir=app.db.mig rev-parse refs/mig/journal refs/mig/journal^{tree} | sort >journaled
	[ -z "$(comm -13 before after | comm -23 - journaled)" ]
	[ "$(comm -23 before after | wc -l)" = "$removed" ]
	git --git-dir=app.db.mig rev-list --objects --all >/dev/null
	run ! git --git-dir=app.db.mig cat-file -e "$old:manifest"
	[ "$(du -sb app.db.mig/objects/pack | cut -f1)" -lt $((packed * 3 / 4)) ]
	[ "$(ls app.db.mig/objects/pack/*.idx | wc -l)" = 1 ]
	[ ! -e app.db.mig/objects/info/commit-graph ]
	[ -z "$(find app.db.mig/objects/pack -type f -perm /077)" ]
	run -0 mig -d app.db backup --verify
	# the revision bodies, packed by git too, are still there to go down with
	rm migrations/*.sql
	run -0 mig -d app.db down base -q
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 0 ]
}

@test "prune leaves a pack git was told to keep, and says what stays in it" {
	data
	mig -d app.db backup >/dev/null
	q app.db "DELETE FROM t WHERE id % 2 = 0; VACUUM"
	mig -d app.db backup >/dev/null
	git --git-dir=app.db.mig gc -q
	for f in app.db.mig/objects/pack/*.pack; do touch "${f%.pack}.keep"; done
	packs=$(cd app.db.mig/objects/pack && cksum * | sort)
	run -0 mig -d app.db backup --prune 1
	has "mig-backup: pruned 1 snapshot; removed 0 objects (0.0 MiB)"
	[[ "${lines[1]}" =~ ^mig-backup:\ [0-9]+\ objects\ only\ they\ used\ stay\ packed,\ in\ packs\ mostly\ still\ in\ use\ or\ kept\ by\ git\ \(.keep\)$ ]]
	[ "$(cd app.db.mig/objects/pack && cksum * | sort)" = "$packs" ]
	run -0 mig -d app.db backup --verify
}

@test "prune 0 is refused with exit 2: KEEP is at least 1; nothing is removed" {
	data
	id=$(mig -d app.db backup)
	store=$(store_sum)
	run -2 mig -d app.db backup --prune 0
	[ "${lines[0]}" = "mig-backup: error: --prune 0 would remove every snapshot: KEEP must be at least 1" ]
	[ "$(store_sum)" = "$store" ]
	[ "$(newest)" = "$id" ]
	run -0 mig -d app.db backup --prune 1
	[ "$(newest)" = "$id" ]
}

@test "the store and its snapshots are private: directories 0700, files 0600" {
	data
	mig -d app.db backup >/dev/null
	[ "$(stat -c %a app.db.mig)" = 700 ]
	[ -z "$(find app.db.mig -type d ! -perm 700)" ]
	[ -z "$(find app.db.mig -type f -perm /077)" ]
}

@test "in rollback-journal mode the image is the file's own bytes, without a writer's uncommitted rows" {
	data
	cp app.db before.db
	python3 - <<'EOF'
import sqlite3, subprocess
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO t(v) VALUES ('not committed')")
subprocess.run(["mig", "-d", "app.db", "backup", "-q", "-o", "img.gz"], check=True, stdout=subprocess.DEVNULL)
c.execute("COMMIT")
c.close()
EOF
	# read from the file, not rewritten by the backup API (which bumps
	# the change counter and schema cookie in the header)
	gunzip -c img.gz | cmp - before.db
	[ "$(q app.db "SELECT count(*) FROM t WHERE v = 'not committed'")" = 1 ]
}

@test "a WAL database is snapshot with what is still in its WAL" {
	data
	python3 - <<'EOF'
import sqlite3, subprocess
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("INSERT INTO t(v) VALUES ('only in the wal')")
subprocess.run(["mig", "-d", "app.db", "backup", "-q", "-o", "wal.gz"], check=True, stdout=subprocess.DEVNULL)
c.execute("INSERT INTO t(v) VALUES ('after the snapshot')")
c.close()
EOF
	gunzip -c wal.gz >copy.db
	[ "$(sqlite3 copy.db "SELECT count(*) FROM t WHERE v = 'only in the wal'")" = 1 ]
	[ "$(sqlite3 copy.db "SELECT count(*) FROM t WHERE v = 'after the snapshot'")" = 0 ]
	mig -d app.db restore -q
	[ "$(q app.db "SELECT count(*) FROM t WHERE v = 'after the snapshot'")" = 0 ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
}

@test "a snapshot taken while another process writes is consistent" {
	data
	python3 - <<'EOF' &
import sqlite3, time
c = sqlite3.connect("app.db", timeout=30, isolation_level=None)
end = time.time() + 3
while time.time() < end:
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t(v) VALUES ('a')")
    c.execute("INSERT INTO t(v) VALUES ('b')")
    c.execute("COMMIT")
EOF
	writer=$!
	sleep 0.3
	for i in 1 2 3; do
		mig -d app.db backup -q -o "c$i.gz" >/dev/null
		gunzip -c "c$i.gz" >"c$i.db"
		[ "$(q "c$i.db" 'PRAGMA integrity_check')" = ok ]
		# the two rows of a transaction are both there or both not
		[ "$(q "c$i.db" "SELECT (SELECT count(*) FROM t WHERE v = 'a') - (SELECT count(*) FROM t WHERE v = 'b')")" = 0 ]
	done
	wait "$writer"
	run -0 mig -d app.db backup --verify
}

@test "kill -9 during backup leaves no half snapshot; the next backup works" {
	big
	mig -d app.db backup >/dev/null
	q app.db "UPDATE big SET v = randomblob(1000)"
	n=$(mig -d app.db backup --list --porcelain | wc -l)
	mig -d app.db backup -q >/dev/null &
	pid=$!
	sleep 0.2
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" || true
	m=$(mig -d app.db backup --list --porcelain | wc -l)
	[ "$m" = "$n" ] || [ "$m" = $((n + 1)) ]
	run -0 mig -d app.db backup --verify
	id=$(mig -d app.db backup)
	run -0 mig -d app.db backup --verify "$id"
}

@test "a snapshot whose objects cannot be synced to disk gets no ref: exit 6, nothing listed, no -o file" {
	command -v cc >/dev/null || skip "no C compiler for the shim"
	data
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	mig -d app.db up -q
	printf '#include <errno.h>\nint syncfs(int fd) { (void)fd; errno = EIO; return -1; }\n' >shim.c
	cc -shared -fPIC -o shim.so shim.c
	refs=$(git --git-dir=app.db.mig for-each-ref | cksum)
	q app.db "INSERT INTO t(v) VALUES ('new')"
	run -6 --separate-stderr env LD_PRELOAD="$PWD/shim.so" ASAN_OPTIONS=verify_asan_link_order=0 \
		mig -d app.db backup -o image.gz
	[ "$stderr" = "mig-backup: error: cannot sync the store 'app.db.mig': Input/output error" ]
	[ -z "$output" ]
	[ "$(git --git-dir=app.db.mig for-each-ref | cksum)" = "$refs" ]
	[ ! -e image.gz ]
	# up says so before it changes anything
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	db=$(cksum <app.db)
	run -6 env LD_PRELOAD="$PWD/shim.so" ASAN_OPTIONS=verify_asan_link_order=0 mig -d app.db up
	has "mig-up: error: cannot sync the store 'app.db.mig': Input/output error"
	[ "$(cksum <app.db)" = "$db" ]
	[ "$(git --git-dir=app.db.mig for-each-ref | cksum)" = "$refs" ]
}

@test "kill -9 during restore leaves the old database or the new, whole" {
	big
	id=$(mig -d app.db backup)
	q app.db "DELETE FROM big WHERE id % 2 = 0; INSERT INTO big(v) VALUES ('marker')"
	mig -d app.db restore -q --no-backup "$id" &
	pid=$!
	sleep 0.3
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" || true
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	count=$(q app.db "SELECT count(*) FROM big")
	[ "$count" = 80000 ] || [ "$count" = 40001 ]
	# the lock died with the process
	mig -d app.db restore -q --no-backup --lock-timeout 0 "$id"
	[ "$(q app.db 'SELECT count(*) FROM big')" = 80000 ]
}

@test "restore waits for a writer, then exits 6 and changes nothing" {
	data
	id=$(mig -d app.db backup)
	q app.db "DELETE FROM t"
	sum=$(sha1sum <app.db)
	python3 - "$id" <<'EOF'
import sqlite3, subprocess, sys
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
r = subprocess.run(["mig", "-d", "app.db", "restore", "--no-backup", "--lock-timeout", "200", sys.argv[1]],
                   capture_output=True, text=True)
assert r.returncode == 6, r
assert r.stderr == "mig-restore: error: cannot restore 'app.db': the database stayed locked for 200 ms\n", r.stderr
c.execute("ROLLBACK")
EOF
	[ "$(sha1sum <app.db)" = "$sum" ]
}

@test "up snapshots a database with content first; --no-backup and mig.backup = off do not" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT);\n-- mig:down\nDROP TABLE c;\n'
	# a database that did not exist has nothing to keep
	mig -d app.db up -q 0001
	[ -z "$(mig -d app.db backup --list)" ]
	run -0 mig -d app.db up 0002
	[[ "${lines[0]}" =~ ^snapshot\ [0-9a-f]{12}$ ]]
	id=$(newest)
	[ "${lines[0]}" = "snapshot ${id:0:12}" ]
	run -0 mig -d app.db backup --list --porcelain
	[[ "${lines[0]}" == *"	1	"*"	before up" ]]
	run -0 mig -d app.db log -v -n 1
	has "    snapshot ${id:0:12}"
	run -0 mig -d app.db down --no-backup
	[ "$(newest)" = "$id" ]
	printf '[mig]\n\tdatabase = app.db\n\tbackup = off\n' >mig.conf
	run -0 mig up
	[ "$(newest)" = "$id" ]
}

@test "a run that failed and rolled back cleanly suggests no restore; a failed no-transaction revision does" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\nINSERT INTO a VALUES (1);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\nSELECT * FROM nope;\n-- mig:down\nDROP TABLE b;\n'
	mig -d app.db up -q 0001
	run -4 mig -d app.db up
	[[ "$output" != *"mig restore"* ]]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'b'")" = 0 ]
	rev 0002_b $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE b(x INT);\nSELECT * FROM nope;\n-- mig:down\nDROP TABLE b;\n'
	run -4 mig -d app.db up
	id=$(newest)
	has "hint: to go back to where this run started: mig restore ${id:0:12}"
}

@test "a failed up names the snapshot that undoes the whole run" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\nINSERT INTO a VALUES (1), (NULL);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x NOT NULL);\nINSERT INTO c SELECT x FROM a;\n-- mig:down\nDROP TABLE c;\n'
	mig -d app.db up -q 0001
	before=$(dump)
	run -4 mig -d app.db up
	id=$(newest)
	has "hint: to go back to where this run started: mig restore ${id:0:12}"
	# 0002 did commit; the snapshot is from before it
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'b'")" = 1 ]
	mig -d app.db restore -q "${id:0:12}"
	[ "$(dump)" = "$before" ]
}

@test "snapshot ids: unknown, ambiguous and malformed exit 2; no store, no snapshots" {
	data
	db=$(cksum <app.db)
	run -6 mig -d app.db restore
	has "mig-restore: error: no snapshot in store 'app.db.mig': it does not exist"
	has "hint: take one with 'mig backup'"
	[ ! -e app.db.mig ]
	# a store without snapshots: nothing to restore is the store's state, not a usage error
	git init -q --bare app.db.mig
	run -6 mig -d app.db restore
	has "mig-restore: error: no snapshot in store 'app.db.mig'"
	has "hint: take one with 'mig backup'"
	run -6 mig -d app.db restore 1234abcd
	has "mig-restore: error: no snapshot in store 'app.db.mig'"
	run -6 mig -d app.db backup --verify 1234abcd
	has "mig-backup: error: no snapshot in store 'app.db.mig'"
	[ "$(cksum <app.db)" = "$db" ]
	[ -z "$(git --git-dir=app.db.mig for-each-ref)" ]
	rm -rf app.db.mig
	run -0 --separate-stderr mig -d app.db backup --list
	[ -z "$output" ]
	run -0 --separate-stderr mig -d app.db backup --verify
	[ "$stderr" = "mig-backup: there are no snapshots to verify" ]
	mig -d app.db backup >/dev/null
	run -2 mig -d app.db restore zz12
	has "mig-restore: error: 'zz12' is no snapshot id: give 4 to 40 hex digits"
	run -2 mig -d app.db restore abc
	has "mig-restore: error: 'abc' is no snapshot id: give 4 to 40 hex digits"
	run -2 mig -d app.db restore 0000000
	has "mig-restore: error: no snapshot '0000000'"
	has "hint: 'mig backup --list' shows them"
	run -6 mig -d missing.db backup
	has "mig-backup: error: database 'missing.db' does not exist"
	: >empty.db
	run -6 mig -d empty.db backup
	has "mig-backup: error: database 'empty.db' is empty: there is nothing to snapshot"
	# and no store is made for nothing
	[ ! -e empty.db.mig ]
	run -2 mig -d app.db backup --list --verify
	has "mig-backup: error: --list, --verify and --prune cannot be used together"
	run -2 mig -d app.db backup --porcelain
	has "mig-backup: error: --porcelain and --json go with --list"
	run -2 mig -d app.db backup extra
	has "mig-backup: error: unexpected argument 'extra'"
	run -2 mig -d app.db restore -i x.gz 1234
	has "mig-restore: error: unexpected argument '1234'"
}

@test "an ambiguous snapshot prefix lists the candidates" {
	data
	id=$(mig -d app.db backup)
	# two more snapshot commits whose ids share their first 4 hex digits
	python3 - "$id" <<'EOF'
import hashlib, subprocess, sys
body = subprocess.run(["git", "--git-dir=app.db.mig", "cat-file", "commit", sys.argv[1]],
                      capture_output=True, check=True).stdout
seen = {}
for n in range(100000):
    b = body.replace(b"\n\ntaken ", b"\n\nnote %d\ntaken " % n, 1)
    oid = hashlib.sha1(b"commit %d\0" % len(b) + b).hexdigest()
    if oid[:4] in seen:
        break
    seen[oid[:4]] = b
for b in (seen[oid[:4]], b):
    w = subprocess.run(["git", "--git-dir=app.db.mig", "hash-object", "-w", "-t", "commit", "--stdin"],
                       input=b, capture_output=True, check=True).stdout.decode().strip()
    subprocess.run(["git", "--git-dir=app.db.mig", "update-ref", "refs/mig/snapshots/" + w, w], check=True)
open("prefix", "w").write(oid[:4])
EOF
	p=$(cat prefix)
	run -2 mig -d app.db restore "$p"
	[[ "$output" =~ ^mig-restore:\ error:\ snapshot\ \'$p\'\ is\ ambiguous:\ $p[0-9a-f]{8},\ $p[0-9a-f]{8}$ ]]
}

@test "a changed chunk is stored as a delta on its base; prune keeps the base; a damaged base is named" {
	big
	first=$(mig -d app.db backup)
	q app.db "UPDATE big SET v = zeroblob(1000) WHERE id % 2000 = 0"
	second=$(mig -d app.db backup)
	git --git-dir=app.db.mig cat-file -p "$second:manifest" | grep -q '^delta '
	stored=$(mig -d app.db backup --list --porcelain | head -1 | cut -f6)
	[ "$stored" -lt 200000 ]
	run -0 mig -d app.db backup --prune 1
	run -0 mig -d app.db backup --verify
	[ "$output" = "$second ok" ]
	expected=$(q app.db "SELECT count(*) FROM big WHERE v = zeroblob(1000)")
	q app.db "DELETE FROM big"
	mig -d app.db restore -q --no-backup
	[ "$(q app.db "SELECT count(*) FROM big WHERE v = zeroblob(1000)")" = "$expected" ]
	[ "$(q app.db "SELECT count(*) FROM big")" = 80000 ]
	line=$(git --git-dir=app.db.mig cat-file -p "$second:manifest" | grep -n '^delta ' | head -1)
	# (bats's run uses variables of its own: keep ours apart)
	dchunk=$(( ${line%%:*} - 6 ))
	dbase=${line##* }
	chmod u+w "app.db.mig/objects/${dbase:0:2}/${dbase:2}"
	: >"app.db.mig/objects/${dbase:0:2}/${dbase:2}"
	run -6 mig -d app.db backup --verify
	has "mig-backup: error: snapshot ${second:0:12} is damaged: chunk $dchunk (base $dbase) does not inflate to a blob of the right size"
}

@test "backup -o - refuses to write to a terminal, before taking anything" {
	command -v script >/dev/null || skip "no script(1) for a terminal"
	data
	run script -qec "mig -d app.db backup -o -" /dev/null
	[ "$status" = 2 ]
	[[ "$output" == *"mig-backup: error: refusing to write a compressed image to a terminal"* ]]
	[[ "$output" == *"hint: redirect it ('mig backup -o - >app.db.gz') or give a file ('mig backup -o app.db.gz')"* ]]
	[ ! -e app.db.mig ]
}

@test "backup waits for a writer, then exits 6; -o to a place it cannot write exits 6 and leaves nothing" {
	data
	python3 - <<'PY'
import sqlite3, subprocess
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
r = subprocess.run(["mig", "-d", "app.db", "backup", "--lock-timeout", "200"], capture_output=True, text=True)
assert r.returncode == 6, r
assert r.stderr == "mig-backup: error: cannot snapshot 'app.db': the database stayed locked for 200 ms\n", r.stderr
c.execute("ROLLBACK")
PY
	[ -z "$(mig -d app.db backup --list)" ]
	run -6 mig -d app.db backup -o missing/dir/image.gz
	has "mig-backup: error: cannot create 'missing/dir/image.gz': No such file or directory"
	[ -z "$(mig -d app.db backup --list)" ]
}

@test "restore into a WAL database of another page size is refused, and changes nothing" {
	q small.db "PRAGMA page_size = 1024; CREATE TABLE t(x INT); INSERT INTO t VALUES (1);"
	mig -d small.db backup -q -o small.gz >/dev/null
	data
	q app.db "PRAGMA journal_mode = WAL" >/dev/null
	sum=$(dump)
	run -6 mig -d app.db restore --no-backup -i small.gz
	has "mig-restore: error: cannot restore 'app.db': it is read-only, or in WAL mode with another page size than the snapshot's"
	[ "$(dump)" = "$sum" ]
}

@test "a snapshot whose manifest is gone is named as damaged" {
	data
	id=$(mig -d app.db backup)
	m=$(git --git-dir=app.db.mig rev-parse "$id:manifest")
	rm -f "app.db.mig/objects/${m:0:2}/${m:2}"
	run -6 mig -d app.db backup --verify "$id"
	[[ "${lines[0]}" == "mig-backup: error: snapshot ${id:0:12} is damaged: cannot read its manifest: "* ]]
	run -6 mig -d app.db restore "$id"
	[[ "${lines[0]}" == "mig-restore: error: snapshot ${id:0:12} is damaged: cannot read its manifest: "* ]]
}

@test "a gzip image cut at a member boundary: restore -i exits 6 naming it cut short; nothing changes" {
	data
	mig -d app.db backup -q -o full.gz >/dev/null
	# the first gzip member alone: a valid gzip of the first chunk
	python3 - <<'EOF'
import zlib
d = open("full.gz", "rb").read()
z = zlib.decompressobj(31)
z.decompress(d)
open("cut.gz", "wb").write(d[:len(d) - len(z.unused_data)])
EOF
	gzip -t cut.gz
	size=$(stat -c %s app.db)
	db=$(cksum <app.db)
	n=$(mig -d app.db backup --list --porcelain | wc -l)
	run -6 mig -d app.db restore -i cut.gz
	has "mig-restore: error: 'cut.gz' is cut short: it holds 524288 bytes of the $size its database header says"
	[ "$(cksum <app.db)" = "$db" ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = "$n" ]
	before=$(dump)
	run -0 mig -d app.db restore -q --no-backup -i full.gz
	[ "$(dump)" = "$before" ]
}

@test "a stored snapshot shorter than its database header says fails --verify and restore, before anything" {
	data
	id=$(mig -d app.db backup)
	# the same snapshot with its first chunk only, manifest and checksum made to match
	short=$(python3 - "$id" <<'EOF'
import ctypes, subprocess, sys
class H(ctypes.Structure):
    _fields_ = [("low", ctypes.c_uint64), ("high", ctypes.c_uint64)]
x = ctypes.CDLL("libxxhash.so.0")
x.XXH3_128bits.restype = H
x.XXH3_128bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
def git(*a, data=None):
    return subprocess.run(["git", "--git-dir=app.db.mig"] + list(a), input=data, capture_output=True,
                          check=True).stdout.decode().strip()
lines = git("cat-file", "blob", sys.argv[1] + ":manifest").split("\n")
head = dict(l.split(" ", 1) for l in lines[1:5])
first = lines[5].split(" ")
assert first[0] == "chunk", first
h = x.XXH3_128bits(bytes.fromhex(first[1]), 16)
manifest = lines[0] + "\npage-size %s\nsize %s\nchunk-size %s\nchecksum xxh128-list:%016x%016x\n%s\n" % (
    head["page-size"], head["chunk-size"], head["chunk-size"], h.high, h.low, lines[5])
blob = git("hash-object", "-w", "--stdin", data=manifest.encode())
chunks = git("mktree", data=("100644 blob %s\t00000000\n" % first[2]).encode())
tree = git("mktree", data=("100644 blob %s\tmanifest\n040000 tree %s\tchunks\n" % (blob, chunks)).encode())
commit = git("commit-tree", tree, "-m", "cut short")
git("update-ref", "refs/mig/snapshots/" + commit, commit)
print(commit)
EOF
)
	size=$(stat -c %s app.db)
	msg="error: snapshot ${short:0:12} is damaged: its image is cut short: 524288 bytes of the $size its database header says"
	run -6 mig -d app.db backup --verify "$short"
	has "mig-backup: $msg"
	run -6 mig -d app.db backup --verify
	has "mig-backup: $msg"
	q app.db "DELETE FROM t"
	db=$(cksum <app.db)
	n=$(mig -d app.db backup --list --porcelain | wc -l)
	run -6 mig -d app.db restore "$short"
	has "mig-restore: $msg"
	[ "$(cksum <app.db)" = "$db" ]
	# refused before the current state was snapshot
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = "$n" ]
	run -0 mig -d app.db backup --verify "$id"
}

@test "verify of an id without a store, and an image of no whole number of pages, exit with the fault named" {
	data
	run -6 mig -d app.db backup --verify abcd
	has "mig-backup: error: no snapshot in store 'app.db.mig': it does not exist"
	head -c 5000 app.db | gzip >part.gz
	sum=$(sha1sum <app.db)
	run -6 mig -d app.db restore -i part.gz
	has "mig-restore: error: 'part.gz' does not hold an SQLite database: 5000 bytes is no whole number of pages"
	[ "$(sha1sum <app.db)" = "$sum" ]
}

# revisions 0001_t1 ... 0004_t4, each a table of its own
four() {
	local i
	for i in 1 2 3 4; do
		rev "000${i}_t$i" "-- mig:up
CREATE TABLE t$i(x INT);
-- mig:down
DROP TABLE t$i;
"
	done
}

@test "with mig.backupKeep = 2 a run keeps the 2 newest automatic snapshots, every manual one, and journals the prune" {
	four
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = 2\n' >mig.conf
	mig up 0001_t1
	manual=$(mig backup --message "by hand")
	mig up 0002_t2
	mig up 0003_t3
	run -0 mig up 0004_t4
	has "mig-up: pruned 1 automatic snapshot (mig.backupKeep = 2)"
	run -0 mig down
	run -0 mig backup --list --porcelain
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" == *$'\tbefore down' ]]
	[[ "${lines[1]}" == *$'\tbefore up' ]]
	[ "$(echo "${lines[1]}" | cut -f4)" = 3 ]
	[[ "${lines[2]}" == snapshot$'\t'"$manual"$'\t'*$'\tby hand' ]]
	run -0 mig log -n 1
	[[ "${lines[0]}" == *" ok: prune: keep 2 automatic "* ]]
	# whatever the pruned snapshots used alone is gone, what the others use is whole
	run -0 mig backup --verify
	run -0 git --git-dir=app.db.mig fsck --no-dangling
}

@test "a snapshot taken by hand may not have an automatic one's message, which mig.backupKeep would prune" {
	four
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = 1\n' >mig.conf
	mig up -q 0001_t1
	for m in "before up" "before down" "before redo" "before restore"; do
		run -2 mig backup --message "$m"
		[ "${lines[0]}" = "mig-backup: error: '$m' is what mig calls its automatic snapshots, which mig.backupKeep prunes" ]
		[ "${lines[1]}" = "hint: say what this snapshot is for in other words" ]
	done
	run -0 mig backup --list --porcelain
	[ -z "$output" ]
	manual=$(mig backup --message "before upgrade")
	mig up -q 0002_t2
	mig up -q 0003_t3
	run -0 mig backup --list --porcelain
	[ "${#lines[@]}" = 2 ]
	[[ "${lines[0]}" == *$'\tbefore up' ]]
	[[ "${lines[1]}" == snapshot$'\t'"$manual"$'\t'*$'\tbefore upgrade' ]]
}

@test "a lower mig.backupKeep prunes every automatic snapshot over it at the next run" {
	four
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = 0\n' >mig.conf
	for r in 0001_t1 0002_t2 0003_t3 0004_t4; do
		mig up -q "$r"
	done
	[ "$(mig backup --list --porcelain | wc -l)" = 3 ]
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = 1\n' >mig.conf
	run -0 --separate-stderr mig down
	[ "${stderr_lines[-1]}" = "mig-down: pruned 3 automatic snapshots (mig.backupKeep = 1)" ]
	run -0 mig backup --list --porcelain
	[ "${#lines[@]}" = 1 ]
	[[ "${lines[0]}" == *$'\tbefore down' ]]
	run -0 mig backup --verify
}

@test "a message that starts like a snapshot's fact is only its message; one of two lines is refused" {
	q app.db "CREATE TABLE t(x INT)"
	size=$(stat -c %s app.db)
	mig -d app.db backup -q --message "revisions 99 and size 1" >/dev/null
	mig -d app.db backup -q --message "size matters" >/dev/null
	run -0 mig -d app.db backup --list --porcelain
	[ "$(cut -f4,5,7 <<<"$output")" = "0	$size	size matters
0	$size	revisions 99 and size 1" ]
	run -2 mig -d app.db backup --message $'two\nsize 5'
	[ "$output" = "mig-backup: error: a snapshot's message is one line" ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = 2 ]
}

@test "mig.backupKeep = 0 keeps every automatic snapshot" {
	four
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = 0\n' >mig.conf
	mig up 0001_t1
	for r in 0002_t2 0003_t3 0004_t4; do
		mig up "$r"
	done
	mig down
	run -0 mig backup --list --porcelain
	[ "${#lines[@]}" = 4 ]
	run -0 mig log
	[[ "$output" != *prune* ]]
}

@test "a bad mig.backupKeep in mig.conf exits 6 naming the key, before anything runs" {
	four
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = lots\n' >mig.conf
	run -6 mig up
	[[ "${lines[0]}" == *"mig.conf: mig.backupKeep"* ]]
	[ ! -e app.db ]
	printf '[mig]\n\tdatabase = app.db\n\tbackupKeep = -1\n' >mig.conf
	run -6 mig up
	[[ "${lines[0]}" == *"mig.conf: mig.backupKeep must not be negative" ]]
	[ ! -e app.db ]
}

# ---- packs: a snapshot's new objects past MIG_PACK_AFTER go into one pack ----

# ROWS rows of 1000 random bytes in table r
rows() {
	sqlite3 app.db "CREATE TABLE r(id INTEGER PRIMARY KEY, v BLOB);
		INSERT INTO r(v) SELECT randomblob(1000) FROM generate_series(1, $1);"
}

packs() {
	ls app.db.mig/objects/pack/*.idx 2>/dev/null | wc -l
}

fsck_clean() {
	run -0 git --git-dir=app.db.mig fsck --full --no-progress --no-dangling --strict
	[ "$output" = "" ]
}

@test "a snapshot's new objects past MIG_PACK_AFTER go into one pack that git, verify and restore read" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=4
	rows 3000
	before=$(dump)
	run -0 mig -d app.db backup -q
	first=$output
	# 48 chunks: the first 4 stored loose, the other 44 in one pack
	[ "$(packs)" = 1 ]
	loose=0
	for i in $(seq 0 47); do
		[ ! -e "$(chunk_file "$first" "$i")" ] || loose=$((loose + 1))
	done
	[ "$loose" = 4 ]
	run -0 git --git-dir=app.db.mig verify-pack -v app.db.mig/objects/pack/*.idx
	[[ "$output" == *$'\nnon delta: 44 objects\n'* ]]
	fsck_clean
	# a few rows changed all over: the second snapshot's deltas go into a pack of their own
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id % 97 = 0"
	changed=$(dump)
	run -0 mig -d app.db backup -q
	second=$output
	[ "$(packs)" = 2 ]
	[ "$(git --git-dir=app.db.mig cat-file -p "$second:manifest" | grep -c '^delta ')" -gt 4 ]
	fsck_clean
	run -0 mig -d app.db backup --verify
	[ "${#lines[@]}" = 2 ]
	run -0 mig -d app.db restore -q --no-backup "$first"
	[ "$(dump)" = "$before" ]
	run -0 mig -d app.db restore -q --no-backup "$second"
	[ "$(dump)" = "$changed" ]
	[ "$(sqlite3 app.db 'PRAGMA integrity_check')" = ok ]
}

@test "verify and restore hold a descriptor a pack, however many threads read the packs" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
	rows 3000
	# sixteen snapshots, a pack each: their deltas, and the first's chunks
	for i in $(seq 1 16); do
		sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id % 97 = $i"
		run -0 mig -d app.db backup -q
	done
	last=$output
	[ "$(packs)" = 16 ]
	before=$(dump)
	# they need 16 and about 8 more; a set a thread would be 128 with 8 threads
	for threads in 1 8; do
		run -0 env MIG_THREADS=$threads bash -c "ulimit -n 40 && mig -d app.db backup --verify $last"
		[ "$output" = "$last ok" ]
		sqlite3 app.db "DELETE FROM r"
		run -0 env MIG_THREADS=$threads bash -c "ulimit -n 40 && mig -d app.db restore -q --no-backup $last"
		[ "$(dump)" = "$before" ]
	done
}

@test "prune counts what an earlier prune left in a pack: a pack a third dead, then two thirds, is written anew" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
	rows 3000
	run -0 mig -d app.db backup -q
	p1=$(ls app.db.mig/objects/pack/*.idx)
	# the first third of the rows changes: the first pack loses a third, and stays as it is
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id <= 1000"
	run -0 mig -d app.db backup -q
	run -0 mig -d app.db backup --prune 1
	[[ "${lines[1]}" =~ ^mig-backup:\ [0-9]+\ objects\ only\ they\ used\ stay\ packed ]]
	[ -e "$p1" ]
	# the second third changes: that third and the one left before make two thirds of it dead
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id > 1000 AND id <= 2000"
	before=$(dump)
	run -0 mig -d app.db backup -q
	last=$output
	run -0 mig -d app.db backup --prune 1
	[[ "${lines[0]}" =~ ^mig-backup:\ pruned\ 1\ snapshot\;\ removed\ [0-9]+\ objects ]]
	[ ! -e "$p1" ]
	[ ! -e "${p1%.idx}.pack" ]
	fsck_clean
	run -0 mig -d app.db backup --verify
	sqlite3 app.db "DELETE FROM r"
	run -0 mig -d app.db restore -q --no-backup "$last"
	[ "$(dump)" = "$before" ]
}

@test "prune keeps what any other ref reaches: a tag on a pruned snapshot keeps its chunks, packed or loose" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=8
	rows 3000
	run -0 mig -d app.db backup -q
	first=$output
	git --git-dir=app.db.mig tag keep "$first"
	sqlite3 app.db "UPDATE r SET v = randomblob(1000)"
	run -0 mig -d app.db backup -q
	run -0 mig -d app.db backup --prune 1
	[[ "$output" =~ ^mig-backup:\ pruned\ 1\ snapshot\;\ removed\ 0\ objects ]]
	fsck_clean
	run -0 git --git-dir=app.db.mig cat-file -e "$first:chunks/00000000"
	run -0 git --git-dir=app.db.mig cat-file -e "$first:chunks/00000040"
}

@test "prune writes no damaged entry into the pack it writes anew: exit 6 naming the pack, no pack removed" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
	rows 3000
	run -0 mig -d app.db backup -q
	p1=$(ls app.db.mig/objects/pack/*.idx)
	# three quarters of the rows change: the first pack loses more than half, and would be written anew
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id <= 2250"
	run -0 mig -d app.db backup -q
	second=$output
	# a byte in the middle of an entry of the first pack that the second snapshot uses
	oid=$(comm -12 <(git --git-dir=app.db.mig ls-tree -r "$second" | awk '{ print $3 }' | sort) \
		<(git --git-dir=app.db.mig verify-pack -v "$p1" | awk '$2 == "blob" { print $1 }' | sort) | head -n 1)
	[ -n "$oid" ]
	read -r _ _ _ len off < <(git --git-dir=app.db.mig verify-pack -v "$p1" | grep "^$oid ")
	chmod u+w "${p1%.idx}.pack"
	flip "${p1%.idx}.pack" $((off + len / 2))
	sums=$(cd app.db.mig/objects/pack && cksum ./* | sort)
	run -6 mig -d app.db backup --prune 1
	[ "${lines[0]}" = "mig-backup: error: pack '${p1%.idx}.pack' is damaged: the entry of object $oid does not match its CRC-32" ]
	[ "${lines[1]}" = "hint: no pack was removed or written anew; 'mig backup --verify' names the snapshots that use the object" ]
	[ "${#lines[@]}" = 2 ]
	# every pack as it was, nothing half written beside them
	[ "$(cd app.db.mig/objects/pack && cksum ./* | sort)" = "$sums" ]
	run -6 mig -d app.db backup --verify "$second"
	[[ "$output" == *"(object $oid) does not inflate to a blob of the right size" ]]
}

@test "prune removes a pack whose objects all go, writes anew one that loses half, leaves one that loses less" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
	rows 3000
	run -0 mig -d app.db backup -q
	p1=$(ls app.db.mig/objects/pack/*.idx)
	# three quarters of the rows change whole: the second snapshot shares a quarter of the first's chunks
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id <= 2250"
	run -0 mig -d app.db backup -q
	p2=$(ls app.db.mig/objects/pack/*.idx | grep -v "$p1")
	run -0 mig -d app.db backup --prune 1
	[[ "$output" =~ ^mig-backup:\ pruned\ 1\ snapshot\;\ removed\ [0-9]+\ objects\ \([0-9.]+\ MiB\)$ ]]
	# the first pack lost three quarters: what stays of it is in a new pack, and it is gone
	[ ! -e "$p1" ]
	[ ! -e "${p1%.idx}.pack" ]
	[ -e "$p2" ]
	[ "$(packs)" = 2 ]
	p3=$(ls app.db.mig/objects/pack/*.idx | grep -v "$p2")
	[ "$(git --git-dir=app.db.mig verify-pack -v "$p3" | grep -c ' blob ')" -lt 20 ]
	fsck_clean
	run -0 mig -d app.db backup --verify
	# a sixth of the rows change: the second pack loses under half, and stays as it is
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id <= 500"
	run -0 mig -d app.db backup -q
	p4=$(ls app.db.mig/objects/pack/*.idx | grep -v -e "$p2" -e "$p3")
	sum=$(cksum "$p2" "${p2%.idx}.pack")
	run -0 mig -d app.db backup --prune 1
	[[ "${lines[1]}" =~ ^mig-backup:\ [0-9]+\ objects\ only\ they\ used\ stay\ packed,\ in\ packs\ mostly\ still\ in\ use\ or\ kept\ by\ git\ \(.keep\)$ ]]
	[ "$(cksum "$p2" "${p2%.idx}.pack")" = "$sum" ]
	fsck_clean
	# every row changes: the third snapshot's pack has nothing left that anything uses, and goes whole
	sqlite3 app.db "UPDATE r SET v = randomblob(1000)"
	before=$(dump)
	run -0 mig -d app.db backup -q
	last=$output
	run -0 mig -d app.db backup --prune 1
	[ ! -e "$p4" ]
	fsck_clean
	run -0 mig -d app.db backup --verify
	sqlite3 app.db "DELETE FROM r"
	run -0 mig -d app.db restore -q --no-backup "$last"
	[ "$(dump)" = "$before" ]
}
