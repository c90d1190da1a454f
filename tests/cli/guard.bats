#!/usr/bin/env bats
# A revision runs inside mig's transaction and cannot get out of it:
# no COMMIT, ROLLBACK, END, BEGIN, SAVEPOINT or RELEASE, and no change to
# mig's bookkeeping, however spelled. Each refusal exits 4 and leaves the
# database as it was.
# backend: sqlite (SQLite's guards; pg.bats has PostgreSQL's)
load helper

base() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\nINSERT INTO a VALUES (1), (2);\n-- mig:down\nDROP TABLE a;\n'
	mig -d db up -q
	before=$(cksum <db)
}

# unchanged: the database's bytes and what it records are as before
unchanged() {
	[ "$(cksum <db)" = "$before" ]
	[ "$(q db "SELECT group_concat(name) FROM mig_revisions WHERE scope = 'app'")" = 0001_a ]
	[ "$(q db 'SELECT count(*) FROM a')" = 2 ]
}

@test "COMMIT in a revision under --dry-run: exit 4, the rows stay, nothing recorded" {
	base
	rev 0002_c $'-- mig:up\nDELETE FROM a;\nCOMMIT;\n'
	run -4 --separate-stderr mig -d db up --dry-run
	[ "${stderr_lines[1]}" = "mig-up: error: 0002_c: migrations/0002_c.sql:3: COMMIT: a revision may not end or begin a transaction: mig runs each in its own" ]
	[ "${stderr_lines[2]}" = "hint: to manage transactions yourself, mark the revision '-- mig:no-transaction'" ]
	unchanged
	run -0 mig -d db status --porcelain
	has $'revision\tpending\t0002_c\t'"$(git hash-object migrations/0002_c.sql)"$'\tmigrations/0002_c.sql'
}

@test "a table created before a COMMIT does not survive the refusal" {
	base
	rev 0002_c $'-- mig:up\nCREATE TABLE b(x INT); COMMIT; SELECT * FROM nope;\n'
	run -4 mig -d db up --no-backup
	[[ "$output" == *"0002_c.sql:2: COMMIT: a revision may not end or begin a transaction"* ]]
	unchanged
	[ "$(q db "SELECT count(*) FROM sqlite_schema WHERE name = 'b'")" = 0 ]
}

@test "every spelling of transaction control is refused before it runs" {
	base
	local sql
	for sql in 'END' 'end transaction' 'ROLLBACK' '/* x */ commit' 'BEGIN' 'BEGIN IMMEDIATE' \
		'SAVEPOINT s' 'RELEASE mig_revision' 'ROLLBACK TO mig_revision' 'DELETE FROM a; ROLLBACK; CREATE TABLE b(x INT)'; do
		rev 0002_c $'-- mig:up\n'"DELETE FROM a; $sql;"$'\n'
		run -4 mig -d db up --no-backup
		[[ "$output" == *": a revision may not end or begin a transaction: mig runs each in its own"* ]] || {
			echo "not refused: $sql" >&2
			false
		}
		unchanged
		run -4 mig -d db up --dry-run
		unchanged
	done
}

@test "a COMMIT in a later revision of a run: the earlier ones stay applied, the journal says failed" {
	base
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n'
	rev 0003_c $'-- mig:up\nINSERT INTO b VALUES (1); COMMIT;\n'
	run -4 mig -d db up --no-backup
	[ "$(q db "SELECT group_concat(name) FROM mig_revisions WHERE scope = 'app'")" = 0001_a,0002_b ]
	[ "$(q db 'SELECT count(*) FROM b')" = 0 ]
	run -0 git --git-dir=db.mig log -1 --format=%B
	has "result failed"
	has "revision $(git hash-object migrations/0003_c.sql) 0003_c 0ms"
}

@test "a revision that drops mig's bookkeeping: exit 4, journaled, no crash" {
	base
	rev 0002_x $'-- mig:up\nDROP TABLE mig_revisions;\n'
	run -4 --separate-stderr mig -d db up --no-backup
	[ "${stderr_lines[1]}" = "mig-up: error: 0002_x: migrations/0002_x.sql:2: mig_revisions is mig's bookkeeping: a revision may read it, not change it" ]
	[ "${stderr_lines[2]}" = "hint: to change what is recorded as applied, use 'mig fake'" ]
	unchanged
	run -0 mig -d db log --porcelain
	[[ "${lines[0]}" == *"	up	failed	"* ]]
}

@test "a down section that drops mig's bookkeeping is refused too" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\nINSERT INTO a VALUES (1), (2);\n-- mig:down\nDELETE FROM mig_revisions;\n'
	mig -d db up -q
	before=$(cksum <db)
	run -4 mig -d db down --no-backup
	[[ "$output" == *"0001_a.sql:5: mig_revisions is mig's bookkeeping"* ]]
	unchanged
}

@test "no way around the bookkeeping guard: temp shadows, triggers, renames" {
	base
	local sql
	for sql in 'CREATE TEMP TABLE Mig_Revisions(x)' 'CREATE TEMP VIEW mig_revisions AS SELECT 1' \
		'CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM mig_revisions; END; INSERT INTO a VALUES (3)' \
		'CREATE TRIGGER t BEFORE DELETE ON mig_revisions BEGIN SELECT 1; END' \
		'ALTER TABLE mig_revisions RENAME TO x' 'UPDATE "mig_revisions" SET dirty = 1' \
		'INSERT INTO main.mig_revisions(scope, name, id, applied_at, duration_ms) VALUES (1, 2, 3, 4, 5)' \
		'CREATE INDEX i ON mig_revisions(id)'; do
		rev 0002_x $'-- mig:up\n'"$sql;"$'\n'
		run -4 mig -d db up --no-backup
		[[ "$output" == *"mig_revisions is mig's bookkeeping"* ]] || {
			echo "not refused: $sql" >&2
			false
		}
		unchanged
	done
}

@test "a revision may read the bookkeeping" {
	base
	rev 0002_r $'-- mig:up\nCREATE TABLE seen AS SELECT name FROM mig_revisions WHERE scope = \'app\';\n'
	run -0 mig -d db up --no-backup
	[ "$(q db 'SELECT name FROM seen')" = 0001_a ]
}

@test "a no-transaction revision may run its own transactions" {
	base
	rev 0002_n $'-- mig:no-transaction\n-- mig:up\nBEGIN; INSERT INTO a VALUES (3); COMMIT;\nVACUUM;\n'
	run -0 mig -d db up --no-backup
	[ "$(q db 'SELECT count(*) FROM a')" = 3 ]
	[ "$(q db "SELECT dirty FROM mig_revisions WHERE name = '0002_n'")" = 0 ]
}

@test "sqlshow --schema refuses transaction control as up does" {
	base
	rev 0002_c $'-- mig:up\nCREATE TABLE b(x INT); COMMIT;\n'
	run -4 mig -d db sqlshow --schema
	[[ "$output" == *"0002_c.sql:2: COMMIT: a revision may not end or begin a transaction"* ]]
}

@test "a long revision runs: statements are prepared in place, not copied" {
	{
		printf -- '-- mig:up\nCREATE TABLE t(x INT);\n'
		seq 1 20000 | sed 's/.*/INSERT INTO t VALUES (&);/'
		printf 'SELECT * FROM nope;\n'
	} >migrations/0001_long.sql
	run -4 mig -d db up --no-backup
	[[ "$output" == *"migrations/0001_long.sql:20003: no such table: nope"* ]]
	[ "$(q db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 0 ]
}
