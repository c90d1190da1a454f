#!/usr/bin/env bats
# mig log --graph and mig status --graph: the revision graph as git log --graph draws it, with state.
load helper

# step NAME PARENTS...: a reversible revision with these parents
step() {
	local name=$1
	shift
	rev "$name" "-- mig:parents $*
-- mig:up
CREATE TABLE t_$name(x INT);
-- mig:down
DROP TABLE t_$name;
"
}

@test "a linear chain is one column, newest first, the head marked" {
	step 0001_users
	step 0002_email 0001_users
	step 0003_phone 0002_email
	mig -d app.db up -q 0002_email
	run -0 mig -d app.db log --graph
	[ "$output" = "* 0003_phone  pending (head)
* 0002_email  applied
* 0001_users  applied" ]
}

@test "two branches and their merge are drawn apart, then joined" {
	step 0001_root
	step 0002_a 0001_root
	step 0003_b 0001_root
	step 0004_a2 0002_a
	run -0 mig -d app.db log --graph
	[ "$output" = "* 0004_a2  pending (head)
* 0002_a  pending
| * 0003_b  pending (head)
|/
* 0001_root  pending" ]
	step 0005_merge 0004_a2 0003_b
	mig -d app.db up -q 0004_a2
	run -0 mig -d app.db log --graph
	[ "$output" = "*   0005_merge  pending (head)
|\\
* | 0004_a2  applied
* | 0002_a  applied
| * 0003_b  pending
|/
* 0001_root  applied" ]
}

@test "lines that must pass another column move one column a row, and never cross" {
	step 0001_root
	step 0002_a 0001_root
	step 0003_b 0001_root
	step 0004_a2 0002_a
	step 0005_merge 0004_a2 0003_b
	step 0006_c 0003_b
	step 0007_d 0001_root
	run -0 mig -d app.db log --graph
	[ "$output" = "* 0007_d  pending (head)
| * 0006_c  pending (head)
| | *   0005_merge  pending (head)
| | |\\
| | * | 0004_a2  pending
| | * | 0002_a  pending
| | |/
| |/|
| * | 0003_b  pending
|/ /
|/
* 0001_root  pending" ]
}

@test "a merge with a line on its right pushes that line over" {
	step 0001_root
	step 0002_a 0001_root
	step 0003_b 0001_root
	step 0004_m 0002_a 0003_b
	step 0005_z 0001_root
	step 0006_x 0004_m 0005_z
	run -0 mig -d app.db log --graph
	[ "$output" = "*   0006_x  pending (head)
|\\
* |   0004_m  pending
|\\ \\
* | | 0002_a  pending
| * | 0003_b  pending
| | * 0005_z  pending
|/ /
|/
* 0001_root  pending" ]
}

@test "a merge of twenty heads: written, applied, drawn and journaled whole" {
	step 0001_root
	for i in $(seq -w 2 21); do
		step "00${i}_b$i" 0001_root
	done
	run -0 mig -d app.db up -q heads
	run -0 mig merge
	[ "$output" = migrations/0022_merge.sql ]
	[ "$(head -1 migrations/0022_merge.sql)" = "-- mig:parents $(cd migrations && ls 00??_b*.sql | sed 's/\.sql$//' | tr '\n' ' ' | sed 's/ $//')" ]
	run -0 mig -d app.db up -q
	run -0 mig -d app.db status --porcelain
	[ "$(grep -c '^revision	applied	' <<<"$output")" = 22 ]
	run -0 mig -d app.db log --graph
	[[ "${lines[0]}" =~ ^\*\ +0022_merge\ \ applied\ \(head\)$ ]]
	[ "${lines[1]}" = '|\' ]
	[ "${lines[-2]}" = '|/' ]
	[ "${lines[-1]}" = '* 0001_root  applied' ]
	[ "$(grep -c '  applied$' <<<"$output")" = 21 ]
	# the run of the heads is one entry of all twenty-one
	run -0 mig -d app.db log -v -n 2
	[ "$(grep -c '^    00' <<<"$output")" = 22 ]
}

@test "revisions that share nothing are drawn apart, a blank line between" {
	step 0001_a
	step 0002_b 0001_a
	step 0003_other
	run -0 mig -d app.db log --graph
	[ "$output" = "* 0003_other  pending (head)

* 0002_b  pending (head)
* 0001_a  pending" ]
}

@test "each revision is marked applied, pending, dirty, edited or file missing" {
	rev 0001_a $'CREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_gone $'CREATE TABLE g(x INT);\n-- mig:down\nDROP TABLE g;\n'
	rev 0003_edit $'CREATE TABLE e(x INT);\n-- mig:down\nDROP TABLE e;\n'
	rev 0004_dirty $'-- mig:no-transaction\nCREATE TABLE d(x INT);\nSELECT nosuch();\n-- mig:down\nDROP TABLE d;\n'
	rev 0005_p $'CREATE TABLE p(x INT);\n'
	run -4 mig -d app.db up -q
	rm migrations/0002_gone.sql
	echo '-- reworded' >>migrations/0003_edit.sql
	before=$(q app.db .dump)
	run -0 mig -d app.db log --graph
	[ "$output" = "* 0005_p  pending (head)
* 0004_dirty  dirty
* 0003_edit  applied, edited
* 0001_a  applied

* 0002_gone  applied, file missing" ]
	[ "$(q app.db .dump)" = "$before" ]
}

@test "applied revisions whose files are gone are drawn apart, dirty or not, in text and in dot" {
	rev 0001_a $'CREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_gone $'CREATE TABLE g(x INT);\n-- mig:down\nDROP TABLE g;\n'
	rev 0003_dirty $'-- mig:no-transaction\nCREATE TABLE d(x INT);\nSELECT nosuch();\n-- mig:down\nDROP TABLE d;\n'
	run -4 mig -d app.db up -q
	mv migrations/0003_dirty.sql dirty.sql
	rm migrations/0002_gone.sql
	before=$(q app.db .dump)
	run -0 mig -d app.db log --graph
	[ "$output" = "* 0001_a  applied (head)

* 0003_dirty  dirty, file missing
* 0002_gone  applied, file missing" ]
	run -0 mig -d app.db log --graph --dot
	has '	"0001_a" [label="0001_a\napplied (head)", fillcolor=palegreen, peripheries=2];'
	has '	"0003_dirty" [label="0003_dirty\ndirty, file missing", style="rounded,dashed"];'
	has '	"0002_gone" [label="0002_gone\napplied, file missing", style="rounded,dashed"];'
	[ "$(printf '%s\n' "$output" | grep -c -- ' -> ')" = 0 ]
	# a dirty revision with its file is filled as an edited one is
	mv dirty.sql migrations/0003_dirty.sql
	run -0 mig -d app.db log --graph --dot
	has '	"0003_dirty" [label="0003_dirty\ndirty (head)", fillcolor=lightsalmon, peripheries=2];'
	has '	"0003_dirty" -> "0001_a";'
	[ "$(q app.db .dump)" = "$before" ]
}

@test "status --graph draws the same graph, and --check still says whether anything is pending or wrong" {
	step 0001_a
	step 0002_b 0001_a
	run -1 mig -d app.db status --graph --check
	[ "$output" = "$(mig -d app.db log --graph)" ]
	[ "${lines[0]}" = "* 0002_b  pending (head)" ]
	mig -d app.db up -q
	run -0 mig -d app.db status --graph --check
	[ "${lines[0]}" = "* 0002_b  applied (head)" ]
	rev 0003_c '-- mig:parents 0001_a'
	run -1 mig -d app.db status --graph --check
	[ "${lines[0]}" = "* 0003_c  pending (head)" ]
}

@test "--dot prints a Graphviz digraph: a node per revision with its state, an edge to each parent" {
	step 0001_root
	step 0002_a 0001_root
	step 0003_b 0001_root
	step 0004_merge 0002_a 0003_b
	mig -d app.db up -q 0002_a
	run -0 mig -d app.db log --graph --dot
	[ "${lines[0]}" = "digraph mig {" ]
	has '	"0004_merge" [label="0004_merge\npending (head)", peripheries=2];'
	has '	"0002_a" [label="0002_a\napplied", fillcolor=palegreen];'
	has '	"0003_b" [label="0003_b\npending"];'
	has '	"0004_merge" -> "0002_a";'
	has '	"0004_merge" -> "0003_b";'
	has '	"0002_a" -> "0001_root";'
	[ "$(printf '%s\n' "$output" | grep -c -- ' -> ')" = 4 ]
	[ "${lines[-1]}" = "}" ]
	run -0 mig -d app.db status --graph --dot
	[ "$output" = "$(mig -d app.db log --graph --dot)" ]
	if command -v dot >/dev/null; then
		mig -d app.db log --graph --dot | dot -Tcanon >/dev/null
	fi
}

@test "names are escaped: no control character reaches a terminal, no quote ends a dot string" {
	step 0001_a
	step $'0002_x\e[2Jy' 0001_a
	step '0003_q"b\' $'0002_x\e[2Jy'
	run -0 mig -d app.db log --graph
	[ "${lines[1]}" = '* 0002_x\x1b[2Jy  pending' ]
	[ "${lines[0]}" = '* 0003_q"b\  pending (head)' ]
	run -0 mig -d app.db log --graph --dot
	has '	"0003_q\"b\\ " -> "0002_x\x1b[2Jy";'
	[[ "$output" != *$'\e'* ]]
}

@test "--dot needs --graph, and --graph goes with neither --porcelain, --json nor -n" {
	step 0001_a
	run -2 mig -d app.db log --dot
	[ "${lines[0]}" = "mig-log: error: --dot goes with --graph" ]
	run -2 mig -d app.db log --graph -n 3
	[ "${lines[0]}" = "mig-log: error: --graph cannot be used with -n" ]
	run -2 mig -d app.db log --graph --porcelain
	[ "${lines[0]}" = "mig-log: error: --graph cannot be used with --porcelain" ]
	run -2 mig -d app.db log --graph --json
	[ "${lines[0]}" = "mig-log: error: --graph cannot be used with --json" ]
	run -2 mig -d app.db status --graph --porcelain
	[ "${lines[0]}" = "mig-status: error: --graph cannot be used with --porcelain" ]
	run -2 mig -d app.db status --graph --json
	[ "${lines[0]}" = "mig-status: error: --graph cannot be used with --json" ]
	run -2 mig -d app.db status --dot
	[ "${lines[0]}" = "mig-status: error: --dot goes with --graph" ]
	[ ! -e app.db ]
}
