#!/usr/bin/env bats
# mig.schemaFile: the live schema written after every change, stable
# whatever order the revisions ran in, whole or not at all.
# backend: sqlite (SQLite's schema text; pg.bats has pg_dump's)
load helper

# a root and two branches off it, each with a table, an index and a trigger
branches() {
	rev 0001_users "-- mig:up
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
CREATE VIEW names AS SELECT name FROM users;
-- mig:down
DROP VIEW names;
DROP TABLE users;
"
	rev 0002_zeta "-- mig:parents 0001_users
-- mig:up
CREATE TABLE zeta(x INT);
CREATE INDEX zeta_x ON zeta(x);
-- mig:down
DROP TABLE zeta;
"
	rev 0003_alpha "-- mig:parents 0001_users
-- mig:up
CREATE TABLE alpha(y INT);
CREATE INDEX alpha_y ON alpha(y);
CREATE TRIGGER alpha_t AFTER INSERT ON alpha BEGIN SELECT 1; END;
-- mig:down
DROP TABLE alpha;
"
}

# the project's schema as SQLite keeps it, mig's own tables (and their automatic indexes) aside
objects() {
	q "$1" "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'mig\_%' ESCAPE '\' ORDER BY name"
}

@test "up and down write the live schema to mig.schemaFile: tables, views, then indexes and triggers by name" {
	branches
	mkdir db
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = db/schema.sql\n' >mig.conf
	run -0 mig up heads
	run -0 cat db/schema.sql
	[ "$output" = "CREATE TABLE alpha(y INT);
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE zeta(x INT);
CREATE VIEW names AS SELECT name FROM users;
CREATE TRIGGER alpha_t AFTER INSERT ON alpha BEGIN SELECT 1; END;
CREATE INDEX alpha_y ON alpha(y);
CREATE INDEX zeta_x ON zeta(x);" ]
	# each statement ends ";\n", the last one too
	[ "$(tail -c 2 db/schema.sql | od -An -tx1)" = " 3b 0a" ]
	# it runs, and builds the same schema
	q fresh.db <db/schema.sql
	[ "$(objects fresh.db)" = "$(objects app.db)" ]
	run -0 mig down 0001_users
	run -0 cat db/schema.sql
	[ "$output" = "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);
CREATE VIEW names AS SELECT name FROM users;" ]
	# the path is mig.conf's, wherever mig runs below it
	cd db
	run -0 mig up heads
	[ ! -e db/schema.sql ]
	grep -q "CREATE TABLE zeta(x INT);" schema.sql
}

@test "two databases that reached the same schema in different orders get the same bytes" {
	branches
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = schema.sql\n' >mig.conf
	mig up 0002_zeta
	mig up 0003_alpha
	mv schema.sql one.sql
	mig -d other.db up 0003_alpha
	mig -d other.db up 0002_zeta
	# the databases do differ in how they got there
	[ "$(q app.db 'SELECT name FROM sqlite_schema ORDER BY rowid')" != "$(q other.db 'SELECT name FROM sqlite_schema ORDER BY rowid')" ]
	cmp one.sql schema.sql
}

@test "a dry run leaves the schema file alone" {
	branches
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = schema.sql\n' >mig.conf
	mig up 0001_users
	# a line the database would not write: any rewrite would lose it
	echo "-- reviewed" >>schema.sql
	before=$(cksum <schema.sql)
	run -0 mig up heads --dry-run
	[ "$(cksum <schema.sql)" = "$before" ]
	run -0 mig down base --dry-run
	[ "$(cksum <schema.sql)" = "$before" ]
}

@test "restore and fake write it too" {
	branches
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = schema.sql\n' >mig.conf
	mig up 0001_users
	mig up 0002_zeta
	grep -q zeta schema.sql
	run -0 mig restore
	run -0 cat schema.sql
	[[ "$output" != *zeta* ]]
	q app.db "CREATE TABLE by_hand(z INT)"
	run -0 mig fake 0003_alpha
	grep -q by_hand schema.sql
}

@test "a schema file that cannot be written is a warning: the run's result stands" {
	branches
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = nodir/schema.sql\n' >mig.conf
	run -0 mig up 0001_users
	has "mig-up: warning: mig.schemaFile: cannot create 'nodir/schema.sql': No such file or directory; the run itself succeeded"
	[ ! -e nodir ]
	run -0 mig status --porcelain
	[[ "$output" == *0001_users* ]]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 1 ]
}
