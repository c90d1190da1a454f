#!/usr/bin/env bats
# tools/lint-tests.sh: the assertions that cannot fail under set -e are
# found, the ones that can are let be
# backend: none (no database)
load helper

# sample BODY: a test file whose one test is BODY
sample() {
	printf '@test "sample" {\n%s\n}\n' "$1" >sample.bats
}

@test "the command-line tests have no assertion that cannot fail" {
	cd "$TOP"
	run -0 sh tools/lint-tests.sh
	[ "$output" = "" ]
}

@test "a negated command in the middle of a test is found" {
	sample $'\t! grep -q x f\n\ttrue'
	run -1 sh "$TOP/tools/lint-tests.sh" sample.bats
	[ "${lines[0]}" = "sample.bats:2: a negated command cannot fail a test under set -e (use run !)" ]
	sample $'\tfor f in a b; do\n\t\t! grep -q x "$f"\n\tdone'
	run -1 sh "$TOP/tools/lint-tests.sh" sample.bats
	[ "${lines[0]}" = "sample.bats:3: a negated command cannot fail a test under set -e (use run !)" ]
}

@test "[ a ] && [ b ] and a command chained with && are found, an if or || false is not" {
	sample $'\t[ -f a ] && [ -f b ]'
	run -1 sh "$TOP/tools/lint-tests.sh" sample.bats
	[ "${lines[0]}" = "sample.bats:2: only the last [ ] of an && chain is checked (one [ ] a line)" ]
	sample $'\tmkdir a && cp b a/'
	run -1 sh "$TOP/tools/lint-tests.sh" sample.bats
	[ "${lines[0]}" = "sample.bats:2: only the last command of an && chain is checked (one a line, or if)" ]
	sample $'\tif [ -f a ] && [ -f b ]; then :; fi\n\t[ -f a ] && [ -f b ] || false\n\tx=$(cd a && ls)\n\techo "a && b" # c && d\n\t[ "$(id -u)" != 0 ] || skip'
	run -0 sh "$TOP/tools/lint-tests.sh" sample.bats
}

@test "a run whose exit status nobody checks is found" {
	sample $'\trun mig status\n\t[ "$output" = x ]'
	run -1 sh "$TOP/tools/lint-tests.sh" sample.bats
	[ "${lines[0]}" = "sample.bats:2: run with no exit status checked (use run -N or run !)" ]
	sample $'\tX=1 run --separate-stderr mig status\n\t[ "$status" = 2 ]\n\trun -0 mig status\n\trun ! mig up\n\trun -1 --separate-stderr mig up'
	run -0 sh "$TOP/tools/lint-tests.sh" sample.bats
}

@test "a heredoc's lines are not read as commands" {
	sample $'\tcat <<\'EOF\'\n! not a command\n[ a ] && [ b ]\nEOF\n\ttrue'
	run -0 sh "$TOP/tools/lint-tests.sh" sample.bats
}
