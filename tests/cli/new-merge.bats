#!/usr/bin/env bats
# mig new and mig merge: writing revisions, two branches, one merge.
load helper

@test "mig new writes NNNN_NAME.sql with parents = heads and prints its path" {
	run -0 mig new users
	[ "$output" = "migrations/0001_users.sql" ]
	[ "$(cat migrations/0001_users.sql)" = $'-- mig:parents\n-- mig:up\n\n-- mig:down' ]
	run -0 mig new email
	[ "$output" = "migrations/0002_email.sql" ]
	[ "$(head -1 migrations/0002_email.sql)" = "-- mig:parents 0001_users" ]
}

@test "mig new writes the file whole under a hidden name first: none is left, the mode is the umask's" {
	umask 027
	run -0 mig new users
	[ "$(stat -c %a migrations/0001_users.sql)" = 640 ]
	[ "$(find migrations -name '.*' | wc -l)" = 0 ]
	umask 022
	run -0 mig new email
	[ "$(stat -c %a migrations/0002_email.sql)" = 644 ]
	# a hidden file a killed mig new left is not a revision
	printf -- '-- mig:up\nCREATE' >migrations/.0003_x.sql.AbC123
	run -0 mig new more
	[ "$output" = "migrations/0003_more.sql" ]
}

@test "mig new never overwrites a file that appears under its name" {
	rev 0001_users $'-- mig:up\nSELECT 1;\n'
	# the name it picks is taken already, by a directory a racing writer made
	mkdir migrations/0002_email.sql
	run -6 mig new email
	[[ "$output" == *"cannot create 'migrations/0002_email.sql'"* ]]
	[ -d migrations/0002_email.sql ]
	[ "$(find migrations -name '.*' | wc -l)" = 0 ]
}

@test "mig new creates the migrations directory" {
	rmdir migrations
	run -0 mig new first
	[ "$output" = "migrations/0001_first.sql" ]
	[ -f migrations/0001_first.sql ]
}

@test "mig new continues the widest numbering" {
	rev 000041_old 'SELECT 1;'
	run -0 mig new next
	[ "$output" = "migrations/000042_next.sql" ]
}

@test "mig new refuses bad names with exit 2" {
	run -2 mig new "a b"
	[ "${lines[0]}" = "mig-new: error: invalid revision name 'a b'" ]
	run -2 mig new ../escape
	[ "${lines[0]}" = "mig-new: error: invalid revision name '../escape'" ]
	run -2 mig new
	[ "${lines[0]}" = "mig-new: error: a name is required" ]
	run -2 mig new a b
	[ "${lines[0]}" = "mig-new: error: too many arguments" ]
	[ -z "$(ls migrations)" ]
}

@test "mig new refuses to work on invalid files with exit 3" {
	rev 0001_a '-- mig:bogus'
	run -3 mig new b
	[ "${lines[0]}" = "mig-new: error: migrations/0001_a.sql:1: unknown directive '-- mig:bogus'" ]
}

@test "mig new in an unwritable place exits 6" {
	[ "$(id -u)" != 0 ] || skip "root writes everywhere"
	chmod 555 migrations
	run -6 mig new a
	[[ "${lines[0]}" == "mig-new: error: cannot create 'migrations/0001_a.sql': Permission denied" ]]
}

@test "two branches make two heads, mig merge joins them" {
	mig new base
	rev 0002_left '-- mig:parents 0001_base'
	rev 0003_right '-- mig:parents 0001_base'
	run -1 mig -d a.db status --check
	has "heads: 0002_left, 0003_right"
	run -0 mig merge
	[ "$output" = "migrations/0004_merge.sql" ]
	[ "$(head -1 migrations/0004_merge.sql)" = "-- mig:parents 0002_left 0003_right" ]
	run -0 mig -d a.db status
	has "head: 0004_merge"
	run -0 mig new after
	[ "$(head -1 migrations/0005_after.sql)" = "-- mig:parents 0004_merge" ]
}

@test "mig merge --name NAME and named heads" {
	mig new base
	rev 0002_a '-- mig:parents 0001_base'
	rev 0003_b '-- mig:parents 0001_base'
	rev 0004_c '-- mig:parents 0001_base'
	run -0 mig merge --name join_ab 0002 0003_b
	[ "$output" = "migrations/0005_join_ab.sql" ]
	[ "$(head -1 migrations/0005_join_ab.sql)" = "-- mig:parents 0002_a 0003_b" ]
}

@test "mig merge with one head, a non-head or a bad spec exits 2" {
	mig new base
	mig new next
	run -2 mig merge
	[ "$output" = "mig-merge: error: nothing to merge: there is only one head" ]
	rev 0003_side '-- mig:parents 0001_base'
	run -2 mig merge 0001_base 0003_side
	[ "${lines[0]}" = "mig-merge: error: '0001_base' is not a head" ]
	run -2 mig merge 0003_side
	[ "${lines[0]}" = "mig-merge: error: nothing to merge: name at least two heads" ]
	run -2 mig merge nosuch 0003_side
	[ "${lines[0]}" = "mig-merge: error: unknown revision 'nosuch'" ]
	run -2 mig merge base 0003_side
	[ "${lines[0]}" = "mig-merge: error: 'base' is not a head" ]
	run -2 mig merge 000
	[ "${lines[0]}" = "mig-merge: error: revision '000' is ambiguous: 0001_base, 0002_next, 0003_side" ]
	[ "$(ls migrations | wc -l)" = 3 ]
}
