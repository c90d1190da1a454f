#!/usr/bin/env bats
# Shell completion: bash driven through its completion function, fish
# through 'complete -C', zsh pressed TAB at in a terminal (tmux).
# backend: sqlite (the shells run mig themselves, on the file the line names)
load helper

# comp WORD...: what bash completes for the last word
comp() {
	source "$TOP/completions/mig.bash"
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_mig
	printf '%s\n' "${COMPREPLY[@]}"
}

project() {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INT);\n-- mig:down\nDROP TABLE users;\n'
	rev 0002_email $'-- mig:up\nCREATE TABLE email(id INT);\n-- mig:down\nDROP TABLE email;\n'
}

@test "bash: commands, third-party ones on PATH included" {
	run -0 comp mig st
	[ "$output" = status ]
	run -0 comp mig ""
	has up
	has backup
	has restore
	mkdir -p ext
	printf '#!/bin/sh\necho frob\n' >ext/mig-frobnicate
	chmod +x ext/mig-frobnicate
	PATH="$PWD/ext:$PATH" run -0 comp mig fr
	[ "$output" = frobnicate ]
	run -0 comp mig help rest
	[ "$output" = restore ]
}

@test "bash: a command's options come from the binary" {
	run -0 comp mig up --dr
	[ "$output" = "--dry-run" ]
	run -0 comp mig backup --
	has "--verify"
	has "--prune="
	has "--list"
	run -0 comp mig --data
	[ "$output" = "--database=" ]
	run -0 comp mig --qu
	[ "$output" = "--quiet" ]
	run -0 comp mig -q --verb
	[ "$output" = "--verbose" ]
	# a global -q does not hide the command after it
	run -0 comp mig -q up --dr
	[ "$output" = "--dry-run" ]
	[ "$(mig up --list-options | sort)" = "$(comp mig up - | sort)" ]
}

@test "bash: revisions and specs where a revision is taken, from the project named" {
	project
	run -0 comp mig down 00
	[ "$output" = $'0001_users\n0002_email' ]
	run -0 comp mig up he
	[ "$output" = $'head\nheads' ]
	# redo and diff take a revision too
	run -0 comp mig redo 0002
	[ "$output" = 0002_email ]
	run -0 comp mig diff 0001
	[ "$output" = 0001_users ]
	mkdir sub
	mv migrations sub/
	run -0 comp mig up 0
	[ -z "$output" ]
	run -0 comp mig -C sub up 0002
	[ "$output" = 0002_email ]
}

@test "bash: after -d URL or --database=URL, which bash cuts at ':' and '=', the command and its options complete" {
	# bash hands 'mig -d postgres://u@/db?host=/x up --dr' over in these pieces
	run -0 comp mig -d postgres : //u@/db?host = /nonexistent up --dr
	[ "$output" = "--dry-run" ]
	run -0 comp mig -d postgres : //u@/db?host = /nonexistent st
	[ "$output" = status ]
	run -0 comp mig --database = postgresql : //u@/db?host = /nonexistent -q backup --li
	[ "$output" = "--list" ]
	run -0 comp mig --database = app.db fake --resolve r
	[ "$output" = rolled-back ]
	[ ! -e app.db ]
}

@test "bash: after -d and -C quoted whole, as a URL's ? and & or a blank need, mig is asked about what the shell passes" {
	project
	mkdir "my dir"
	mv migrations "my dir"/
	mig -C "my dir" -d "my app.db" up -q
	id=$(mig -C "my dir" -d "my app.db" backup)
	run -0 comp mig -C "'my dir'" -d "'my app.db'" restore ""
	[ "$output" = "${id:0:12}" ]
	run -0 comp mig -C '"my dir"' --database = '"my app.db"' restore ""
	[ "$output" = "${id:0:12}" ]
	# what the shell would expand is left as it is, not run
	run -0 comp mig -C '"my dir"' -d '"$(touch ran)"' restore ""
	[ -z "$output" ]
	[ ! -e ran ]
	[ ! -e "my dir/\$(touch ran)" ]
}

@test "bash: a name with a colon, a blank, a quote or a \$ is offered quoted, not split or expanded" {
	rev '0001_a:b c' 'SELECT 1;'
	rev "0002_\$HOME 'q'" 'SELECT 1;'
	run -0 comp mig up 0001
	[ "$output" = '0001_a:b\ c' ]
	run -0 comp mig up 0002
	[ "$output" = "0002_\\\$HOME\\ \\'q\\'" ]
	run -0 comp mig up zz
	[ -z "$output" ]
}

@test "bash: snapshot ids for restore and backup --verify; files for -o and -i" {
	project
	mig -d app.db up -q
	id=$(mig -d app.db backup)
	run -0 comp mig -d app.db restore ""
	[ "$output" = "${id:0:12}" ]
	run -0 comp mig -d app.db backup --verify "${id:0:3}"
	[ "$output" = "${id:0:12}" ]
	: >image.gz
	run -0 comp mig -d app.db restore -i ima
	[ "$output" = image.gz ]
	run -0 comp mig backup -o ima
	[ "$output" = image.gz ]
}

# the described lists: what a command does, an option's help, a revision's state
@test "--list-commands, --list-options and --list-revisions =described: NAME, a tab, what it is" {
	mkdir -p ext
	printf '#!/bin/sh\n' >ext/mig-frobnicate
	chmod +x ext/mig-frobnicate
	PATH="$PWD/ext:$PATH" run -0 mig --list-commands=described
	has $'up\tapply pending revisions'
	has $'help\tshow a command\'s manual'
	# a third-party command has no description
	has $'frobnicate\t'
	# the usage lists the same commands, doing the same: one table
	run -0 mig --help
	has "   up        apply pending revisions"
	has "   sqlshow   print the SQL that up or down would run"
	run -0 mig --list-options=described
	has $'--database=\tthe database: a file, or a postgres:// URL'
	has $'--version\tprint mig\'s version'
	# a command's options, each with the help its usage shows
	run -0 mig up --list-options=described
	has $'--dry-run\trun it all in one transaction, then roll it back'
	has $'--quiet\tno notes or progress on stderr (data and errors stay)'
	[ "$(mig up --list-options=described | cut -f1)" = "$(mig up --list-options)" ]
	run -0 mig up -h
	has "    -n, --dry-run            run it all in one transaction, then roll it back"
	run -2 mig up --list-options=other
}

@test "--list-revisions=described: each revision's state, the spec words' meaning, any name escaped" {
	project
	rev 0003_gone 'CREATE TABLE gone(x INT);'
	mig -d app.db up -q 0003_gone
	rm migrations/0003_gone.sql
	rev '0004_a:b c' 'SELECT 1;'
	rev $'0005_tab\tnew\nline\\back' 'SELECT 1;'
	echo '-- an edit' >>migrations/0002_email.sql
	run -0 --separate-stderr mig -d app.db status --list-revisions=described
	# applied, to the minute (UTC, as recorded)
	when='applied 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}'
	re=$'^0001_users\t'"$when\$"
	[[ ${lines[0]} =~ $re ]] || false
	re=$'^0002_email\t'"$when, edited since\$"
	[[ ${lines[1]} =~ $re ]] || false
	has $'0004_a:b c\tpending'
	has $'0005_tab\\tnew\\nline\\\\back\tpending'
	re=$'^0003_gone\t'"$when, file missing\$"
	[[ ${lines[4]} =~ $re ]] || false
	has $'head\tthe single head'
	has $'-1\tone back from current'
	# no project here: the spec words still
	mkdir empty
	cd empty
	run -3 --separate-stderr mig status --list-revisions=described
	has $'base\tnothing applied'
}

# fishc LINE: what fish completes for the command line LINE
fishc() {
	fish -c "source '$TOP/completions/mig.fish'; complete -C'$1'"
}

@test "fish: commands, options and revisions, each with what it is" {
	command -v fish >/dev/null || skip "fish is not installed"
	project
	mig -d app.db up -q 0001
	run -0 --separate-stderr fishc 'mig sta'
	[ "$output" = $'status\tshow what is applied, what is pending, and what is wrong' ]
	run -0 --separate-stderr fishc 'mig up --dr'
	[ "$output" = $'--dry-run\trun it all in one transaction, then roll it back' ]
	run -0 --separate-stderr fishc 'mig --qu'
	[ "$output" = $'--quiet\tno notes or progress on stderr (data and errors stay)' ]
	run -0 --separate-stderr fishc 'mig -d app.db down 0001'
	[[ $output =~ ^0001_users$'\t'"applied 20" ]] || false
	run -0 --separate-stderr fishc 'mig -d app.db redo 0002'
	[ "$output" = $'0002_email\tpending' ]
	run -0 --separate-stderr fishc 'mig up hea'
	[ "$output" = $'head\tthe single head\nheads\tevery head' ]
}

@test "fish: a name with a colon and a blank completes whole, a backslash is itself, a tab is left out" {
	command -v fish >/dev/null || skip "fish is not installed"
	rev '0001_a:b c' 'SELECT 1;'
	rev '0002_back\slash' 'SELECT 1;'
	rev $'0003_tab\tx' 'SELECT 1;'
	run -0 --separate-stderr fishc 'mig up 0001'
	[ "$output" = $'0001_a:b c\tpending' ]
	run -0 --separate-stderr fishc 'mig up 0002'
	[ "$output" = $'0002_back\\slash\tpending' ]
	run -0 --separate-stderr fishc 'mig up 0003'
	[ -z "$output" ]
}

# zsh completes only at a terminal: run it in a tmux of its own and type
# (tmux drops the blanks that end a line, so the screen shows none)
teardown() {
	[ -z "${TMUX_SOCK-}" ] || tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	backend_teardown
}

# keys KEYS...: send them to the zsh in tmux
keys() {
	tmux -L "$TMUX_SOCK" send-keys -t z "$@"
}

# screen_has TEXT: the screen shows TEXT within 5 seconds
screen_has() {
	local n
	for ((n = 0; n < 50; n++)); do
		tmux -L "$TMUX_SOCK" capture-pane -t z -p | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	echo "no '$1' on the screen:" >&2
	tmux -L "$TMUX_SOCK" capture-pane -t z -p >&2
	return 1
}

@test "fish: snapshot ids, each with when it was taken and its message" {
	command -v fish >/dev/null || skip "fish is not installed"
	project
	mig -d app.db up -q
	id=$(mig -d app.db backup --message 'before the big one')
	run -0 --separate-stderr fishc "mig -d app.db restore ${id:0:4}"
	re="^${id:0:12}"$'\t''20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} before the big one$'
	[[ $output =~ $re ]] || false
}

# screen_match REGEX: a line of the screen matches REGEX within 5 seconds
screen_match() {
	local n
	for ((n = 0; n < 50; n++)); do
		tmux -L "$TMUX_SOCK" capture-pane -t z -p | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	echo "no line matching '$1' on the screen:" >&2
	tmux -L "$TMUX_SOCK" capture-pane -t z -p >&2
	return 1
}

# zsh_start: a zsh with mig's completion, in a tmux of its own
zsh_start() {
	TMUX_SOCK=mig-test-$$
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s z -x 100 -y 30 \
		"env PATH='$PATH' HOME='$PWD' PS1='%% ' zsh -f"
	keys "fpath=('$TOP/completions' \$fpath); autoload -Uz compinit; compinit -u; echo READY" Enter
	screen_has READY
}

@test "zsh: TAB completes commands, options and revisions" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	run -0 zsh -n "$TOP/completions/_mig"
	project
	zsh_start
	keys C-l "mig sta" Tab
	screen_has "% mig status"
	keys C-u C-l "mig status --po" Tab
	screen_has "% mig status --porcelain"
	keys C-u C-l "mig down 0001" Tab
	screen_has "% mig down 0001_users"
	keys C-u C-l "mig up 000" Tab
	screen_has "0002_email"
}

@test "fake --resolve's values come from the binary" {
	run -0 mig fake --list-values=resolve
	[ "$output" = $'applied\nrolled-back' ]
	run -0 mig fake --list-values=--resolve
	[ "$output" = $'applied\nrolled-back' ]
	run -0 mig fake --list-values=unapply
	[ -z "$output" ]
	# an option that takes no value, and none at all, have none to offer
	run -0 mig fake --list-values=adopt
	[ -z "$output" ]
	run -0 mig fake --list-values=nosuch
	[ -z "$output" ]
}

@test "bash: fake --resolve offers applied and rolled-back, as --resolve V and --resolve=V" {
	project
	run -0 comp mig fake --resolve ""
	[ "$output" = $'applied\nrolled-back' ]
	run -0 comp mig fake --resolve r
	[ "$output" = rolled-back ]
	run -0 comp mig -d app.db fake --resolve = a
	[ "$output" = applied ]
	# a revision, not a value, after an option that takes no choice
	run -0 comp mig fake --out-of-order 0001
	[ "$output" = 0001_users ]
	[ ! -e app.db ]
}

@test "fish: fake --resolve offers applied and rolled-back" {
	command -v fish >/dev/null || skip "fish is not installed"
	run -0 --separate-stderr fish -c "source '$TOP/completions/mig.fish'; complete -C'mig fake --resolve '"
	[ "$output" = $'applied\nrolled-back' ]
	run -0 --separate-stderr fish -c "source '$TOP/completions/mig.fish'; complete -C'mig fake --resolve=r'"
	[ "$output" = "--resolve=rolled-back" ]
}

@test "zsh: TAB after fake --resolve offers applied and rolled-back" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	zsh_start
	keys C-l "mig fake --resolve r" Tab
	screen_has "% mig fake --resolve rolled-back"
	keys C-u C-l "mig fake --resolve=a" Tab
	screen_has "% mig fake --resolve=applied"
}

@test "zsh: TAB lists commands, options and revisions with what each is" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	project
	mig -d app.db up -q 0001
	zsh_start
	keys C-l "mig " Tab
	screen_match "^up +-- apply pending revisions$"
	screen_match "^status +-- show what is applied, what is pending, and what is wrong$"
	keys C-u C-l "mig --q" Tab
	screen_has "% mig --quiet"
	keys C-u C-l "mig up --d" Tab
	screen_match "^--dry-run +-- run it all in one transaction, then roll it back$"
	screen_match "^--database +-- the database: a file, or a postgres:// URL$"
	keys C-u C-l "mig -d app.db down " Tab
	screen_match "^0001_users +-- applied 20[0-9-]+ [0-9:]+$"
	screen_match "^0002_email +-- pending$"
	screen_match "^heads +-- every head$"
	screen_match "^-1 +-- one back from current$"
}

@test "zsh: a name with a colon and a blank, or a tab, completes whole and runs" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	rev '0001_a:b c' 'CREATE TABLE a(x INT);'
	rev $'0002_tab\tx\\y' 'CREATE TABLE b(x INT);'
	zsh_start
	keys C-l "mig -d app.db up 0001" Tab
	screen_has '% mig -d app.db up 0001_a:b\ c'
	keys " --dry-run" Enter
	screen_has "applying 0001_a:b c (dry run)"
	keys C-l "mig -d app.db up 0002" Tab
	screen_has "% mig -d app.db up 0002_tab\$'\\t'x\\\\y"
	keys " --dry-run" Enter
	screen_has 'applying 0002_tab\tx\y (dry run)'
}

@test "zsh: after -d quoted whole, as a URL's ? and & or a blank need, TAB lists that database's snapshots" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	project
	mig -d "my app.db" up -q
	id=$(mig -d "my app.db" backup --message 'the one')
	zsh_start
	keys C-l "mig -d 'my app.db' restore " Tab
	screen_has "% mig -d 'my app.db' restore ${id:0:12}"
}

@test "zsh: TAB lists snapshot ids, each with when it was taken and its message" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	project
	mig -d app.db up -q
	one=$(mig -d app.db backup --message 'first one')
	two=$(mig -d app.db backup --message 'second one')
	zsh_start
	# two ids may start alike: list them even when TAB inserts that start
	keys "unsetopt listambiguous" Enter
	keys C-l "mig -d app.db restore " Tab
	screen_match "^${one:0:12} +-- 20[0-9-]+ [0-9:]+ first one$"
	screen_match "^${two:0:12} +-- 20[0-9-]+ [0-9:]+ second one$"
}
