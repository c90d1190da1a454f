#!/usr/bin/env bats
# A failing revision names the rows to blame, and leaves nothing behind.
# backend: sqlite (SQLite's table rebuilds; pg.bats has PostgreSQL's failures)
load helper

setup_users() {
	rev 0001_users $'-- mig:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, age INTEGER);\n'
	mig -d app.db up -q
	q app.db "INSERT INTO users (email, age) VALUES ('a@x', 30), (NULL, 20), ('a@x', -1), (NULL, 5), ('b@y', 7), ('b@y', 8)"
	before=$(q app.db .dump)
}

rebuild() {
	rev 0002_rebuild "-- mig:up
CREATE TABLE users_new (
	id INTEGER PRIMARY KEY,
	$1
);
INSERT INTO users_new (id, email, age)
	SELECT id, email, age FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
"
}

@test "NOT NULL in a table rebuild names the rows of the old table" {
	setup_users
	rebuild $'email TEXT NOT NULL,\n\tage INTEGER'
	run -4 mig -d app.db up
	has "mig-up: error: 0002_rebuild: migrations/0002_rebuild.sql:7: NOT NULL constraint failed: users_new.email"
	has "hint: 2 rows of users would leave users_new.email NULL: rowid 2, 4; fix or delete them, then run again"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "UNIQUE in a table rebuild names the duplicated keys and their rows" {
	setup_users
	rebuild $'email TEXT UNIQUE,\n\tage INTEGER'
	run -4 mig -d app.db up
	has "hint: 2 values of users_new (email) are duplicated in users: 'a@x' (rowid 1, 3), 'b@y' (rowid 5, 6); fix or delete them, then run again"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "a named CHECK in a table rebuild is looked up and evaluated on the old rows" {
	setup_users
	rebuild $'email TEXT,\n\tage INTEGER CONSTRAINT age_positive CHECK (age > 0)'
	run -4 mig -d app.db up
	has "mig-up: error: 0002_rebuild: migrations/0002_rebuild.sql:7: CHECK constraint failed: age_positive"
	has "hint: 1 row of users fails CHECK (age > 0): rowid 3; fix or delete it, then run again"
}

@test "a quoted CHECK name is found past other named constraints; its body keeps nested parentheses and strings" {
	setup_users
	rebuild $'email TEXT CONSTRAINT email_unique UNIQUE,\n\tage INTEGER CONSTRAINT "age ok" CHECK ((age > 0) OR email = \')(\')'
	run -4 mig -d app.db up
	has "mig-up: error: 0002_rebuild: migrations/0002_rebuild.sql:7: CHECK constraint failed: age ok"
	has "hint: 1 row of users fails CHECK ((age > 0) OR email = ')('): rowid 3; fix or delete it, then run again"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "CREATE UNIQUE INDEX on duplicates names them; NULLs are no duplicates" {
	setup_users
	rev 0002_unique $'-- mig:up\nCREATE UNIQUE INDEX users_email ON users(email);\n'
	run -4 mig -d app.db up
	has "hint: 2 values of users (email) are duplicated in users: 'a@x' (rowid 1, 3), 'b@y' (rowid 5, 6); fix or delete them, then run again"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "a SELECT over a join still gets a count" {
	setup_users
	rev 0002_join $'-- mig:up\nCREATE TABLE u2 (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nINSERT INTO u2 SELECT DISTINCT a.id, a.email FROM users a JOIN users b ON a.id = b.id;\n'
	run -4 mig -d app.db up
	has "hint: 2 rows of users would leave u2.email NULL (its SELECT reads no single table, so no rowids)"
}

@test "a run killed with SIGKILL leaves no half-recorded revision and no stale lock" {
	rev 0001_t $'-- mig:up\nCREATE TABLE t(x INT);\n'
	# a revision slow enough to be killed in the middle of
	rev 0002_slow $'-- mig:up\nWITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) INSERT INTO t SELECT n FROM c;\n'
	mig -d app.db up -q 0001
	mig-up -d app.db &
	pid=$!
	sleep 1
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(q app.db "SELECT group_concat(name) FROM mig_revisions WHERE scope = 'app'")" = 0001_t ]
	[ "$(q app.db 'SELECT count(*) FROM t')" = 0 ]
	[ "$(q app.db 'PRAGMA integrity_check')" = ok ]
	run -0 mig -d app.db status --porcelain
	has "revision	pending	0002_slow	$(git hash-object migrations/0002_slow.sql)	migrations/0002_slow.sql"
	# the lock went with the process: the next run does not wait
	rev 0002_slow $'-- mig:up\nINSERT INTO t VALUES (1);\n'
	run -0 mig -d app.db up --lock-timeout 0
}
