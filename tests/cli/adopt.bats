#!/usr/bin/env bats
# fake --adopt of Alembic's alembic_version and Django's django_migrations,
# from revision files rewritten in SQL in mig's own layout: which file
# stands for which row, ancestors, applied times, and the rows that stand
# for no file or for two.
# backend: sqlite (the tables are SQLite's; pg.bats adopts them on PostgreSQL)
load helper

# An Alembic chain rewritten: REV_SLUG.sql, as Alembic named REV_SLUG.py,
# the last with its file_template's DATE-REV_SLUG.
alembic() {
	rev 1975ea83b712_users $'-- mig:parents\n-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE users;\n'
	rev ae1027a6acf_posts $'-- mig:parents 1975ea83b712_users\n-- mig:up\nCREATE TABLE posts(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE posts;\n'
	rev 2024_02_01_0900-27c6a30d7c24_tags $'-- mig:parents ae1027a6acf_posts\n-- mig:up\nCREATE TABLE tags(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE tags;\n'
	sqlite3 app.db "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
		CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
}

# Django's migrations rewritten: NNNN_APP_NAME.sql, or APP_NAME.sql.
django() {
	rev 0001_auth_0001_initial $'-- mig:up\nCREATE TABLE auth_user(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE auth_user;\n'
	rev 0002_blog_0001_initial $'-- mig:up\nCREATE TABLE blog_post(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE blog_post;\n'
	rev 0003_blog_0002_tags $'-- mig:up\nCREATE TABLE blog_tag(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE blog_tag;\n'
	sqlite3 app.db "CREATE TABLE django_migrations (id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
		app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime NOT NULL)"
}

applied() {
	sqlite3 app.db "SELECT group_concat(name, ' ') FROM (SELECT name FROM mig_revisions WHERE scope = 'app' ORDER BY seq)"
}

@test "Alembic: the head alembic_version records is applied, with its ancestors, and the rest stays pending" {
	alembic
	sqlite3 app.db "CREATE TABLE users(id INTEGER PRIMARY KEY); CREATE TABLE posts(id INTEGER PRIMARY KEY);
		INSERT INTO alembic_version VALUES ('ae1027a6acf')"
	run -0 mig -d app.db fake --adopt
	has "recording as applied: 1975ea83b712_users"
	has "recording as applied: ae1027a6acf_posts"
	[ "$(applied)" = "1975ea83b712_users ae1027a6acf_posts" ]
	run -0 mig -d app.db log -n 1
	[[ "$output" == *" ok: adopt 1975ea83b712_users..ae1027a6acf_posts (2 revisions) ("* ]]
	run -0 mig -d app.db up
	has "applying 2024_02_01_0900-27c6a30d7c24_tags"
	# Alembic at the new head: adopting again finds nothing to do, and says so
	sqlite3 app.db "UPDATE alembic_version SET version_num = '27c6a30d7c24'"
	run -0 --separate-stderr mig -d app.db fake --adopt
	[ "$stderr" = "mig-fake: nothing to adopt: Alembic's alembic_version records nothing that is not applied" ]
	run -0 mig -d app.db status --check
}

@test "Alembic: two heads (branches) are both applied, with every ancestor of each" {
	rev aaaa_base $'-- mig:parents\nCREATE TABLE base(x);\n'
	rev bbbb_left $'-- mig:parents aaaa_base\nCREATE TABLE l(x);\n'
	rev cccc_right $'-- mig:parents aaaa_base\nCREATE TABLE r(x);\n'
	rev dddd_after_left $'-- mig:parents bbbb_left\nCREATE TABLE l2(x);\n'
	sqlite3 app.db "CREATE TABLE alembic_version(version_num VARCHAR(32) NOT NULL PRIMARY KEY);
		INSERT INTO alembic_version VALUES ('dddd'), ('cccc')"
	run -0 mig -d app.db fake -q --adopt
	[ "$output" = "" ]
	[ "$(sqlite3 app.db "SELECT group_concat(name, ' ') FROM (SELECT name FROM mig_revisions WHERE scope = 'app' ORDER BY name)")" = \
		"aaaa_base bbbb_left cccc_right dddd_after_left" ]
}

@test "Alembic: an id no file stands for, or two files stand for, is an error naming it, exit 2, nothing recorded" {
	alembic
	sqlite3 app.db "INSERT INTO alembic_version VALUES ('0badc0ffee00')"
	run -2 --separate-stderr mig -d app.db fake --adopt
	[ "${stderr_lines[0]}" = "mig-fake: error: alembic_version records 0badc0ffee00, which no revision file here stands for" ]
	[ "${stderr_lines[1]}" = "hint: name its rewritten file 0badc0ffee00_SLUG.sql (mig-fake(1)); nothing was recorded" ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'mig%'")" = 0 ]
	# an id inside a name, not at a word's start, stands for nothing
	sqlite3 app.db "UPDATE alembic_version SET version_num = '1975ea83'"
	run -2 mig -d app.db fake --adopt
	has "mig-fake: error: alembic_version records 1975ea83, which no revision file here stands for"
	sqlite3 app.db "UPDATE alembic_version SET version_num = 'ae1027a6acf'"
	rev 2024_01_01_0000-ae1027a6acf_posts_again $'-- mig:parents\nSELECT 1;\n'
	run -2 mig -d app.db fake --adopt
	has "mig-fake: error: alembic_version records ae1027a6acf, which both 2024_01_01_0000-ae1027a6acf_posts_again and ae1027a6acf_posts stand for"
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'mig%'")" = 0 ]
}

@test "Django: every row is applied with the time Django recorded; the rest stays pending" {
	django
	sqlite3 app.db "INSERT INTO django_migrations(app, name, applied) VALUES
		('auth', '0001_initial', '2024-01-31 12:00:00.123456'), ('blog', '0001_initial', '2024-02-01 08:30:05')"
	run -0 mig -d app.db fake --adopt
	has "recording as applied: 0001_auth_0001_initial"
	has "recording as applied: 0002_blog_0001_initial"
	[ "$(sqlite3 app.db "SELECT group_concat(name || '=' || applied_at, ' ') FROM mig_revisions WHERE scope = 'app'")" = \
		"0001_auth_0001_initial=2024-01-31T12:00:00.123Z 0002_blog_0001_initial=2024-02-01T08:30:05.000Z" ]
	run -0 mig -d app.db status --porcelain
	has "revision	pending	0003_blog_0002_tags	$(git hash-object migrations/0003_blog_0002_tags.sql)	migrations/0003_blog_0002_tags.sql"
	# a file named APP_NAME stands for its row too
	mv migrations/0003_blog_0002_tags.sql migrations/blog_0002_tags.sql
	sqlite3 app.db "INSERT INTO django_migrations(app, name, applied) VALUES ('blog', '0002_tags', '2024-03-01T10:00:00+02:00')"
	run -0 mig -d app.db fake --adopt
	[ "$(sqlite3 app.db "SELECT applied_at FROM mig_revisions WHERE name = 'blog_0002_tags'")" = "2024-03-01T08:00:00.000Z" ]
	run -0 mig -d app.db status --check
}

@test "Django: a row no file stands for is an error naming it (and counting the others), exit 2, nothing recorded" {
	django
	sqlite3 app.db "INSERT INTO django_migrations(app, name, applied) VALUES
		('auth', '0001_initial', '2024-01-31 12:00:00'), ('sessions', '0001_initial', '2024-01-31 12:00:00'),
		('auth', '0002_alter_permission', '2024-01-31 12:00:00'), ('admin', '0001_initial', '2024-01-31 12:00:00')"
	run -2 --separate-stderr mig -d app.db fake --adopt
	[ "${stderr_lines[0]}" = "mig-fake: error: django_migrations records sessions.0001_initial, which no revision file here stands for" ]
	[ "${stderr_lines[1]}" = "hint: name its rewritten file sessions_0001_initial.sql (mig-fake(1)); nothing was recorded" ]
	[ "${stderr_lines[2]}" = "hint: 2 more rows of django_migrations stand for no file" ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'mig%'")" = 0 ]
	run -1 mig -d app.db status --check
}

@test "fake --adopt in mig's own layout: neither table, or both, is an error saying so, exit 2, nothing recorded" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x);\n'
	sqlite3 app.db "CREATE TABLE t(x)"
	run -2 --separate-stderr mig -d app.db fake --adopt
	[ "${stderr_lines[0]}" = "mig-fake: error: database 'app.db' has no bookkeeping to adopt: no Alembic alembic_version nor Django django_migrations" ]
	sqlite3 app.db "CREATE TABLE alembic_version(version_num VARCHAR(32) PRIMARY KEY);
		CREATE TABLE django_migrations(id INTEGER PRIMARY KEY, app, name, applied)"
	run -2 mig -d app.db fake --adopt
	has "mig-fake: error: database 'app.db' has both Alembic's alembic_version and Django's django_migrations: cannot tell which to adopt"
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'mig%'")" = 0 ]
	# a dbmate directory reads dbmate's table only, whatever else the database has
	rm migrations/*
	rev 20240101000000_a $'-- migrate:up\nCREATE TABLE a(x);\n'
	sqlite3 app.db "CREATE TABLE schema_migrations(version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000')"
	run -0 mig -d app.db fake --adopt
	[ "$(applied)" = "20240101000000_a" ]
}
