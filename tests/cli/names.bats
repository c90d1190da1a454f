#!/usr/bin/env bats
# Names are bytes: whatever a file name holds reaches SQL, comments,
# porcelain, the journal and the terminal escaped for that place.
load helper

# keep: a table with a row that a dropped table would lose
keep() {
	rev 0001_keep $'-- mig:up\nCREATE TABLE keep(x INT);\nINSERT INTO keep VALUES (1);\n-- mig:down\nDROP TABLE keep;\n'
}

# the bookkeeping a run leaves, but for when it ran and for how long
bookkeeping() {
	q "$1" "SELECT scope, hex(name), id, schema_hash, dirty FROM mig_revisions ORDER BY seq"
}

@test "sqlshow: a newline in a name cannot end the comment and run as SQL" {
	keep
	name=$'0002_x\nDROP TABLE keep;'
	rev "$name" $'-- mig:up\nCREATE TABLE t(y INT);\n-- mig:down\nDROP TABLE t;\n'
	mig -d a.db up -q 0001
	mig -d b.db up -q 0001
	run -0 mig -d a.db sqlshow
	has '-- up 0002_x\nDROP TABLE keep; (migrations/0002_x\nDROP TABLE keep;.sql)'
	mig -d a.db sqlshow | q a.db
	[ "$(q a.db 'SELECT x FROM keep')" = 1 ]
	[ "$(q a.db "SELECT name FROM mig_revisions WHERE seq = (SELECT max(seq) FROM mig_revisions)")" = "$name" ]
	mig -d b.db up -q
	[ "$(bookkeeping a.db)" = "$(bookkeeping b.db)" ]
	run -0 mig -d a.db status --check
}

@test "sqlshow: quotes, backslashes, control and non-UTF-8 bytes reach SQL as they are" {
	sqlite_only
	keep
	name=$'0002_it\'s \\ \t\e[31m\xff\''
	rev "$name" $'-- mig:up\nCREATE TABLE t(y INT);\n-- mig:down\nDROP TABLE t;\n'
	rev $'0003_no\ntx' $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE u(y INT);\n-- mig:down\nDROP TABLE u;\n'
	run -0 mig -d a.db sqlshow
	# bytes that are not UTF-8 stay as they are, as in porcelain
	has $'-- up 0002_it\'s \\\\ \\t\\x1b[31m\xff\' (migrations/0002_it\'s \\\\ \\t\\x1b[31m\xff\'.sql)'
	has '-- up 0003_no\ntx (migrations/0003_no\ntx.sql)'
	mig -d a.db sqlshow | q a.db
	mig -d b.db up -q
	[ "$(bookkeeping a.db)" = "$(bookkeeping b.db)" ]
	run -0 mig -d a.db status --check
	# and back down, by the same names
	mig -d a.db sqlshow --down base --from-files | q a.db
	[ "$(q a.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 0 ]
	[ "$(q a.db "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name" | paste -sd ' ')" = "mig_journal mig_revisions" ]
}

# three revisions whose names hold a tab, a newline, an escape sequence and a backslash
odd_names() {
	rev $'0001_a\tb' $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev $'0002_c\nd' $'-- mig:up\nCREATE TABLE c(x INT);\n-- mig:down\nDROP TABLE c;\n'
	rev $'0003_e\e[2Jf\\g' $'-- mig:up\nCREATE TABLE e(x INT);\n-- mig:down\nDROP TABLE e;\n'
}

@test "status --porcelain: tabs, newlines and backslashes in names are escaped, one record a line" {
	sqlite_only
	odd_names
	a=$(git hash-object migrations/$'0001_a\tb.sql')
	c=$(git hash-object migrations/$'0002_c\nd.sql')
	e=$(git hash-object migrations/$'0003_e\e[2Jf\\g.sql')
	mig -d app.db up -q 0001
	run -0 --separate-stderr mig -d app.db status --porcelain
	[ "$output" = "database	app.db	exists
migrations	migrations
current	0001_a\\tb
revision	applied	0001_a\\tb	$a	migrations/0001_a\\tb.sql
revision	pending	0002_c\\nd	$c	migrations/0002_c\\nd.sql
revision	pending	0003_e\\x1b[2Jf\\\\g	$e	migrations/0003_e\\x1b[2Jf\\\\g.sql
head	0003_e\\x1b[2Jf\\\\g" ]
	[ "$stderr" = "" ]
}

@test "status: control characters in names never reach the terminal raw" {
	sqlite_only
	odd_names
	a=$(git hash-object migrations/$'0001_a\tb.sql')
	mig -d app.db up -q 0001
	run -0 mig -d app.db status -v
	[ "$output" = "database: app.db
migrations: migrations (3 revisions)
current: 0001_a\\tb
applied: 1 of 3
  0001_a\\tb  ${a:0:12}  migrations/0001_a\\tb.sql
pending: 2
  0002_c\\nd  $(git hash-object migrations/$'0002_c\nd.sql' | cut -c1-12)  migrations/0002_c\\nd.sql
  0003_e\\x1b[2Jf\\g  $(git hash-object migrations/$'0003_e\e[2Jf\\g.sql' | cut -c1-12)  migrations/0003_e\\x1b[2Jf\\g.sql
head: 0003_e\\x1b[2Jf\\g" ]
	# a problem's detail names the revision too
	printf -- '-- edited\n' >>migrations/$'0001_a\tb.sql'
	run -0 mig -d app.db status
	has "  0001_a\\tb was modified after it was applied (applied ${a:0:12}, file $(git hash-object migrations/$'0001_a\tb.sql' | cut -c1-12))"
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\t'* ]]
}

@test "status: bytes that are not UTF-8 are escaped for a terminal, and listed as they are in porcelain" {
	rev $'0001_caf\xe9' 'SELECT 1;'
	run -0 mig -d app.db status
	has 'head: 0001_caf\xe9'
	run -0 mig -d app.db status --porcelain
	has $'head\t0001_caf\xe9'
}

@test "status --json: names are JSON strings, control characters as escapes" {
	odd_names
	# DEL, and U+009B: a C1 control some terminals obey
	rev $'0004_g\x7f\xc2\x9bh' $'-- mig:up\nCREATE TABLE g(x INT);\n'
	mig -d app.db up -q
	run -0 --separate-stderr mig -d app.db status --json
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\x7f'* ]]
	[[ "$output" != *$'\xc2\x9b'* ]]
	[[ "$output" == *'"current":["0004_g\u007f\u009bh"]'* ]]
	python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [r["name"] for r in d["revisions"]] == ["0001_a\tb", "0002_c\nd", "0003_e\x1b[2Jf\\g", "0004_g\x7f\x9bh"], d
' <<<"$output"
}

@test "log: the journal keeps a name with a newline, and shows names escaped in every format" {
	odd_names
	mig -d app.db up -q
	mig -d app.db down -q 0001
	up=$(git --git-dir=app.db.mig rev-parse HEAD~1)
	down=$(git --git-dir=app.db.mig rev-parse HEAD)
	a=$(git hash-object migrations/$'0001_a\tb.sql')
	c=$(git hash-object migrations/$'0002_c\nd.sql')
	e=$(git hash-object migrations/$'0003_e\e[2Jf\\g.sql')
	# the journal's own lines: one a revision, subject and all
	run -0 git --git-dir=app.db.mig log -1 --format=%B "$up"
	[ "${lines[0]}" = 'up 0001_a\tb..0003_e\x1b[2Jf\g (3 revisions)' ]
	[[ "${lines[2]}" == "revision $a 0001_a\\tb "*ms ]]
	[[ "${lines[3]}" == "revision $c 0002_c\\nd "*ms ]]
	[[ "${lines[4]}" == "revision $e 0003_e\\x1b[2Jf\\\\g "*ms ]]
	# the snapshot before down lists the applied revisions the same way
	run -0 git --git-dir=app.db.mig log -1 --format=%B "$(git --git-dir=app.db.mig for-each-ref --format='%(objectname)' refs/mig/snapshots/)"
	has "revision $c 0002_c\\nd"
	run -0 --separate-stderr mig -d app.db log --porcelain
	[ "${#lines[@]}" = 8 ]
	[[ "${lines[0]}" == "entry	$down	"*"	down	ok	"*"	2" ]]
	[[ "${lines[1]}" == "revision	$down	0003_e\\x1b[2Jf\\\\g	$e	"[0-9]* ]]
	[[ "${lines[2]}" == "revision	$down	0002_c\\nd	$c	"[0-9]* ]]
	[[ "${lines[5]}" == "revision	$up	0001_a\\tb	$a	"[0-9]* ]]
	run -0 --separate-stderr mig -d app.db log -v
	[[ "${lines[0]}" == "${down:0:12} "*" ok: down 0003_e\\x1b[2Jf\\g..0002_c\\nd (2 revisions) ("*")" ]]
	[[ "${lines[1]}" == "    0003_e\\x1b[2Jf\\g  ${e:0:12}  "*ms ]]
	[[ "${lines[2]}" == "    0002_c\\nd  ${c:0:12}  "*ms ]]
	[[ "$output" != *$'\e'* ]]
	run -0 --separate-stderr mig -d app.db log --json
	python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [r["name"] for e in d for r in e["revisions"]] == ["0003_e\x1b[2Jf\\g", "0002_c\nd", "0001_a\tb", "0002_c\nd", "0003_e\x1b[2Jf\\g"], d
' <<<"$output"
}

@test "log: a journal written before names were escaped reads as it did" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	mig -d app.db up -q
	# what an older mig wrote: the name raw; a subject of two lines (not a fact)
	msg=$'up 0001_a\e[2J\nresult failed\n\noperation up\nrevision 1234 0001_a\e[2J 5ms\nrevision 5678 0002 b 6ms\nresult ok\n'
	tree=$(git --git-dir=app.db.mig hash-object -t tree /dev/null -w)
	c=$(git --git-dir=app.db.mig commit-tree "$tree" -p refs/mig/journal <<<"$msg")
	git --git-dir=app.db.mig update-ref refs/mig/journal "$c"
	run -0 --separate-stderr mig -d app.db log -n 1 -v
	[[ "${lines[0]}" == "${c:0:12} "*" ok: up 0001_a\\x1b[2J result failed ("*")" ]]
	[ "${lines[1]}" = '    0001_a\x1b[2J  1234  5ms' ]
	[ "${lines[2]}" = '    0002 b  5678  6ms' ]
	run -0 --separate-stderr mig -d app.db log -n 1 --porcelain
	[ "${lines[1]}" = "revision	$c	0001_a\\x1b[2J	1234	5" ]
	[ "${lines[2]}" = "revision	$c	0002 b	5678	6" ]
}

@test "errors: a name in a message reaches stderr escaped, on one line" {
	odd_names
	run -2 mig -d app.db up 000
	[ "$output" = 'mig-up: error: revision '\''000'\'' is ambiguous: 0001_a\tb, 0002_c\nd, 0003_e\x1b[2Jf\g' ]
	run -2 mig -d app.db up $'nosuch\e[2J'
	[ "${lines[0]}" = 'mig-up: error: unknown revision '\''nosuch\x1b[2J'\''' ]
	# a hint names one too
	run -2 mig -d app.db up 0003_e_2Jf_g
	[ "$output" = 'mig-up: error: unknown revision '\''0003_e_2Jf_g'\''
hint: did you mean '\''0003_e\x1b[2Jf\g'\''?' ]
	run -2 mig -d app.db status $'--bogus\e[2J'
	[ "${lines[0]}" = 'mig-status: error: unknown option '\''--bogus\x1b[2J'\''' ]
	rev $'0004_h\e]0;owned\a' $'-- mig:bogus\n'
	run -3 mig -d app.db status
	[ "$output" = 'mig-status: error: migrations/0004_h\x1b]0;owned\x07.sql:1: unknown directive '\''-- mig:bogus'\''
hint: the directives are up, down, parents and no-transaction' ]
	[ ! -e app.db ]
}

@test "up, down and fake: progress names revisions escaped" {
	odd_names
	run -0 --separate-stderr mig -d app.db up
	[ "$output" = "" ]
	[ "$stderr" = 'applying 0001_a\tb
applying 0002_c\nd
applying 0003_e\x1b[2Jf\g' ]
	run -0 --separate-stderr mig -d app.db down --no-backup 0001
	[ "$stderr" = 'reverting 0003_e\x1b[2Jf\g
reverting 0002_c\nd' ]
	run -0 --separate-stderr mig -d app.db fake head
	[ "$stderr" = 'recording as applied: 0002_c\nd
recording as applied: 0003_e\x1b[2Jf\g' ]
	run -0 --separate-stderr mig -d app.db fake --rehash $'0003_e\e[2Jf\\g'
	[ "$stderr" = 'mig-fake: 0003_e\x1b[2Jf\g is unchanged since it was applied' ]
}

@test "new and merge refuse a parent whose name '-- mig:parents' cannot hold" {
	rev 0001_a $'-- mig:parents\n-- mig:up\nCREATE TABLE keep(x INT);\n'
	rev $'0002_c\nDROP TABLE keep;' $'-- mig:parents\n-- mig:up\nCREATE TABLE c(x INT);\n'
	before=$(ls migrations)
	run -5 mig -d app.db merge
	[ "$output" = "mig-merge: error: cannot name '0002_c\\nDROP TABLE keep;' as a parent: '-- mig:parents' cannot hold a blank or a control character
hint: rename its file, or write the new revision by hand" ]
	run -5 mig -d app.db new x
	[ "${lines[0]}" = "mig-new: error: cannot name '0002_c\\nDROP TABLE keep;' as a parent: '-- mig:parents' cannot hold a blank or a control character" ]
	mv migrations/$'0002_c\nDROP TABLE keep;.sql' 'migrations/0002_c d.sql'
	run -5 mig -d app.db merge
	[ "${lines[0]}" = "mig-merge: error: cannot name '0002_c d' as a parent: '-- mig:parents' cannot hold a blank or a control character" ]
	[ "$(ls migrations)" = "0001_a.sql
0002_c d.sql" ]
	[ ! -e app.db ]
}

@test "completion is offered only the names a shell can offer" {
	odd_names
	rev '0004_plain' 'SELECT 1;'
	rev '0005_with blank' 'SELECT 1;'
	rev "0006_d$(printf '\177')el" 'SELECT 1;'
	run -0 --separate-stderr mig -d app.db status --list-revisions
	[ "$output" = "0004_plain
0005_with blank
head
heads
base
current
-1
+1" ]
}
