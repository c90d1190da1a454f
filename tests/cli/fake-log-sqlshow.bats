#!/usr/bin/env bats
# mig fake, mig log, mig sqlshow, --dry-run and drift.
load helper

users() {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n-- mig:down\nDROP TABLE users;\n'
	rev 0002_email $'-- mig:up\nALTER TABLE users ADD COLUMN email TEXT;\n-- mig:down\nALTER TABLE users DROP COLUMN email;\n'
}

applied() {
	q app.db "SELECT name FROM mig_revisions WHERE scope = 'app' ORDER BY seq" | paste -sd ' '
}

@test "up --dry-run runs everything, then leaves the database and the store as they were" {
	users
	run -0 mig -d app.db up --dry-run
	has "applying 0001_users (dry run)"
	has "applying 0002_email (dry run)"
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
	mig -d app.db up -q 0001
	before=$(q app.db .dump)
	run -0 mig -d app.db up -n
	has "applying 0002_email (dry run)"
	[ "$(q app.db .dump)" = "$before" ]
	[ "$(git --git-dir=app.db.mig rev-list --count HEAD)" = 1 ]
}

@test "up --dry-run reports the failure a real run would meet, and changes nothing" {
	sqlite_only
	users
	rev 0003_bad $'-- mig:up\nCREATE TABLE t(x INT);\nINSERT INTO nope VALUES (1);\n'
	mig -d app.db up -q 0002
	before=$(q app.db .dump)
	run -4 mig -d app.db up -n
	has "mig-up: error: 0003_bad: migrations/0003_bad.sql:3: no such table: nope"
	[ "$(q app.db .dump)" = "$before" ]
}

@test "down --dry-run reverts nothing" {
	users
	mig -d app.db up -q
	run -0 mig -d app.db down -n base
	has "reverting 0002_email (dry run)"
	has "reverting 0001_users (dry run)"
	[ "$(applied)" = "0001_users 0002_email" ]
}

@test "a dry run skips a no-transaction revision and says so" {
	users
	rev 0003_vacuum $'-- mig:no-transaction\n-- mig:up\nVACUUM;\n'
	run -0 mig -d app.db up -n
	has "mig-up: skipping 0003_vacuum in a dry run: it runs outside a transaction"
}

@test "status reports drift when the schema changed behind mig's back; -v shows how" {
	sqlite_only
	users
	mig -d app.db up -q
	run -0 mig -d app.db status --check
	q app.db 'CREATE INDEX users_name ON users(name)'
	run -1 mig -d app.db status --check
	has "problems:"
	[[ "$output" == *"the schema differs from the one recorded after 0002_email"* ]]
	run -0 mig -d app.db status -v
	has "    + index users_name: CREATE INDEX users_name ON users(name)"
	run -0 mig -d app.db status --porcelain
	[[ "$output" == *$'problem\tdrift\t0002_email\t'* ]]
	# putting it back is no drift
	q app.db 'DROP INDEX users_name'
	run -0 mig -d app.db status --check
}

@test "status names the objects that drifted: added, removed, changed" {
	sqlite_only
	users
	mig -d app.db up -q
	q app.db 'CREATE TABLE hotfix(x INT); CREATE INDEX users_name ON users(name); ALTER TABLE users ADD COLUMN age INT'
	run -1 mig -d app.db status --check
	[[ "$output" == *"the schema differs from the one recorded after 0002_email: index users_name added, table hotfix added, table users changed (schema "* ]]
	q app.db 'DROP TABLE hotfix; DROP INDEX users_name; DROP TABLE users'
	run -1 mig -d app.db status --check
	[[ "$output" == *"recorded after 0002_email: table users removed (schema "* ]]
}

@test "up and down refuse a drifted schema (exit 5) and change nothing; --accept-drift runs and journals it" {
	sqlite_only
	users
	rev 0003_phone $'-- mig:up\nALTER TABLE users ADD COLUMN phone TEXT;\n-- mig:down\nALTER TABLE users DROP COLUMN phone;\n'
	mig -d app.db up -q 0002
	q app.db 'CREATE TABLE hotfix(x INT)'
	before=$(q app.db .dump)
	log=$(git --git-dir=app.db.mig rev-parse refs/mig/journal)
	run -5 --separate-stderr mig -d app.db up
	[ "${stderr_lines[0]}" = "mig-up: error: the schema differs from the one recorded after 0002_email: table hotfix added" ]
	[[ "${stderr_lines[1]}" == "hint: 'mig status -v' shows how;"*"use --accept-drift" ]]
	run -5 mig -d app.db down
	[ "${lines[0]}" = "mig-down: error: the schema differs from the one recorded after 0002_email: table hotfix added" ]
	run -5 mig -d app.db up --dry-run
	[ "$(q app.db .dump)" = "$before" ]
	[ "$(git --git-dir=app.db.mig rev-parse refs/mig/journal)" = "$log" ]
	run -0 mig -d app.db backup --list --porcelain
	[ "${#lines[@]}" -eq 0 ]
	run -0 mig -d app.db up --accept-drift -q
	[ "$(applied)" = "0001_users 0002_email 0003_phone" ]
	run -0 mig -d app.db log -v -n 1
	has "    drift accepted: table hotfix added"
	run -0 mig -d app.db log --json -n 1
	[[ "$output" == *'"drift":"table hotfix added"'* ]]
	# the schema recorded now has the hotfix: no drift, and down needs no acceptance
	run -0 mig -d app.db status --check
	run -0 mig -d app.db down -q
	run -0 mig -d app.db log -v -n 1
	[[ "$output" != *"drift accepted"* ]]
}

@test "without the recorded schema in a store, the drift refusal names the two hashes" {
	users
	mig -d app.db up -q 0001
	rm -rf app.db.mig
	q app.db 'CREATE TABLE hotfix(x INT)'
	live=$(q app.db "SELECT schema_hash FROM mig_revisions WHERE name = '0001_users'")
	run -5 mig -d app.db up
	[[ "${lines[0]}" == "mig-up: error: the schema differs from the one recorded after 0001_users: schema "*", recorded ${live:0:12}" ]]
	[ "$(applied)" = 0001_users ]
	[ ! -e app.db.mig ]
}

@test "a store that lacks the recorded schema: the drift refusal names the two hashes, status -v says why" {
	users
	mig -d app.db up -q 0001
	q app.db 'CREATE TABLE hotfix(x INT)'
	live=$(q app.db "SELECT schema_hash FROM mig_revisions WHERE name = '0001_users'")
	rm "app.db.mig/objects/${live:0:2}/${live:2}"
	store=$(cd app.db.mig && find . -type f ! -name mig.lock ! -name '*.cache' -exec cksum {} + | sort)
	run -5 mig -d app.db up
	[[ "${lines[0]}" == "mig-up: error: the schema differs from the one recorded after 0001_users: schema "*", recorded ${live:0:12}" ]]
	[ "$(applied)" = 0001_users ]
	[ "$(cd app.db.mig && find . -type f ! -name mig.lock ! -name '*.cache' -exec cksum {} + | sort)" = "$store" ]
	run -1 mig -d app.db status -v --check
	has "    (the recorded schema ${live:0:12} is not in the store 'app.db.mig')"
}

@test "re-indenting a CREATE statement is no drift" {
	sqlite_only
	rev 0001_t $'-- mig:up\nCREATE TABLE t (\n  x INTEGER,\n  y TEXT\n);\n'
	mig -d app.db up -q
	q app.db "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE TABLE t (x INTEGER, y TEXT)' WHERE name = 't'"
	run -0 mig -d app.db status --check
}

@test "CRLF, tabs and form feeds between words are no drift either, whatever the words are made of" {
	sqlite_only
	t=$'\xc3\xa9t\xc3\xa9'
	rev 0001_t $'-- mig:up\r\nCREATE TABLE "'"$t"$'"\r\n(\r\n\ta$1 INTEGER ,\r\n\t[b]\tTEXT ,\r\n\t`c` BLOB\r\n) ;\r\n'
	mig -d app.db up -q
	run -0 mig -d app.db status --check
	set_sql() {
		q app.db "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = '$1' WHERE type = 'table' AND name = '$t'"
		[ "$(q app.db "SELECT sql FROM sqlite_schema WHERE name = '$t'")" = "$1" ]
	}
	set_sql "CREATE TABLE \"$t\"$(printf '\f')( a\$1 INTEGER, [b] TEXT, \`c\` BLOB )"
	run -0 mig -d app.db status --check
	# a blank that now parts two words is a change
	set_sql "CREATE TABLE \"$t\"( a\$1 INTEGER, [b] TEXT, \`c\` BLO B )"
	run -1 mig -d app.db status --check
}

@test "sqlshow --revision ends a last statement the file leaves open, with its newline and semicolon" {
	printf 'CREATE TABLE a(x INT)' >migrations/0001_a.sql
	printf -- '-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b' >migrations/0002_b.sql
	run -0 mig -d app.db sqlshow --revision 0001_a
	[ "$output" = $'CREATE TABLE a(x INT)\n;' ]
	run -0 mig -d app.db sqlshow --revision 0002_b --down
	[ "$output" = $'DROP TABLE b\n;' ]
	run -0 mig -d app.db up -q
	mig -d app.db sqlshow --revision 0002_b --down | q app.db
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'b'")" = 0 ]
}

@test "fake TARGET records revisions as applied without running them, and journals it" {
	users
	run -0 mig -d app.db fake 0001
	has "recording as applied: 0001_users"
	[ "$(applied)" = "0001_users" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 0 ]
	run -0 mig -d app.db log --porcelain
	[[ "${lines[0]}" == entry*$'\tfake\tok\t'* ]]
	[ "$(git --git-dir=app.db.mig cat-file -p "$(git hash-object migrations/0001_users.sql)")" = "$(cat migrations/0001_users.sql)" ]
}

@test "fake --unapply TARGET records later revisions as not applied, running nothing" {
	users
	mig -d app.db up -q
	run -0 mig -d app.db fake --unapply base
	[ -z "$(applied)" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")" = 1 ]
	run -2 mig -d app.db fake --unapply 0002_email
	has "mig-fake: error: 0002_email is not applied"
}

@test "fake --resolve clears a dirty state either way" {
	users
	mig -d app.db up -q
	rev 0003_half $'-- mig:no-transaction\n-- mig:up\nCREATE TABLE half(x INT);\nINSERT INTO nope VALUES (1);\n'
	run -4 mig -d app.db up
	run -5 mig -d app.db up
	has "mig-up: error: 0003_half did not finish: the database is dirty"
	run -5 mig -d app.db down
	run -0 mig -d app.db fake --resolve rolled-back
	[ "$(applied)" = "0001_users 0002_email" ]
	run -4 mig -d app.db up
	run -0 mig -d app.db fake --resolve applied
	[ "$(applied)" = "0001_users 0002_email 0003_half" ]
	run -0 mig -d app.db status --check
	run -0 mig -d app.db fake --resolve applied
	has "mig-fake: nothing is dirty"
	run -2 mig -d app.db fake --resolve maybe
	has "mig-fake: error: --resolve takes 'applied' or 'rolled-back', not 'maybe'"
}

@test "fake --rehash accepts a deliberate edit of an applied revision" {
	users
	mig -d app.db up -q
	seq=$(q app.db "SELECT seq FROM mig_revisions WHERE name = '0001_users'")
	printf -- '-- the users\n' >>migrations/0001_users.sql
	run -5 mig -d app.db up
	has "hint: to apply the edit: 'mig redo 0001_users' reverts it and what depends on it, then applies them again"
	has "hint: only for an edit that changes nothing (comments, white space): 'mig fake --rehash 0001_users'"
	has "hint: in production: put the file back, and make the change a new revision"
	run -0 mig -d app.db fake --rehash 0001_users
	[ "$(q app.db "SELECT id FROM mig_revisions WHERE name = '0001_users'")" = "$(git hash-object migrations/0001_users.sql)" ]
	[ "$(q app.db "SELECT seq FROM mig_revisions WHERE name = '0001_users'")" = "$seq" ]
	run -0 mig -d app.db status --check
	run -0 mig -d app.db fake --rehash 0001_users
	has "mig-fake: 0001_users is unchanged since it was applied"
}

@test "fake usage errors exit 2 and name the fault" {
	users
	run -2 mig -d app.db fake
	has "mig-fake: error: no target given"
	run -2 mig -d app.db fake --unapply base --rehash 0001
	has "mig-fake: error: --unapply, --resolve, --rehash and --adopt cannot be used together"
	run -2 mig -d app.db fake --rehash 0001
	has "mig-fake: error: 0001_users is not applied: there is nothing to rehash"
	run -2 mig -d app.db fake nope
	has "mig-fake: error: unknown revision 'nope'"
	[ ! -e app.db ]
}

@test "log shows the journal newest first, in three formats" {
	users
	run -0 --separate-stderr mig -d app.db log
	[ -z "$output" ]
	mig -d app.db up -q 0001
	mig -d app.db up -q
	mig -d app.db down -q
	run -0 mig -d app.db log
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" == *" ok: down 0002_email ("* ]]
	[[ "${lines[2]}" == *" ok: up 0001_users ("* ]]
	run -0 mig -d app.db log -n 1 -v
	[ "${#lines[@]}" = 4 ]
	[ "${lines[3]}" = "    snapshot $(mig -d app.db backup --list --porcelain | head -1 | cut -c10-21)" ]
	[[ "${lines[1]}" == "    0002_email  $(git hash-object migrations/0002_email.sql | cut -c1-12)  "*ms ]]
	run -0 mig -d app.db log --porcelain
	[ "$(printf '%s\n' "$output" | grep -c '^entry')" = 3 ]
	[[ "${lines[1]}" == "revision	$(git --git-dir=app.db.mig rev-parse HEAD)	0002_email	$(git hash-object migrations/0002_email.sql)	"[0-9]* ]]
	run -0 mig -d app.db log --json
	python3 -c 'import json,sys; d = json.load(sys.stdin); assert [e["operation"] for e in d] == ["down", "up", "up"], d' <<<"$output"
	run -2 mig -d app.db log --json --porcelain
	has "mig-log: error: --porcelain and --json cannot be used together"
}

@test "with \$USER unset the journal names the user from the password database; with it set, \$USER" {
	sqlite_only
	users
	env -u USER mig -d app.db up -q 0001
	USER=alice mig -d app.db up -q
	run -0 mig -d app.db log
	[[ "${lines[1]}" == *" ok: up 0001_users ($(id -un)@$(hostname))" ]]
	[[ "${lines[0]}" == *" ok: up 0002_email (alice@$(hostname))" ]]
	run -0 git --git-dir=app.db.mig log -1 --skip=1 --format=%an
	[ "$output" = "$(id -un)" ]
}

# the store's objects and refs (not its lock or caches), to see that nothing changed
store_sum() {
	(cd app.db.mig && find . -type f ! -name mig.lock ! -name '*.cache' -exec cksum {} + | sort)
}

@test "a journal pointing at a missing object: log exits 6 naming it; up, down and fake change nothing" {
	sqlite_only
	users
	mig -d app.db up -q 0001
	bad=1234567890123456789012345678901234567890
	echo "$bad" >app.db.mig/refs/mig/journal
	msg="error: store 'app.db.mig': the journal refs/mig/journal points at missing object $bad"
	db=$(cksum <app.db)
	store=$(store_sum)
	run -6 --separate-stderr mig -d app.db log
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "mig-log: $msg" ]
	[ "${stderr_lines[1]}" = "hint: 'git --git-dir=app.db.mig fsck' shows what else is damaged; 'git --git-dir=app.db.mig update-ref -d refs/mig/journal' starts a new journal" ]
	run -6 mig -d app.db log --json
	has "mig-log: $msg"
	for cmd in up down "fake 0002" "fake --unapply base"; do
		run -6 mig -d app.db $cmd
		has "mig-${cmd%% *}: $msg"
		[ "$(cksum <app.db)" = "$db" ]
		[ "$(store_sum)" = "$store" ]
	done
	[ "$(applied)" = 0001_users ]
	# the way out the hint gives works
	git --git-dir=app.db.mig update-ref -d refs/mig/journal
	run -0 mig -d app.db up -q
	[ "$(applied)" = "0001_users 0002_email" ]
	# a ref that cannot be read at all is named too
	echo garbage >app.db.mig/refs/mig/journal
	db=$(cksum <app.db)
	run -6 mig -d app.db log
	[[ "${lines[0]}" == "mig-log: error: store 'app.db.mig': cannot read the journal refs/mig/journal: "* ]]
	run -6 mig -d app.db down
	[[ "${lines[0]}" == "mig-down: error: store 'app.db.mig': cannot read the journal refs/mig/journal: "* ]]
	[ "$(cksum <app.db)" = "$db" ]
}

@test "log shows a journal commit whose time no calendar holds as @SECONDS, and goes on" {
	users
	mig -d app.db up -q 0001
	# a commit git itself writes for a date 3 billion years away
	git="git --git-dir=app.db.mig"
	c=$(printf 'tree %s\nparent %s\nauthor x <x@y> 99999999999999999 +0000\ncommitter x <x@y> 99999999999999999 +0000\n\nup 0002_email\n\noperation up\nresult ok\n' \
		"$($git mktree </dev/null)" "$($git rev-parse refs/mig/journal)" | $git hash-object -t commit -w --stdin --literally)
	$git update-ref refs/mig/journal "$c"
	run -0 mig -d app.db log
	[ "${lines[0]}" = "${c:0:12} @99999999999999999 ok: up 0002_email (x@y)" ]
	[[ "${lines[1]}" == *" ok: up 0001_users ("* ]]
	run -0 mig -d app.db log --porcelain
	has "entry	$c	@99999999999999999	up	ok	x@y	0"
	run -0 mig -d app.db log --json
	python3 -c 'import json,sys; d = json.load(sys.stdin); assert d[0]["time"] == "@99999999999999999", d' <<<"$output"
}

@test "log reads a revision line with an empty name as an empty name" {
	users
	mig -d app.db up -q 0001
	git="git --git-dir=app.db.mig"
	c=$(printf 'tree %s\nparent %s\nauthor x <x@y> 1700000000 +0000\ncommitter x <x@y> 1700000000 +0000\n\nup\n\noperation up\nrevision abc  5ms\nresult ok\n' \
		"$($git mktree </dev/null)" "$($git rev-parse refs/mig/journal)" | $git hash-object -t commit -w --stdin)
	$git update-ref refs/mig/journal "$c"
	run -0 mig -d app.db log --porcelain
	[ "${lines[0]}" = "entry	$c	2023-11-14T22:13:20Z	up	ok	x@y	1" ]
	[ "${lines[1]}" = "revision	$c		abc	5" ]
	run -0 mig -d app.db log --json
	python3 -c 'import json,sys; d = json.load(sys.stdin); assert d[0]["revisions"] == [{"name": "", "id": "abc", "ms": 5}], d' <<<"$output"
}

@test "log: a store without a journal yet prints nothing and exits 0, as no store does" {
	run -0 --separate-stderr mig -d app.db log
	[ -z "$output" ]
	[ -z "$stderr" ]
	git init -q --bare app.db.mig
	run -0 --separate-stderr mig -d app.db log
	[ -z "$output" ]
	[ -z "$stderr" ]
	run -0 mig -d app.db log --json
	[ "$output" = "[]" ]
}

@test "sqlshow | sqlite3 records what mig up records, schema hash included" {
	sqlite_only
	users
	run -0 mig -d a.db sqlshow
	has "BEGIN IMMEDIATE;"
	has "PRAGMA foreign_key_check;"
	mig -d a.db sqlshow | q b.db
	mig -d a.db up -q
	q="SELECT scope, name, id, schema_hash, dirty FROM mig_revisions ORDER BY seq"
	[ "$(q a.db "$q")" = "$(q b.db "$q")" ]
	[ "$(q a.db .schema)" = "$(q b.db .schema)" ]
	run -0 mig -d b.db status --check
	# and down
	mig -d a.db sqlshow --down base | q a.db
	run -0 mig -d a.db status --porcelain
	[[ "$output" != *current* ]]
	has "revision	pending	0002_email	$(git hash-object migrations/0002_email.sql)	migrations/0002_email.sql"
	[ "$(q a.db "SELECT count(*) FROM mig_revisions WHERE scope = 'app'")" = 0 ]
}

@test "sqlshow --down needs no store when the files are as applied, and leaves what mig down leaves" {
	users
	mig -d a.db sqlshow | q a.db
	mig -d b.db up -q
	[ ! -e a.db.mig ]
	run -0 --separate-stderr mig -d a.db sqlshow --down 0001
	[ -z "$stderr" ]
	has "-- down 0002_email (migrations/0002_email.sql)"
	mig -d a.db sqlshow --down 0001 | q a.db
	mig -d b.db down -q 0001
	q="SELECT scope, name, id, dirty FROM mig_revisions ORDER BY seq"
	[ "$(q a.db "$q")" = "$(q b.db "$q")" ]
	[ "$(q a.db .schema)" = "$(q b.db .schema)" ]
	[ ! -e a.db.mig ]
	# a file edited since it was applied: its body as applied is only in a store
	mig -d a.db sqlshow | q a.db
	echo "-- edited" >>migrations/0002_email.sql
	run -6 mig -d a.db sqlshow --down 0001
	[[ "${lines[0]}" == "mig-sqlshow: error: revision body "*" of 0002_email: there is no store" ]]
	[ "${lines[1]}" = "hint: to revert with migrations/0002_email.sql as it is now, use --from-files" ]
}

@test "sqlshow --revision prints one section; --schema replays up to a target" {
	sqlite_only
	users
	run -0 mig -d app.db sqlshow --revision 0002 --down
	[ "$output" = "ALTER TABLE users DROP COLUMN email;" ]
	run -0 mig -d app.db sqlshow --schema 0001
	[ "$output" = "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);" ]
	run -0 mig -d app.db sqlshow --schema
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *email* ]]
	[ ! -e app.db ]
	rev 0003_once $'-- mig:up\nCREATE TABLE once(x INT);\n'
	run -5 mig -d app.db sqlshow --revision 0003 --down
	has "mig-sqlshow: error: 0003_once is irreversible: it has no '-- mig:down' section"
	run -2 mig -d app.db sqlshow --revision nope
	has "mig-sqlshow: error: unknown revision 'nope'"
	run -2 mig -d app.db sqlshow --schema --down
	has "mig-sqlshow: error: --schema and --down cannot be used together"
}

@test "sqlshow --revision of an applied revision whose file is gone reads the store" {
	users
	mig -d app.db up -q
	rm migrations/0002_email.sql
	run -0 mig -d app.db sqlshow --revision 0002_email --down
	[ "$output" = "ALTER TABLE users DROP COLUMN email;" ]
}

@test "sqlshow with nothing to do prints nothing and exits 0" {
	users
	mig -d app.db up -q
	run -0 --separate-stderr mig -d app.db sqlshow
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "sqlshow usage errors and a missing store that is needed name the fault" {
	users
	run -2 mig -d app.db sqlshow --revision 0001 0002
	has "mig-sqlshow: error: --revision takes no other revision"
	run -2 mig -d app.db sqlshow 0001 0002
	has "mig-sqlshow: error: too many arguments"
	mig -d app.db up -q
	rm -rf app.db.mig
	# the files are as applied: they are the bodies, no store needed
	run -0 mig -d app.db sqlshow --down
	has "ALTER TABLE users DROP COLUMN email;"
	# one edited since: its body as applied is only in the store
	echo "-- edited" >>migrations/0002_email.sql
	run -6 mig -d app.db sqlshow --down
	[[ "${lines[0]}" == "mig-sqlshow: error: revision body "*" of 0002_email: there is no store" ]]
	run -0 mig -d app.db sqlshow --down --from-files
	has "ALTER TABLE users DROP COLUMN email;"
}

@test "log -n takes a count; fake --rehash needs the file" {
	users
	run -2 mig -d app.db log -n -1
	has "mig-log: error: option '-n' expects a non-negative number, not '-1'"
	mig -d app.db up -q
	rm migrations/0002_email.sql
	run -2 mig -d app.db fake --rehash 0002_email
	has "mig-fake: error: 0002_email: its file is missing"
	run -2 mig -d app.db fake --rehash heads
	has "mig-fake: error: 'heads' names no single revision"
}

# as_mig_does DIR: 'mig sqlshow | sqlite3' on one copy and 'mig up' on another
# record the same rows and schema, for every target in turn and then down
as_mig_does() {
	local q="SELECT scope, name, id, schema_hash, dirty FROM mig_revisions ORDER BY seq" t
	for t in "$@"; do
		run -0 mig -m "$DIR" -d s.db sqlshow "$t"
		mig -m "$DIR" -d s.db sqlshow "$t" | sqlite3 -bail s.db
		mig -m "$DIR" -d u.db up -q --no-backup "$t"
		[ "$(q s.db "$q")" = "$(q u.db "$q")" ]
		[ "$(q s.db .schema)" = "$(q u.db .schema)" ]
	done
	mig -m "$DIR" -d s.db sqlshow --down base | sqlite3 -bail s.db
	mig -m "$DIR" -d u.db down -q --no-backup base
	[ "$(q s.db "$q")" = "$(q u.db "$q")" ]
	[ "$(q s.db .schema)" = "$(q u.db .schema)" ]
	run -0 mig -m "$DIR" -d s.db status --porcelain
	[[ "$output" != *problem* ]]
}

@test "sqlshow | sqlite3 does what up and down do: targets, a no-transaction revision" {
	sqlite_only
	DIR=migrations
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_idx $'-- mig:no-transaction\n-- mig:up\nCREATE INDEX a_x ON a(x);\n-- mig:down\nDROP INDEX a_x;\n'
	rev 0003_b $'-- mig:up\nCREATE TABLE b(y INT);\n-- mig:down\nDROP TABLE b;\n'
	as_mig_does 0001 0002 head
}

@test "sqlshow | sqlite3 does what up and down do in every other tool's layout" {
	sqlite_only
	DIR=dbmate
	mkdir -p dbmate goose golang diesel/2024-01-01-000000_a diesel/2024-02-01-000000_b
	printf -- '-- migrate:up\nCREATE TABLE a(x INT);\n-- migrate:down\nDROP TABLE a;\n' >dbmate/20240101000000_a.sql
	printf -- '-- migrate:up\nCREATE TABLE b(x INT);\n-- migrate:down\nDROP TABLE b;\n' >dbmate/20240201000000_b.sql
	as_mig_does 20240101000000_a head
	rm -f s.db u.db
	rm -rf s.db.mig u.db.mig
	DIR=goose
	printf -- '-- +goose Up\nCREATE TABLE a(x INT);\n-- +goose Down\nDROP TABLE a;\n' >goose/00001_a.sql
	printf -- '-- +goose Up\nCREATE TABLE b(x INT);\n-- +goose Down\nDROP TABLE b;\n' >goose/00002_b.sql
	as_mig_does 00001_a head
	rm -f s.db u.db
	rm -rf s.db.mig u.db.mig
	DIR=golang
	printf 'CREATE TABLE a(x INT);\n' >golang/1_a.up.sql
	printf 'DROP TABLE a;\n' >golang/1_a.down.sql
	printf 'CREATE TABLE b(x INT);\n' >golang/2_b.up.sql
	printf 'DROP TABLE b;\n' >golang/2_b.down.sql
	as_mig_does 1_a head
	rm -f s.db u.db
	rm -rf s.db.mig u.db.mig
	DIR=diesel
	printf 'CREATE TABLE a(x INT);\n' >diesel/2024-01-01-000000_a/up.sql
	printf 'DROP TABLE a;\n' >diesel/2024-01-01-000000_a/down.sql
	printf 'CREATE TABLE b(x INT);\n' >diesel/2024-02-01-000000_b/up.sql
	printf 'DROP TABLE b;\n' >diesel/2024-02-01-000000_b/down.sql
	as_mig_does 2024-01-01-000000_a head
}
