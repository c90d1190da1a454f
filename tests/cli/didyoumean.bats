#!/usr/bin/env bats
# Did you mean: mistyped options and commands get the nearest, other words get nothing, other tools' words get mig's.
load helper

@test "a mistyped option of a command exits 2 and names the option it is closest to" {
	rev 0001_a $'CREATE TABLE a(x INT);\n'
	run -2 mig -d app.db up --dry-rn
	[ "${lines[0]}" = "mig-up: error: unknown option '--dry-rn'; did you mean '--dry-run'?" ]
	[[ "${lines[1]}" == "usage: mig up "* ]]
	[ ! -e app.db ]
	run -2 mig -d app.db status --porcelian
	[ "${lines[0]}" = "mig-status: error: unknown option '--porcelian'; did you mean '--porcelain'?" ]
	run -2 mig -d app.db status --jsno
	[ "${lines[0]}" = "mig-status: error: unknown option '--jsno'; did you mean '--json'?" ]
	run -2 mig -d app.db up --lock-timout=5
	[ "${lines[0]}" = "mig-up: error: unknown option '--lock-timout'; did you mean '--lock-timeout'?" ]
}

@test "the start of an option's name is taken for it only when it starts one option" {
	run -2 mig -d app.db log --porc
	[ "${lines[0]}" = "mig-log: error: unknown option '--porc'; did you mean '--porcelain'?" ]
	run -2 mig -d app.db status --d
	[ "${lines[0]}" = "mig-status: error: unknown option '--d'" ]
	[ ! -e app.db ]
}

@test "an option nothing is close to gets no suggestion, nor a hidden one" {
	run -2 mig -d app.db status --frob
	[ "${lines[0]}" = "mig-status: error: unknown option '--frob'" ]
	run -2 mig -d app.db status --list-revision
	[ "${lines[0]}" = "mig-status: error: unknown option '--list-revision'" ]
}

@test "a mistyped global option of the front end names the nearest" {
	run -2 mig --databse app.db status
	[ "${lines[0]}" = "mig: error: unknown option '--databse'; did you mean '--database'?" ]
	run -2 mig --frobnicate status
	[ "${lines[0]}" = "mig: error: unknown option '--frobnicate'" ]
}

@test "a command one slip from a mig command is suggested; swapped letters are one slip" {
	run -2 mig sqlshwo
	[ "${lines[0]}" = "mig: 'sqlshwo' is not a mig command. See 'mig --help'." ]
	[ "${lines[1]}" = "The most similar command is" ]
	[ "${lines[2]}" = "	sqlshow" ]
	run -2 mig fkae
	[ "${lines[2]}" = "	fake" ]
	run -2 mig stat
	[ "${lines[2]}" = "	status" ]
}

@test "a word that is not close to any command gets no suggestion" {
	run -2 mig create
	[ "$output" = "mig: 'create' is not a mig command. See 'mig --help'." ]
	run -2 mig upgrade
	[ "$output" = "mig: 'upgrade' is not a mig command. See 'mig --help'." ]
}

@test "other tools' commands point at mig's, exit 2, and run nothing" {
	rev 0001_a $'CREATE TABLE a(x INT);\n'
	check() {
		run -2 mig -d app.db "$1"
		[ "${lines[0]}" = "mig: '$1' is not a mig command. See 'mig --help'." ]
		[ "${lines[1]}" = "hint: mig calls that 'mig $2' ($3)" ]
		[ "${#lines[@]}" = 2 ]
	}
	check history log "the journal; 'mig log --graph' draws the revisions"
	check current status "what is applied, pending and wrong"
	check heads status "its 'head:' line names them; 'mig log --graph' draws them"
	check stamp fake "record revisions as applied without running them"
	check migrate up "apply pending revisions"
	check rollback down "revert applied revisions"
	[ ! -e app.db ]
}

@test "a mig-history of one's own on PATH still runs as mig history" {
	mkdir plug
	printf '#!/bin/sh\necho mine\n' >plug/mig-history
	chmod +x plug/mig-history
	PATH="$PWD/plug:$PATH" run -0 mig history
	[ "$output" = mine ]
}
