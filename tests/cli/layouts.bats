#!/usr/bin/env bats
# Other tools' migration directories, read in place: dbmate, golang-migrate,
# goose, diesel. Applying, reverting, status, tamper detection, mig new,
# and adopting a database the other tool migrated.
load helper

golang() {
	printf 'CREATE TABLE users(id INTEGER PRIMARY KEY);\n' >migrations/1_users.up.sql
	printf 'DROP TABLE users;\n' >migrations/1_users.down.sql
	printf 'ALTER TABLE users ADD COLUMN email TEXT;\n' >migrations/2_email.up.sql
	printf 'ALTER TABLE users DROP COLUMN email;\n' >migrations/2_email.down.sql
	printf 'CREATE TABLE tags(name TEXT);\n' >migrations/10_tags.up.sql
	printf 'DROP TABLE tags;\n' >migrations/10_tags.down.sql
}

dbmate() {
	rev 20240101000000_users $'-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n'
	rev 20240201000000_email $'-- migrate:up transaction:false\nALTER TABLE users ADD COLUMN email TEXT;\n-- migrate:down\nALTER TABLE users DROP COLUMN email;\n'
}

goose() {
	rev 00001_users $'-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE users;\n'
	rev 00002_email $'-- +goose NO TRANSACTION\n-- +goose Up\nALTER TABLE users ADD COLUMN email TEXT;\n-- +goose Down\nALTER TABLE users DROP COLUMN email;\n'
}

diesel() {
	mkdir -p migrations/2024-01-01-000000_users migrations/2024-02-01-000000_email
	printf 'CREATE TABLE users(id INTEGER PRIMARY KEY);\n' >migrations/2024-01-01-000000_users/up.sql
	printf 'DROP TABLE users;\n' >migrations/2024-01-01-000000_users/down.sql
	printf 'ALTER TABLE users ADD COLUMN email TEXT;\n' >migrations/2024-02-01-000000_email/up.sql
	printf 'ALTER TABLE users DROP COLUMN email;\n' >migrations/2024-02-01-000000_email/down.sql
	printf 'run_in_transaction = false\n' >migrations/2024-02-01-000000_email/metadata.toml
}

columns() {
	q app.db "SELECT group_concat(name, ' ') FROM pragma_table_info('users')"
}

@test "golang-migrate: a chain in version order (1, 2, 10), applied and reverted" {
	golang
	run -0 mig -d app.db status --porcelain
	[ "$(printf '%s\n' "$output" | grep '^revision' | cut -f3 | tr '\n' ' ')" = "1_users 2_email 10_tags " ]
	has "revision	pending	1_users	$(printf -- '-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE users;\n' | git hash-object --stdin)	migrations/1_users.up.sql"
	run -0 mig -d app.db up
	[ "$(columns)" = "id email" ]
	run -0 mig -d app.db down 1_users
	[ "$(columns)" = "id" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'tags'")" = 0 ]
}

@test "golang-migrate: twenty versions are paired and chained by number, every one" {
	sqlite_only
	for i in $(seq 1 20); do
		printf 'CREATE TABLE t%d(x INT);\n' "$i" >"migrations/${i}_t$i.up.sql"
		printf 'DROP TABLE t%d;\n' "$i" >"migrations/${i}_t$i.down.sql"
	done
	run -0 mig -d app.db status --porcelain
	[ "$(grep '^revision' <<<"$output" | cut -f3 | tr '\n' ' ')" = "$(seq 1 20 | sed 's/.*/&_t&/' | tr '\n' ' ')" ]
	run -0 mig -d app.db up -q
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name GLOB 't[0-9]*'")" = 20 ]
	run -0 mig -d app.db down -q base
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name GLOB 't[0-9]*'")" = 0 ]
}

@test "golang-migrate, diesel: a '-- mig:parents' line in a file does not change the chain" {
	printf -- '-- mig:parents 2_b\nCREATE TABLE a(x INT);\n' >migrations/1_a.up.sql
	printf 'CREATE TABLE b(x INT);\n' >migrations/2_b.up.sql
	printf -- '-- mig:parents nosuch\nCREATE TABLE c(x INT);\n' >migrations/3_c.up.sql
	run -0 mig -d app.db status --porcelain
	[ "$(printf '%s\n' "$output" | grep '^revision' | cut -f3 | tr '\n' ' ')" = "1_a 2_b 3_c " ]
	has "head	3_c"
	rm migrations/*
	mkdir migrations/2024-01-01-000000_a migrations/2024-02-01-000000_b
	printf -- '-- mig:parents 2024-02-01-000000_b\nSELECT 1;\n' >migrations/2024-01-01-000000_a/up.sql
	printf -- '-- mig:parents\nSELECT 2;\n' >migrations/2024-02-01-000000_b/up.sql
	run -0 mig -d app.db status --porcelain
	[ "$(printf '%s\n' "$output" | grep '^revision' | cut -f3 | tr '\n' ' ')" = "2024-01-01-000000_a 2024-02-01-000000_b " ]
	has "head	2024-02-01-000000_b"
}

@test "golang-migrate: an edited down file is a modified revision; errors name the real file and line" {
	sqlite_only
	golang
	mig -d app.db up -q
	old=$(printf -- '-- mig:up\nCREATE TABLE tags(name TEXT);\n-- mig:down\nDROP TABLE tags;\n' | git hash-object --stdin)
	printf 'SELECT 1;\nDROP TABLE nope;\n' >migrations/10_tags.down.sql
	new=$(printf -- '-- mig:up\nCREATE TABLE tags(name TEXT);\n-- mig:down\nSELECT 1;\nDROP TABLE nope;\n' | git hash-object --stdin)
	run -5 mig -d app.db up
	has "mig-up: error: 10_tags was modified after it was applied (applied ${old:0:12}, file ${new:0:12})"
	run -4 mig -d app.db down --from-files --no-backup
	has "mig-down: error: 10_tags: migrations/10_tags.down.sql:2: no such table: nope"
	# from the store, the down that was applied still works
	run -0 mig -d app.db down --no-backup
}

@test "dbmate: markers, transaction:false, status, up and down" {
	dbmate
	run -0 mig -d app.db up
	[ "$(columns)" = "id email" ]
	run -0 mig -d app.db status
	has "applied: 2 of 2"
	run -0 mig -d app.db sqlshow --revision 20240201000000_email --down
	has "ALTER TABLE users DROP COLUMN email;"
	run -0 mig -d app.db down base
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 0 ]
	# transaction:false: recorded dirty while it runs, so a failure stays dirty
	rev 20240301000000_bad $'-- migrate:up transaction:false\nCREATE TABLE nope(x INT);\nSELECT * FROM missing;\n-- migrate:down\nDROP TABLE nope;\n'
	run -4 mig -d app.db up
	run -1 mig -d app.db status --check
	has "  20240301000000_bad did not finish: the database is dirty"
}

@test "goose: markers, NO TRANSACTION, StatementBegin/End, and the body from the store" {
	goose
	run -0 mig -d app.db up
	[ "$(columns)" = "id email" ]
	rm migrations/00002_email.sql
	run -0 mig -d app.db status
	[[ "$output" == *"00002_email"* ]]
	run -0 mig -d app.db down
	[ "$(columns)" = "id" ]
}

@test "diesel: directories of up.sql and down.sql, metadata.toml" {
	diesel
	run -0 mig -d app.db up
	[ "$(columns)" = "id email" ]
	[ "$(q app.db "SELECT dirty FROM mig_revisions WHERE name = '2024-02-01-000000_email'")" = 0 ]
	run -0 mig -d app.db status --porcelain
	has "revision	applied	2024-02-01-000000_email	$(printf -- '-- mig:no-transaction\n-- mig:up\nALTER TABLE users ADD COLUMN email TEXT;\n-- mig:down\nALTER TABLE users DROP COLUMN email;\n' | git hash-object --stdin)	migrations/2024-02-01-000000_email/up.sql"
	run -0 mig -d app.db down base
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 0 ]
}

@test "a FIFO as a golang-migrate or diesel file exits 3 at once and creates nothing" {
	golang
	rm migrations/2_email.down.sql
	mkfifo migrations/2_email.down.sql
	run -3 timeout 10 mig -d app.db up
	[ "$output" = "mig-up: error: 'migrations/2_email.down.sql' is a FIFO, not a regular file" ]
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
	rm migrations/*.sql
	diesel
	rm migrations/2024-02-01-000000_email/up.sql
	mkfifo migrations/2024-02-01-000000_email/up.sql
	run -3 timeout 10 mig -d app.db status
	[ "$output" = "mig-status: error: 'migrations/2024-02-01-000000_email/up.sql' is a FIFO, not a regular file" ]
}

@test "mig new writes in the directory's own layout" {
	golang
	run -0 mig new tags2
	[ "$output" = $'migrations/11_tags2.up.sql\nmigrations/11_tags2.down.sql' ]
	[ -f migrations/11_tags2.up.sql ]
	[ -f migrations/11_tags2.down.sql ]
	rm -r migrations
	mkdir migrations
	dbmate
	run -0 mig new more
	[[ "$output" =~ ^migrations/[0-9]{14}_more\.sql$ ]]
	grep -qx -- '-- migrate:up' "$output"
	rm -r migrations
	mkdir migrations
	goose
	run -0 mig new more
	[ "$output" = migrations/00003_more.sql ]
	grep -qx -- '-- +goose Up' "$output"
	rm -r migrations
	mkdir migrations
	diesel
	run -0 mig new more
	[[ "${lines[0]}" =~ ^migrations/[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{6}_more/up\.sql$ ]]
	[ -f "${lines[1]}" ]
	run -0 mig -d app.db status --porcelain
	[ "$(printf '%s\n' "$output" | grep -c '^revision')" = 3 ]
}

@test "fake --adopt reads dbmate's, golang-migrate's, goose's and diesel's bookkeeping" {
	sqlite_only
	dbmate
	q app.db "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);
		CREATE TABLE schema_migrations(version varchar(128) PRIMARY KEY);
		INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240201000000'), ('20231231000000');"
	run -0 mig -d app.db fake --adopt
	has "recording as applied: 20240101000000_users"
	has "recording as applied: 20240201000000_email"
	has "mig-fake: dbmate records version 20231231000000, which no revision here has"
	run -0 mig -d app.db status --check
	rm -rf migrations app.db*
	mkdir migrations

	golang
	q app.db "CREATE TABLE schema_migrations(version uint64, dirty bool); INSERT INTO schema_migrations VALUES (2, 0);"
	run -0 mig -d app.db fake --adopt
	[ "$(q app.db "SELECT group_concat(name, ' ') FROM mig_revisions WHERE scope = 'app'")" = "1_users 2_email" ]
	q app.db "UPDATE schema_migrations SET version = 10, dirty = 1"
	run -5 mig -d app.db fake --adopt
	has "mig-fake: error: golang-migrate left version 10 dirty"
	rm -rf migrations app.db*
	mkdir migrations

	goose
	q app.db "CREATE TABLE goose_db_version(id INTEGER PRIMARY KEY, version_id INTEGER, is_applied INTEGER);
		INSERT INTO goose_db_version(version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (2, 0);"
	run -0 mig -d app.db fake --adopt
	[ "$(q app.db "SELECT group_concat(name, ' ') FROM mig_revisions WHERE scope = 'app'")" = "00001_users" ]
	rm -rf migrations app.db*
	mkdir migrations

	diesel
	q app.db "CREATE TABLE __diesel_schema_migrations(version VARCHAR(50) PRIMARY KEY, run_on TIMESTAMP);
		INSERT INTO __diesel_schema_migrations(version) VALUES ('20240101000000');"
	run -0 mig -d app.db fake --adopt
	[ "$(q app.db "SELECT group_concat(name, ' ') FROM mig_revisions WHERE scope = 'app'")" = "2024-01-01-000000_users" ]
	run -0 mig -d app.db log -n 1
	[[ "$output" == *" ok: adopt 2024-01-01-000000_users ("* ]]
}

@test "fake --adopt: no other tool's table, mig's own layout, or used with a target, say so" {
	sqlite_only
	dbmate
	q app.db "CREATE TABLE t(x INT)"
	run -2 mig -d app.db fake --adopt
	has "mig-fake: error: database 'app.db' has no dbmate bookkeeping (table schema_migrations): no such table: schema_migrations"
	rm migrations/*
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	run -2 mig -d app.db fake --adopt
	has "mig-fake: error: database 'app.db' has no bookkeeping to adopt: no Alembic alembic_version nor Django django_migrations"
	run -2 mig -d app.db fake --adopt 0001
	has "mig-fake: error: too many arguments"
}

@test "fake --adopt of golang-migrate's table with no version in it adopts nothing, and says so" {
	golang
	q app.db "CREATE TABLE schema_migrations(version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
	run -0 --separate-stderr mig -d app.db fake --adopt
	[ "$stderr" = "mig-fake: nothing to adopt: golang-migrate records nothing that is not applied" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'mig%'")" = 0 ]
	run -1 mig -d app.db status --check
}

@test "layouts' own mistakes name the file and line" {
	sqlite_only
	printf 'DROP TABLE users;\n' >migrations/1_users.down.sql
	run -3 mig -d app.db status
	has "mig-status: error: migrations/1_users.down.sql: no up file beside it"
	rm migrations/*
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x INT);\n-- migrate:sideways\n'
	run -3 mig -d app.db status
	has "mig-status: error: migrations/20240101000000_a.sql:3: unknown marker '-- migrate:sideways'"
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x INT);\n-- migrate:dwon\n'
	run -3 mig -d app.db status
	has "mig-status: error: migrations/20240101000000_a.sql:3: unknown marker '-- migrate:dwon'"
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x INT);\n-- migrate:up\n'
	run -3 mig -d app.db status
	has "mig-status: error: migrations/20240101000000_a.sql:3: second '-- migrate:up' (the first is on line 1)"
	rev 20240101000000_a $'CREATE TABLE a(x INT);\n-- migrate:up\n'
	run -3 mig -d app.db status
	has "mig-status: error: migrations/20240101000000_a.sql:1: SQL before '-- migrate:up' on line 2"
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x INT);\n'
	run -2 mig -d app.db fake --adopt
	has "mig-fake: error: there is no database to adopt"
}

names() {
	printf '%s\n' "$output" | grep '^revision' | cut -f3 | tr '\n' ' '
}

@test "diesel orders versions as strings: the name before the first '_', without its '-'" {
	mkdir migrations/2018-01-14-171611_users migrations/2018-02-01-000000_posts migrations/2024-03-13_170000_tags
	printf 'CREATE TABLE users(id INTEGER PRIMARY KEY);\n' >migrations/2018-01-14-171611_users/up.sql
	printf 'CREATE TABLE posts(id INTEGER PRIMARY KEY);\n' >migrations/2018-02-01-000000_posts/up.sql
	printf 'CREATE TABLE tags(id INTEGER PRIMARY KEY);\n' >migrations/2024-03-13_170000_tags/up.sql
	run -0 mig -d app.db status --porcelain
	[ "$(names)" = "2018-01-14-171611_users 2018-02-01-000000_posts 2024-03-13_170000_tags " ]
	# a database diesel migrated before that date is adopted, and goes on
	q app.db "CREATE TABLE users(id INTEGER PRIMARY KEY); CREATE TABLE posts(id INTEGER PRIMARY KEY);
		CREATE TABLE __diesel_schema_migrations(version VARCHAR(50) PRIMARY KEY, run_on TIMESTAMP);
		INSERT INTO __diesel_schema_migrations(version) VALUES ('20180114171611'), ('20180201000000');"
	run -0 mig -d app.db fake --adopt
	run -0 mig -d app.db up
	has "applying 2024-03-13_170000_tags"
	[ "$(q app.db "SELECT group_concat(name, ' ') FROM mig_revisions WHERE scope = 'app'")" = \
		"2018-01-14-171611_users 2018-02-01-000000_posts 2024-03-13_170000_tags" ]
}

@test "dbmate orders its files by name, as strings" {
	rev 1_a $'-- migrate:up\nCREATE TABLE a(x INT);\n-- migrate:down\nDROP TABLE a;\n'
	rev 2_c $'-- migrate:up\nCREATE TABLE c(x INT);\n-- migrate:down\nDROP TABLE c;\n'
	rev 10_b $'-- migrate:up\nCREATE TABLE b(x INT);\n-- migrate:down\nDROP TABLE b;\n'
	run -0 mig -d app.db status --porcelain
	[ "$(names)" = "10_b 1_a 2_c " ]
}

@test "golang-migrate pairs up and down files by version number, not by name" {
	golang
	printf 'ALTER TABLE users ADD COLUMN mfa TEXT;\n' >migrations/67_add_email_mfa_column.up.sql
	printf 'ALTER TABLE users DROP COLUMN mfa;\n' >migrations/067_email_mfa_column.down.sql
	run -0 mig -d app.db status --porcelain
	[ "$(names)" = "1_users 2_email 10_tags 67_add_email_mfa_column " ]
	run -0 mig -d app.db up
	[ "$(columns)" = "id email mfa" ]
	run -0 mig -d app.db down
	[ "$(columns)" = "id email" ]
}

@test "two files of one version and direction are refused, as golang-migrate and goose do" {
	golang
	printf 'CREATE TABLE other(x INT);\n' >migrations/02_other.up.sql
	run -3 mig -d app.db up
	has "mig-up: error: migrations/2_email.up.sql: duplicate migration file: version 2 is also migrations/02_other.up.sql"
	[ ! -e app.db ]
	rm migrations/*
	goose
	rev 2_again $'-- +goose Up\nCREATE TABLE again(x INT);\n'
	run -3 mig -d app.db up
	has "mig-up: error: migrations/2_again.sql: duplicate migration version 2 (also migrations/00002_email.sql)"
	[ ! -e app.db ]
}

@test "golang-migrate: two down files of a version are refused too, a third file changes nothing, version 0 pairs" {
	golang
	printf 'DROP TABLE x;\n' >migrations/01_x.down.sql
	run -3 mig -d app.db up
	[ "${lines[0]}" = "mig-up: error: migrations/1_users.down.sql: duplicate migration file: version 1 is also migrations/01_x.down.sql" ]
	[ "${lines[1]}" = "hint: golang-migrate pairs files by their version number: give one of them another" ]
	rm migrations/01_x.down.sql
	printf 'CREATE TABLE a(x INT);\n' >migrations/01_a.up.sql
	printf 'CREATE TABLE b(x INT);\n' >migrations/001_b.up.sql
	run -3 mig -d app.db up
	[ "${lines[0]}" = "mig-up: error: migrations/1_users.up.sql: duplicate migration file: version 1 is also migrations/001_b.up.sql" ]
	[ ! -e app.db ]
	rm migrations/01_a.up.sql migrations/001_b.up.sql
	# 000 is version 0, as 0 is
	printf 'CREATE TABLE z(x INT);\n' >migrations/000_zero.up.sql
	printf 'DROP TABLE z;\n' >migrations/0_zero.down.sql
	run -0 mig -d app.db up -q
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name IN ('z', 'tags')")" = 2 ]
	run -0 mig -d app.db down -q base
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'mig%'")" = 0 ]
}

@test "a missing or empty down part is irreversible: down refuses, names the file, changes nothing" {
	sqlite_only
	golang
	rm migrations/10_tags.down.sql
	mig -d app.db up -q
	run -5 mig -d app.db down --no-backup
	has "mig-down: error: 10_tags is irreversible: migrations/10_tags.down.sql is missing"
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'tags'")" = 1 ]
	[ "$(q app.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 3 ]
	rm -rf migrations app.db*
	mkdir migrations
	diesel
	printf -- '-- This file should undo anything in `up.sql`\n\n' >migrations/2024-02-01-000000_email/down.sql
	mig -d app.db up -q
	run -5 mig -d app.db down base
	has "mig-down: error: 2024-02-01-000000_email is irreversible: migrations/2024-02-01-000000_email/down.sql holds no SQL"
	[ "$(columns)" = "id email" ]
	run -0 mig -d app.db status
	has "applied: 2 of 2"
	rm -rf migrations app.db*
	mkdir migrations
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x INT);\n-- migrate:down\n\n-- nothing\n'
	mig -d app.db up -q
	run -5 mig -d app.db down
	has "mig-down: error: 20240101000000_a is irreversible: migrations/20240101000000_a.sql has an empty '-- migrate:down' section"
	run -5 mig -d app.db sqlshow --down
	has "mig-sqlshow: error: 20240101000000_a is irreversible: migrations/20240101000000_a.sql has an empty '-- migrate:down' section"
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'a'")" = 1 ]
}

@test "a dbmate file without a down section, and a mig file with an empty one, are irreversible in their words" {
	sqlite_only
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x INT);\n'
	mig -d app.db up -q
	before=$(q app.db .dump)
	run -5 mig -d app.db down
	[ "${lines[0]}" = "mig-down: error: 20240101000000_a is irreversible: migrations/20240101000000_a.sql has no '-- migrate:down' section" ]
	[ "$(q app.db .dump)" = "$before" ]
	rm -r migrations app.db app.db.mig
	mkdir migrations
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\n\n'
	mig -d app.db up -q
	before=$(q app.db .dump)
	run -5 mig -d app.db down
	[ "${lines[0]}" = "mig-down: error: 0001_a is irreversible: it has an empty '-- mig:down' section" ]
	[ "$(q app.db .dump)" = "$before" ]
}

@test "a dbmate or goose file of only a down section has an empty up: up runs none of it, down runs it" {
	sqlite_only
	for marker in '-- migrate:' '-- +goose '; do
		rm -rf migrations app.db app.db.mig
		mkdir migrations
		rev 20240101000000_a "${marker}up
CREATE TABLE a(x INT);
${marker}down
DROP TABLE a;
"
		rev 20240201000000_b "-- the up part is still to write
${marker}down
CREATE TABLE z(x INT);
"
		run -0 mig -d app.db up -q
		[ "$(q app.db "SELECT group_concat(name) FROM sqlite_schema WHERE name IN ('a', 'z')")" = a ]
		run -0 mig -d app.db sqlshow --revision 20240201000000_b
		[ -z "$output" ]
		run -0 mig -d app.db sqlshow --revision 20240201000000_b --down
		[ "$output" = "CREATE TABLE z(x INT);" ]
		run -0 mig -d app.db down -q
		[ "$(q app.db "SELECT group_concat(name) FROM sqlite_schema WHERE name IN ('a', 'z') ORDER BY name")" = a,z ]
	done
}

@test "errors in a down file name that file and its own line, from the store too" {
	sqlite_only
	diesel
	# in a transaction, so a failed down leaves nothing dirty
	rm migrations/2024-02-01-000000_email/metadata.toml
	printf 'SELECT 1;\n\nDROP TABLE nope;\n' >migrations/2024-02-01-000000_email/down.sql
	mig -d app.db up -q
	run -4 mig -d app.db down --no-backup
	has "mig-down: error: 2024-02-01-000000_email: migrations/2024-02-01-000000_email/down.sql:3: no such table: nope"
	run -0 mig -d app.db sqlshow --down
	has "-- down 2024-02-01-000000_email (migrations/2024-02-01-000000_email/down.sql)"
	# edited since: the down that was applied, named as the store's copy of that file
	id=$(q app.db "SELECT id FROM mig_revisions WHERE name = '2024-02-01-000000_email'")
	printf 'ALTER TABLE users DROP COLUMN email;\n' >migrations/2024-02-01-000000_email/down.sql
	run -4 mig -d app.db down --no-backup
	has "mig-down: error: 2024-02-01-000000_email: migrations/2024-02-01-000000_email/down.sql (${id:0:12}, from the store):3: no such table: nope"
	[ "$(columns)" = "id email" ]
	rm -rf migrations app.db*
	mkdir migrations
	golang
	printf 'ALTER TABLE users ADD COLUMN email TEXT;\nSELECT * FROM nope;\n' >migrations/2_email.up.sql
	run -4 mig -d app.db up
	has "mig-up: error: 2_email: migrations/2_email.up.sql:2: no such table: nope"
}

@test "goose: a Go migration is a problem in status, and up stops before it (exit 5)" {
	goose
	printf 'package migrations\n' >migrations/00002_seed.go
	mv migrations/00002_email.sql migrations/00003_email.sql
	printf 'package migrations\n' >migrations/00004_helper_test.go
	run -0 mig -d app.db status
	has "  00002_seed is a goose Go migration (migrations/00002_seed.go): mig cannot run it"
	run -1 mig -d app.db status --check
	run -0 mig -d app.db status --porcelain
	[ "$(names)" = "00001_users 00002_seed 00003_email " ]
	run -5 mig -d app.db up
	has "mig-up: error: 00002_seed is a goose Go migration (migrations/00002_seed.go): mig cannot run it"
	[ "$(columns)" = "id" ]
	[ "$(q app.db "SELECT group_concat(name, ' ') FROM mig_revisions WHERE scope = 'app'")" = "00001_users" ]
	run -5 mig -d app.db up
	[ "$(q app.db "SELECT group_concat(name, ' ') FROM mig_revisions WHERE scope = 'app'")" = "00001_users" ]
	run -5 mig -d app.db sqlshow
	has "mig-sqlshow: error: 00002_seed is a goose Go migration (migrations/00002_seed.go): mig cannot run it"
	# run by goose, recorded by hand: then the rest
	run -0 mig -d app.db fake 00002_seed
	run -0 mig -d app.db up
	[ "$(columns)" = "id email" ]
	run -5 mig -d app.db down 00001_users
	has "mig-down: error: 00002_seed is a goose Go migration (migrations/00002_seed.go): mig cannot revert it"
	[ "$(columns)" = "id email" ]
}
