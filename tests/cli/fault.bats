#!/usr/bin/env bats
# I/O that fails: what tests/fault/run.sh found, one case each, with the
# fault injector it uses (build/faultfs.so, preloaded).
# backend: sqlite (faults of the file system under a SQLite file)
load helper

# faulty VAR=VALUE... -- CMD...: run CMD with the injector preloaded
faulty() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env "${vars[@]}" LD_PRELOAD="$TOP/build/faultfs.so" ASAN_OPTIONS=verify_asan_link_order=0 "$@"
}

big_revision() {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n-- mig:down\nDROP TABLE t;\n'
	rev 0002_fill $'-- mig:up\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)\nINSERT INTO t(v) SELECT hex(randomblob(200)) FROM c;\n-- mig:down\nDELETE FROM t;\n'
}

@test "a disk that fills up inside a revision exits 6, and the revision is rolled back" {
	big_revision
	mig -d app.db up -q 0001_t
	before=$(q app.db .dump)
	# the rollback journal is first written by the revision's INSERT
	run -6 faulty FAULT_OPS=write FAULT_PATH=app.db-journal FAULT_ERRNO=ENOSPC FAULT_STICKY=1 FAULT_N=1 -- \
		mig -d app.db up --no-backup
	has "mig-up: error: 0002_fill: migrations/0002_fill.sql:2: database or disk is full"
	[ "$(q app.db .dump)" = "$before" ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	# the same through SQLite's VFS: SQLITE_FULL from xWrite
	run -6 faulty FAULT_LAYER=vfs FAULT_OPS=write FAULT_PATH=app.db-journal FAULT_ERRNO=ENOSPC FAULT_N=1 -- \
		mig -d app.db up --no-backup
	has "mig-up: error: 0002_fill: migrations/0002_fill.sql:2: database or disk is full"
	[ "$(q app.db .dump)" = "$before" ]
	run -0 mig -d app.db up -q
	[ "$(q app.db 'SELECT count(*) FROM t')" = 20000 ]
}

@test "an I/O error inside a revision exits 6, not 4" {
	big_revision
	mig -d app.db up -q 0001_t
	before=$(q app.db .dump)
	run -6 faulty FAULT_OPS=write FAULT_PATH=app.db-journal FAULT_ERRNO=EIO FAULT_N=1 -- \
		mig -d app.db up --no-backup
	has "mig-up: error: 0002_fill: migrations/0002_fill.sql:2: disk I/O error"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "a revision file that cannot be read for an I/O error exits 6, not 3, and creates nothing" {
	big_revision
	run -6 faulty FAULT_OPS=read FAULT_PATH=0002_fill.sql FAULT_N=1 -- mig -d app.db up
	[ "$output" = "mig-up: error: cannot read 'migrations/0002_fill.sql': Input/output error" ]
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
}

@test "a migrations directory that cannot be read to its end exits 6, not as if it were empty" {
	big_revision
	run -6 faulty FAULT_OPS=read FAULT_PATH=/migrations FAULT_N=1 -- mig -d app.db up
	[ "$output" = "mig-up: error: cannot read migrations directory 'migrations': Input/output error" ]
	[ ! -e app.db ]
	run -6 faulty FAULT_OPS=read FAULT_PATH=/migrations FAULT_N=1 -- mig -d app.db status
	[ "$output" = "mig-status: error: cannot read migrations directory 'migrations': Input/output error" ]
}

# libgit2 1.5's git_commit_create returns 0 when it cannot write the
# commit; these runs fail every loose object libgit2 writes, which for
# them is only the journal's commit
@test "a restore whose journal commit cannot be written exits 6 and says the database is restored" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t VALUES (1)"
	id=$(mig -d app.db backup)
	q app.db "INSERT INTO t VALUES (2)"
	journal=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -6 faulty FAULT_OPS=open FAULT_PATH=tmp_object_git2 FAULT_ERRNO=ENOSPC FAULT_STICKY=1 FAULT_N=1 -- \
		mig -d app.db restore --no-backup "$id"
	[[ "${lines[0]}" == "mig-restore: error: cannot write the journal: failed to create temporary file '"*"': No space left on device" ]]
	[ "${lines[1]}" = "hint: 'app.db' is restored from snapshot ${id:0:12} all the same; the next command writes the journal entry" ]
	[ "$(q app.db 'SELECT count(*) FROM t')" = 1 ]
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$journal" ]
}

@test "an up whose journal commit cannot be written keeps the entry in the database for the next run" {
	big_revision
	mig -d app.db up -q 0001_t
	# how many loose objects libgit2 writes in a clean run: the last is the journal's commit
	copy=$BATS_FILE_TMPDIR/count-$BATS_TEST_NUMBER
	cp -a . "$copy"
	(cd "$copy" && faulty FAULT_OPS=open FAULT_PATH=tmp_object_git2 FAULT_COUNT=count -- mig -d app.db up -q --no-backup)
	read -r k _ <"$copy/count"
	[ "$k" -ge 1 ]
	journal=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -0 faulty FAULT_OPS=open FAULT_PATH=tmp_object_git2 FAULT_ERRNO=ENOSPC FAULT_STICKY=1 FAULT_N="$k" -- \
		mig -d app.db up --no-backup
	[[ "$output" == *"mig-up: warning: cannot write the journal: failed to create temporary file '"*"': No space left on device"* ]]
	has "mig-up: warning: the database keeps the entry; the next run writes it"
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$journal" ]
	[ "$(q app.db 'SELECT name FROM mig_journal')" = 0002_fill ]
	# the next run journals it as interrupted, then its own
	run -0 mig -d app.db down -q
	run -0 mig -d app.db log --porcelain
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^entry')" = 3 ]
	[[ "$(printf '%s\n' "${lines[@]}" | grep '^entry' | sed -n 2p)" == *"	up	interrupted	"* ]]
	[ "$(q app.db 'SELECT count(*) FROM mig_journal')" = 0 ]
}

@test "a restore whose file cannot be shrunk fails before its commit: exit 6, the database as it was" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t VALUES (1)"
	id=$(mig -d app.db backup)
	q app.db "CREATE TABLE big(v INT);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200)
		INSERT INTO big SELECT randomblob(1000) FROM c"
	sum=$(cksum <app.db)
	# the file is shrunk after the pages are written, before the journal goes
	run -6 --separate-stderr faulty FAULT_OPS=write FAULT_CALL=ftruncate64 FAULT_PATH=app.db FAULT_N=1 \
		FAULT_LOG=fault.log -- mig -d app.db restore --no-backup "$id"
	[ "$(cut -d' ' -f3 fault.log)" = ftruncate64 ]
	[ "$stderr" = "mig-restore: error: cannot restore 'app.db': disk I/O error" ]
	# its journal rolled back at once: the same bytes, and no journal left
	[ "$(cksum <app.db)" = "$sum" ]
	[ ! -e app.db-journal ]
	run -0 mig -d app.db log --porcelain
	[[ "${lines[0]}" == *"	restore	failed	"* ]]
	run -0 mig -d app.db restore -q --no-backup "$id"
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	[ "$(q app.db "SELECT group_concat(name) FROM sqlite_schema")" = t ]
}

# libgit2's ref iterator leaves out a loose ref it cannot read
@test "a snapshot ref that cannot be read is still listed: prune keeps the newest, restore finds it" {
	q app.db "CREATE TABLE t(v INT);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
		INSERT INTO t SELECT randomblob(300) FROM c"
	a=$(mig -d app.db backup)
	q app.db "UPDATE t SET v = randomblob(300)"
	mig -d app.db backup >/dev/null
	# the newest is the first one's image again: it uses the first one's chunks
	mig -d app.db restore -q --no-backup "$a"
	c=$(mig -d app.db backup)
	run -0 faulty FAULT_OPS=read FAULT_PATH="snapshots/$c" FAULT_STICKY=1 FAULT_N=1 FAULT_LOG=fault.log -- \
		mig -d app.db backup --prune 1
	[ -s fault.log ]
	[[ "$output" == "mig-backup: pruned 2 snapshots; removed "* ]]
	run -0 mig -d app.db backup --list --porcelain
	[ "${#lines[@]}" = 1 ]
	[[ "${lines[0]}" == "snapshot	$c	"* ]]
	run -0 mig -d app.db backup --verify
	q app.db "DELETE FROM t"
	run -0 faulty FAULT_OPS=read FAULT_PATH="snapshots/$c" FAULT_STICKY=1 FAULT_N=1 -- \
		mig -d app.db restore -q --no-backup "${c:0:8}"
	[ "$(q app.db 'SELECT count(*) FROM t')" = 3000 ]
}

@test "a journal commit that cannot be read for an I/O error says why, and does not advise a new journal" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	mig -d app.db up -q
	tip=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -6 faulty FAULT_OPS=read FAULT_PATH="objects/${tip:0:2}/${tip:2}" FAULT_STICKY=1 FAULT_N=1 -- mig -d app.db log
	[ "${lines[0]}" = "mig-log: error: store 'app.db.mig': the journal refs/mig/journal points at unreadable object $tip: failed to read descriptor: Input/output error" ]
	[ "${lines[1]}" = "hint: check the disk, then 'git --git-dir=app.db.mig fsck'" ]
	run -0 mig -d app.db log --porcelain
	[ "${#lines[@]}" = 2 ]
}

# new: the file is written aside, then linked into place once whole
@test "new exits 6 when the revision file cannot be written, and leaves no file, whole or half" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	for fault in "FAULT_OPS=open FAULT_PATH=.tmp-" "FAULT_OPS=write FAULT_PATH=.tmp-" \
		"FAULT_OPS=fsync FAULT_PATH=.tmp-" "FAULT_OPS=rename FAULT_PATH=0002_x.sql" \
		"FAULT_OPS=fsync FAULT_PATH=migrations FAULT_N=2"; do
		# shellcheck disable=SC2086 # the fault is words
		run -6 faulty FAULT_N=1 $fault -- mig new x
		case $fault in
		*open* | *rename*) [ "$output" = "mig-new: error: cannot create 'migrations/0002_x.sql': Input/output error" ] ;;
		*) [ "$output" = "mig-new: error: cannot write 'migrations/0002_x.sql': Input/output error" ] ;;
		esac
		[ "$(ls -A migrations)" = 0001_a.sql ]
	done
	run -0 mig new x
	[ "$output" = migrations/0002_x.sql ]
}

@test "new in a two-file layout takes back the up file when the down file cannot be written" {
	printf 'CREATE TABLE users(id INTEGER PRIMARY KEY);\n' >migrations/1_users.up.sql
	printf 'DROP TABLE users;\n' >migrations/1_users.down.sql
	run -6 faulty FAULT_OPS=fsync FAULT_PATH=.down.sql FAULT_N=1 -- mig new tags
	[ "$output" = "mig-new: error: cannot write 'migrations/2_tags.down.sql': Input/output error" ]
	[ "$(ls -A migrations | tr '\n' ' ')" = "1_users.down.sql 1_users.up.sql " ]
}

@test "new in diesel's layout takes back its directory when a file in it cannot be written" {
	mkdir migrations/2024-01-01-000000_users
	printf 'CREATE TABLE users(id INTEGER PRIMARY KEY);\n' >migrations/2024-01-01-000000_users/up.sql
	printf 'DROP TABLE users;\n' >migrations/2024-01-01-000000_users/down.sql
	before=$(find migrations | sort)
	run -6 faulty FAULT_OPS=fsync FAULT_PATH=down.sql FAULT_N=1 -- mig new tags
	[[ "$output" =~ ^mig-new:\ error:\ cannot\ write\ \'migrations/[0-9-]{17}_tags/down.sql\':\ Input/output\ error$ ]]
	[ "$(find migrations | sort)" = "$before" ]
	run -6 faulty FAULT_OPS=open FAULT_PATH=_tags FAULT_N=1 -- mig new tags
	[[ "$output" =~ ^mig-new:\ error:\ cannot\ create\ \'migrations/[0-9-]{17}_tags\':\ Input/output\ error$ ]]
	[ "$(find migrations | sort)" = "$before" ]
}

# init: mig.conf written aside, then linked into place (renamed over
# the old one when init adds to it) once whole
@test "init exits 6 when mig.conf cannot be written or put in place, and leaves no file, whole or half" {
	for fault in "FAULT_OPS=open FAULT_CALL=mkostemp" "FAULT_OPS=write FAULT_PATH=.mig.conf.tmp-" \
		"FAULT_OPS=fsync FAULT_PATH=.mig.conf.tmp-" "FAULT_OPS=rename FAULT_PATH=mig.conf"; do
		# shellcheck disable=SC2086 # the fault is words
		run -6 --separate-stderr faulty FAULT_N=1 $fault -- mig init -d app.db -m migrations
		case $fault in
		*open* | *rename*) [ "$stderr" = "mig-init: error: cannot create 'mig.conf': Input/output error" ] ;;
		*) [ "$stderr" = "mig-init: error: cannot write 'mig.conf': Input/output error" ] ;;
		esac
		[ ! -e mig.conf ]
		[ -z "$(find . -name '.mig.conf.tmp-*')" ]
	done
	# the directory it goes in, synced once it holds mig.conf
	run -6 --separate-stderr faulty FAULT_N=2 FAULT_OPS=fsync -- mig init -d app.db
	[ "$stderr" = "mig-init: error: cannot write 'mig.conf': Input/output error" ]
	[ "$(git config -f mig.conf mig.database)" = app.db ]
	# adding to a mig.conf replaces it: the old one stays when that fails
	printf '[mig]\n\tdatabase = app.db' >mig.conf
	run -6 --separate-stderr faulty FAULT_N=1 FAULT_OPS=rename FAULT_PATH=mig.conf -- mig init -m migrations
	[ "$stderr" = "mig-init: error: cannot replace 'mig.conf': Input/output error" ]
	[ "$(cat mig.conf)" = "$(printf '[mig]\n\tdatabase = app.db')" ]
	[ -z "$(find . -name '.mig.conf.tmp-*')" ]
	# a mig.conf without its last newline gets one before what is added
	run -0 mig init -m migrations
	[ "$(cat mig.conf)" = "$(printf '[mig]\n\tdatabase = app.db\n[mig]\n\tmigrations = migrations')" ]
}

@test "init exits 6 when the migrations directory cannot be made or synced, before mig.conf" {
	rmdir migrations
	run -6 faulty FAULT_N=1 FAULT_CALL=mkdir -- mig init -m db/migrations
	[ "$output" = "mig-init: error: cannot create migrations directory 'db/migrations': Input/output error" ]
	[ -z "$(ls -A)" ]
	run -6 faulty FAULT_N=1 FAULT_OPS=fsync -- mig init -m db/migrations
	[ "$output" = "mig-init: error: cannot create 'db': Input/output error" ]
	[ ! -e mig.conf ]
	run -0 mig init -m db/migrations
	[ -d db/migrations ]
	[ "$(git config -f mig.conf mig.migrations)" = db/migrations ]
}

@test "backup -o exits 6 when the image cannot be synced or put in place, and leaves no file" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t VALUES (1)"
	for ops in fsync rename; do
		run -6 --separate-stderr faulty FAULT_OPS=$ops FAULT_PATH=out.gz FAULT_N=1 -- mig -d app.db backup -o out.gz
		[ "$stderr" = "mig-backup: error: cannot write 'out.gz': Input/output error" ]
		# nor a temporary one beside it
		[ -z "$(find . -maxdepth 1 -name '*out.gz*')" ]
	done
}

@test "backup -o exits 6 when the directory that holds the image cannot be synced; the image is whole" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t VALUES (1)"
	mkdir out
	# the first sync is the image's, the second its directory's, after the rename
	run -6 --separate-stderr faulty FAULT_OPS=fsync FAULT_PATH=/out FAULT_N=2 -- mig -d app.db backup -o out/x.gz
	[ "$stderr" = "mig-backup: error: cannot write 'out/x.gz': Input/output error" ]
	[ "$(ls -A out)" = x.gz ]
	gunzip -c out/x.gz >image.db
	[ "$(sqlite3 image.db 'SELECT x FROM t')" = 1 ]
}

@test "a schema file that cannot be written for a full disk is a warning; the old one stays whole" {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT);\n-- mig:down\nDROP TABLE t;\n'
	rev 0002_u $'-- mig:up\nCREATE TABLE u(x INT);\n-- mig:down\nDROP TABLE u;\n'
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = schema.sql\n' >mig.conf
	mig up -q 0001
	[ "$(cat schema.sql)" = "CREATE TABLE t(x INT);" ]
	run -0 --separate-stderr faulty FAULT_OPS=write FAULT_PATH=schema.sql FAULT_ERRNO=ENOSPC FAULT_N=1 -- mig up -q
	[ "$stderr" = "mig-up: warning: mig.schemaFile: cannot write schema file 'schema.sql': No space left on device; the run itself succeeded" ]
	[ "$(cat schema.sql)" = "CREATE TABLE t(x INT);" ]
	[ -z "$(find . -maxdepth 1 -name '.schema.sql.tmp-*')" ]
	run -0 mig status --check
}

@test "restore -i exits 6 when the image cannot be read to its end, and changes nothing" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t SELECT randomblob(500) FROM generate_series(1, 2000)"
	mig -d app.db backup -q -o x.gz >/dev/null
	q app.db "DELETE FROM t"
	sum=$(cksum <app.db)
	run -6 --separate-stderr faulty FAULT_OPS=read FAULT_PATH=x.gz FAULT_N=2 -- mig -d app.db restore -i x.gz
	[ "$stderr" = "mig-restore: error: cannot read 'x.gz': Input/output error" ]
	[ "$(cksum <app.db)" = "$sum" ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = 1 ]
}

# the store: made whole in a directory beside it, synced, renamed into place
@test "up exits 6 when its store cannot be synced or put in place, before it changes the database" {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT);\n'
	q app.db "CREATE TABLE pre(x INT)"
	sum=$(cksum <app.db)
	# the store's file system, the rename (the fifth: libgit2 renames four of its own before)
	for fault in "FAULT_OPS=fsync FAULT_CALL=syncfs" "FAULT_OPS=rename FAULT_CALL=rename FAULT_N=5"; do
		# shellcheck disable=SC2086 # the fault is words
		run -6 faulty FAULT_N=1 $fault -- mig -d app.db up -q
		[ "$output" = "mig-up: error: cannot create store 'app.db.mig': Input/output error" ]
		[ "$(cksum <app.db)" = "$sum" ]
		[ -z "$(find . -maxdepth 1 -name 'app.db.mig*')" ]
	done
	# the directory it is renamed into: in place, but not known to be on disk
	run -6 faulty FAULT_OPS=fsync FAULT_N=4 -- mig -d app.db up -q
	[ "$output" = "mig-up: error: cannot create store 'app.db.mig': Input/output error" ]
	[ "$(cksum <app.db)" = "$sum" ]
	run -0 mig -d app.db up -q
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 1 ]
}

@test "restore exits 6 when it cannot write its marker, before it touches the database" {
	q app.db "CREATE TABLE t(x INT); INSERT INTO t VALUES (1)"
	id=$(mig -d app.db backup)
	q app.db "INSERT INTO t VALUES (2)"
	journal=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	for ops in open write fsync; do
		run -6 faulty FAULT_OPS=$ops FAULT_PATH=restore.pending FAULT_N=1 -- mig -d app.db restore --no-backup "$id"
		[ "$output" = "mig-restore: error: cannot write 'app.db.mig/restore.pending': Input/output error" ]
		[ "$(q app.db 'SELECT count(*) FROM t')" = 2 ]
		[ ! -e app.db.mig/restore.pending ]
		[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$journal" ]
	done
}

@test "backup exits 6 when a chunk cannot be written to the store, and the snapshot is not listed" {
	q app.db "CREATE TABLE t(v INT);
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
		INSERT INTO t SELECT randomblob(300) FROM c"
	first=$(mig -d app.db backup)
	q app.db "UPDATE t SET v = randomblob(300) WHERE rowid < 100"
	objects='app\.db\.mig/objects/[0-9a-f]{2}'
	for fault in "FAULT_OPS=open FAULT_CALL=mkdir FAULT_PATH=/objects/" "FAULT_OPS=open FAULT_PATH=tmp_chunk_" \
		"FAULT_OPS=write FAULT_PATH=tmp_chunk_" "FAULT_OPS=rename FAULT_PATH=/objects/"; do
		# shellcheck disable=SC2086 # the fault is words
		run -6 faulty FAULT_N=1 $fault -- mig -d app.db backup
		case $fault in
		*mkdir*) [[ "$output" =~ ^mig-backup:\ error:\ cannot\ create\ \'$objects\':\ Input/output\ error$ ]] ;;
		*open*) [[ "$output" =~ ^mig-backup:\ error:\ cannot\ write\ to\ the\ store\ at\ \'$objects/tmp_chunk_XXXXXX\':\ Input/output\ error$ ]] ;;
		*write*) [[ "$output" =~ ^mig-backup:\ error:\ cannot\ write\ \'$objects/tmp_chunk_[A-Za-z0-9]{6}\':\ Input/output\ error$ ]] ;;
		*) [[ "$output" =~ ^mig-backup:\ error:\ cannot\ write\ \'$objects/[0-9a-f]{38}\':\ Input/output\ error$ ]] ;;
		esac
		[ -z "$(find app.db.mig -name 'tmp_*')" ]
		[ "$(mig -d app.db backup --list --porcelain | cut -f2)" = "$first" ]
	done
	run -0 mig -d app.db backup --verify
	[ "$output" = "$first ok" ]
}

# 1.2 GB of database and about 5 GB written: MIG_BIG_TESTS=1 runs it
@test "a failed restore of a database past 1 GiB rolls back whole: SQLite's lock-byte page is never journaled" {
	[ -n "${MIG_BIG_TESTS:-}" ] || skip "MIG_BIG_TESTS unset"
	q app.db "PRAGMA page_size = 65536; CREATE TABLE s(x INT); INSERT INTO s VALUES (1); CREATE TABLE t(v INT);
		INSERT INTO t VALUES (zeroblob(600000000)); INSERT INTO t VALUES (zeroblob(600000000))"
	id=$(mig -d app.db backup)
	# every page of the blobs moves, those past 1 GiB too
	q app.db "UPDATE s SET x = 2; DELETE FROM t;
		INSERT INTO t VALUES (zeroblob(600000000)); INSERT INTO t VALUES (zeroblob(600000000))"
	sum=$(cksum <app.db)
	# the database's own sync, after its pages are written: the journal plays back, all of it
	run -6 --separate-stderr faulty FAULT_OPS=fsync FAULT_CALL=fdatasync FAULT_PATH=app.db FAULT_N=1 \
		FAULT_LOG=fault.log -- mig -d app.db restore --no-backup "$id"
	[ "$(cut -d' ' -f3 fault.log)" = fdatasync ]
	[ "$(cksum <app.db)" = "$sum" ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	run -0 mig -d app.db restore -q --no-backup "$id"
	[ "$(q app.db 'SELECT x FROM s')" = 1 ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
}

@test "a snapshot's pack that cannot be written, synced or renamed: exit 6 naming it, nothing listed, the next backup works" {
	export MIG_CHUNK_SIZE=64 MIG_PACK_AFTER=0
	sqlite3 app.db "CREATE TABLE r(id INTEGER PRIMARY KEY, v BLOB);
		INSERT INTO r(v) SELECT randomblob(1000) FROM generate_series(1, 1500);"
	mig -d app.db backup -q >/dev/null
	sqlite3 app.db "UPDATE r SET v = randomblob(1000) WHERE id % 50 = 0"
	before=$(sqlite3 app.db .dump)
	cp -a app.db.mig base.mig
	for ops in write fsync rename; do
		rm -rf app.db.mig
		cp -a base.mig app.db.mig
		run -6 faulty FAULT_OPS=$ops FAULT_PATH=objects/pack FAULT_N=1 FAULT_ERRNO=ENOSPC -- mig -d app.db backup -q
		[[ "$output" =~ ^mig-backup:\ error:\ cannot\ write\ \'app.db.mig/objects/pack/[A-Za-z0-9_-]+(\.pack)?\':\ No\ space\ left\ on\ device$ ]]
		[ "$(mig -d app.db backup --list --porcelain | wc -l)" = 1 ]
		run -0 mig -d app.db backup -q
		id=$output
		run -0 find app.db.mig/objects -name 'tmp_*'
		[ "$output" = "" ]
		for p in app.db.mig/objects/pack/*.pack; do
			[ -e "${p%.pack}.idx" ]
		done
		run -0 mig -d app.db backup --verify "$id"
		sqlite3 app.db "DELETE FROM r"
		run -0 mig -d app.db restore -q --no-backup "$id"
		[ "$(sqlite3 app.db .dump)" = "$before" ]
	done
}
