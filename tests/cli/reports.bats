#!/usr/bin/env bats
# What status and sqlshow report when things are not simple: problems in
# --json, colour on a terminal, drift both ways or without a store, the
# names completion is offered, and sqlshow's scripts and refusals.
load helper

roots() {
	rev 0001_a $'-- mig:parents\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:parents\nCREATE TABLE b(x INT);\n'
	rev $'0003_c\tx' $'-- mig:parents\nCREATE TABLE c(x INT);\n'
	rev 0004_gone $'-- mig:parents\nCREATE TABLE d(x INT);\n'
	mig -d app.db up -q heads
	echo '-- edited' >>migrations/0001_a.sql
	rm migrations/$'0003_c\tx.sql' migrations/0004_gone.sql
}

@test "status --json lists every problem, and applied revisions whose files are gone" {
	roots
	run -0 mig -d app.db status --json
	run -0 python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(" ".join(d["current"]))
print(" ".join("%s:%s" % (r["name"], r["state"]) for r in d["revisions"]))
print(" ".join(p["kind"] for p in d["problems"]))
print([p["detail"] for p in d["problems"] if p["kind"] == "missing"][0])' "$output"
	[ "${lines[0]}" = "0001_a 0002_b" ]
	[ "${lines[1]}" = $'0001_a:modified 0002_b:applied 0003_c\tx:missing 0004_gone:missing' ]
	[ "${lines[2]}" = "modified missing missing multiple-heads" ]
	[ "${lines[3]}" = $'0003_c\tx is applied but its file is missing (applied id '"$(printf -- '-- mig:parents\nCREATE TABLE c(x INT);\n' | git hash-object --stdin | cut -c1-12))" ]
}

@test "completion is offered the files' names and the gone ones', but no name with a control character" {
	roots
	run -0 mig -d app.db status --list-revisions
	[ "$output" = $'0001_a\n0002_b\n0004_gone\nhead\nheads\nbase\ncurrent\n-1\n+1' ]
}

@test "status -v on a terminal colours applied green and modified red; NO_COLOR turns it off" {
	sqlite_only
	roots
	command -v script >/dev/null || skip "no script(1) for a terminal"
	run -0 script -qc 'mig -d app.db status -v' /dev/null
	has $'  \e[31m0001_a\e[m  '"$(git hash-object migrations/0001_a.sql | cut -c1-12)  migrations/0001_a.sql"$'\r'
	has $'  \e[32m0002_b\e[m  '"$(git hash-object migrations/0002_b.sql | cut -c1-12)  migrations/0002_b.sql"$'\r'
	NO_COLOR=1 run -0 script -qc 'mig -d app.db status -v' /dev/null
	[[ "$output" != *$'\e['* ]]
}

@test "drift -v shows what went as well as what came, and says when the store cannot tell" {
	sqlite_only
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT, y INT);\nCREATE INDEX t_x ON t(x);\n'
	mig -d app.db up -q
	q app.db 'DROP INDEX t_x; ALTER TABLE t ADD COLUMN z INT'
	run -0 mig -d app.db status -v
	has "    - index t_x: CREATE INDEX t_x ON t(x)"
	has "    - table t: CREATE TABLE t(x INT,y INT)"
	has "    + table t: CREATE TABLE t(x INT,y INT,z INT)"
	mv app.db.mig elsewhere
	run -0 mig -d app.db status -v
	has "    (the recorded schema is not in the store: no store)"
}

@test "sqlshow ends a last statement without a semicolon; one revision can be shown from the store" {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT)\n-- mig:down\nDROP TABLE t'
	run -0 mig -d app.db sqlshow --revision 0001_t
	[ "$output" = $'CREATE TABLE t(x INT)\n;' ]
	run -0 mig -d app.db sqlshow --revision 0001_t --down
	[ "$output" = $'DROP TABLE t\n;' ]
	mig -d app.db up -q
	rm migrations/0001_t.sql
	run -0 mig -d app.db sqlshow --revision 0001_t --down
	[ "$output" = $'DROP TABLE t\n;' ]
	run -2 mig -d app.db sqlshow --revision heads
	[ "$output" = "mig-sqlshow: error: 'heads' names no single revision" ]
}

@test "sqlshow names why it has no schema hash when the revisions do not replay" {
	sqlite_only
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT);\nNOT SQL;\n'
	run -0 --separate-stderr mig -d app.db sqlshow
	[ "${lines[-2]}" = '-- no schema hash: replaying the revisions failed: 0001_t:3: near "NOT": syntax error' ]
	[ "${lines[-1]}" = "COMMIT;" ]
}

@test "sqlshow --schema with several heads wants a target; 'heads' takes them all" {
	sqlite_only
	rev 0001_a $'-- mig:parents\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:parents\nCREATE TABLE b(x INT);\n'
	run -5 mig -d app.db sqlshow --schema
	[ "$output" = "mig-sqlshow: error: 2 heads: name a target, or 'heads'" ]
	run -0 mig -d app.db sqlshow --schema heads
	[ "$output" = $'CREATE TABLE a(x INT);\nCREATE TABLE b(x INT);' ]
	run -0 mig -d app.db sqlshow --schema 0002_b
	[ "$output" = "CREATE TABLE b(x INT);" ]
}
