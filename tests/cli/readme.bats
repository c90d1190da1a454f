#!/usr/bin/env bats
# The README's quick start does what it says, line by line.
load helper

@test "the README's quick start, after its build line, applies, reverts and re-applies its first revision" {
	awk '/^## Quick start/{f=1} f&&/^```sh$/{c=1; next} c&&/^```$/{exit} c' "$TOP/README.md" >all.sh
	# at most 25 lines from the heading to the next section
	[ "$(awk '/^## Quick start/{f=1; next} f&&/^## /{exit} f' "$TOP/README.md" | wc -l)" -le 24 ]
	# the build line is make's business: mig is built and on PATH already
	[[ "$(head -1 all.sh)" == "sh contrib/install-deps && make && export PATH="* ]]
	{ echo 'set -e'; tail -n +2 all.sh; echo 'pwd >"$WHERE"'; } >quick.sh
	TMPDIR=$BATS_TEST_TMPDIR WHERE=$BATS_TEST_TMPDIR/where run -0 bash quick.sh
	has "migrations/0001_users.sql"
	has "current: 0001_users"
	has "applied: 1 of 1"
	has "reverting 0001_users"
	[ "$(printf '%s\n' "$output" | grep -c '^applying 0001_users$')" = 2 ]
	cd "$(cat where)"
	[ "$(sqlite3 app.db "SELECT sql FROM sqlite_schema WHERE name = 'users'")" = "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL)" ]
	run -0 mig status --porcelain
	[[ "$output" == *0001_users* ]]
}
