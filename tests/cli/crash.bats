#!/usr/bin/env bats
# What a command killed part way leaves, the next command cleans up or
# completes: files written whole or not at all, no stale lock or
# temporary file in the way, no journal entry missing. tests/crash/run.sh
# kills every command at random; these are the cases it found.
# backend: sqlite (what a kill leaves in SQLite's files; pg.bats kills runs on PostgreSQL)
load helper

two() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
}

# killed N CLASSES CMD...: CMD, killed by the shim before its Nth call of
# CLASSES (write, sync, name: see tests/crash/killshim.c)
killed() {
	local at=$1 on=$2
	shift 2
	LD_PRELOAD=$TOP/build/crash/killshim.so MIG_CRASH_AT=$at MIG_CRASH_ON=$on \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}

subjects() {
	git --git-dir=db.mig log --format='%s' refs/mig/journal | tr '\n' '|'
}

@test "new killed before its file is written leaves no revision; the next new removes what it left" {
	two
	run -137 killed 1 write mig new c
	run -0 ls migrations
	[ "$output" = $'0001_a.sql\n0002_b.sql' ]
	run -0 ls -A migrations
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" == .0003_c.sql.tmp-?????? ]]
	run -0 mig new c
	[ "$output" = migrations/0003_c.sql ]
	run -0 ls -A migrations
	[ "$output" = $'0001_a.sql\n0002_b.sql\n0003_c.sql' ]
	[ "$(head -1 migrations/0003_c.sql)" = "-- mig:parents 0002_b" ]
}

@test "merge killed before its file is written leaves no revision" {
	rev 0001_a $'-- mig:up\nSELECT 1;\n'
	rev 0002_x $'-- mig:parents 0001_a\n-- mig:up\nSELECT 1;\n'
	rev 0003_y $'-- mig:parents 0001_a\n-- mig:up\nSELECT 1;\n'
	run -137 killed 1 write mig merge
	run -0 ls migrations
	[ "$output" = $'0001_a.sql\n0002_x.sql\n0003_y.sql' ]
	run -0 mig merge
	[ "$output" = migrations/0004_merge.sql ]
	[ "$(head -1 migrations/0004_merge.sql)" = "-- mig:parents 0002_x 0003_y" ]
	run -0 ls -A migrations
	[ "${#lines[@]}" = 4 ]
}

@test "what is no file or directory among the temporary names, new leaves alone: a link, a FIFO" {
	two
	mkdir elsewhere
	: >elsewhere/target
	ln -s ../elsewhere/target migrations/.0003_c.sql.tmp-linked
	mkfifo migrations/.0003_c.sql.tmp-fifo00
	: >migrations/.0003_c.sql.tmp-stale0
	mkdir migrations/.0003_c.sql.tmp-stale1
	: >migrations/.0003_c.sql.tmp-stale1/half
	run -0 timeout 10 mig new c
	[ "$output" = migrations/0003_c.sql ]
	run -0 ls -A migrations
	[ "$output" = $'.0003_c.sql.tmp-fifo00\n.0003_c.sql.tmp-linked\n0001_a.sql\n0002_b.sql\n0003_c.sql' ]
	[ -e elsewhere/target ]
}

@test "a temporary revision file a live writer holds is left alone" {
	two
	: >migrations/.0003_c.sql.tmp-abcdef
	hold_lock migrations/.0003_c.sql.tmp-abcdef 30
	run -0 mig new c
	kill "$holder"
	[ -e migrations/.0003_c.sql.tmp-abcdef ]
	[ -s migrations/0003_c.sql ]
}

@test "a backup killed at each sync or rename of its pack lists nothing new; the next one sweeps or reuses what it left" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
	sqlite3 db "CREATE TABLE r(id INTEGER PRIMARY KEY, v BLOB);
		INSERT INTO r(v) SELECT randomblob(1000) FROM generate_series(1, 2000);"
	mig -d db backup -q >/dev/null
	sqlite3 db "UPDATE r SET v = randomblob(1000) WHERE id % 97 = 0"
	before=$(sqlite3 db .dump)
	cp -a db.mig base.mig
	# the pack's sync, the index's, the two renames, the store's sync: each time, at each
	for at in 1 2 3 4 5 6; do
		rm -rf db.mig
		cp -a base.mig db.mig
		run -137 killed "$at" sync,name mig -d db backup -q
		# no snapshot names what was cut short
		[ "$(mig -d db backup --list --porcelain | wc -l)" = 1 ]
		run -0 mig -d db backup -q
		id=$output
		run -0 find db.mig/objects -name 'tmp_*'
		[ "$output" = "" ]
		for p in db.mig/objects/pack/*.pack; do
			[ -e "${p%.pack}.idx" ]
		done
		run -0 git --git-dir=db.mig fsck --full --no-dangling --no-progress
		[ "$output" = "" ]
		run -0 mig -d db backup --verify
		sqlite3 db "DELETE FROM r"
		run -0 mig -d db restore -q --no-backup "$id"
		[ "$(sqlite3 db .dump)" = "$before" ]
	done
}

@test "what a killed store write left, the next run removes: lock files, temporary objects and packs, a half-made store" {
	two
	mig -d db up -q 0001
	: >db.mig/refs/mig/journal.lock
	: >db.mig/packed-refs.lock
	: >db.mig/HEAD.lock
	mkdir -p db.mig/refs/mig/snapshots db.mig/objects/ab
	: >db.mig/refs/mig/snapshots/0123456789abcdef0123456789abcdef01234567.lock
	: >db.mig/objects/tmp_object_git2_a1b2c3
	: >db.mig/objects/ab/tmp_chunk_a1b2c3
	: >db.mig/objects/pack/pack_git2_a1b2c3
	# not git's fan-out directories: not mig's to sweep
	mkdir -p db.mig/objects/az db.mig/objects/zz
	: >db.mig/objects/az/tmp_keep
	: >db.mig/objects/zz/tmp_keep
	mkdir -p db.mig.tmp-abcdef/objects
	run -0 --separate-stderr mig -d db up --no-backup
	[ "$stderr" = "applying 0002_b" ]
	[ "$(subjects)" = "up 0002_b|up 0001_a|" ]
	run -0 find db.mig -name '*.lock' ! -name mig.lock -o -name 'tmp_*' ! -name tmp_keep -o -name 'pack_git2_*'
	[ "$output" = "" ]
	[ -e db.mig/objects/az/tmp_keep ]
	[ -e db.mig/objects/zz/tmp_keep ]
	rm -r db.mig/objects/az db.mig/objects/zz
	[ ! -e db.mig.tmp-abcdef ]
	run -0 git --git-dir=db.mig fsck --no-dangling --no-progress
	[ "$output" = "" ]
}

@test "a store another run is making is left alone" {
	two
	mig -d db up -q 0001
	mkdir db.mig.tmp-abcdef
	hold_lock db.mig.tmp-abcdef 30
	run -0 mig -d db up -q
	kill "$holder"
	[ -d db.mig.tmp-abcdef ]
}

@test "the first run killed while it makes the store: the next one makes it" {
	two
	run -137 killed 1 write mig -d db up -q
	[ ! -e db.mig ]
	run -0 ls -d db.mig.tmp-*
	run -0 mig -d db up -q
	run ! ls -d db.mig.tmp-*
	[ "$(subjects)" = "up 0001_a..0002_b (2 revisions)|" ]
}

@test "backup -o killed part way: the file there is untouched, the next backup removes the rest" {
	two
	mig -d db up -q
	mig -d db backup -q -o img.gz >/dev/null
	cp img.gz before.gz
	: >.img.gz.tmp-abcdef
	q db 'CREATE TABLE more(x INT)'
	run -137 killed 1 sync mig -d db backup -q -o img.gz
	cmp img.gz before.gz
	run -0 ls -A
	[[ "$output" == *.img.gz.tmp-??????* ]]
	run -0 mig -d db backup -q -o img.gz
	run -0 ls -A
	[ "$output" = $'before.gz\ndb\ndb.mig\nimg.gz\nmigrations' ]
	gzip -t img.gz
	run ! cmp -s img.gz before.gz
}

# pending [TOKEN]: a run killed after its revisions committed, before its
# entry reached the store
pending() {
	q db "INSERT INTO mig_journal (run, op, name, id, duration_ms) VALUES ('${1:-0123456789abcdef}', 'up', '0002_b', '$(git hash-object migrations/0002_b.sql)', 3)"
}

@test "up with nothing to do still writes the entry a killed run left" {
	two
	mig -d db up -q
	pending
	run -0 --separate-stderr mig -d db up
	[ "$output" = "" ]
	[ "$(subjects)" = "up 0002_b|up 0001_a..0002_b (2 revisions)|" ]
	run -0 git --git-dir=db.mig log -1 --format=%B
	has "result interrupted"
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 0 ]
}

@test "down and fake with nothing to do write it too; a dry run does not" {
	two
	mig -d db up -q
	pending
	run -0 mig -d db up -q --dry-run
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 1 ]
	run -0 mig -d db fake --resolve applied -q
	[ "$(subjects)" = "up 0002_b|up 0001_a..0002_b (2 revisions)|" ]
	pending fedcba9876543210
	run -0 mig -d db down -q base --dry-run
	run -0 mig -d db fake -q head
	[ "$(subjects)" = "up 0002_b|up 0002_b|up 0001_a..0002_b (2 revisions)|" ]
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 0 ]
}

@test "backup and restore write the entry a killed run left before their own" {
	two
	mig -d db up -q
	id=$(mig -d db backup -q)
	pending
	run -0 mig -d db backup -q --message second
	[ "$(subjects)" = "second|up 0002_b|backup|up 0001_a..0002_b (2 revisions)|" ]
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 0 ]
	pending fedcba9876543210
	run -0 mig -d db restore -q "$id"
	[ "$(subjects)" = "restore ${id:0:12}|up 0002_b|second|up 0002_b|backup|up 0001_a..0002_b (2 revisions)|" ]
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 0 ]
}

# what a restore of snapshot $1 leaves in the store until its entry is written
restore_marker() {
	printf 'restore %.12s\n\noperation restore\nsnapshot %s\n' "$1" "$1" >db.mig/restore.pending
}

@test "a restore killed after it replaced the database: the next command journals it" {
	two
	mig -d db up -q
	id=$(mig -d db backup -q)
	q db 'CREATE TABLE more(x INT)'
	mig -d db restore -q --no-backup "$id"
	# as if killed before its entry was written
	git --git-dir=db.mig update-ref refs/mig/journal refs/mig/journal~1
	restore_marker "$id"
	run -0 --separate-stderr mig -d db up
	[ "$output" = "" ]
	[ "$(subjects)" = "restore ${id:0:12}|backup|up 0001_a..0002_b (2 revisions)|" ]
	run -0 git --git-dir=db.mig log -1 --format=%B
	has "snapshot $id"
	has "result interrupted"
	[ ! -e db.mig/restore.pending ]
}

@test "a restore marker cut short, naming no snapshot, or of no restore is removed and journals nothing" {
	two
	mig -d db up -q
	id=$(mig -d db backup -q)
	# the database is the snapshot's image: only the marker decides
	mig -d db restore -q --no-backup "$id"
	git --git-dir=db.mig update-ref refs/mig/journal refs/mig/journal~1
	before=$(subjects)
	for marker in "restore ${id:0:12}\n\noperation restore\nsnapshot $id" \
		"restore ${id:0:12}\n\noperation restore\n" "down x\n\noperation down\nsnapshot $id\n" ""; do
		printf "$marker" >db.mig/restore.pending
		run -0 --separate-stderr mig -d db up
		[ "$output" = "" ]
		[ "$stderr" = "" ]
		[ ! -e db.mig/restore.pending ]
		[ "$(subjects)" = "$before" ]
	done
	# the same restore's marker, whole: journaled, so the database was the image all along
	restore_marker "$id"
	run -0 mig -d db up -q
	[ "$(subjects)" = "restore ${id:0:12}|$before" ]
}

@test "a restore killed before it replaced the database leaves no entry" {
	two
	mig -d db up -q
	id=$(mig -d db backup -q)
	q db 'CREATE TABLE more(x INT)'
	restore_marker "$id"
	run -0 mig -d db backup -q --message next
	[ "$(subjects)" = "next|backup|up 0001_a..0002_b (2 revisions)|" ]
	[ ! -e db.mig/restore.pending ]
	[ "$(q db "SELECT count(*) FROM sqlite_schema WHERE name = 'more'")" = 1 ]
}

@test "a restore killed while it wrote the database: the next backup rolls it back, and journals nothing of it" {
	two
	mig -d db up -q
	q db "CREATE TABLE big(x INT); INSERT INTO big WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) SELECT hex(randomblob(50)) FROM c"
	id=$(mig -d db backup -q)
	q db 'CREATE TABLE more(x INT)'
	sum=$(q db .dump | cksum)
	restore_marker "$id"
	# the restore's transaction, its pages spilled into the file, cut short
	q db 'PRAGMA cache_size = 2' 'BEGIN' 'DELETE FROM big' '.system kill -9 $PPID' 2>/dev/null || true
	[ -s db-journal ]
	run -0 mig -d db backup -q --message next
	[ ! -e db-journal ]
	[ ! -e db.mig/restore.pending ]
	[ "$(q db .dump | cksum)" = "$sum" ]
	[ "$(subjects)" = "next|backup|up 0001_a..0002_b (2 revisions)|" ]
}

@test "a restore killed after its entry was written is not journaled twice" {
	two
	mig -d db up -q
	id=$(mig -d db backup -q)
	q db 'CREATE TABLE more(x INT)'
	mig -d db restore -q --no-backup "$id"
	# as if killed before it removed its marker
	restore_marker "$id"
	run -0 mig -d db up -q
	[ "$(subjects)" = "restore ${id:0:12}|backup|up 0001_a..0002_b (2 revisions)|" ]
	[ ! -e db.mig/restore.pending ]
}
