#!/usr/bin/env bats
# mig merge with heads named more than once, by name and by 'heads'.
load helper

# five roots, so five heads
five() {
	local x
	for x in a b c d e; do
		rev "000_$x" $'-- mig:parents\nSELECT 1;\n'
	done
}

@test "a head named twice, by name and in 'heads', is one parent; the directory stays valid" {
	five
	run -0 mig merge 000_b heads
	[ "$output" = "migrations/0001_merge.sql" ]
	[ "$(head -1 migrations/0001_merge.sql)" = "-- mig:parents 000_b 000_a 000_c 000_d 000_e" ]
	run -0 mig -d app.db status
	has "head: 0001_merge"
}

@test "'heads' twice names each head once" {
	five
	run -0 mig merge heads heads 000_e
	[ "$(head -1 migrations/0001_merge.sql)" = "-- mig:parents 000_a 000_b 000_c 000_d 000_e" ]
}

@test "merge with no revisions at all, or a spec that is no revision, exits 2" {
	run -2 mig merge
	[ "$output" = "mig-merge: error: nothing to merge: there are no revisions" ]
	five
	run -2 mig merge base 000_a
	[ "${lines[0]}" = "mig-merge: error: 'base' is not a head" ]
	[ "${lines[1]}" = "hint: only heads can be merged; see 'mig status'" ]
	[ ! -e migrations/0001_merge.sql ]
}
