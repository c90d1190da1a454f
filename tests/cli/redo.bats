#!/usr/bin/env bats
# mig redo: an edited revision reverted with its body as applied, and
# applied again from the files, with what depends on it.

load helper

chain() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT);\n-- mig:down\nDROP TABLE c;\n'
}

applied() {
	q app.db "SELECT name || '=' || substr(id, 1, 7) FROM mig_revisions WHERE scope = 'app' ORDER BY seq" | paste -sd ' '
}

id() {
	git hash-object "migrations/$1.sql" | cut -c1-7
}

@test "redo reverts an edited revision and what follows it with the bodies as applied, then applies the files" {
	sqlite_only
	chain
	mig -d app.db up -q
	q app.db 'INSERT INTO a VALUES (1)'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT, y INT);\n-- mig:down\nDROP TABLE b;\n'
	run -5 mig -d app.db up
	run -0 --separate-stderr mig -d app.db redo 0002
	[ "${stderr_lines[1]}" = "reverting 0003_c" ]
	[ "${stderr_lines[2]}" = "reverting 0002_b" ]
	[ "${stderr_lines[3]}" = "applying 0002_b" ]
	[ "${stderr_lines[4]}" = "applying 0003_c" ]
	[ "$(q app.db "SELECT sql FROM sqlite_schema WHERE name = 'b'")" = "CREATE TABLE b(x INT, y INT)" ]
	[ "$(q app.db 'SELECT x FROM a')" = 1 ]
	[ "$(applied)" = "0001_a=$(id 0001_a) 0002_b=$(id 0002_b) 0003_c=$(id 0003_c)" ]
	run -0 mig -d app.db status --check
	# one entry, one snapshot
	run -0 mig -d app.db log -v -n 1
	[[ "${lines[0]}" == *" ok: redo 0002_b (and 1 after it) "* ]]
	# the four steps, the reverts with the ids as applied, then the files'
	[ "$(grep -c '^    000' <<<"$output")" = 4 ]
	[[ "${lines[1]}" == "    0003_c  "* ]]
	[[ "${lines[4]}" == "    0003_c  $(git hash-object migrations/0003_c.sql | cut -c1-12)  "* ]]
	run -0 mig -d app.db backup --list --porcelain
	[ "${#lines[@]}" -eq 1 ]
}

@test "redo leaves revisions applied beside it on another branch" {
	rev 0001_root $'-- mig:parents\n-- mig:up\nCREATE TABLE r(x INT);\n-- mig:down\nDROP TABLE r;\n'
	rev 0002_a $'-- mig:parents 0001_root\n-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0003_b $'-- mig:parents 0001_root\n-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	mig -d app.db up -q heads
	q app.db 'INSERT INTO b VALUES (7)'
	run -0 --separate-stderr mig -d app.db redo 0002_a
	[ "${stderr_lines[1]}" = "reverting 0002_a" ]
	[ "${stderr_lines[2]}" = "applying 0002_a" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "$(q app.db 'SELECT x FROM b')" = 7 ]
}

@test "redo refuses what it cannot do (exit 2, 5) and changes nothing" {
	sqlite_only
	chain
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n'
	mig -d app.db up -q 0002
	before=$(q app.db .dump)
	log=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -2 mig -d app.db redo 0003_c
	[ "$output" = "mig-redo: error: 0003_c is not applied: there is nothing to redo" ]
	run -2 mig -d app.db redo
	[ "${lines[0]}" = "mig-redo: error: name the revision to redo" ]
	run -2 mig -d app.db redo 0001 0002
	[ "${lines[0]}" = "mig-redo: error: too many arguments" ]
	run -2 mig -d app.db redo nosuch
	[ "${lines[0]}" = "mig-redo: error: unknown revision 'nosuch'" ]
	run -2 mig -d app.db redo heads
	[ "$output" = "mig-redo: error: 'heads' names no single revision" ]
	# 0002_b was applied without a down section: it cannot be reverted, so nothing is
	run -5 mig -d app.db redo 0001
	[ "${lines[0]}" = "mig-redo: error: 0002_b is irreversible: it has no '-- mig:down' section" ]
	q app.db 'CREATE TABLE hotfix(x INT)'
	run -5 mig -d app.db redo 0002
	[ "${lines[0]}" = "mig-redo: error: the schema differs from the one recorded after 0002_b: table hotfix added" ]
	q app.db 'DROP TABLE hotfix'
	mv migrations/0002_b.sql elsewhere.sql
	run -2 mig -d app.db redo 0002_b
	[ "$output" = "mig-redo: error: 0002_b: its file is missing: there is nothing to apply again" ]
	[ "$(q app.db .dump)" = "$before" ]
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$log" ]
}

@test "redo refuses, exit 2, when a revision applied after it has lost its file: what depends on it is unknown" {
	chain
	mig -d app.db up -q
	before=$(q app.db .dump)
	log=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	mv migrations/0003_c.sql elsewhere.sql
	run -2 mig -d app.db redo 0001_a
	[ "${lines[0]}" = "mig-redo: error: 0001_a: 0003_c was applied after it and its file is missing, so whether it depends on 0001_a is unknown" ]
	[ "${lines[1]}" = "hint: put its file back, or revert it first with 'mig down'" ]
	[ "$(q app.db .dump)" = "$before" ]
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$log" ]
	# reverted (from the store), it is no matter
	run -0 mig -d app.db down -q 0002_b
	run -0 mig -d app.db redo -q 0001_a
	[ "$(applied)" = "0001_a=$(id 0001_a) 0002_b=$(id 0002_b)" ]
}

@test "a redo that fails half-way names the snapshot that undoes it" {
	chain
	mig -d app.db up -q
	q app.db 'INSERT INTO a VALUES (1)'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\nSELECT * FROM nope;\n-- mig:down\nDROP TABLE b;\n'
	run -4 mig -d app.db redo 0002
	id=$(git --git-dir=app.db.mig for-each-ref --format='%(refname:lstrip=3)' refs/mig/snapshots/ | head -1)
	has "hint: to go back to where this run started: mig restore ${id:0:12}"
	run -0 mig -d app.db log -n 1
	[[ "${lines[0]}" == *" failed: redo 0002_b (and 1 after it) "* ]]
	mig -d app.db restore -q "${id:0:12}"
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b', 'c')")" = 3 ]
}

@test "redo --dry-run changes nothing" {
	chain
	mig -d app.db up -q
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT, y INT);\n-- mig:down\nDROP TABLE c;\n'
	before=$(q app.db .dump)
	run -0 mig -d app.db redo -n 0003
	has "applying 0003_c (dry run)"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "redo refuses a dirty database (exit 5) and changes nothing" {
	chain
	mig -d app.db up -q
	q app.db "UPDATE mig_revisions SET dirty = 1 WHERE name = '0003_c'"
	before=$(q app.db .dump)
	run -5 mig -d app.db redo 0002
	[ "${lines[0]}" = "mig-redo: error: 0003_c did not finish: the database is dirty" ]
	[ "$(q app.db .dump)" = "$before" ]
}
