#!/usr/bin/env bats
# mig init: mig.conf and the migrations directory, written once, never overwritten.
# backend: sqlite (the paths init writes into mig.conf)
load helper

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	PATH="${MIG_TEST_BIN:-$TOP/bin}:$TOP/bin:$PATH"
	unset MIG_DATABASE MIG_MIGRATIONS MIG_STORE MIG_EXEC_PATH NO_COLOR
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg-cache
	# a project of its own, without the migrations/ the other suites start with
	mkdir "$BATS_TEST_TMPDIR/proj"
	cd "$BATS_TEST_TMPDIR/proj"
}

# a fingerprint of everything in the project: names, modes, bytes
tree() {
	find . -printf '%p %M\n' | sort
	find . -type f -exec sha1sum {} + | sort
}

@test "init writes mig.conf naming app.db and migrations, and makes the directory" {
	run -0 --separate-stderr mig init
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "mig-init: created migrations directory 'migrations'" ]
	[ "${stderr_lines[1]}" = "mig-init: wrote mig.conf: database = app.db" ]
	[ "${stderr_lines[2]}" = "mig-init: wrote mig.conf: migrations = migrations" ]
	[ -d migrations ]
	[ "$(git config -f mig.conf mig.database)" = app.db ]
	[ "$(git config -f mig.conf mig.migrations)" = migrations ]
	[ ! -e app.db ]
}

@test "after init, new, up and status need no -d" {
	mig init --database shop.db -q
	run -0 mig new users
	[ "$output" = "migrations/0001_users.sql" ]
	printf -- '-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE users;\n' >migrations/0001_users.sql
	run -0 mig up
	has "applying 0001_users"
	[ "$(q shop.db "SELECT name FROM sqlite_schema WHERE name = 'users'")" = users ]
	run -0 mig status
	has "database: shop.db"
	has "current: 0001_users"
	mkdir sub
	run -0 mig -C sub status --porcelain
	has "database	../shop.db	exists"
}

@test "init again with the same settings exits 0 and changes nothing" {
	mig init -d app.db -m db/migrations 2>/dev/null
	before=$(tree)
	touch -d '2000-01-01' mig.conf
	run -0 --separate-stderr mig init -d app.db -m db/migrations
	[ "$stderr" = "mig-init: nothing to do: mig.conf and 'db/migrations' are in place" ]
	run -0 mig init
	[ "$(tree)" = "$before" ]
	[ "$(stat -c %Y mig.conf)" = "$(date -d 2000-01-01 +%s)" ]
}

@test "init takes -d and -m before the command, through the front end, and from the environment" {
	run -0 mig -d one.db -m revs init
	[ "$(git config -f mig.conf mig.database)" = one.db ]
	[ -d revs ]
	rm mig.conf
	MIG_MIGRATIONS=other run -0 mig init
	[ "$(git config -f mig.conf mig.migrations)" = other ]
	[ -d other ]
}

@test "init refuses a mig.conf that names another database, naming the file and the key, and changes nothing" {
	mig init -d app.db 2>/dev/null
	before=$(tree)
	run -5 mig init --database other.db
	[ "${lines[0]}" = "mig-init: error: mig.conf sets mig.database to 'app.db', not 'other.db'" ]
	[ "${lines[1]}" = "hint: mig init never changes what mig.conf says: edit it, or name the same database" ]
	[ "$(tree)" = "$before" ]
}

@test "init refuses a database URL that holds a password: exit 5, the password never shown, nothing written" {
	run -5 mig init --database 'postgres://alice:Sekr1t@/app?host=/tmp'
	[ "${lines[0]}" = "mig-init: error: the database URL 'postgres://alice:***@/app?host=/tmp' holds a password: mig init does not write it to mig.conf" ]
	[ "${lines[1]}" = "hint: name the database without it, and give the password in ~/.pgpass or PGPASSWORD" ]
	[ "${#lines[@]}" -eq 2 ]
	[ -z "$(ls -A)" ]
	MIG_DATABASE='postgresql://alice@/app?password=Sekr1t' run -5 mig init
	[ "${lines[0]}" = "mig-init: error: the database URL 'postgresql://alice@/app?password=***' holds a password: mig init does not write it to mig.conf" ]
	[ -z "$(ls -A)" ]
	# one a user wrote in mig.conf is theirs, and is not shown either
	printf '[mig]\n\tdatabase = postgres://alice:Sekr1t@/app\n' >mig.conf
	run -5 mig init --database postgres://alice@/other
	[ "${lines[0]}" = "mig-init: error: mig.conf sets mig.database to 'postgres://alice:***@/app', not 'postgres://alice@/other'" ]
	[[ "$output" != *Sekr1t* ]]
	[ "$(ls -A)" = mig.conf ]
}

@test "init refuses another migrations directory before it makes it" {
	mig init 2>/dev/null
	before=$(tree)
	run -5 mig init -d app.db -m elsewhere
	[ "${lines[0]}" = "mig-init: error: mig.conf sets mig.migrations to 'migrations', not 'elsewhere'" ]
	[ "${lines[1]}" = "hint: mig init never changes what mig.conf says: edit it, or name the same migrations directory" ]
	[ ! -e elsewhere ]
	[ "$(tree)" = "$before" ]
}

@test "init adds a key mig.conf does not set, keeping what it says, its comments and its mode" {
	printf '# ours\n[mig]\n\tstore = /var/lib/app.mig ; shared\n' >mig.conf
	chmod 600 mig.conf
	run -0 --separate-stderr mig init -d app.db
	[ "$stderr" = "$(printf "mig-init: created migrations directory 'migrations'\nmig-init: added to mig.conf: database = app.db")" ]
	[ "$(head -3 mig.conf)" = "$(printf '# ours\n[mig]\n\tstore = /var/lib/app.mig ; shared')" ]
	[ "$(git config -f mig.conf mig.store)" = /var/lib/app.mig ]
	[ "$(git config -f mig.conf mig.database)" = app.db ]
	run -1 git config -f mig.conf mig.migrations
	[ "$(stat -c %a mig.conf)" = 600 ]
	run -0 mig status --porcelain
	has "database	app.db	missing"
}

@test "init does not replace a mig.conf that is a symbolic link, and says what to add where" {
	mkdir shared
	printf '[mig]\n\tmigrations = migrations\n' >shared/mig.conf
	ln -s shared/mig.conf mig.conf
	before=$(tree)
	run -5 mig init -d app.db
	[ "${lines[0]}" = "mig-init: error: mig.conf is a symbolic link: mig init does not replace it" ]
	[ "${lines[1]}" = "hint: add 'database = app.db' under [mig] in the file it points to" ]
	[ -L mig.conf ]
	[ "$(tree)" = "$before" ]
	run -0 mig init -m migrations
	[ -L mig.conf ]
	[ -d migrations ]
}

@test "init quotes a path git-config would cut short, and mig reads it back whole" {
	run -0 mig init -d 'my app #1.db' -m ' db/"x";'
	[ "$(git config -f mig.conf mig.database)" = 'my app #1.db' ]
	[ "$(git config -f mig.conf mig.migrations)" = ' db/"x";' ]
	run -0 mig status --porcelain
	has "database	my app #1.db	missing"
	has "migrations	 db/\"x\";"
}

@test "init refuses a path with a control character, and writes nothing" {
	run -2 mig init -d $'a\nb.db'
	[ "${lines[0]}" = "mig-init: error: the database 'a\\nb.db' holds a control character: mig.conf cannot name it" ]
	[ -z "$(ls -A)" ]
}

@test "init takes no arguments" {
	run -2 mig init app.db
	[ "${lines[0]}" = "mig-init: error: unexpected argument 'app.db'" ]
	has "usage: mig init [--database PATH] [--migrations DIR]"
	[ -z "$(ls -A)" ]
}

@test "a file where the migrations directory goes exits 6 and writes no mig.conf" {
	mkdir db
	touch db/migrations
	run -6 mig init -m db/migrations/new
	[ "${lines[0]}" = "mig-init: error: cannot create migrations directory 'db/migrations/new': 'db/migrations' is not a directory" ]
	[ ! -e mig.conf ]
}

@test "a mig.conf that is a directory or not text exits 6 naming it" {
	mkdir mig.conf
	run -6 mig init
	[ "${lines[0]}" = "mig-init: error: 'mig.conf' is a directory, not a regular file" ]
	rmdir mig.conf
	printf '[mig]\n\x01\n' >mig.conf
	run -6 mig init -d app.db
	[ "${lines[0]}" = "mig-init: error: mig.conf:2: not a text file (byte 0x01)" ]
	[ ! -e migrations ]
}

@test "init escapes a backslash and keeps a trailing blank, and refuses DEL as a control character" {
	run -2 mig init -d $'a\x7fb.db'
	[ "$output" = "mig-init: error: the database 'a\\x7fb.db' holds a control character: mig.conf cannot name it" ]
	[ -z "$(ls -A)" ]
	run -0 mig init -d 'a\b.db ' -m 'm\'
	[ "$(sed -n 3,4p mig.conf)" = "$(printf '\tdatabase = "a\\\\b.db "\n\tmigrations = "m\\\\"')" ]
	[ "$(git config -f mig.conf mig.database)" = 'a\b.db ' ]
	[ -d 'm\' ]
	run -0 mig status --porcelain
	has "database	a\\\\b.db 	missing"
	# an empty MIG_DATABASE names nothing: what mig.conf says stands
	run -0 env MIG_DATABASE= mig init
	[ "$output" = "mig-init: nothing to do: mig.conf and 'm\\' are in place" ]
}

@test "init names every key to add to a mig.conf that is a symbolic link" {
	mkdir shared
	printf '# shared\n[mig]\n' >shared/mig.conf
	ln -s shared/mig.conf mig.conf
	before=$(tree)
	run -5 mig init -d app.db -m db
	[ "${lines[0]}" = "mig-init: error: mig.conf is a symbolic link: mig init does not replace it" ]
	[ "${lines[1]}" = "hint: add 'database = app.db' and 'migrations = db' under [mig] in the file it points to" ]
	[ "$(tree)" = "$before" ]
}
