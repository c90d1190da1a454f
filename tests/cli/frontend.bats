#!/usr/bin/env bats
# The mig front end: dispatch, global options, help, typos.
load helper

@test "mig with no command prints usage and exits 2" {
	run -2 mig
	[[ "$output" == usage:* ]]
}

@test "mig --help and mig help print usage and exit 0" {
	run -0 mig --help
	[[ "$output" == usage:* ]]
	run -0 mig help
	[[ "$output" == usage:* ]]
}

@test "mig help CMD and CMD --help show the manual; -h the usage" {
	# (stderr apart: man may warn about the locale)
	run -0 --separate-stderr mig help status
	[[ "${lines[0]}" == "MIG-STATUS(1)"* ]]
	has "NAME"
	run -0 --separate-stderr mig status --help
	[[ "${lines[0]}" == "MIG-STATUS(1)"* ]]
	run -0 --separate-stderr mig-backup --help
	[[ "${lines[0]}" == "MIG-BACKUP(1)"* ]]
	run -0 mig status -h
	[[ "${lines[0]}" == "usage: mig status"* ]]
}

@test "every command has a manual page with the sections a user looks for" {
	run -0 mig --list-commands
	commands=$(grep -vx help <<<"$output" | sort)
	# every binary beside mig, so the loop below cannot pass by running no command
	[ "$commands" = "$(cd "$TOP/bin" && ls mig-* | sed 's/^mig-//' | sort)" ]
	for c in $commands; do
		f="$TOP/man/mig-$c.1"
		[ -f "$f" ] || { echo "no page for $c" >&2; return 1; }
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
			grep -qx ".Sh $s" "$f" || { echo "$f has no $s" >&2; return 1; }
		done
	done
	run -0 --separate-stderr man -l "$TOP/man/mig.7"
	has "     Wherever a command takes a revision:"
}

@test "make install puts binaries, pages and completions under DESTDIR, and they work from there" {
	make -s -C "$TOP" install DESTDIR="$PWD/root" PREFIX=/usr >/dev/null
	[ -x root/usr/bin/mig ]
	[ -x root/usr/bin/mig-restore ]
	[ -f root/usr/share/man/man1/mig-up.1 ]
	[ -f root/usr/share/man/man7/mig.7 ]
	[ -f root/usr/share/bash-completion/completions/mig ]
	[ -f root/usr/share/zsh/site-functions/_mig ]
	[ -f root/usr/share/fish/vendor_completions.d/mig.fish ]
	[ "$(root/usr/bin/mig --exec-path)" = "$PWD/root/usr/bin" ]
	[ root/usr/bin/mig-status -ef root/usr/bin/mig ]
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	run -0 root/usr/bin/mig -d app.db up
	run -0 --separate-stderr root/usr/bin/mig up --help
	[[ "${lines[0]}" == "MIG-UP(1)"* ]]
}

@test "mig --version names the version" {
	run -0 mig --version
	[[ "$output" == "mig version "* ]]
}

@test "mig --exec-path prints the directory of the binaries" {
	run -0 mig --exec-path
	[ "$output" = "$TOP/bin" ]
}

@test "a typo'd command exits 2 and suggests the nearest" {
	run -2 mig stauts
	[ "${lines[0]}" = "mig: 'stauts' is not a mig command. See 'mig --help'." ]
	has "The most similar command is"
	[ "${lines[2]}" = "	status" ]
}

@test "a typo as near to a third-party command as to mig's own suggests both" {
	mkdir tools
	printf '#!/bin/sh\necho lag\n' >tools/mig-lag
	chmod +x tools/mig-lag
	PATH=$PWD/tools:$PATH run -2 mig lgg
	[ "${lines[0]}" = "mig: 'lgg' is not a mig command. See 'mig --help'." ]
	[ "${lines[1]}" = "The most similar commands are" ]
	[ "${lines[2]}" = "	log" ]
	[ "${lines[3]}" = "	lag" ]
	[ "${#lines[@]}" -eq 4 ]
}

@test "a command nothing resembles gets no suggestion" {
	run -2 mig xyzzyplugh
	[ "$output" = "mig: 'xyzzyplugh' is not a mig command. See 'mig --help'." ]
}

@test "an unknown global option exits 2" {
	run -2 mig --frobnicate status
	[ "${lines[0]}" = "mig: error: unknown option '--frobnicate'" ]
	# a short one is looked up among no long names
	run -2 mig -Z status
	[ "${lines[0]}" = "mig: error: unknown option '-Z'" ]
}

@test "a global option without its value exits 2" {
	run -2 mig -d
	[ "${lines[0]}" = "mig: error: option '-d' requires a value" ]
}

@test "a third-party mig-foo on PATH runs as mig foo with its arguments and exit status" {
	sqlite_only
	mkdir plug
	printf '#!/bin/sh\necho "hello $*"\necho "db=$MIG_DATABASE"\nexit 7\n' >plug/mig-hello
	chmod +x plug/mig-hello
	PATH="$PWD/plug:$PATH" run -7 mig -d x.db hello a b
	[ "${lines[0]}" = "hello a b" ]
	[ "${lines[1]}" = "db=x.db" ]
}

@test "--list-commands includes third-party commands" {
	mkdir plug
	printf '#!/bin/sh\n' >plug/mig-hello
	chmod +x plug/mig-hello
	PATH="$PWD/plug:$PATH" run -0 mig --list-commands
	has status
	has hello
}

@test "--list-commands: only help where there is no command; every one of many; an empty PATH entry is here" {
	mkdir empty plug
	run -0 env PATH="$PWD/empty" "$TOP/bin/mig" --exec-path="$PWD/empty" --list-commands
	[ "$output" = help ]
	for i in $(seq 1 40); do
		printf '#!/bin/sh\n' >"plug/mig-p$i"
		chmod +x "plug/mig-p$i"
	done
	# not executable: not a command
	printf '#!/bin/sh\n' >plug/mig-notes
	PATH="$PWD/plug:$PATH" run -0 mig --list-commands
	[ "$(grep -cx 'p[0-9]*' <<<"$output")" = 40 ]
	has status
	run ! grep -qx notes <<<"$output"
	cd plug
	run -0 env PATH=":$PWD/../empty" "$TOP/bin/mig" --exec-path="$PWD/../empty" --list-commands
	[ "$(grep -cx 'p[0-9]*' <<<"$output")" = 40 ]
	has help
}

@test "--exec-path=DIR takes commands from DIR first" {
	mkdir alt
	printf '#!/bin/sh\necho alt status\n' >alt/mig-status
	chmod +x alt/mig-status
	run -0 mig --exec-path="$PWD/alt" status
	[ "$output" = "alt status" ]
}

# LD_DEBUG=files has the loader name every library it loads: one libc a process image
@test "mig status runs the built-in status, with no second exec" {
	sqlite_only
	rev 0001_a 'SELECT 1;'
	[ "$TOP/bin/mig-status" -ef "$TOP/bin/mig" ]
	LD_DEBUG=files mig -d app.db status --porcelain >out 2>loader
	[ "$(grep -c 'file=libc.so.6 \[0\];  needed by' loader)" = 1 ]
	run -0 mig-status -d app.db --porcelain
	[ "$output" = "$(cat out)" ]
	has "revision	pending	0001_a	$(git hash-object migrations/0001_a.sql)	migrations/0001_a.sql"
}

@test "a mig-status on the exec path that is not mig itself is run as before" {
	sqlite_only
	rev 0001_a 'SELECT 1;'
	mkdir alt
	cp "$TOP/bin/mig" alt/mig-status
	LD_DEBUG=files mig --exec-path="$PWD/alt" -d app.db status --porcelain >out 2>loader
	[ "$(grep -c 'file=libc.so.6 \[0\];  needed by' loader)" = 2 ]
	grep -q "needed by mig-status \[0\]" loader
	run -0 mig-status -d app.db --porcelain
	[ "$output" = "$(cat out)" ]
}

@test "-C DIR runs as if started there" {
	mkdir -p proj/migrations
	printf 'CREATE TABLE t(x INT);\n' >proj/migrations/0001_t.sql
	run -0 mig -C proj -d app.db status --porcelain
	has "revision	pending	0001_t	$(git hash-object proj/migrations/0001_t.sql)	migrations/0001_t.sql"
	run -2 mig -C nosuch status
	[ "${lines[0]}" = "mig: error: cannot change to 'nosuch': No such file or directory" ]
}

@test "each binary takes the global options by itself" {
	rev 0001_a 'SELECT 1;'
	run -0 mig-status -d standalone.db --porcelain
	has "database	standalone.db	missing"
	run -0 mig-status --database=other.db --porcelain
	has "database	other.db	missing"
}

@test "an unknown option of a command exits 2 with usage" {
	run -2 mig status --frob
	[ "${lines[0]}" = "mig-status: error: unknown option '--frob'" ]
	has "usage: mig status [--check] [--porcelain | --json] [-v]"
}

@test "options take values as --x=v, --x v and bundled short options" {
	rev 0001_a 'SELECT 1;'
	run -0 mig-status --porcelain -vd a.db
	has "database	a.db	missing"
	run -0 mig-status --porcelain --database b.db
	has "database	b.db	missing"
	run -2 mig-status --porcelain=yes
	[ "${lines[0]}" = "mig-status: error: option '--porcelain' takes no value" ]
	run -2 mig-status --database
	[ "${lines[0]}" = "mig-status: error: option '--database' requires a value" ]
}

@test "--list-options prints a command's options for completion" {
	run -0 mig-status --list-options
	has "--porcelain"
	has "--database="
}

@test "-q and -v are taken by every command; -q keeps data and errors, -v says more" {
	run -0 mig --list-commands
	commands=$(grep -vx help <<<"$output" | sort)
	# every binary beside mig, so the loop below cannot pass by running no command
	[ "$commands" = "$(cd "$TOP/bin" && ls mig-* | sed 's/^mig-//' | sort)" ]
	for c in $commands; do
		mig "$c" --list-options | grep -qx -- --quiet || { echo "$c: no --quiet" >&2; return 1; }
		mig "$c" --list-options | grep -qx -- --verbose || { echo "$c: no --verbose" >&2; return 1; }
	done
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	run -0 --separate-stderr mig -d app.db up -v
	[ "${stderr_lines[0]}" = "applying 0001_a" ]
	[[ "${stderr_lines[1]}" =~ ^\ \ 0001_a\ took\ [0-9]+\ ms$ ]]
	run -0 --separate-stderr mig -d app.db fake --resolve applied -q
	[ -z "$stderr" ]
	run -0 --separate-stderr mig -d app.db backup -q
	[[ "$output" =~ ^[0-9a-f]{40}$ ]]
	[ -z "$stderr" ]
	run -2 --separate-stderr mig -d app.db restore -q nope
	[ "$stderr" = "mig-restore: error: 'nope' is no snapshot id: give 4 to 40 hex digits" ]
}

@test "-q and -v before the command are the front end's global options, handed to the command" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	run -0 --separate-stderr mig -q -d app.db up
	[ -z "$stderr" ]
	run -0 --separate-stderr mig --verbose -d app.db down --no-backup
	[ "${stderr_lines[0]}" = "reverting 0001_a" ]
	[[ "${stderr_lines[1]}" =~ ^\ \ 0001_a\ took\ [0-9]+\ ms$ ]]
	mkdir plug
	printf '#!/bin/sh\necho "$*"\n' >plug/mig-args
	chmod +x plug/mig-args
	PATH="$PWD/plug:$PATH" run -0 mig -q -v args a -- b
	[ "$output" = "-q -v a -- b" ]
	run -0 mig -q help status
	[[ "$output" == *MIG-STATUS* ]] || [[ "$output" == *mig-status* ]]
}

@test "colour only on a terminal, and never with NO_COLOR" {
	command -v script >/dev/null || skip "no script(1) for a terminal"
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	run -0 mig -d app.db status
	[[ "$output" != *$'\e['* ]]
	# script -e passes on the command's exit status: status with a pending revision is 0
	run -0 script -qec "mig -d app.db status" /dev/null
	[[ "$output" == *$'\e['* ]]
	[[ "$output" == *"0001_a"* ]]
	NO_COLOR=1 run -0 script -qec "mig -d app.db status" /dev/null
	[[ "$output" != *$'\e['* ]]
	[[ "$output" == *"0001_a"* ]]
}
