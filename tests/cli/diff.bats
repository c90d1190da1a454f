#!/usr/bin/env bats
# mig diff: the body of an applied revision, as applied, against its file.

load helper
chain() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT);\n-- mig:down\nDROP TABLE c;\n'
}

@test "diff shows each edited applied revision as a unified diff, and nothing when none is" {
	chain
	mig -d app.db up -q
	run -0 --separate-stderr mig -d app.db diff
	[ -z "$output" ]
	[ -z "$stderr" ]
	old=$(git hash-object migrations/0002_b.sql)
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT, y INT);\n-- mig:down\nDROP TABLE b;\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT);\n-- mig:down\nDROP TABLE c;\n-- the end\n'
	new=$(git hash-object migrations/0002_b.sql)
	run -0 mig -d app.db diff
	[ "${lines[0]}" = "diff --git a/migrations/0002_b.sql b/migrations/0002_b.sql" ]
	[ "${lines[1]}" = "index ${old:0:7}..${new:0:7} 100644" ]
	has "-CREATE TABLE b(x INT);"
	has "+CREATE TABLE b(x INT, y INT);"
	has "diff --git a/migrations/0003_c.sql b/migrations/0003_c.sql"
	has "+-- the end"
	# one revision; one unchanged is nothing
	run -0 mig -d app.db diff 0003
	[ "${lines[0]}" = "diff --git a/migrations/0003_c.sql b/migrations/0003_c.sql" ]
	[ "${#lines[@]}" -eq 9 ]
	run -0 mig -d app.db diff 0001_a
	[ -z "$output" ]
	# the diff is git's: patch takes it back to the body as applied
	mig -d app.db diff 0002 | patch -s -R -p1
	[ "$(git hash-object migrations/0002_b.sql)" = "$old" ]
}

@test "diff refuses what has nothing to compare (exit 2), and a store without the body (exit 6)" {
	chain
	mig -d app.db up -q 0002
	run -2 mig -d app.db diff 0003
	[ "$output" = "mig-diff: error: 0003_c is not applied: there is no body to compare" ]
	run -2 mig -d app.db diff heads
	[ "$output" = "mig-diff: error: 'heads' names no single revision" ]
	run -2 mig -d app.db diff 0001 0002
	[ "${lines[0]}" = "mig-diff: error: too many arguments" ]
	mv migrations/0002_b.sql elsewhere
	run -2 mig -d app.db diff 0002_b
	[ "$output" = "mig-diff: error: 0002_b: its file is missing: there is no file to compare" ]
	# a file missing is not an edit: the whole diff leaves it out
	run -0 mig -d app.db diff
	[ -z "$output" ]
	mv elsewhere migrations/0002_b.sql
	echo "-- edited" >>migrations/0002_b.sql
	rm -rf app.db.mig
	id=$(q app.db "SELECT substr(id, 1, 12) FROM mig_revisions WHERE name = '0002_b'")
	run -6 mig -d app.db diff
	[ "$output" = "mig-diff: error: revision body $id of 0002_b: there is no store" ]
	[ ! -e app.db.mig ]
}

@test "without a store, sqlshow --down and --revision say what down --dry-run says" {
	chain
	mig -d app.db up -q 0002
	echo "-- edited" >>migrations/0002_b.sql
	rm -r app.db.mig
	id=$(q app.db "SELECT substr(id, 1, 12) FROM mig_revisions WHERE name = '0002_b'")
	for c in "down --dry-run" "sqlshow --down"; do
		# shellcheck disable=SC2086 # the command is words
		run -6 --separate-stderr mig -d app.db $c
		[ "${stderr_lines[-2]}" = "mig-${c%% *}: error: revision body $id of 0002_b: there is no store" ]
		[ "${stderr_lines[-1]}" = "hint: to revert with migrations/0002_b.sql as it is now, use --from-files" ]
		[ -z "$output" ]
	done
	mv migrations/0002_b.sql elsewhere
	run -6 mig -d app.db sqlshow --revision 0002_b --down
	[ "$output" = "mig-sqlshow: error: revision body $id of 0002_b: there is no store" ]
	[ ! -e app.db.mig ]
}
