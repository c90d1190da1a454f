#!/usr/bin/env bats
# Names are bytes: whatever a file name holds reaches SQL, comments,
# porcelain, the journal and the terminal escaped for that place.
load helper

# keep: a table with a row that a dropped table would lose
keep() {
	rev 0001_keep $'-- mig:up\nCREATE TABLE keep(x);\nINSERT INTO keep VALUES (1);\n-- mig:down\nDROP TABLE keep;\n'
}

# the bookkeeping a run leaves, but for when it ran and for how long
bookkeeping() {
	sqlite3 "$1" "SELECT scope, hex(name), id, schema_hash, dirty FROM mig_revisions ORDER BY seq"
}

@test "sqlshow: a newline in a name cannot end the comment and run as SQL" {
	keep
	name=$'0002_x\nDROP TABLE keep;'
	rev "$name" $'-- mig:up\nCREATE TABLE t(y);\n-- mig:down\nDROP TABLE t;\n'
	mig -d a.db up -q 0001
	mig -d b.db up -q 0001
	run -0 mig -d a.db sqlshow
	has '-- up 0002_x\nDROP TABLE keep; (migrations/0002_x\nDROP TABLE keep;.sql)'
	mig -d a.db sqlshow | sqlite3 a.db
	[ "$(sqlite3 a.db 'SELECT x FROM keep')" = 1 ]
	[ "$(sqlite3 a.db "SELECT name FROM mig_revisions WHERE seq = (SELECT max(seq) FROM mig_revisions)")" = "$name" ]
	mig -d b.db up -q
	[ "$(bookkeeping a.db)" = "$(bookkeeping b.db)" ]
	run -0 mig -d a.db status --check
}

@test "sqlshow: quotes, backslashes, control and non-UTF-8 bytes reach SQL as they are" {
	keep
	name=$'0002_it\'s \\ \t\e[31m\xff\''
	rev "$name" $'-- mig:up\nCREATE TABLE t(y);\n-- mig:down\nDROP TABLE t;\n'
	rev $'0003_no\ntx' $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE u(y);\n-- mig:down\nDROP TABLE u;\n'
	run -0 mig -d a.db sqlshow
	has "-- up 0002_it's \\\\ \\t\\x1b[31m\\xff' (migrations/0002_it's \\\\ \\t\\x1b[31m\\xff'.sql)"
	has '-- up 0003_no\ntx (migrations/0003_no\ntx.sql)'
	mig -d a.db sqlshow | sqlite3 a.db
	mig -d b.db up -q
	[ "$(bookkeeping a.db)" = "$(bookkeeping b.db)" ]
	run -0 mig -d a.db status --check
	# and back down, by the same names
	mig -d a.db sqlshow --down base --from-files | sqlite3 a.db
	[ "$(sqlite3 a.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 0 ]
	[ "$(sqlite3 a.db .tables)" = mig_revisions ]
}
