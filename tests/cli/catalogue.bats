#!/usr/bin/env bats
# The bad-input catalogue: one case per way a user, a script or the
# system can hand mig something wrong. Each asserts the exit code, one
# error line naming the thing at fault, and that nothing changed: for
# exit codes 2, 3, 5 and 6 not one byte of the project (database, store,
# files); for 4 (a revision's SQL failed) the database's bytes.
load helper

# A project with two revisions, the first applied, and a snapshot.
project() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(id INTEGER PRIMARY KEY, x TEXT NOT NULL);\nINSERT INTO a(id, x) VALUES (1, \'one\'), (2, \'two\');\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	mig -d db up -q 0001
	mig -d db backup -q >/dev/null
}

# Every file of the project, its mode and sum (the test's own scratch,
# the cache directory and bats's stderr file, is not the project; the run
# lock is made by taking it, and says who held it last).
fingerprint() {
	find . -path ./xdg-cache -prune -o -name 'separate-stderr-*' -prune -o \
		\( -type f -o -type l -o -type p -o -type d \) -print |
		LC_ALL=C sort | while read -r f; do
			[ "${f##*/}" = mig.lock ] && continue
			if [ -f "$f" ] && [ ! -L "$f" ]; then
				printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(cksum <"$f")"
			else
				printf '%s %s\n' "$f" "$(stat -c %F "$f")"
			fi
		done
	# on PostgreSQL the database is not a file here
	[ "${MIG_TEST_BACKEND:-sqlite}" = sqlite ] || db_state db
}

# expect CODE GLOB CMD...: CMD exits CODE, its first error line matches
# GLOB, and the project is as it was
expect() {
	local code=$1 glob=$2 before
	shift 2
	before=$(fingerprint)
	run "-$code" --separate-stderr "$@"
	check_error "$glob"
	[ "$(fingerprint)" = "$before" ] || {
		echo "the project changed:" >&2
		diff <(echo "$before") <(fingerprint) >&2
		false
	}
}

# expect_sql GLOB CMD...: a revision's SQL failed: exit 4, the error line,
# the database's bytes as they were
expect_sql() {
	local glob=$1 before
	shift
	before=$(db_state db)
	run -4 --separate-stderr "$@"
	check_error "$glob"
	[ "$(db_state db)" = "$before" ]
}

check_error() {
	local l n=0
	for l in "${stderr_lines[@]}"; do
		case "$l" in *": error: "*) n=$((n + 1)) ;; esac
	done
	[ "$n" = 1 ] || {
		echo "want one error line, got $n: $stderr" >&2
		false
	}
	for l in "${stderr_lines[@]}"; do
		case "$l" in *": error: "*)
			# shellcheck disable=SC2053
			[[ "$l" == $1 ]] || {
				echo "error line '$l' does not match '$1'" >&2
				false
			}
		esac
	done
}

# --- usage: exit 2

@test "catalogue: an unknown command" {
	project
	before=$(fingerprint)
	run -2 --separate-stderr mig frob
	[ "${stderr_lines[0]}" = "mig: 'frob' is not a mig command. See 'mig --help'." ]
	[ "$(fingerprint)" = "$before" ]
}

@test "catalogue: an unknown option" {
	project
	expect 2 "*unknown option*frob*" mig -d db up --frob
}

@test "catalogue: an unknown revision" {
	project
	expect 2 "*nope*" mig -d db up nope
}

@test "catalogue: an ambiguous prefix lists the candidates" {
	project
	expect 2 "*000*ambiguous*" mig -d db up 000
	[[ "$stderr" == *0001_a*0002_b* ]]
}

@test "catalogue: heads is no target for down" {
	project
	expect 2 "*'heads' is no target for down*" mig -d db down heads
}

@test "catalogue: too many arguments" {
	project
	expect 2 "*too many arguments*" mig -d db up 0001 0002
}

@test "catalogue: a lock timeout that is not a number" {
	project
	expect 2 "*lock-timeout*" mig -d db up --lock-timeout soon
}

@test "catalogue: prune keeping nothing" {
	project
	expect 2 "*--prune*" mig -d db backup --prune 0
}

@test "catalogue: a new revision's name too long for a file" {
	project
	expect 2 "mig-new: error: revision name is 300 bytes long: at most 200" mig -d db new "$(printf 'x%.0s' $(seq 300))"
}

@test "catalogue: a new revision's name with a blank" {
	project
	expect 2 "mig-new: error: invalid revision name 'two words'" mig -d db new 'two words'
}

@test "catalogue: a snapshot id that matches nothing" {
	project
	expect 2 "*0000dead*" mig -d db restore 0000dead
}

@test "catalogue: log -n that is not a number" {
	project
	expect 2 "*-n*" mig -d db log -n many
}

@test "catalogue: down to a revision that is not applied" {
	project
	expect 2 "*0002_b is not applied*" mig -d db down 0002
}

# --- the migration files: exit 3

@test "catalogue: an unknown directive" {
	project
	rev 0003_c $'-- mig:frob\n-- mig:up\nSELECT 1;\n'
	expect 3 "*migrations/0003_c.sql:1*frob*" mig -d db status
}

@test "catalogue: a cycle" {
	project
	rev 0003_c $'-- mig:parents 0004_d\n-- mig:up\nSELECT 1;\n'
	rev 0004_d $'-- mig:parents 0003_c\n-- mig:up\nSELECT 1;\n'
	expect 3 "*cycle*" mig -d db up
}

@test "catalogue: an unknown parent" {
	project
	rev 0003_c $'-- mig:parents 0009_z\n-- mig:up\nSELECT 1;\n'
	expect 3 "*0003_c.sql:1*0009_z*" mig -d db up
}

@test "catalogue: SQL before -- mig:up" {
	project
	rev 0003_c $'SELECT 1;\n-- mig:up\nSELECT 2;\n'
	expect 3 "*0003_c.sql:1*" mig -d db up
}

@test "catalogue: a NUL byte in a revision" {
	project
	printf -- '-- mig:up\nSELECT 1;\0\n' >migrations/0003_c.sql
	expect 3 "*0003_c.sql*NUL*" mig -d db up
}

@test "catalogue: a revision file that is a FIFO" {
	project
	mkfifo migrations/0003_c.sql
	expect 3 "*'migrations/0003_c.sql' is a FIFO, not a regular file*" timeout 10 mig -d db status
}

@test "catalogue: a revision file that is a link to a device" {
	project
	ln -s /dev/zero migrations/0003_c.sql
	expect 3 "*migrations/0003_c.sql*not a regular file*" timeout 10 mig -d db status
}

@test "catalogue: a dangling symlink as a revision file" {
	project
	ln -s nowhere.sql migrations/0003_c.sql
	expect 3 "*migrations/0003_c.sql*" mig -d db up
}

@test "catalogue: two up sections" {
	project
	rev 0003_c $'-- mig:up\nSELECT 1;\n-- mig:up\nSELECT 2;\n'
	expect 3 "*0003_c.sql:3*" mig -d db up
}

@test "catalogue: a migrations directory that does not exist" {
	project
	expect 3 "*nowhere*" mig -d db -m nowhere status
}

# --- refused for safety: exit 5

@test "catalogue: a dirty database" {
	project
	rev 0002_b $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE b(x INT);\nSELECT * FROM nope;\n'
	run -4 mig -d db up -q --no-backup
	rev 0003_c $'-- mig:up\nSELECT 1;\n'
	expect 5 "*0002_b did not finish: the database is dirty*" mig -d db up
}

@test "catalogue: an applied revision edited since" {
	project
	rev 0001_a $'-- mig:up\nCREATE TABLE a(id INTEGER PRIMARY KEY, x TEXT);\n'
	expect 5 "*0001_a was modified after it was applied*" mig -d db up
}

@test "catalogue: several heads and no target" {
	project
	rev 0003_c $'-- mig:parents 0001_a\n-- mig:up\nSELECT 1;\n'
	expect 5 "*2 heads: 0002_b, 0003_c*" mig -d db up
}

@test "catalogue: a pending revision older than applied ones" {
	project
	rev 0003_c $'-- mig:up\nSELECT 1;\n'
	mig -d db up -q --no-backup
	# as a branch merged after its descendants were applied leaves it
	q db "DELETE FROM mig_revisions WHERE name = '0002_b'; DROP TABLE b"
	expect 5 "*0002_b is pending but revisions after it are applied*" mig -d db up
}

@test "catalogue: an irreversible revision" {
	project
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n'
	mig -d db up -q --no-backup
	expect 5 "*0002_b is irreversible*" mig -d db down
}

@test "catalogue: backup -o the database itself" {
	sqlite_only
	project
	expect 5 "*db*" mig -d db backup -o db
}

@test "catalogue: backup -o the database by another path" {
	sqlite_only
	project
	expect 5 "*db*" mig -d db backup -o "$PWD/./db"
}

@test "catalogue: backup -o the database's journal" {
	sqlite_only
	project
	expect 5 "*db-journal*" mig -d db backup -o db-journal
}

@test "catalogue: backup -o the database's WAL" {
	sqlite_only
	project
	expect 5 "*db-wal*" mig -d db backup -o db-wal
}

@test "catalogue: backup -o into the store" {
	project
	expect 5 "*db.mig*" mig -d db backup -o db.mig/image.gz
}

@test "catalogue: a parent whose name -- mig:parents cannot hold" {
	project
	rev $'0003_c\td' $'-- mig:up\nSELECT 1;\n'
	rm migrations/0002_b.sql
	expect 5 "*cannot name*as a parent*" mig -d db new e
}

# --- the environment: exit 6

@test "catalogue: a database that is a directory" {
	sqlite_only
	project
	mkdir dir.db
	expect 6 "*database 'dir.db' is a directory, not a regular file*" mig -d dir.db up
}

@test "catalogue: a database that is a FIFO" {
	project
	mkfifo fifo.db
	expect 6 "*'fifo.db' is a FIFO*" timeout 10 mig -d fifo.db up
}

@test "catalogue: a mig.conf that is a FIFO" {
	project
	mkfifo mig.conf
	expect 6 "*mig.conf*FIFO*" timeout 10 mig status
}

@test "catalogue: a mig.conf that is binary" {
	project
	printf '[mig]\n\tdatabase = db\n\001\002\377\n' >mig.conf
	expect 6 "*mig.conf*" mig status
}

@test "catalogue: a database that is not a database" {
	sqlite_only
	project
	head -c 4096 /dev/urandom >junk.db
	expect 6 "*junk.db*" mig -d junk.db up
}

@test "catalogue: a database with someone else's mig_revisions" {
	sqlite_only
	project
	q other.db 'CREATE TABLE mig_revisions(x INT)'
	expect 6 "mig-up: error: database 'other.db' has a table 'mig_revisions' that is not mig's bookkeeping" mig -d other.db up
	expect 6 "mig-status: error: database 'other.db' has a table 'mig_revisions' that is not mig's bookkeeping" mig -d other.db status
}

@test "catalogue: a database from a newer mig" {
	project
	q db "INSERT INTO mig_revisions (scope, name, id, applied_at, duration_ms) VALUES ('mig', '0099_future', 'x', 'now', 0)"
	expect 6 "*bookkeeping from a newer mig*0099_future*" mig -d db up
}

@test "catalogue: a journal ref that points at nothing stops a writer" {
	project
	echo 0123456789012345678901234567890123456789 >db.mig/refs/mig/journal
	expect 6 "*journal*0123456789*" mig -d db up
}

@test "catalogue: a journal ref that points at nothing fails log" {
	project
	echo 0123456789012345678901234567890123456789 >db.mig/refs/mig/journal
	expect 6 "*journal*" mig -d db log
}

@test "catalogue: a store that is a file" {
	project
	printf 'x' >other.db.mig
	q other.db 'CREATE TABLE t(x INT)'
	expect 6 "*other.db.mig*" mig -d other.db up
}

@test "catalogue: a database in a directory that does not exist" {
	sqlite_only
	project
	expect 6 "*cannot create database 'no/such/db'*" mig -d no/such/db up
}

@test "catalogue: another run holds the lock" {
	project
	hold_lock db.mig/mig.lock 5
	expect 6 "*lock*" mig -d db up --lock-timeout 100
	kill "$holder" || true
}

@test "catalogue: another program holds the database" {
	sqlite_only
	project
	python3 -c '
import sqlite3, time, sys
c = sqlite3.connect("db", isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
sys.stdout.write("held\n"); sys.stdout.flush()
time.sleep(5)
' >held &
	for _ in $(seq 50); do [ -s held ] && break; sleep 0.1; done
	expect 6 "*database 'db' is locked*" mig -d db up --lock-timeout 100
	kill %1 || true
	wait || true
}

@test "catalogue: restore without any snapshot" {
	project
	q other.db 'CREATE TABLE t(x INT)'
	expect 6 "*no snapshot in store*" mig -d other.db --store db2.mig restore
}

@test "catalogue: restore from something that is not gzip" {
	sqlite_only
	project
	head -c 1000 /dev/urandom >junk.gz
	expect 6 "*junk.gz*" mig -d db restore -i junk.gz
}

@test "catalogue: restore from a gzip cut short" {
	sqlite_only
	project
	mig -d db backup -q -o full.gz >/dev/null
	head -c 300 full.gz >short.gz
	expect 6 "*short.gz*" mig -d db restore -i short.gz
}

@test "catalogue: restore from a gzip of something that is not a database" {
	sqlite_only
	project
	head -c 5000 /dev/urandom | gzip >notdb.gz
	expect 6 "*notdb.gz*" mig -d db restore -i notdb.gz
}

@test "catalogue: down when the store lost the body" {
	project
	# a store that never saw the body, as after a clone of the database alone
	git init -q --bare other.mig
	# and a file edited since, so that only the store has the body as applied
	echo "-- edited" >>migrations/0001_a.sql
	expect 6 "*revision body * is not in the store 'other.mig'" mig -d db --store other.mig down --no-backup
	[[ "$stderr" == *"hint: to revert with migrations/0001_a.sql as it is now, use --from-files"* ]]
}

# --- a revision's SQL: exit 4, the database as it was

@test "catalogue: a syntax error" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\nCREAT TABLE c(x);\n'
	expect_sql "*0002_b.sql:3: near \"CREAT\": syntax error" mig -d db up --no-backup
}

@test "catalogue: no such table" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nINSERT INTO nope VALUES (1);\n'
	expect_sql "*0002_b.sql:2: no such table: nope" mig -d db up --no-backup
}

@test "catalogue: NOT NULL on existing rows" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nUPDATE a SET x = NULL WHERE id = 2;\n'
	expect_sql "*0002_b.sql:2: NOT NULL constraint failed: a.x" mig -d db up --no-backup
}

@test "catalogue: UNIQUE on existing rows" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nUPDATE a SET x = \'one\';\nCREATE UNIQUE INDEX ax ON a(x);\n'
	expect_sql "*0002_b.sql:3: UNIQUE constraint failed: a.x" mig -d db up --no-backup
}

@test "catalogue: a CHECK the rows break" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nCREATE TABLE c(n INTEGER CHECK (n > 0));\nINSERT INTO c VALUES (0);\n'
	expect_sql "*0002_b.sql:3: CHECK constraint failed*" mig -d db up --no-backup
}

@test "catalogue: a foreign key the rows break" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nCREATE TABLE c(a_id INTEGER REFERENCES a(id));\nINSERT INTO c VALUES (9);\n'
	expect_sql "*0002_b.sql: FOREIGN KEY constraint failed: 1 row violates it" mig -d db up --no-backup
}

@test "catalogue: COMMIT in a revision" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nDELETE FROM a;\nCOMMIT;\n'
	expect_sql "*0002_b.sql:3: COMMIT: a revision may not end or begin a transaction*" mig -d db up --no-backup
}

@test "catalogue: COMMIT in a revision under --dry-run" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nDELETE FROM a;\nCOMMIT;\n'
	expect 4 "*0002_b.sql:3: COMMIT: a revision may not end or begin a transaction*" mig -d db up --dry-run
}

@test "catalogue: SAVEPOINT in a revision" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nSAVEPOINT s;\n'
	expect_sql "*0002_b.sql:2: SAVEPOINT: a revision may not*" mig -d db up --no-backup
}

@test "catalogue: a revision that drops the bookkeeping" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nDROP TABLE mig_revisions;\n'
	expect_sql "*0002_b.sql:2: mig_revisions is mig's bookkeeping*" mig -d db up --no-backup
}

@test "catalogue: a down section that fails" {
	sqlite_only
	project
	rev 0001_a $'-- mig:up\nCREATE TABLE a(id INTEGER PRIMARY KEY, x TEXT NOT NULL);\nINSERT INTO a(id, x) VALUES (1, \'one\'), (2, \'two\');\n-- mig:down\nDROP TABLE nope;\n'
	mig -d db fake -q --rehash 0001_a
	expect_sql "*0001_a.sql:5: no such table: nope" mig -d db down --no-backup
}

@test "catalogue: the sqlshow of a revision that fails" {
	sqlite_only
	project
	rev 0002_b $'-- mig:up\nCOMMIT;\n'
	expect 4 "*0002_b*COMMIT*" mig -d db sqlshow --schema
}
