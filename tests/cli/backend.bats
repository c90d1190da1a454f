#!/usr/bin/env bats
# The database is chosen by its address: a path is a SQLite file, a
# postgres:// or postgresql:// URL needs PostgreSQL support, which this
# build may not have; a password in a URL is never shown.
load helper

URL='postgres://alice:s3cret@db.example:5432/app?sslmode=require&password=s3cret'

@test "a PostgreSQL URL without PostgreSQL support is refused by every command, exit 6" {
	rev 0001_a 'CREATE TABLE a (x);'
	for c in status up down backup log restore sqlshow "fake head"; do
		# shellcheck disable=SC2086
		run -6 mig -d "$URL" $c
		[ "${lines[0]}" = "mig-${c%% *}: error: database 'postgres://alice:***@db.example:5432/app?sslmode=require&password=***': PostgreSQL support is not built in" ]
		[ "${#lines[@]}" -eq 1 ]
	done
	# nothing was made beside it, neither a database file nor a store
	[ "$(ls -A)" = migrations ]
}

@test "postgresql:// in mig.conf and in MIG_DATABASE is refused alike, from a subdirectory too" {
	printf '[mig]\n\tdatabase = postgresql://bob:hunter2@/app?host=/run/pg\n' >mig.conf
	mkdir sub
	cd sub
	run -6 mig status
	[ "$output" = "mig-status: error: database 'postgresql://bob:***@/app?host=/run/pg': PostgreSQL support is not built in" ]
	cd ..
	MIG_DATABASE='POSTGRESQL:///app?dbname=host%3Dh%20password%3Dhunter2' run -6 mig up
	[ "$output" = "mig-up: error: database 'POSTGRESQL:///app?dbname=***': PostgreSQL support is not built in" ]
	# however the key is spelled: percent-encoded, in capitals
	run -6 mig -d 'postgres:///app?%70assword=hunter2&PassWord=hunter2&sslmode=disable' status
	[ "$output" = "mig-status: error: database 'postgres:///app?%70assword=***&PassWord=***&sslmode=disable': PostgreSQL support is not built in" ]
	# no file of mig's own holds the password (mig.conf is the user's; the
	# settings cache in xdg-cache copies it: left for the PostgreSQL work)
	run ! grep -rq --exclude=mig.conf --exclude-dir=xdg-cache hunter2 .
	# nor was anything made: no database, no store
	[ "$(ls -A | grep -vx xdg-cache | sort | tr '\n' ' ')" = "mig.conf migrations sub " ]
	[ -z "$(ls -A sub)" ]
}

@test "an address that is no known URL is a file, as before" {
	rev 0001_a 'CREATE TABLE a (x);'
	mkdir -p 'x:'
	run -0 mig -d 'x://app.db' up -q
	[ -f x:/app.db ]
	# a scheme of letters, digits, '+', '-' and '.' that starts with a letter, but not one mig knows
	for a in 'my+db-1.0://x' '9x://y'; do
		run -0 mig -d "$a" status --porcelain
		[ "${lines[0]}" = "database	$a	missing" ]
	done
}

@test "a known scheme in capitals is still refused; what is no percent escape is shown as it is" {
	run -6 mig -d 'POSTGRES://u:p@h/db?x=%7&pass%zzword=y&password=%' status
	[ "$output" = "mig-status: error: database 'POSTGRES://u:***@h/db?x=%7&pass%zzword=y&password=***': PostgreSQL support is not built in" ]
}
