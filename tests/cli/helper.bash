# Shared set-up for the command-line tests: a scratch project per test,
# mig's binaries first on PATH, no settings leaking in from outside.
bats_require_minimum_version 1.5.0

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# MIG_TEST_BIN: the same commands through a wrapper (make valgrind)
	PATH="${MIG_TEST_BIN:-$TOP/bin}:$TOP/bin:$PATH"
	unset MIG_DATABASE MIG_MIGRATIONS MIG_STORE MIG_EXEC_PATH NO_COLOR
	# nor from the make that runs the suite: a make a test runs is a user's,
	# not a sub-make printing "Entering directory" (make asan)
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
	# what a mig.conf says is remembered here, not in the user's ~/.cache
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg-cache
	cd "$BATS_TEST_TMPDIR"
	mkdir -p migrations
}

# rev NAME [TEXT]: write migrations/NAME.sql
rev() {
	printf '%s' "${2-}" >"migrations/$1.sql"
}

# has LINE: the output contains this exact line
has() {
	local l
	for l in "${lines[@]}"; do
		[ "$l" = "$1" ] && return 0
	done
	echo "no line '$1' in output:" >&2
	printf '%s\n' "$output" >&2
	return 1
}
