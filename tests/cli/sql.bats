#!/usr/bin/env bats
# The database side at its edges: foreign keys broken in more than one
# table, schemas compared with quoted names and strings, and a dry run
# that cannot get its write transaction.
load helper

@test "foreign keys broken in two tables: the count of all, a sample of five from the first" {
	rev 0001_p $'-- mig:up\nCREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER);\nCREATE TABLE d(id INTEGER PRIMARY KEY, p INTEGER);\n'
	mig -d app.db up -q
	sqlite3 app.db "INSERT INTO c(p) VALUES (1), (2), (3), (4), (5), (6), (7); INSERT INTO d(p) VALUES (8), (9)"
	rev 0002_fk $'-- mig:up\nCREATE TABLE c2(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p);\nINSERT INTO c2 SELECT * FROM c;\nCREATE TABLE d2(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p);\nINSERT INTO d2 SELECT * FROM d;\n'
	before=$(sqlite3 app.db .dump)
	run -4 mig -d app.db up --no-backup
	[ "$(sqlite3 app.db .dump)" = "$before" ]
	has "mig-up: error: 0002_fk: migrations/0002_fk.sql: FOREIGN KEY constraint failed: 9 rows violate it"
	# SQLite reports d2 first: its two rows, then the other table's seven
	has "hint: rows in d2 point at missing rows of p (rowid 1, 2)"
	has "hint: and 7 rows in other tables"
	sqlite3 app.db "DELETE FROM d"
	run -4 mig -d app.db up --no-backup
	has "hint: rows in c2 point at missing rows of p (rowid 1, 2, 3, 4, 5, ...)"
	run ! grep -q "other tables" <<<"$output"
}

@test "quoted names and strings keep their blanks when schemas are compared; blanks outside them do not count" {
	rev 0001_t $'-- mig:up\nCREATE TABLE "my  t" (\n  "a  b" TEXT DEFAULT \'x  y\',\n  [c  d] INT,\n  `e  f` INT\n);\n'
	mig -d app.db up -q
	run -0 mig -d app.db status --check
	sqlite3 app.db "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE \"my  t\" (\"a  b\" TEXT DEFAULT ''x  y'', [c  d] INT, \`e  f\` INT)' WHERE name = 'my  t'"
	run -0 mig -d app.db status --check
	sqlite3 app.db "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE \"my  t\" (\"a  b\" TEXT DEFAULT ''x y'', [c  d] INT, \`e  f\` INT)' WHERE name = 'my  t'"
	run -1 mig -d app.db status --check
	[[ "$output" == *"the schema differs from the one recorded after 0001_t"* ]]
}

@test "a dry run waits for a writer to finish, then exits 6 and changes nothing" {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x);\n'
	rev 0002_u $'-- mig:up\nCREATE TABLE u(x);\n'
	mig -d app.db up -q 0001
	sum=$(cksum <app.db)
	# a writer that has begun: readers may read, no one else may write
	run -0 python3 - app.db "$(command -v mig)" <<'PY'
import sqlite3, subprocess, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
r = subprocess.run([sys.argv[2], "-d", sys.argv[1], "up", "--dry-run", "--lock-timeout", "100"],
                   capture_output=True, text=True, timeout=30)
c.execute("ROLLBACK")
print(r.returncode)
print(r.stderr, end="")
PY
	[ "${lines[0]}" = 6 ]
	[ "${lines[1]}" = "mig-up: error: database 'app.db' is locked by another process: it stayed locked for 100 ms" ]
	[ "$(cksum <app.db)" = "$sum" ]
}
