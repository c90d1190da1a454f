#!/usr/bin/env bats
# Each command's own misuse, and a mig.conf that does not parse, exit as
# DESIGN.md says; and a few reports that only a restore or a revision
# without a down section gives.
load helper

two() {
	rev 0001_a $'-- mig:up\nCREATE TABLE t(x INT);\n-- mig:down\nDROP TABLE t;\n'
	rev 0002_z $'-- mig:up\nCREATE TABLE z(x INT);\n'
}

@test "backup, restore, log and sqlshow refuse what does not go together (exit 2)" {
	two
	mig -d app.db up -q
	id=$(mig -d app.db backup)
	run -2 mig -d app.db backup --list --porcelain --json
	[ "${lines[0]}" = "mig-backup: error: --porcelain and --json cannot be used together" ]
	run -2 mig -d app.db backup --list --message why
	[ "${lines[0]}" = "mig-backup: error: --message and -o go with taking a snapshot" ]
	run -2 mig -d app.db backup --verify "$id" extra
	[ "${lines[0]}" = "mig-backup: error: unexpected argument 'extra'" ]
	run -2 mig -d app.db restore "$id" -i image.gz
	[ "${lines[0]}" = "mig-restore: error: unexpected argument '$id'" ]
	run -2 mig -d app.db restore "$id" "$id"
	[ "${lines[0]}" = "mig-restore: error: unexpected argument '$id'" ]
	run -2 mig restore
	[ "${lines[0]}" = "mig-restore: error: no database given" ]
	run -2 mig -d app.db log extra
	[ "${lines[0]}" = "mig-log: error: unexpected argument 'extra'" ]
	run -2 mig -d app.db sqlshow --revision 0001 extra
	[ "${lines[0]}" = "mig-sqlshow: error: --revision takes no other revision" ]
}

@test "a mig.conf that does not parse stops backup, restore and log (exit 6)" {
	printf '[mig\n' >mig.conf
	for cmd in "backup --list" restore log; do
		run -6 mig -d app.db $cmd
		[ "$output" = "mig-${cmd%% *}: error: cannot read configuration: failed to parse config file: missing ']' in section header (in $BATS_TEST_TMPDIR/mig.conf:1)" ]
	done
}

@test "sqlshow --down of a revision without a down section is refused (exit 5); down to base from base shows nothing" {
	two
	run -0 mig -d app.db sqlshow --down base
	[ -z "$output" ]
	mig -d app.db up -q
	run -5 mig -d app.db sqlshow --down
	[ "$output" = "mig-sqlshow: error: 0002_z is irreversible: it has no '-- mig:down' section" ]
	# one revision's, from the store, when its file is gone: no store, no body
	rm migrations/0001_a.sql
	mv app.db.mig elsewhere
	id=$(q app.db "SELECT substr(id, 1, 12) FROM mig_revisions WHERE name = '0001_a'")
	run -6 mig -d app.db sqlshow --revision 0001_a
	[ "$output" = "mig-sqlshow: error: revision body $id of 0001_a: there is no store" ]
}

@test "an irreversible revision's hint gives the whole command, with its target" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n-- mig:down\nDROP TABLE a;\n'
	rev 0002_z $'-- mig:up\nCREATE TABLE z(x INT);\n'
	rev 0003_c $'-- mig:up\nCREATE TABLE c(x INT);\n-- mig:down\nDROP TABLE c;\n'
	mig -d app.db up -q
	before=$(q app.db .dump)
	run -5 mig -d app.db down 0001
	[ "${lines[0]}" = "mig-down: error: 0002_z is irreversible: it has no '-- mig:down' section" ]
	[ "${lines[1]}" = "hint: revert what was applied after it with 'mig down 0002_z', then record it as reverted without running SQL with 'mig fake --unapply 0001_a'" ]
	[ "$(q app.db .dump)" = "$before" ]
	mig -d app.db down -q 0002_z
	run -5 mig -d app.db down
	[ "${lines[1]}" = "hint: record it as reverted without running SQL with 'mig fake --unapply 0001_a'" ]
	mig -d app.db fake -q --unapply 0001_a
	run -0 mig -d app.db status --porcelain
	has "revision	pending	0002_z	$(git hash-object migrations/0002_z.sql)	migrations/0002_z.sql"
}

@test "the journal of a restore names the snapshot taken before it, in every format" {
	two
	mig -d app.db up -q
	id=$(mig -d app.db backup)
	q app.db 'INSERT INTO t VALUES (1)'
	mig -d app.db restore -q "$id"
	before=$(mig -d app.db backup --list --porcelain | awk -F'\t' '$7 == "before restore" { print $2 }')
	[ ${#before} = 40 ]
	run -0 mig -d app.db log --porcelain -n 1
	[ "${lines[1]}" = "snapshot	$(cut -f2 <<<"${lines[0]}")	$id	$before" ]
	run -0 mig -d app.db log --json -n 1
	run -0 python3 -c 'import json,sys; e = json.loads(sys.argv[1])[0]; print(e["snapshot"], e["before"])' "$output"
	[ "$output" = "$id $before" ]
}

@test "drift where the live schema lost its last objects: the recorded lines left over are shown" {
	sqlite_only
	two
	mig -d app.db up -q
	q app.db 'DROP TABLE z'
	run -0 mig -d app.db status -v
	has "    - table z: CREATE TABLE z(x INT)"
}

@test "status --json with no files at all, only applied revisions whose files are gone" {
	two
	mig -d app.db up -q
	rm migrations/*
	run -0 mig -d app.db status --json
	run -0 python3 -c 'import json,sys; print(" ".join(r["name"] + ":" + r["state"] for r in json.loads(sys.argv[1])["revisions"]))' "$output"
	[ "$output" = "0001_a:missing 0002_z:missing" ]
}

@test "more misuse: counts with junk or too large, --revision with --schema, merge and log without what they need" {
	two
	mig -d app.db up -q 0001
	for spec in -1x -99999999999999999999; do
		run -2 mig -d app.db down "$spec"
		[ "$output" = "mig-down: error: bad revision '$spec': expected -N or +N, N at least 1" ]
	done
	run -2 mig -d app.db sqlshow --revision 0001 --schema
	[ "${lines[0]}" = "mig-sqlshow: error: --revision and --schema cannot be used together" ]
	run -3 mig -m nosuch merge
	[ "${lines[0]}" = "mig-merge: error: cannot open migrations directory 'nosuch': No such file or directory" ]
	run -2 mig log
	[ "${lines[0]}" = "mig-log: error: no database given" ]
}

@test "prune and restore where the store cannot be made or is not there exit 6" {
	two
	mig -d app.db up -q 0001
	run -6 mig -d app.db --store /proc/self/st backup --prune 1
	[ "$output" = "mig-backup: error: cannot create store '/proc/self/st': No such file or directory" ]
	run -6 mig -d app.db --store nost restore
	[ "${lines[0]}" = "mig-restore: error: no snapshot in store 'nost': it does not exist" ]
	[ ! -e nost ]
}

@test "mig.backup = false: restore takes no snapshot first" {
	two
	mig -d app.db up -q
	id=$(mig -d app.db backup)
	printf '[mig]\n\tbackup = false\n' >mig.conf
	q app.db 'INSERT INTO t VALUES (1)'
	run -0 mig -d app.db restore -q "$id"
	[ "$(q app.db 'SELECT count(*) FROM t')" = 0 ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = 1 ]
}

@test "drift -v when the store is not a store says so" {
	two
	mig -d app.db up -q
	q app.db 'CREATE INDEX i ON t(x)'
	mv app.db.mig st
	: >app.db.mig
	run -0 mig -d app.db status -v
	has "    (the recorded schema is not in the store: cannot open store: path is not a repository: app.db.mig)"
}
