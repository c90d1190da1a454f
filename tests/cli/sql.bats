#!/usr/bin/env bats
# The database side at its edges: foreign keys broken in more than one
# table, schemas compared with quoted names and strings, and a dry run
# that cannot get its write transaction.
# backend: sqlite (SQLite's foreign-key hints and schema text; pg.bats has PostgreSQL's)
load helper

@test "foreign keys broken in two tables: the count of all, a sample of five from the first" {
	rev 0001_p $'-- mig:up\nCREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER);\nCREATE TABLE d(id INTEGER PRIMARY KEY, p INTEGER);\n'
	mig -d app.db up -q
	q app.db "INSERT INTO c(p) VALUES (1), (2), (3), (4), (5), (6), (7); INSERT INTO d(p) VALUES (8), (9)"
	rev 0002_fk $'-- mig:up\nCREATE TABLE c2(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p);\nINSERT INTO c2 SELECT * FROM c;\nCREATE TABLE d2(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p);\nINSERT INTO d2 SELECT * FROM d;\n'
	before=$(q app.db .dump)
	run -4 mig -d app.db up --no-backup
	[ "$(q app.db .dump)" = "$before" ]
	has "mig-up: error: 0002_fk: migrations/0002_fk.sql: FOREIGN KEY constraint failed: 9 rows violate it"
	# SQLite reports d2 first: its two rows, then the other table's seven
	has "hint: d2 rows 1, 2 refer to p that do not exist (p.id 8, 9)"
	has "hint: and 7 rows in other tables"
	q app.db "DELETE FROM d"
	run -4 mig -d app.db up --no-backup
	has "hint: c2 rows 1, 2, 3, 4, 5, ... refer to p that do not exist (p.id 1, 2, 3, 4, 5, ...)"
	run ! grep -q "other tables" <<<"$output"
}

@test "the foreign-key hint names the child rows and the parent keys they lack, through the key that broke" {
	rev 0001_t $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\nCREATE TABLE tags(name TEXT PRIMARY KEY);\nCREATE TABLE posts(id INTEGER PRIMARY KEY, tag TEXT REFERENCES tags, author INTEGER REFERENCES users(id));\nINSERT INTO users VALUES (1);\nINSERT INTO tags VALUES (\'db\');\n'
	rev 0002_orphans $'-- mig:up\nINSERT INTO posts VALUES (2, \'db\', 7), (3, \'db\', 9), (4, \'db\', 7), (5, \'db\', 1);\n'
	run -4 mig -d app.db up --no-backup
	has "mig-up: error: 0002_orphans: migrations/0002_orphans.sql: FOREIGN KEY constraint failed: 3 rows violate it"
	# the children by rowid, the missing users by the column the key names, each once
	has "hint: posts rows 2, 3, 4 refer to users that do not exist (users.id 7, 9)"
	[ "$(q app.db 'SELECT count(*) FROM posts')" = 0 ]
	rev 0002_orphans $'-- mig:up\nINSERT INTO posts VALUES (6, \'nosql\', 1);\n'
	run -4 mig -d app.db up --no-backup
	has "hint: posts row 6 refers to tags that do not exist (tags.name 'nosql')"
	rev 0002_orphans $'-- mig:up\nCREATE TABLE pairs(a, b, PRIMARY KEY (a, b));\nCREATE TABLE links(x, y, FOREIGN KEY (x, y) REFERENCES pairs(a, b));\nINSERT INTO links VALUES (1, \'u\');\n'
	run -4 mig -d app.db up --no-backup
	has "hint: links row 1 refers to pairs that do not exist (pairs(a, b) (1, 'u'))"
}

@test "the foreign-key hint counts a table's rows broken through its other keys, and names no rowid a table lacks" {
	rev 0001_p $'-- mig:up\nCREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE q(id INTEGER PRIMARY KEY);\n'
	mig -d app.db up -q
	before=$(q app.db .dump)
	rev 0002_c $'-- mig:up\nCREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p, q INTEGER REFERENCES q);\nINSERT INTO c VALUES (1, 5, 6);\n'
	run -4 --separate-stderr mig -d app.db up --no-backup
	[ "${stderr_lines[1]}" = "mig-up: error: 0002_c: migrations/0002_c.sql: FOREIGN KEY constraint failed: 2 rows violate it" ]
	[ "${stderr_lines[2]}" = "hint: c row 1 refers to q that do not exist (q.id 6)" ]
	[ "${stderr_lines[3]}" = "hint: and 1 row of c through other foreign keys" ]
	[ "$(q app.db .dump)" = "$before" ]
	# a table WITHOUT ROWID has no rowids: its rows are named by primary key
	rev 0002_c $'-- mig:up\nCREATE TABLE w(k TEXT PRIMARY KEY, p INTEGER REFERENCES p) WITHOUT ROWID;\nINSERT INTO w VALUES (\'a\', 9), (\'b\', 9), (\'c\', NULL);\n'
	run -4 --separate-stderr mig -d app.db up --no-backup
	[ "${stderr_lines[1]}" = "mig-up: error: 0002_c: migrations/0002_c.sql: FOREIGN KEY constraint failed: 2 rows violate it" ]
	[ "${stderr_lines[2]}" = "hint: w rows with k 'a', 'b' refer to p that do not exist (p.id 9)" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "$(q app.db .dump)" = "$before" ]
	rev 0002_c $'-- mig:up\nCREATE TABLE w("a b" INT, b TEXT, p INT, PRIMARY KEY (b, "a b"), FOREIGN KEY (p) REFERENCES q) WITHOUT ROWID;\nINSERT INTO w VALUES (1, \'it\'\'s\', 3), (2, \'x\', 4), (3, \'y\', 3);\n'
	run -4 --separate-stderr mig -d app.db up --no-backup
	[ "${stderr_lines[2]}" = "hint: w rows with (b, a b) ('it''s', 1), ('x', 2), ('y', 3) refer to q that do not exist (q.id 3, 4)" ]
	[ "$(q app.db .dump)" = "$before" ]
	rev 0002_c $'-- mig:up\nCREATE TABLE w(k TEXT PRIMARY KEY, p INTEGER REFERENCES p) WITHOUT ROWID;\nINSERT INTO w VALUES (\'a\', 9);\nCREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p);\nINSERT INTO c VALUES (1, 5);\n'
	run -4 --separate-stderr mig -d app.db up --no-backup
	[ "${stderr_lines[2]}" = "hint: c row 1 refers to p that do not exist (p.id 5)" ]
	[ "${stderr_lines[3]}" = "hint: and 1 row in other tables" ]
	[ "$(q app.db .dump)" = "$before" ]
}

@test "quoted names and strings keep their blanks when schemas are compared; blanks outside them do not count" {
	rev 0001_t $'-- mig:up\nCREATE TABLE "my  t" (\n  "a  b" TEXT DEFAULT \'x  y\',\n  [c  d] INT,\n  `e  f` INT\n);\n'
	mig -d app.db up -q
	run -0 mig -d app.db status --check
	q app.db "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE \"my  t\" (\"a  b\" TEXT DEFAULT ''x  y'', [c  d] INT, \`e  f\` INT)' WHERE name = 'my  t'"
	run -0 mig -d app.db status --check
	q app.db "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE \"my  t\" (\"a  b\" TEXT DEFAULT ''x y'', [c  d] INT, \`e  f\` INT)' WHERE name = 'my  t'"
	run -1 mig -d app.db status --check
	[[ "$output" == *"the schema differs from the one recorded after 0001_t"* ]]
}

@test "a dry run waits for a writer to finish, then exits 6 and changes nothing" {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT);\n'
	rev 0002_u $'-- mig:up\nCREATE TABLE u(x INT);\n'
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
