#!/bin/sh
# lint-tests.sh [FILE...]: the command-line tests' assertions that cannot
# fail. bats runs a test under set -e, and bash ignores the status of a
# negated pipeline and of every && operand but the last, so in a test
#   ! grep -q x f          checks nothing (write: run ! grep -q x f)
#   [ a ] && [ b ]         checks only b (write one [ ] a line)
#   cmd && cmd             at a test's top level, the first is not checked
#   run cmd                with no -N, no ! and no $status after it
# Heredocs, comments and quoted text are not read as commands. Exits 1
# naming each line found; default files: tests/cli/*.bats and helper.bash.
[ $# -gt 0 ] || set -- tests/cli/*.bats tests/cli/*.bash
exec awk '
function fail(why) {
	printf "%s:%d: %s\n\t%s\n", FILENAME, FNR, why, $0
	bad = 1
}
# the line with quoted text, $(...) and (...) blanked out
function code(s,   t) {
	gsub(/\\./, "", s)
	gsub(/'"'"'[^'"'"']*'"'"'/, "\"\"", s)
	gsub(/"[^"]*"/, "\"\"", s)
	sub(/[\t ]#.*/, "", s)
	while ((t = s) && gsub(/\([^()]*\)/, "", s) && s != t)
		;
	return s
}
FNR == 1 { intest = 0; heredoc = ""; pending = 0 }
heredoc != "" {
	if ($0 ~ "^[\t ]*" heredoc "$")
		heredoc = ""
	next
}
/^[\t ]*#/ { next }
{
	c = code($0)
	if (match($0, /<<-?[\t ]*'"'"'?[A-Za-z_]+/)) {
		heredoc = substr($0, RSTART, RLENGTH)
		sub(/^<<-?[\t ]*'"'"'?/, "", heredoc)
	}
}
/^@test / { intest = 1; pending = 0; next }
intest && /^}/ {
	if (pending)
		printf "%s:%d: run with no exit status checked (use run -N or run !)\n", FILENAME, pendline
	bad = bad || pending
	intest = 0; pending = 0
	next
}
pending {
	if ($0 ~ /\$\{?status/)
		pending = 0
	else if (++pending > 3) {
		printf "%s:%d: run with no exit status checked (use run -N or run !)\n", FILENAME, pendline
		bad = 1
		pending = 0
	}
}
c ~ /^[\t ]*![\t ]/ {
	fail("a negated command cannot fail a test under set -e (use run !)")
}
c ~ /\]\]?[\t ]*&&[\t ]*\[/ && c !~ /^[\t ]*(if|elif|while|until)[\t ]/ && c !~ /&&.*\|\|/ {
	fail("only the last [ ] of an && chain is checked (one [ ] a line)")
}
intest && c ~ /^\t[^\t]/ && c ~ /&&/ && c !~ /^\t(if|while|until|for)[\t ]/ && c !~ /&&.*\|\|/ {
	fail("only the last command of an && chain is checked (one a line, or if)")
}
intest && c ~ /^[\t ]*([A-Za-z_][A-Za-z_0-9]*=[^\t ]*[\t ]+)*run[\t ]/ {
	r = c
	sub(/^[\t ]*([A-Za-z_][A-Za-z_0-9]*=[^\t ]*[\t ]+)*run[\t ]+/, "", r)
	while (r ~ /^--(separate-stderr|keep-empty-lines)[\t ]/)
		sub(/^--[a-z-]+[\t ]+/, "", r)
	# a status or a ! first; "-$code" was blanked to ""
	if (r !~ /^(-[0-9]+|!|"")[\t ]/) {
		pending = 1
		pendline = FNR
	}
}
END { exit bad }
' "$@"
