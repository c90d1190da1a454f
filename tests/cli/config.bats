#!/usr/bin/env bats
# Where settings come from: options > environment > mig.conf > defaults.
load helper

@test "mig.conf is found from a subdirectory and its paths are relative to it" {
	printf '[mig]\n\tdatabase = app.db\n\tmigrations = db/migrations\n' >mig.conf
	mkdir -p db/migrations sub/deeper
	printf 'SELECT 1;\n' >db/migrations/0001_a.sql
	cd sub/deeper
	run -0 mig status --porcelain
	has "database	../../app.db	missing"
	has "migrations	../../db/migrations"
	has "revision	pending	0001_a	$(git hash-object ../../db/migrations/0001_a.sql)	../../db/migrations/0001_a.sql"
}

@test "from / the search for mig.conf ends at once, and options alone do" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	[ ! -e /mig.conf ] || skip "there is a /mig.conf"
	run -0 sh -c "cd / && mig -d '$PWD/app.db' -m '$PWD/migrations' status --porcelain"
	[ "${lines[0]}" = "database	$PWD/app.db	missing" ]
	[ "${lines[2]}" = "revision	pending	0001_a	$(git hash-object migrations/0001_a.sql)	$PWD/migrations/0001_a.sql" ]
}

@test "the environment overrides mig.conf, options override the environment" {
	sqlite_only
	printf '[mig]\n\tdatabase = conf.db\n' >mig.conf
	run -0 mig status --porcelain
	has "database	conf.db	missing"
	MIG_DATABASE=env.db run -0 mig status --porcelain
	has "database	env.db	missing"
	MIG_DATABASE=env.db run -0 mig -d opt.db status --porcelain
	has "database	opt.db	missing"
	MIG_DATABASE=env.db run -0 mig-status -d opt.db --porcelain
	has "database	opt.db	missing"
}

@test "MIG_MIGRATIONS and -m name the migrations directory" {
	mkdir other
	printf 'SELECT 1;\n' >other/0001_o.sql
	MIG_MIGRATIONS=other run -0 mig -d a.db status --porcelain
	has "migrations	other"
	run -0 mig -d a.db -m other status --porcelain
	has "migrations	other"
}

@test "no database anywhere is a usage error naming the ways to give one" {
	run -2 mig status
	[ "${lines[0]}" = "mig-status: error: no database given" ]
	[ "${lines[1]}" = "hint: name one with -d PATH, MIG_DATABASE, or 'database = PATH' under [mig] in mig.conf" ]
}

@test "a malformed mig.conf exits 6 naming the file" {
	printf '[mig\n\tdatabase = x\n' >mig.conf
	run -6 mig status
	[[ "${lines[0]}" == "mig-status: error: cannot read configuration: "*"mig.conf"* ]]
	# every command reads it first, those that change nothing in the database too
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	for c in "new x" "merge" "diff" "redo 0001_a" "log" "log --graph" "sqlshow"; do
		# shellcheck disable=SC2086 # the command is words
		run -6 mig $c
		[[ "${lines[0]}" == "mig-${c%% *}: error: cannot read configuration: "*"mig.conf"* ]]
	done
	[ "$(ls migrations)" = 0001_a.sql ]
}

@test "a mig.conf that is a FIFO or a directory exits 6 at once" {
	mkfifo mig.conf
	run -6 timeout 10 mig status
	[ "$output" = "mig-status: error: '$(pwd -P)/mig.conf' is a FIFO, not a regular file" ]
	rm mig.conf
	mkdir mig.conf
	run -6 timeout 10 mig -d a.db up
	[ "$output" = "mig-up: error: '$(pwd -P)/mig.conf' is a directory, not a regular file" ]
	[ ! -e a.db ]
	[ ! -e a.db.mig ]
}

@test "a binary mig.conf exits 6 naming the file and line, not 'no database given'" {
	printf '\0\0\0\0' >mig.conf
	run -6 mig status
	[ "${lines[0]}" = "mig-status: error: $(pwd -P)/mig.conf:1: not a text file (byte 0x00)" ]
	[ "${lines[1]}" = "hint: mig.conf is in git-config syntax: '[mig]', then lines of 'key = value'" ]
	printf '[mig]\n\tdatabase = a.db\n\0\0' >mig.conf
	run -6 mig -d b.db up
	[ "${lines[0]}" = "mig-up: error: $(pwd -P)/mig.conf:3: not a text file (byte 0x00)" ]
	[ ! -e a.db ]
	[ ! -e b.db ]
	# libgit2 would take this for a comment
	printf ';\x9c\x01\xfe\x1b\x7f' >mig.conf
	run -6 mig status
	[ "${lines[0]}" = "mig-status: error: $(pwd -P)/mig.conf:1: not a text file (byte 0x01)" ]
}

@test "a negative mig.lockTimeout is refused" {
	printf '[mig]\n\tdatabase = a.db\n\tlockTimeout = -5\n' >mig.conf
	run -6 mig status
	[[ "${lines[0]}" == *"mig.conf: mig.lockTimeout must not be negative" ]]
}

@test "mig.schema on SQLite is ignored: bookkeeping stays in mig_* tables, and status notes it" {
	printf '[mig]\n\tdatabase = a.db\n\tschema = other\n' >mig.conf
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	run -0 mig up -q
	[ "$(sqlite3 a.db "SELECT name FROM mig_revisions WHERE scope = 'app'")" = 0001_a ]
	run -0 --separate-stderr mig status
	[ "$stderr" = "mig-status: mig.schema is for PostgreSQL: a SQLite database keeps mig's bookkeeping in its mig_* tables" ]
	run -0 --separate-stderr mig status --porcelain
	[ "$stderr" = "" ]
	run -0 --separate-stderr mig status -q
	[ "$stderr" = "" ]
}
