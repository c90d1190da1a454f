#!/usr/bin/env bats
# A run that is cut short (killed, or its store failing) after it
# committed a change leaves the change's journal entry in the database;
# the next run writes it to the store's journal, once.
load helper

two() {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n-- mig:down\nDROP TABLE b;\n'
}

subjects() {
	git --git-dir=db.mig log --format='%s' refs/mig/journal | tr '\n' '|'
}

@test "a journal the store cannot take: the run stands, the database keeps the entry, the next run writes it" {
	two
	mig -d db up -q 0001
	mkdir db.mig/refs/mig/journal.lock
	run -0 --separate-stderr mig -d db up --no-backup
	[ "${stderr_lines[1]}" = "mig-up: warning: cannot write the journal: failed to lock file '$PWD/db.mig/refs/mig/journal.lock' for writing: " ]
	[ "${stderr_lines[2]}" = "mig-up: warning: the database keeps the entry; the next run writes it" ]
	[ "$(q db "SELECT op || ' ' || name FROM mig_journal")" = "up 0002_b" ]
	[ "$(subjects)" = "up 0001_a|" ]
	rmdir db.mig/refs/mig/journal.lock
	run -0 mig -d db down --no-backup
	[ "$(subjects)" = "down 0002_b|up 0002_b|up 0001_a|" ]
	run -0 git --git-dir=db.mig log -1 --format=%B HEAD~1
	has "result interrupted"
	[[ "$output" == *"revision $(git hash-object migrations/0002_b.sql) 0002_b "*ms* ]]
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 0 ]
}

@test "an entry already in the store is not written twice" {
	two
	mig -d db up -q 0001
	# a run killed after its entry reached the store, before the database forgot it
	token=$(git --git-dir=db.mig log -1 --format=%B | sed -n 's/^run //p')
	[ ${#token} = 16 ]
	q db "INSERT INTO mig_journal (run, op, name, id, duration_ms) VALUES ('$token', 'up', '0001_a', '$(git hash-object migrations/0001_a.sql)', 0)"
	run -0 mig -d db up -q
	[ "$(subjects)" = "up 0002_b|up 0001_a|" ]
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 0 ]
}

@test "fake writes what a cut-short run left, before its own entry" {
	two
	mig -d db up -q 0001
	q db "INSERT INTO mig_journal (run, op, name, id, duration_ms, snapshot) VALUES ('0123456789abcdef', 'up', '0001_a', '$(git hash-object migrations/0001_a.sql)', 7, 'feedface')"
	run -0 mig -d db fake head -q
	[ "$(subjects)" = "fake 0002_b|up 0001_a|up 0001_a|" ]
	run -0 git --git-dir=db.mig log -1 --format=%B HEAD~1
	has "result interrupted"
	has "revision $(git hash-object migrations/0001_a.sql) 0001_a 7ms"
	has "snapshot feedface"
	has "run 0123456789abcdef"
}

@test "a dry run writes no journal, not even a cut-short run's" {
	two
	mig -d db up -q 0001
	q db "INSERT INTO mig_journal (run, op, name, id, duration_ms) VALUES ('0123456789abcdef', 'up', '0001_a', 'x', 0)"
	run -0 mig -d db up -q --dry-run
	[ "$(subjects)" = "up 0001_a|" ]
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 1 ]
}

@test "SIGKILL after the first revision of a run committed: the next run journals it" {
	sqlite_only
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	rev 0002_slow $'-- mig:up\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c;\n'
	mig -d db up -q --no-backup &
	pid=$!
	for _ in $(seq 200); do
		[ "$(q db 'SELECT count(*) FROM mig_journal' 2>/dev/null)" = 1 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(q db 'SELECT count(*) FROM mig_journal')" = 1 ]
	run -0 mig -d db status --porcelain
	has "current	0001_a"
	rev 0002_slow $'-- mig:up\nSELECT 1;\n'
	run -0 mig -d db up -q
	[ "$(subjects)" = "up 0002_slow|up 0001_a|" ]
	run -0 git --git-dir=db.mig log -1 --format=%B HEAD~1
	has "result interrupted"
	[ "$(q db 'PRAGMA integrity_check')" = ok ]
}

@test "a revision cannot touch the pending journal" {
	sqlite_only
	two
	mig -d db up -q 0001
	rev 0002_b $'-- mig:up\nDELETE FROM mig_journal;\n'
	run -4 mig -d db up --no-backup
	[[ "$output" == *"0002_b.sql:2: mig_journal is mig's bookkeeping: a revision may read it, not change it"* ]]
}

@test "a no-transaction revision that leaves a transaction open fails, dirty" {
	two
	mig -d db up -q 0001
	rev 0002_b $'-- mig:no-transaction\n-- mig:up\nBEGIN;\nCREATE TABLE b(x INT);\n'
	run -4 mig -d db up --no-backup
	[[ "$output" == *"0002_b: migrations/0002_b.sql: the revision left a transaction open"* ]]
	[ "$(q db "SELECT dirty FROM mig_revisions WHERE name = '0002_b'")" = 1 ]
	[ "$(q db "SELECT count(*) FROM sqlite_schema WHERE name = 'b'")" = 0 ]
}
