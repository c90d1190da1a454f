#!/usr/bin/env bats
# mig status on revision files alone and on databases that do not exist.
load helper

@test "status on a database that does not exist reports everything pending and creates nothing" {
	sqlite_only
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	rev 0002_email 'ALTER TABLE users ADD COLUMN email TEXT;'
	run -0 mig -d app.db status
	[ "${lines[0]}" = "database: app.db (does not exist yet)" ]
	has "migrations: migrations (2 revisions)"
	has "current: base (nothing applied)"
	has "applied: 0 of 2"
	has "pending: 2"
	has "  0001_users"
	has "head: 0002_email"
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
}

@test "status --porcelain is tab-separated, one revision a line in order" {
	sqlite_only
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	rev 0002_email 'ALTER TABLE users ADD COLUMN email TEXT;'
	run -0 mig -d app.db status --porcelain
	[ "${lines[0]}" = "database	app.db	missing" ]
	[ "${lines[1]}" = "migrations	migrations" ]
	[ "${lines[2]}" = "revision	pending	0001_users	$(git hash-object migrations/0001_users.sql)	migrations/0001_users.sql" ]
	[ "${lines[3]}" = "revision	pending	0002_email	$(git hash-object migrations/0002_email.sql)	migrations/0002_email.sql" ]
	[ "${lines[4]}" = "head	0002_email" ]
	[ "${#lines[@]}" -eq 5 ]
}

@test "status --json is one valid document" {
	sqlite_only
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	run -0 mig -d app.db status --json
	run -0 python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["revisions"][0]["name"], d["pending"], d["exists"])' "$output"
	[ "$output" = "0001_users 1 False" ]
}

@test "status -v adds ids and paths" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	id=$(git hash-object migrations/0001_users.sql)
	run -0 mig -d app.db status -v
	has "  0001_users  ${id:0:12}  migrations/0001_users.sql"
}

@test "status --check exits 1 with pending revisions and 0 with none" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	run -1 mig -d app.db status --check
	rm migrations/0001_users.sql
	run -0 mig -d app.db status --check
	has "applied: 0 of 0"
}

@test "--porcelain and --json together are refused" {
	run -2 mig -d a.db status --porcelain --json
	[ "${lines[0]}" = "mig-status: error: --porcelain and --json cannot be used together" ]
}

@test "status takes no arguments" {
	run -2 mig -d a.db status extra
	[ "${lines[0]}" = "mig-status: error: unexpected argument 'extra'" ]
}

@test "several heads are a problem, --check exits 1" {
	rev 0001_root '-- mig:parents'
	rev 0002_a '-- mig:parents 0001_root'
	rev 0003_b '-- mig:parents 0001_root'
	run -1 mig -d app.db status --check
	has "heads: 0002_a, 0003_b"
	has "  2 heads: merge them with 'mig merge'"
	run -0 mig -d app.db status --porcelain
	has "problem	multiple-heads	0002_a 0003_b	2 heads: merge them with 'mig merge'"
}

@test "a missing migrations directory exits 3 with a hint" {
	rmdir migrations
	run -3 mig -d a.db status
	[ "${lines[0]}" = "mig-status: error: cannot open migrations directory 'migrations': No such file or directory" ]
	[ "${lines[1]}" = "hint: create it, or write the first revision with 'mig new NAME'" ]
}

@test "an empty migrations directory has nothing pending" {
	run -0 mig -d a.db status
	has "migrations: migrations (0 revisions)"
	has "head: none (no revisions yet)"
}

@test "a database that is not SQLite exits 6 naming it" {
	sqlite_only
	echo "not a database, just text that is long enough to have a header" >bad.db
	rev 0001_a 'SELECT 1;'
	run -6 mig -d bad.db status
	[ "${lines[0]}" = "mig-status: error: cannot read database 'bad.db': file is not a database" ]
}

@test "a database with bookkeeping from a newer mig is refused with exit 6" {
	sqlite_only
	rev 0001_a 'SELECT 1;'
	q new.db "CREATE TABLE mig_revisions (seq INTEGER PRIMARY KEY, scope TEXT, name TEXT, id TEXT,
		applied_at TEXT, duration_ms INTEGER, schema_hash TEXT, dirty INTEGER, UNIQUE(scope, name));
		INSERT INTO mig_revisions (scope, name, id, applied_at, duration_ms, dirty)
		VALUES ('mig', '9999_future', 'x', 'now', 0, 0);"
	run -6 mig -d new.db status
	[ "${lines[0]}" = "mig-status: error: database 'new.db' has bookkeeping from a newer mig (revision '9999_future')" ]
	[ "${lines[1]}" = "hint: upgrade mig to work with this database" ]
}

@test "status never writes a database it only reads, nor user_version" {
	sqlite_only
	rev 0001_a 'SELECT 1;'
	q plain.db "PRAGMA user_version = 42; CREATE TABLE t(x INT);"
	before=$(sha1sum plain.db)
	run -0 mig -d plain.db status
	has "database: plain.db"
	[ "$(sha1sum plain.db)" = "$before" ]
	[ "$(q plain.db 'PRAGMA user_version')" = 42 ]
}

@test "output to a closed pipe is not an error, to a full disk is exit 6" {
	rev 0001_a 'SELECT 1;'
	run -6 sh -c 'mig -d a.db status >/dev/full'
	[[ "$output" == "mig-status: error: write failure on standard output: No space left on device" ]]
}
