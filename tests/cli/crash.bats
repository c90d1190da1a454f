#!/usr/bin/env bats
# What a command killed part way leaves, the next command cleans up or
# completes: files written whole or not at all, no stale lock or
# temporary file in the way, no journal entry missing. tests/crash/run.sh
# kills every command at random; these are the cases it found.
load helper

two() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x);\n-- mig:down\nDROP TABLE b;\n'
}

# killed N CLASSES CMD...: CMD, killed by the shim before its Nth call of
# CLASSES (write, sync, name: see tests/crash/killshim.c)
killed() {
	local at=$1 on=$2
	shift 2
	LD_PRELOAD=$TOP/build/crash/killshim.so MIG_CRASH_AT=$at MIG_CRASH_ON=$on \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}

subjects() {
	git --git-dir=db.mig log --format='%s' refs/mig/journal | tr '\n' '|'
}

@test "new killed before its file is written leaves no revision; the next new removes what it left" {
	two
	run -137 killed 1 write mig new c
	run -0 ls migrations
	[ "$output" = $'0001_a.sql\n0002_b.sql' ]
	run -0 ls -A migrations
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" == .0003_c.sql.tmp-?????? ]]
	run -0 mig new c
	[ "$output" = migrations/0003_c.sql ]
	run -0 ls -A migrations
	[ "$output" = $'0001_a.sql\n0002_b.sql\n0003_c.sql' ]
	[ "$(head -1 migrations/0003_c.sql)" = "-- mig:parents 0002_b" ]
}

@test "merge killed before its file is written leaves no revision" {
	rev 0001_a $'-- mig:up\nSELECT 1;\n'
	rev 0002_x $'-- mig:parents 0001_a\n-- mig:up\nSELECT 1;\n'
	rev 0003_y $'-- mig:parents 0001_a\n-- mig:up\nSELECT 1;\n'
	run -137 killed 1 write mig merge
	run -0 ls migrations
	[ "$output" = $'0001_a.sql\n0002_x.sql\n0003_y.sql' ]
	run -0 mig merge
	[ "$output" = migrations/0004_merge.sql ]
	[ "$(head -1 migrations/0004_merge.sql)" = "-- mig:parents 0002_x 0003_y" ]
	run -0 ls -A migrations
	[ "${#lines[@]}" = 4 ]
}

@test "a temporary revision file a live writer holds is left alone" {
	two
	: >migrations/.0003_c.sql.tmp-abcdef
	flock migrations/.0003_c.sql.tmp-abcdef sleep 30 &
	holder=$!
	sleep 0.2
	run -0 mig new c
	kill "$holder"
	[ -e migrations/.0003_c.sql.tmp-abcdef ]
	[ -s migrations/0003_c.sql ]
}

