#!/usr/bin/env bats
# mig up and mig down: applying, reverting, the store, and refusals.
load helper

# a test that ran as nobody in a directory of its own removes it, pass or fail
teardown() {
	[ -z "${RO-}" ] || rm -rf "$RO"
	backend_teardown
}

users() {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n-- mig:down\nDROP TABLE users;\n'
	rev 0002_email $'-- mig:up\nALTER TABLE users ADD COLUMN email TEXT;\n-- mig:down\nALTER TABLE users DROP COLUMN email;\n'
}

@test "up applies everything pending, status then shows it applied" {
	users
	run -0 mig -d app.db up
	[ -z "$(mig -d app.db up 2>/dev/null)" ]
	[ "$(q app.db 'SELECT name FROM mig_revisions WHERE scope = "app" ORDER BY seq' | tr '\n' ' ')" = "0001_users 0002_email " ]
	run -0 mig -d app.db status --check
	has "current: 0002_email"
	has "applied: 2 of 2"
	run -0 mig -d app.db status --porcelain
	has "revision	applied	0001_users	$(git hash-object migrations/0001_users.sql)	migrations/0001_users.sql"
}

@test "a reader of up's output that goes away does not end the run between revisions" {
	users
	rev 0003_more $'-- mig:up\nCREATE TABLE more(x INT);\n-- mig:down\nDROP TABLE more;\n'
	# true reads nothing: it is gone before mig writes its first line
	mig -d app.db up 2>&1 | true
	[ "${PIPESTATUS[0]}" = 0 ]
	[ "$(q app.db 'SELECT name FROM mig_revisions WHERE scope = "app" ORDER BY seq' | tr '\n' ' ')" = "0001_users 0002_email 0003_more " ]
	mig -d app.db down base 2>&1 | true
	[ "${PIPESTATUS[0]}" = 0 ]
	[ -z "$(q app.db 'SELECT name FROM mig_revisions WHERE scope = "app"')" ]
}

@test "a second up has nothing to do: exit 0, nothing on stdout" {
	users
	mig -d app.db up -q
	run -0 --separate-stderr mig -d app.db up
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "down to the current revision, or from nothing, has nothing to do: exit 0, nothing said, nothing taken" {
	users
	mig -d app.db up -q
	journal=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -0 --separate-stderr mig -d app.db down 0002_email
	[ -z "$output" ]
	[ -z "$stderr" ]
	run -0 --separate-stderr mig -d app.db down current
	[ -z "$output" ]
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$journal" ]
	[ "$(mig -d app.db backup --list --porcelain)" = "" ]
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 2 ]
	mig -d app.db down -q --no-backup base
	run -0 --separate-stderr mig -d app.db down base
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "up TARGET stops there; down TARGET reverts what came after" {
	users
	run -0 mig -d app.db up 0001
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 1 ]
	mig -d app.db up -q
	run -0 mig -d app.db down 0001_users
	[[ "${lines[0]}" =~ ^snapshot\ [0-9a-f]{12}$ ]]
	[ "${lines[1]}" = "reverting 0002_email" ]
	[ "${#lines[@]}" = 2 ]
	run -0 mig -d app.db down base
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 0 ]
}

@test "down defaults to -1" {
	users
	mig -d app.db up -q
	run -0 mig -d app.db down --no-backup
	[ "$output" = "reverting 0002_email" ]
	run -0 mig -d app.db status --porcelain
	has "current	0001_users"
}

@test "the store holds every applied body under its id, checkable with git" {
	users
	mig -d app.db up -q
	[ "$(git --git-dir=app.db.mig cat-file -p "$(git hash-object migrations/0002_email.sql)")" = "$(cat migrations/0002_email.sql)" ]
	run -0 git --git-dir=app.db.mig log --format=%s
	[ "$output" = "up 0001_users..0002_email (2 revisions)" ]
	[ "$(stat -c %a app.db.mig)" = 700 ]
	[ "$(stat -c %a app.db.mig/HEAD)" = 600 ]
}

@test "down after a branch switch reverts from the store, not the file" {
	users
	mig -d app.db up -q
	rm migrations/0002_email.sql
	run -0 mig -d app.db status --porcelain
	has "problem	missing	0002_email	0002_email is applied but its file is missing (applied id $(git --git-dir=app.db.mig rev-parse HEAD:0002_email.sql | cut -c1-12))"
	run -0 mig -d app.db down
	[ "$(q app.db "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'email'")" = 0 ]
}

@test "down --from-files on a missing file is refused with exit 5" {
	users
	mig -d app.db up -q
	rm migrations/0002_email.sql
	run -5 mig -d app.db down --from-files
	[ "$output" = "mig-down: error: 0002_email: its file is missing and --from-files was given" ]
}

@test "an irreversible revision is refused with exit 5 and a hint" {
	rev 0001_t $'CREATE TABLE t(x INT);\n'
	mig -d app.db up -q
	run -5 mig -d app.db down
	[ "${lines[0]}" = "mig-down: error: 0001_t is irreversible: it has no '-- mig:down' section" ]
	[ "${lines[1]}" = "hint: record it as reverted without running SQL with 'mig fake --unapply base'" ]
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 1 ]
}

@test "a failing statement exits 4 naming revision, file and line; nothing of it stays" {
	sqlite_only
	users
	rev 0003_bad $'-- mig:up\nCREATE TABLE a(x INT);\n\nINSERT INTO nosuch VALUES (1);\n'
	run -4 mig -d app.db up
	has "mig-up: error: 0003_bad: migrations/0003_bad.sql:4: no such table: nosuch"
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'a'")" = 0 ]
	[ "$(q app.db "SELECT group_concat(name) FROM mig_revisions WHERE scope = 'app'")" = "0001_users,0002_email" ]
	run -0 git --git-dir=app.db.mig log -1 --format=%B
	has "result failed"
}

@test "a foreign key violation fails the revision, naming the rows" {
	sqlite_only
	rev 0001_t $'-- mig:up\nCREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id));\n-- mig:down\nDROP TABLE c; DROP TABLE p;\n'
	rev 0002_orphans $'-- mig:up\nINSERT INTO c VALUES (7, 70), (8, 80);\n-- mig:down\nDELETE FROM c;\n'
	run -4 mig -d app.db up
	has "mig-up: error: 0002_orphans: migrations/0002_orphans.sql: FOREIGN KEY constraint failed: 2 rows violate it"
	has "hint: c rows 7, 8 refer to p that do not exist (p.id 70, 80)"
	[ "$(q app.db 'SELECT count(*) FROM c')" = 0 ]
}

@test "a modified applied revision blocks up with exit 5" {
	users
	mig -d app.db up -q
	echo "-- edited" >>migrations/0001_users.sql
	rev 0003_more $'CREATE TABLE more(x INT);\n'
	run -5 mig -d app.db up
	[[ "${lines[0]}" == "mig-up: error: 0001_users was modified after it was applied (applied "*", file "*")" ]]
	run -1 mig -d app.db status --check
	[[ "$output" == *"0001_users was modified after it was applied"* ]]
}

@test "several heads without a target are refused with exit 5; heads applies all" {
	sqlite_only
	rev 0001_root '-- mig:parents'
	rev 0002_a $'-- mig:parents 0001_root\nCREATE TABLE a(x INT);\n'
	rev 0003_b $'-- mig:parents 0001_root\nCREATE TABLE b(x INT);\n'
	run -5 mig -d app.db up
	[ "${lines[0]}" = "mig-up: error: 2 heads: 0002_a, 0003_b" ]
	[ ! -e app.db ]
	run -0 mig -d app.db up heads
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 3 ]
	# with every head applied there is nothing to do: exit 0, and the heads are named
	log=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -0 --separate-stderr mig -d app.db up
	[ "$stderr" = "mig-up: nothing to apply; there are 2 heads: merge them with 'mig merge'" ]
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$log" ]
	run -0 --separate-stderr mig -q -d app.db up
	[ -z "$stderr" ]
}

@test "down with nothing applied has nothing to revert: exit 0, nothing created" {
	users
	run -0 --separate-stderr mig -d app.db down
	[ "$stderr" = "mig-down: nothing to revert: no revision is applied" ]
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
	mig -d app.db up -q
	mig -d app.db down -q base
	run -0 --separate-stderr mig -d app.db down
	[ "$stderr" = "mig-down: nothing to revert: no revision is applied" ]
	# a named target still has to exist
	run -2 mig -d app.db down -1
	[ "$output" = "mig-down: error: revision '-1' goes back past base: 0 applied" ]
}

@test "a pending revision older than applied ones needs --out-of-order" {
	# a plain numbered directory: 0002 arrives from another branch after 0003 ran
	rev 0001_a $'CREATE TABLE a(x INT);\n'
	rev 0003_c $'CREATE TABLE c(x INT);\n'
	mig -d app.db up -q
	rev 0002_b $'CREATE TABLE b(x INT);\n'
	run -5 mig -d app.db up
	[ "${lines[0]}" = "mig-up: error: 0002_b is pending but revisions after it are applied" ]
	[ "${lines[1]}" = "hint: apply it anyway with 'mig up --out-of-order'" ]
	run -1 mig -d app.db status --check
	has "  0003_c is applied but an ancestor of it is pending"
	run -0 mig -d app.db up --out-of-order
	[ "$(q app.db "SELECT name FROM mig_revisions WHERE scope = 'app' ORDER BY seq" | paste -sd ' ')" = "0001_a 0003_c 0002_b" ]
}

@test "a no-transaction revision that fails is left dirty; up and down refuse" {
	sqlite_only
	rev 0001_a $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE a(x INT);\nINSERT INTO nosuch VALUES (1);\n-- mig:down\nDROP TABLE a;\n'
	run -4 mig -d app.db up
	has "mig-up: error: 0001_a: migrations/0001_a.sql:4: no such table: nosuch"
	run -5 mig -d app.db up
	[ "${lines[0]}" = "mig-up: error: 0001_a did not finish: the database is dirty" ]
	run -5 mig -d app.db down
	[ "${lines[0]}" = "mig-down: error: 0001_a did not finish: the database is dirty" ]
	run -1 mig -d app.db status --check
	has "  0001_a did not finish: the database is dirty"
}

@test "bad specs exit 2 and create nothing" {
	users
	run -2 mig -d app.db up nosuch
	[ "${lines[0]}" = "mig-up: error: unknown revision 'nosuch'" ]
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
	run -2 mig -d app.db down -5
	[ "$output" = "mig-down: error: revision '-5' goes back past base: 0 applied" ]
	run -2 mig -d app.db up a b
	[ "${lines[0]}" = "mig-up: error: too many arguments" ]
}

@test "a database in a missing directory exits 6" {
	sqlite_only
	users
	run -6 mig -d nosuch/app.db up
	[ "$output" = "mig-up: error: cannot create database 'nosuch/app.db': directory 'nosuch' does not exist" ]
	[ ! -e nosuch ]
}

@test "a database that is a FIFO, a directory or a device exits 6 at once and creates nothing" {
	users
	mkfifo fifo.db
	mkdir dir.db
	kinds=("fifo.db:a FIFO" "dir.db:a directory")
	if [ "$(id -u)" = 0 ]; then
		# a null device of our own: writes to it go nowhere
		mknod null.db c 1 3
		kinds+=("null.db:a character device")
	fi
	for k in "${kinds[@]}"; do
		db=${k%%:*}
		for cmd in status up down sqlshow backup restore "fake head"; do
			run -6 timeout 10 mig -d "$db" $cmd
			[ "$output" = "mig-${cmd%% *}: error: database '$db' is ${k#*:}, not a regular file" ]
		done
		[ ! -e "$db.mig" ]
		[ ! -e "$db-journal" ]
	done
	[ -z "$(ls dir.db)" ]
}

# A writer killed mid-transaction, its changes spilled into the file: the
# journal it leaves is hot, and only a read-write connection rolls it back.
hot_journal() {
	q app.db 'PRAGMA cache_size = 2' 'BEGIN' 'DELETE FROM users' '.system kill -9 $PPID' 2>/dev/null || true
	[ -s app.db-journal ]
	[ "$(cksum <app.db)" != "$sum" ]
}

@test "a hot journal left by a killed writer is rolled back by every command" {
	sqlite_only
	users
	mig -d app.db up -q
	q app.db "INSERT INTO users(name) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) SELECT hex(randomblob(50)) FROM c"
	sum=$(cksum <app.db)
	hot_journal
	run -0 mig -d app.db status
	has "current: 0002_email"
	has "applied: 2 of 2"
	[ ! -e app.db-journal ]
	[ "$(cksum <app.db)" = "$sum" ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	for cmd in sqlshow backup "fake --resolve applied" up "down base"; do
		hot_journal
		run -0 mig -d app.db $cmd
		[ ! -e app.db-journal ]
		[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
		sum=$(cksum <app.db)
	done
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 0 ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 0 ]
}

@test "a hot journal that cannot be rolled back exits 6 saying so, and changes nothing" {
	sqlite_only
	[ "$(id -u)" = 0 ] || skip "needs root to run as another user"
	command -v setpriv >/dev/null || skip "no setpriv to drop root"
	RO=$(mktemp -d /tmp/mig-ro.XXXXXX)
	chmod 755 "$RO"
	mkdir "$RO/migrations"
	cd "$RO"
	users
	mig -d app.db up -q
	q app.db "INSERT INTO users(name) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) SELECT hex(randomblob(50)) FROM c"
	sum=$(cksum <app.db)
	hot_journal
	sum=$(cksum <app.db)
	run -6 setpriv --reuid=nobody --regid=nogroup --clear-groups "$TOP/bin/mig" -d app.db status
	[ "${lines[0]}" = "mig-status: error: database 'app.db' has a hot journal left by an interrupted write, and it cannot be rolled back: attempt to write a readonly database" ]
	[ "${lines[1]}" = "hint: run mig once as a user who can write 'app.db' and its directory" ]
	[ -s app.db-journal ]
	[ "$(cksum <app.db)" = "$sum" ]
}

@test "a read-only database exits 6 before running anything" {
	sqlite_only
	as_user=()
	if [ "$(id -u)" = 0 ]; then
		# root writes read-only files: run as nobody, in a directory nobody can reach
		command -v setpriv >/dev/null || skip "no setpriv to drop root"
		as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
		RO=$(mktemp -d /tmp/mig-ro.XXXXXX)
		chmod 777 "$RO"
		mkdir "$RO/migrations"
		cd "$RO"
	fi
	users
	mig -d app.db up 0001 -q
	chmod 444 app.db
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody app.db.mig
	fi
	run -6 "${as_user[@]}" "$TOP/bin/mig" -d app.db up
	# (a --coverage build run as nobody adds gcov's complaints, before and after it)
	[ "$(grep -v '^profiling:' <<<"$output" | head -1)" = "mig-up: error: database 'app.db' is read-only" ]
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 1 ]
	[ -z "${RO-}" ] || rm -rf "$RO"
}

@test "a held lock makes a second run wait, then exit 6 naming the holder" {
	users
	mig -d app.db up 0001 -q
	hold_lock app.db.mig/mig.lock 3
	run -6 mig -d app.db up --lock-timeout 100
	[[ "${lines[0]}" == "mig-up: error: database is locked by another mig run ("*") after 100 ms" ]]
	wait
	run -0 mig -d app.db up
}

# hold DB with BEGIN EXCLUSIVE while running the command after it: its
# status, stderr and how long it took, in ms, on stdout as three lines
hold_exclusive() {
	python3 - "$@" <<'PY'
import sqlite3, subprocess, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
t = time.monotonic()
r = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=30)
ms = int((time.monotonic() - t) * 1000)
c.execute("ROLLBACK")
print(r.returncode, r.stderr.replace("\n", "|"), ms, sep="\n")
PY
}

@test "--lock-timeout bounds the wait for a database another program holds" {
	sqlite_only
	users
	mig -d app.db up 0001 -q
	sum=$(cksum <app.db)
	printf '[mig]\n\tlockTimeout = 60000\n' >mig.conf
	for cmd in "up" "up --dry-run" "down" "fake head"; do
		run -0 hold_exclusive app.db mig -d app.db $cmd --lock-timeout 200
		[ "${lines[0]}" = 6 ]
		[ "${lines[1]}" = "mig-${cmd%% *}: error: database 'app.db' is locked by another process: it stayed locked for 200 ms|hint: wait for it to finish, or raise --lock-timeout or mig.lockTimeout|" ]
		[ "${lines[2]}" -lt 1500 ]
	done
	[ "$(cksum <app.db)" = "$sum" ]
	[ ! -e app.db-journal ]
	run -0 mig -d app.db status
	has "applied: 1 of 2"
}

@test "mig.lockTimeout bounds status's wait; a mig run holding the store is named" {
	users
	mig -d app.db up 0001 -q
	printf '[mig]\n\tdatabase = app.db\n\tlockTimeout = 300\n' >mig.conf
	run -0 hold_exclusive app.db mig status
	[ "${lines[0]}" = 6 ]
	[ "${lines[1]}" = "mig-status: error: database 'app.db' is locked by another process: it stayed locked for 300 ms|hint: wait for it to finish, or raise --lock-timeout or mig.lockTimeout|" ]
	[ "${lines[2]}" -lt 1500 ]
	# a mig run in progress holds the store's lock, and mid-revision the database
	echo "pid 4242 on there" >app.db.mig/mig.lock
	export -f hold_exclusive
	run -0 flock app.db.mig/mig.lock bash -c 'hold_exclusive app.db mig up --lock-timeout 200'
	[ "${lines[0]}" = 6 ]
	[ "${lines[1]}" = "mig-up: error: database 'app.db' is locked by another process: it stayed locked for 200 ms|hint: wait for it to finish, or raise --lock-timeout or mig.lockTimeout|hint: a mig run is in progress (pid 4242 on there)|" ]
	[ "${lines[2]}" -lt 1500 ]
}

@test "four concurrent ups apply every revision once" {
	for i in $(seq 1 40); do
		rev "$(printf '%04d' "$i")_t" "CREATE TABLE t$i(x INT);"
	done
	for i in 1 2 3 4; do
		mig -d app.db up -q --lock-timeout 60000 &
	done
	wait
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 40 ]
	run -0 mig -d app.db status --check
}

@test "eight first runs at once on no database: all exit 0, each revision applied once" {
	sqlite_only
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	for trial in 1 2 3 4; do
		rm -rf app.db app.db.mig
		pids=()
		for i in 1 2 3 4 5 6 7 8; do
			mig -d app.db up -q --lock-timeout 60000 2>"err$i" &
			pids+=($!)
		done
		for i in 1 2 3 4 5 6 7 8; do
			wait "${pids[$((i - 1))]}" || { cat "err$i" >&2; false; }
		done
		[ "$(cat err*)" = "" ]
		[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 2 ]
		[ "$(git --git-dir=app.db.mig rev-list --count refs/mig/journal)" = 1 ]
		# the runs that lost the race to create the store left nothing behind
		[ -z "$(ls -d app.db.mig.tmp-* 2>/dev/null)" ]
	done
}

@test "mig never touches user_version or application_id" {
	sqlite_only
	users
	q app.db "PRAGMA user_version = 7; PRAGMA application_id = 99;"
	mig -d app.db up -q
	mig -d app.db down base -q
	[ "$(q app.db 'PRAGMA user_version; PRAGMA application_id' | tr '\n' ' ')" = "7 99 " ]
}

@test "a store that cannot take the run's bodies: exit 6, no revision commits" {
	sqlite_only
	users
	mig -d app.db up -q 0001
	before=$(cksum <app.db)
	# the bodies are written while the first revision runs; its commit waits for them
	rm -rf app.db.mig/objects/pack
	touch app.db.mig/objects/pack
	run -6 --separate-stderr mig -d app.db up --no-backup
	[[ "${stderr_lines[1]}" == "mig-up: error: cannot write to the store 'app.db.mig': object $(git hash-object migrations/0002_email.sql) is missing after writing it" ]]
	[ "$(cksum <app.db)" = "$before" ]
	rev 0002_email $'-- mig:no-transaction\n-- mig:up\nALTER TABLE users ADD COLUMN email TEXT;\n'
	run -6 mig -d app.db up --no-backup
	[ "$(cksum <app.db)" = "$before" ]
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 1 ]
}
