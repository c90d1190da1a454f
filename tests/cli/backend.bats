#!/usr/bin/env bats
# The database is chosen by its address: a path is a SQLite file, a
# postgres:// or postgresql:// URL a PostgreSQL server's database; a
# password in a URL is never shown. Here no server answers (pg.bats has
# one): every command fails alike, and makes nothing.
load helper

URL='postgres://alice:s3cret@/app?host=/nonexistent&sslmode=disable&password=s3cret'

@test "a PostgreSQL server that does not answer fails every command, exit 6, its password hidden" {
	rev 0001_a 'CREATE TABLE a (x INT);'
	for c in status up down sqlshow "fake head" backup; do
		# shellcheck disable=SC2086
		run -6 mig -d "$URL" $c
		[[ "${lines[0]}" = "mig-${c%% *}: error: cannot connect to database 'postgres://alice:***@/app?host=/nonexistent&sslmode=disable&password=***': connection to server on socket \"/nonexistent/.s.PGSQL.5432\" failed: No such file or directory "* ]]
		[ "${#lines[@]}" -eq 1 ]
	done
	# a restore with no store has no snapshot to restore, and says so first
	run -6 mig -d "$URL" restore
	[ "${lines[0]}" = "mig-restore: error: no snapshot in store 'app.mig': it does not exist" ]
	run -0 mig -d "$URL" log
	[ -z "$output" ]
	# nothing was made beside it, neither a database file nor a store
	[ "$(ls -A)" = migrations ]
}

@test "postgresql:// in mig.conf and in MIG_DATABASE fail alike, from a subdirectory too" {
	printf '[mig]\n\tdatabase = postgresql://bob:hunter2@/app?host=/nonexistent\n' >mig.conf
	mkdir sub
	cd sub
	run -6 mig status
	[[ "$output" = "mig-status: error: cannot connect to database 'postgresql://bob:***@/app?host=/nonexistent': connection to server on socket "* ]]
	cd ..
	MIG_DATABASE='POSTGRESQL:///app?dbname=host%3D/nonexistent%20password%3Dhunter2' run -6 mig up
	[[ "$output" = "mig-up: error: cannot connect to database 'POSTGRESQL:///app?dbname=***': connection to server on socket "* ]]
	# however the key is spelled: percent-encoded, in capitals
	run -6 mig -d 'postgres:///app?host=/nonexistent&%70assword=hunter2&PassWord=hunter2&sslmode=disable' status
	[ "$output" = "mig-status: error: database 'postgres:///app?host=/nonexistent&%70assword=***&PassWord=***&sslmode=disable': invalid URI query parameter: \"PassWord\"" ]
	[[ "$output" != *hunter2* ]]
	# no file of mig's own holds the password (mig.conf is the user's; the
	# settings cache in xdg-cache copies it, as private as mig.conf)
	run ! grep -rq --exclude=mig.conf --exclude-dir=xdg-cache hunter2 .
	# nor was anything made: no database, no store
	[ "$(ls -A | grep -vx xdg-cache | sort | tr '\n' ' ')" = "mig.conf migrations sub " ]
	[ -z "$(ls -A sub)" ]
}

@test "an address that is no known URL is a file, as before" {
	rev 0001_a 'CREATE TABLE a (x INT);'
	mkdir -p 'x:'
	run -0 mig -d 'x://app.db' up -q
	[ -f x:/app.db ]
	# a scheme of letters, digits, '+', '-' and '.' that starts with a letter, but not one mig knows
	for a in 'my+db-1.0://x' '9x://y'; do
		run -0 mig -d "$a" status --porcelain
		[ "${lines[0]}" = "database	$a	missing" ]
	done
}

@test "a known scheme in capitals goes to libpq, which refuses a bad escape; what is no percent escape is shown as it is" {
	run -6 mig -d 'POSTGRES://u:p@h/db?x=%7&pass%zzword=y&password=%' status
	[ "$output" = "mig-status: error: database 'POSTGRES://u:***@h/db?x=%7&pass%zzword=y&password=***': invalid percent-encoded token: \"%7\"" ]
}
