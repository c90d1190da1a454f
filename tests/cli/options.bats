#!/usr/bin/env bats
# Options and their misuse, in the front end and in every mig-*: each
# spelling of a global option, the errors for what cannot be a command or
# a value, and what happens when stdout cannot be written.
load helper

one() {
	rev 0001_a $'-- mig:up\nCREATE TABLE t(x INT);\n-- mig:down\nDROP TABLE t;\n'
}

@test "the front end takes --database=, --migrations=, --store=, long -q/-v, and -- before the command" {
	sqlite_only
	one
	mkdir other
	mv migrations/0001_a.sql other/
	run -0 mig --database=app.db --migrations=other --store=st --quiet up
	[ -z "$output" ]
	[ -d st ]
	[ ! -e app.db.mig ]
	run -0 mig --database app.db --migrations other --store st status --porcelain
	has "database	app.db	exists"
	has "migrations	other"
	run -0 mig -d app.db -m other --store st --verbose -h
	[[ "${lines[0]}" == usage:* ]]
	run -0 mig -d app.db -m other --store=st -- status --porcelain
	has "revision	applied	0001_a	$(git hash-object other/0001_a.sql)	other/0001_a.sql"
	# more -q than it hands on are harmless
	run -0 mig -q -q -q -q -q -q -q -q -q -q --migrations=other --store=st -d app.db down
	[ -z "$output" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 0 ]
}

@test "what cannot be a command name is a usage error (exit 2)" {
	run -2 mig ''
	[ "$output" = "mig: error: '' is not a command name" ]
	run -2 mig a/b
	[ "$output" = "mig: error: 'a/b' is not a command name" ]
	run -2 mig -- -x
	[ "$output" = "mig: error: '-x' is not a command name" ]
}

@test "a mig-foo that cannot be run exits 6 naming why; one that is not there is looked for everywhere" {
	mkdir alt
	: >alt/mig-foo
	: >alt/mig-
	run -6 mig --exec-path="$PWD/alt" foo
	[ "$output" = "mig: cannot run 'mig-foo': Permission denied" ]
	# neither the file named 'mig-' nor one not executable is a command
	run -0 mig --exec-path="$PWD/alt" --list-commands
	has status
	commands=$output
	run ! grep -qx -e '' -e foo <<<"$commands"
	# an exec path that does not exist, and no PATH at all
	run -2 mig --exec-path=/nonexistent stauts
	has "	status"
	run -2 env -u PATH "$TOP/bin/mig" stauts
	has "mig: 'stauts' is not a mig command. See 'mig --help'."
	# an empty MIG_EXEC_PATH is none
	MIG_EXEC_PATH= run -0 mig --exec-path
	[ "$output" = "$TOP/bin" ]
}

@test "each command's own option errors exit 2 with the usage" {
	run -2 --separate-stderr mig-status -d
	[ "${stderr_lines[0]}" = "mig-status: error: option '-d' requires a value" ]
	[ "${stderr_lines[1]}" = "usage: mig status [--check] [--porcelain | --json] [-v]" ]
	run -2 --separate-stderr mig-status -Z
	[ "${stderr_lines[0]}" = "mig-status: error: unknown option '-Z'" ]
	run -2 --separate-stderr mig-status -C /nonexistent
	[ "${stderr_lines[0]}" = "mig-status: error: cannot change to '/nonexistent': No such file or directory" ]
	for v in abc -5 '' 99999999999 99999999999999999999; do
		run -2 --separate-stderr mig-up --lock-timeout="$v"
		[ "${stderr_lines[0]}" = "mig-up: error: option '--lock-timeout' expects a non-negative number, not '$v'" ]
	done
	run -2 --separate-stderr mig-up --lock-timeout x
	[ "${stderr_lines[0]}" = "mig-up: error: option '--lock-timeout' expects a non-negative number, not 'x'" ]
}

@test "a value glued to a short option, and -- before operands that look like options" {
	one
	run -0 mig-up -dapp.db -q
	run -0 mig-status -dapp.db --porcelain
	has "revision	applied	0001_a	$(git hash-object migrations/0001_a.sql)	migrations/0001_a.sql"
	# after --, -1 is the revision spec it always was, and -q is an operand
	run -0 mig-down -d app.db -q -- -1
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 0 ]
	run -2 mig-status -d app.db -- -q
	[ "${lines[0]}" = "mig-status: error: unexpected argument '-q'" ]
}

@test "--help without a manual page beside the binary or installed prints the usage" {
	mkdir -p lone/bin
	cp "$TOP/bin/mig-log" lone/bin/
	run -0 --separate-stderr lone/bin/mig-log --help
	[[ "${lines[0]}" == "usage: mig log"* ]]
}

@test "stdout that cannot be written: exit 6 naming it; a reader gone (EPIPE) is no error" {
	one
	run -6 --separate-stderr sh -c 'mig -d app.db status >/dev/full'
	[ "$stderr" = "mig-status: error: write failure on standard output: No space left on device" ]
	# SIGPIPE ignored, as a shell script may: the write fails with EPIPE
	run -0 --separate-stderr python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(["mig", "-d", "app.db", "status"], stdout=w, restore_signals=False).returncode)'
	[ -z "$stderr" ]
}

@test "-v adds each revision's time to up and down; with -q as well, nothing is said" {
	one
	run -0 --separate-stderr mig -d app.db up -v
	[ "${stderr_lines[0]}" = "applying 0001_a" ]
	[[ "${stderr_lines[1]}" =~ ^\ \ 0001_a\ took\ [0-9]+\ ms$ ]]
	run -0 --separate-stderr mig -d app.db down -v --no-backup
	[ "${stderr_lines[0]}" = "reverting 0001_a" ]
	[[ "${stderr_lines[1]}" =~ ^\ \ 0001_a\ took\ [0-9]+\ ms$ ]]
	run -0 --separate-stderr mig -d app.db up -v -q
	[ -z "$stderr" ]
	run -0 --separate-stderr mig -d app.db down -v -q
	[ -z "$stderr" ]
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 0 ]
}
