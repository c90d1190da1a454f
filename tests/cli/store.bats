#!/usr/bin/env bats
# The store at its edges: its name with a trailing slash, a place it
# cannot be made, its lock taken by another or not a file, commits by a
# user with no name, what git fsck says of it; and a dry run's revision
# that needs no transaction.
load helper

one() {
	rev 0001_a $'-- mig:up\nCREATE TABLE t(x INT);\n-- mig:down\nDROP TABLE t;\n'
}

@test "--store with a trailing slash is the same store" {
	one
	run -0 mig -d app.db --store st/ up -q
	[ -d st/objects ]
	run -0 mig -d app.db --store st backup --list
	run -0 mig -d app.db --store st log --porcelain
	[[ "${lines[0]}" == entry*$'\tup\tok\t'* ]]
}

@test "git fsck finds nothing wrong with a store: HEAD names a branch that follows the journal" {
	one
	run -0 mig -d app.db up -q
	# (blobs no commit names, such as the empty one, are no damage)
	run -0 git --git-dir=app.db.mig fsck --no-progress --no-dangling
	[ "$output" = "" ]
	[ "$(git --git-dir=app.db.mig symbolic-ref HEAD)" = refs/heads/journal ]
	run -0 mig -d app.db backup -q
	run -0 mig -d app.db down -q
	run -0 git --git-dir=app.db.mig fsck --no-progress --no-dangling --strict
	[ "$output" = "" ]
	# plain git log is the journal, newest first
	[ "$(git --git-dir=app.db.mig log --format=%s | tr '\n' '|')" = "down 0001_a|backup|up 0001_a|" ]
	[ "$(git --git-dir=app.db.mig rev-parse HEAD)" = "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" ]
	# a store made before, whose HEAD names the journal itself, is read and written as ever
	git --git-dir=app.db.mig symbolic-ref HEAD refs/mig/journal
	git --git-dir=app.db.mig update-ref -d refs/heads/journal
	run -0 mig -d app.db up -q
	[ "$(mig -d app.db log --porcelain | cut -f1,4 | grep -c '^entry')" = 4 ]
	[ "$(git --git-dir=app.db.mig log --format=%s | tr '\n' '|')" = "up 0001_a|down 0001_a|backup|up 0001_a|" ]
}

@test "a store that cannot be created exits 6 before anything runs" {
	one
	run -6 mig -d app.db --store /proc/self/st up
	[ "$output" = "mig-up: error: cannot create store '/proc/self/st': No such file or directory" ]
	[ ! -e app.db ]
}

@test "a lock that is not a file, or held by a run that left no name, exits 6 saying so" {
	sqlite_only
	one
	mig -d app.db up -q
	mv app.db.mig/mig.lock lock.saved
	mkdir app.db.mig/mig.lock
	run -6 mig -d app.db down
	[ "$output" = "mig-down: error: cannot open lock 'app.db.mig/mig.lock': Is a directory" ]
	rmdir app.db.mig/mig.lock
	: >app.db.mig/mig.lock
	run -0 python3 - "$(command -v mig)" <<'PY'
import fcntl, subprocess, sys
with open("app.db.mig/mig.lock", "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    r = subprocess.run([sys.argv[1], "-d", "app.db", "down", "--lock-timeout", "100"], capture_output=True, text=True)
print(r.returncode)
print(r.stderr, end="")
PY
	[ "${lines[0]}" = 6 ]
	[ "${lines[1]}" = "mig-down: error: database is locked by another mig run (unknown holder) after 100 ms" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 1 ]
}

@test "with \$USER empty or unset the journal's commits are by the password database's name" {
	one
	USER= run -0 mig -d app.db up -q
	[ "$(git --git-dir=app.db.mig log -1 --format=%an refs/mig/journal)" = "$(id -un)" ]
	[[ "$(git --git-dir=app.db.mig log -1 --format=%ae refs/mig/journal)" == "$(id -un)"@* ]]
	run -0 env -u USER "$(command -v mig)" -d app.db down -q --no-backup
	[ "$(git --git-dir=app.db.mig log -1 --format=%an refs/mig/journal)" = "$(id -un)" ]
}

@test "a dry run down skips a revision that runs outside a transaction, and says so unless -q" {
	rev 0001_a $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE t(x INT);\n-- mig:down\nDROP TABLE t;\n'
	mig -d app.db up -q
	run -0 --separate-stderr mig -d app.db down --dry-run
	[ "${stderr_lines[0]}" = "mig-down: skipping 0001_a in a dry run: it runs outside a transaction" ]
	run -0 --separate-stderr mig -d app.db down --dry-run -q
	[ -z "$stderr" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 1 ]
}

@test "two runs cut short, one of two revisions: each gets its own journal entry, in order" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT);\n'
	mig -d app.db up -q 0001
	# as a run leaves it: the bodies in the store, then the rows in the database
	a=$(git --git-dir=app.db.mig hash-object -w migrations/0002_b.sql)
	c=$(git --git-dir=app.db.mig hash-object -w migrations/0003_c.sql)
	q app.db "INSERT INTO mig_journal (run, op, name, id, duration_ms) VALUES
		('1111111111111111', 'up', '0002_b', '$a', 3), ('1111111111111111', 'up', '0003_c', '$c', 4),
		('2222222222222222', 'down', '0003_c', '$c', 5)"
	run -0 mig -d app.db fake -q head
	[ "$(git --git-dir=app.db.mig log --format=%s refs/mig/journal | tr '\n' '|')" = "fake 0002_b..0003_c (2 revisions)|down 0003_c|up 0002_b..0003_c (2 revisions)|up 0001_a|" ]
	[ "$(q app.db 'SELECT count(*) FROM mig_journal')" = 0 ]
}
