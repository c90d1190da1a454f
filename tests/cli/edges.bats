#!/usr/bin/env bats
# Revision specs, new revisions' numbers and other tools' layouts at
# their edges: nothing to name, too much to name, applied revisions whose
# files are gone, numbers that carry, timestamps, plain SQL that is not.
load helper

@test "with no revisions, 'head' names nothing (exit 2) and a plain up has nothing to do" {
	run -0 mig -d app.db up
	[ -z "$output" ]
	run -2 mig -d app.db up head
	[ "$output" = "mig-up: error: no revisions in 'migrations': 'head' names nothing" ]
	run -2 mig -d app.db up -0
	[ "$output" = "mig-up: error: bad revision '-0': expected -N or +N, N at least 1" ]
	run -2 mig -d app.db down +0
	[ "$output" = "mig-down: error: bad revision '+0': expected -N or +N, N at least 1" ]
}

@test "an ambiguous spec lists ten candidates and counts the rest" {
	for i in $(seq 1 12); do
		rev "$(printf %04d "$i")_r$i" "SELECT $i;"
	done
	run -2 mig -d app.db up 00
	[ "$output" = "mig-up: error: revision '00' is ambiguous: 0001_r1, 0002_r2, 0003_r3, 0004_r4, 0005_r5, 0006_r6, 0007_r7, 0008_r8, 0009_r9, 0010_r10 and 2 more" ]
}

@test "'current' with two applied heads is ambiguous; with nothing applied it is base" {
	rev 0001_a $'-- mig:parents\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:parents\nCREATE TABLE b(x INT);\n'
	run -2 mig -d app.db sqlshow --revision current
	[ "$output" = "mig-sqlshow: error: 'current' names no single revision" ]
	mig -d app.db up -q heads
	run -2 mig -d app.db down current
	[ "$output" = "mig-down: error: 'current' is ambiguous: 2 applied heads: 0001_a, 0002_b" ]
}

@test "applied revisions whose files are gone are still named: by name, prefix, id prefix and as current" {
	rev 0001_a $'-- mig:parents\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:parents 0001_a\nCREATE TABLE b(x INT);\n'
	mig -d app.db up -q
	b=$(git hash-object migrations/0002_b.sql)
	rm migrations/*.sql
	run -0 mig -d app.db sqlshow --revision current
	[ "$output" = $'-- mig:parents 0001_a\nCREATE TABLE b(x INT);' ]
	run -2 mig -d app.db sqlshow --revision 000
	[ "$output" = "mig-sqlshow: error: revision '000' is ambiguous: 0001_a, 0002_b" ]
	run -0 mig -d app.db sqlshow --revision "${b:0:6}"
	[ "$output" = $'-- mig:parents 0001_a\nCREATE TABLE b(x INT);' ]
	run -0 mig -d app.db sqlshow --revision 0001
	[ "$output" = $'-- mig:parents\nCREATE TABLE a(x INT);' ]
}

@test "new numbers carry into the next digit and past the width; timestamps follow the clock, or the latest" {
	: >migrations/0009_x.sql
	run -0 mig new y
	[ "$output" = migrations/0010_y.sql ]
	: >migrations/9999_z.sql
	run -0 mig new w
	[ "$output" = migrations/10000_w.sql ]
	rm migrations/*
	: >migrations/20200101000000_a.sql
	before=$(date -u +%Y%m%d%H%M%S)
	run -0 mig new b
	stamp=${output#migrations/}
	stamp=${stamp%_b.sql}
	[ "$stamp" -ge "$before" ]
	[ "$stamp" -le "$(date -u +%Y%m%d%H%M%S)" ]
	rm migrations/*
	: >migrations/29990101000000_a.sql
	run -0 mig new b
	[ "$output" = migrations/29990101000001_b.sql ]
}

@test "new in the current directory, and in one that refuses new files (exit 6)" {
	mkdir here
	cd here
	run -0 mig -m . new first
	[ "$output" = 0001_first.sql ]
	[ "$(head -1 0001_first.sql)" = "-- mig:parents" ]
	run -6 mig -m /proc/self new x
	[ "$output" = "mig-new: error: cannot create '/proc/self/0001_x.sql': No such file or directory" ]
}

@test "other tools' files hold plain SQL: a mig directive or a NUL in one is named in its own file and line" {
	printf 'CREATE TABLE t(x INT);\n-- mig:up\n' >migrations/1_t.up.sql
	printf 'DROP TABLE t;\n' >migrations/1_t.down.sql
	run -3 mig -d app.db status
	[ "${lines[0]}" = "mig-status: error: migrations/1_t.up.sql:2: '-- mig:up' in a golang-migrate file" ]
	[ "${lines[1]}" = "hint: 1_t is a golang-migrate revision: its files hold plain SQL" ]
	printf 'CREATE TABLE t(x INT);\n' >migrations/1_t.up.sql
	printf 'SELECT 1;\nSELECT 2;\n-- mig:no-transaction please\n' >migrations/1_t.down.sql
	run -3 mig -d app.db status
	[ "${lines[0]}" = "mig-status: error: migrations/1_t.down.sql:3: '-- mig:no-transaction' in a golang-migrate file" ]
	printf 'SELECT 1;\nSELECT\0 2;\n' >migrations/1_t.down.sql
	run -3 mig -d app.db status
	[ "${lines[0]}" = "mig-status: error: migrations/1_t.down.sql:2: NUL byte in a revision file" ]
	# the two a plain file may hold: parents (which the chain replaces) and a bare no-transaction
	printf -- '-- mig:parents nosuch\n-- mig:no-transaction \r\nCREATE TABLE t(x INT);\n' >migrations/1_t.up.sql
	printf 'DROP TABLE t;\n' >migrations/1_t.down.sql
	run -0 mig -d app.db status --json
	run -0 python3 -c 'import json,sys; r = json.loads(sys.argv[1])["revisions"][0]; print(r["parents"], r["transaction"])' "$output"
	[ "$output" = "[] False" ]
	rm migrations/*
	mkdir migrations/2024-01-01-000000_t
	printf -- '-- mig:frob\nSELECT 1;\n' >migrations/2024-01-01-000000_t/up.sql
	run -3 mig -d app.db status
	[ "${lines[0]}" = "mig-status: error: migrations/2024-01-01-000000_t/up.sql:1: '-- mig:frob' in a diesel file" ]
	[ "${lines[1]}" = "hint: 2024-01-01-000000_t is a diesel revision: its files hold plain SQL" ]
}

@test "diesel: an up.sql without a final newline, and metadata.toml that does not say false" {
	mkdir migrations/2024-01-01-000000_t
	printf 'CREATE TABLE t(x INT)' >migrations/2024-01-01-000000_t/up.sql
	printf 'run_in_transaction true\n' >migrations/2024-01-01-000000_t/metadata.toml
	run -0 mig -d app.db sqlshow --revision 2024
	[ "$output" = $'CREATE TABLE t(x INT)\n;' ]
	run -0 mig -d app.db status --json
	run -0 python3 -c 'import json,sys; print(json.loads(sys.argv[1])["revisions"][0]["transaction"])' "$output"
	[ "$output" = True ]
	run -0 mig -d app.db up -q
	[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 't'")" = 1 ]
}

@test "up to an applied revision whose file is gone is a usage error" {
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:up\nCREATE TABLE b(x INT);\n'
	mig -d app.db up -q
	rm migrations/0002_b.sql
	run -2 mig -d app.db up 0002_b
	[ "$output" = "mig-up: error: cannot apply '0002_b': its file is missing" ]
}

@test "adopting twice: the second time there is nothing to adopt, and it says so" {
	rev 20240101000000_users $'-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n'
	q app.db "CREATE TABLE users(id INTEGER PRIMARY KEY);
		CREATE TABLE schema_migrations(version varchar(128) PRIMARY KEY);
		INSERT INTO schema_migrations VALUES ('20240101000000');"
	run -0 mig -d app.db fake --adopt
	has "recording as applied: 20240101000000_users"
	run -0 mig -d app.db fake --adopt
	[ "$output" = "mig-fake: nothing to adopt: dbmate records nothing that is not applied" ]
	run -0 mig -d app.db fake -q --adopt
	[ -z "$output" ]
}

@test "backup -o: names through directories that do not exist still resolve; a directory or a missing one exits 6" {
	sqlite_only
	q app.db 'CREATE TABLE t(x INT); INSERT INTO t VALUES (1)'
	db=$(cksum <app.db)
	mkdir d
	for o in missing/../app.db "$PWD/missing/./../app.db" missing/deeper/../../app.db; do
		run -5 mig -d app.db backup -o "$o"
		[ "${lines[0]}" = "mig-backup: error: refusing to write to '$o': it is the database 'app.db'" ]
	done
	run -5 mig -d app.db backup -o ./d/../app.db-wal/
	[ "${lines[0]}" = "mig-backup: error: refusing to write to './d/../app.db-wal/': it is the write-ahead log of the database 'app.db'" ]
	run -6 mig -d app.db backup -o d
	[ "$output" = "mig-backup: error: cannot open 'd': Is a directory" ]
	run -6 mig -d app.db backup -o /nonexistent-dir/x.gz
	[ "$output" = "mig-backup: error: cannot create '/nonexistent-dir/x.gz': No such file or directory" ]
	run -5 mig -d app.db backup -o app.db.mig
	[ "${lines[0]}" = "mig-backup: error: refusing to write to 'app.db.mig': it is inside the store 'app.db.mig'" ]
	for o in 'missing//' missing/. 'missing/./x.gz'; do
		run -6 mig -d app.db backup -o "$o"
		[ "$output" = "mig-backup: error: cannot create '$o': No such file or directory" ]
	done
	# an empty name is a usage error, found before a snapshot is taken
	n=$(mig -d app.db backup --list --porcelain | wc -l)
	run -2 mig -d app.db backup -o ''
	[ "${lines[0]}" = "mig-backup: error: -o needs a file name, or '-' for standard output" ]
	[ "$(mig -d app.db backup --list --porcelain | wc -l)" = "$n" ]
	[ "$(cksum <app.db)" = "$db" ]
	[ -z "$(ls d)" ]
}

@test "two tools' layouts in one directory are read as mig reads its own: in name order" {
	printf 'CREATE TABLE a(x INT);\n' >migrations/1_a.up.sql
	mkdir migrations/2024-01-01-000000_b
	printf 'CREATE TABLE b(x INT);\n' >migrations/2024-01-01-000000_b/up.sql
	run -0 mig -d app.db status --porcelain
	[ "$(grep '^revision' <<<"$output" | cut -f3 | tr '\n' ' ')" = "1_a 2024-01-01-000000_b " ]
	has "head	2024-01-01-000000_b"
}

@test "new where the migrations directory cannot be made exits 6; sqlshow --schema of nothing is empty" {
	run -6 mig -m /proc/self/x new foo
	[ "$output" = "mig-new: error: cannot create '/proc/self/x': No such file or directory" ]
	run -0 mig -d app.db sqlshow --schema
	[ -z "$output" ]
	run -2 mig -d app.db sqlshow --schema nosuch
	[ "${lines[0]}" = "mig-sqlshow: error: unknown revision 'nosuch'" ]
}

@test "the schema up to a merge holds each revision of the diamond once" {
	sqlite_only
	rev 0001_a $'-- mig:parents\nCREATE TABLE a(x INT);\n'
	rev 0002_b $'-- mig:parents 0001_a\nCREATE TABLE b(x INT);\n'
	rev 0003_c $'-- mig:parents 0001_a\nCREATE TABLE c(x INT);\n'
	rev 0004_d $'-- mig:parents 0002_b 0003_c\nCREATE TABLE d(x INT);\n'
	run -0 mig -d app.db sqlshow --schema 0004_d
	[ "$output" = $'CREATE TABLE a(x INT);\nCREATE TABLE b(x INT);\nCREATE TABLE c(x INT);\nCREATE TABLE d(x INT);' ]
	run -0 mig -d app.db sqlshow --schema 0003_c
	[ "$output" = $'CREATE TABLE a(x INT);\nCREATE TABLE c(x INT);' ]
}

@test "a migrations directory that is a file is an error naming it (exit 3)" {
	: >notdir
	run -3 mig -d app.db -m notdir status
	[ "$output" = "mig-status: error: cannot open migrations directory 'notdir': Not a directory" ]
}

@test "golang-migrate files empty, without a final newline, or of the same version; diesel names without a suffix" {
	: >migrations/1_a.up.sql
	: >migrations/1_a.down.sql
	printf 'SELECT 2;' >migrations/01_b.up.sql
	printf -- '-- mig:parents x' >migrations/2_c.up.sql
	# versions 1 and 01 are the same: two up files of it, which golang-migrate refuses too
	run -3 mig -d app.db status --porcelain
	has "mig-status: error: migrations/1_a.up.sql: duplicate migration file: version 1 is also migrations/01_b.up.sql"
	rm migrations/01_b.up.sql
	run -0 mig -d app.db status --porcelain
	[ "$(grep '^revision' <<<"$output" | cut -f3 | tr '\n' ' ')" = "1_a 2_c " ]
	has "head	2_c"
	run -0 mig -d app.db up -q
	rm migrations/*
	mkdir migrations/2024-01-01-000000 migrations/2024-02-01-000000_x
	echo 'SELECT 1;' >migrations/2024-01-01-000000/up.sql
	echo 'SELECT 2;' >migrations/2024-02-01-000000_x/up.sql
	echo 'name = "x"' >migrations/2024-02-01-000000_x/metadata.toml
	mkdir migrations/2024-01-01-000000/metadata.toml
	run -0 mig -d other.db status --porcelain
	[ "$(grep '^revision' <<<"$output" | cut -f3 | tr '\n' ' ')" = "2024-01-01-000000 2024-02-01-000000_x " ]
	run -0 mig -d other.db sqlshow --revision 2024-02
	[ "$output" = "SELECT 2;" ]
}

@test "a name without a number counts as version 0 for the next one" {
	echo 'SELECT 1;' >migrations/init.sql
	run -0 mig new x
	[ "$output" = migrations/0001_x.sql ]
	[ "$(head -1 migrations/0001_x.sql)" = "-- mig:parents init" ]
}

@test "five-digit numbers stay five digits; a DEL in a head's name is refused as a parent; odd specs" {
	: >migrations/00007_a.sql
	run -0 mig new b
	[ "$output" = migrations/00008_b.sql ]
	printf -- 'SELECT 1;\n' >"migrations/00009_d$(printf '\177')el.sql"
	run -5 mig new c
	[ "${lines[0]}" = "mig-new: error: cannot name '00009_d\\x7fel' as a parent: '-- mig:parents' cannot hold a blank or a control character" ]
	run -0 mig -d app.db sqlshow --schema base
	[ -z "$output" ]
	run -2 mig -d app.db sqlshow -
	[ "${lines[0]}" = "mig-sqlshow: error: unknown revision '-'" ]
	run -2 mig -d app.db up +x
	[ "${lines[0]}" = "mig-up: error: unknown revision '+x'" ]
	# a count is a whole number from 1 that fits
	for s in -0 +0 -99999999999999999999 +1x; do
		run -2 mig -d app.db up "$s"
		[ "${lines[0]}" = "mig-up: error: bad revision '$s': expected -N or +N, N at least 1" ]
	done
	[ ! -e app.db ]
	mkdir sub
	run -0 mig-status -Csub -d ../app.db -m ../migrations --porcelain
	has "database	../app.db	missing"
}
