#!/usr/bin/env bats
# The README's quick start does what it says, line by line.
# backend: sqlite (the README's quick start is the demo's SQLite file)
load helper

@test "the README opens with its two commands, then a quick start that applies, reverts and re-applies" {
	awk '/^## Quick start/{f=1} f&&/^```sh$/{c=1; n++; next} c&&/^```$/{c=0; if (n == 2) exit; next} c' \
		"$TOP/README.md" >blocks.sh
	# at most 25 lines from the heading to the next section
	[ "$(awk '/^## Quick start/{f=1; next} f&&/^## /{exit} f' "$TOP/README.md" | wc -l)" -le 24 ]
	# the first two commands: dependencies, build and the demo; every test
	[[ "$(sed -n 1p blocks.sh)" == "sh contrib/install-deps && make && make demo "* ]]
	[[ "$(sed -n 2p blocks.sh)" == "make check "* ]]
	# the rest is run: mig is built and on PATH already
	{ echo 'set -e'; echo 'cd "$TMPDIR"'; tail -n +4 blocks.sh; echo 'pwd >"$WHERE"'; } >quick.sh
	[[ "$(sed -n 3p blocks.sh)" == 'export PATH=$PWD/bin:$PATH && cd "$(mktemp -d)"' ]]
	TMPDIR=$BATS_TEST_TMPDIR WHERE=$BATS_TEST_TMPDIR/where run -0 bash -c "cd \"\$(mktemp -d)\" && bash $BATS_TEST_TMPDIR/quick.sh"
	has "migrations/0001_users.sql"
	has "current: 0001_users"
	has "applied: 1 of 1"
	has "reverting 0001_users"
	[ "$(printf '%s\n' "$output" | grep -c '^applying 0001_users$')" = 2 ]
	cd "$(cat where)"
	[ "$(q app.db "SELECT sql FROM sqlite_schema WHERE name = 'users'")" = "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL)" ]
	run -0 mig status --porcelain
	[[ "$output" == *0001_users* ]]
}
