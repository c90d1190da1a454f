#!/usr/bin/env bats
# Shell completion: bash driven through its completion function, fish
# through 'complete -C', zsh pressed TAB at in a terminal (tmux).
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
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id);\n-- mig:down\nDROP TABLE users;\n'
	rev 0002_email $'-- mig:up\nCREATE TABLE email(id);\n-- mig:down\nDROP TABLE email;\n'
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

@test "fish: commands, options and revisions" {
	command -v fish >/dev/null || skip "fish is not installed"
	project
	run -0 --separate-stderr fish -c "source '$TOP/completions/mig.fish'; complete -C'mig sta'"
	[ "$output" = status ]
	run -0 --separate-stderr fish -c "source '$TOP/completions/mig.fish'; complete -C'mig up --dr'"
	[ "$output" = "--dry-run" ]
	run -0 --separate-stderr fish -c "source '$TOP/completions/mig.fish'; complete -C'mig down 0001'"
	[ "$output" = 0001_users ]
	run -0 --separate-stderr fish -c "source '$TOP/completions/mig.fish'; complete -C'mig redo 0002'"
	[ "$output" = 0002_email ]
}

# zsh completes only at a terminal: run it in a tmux of its own and type
# (tmux drops the blanks that end a line, so the screen shows none)
teardown() {
	[ -z "${TMUX_SOCK-}" ] || tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
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

@test "zsh: TAB completes commands, options and revisions" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	run -0 zsh -n "$TOP/completions/_mig"
	project
	TMUX_SOCK=mig-test-$$
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s z -x 100 -y 20 \
		"env PATH='$PATH' HOME='$PWD' PS1='%% ' zsh -f"
	keys "fpath=('$TOP/completions' \$fpath); autoload -Uz compinit; compinit -u; echo READY" Enter
	screen_has READY
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
	TMUX_SOCK=mig-test-$$
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s z -x 100 -y 20 \
		"env PATH='$PATH' HOME='$PWD' PS1='%% ' zsh -f"
	keys "fpath=('$TOP/completions' \$fpath); autoload -Uz compinit; compinit -u; echo READY" Enter
	screen_has READY
	keys C-l "mig fake --resolve r" Tab
	screen_has "% mig fake --resolve rolled-back"
	keys C-u C-l "mig fake --resolve=a" Tab
	screen_has "% mig fake --resolve=applied"
}
