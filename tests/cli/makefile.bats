#!/usr/bin/env bats
# contrib/mig.mk, included from a project's Makefile, and mig in pipelines.
load helper

project() {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE users;\n'
	printf 'MIG_FLAGS = -d app.db\ninclude %s/contrib/mig.mk\n\ntest: db-check\n\t@echo tests run\n' "$TOP" >Makefile
}

@test "mig.mk: db-check stops make while anything is pending; db-up fixes it" {
	project
	run -2 make -s test
	has "pending: 1"
	[[ "$output" != *"tests run"* ]]
	run -0 make -s db-up
	has "applying 0001_users"
	run -0 make -s test
	has "tests run"
	run -0 make -s db-status
	has "current: 0001_users"
}

@test "mig.mk: db-schema writes the schema, db-backup a snapshot, db-down reverts" {
	project
	make -s db-up 2>/dev/null
	run -0 make -s db-schema
	grep -q '^CREATE TABLE users' schema.sql
	run -0 make -s db-backup
	[[ "$output" =~ [0-9a-f]{40} ]]
	run -0 make -s db-down
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 0 ]
}

@test "pipelines: sqlshow into sqlite3, porcelain into cut, backup -o - into restore -i -" {
	sqlite_only
	project
	mig -d app.db sqlshow | q piped.db
	[ "$(q piped.db "SELECT name FROM mig_revisions WHERE scope = 'app'")" = 0001_users ]
	[ "$(mig -d piped.db status --porcelain | grep '^revision' | cut -f2,3)" = "applied	0001_users" ]
	mig -d piped.db status --check
	q piped.db "INSERT INTO users VALUES (7)"
	mig -d piped.db backup -o - 2>/dev/null | mig -d copy.db restore -q -i -
	[ "$(sqlite3 copy.db 'SELECT id FROM users')" = 7 ]
}

@test "mig.mk included first does not become the default goal: plain make builds the project's first target" {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE users;\n'
	printf 'MIG_FLAGS = -d app.db\ninclude %s/contrib/mig.mk\n\nbuild:\n\t@echo built\n' "$TOP" >Makefile
	run -0 make -s
	[ "$output" = built ]
	[ ! -e app.db ]
	printf 'MIG_FLAGS = -d app.db\ninclude %s/contrib/mig.mk\n' "$TOP" >Makefile
	run -2 make -s
	[[ "$output" == *"No targets"* ]]
	[ ! -e app.db ]
}

@test "mig.mk included after the project's default goal leaves it the default" {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n'
	printf 'MIG_FLAGS = -d app.db\nall: db-check\n\t@echo tests run\ninclude %s/contrib/mig.mk\n' "$TOP" >Makefile
	run make -s
	[ "$status" -ne 0 ]
	has "pending: 1"
	[ ! -e app.db ]
}

@test "make install puts mig.mk in PREFIX/share/mig, and a Makefile can include it from there" {
	make -s -C "$TOP" install DESTDIR="$PWD/root" PREFIX=/usr >/dev/null
	cmp "$TOP/contrib/mig.mk" root/usr/share/mig/mig.mk
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n'
	printf 'MIG_FLAGS = -d app.db\ninclude root/usr/share/mig/mig.mk\n' >Makefile
	run -0 make -s db-up
	has "applying 0001_users"
}
