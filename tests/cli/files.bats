#!/usr/bin/env bats
# Revision files as people really write them, hostile ones included.
load helper

@test "an unknown directive exits 3 naming file and line" {
	rev 0001_a $'-- mig:up\nSELECT 1;\n-- mig:dwon\nSELECT 2;\n'
	run -3 mig -d a.db status
	[ "${lines[0]}" = "mig-status: error: migrations/0001_a.sql:3: unknown directive '-- mig:dwon'" ]
	[ "${lines[1]}" = "hint: did you mean '-- mig:down'?" ]
	# one that is not a slip away from any gets the list
	rev 0001_a $'-- mig:up\nSELECT 1;\n-- mig:revert\nSELECT 2;\n'
	run -3 mig -d a.db status
	[ "${lines[0]}" = "mig-status: error: migrations/0001_a.sql:3: unknown directive '-- mig:revert'" ]
	[ "${lines[1]}" = "hint: the directives are up, down, parents and no-transaction" ]
}

@test "an unknown parent exits 3 naming file and line" {
	rev 0001_a '-- mig:parents'
	rev 0002_b $'\n-- mig:parents 0001_a 0000_gone\n'
	run -3 mig -d a.db status
	[ "$output" = "mig-status: error: migrations/0002_b.sql:2: unknown parent '0000_gone'" ]
	# a slip in a parent's name is named
	rev 0002_b $'\n-- mig:parents 0001_aa\n'
	run -3 mig -d a.db status
	[ "${lines[0]}" = "mig-status: error: migrations/0002_b.sql:2: unknown parent '0001_aa'" ]
	[ "${lines[1]}" = "hint: did you mean '0001_a'?" ]
}

@test "a cycle exits 3 naming the files" {
	rev a '-- mig:parents b'
	rev b '-- mig:parents a'
	run -3 mig -d x.db status
	[ "$output" = "mig-status: error: cycle in the revision graph: migrations/a.sql names its parents in a loop: a (migrations/a.sql) -> b (migrations/b.sql) -> a" ]
}

@test "an unreadable file exits 3 naming it" {
	[ "$(id -u)" != 0 ] || skip "root reads every file"
	rev 0001_a 'SELECT 1;'
	chmod 000 migrations/0001_a.sql
	run -3 mig -d x.db status
	[ "$output" = "mig-status: error: cannot read 'migrations/0001_a.sql': Permission denied" ]
}

@test "a revision that is a directory named .sql exits 3" {
	mkdir migrations/0001_dir.sql
	rev 0002_a 'SELECT 1;'
	run -0 mig -d x.db status --porcelain
	has "revision	pending	0002_a	$(git hash-object migrations/0002_a.sql)	migrations/0002_a.sql"
}

@test "a dangling symlink exits 3, a good one is read" {
	printf 'SELECT 1;\n' >elsewhere.sql
	ln -s ../elsewhere.sql migrations/0001_link.sql
	run -0 mig -d x.db status --porcelain
	has "revision	pending	0001_link	$(git hash-object elsewhere.sql)	migrations/0001_link.sql"
	ln -s ../nowhere.sql migrations/0002_dangling.sql
	run -3 mig -d x.db status
	[ "$output" = "mig-status: error: cannot read 'migrations/0002_dangling.sql': No such file or directory" ]
}

@test "a revision file that is a FIFO or a device exits 3 at once and changes nothing" {
	sqlite_only
	rev 0001_a 'CREATE TABLE a(x INT);'
	mkfifo migrations/0002_fifo.sql
	run -3 timeout 10 mig -d new.db up
	[ "$output" = "mig-up: error: 'migrations/0002_fifo.sql' is a FIFO, not a regular file" ]
	[ ! -e new.db ]
	[ ! -e new.db.mig ]
	rm migrations/0002_fifo.sql
	mig -d x.db up -q
	sum=$(cksum <x.db)
	ln -s /dev/zero migrations/0002_zero.sql
	run -3 timeout 10 mig -d x.db status
	[ "$output" = "mig-status: error: 'migrations/0002_zero.sql' is a character device, not a regular file" ]
	run -3 timeout 10 mig -d x.db up
	[ "$output" = "mig-up: error: 'migrations/0002_zero.sql' is a character device, not a regular file" ]
	[ "$(cksum <x.db)" = "$sum" ]
}

@test "files that are not NAME.sql, and hidden files, are ignored" {
	rev 0001_a 'SELECT 1;'
	echo junk >migrations/README
	echo junk >migrations/.0002_swap.sql
	echo junk >migrations/0003_a.sql~
	run -0 mig -d x.db status --porcelain
	[ "$(grep -c '^revision' <<<"$output")" = 1 ]
}

@test "names with spaces, quotes and non-UTF-8 bytes are listed as they are" {
	rev "0001_it's a test" 'SELECT 1;'
	rev $'0002_caf\xe9' 'SELECT 2;'
	run -0 mig -d x.db status --porcelain
	has "revision	pending	0001_it's a test	$(git hash-object "migrations/0001_it's a test.sql")	migrations/0001_it's a test.sql"
	has $'head\t0002_caf\xe9'
	run -0 mig -d x.db status --json
	run -0 python3 -c 'import json,sys; print(json.loads(sys.argv[1])["heads"][0])' "$output"
	[ "$output" = "0002_café" ]
}

@test "CRLF files parse like LF files" {
	printf -- '-- mig:parents\r\n-- mig:up\r\nSELECT 1;\r\n-- mig:down\r\nSELECT 2;\r\n' >migrations/0001_crlf.sql
	printf -- '-- mig:parents 0001_crlf\r\nSELECT 1;\r\n' >migrations/0002_crlf.sql
	run -0 mig -d x.db status --porcelain
	has "head	0002_crlf"
}

@test "a 10 MB revision is read" {
	{ echo '-- mig:up'; head -c 10000000 /dev/zero | tr '\0' 'x' | fold -w 100 | sed 's/^/-- /'; } >migrations/0001_big.sql
	run -0 mig -d x.db status --porcelain
	has "revision	pending	0001_big	$(git hash-object migrations/0001_big.sql)	migrations/0001_big.sql"
}

@test "a thousand revisions with merges are ordered parents first" {
	python3 - <<'PY'
for i in range(1000):
    if i == 0:
        p = "-- mig:parents\n"
    elif i % 10 == 2:
        p = f"-- mig:parents {i-2:04d}_r\n"
    elif i % 10 == 3:
        p = f"-- mig:parents {i-1:04d}_r {i-2:04d}_r\n"
    else:
        p = f"-- mig:parents {i-1:04d}_r\n"
    open(f"migrations/{i:04d}_r.sql", "w").write(p + f"-- mig:up\nCREATE TABLE t{i}(x INT);\n")
PY
	run -0 mig -d x.db status --porcelain
	[ "$(grep -c '^revision	pending' <<<"$output")" = 1000 ]
	has "head	0999_r"
	[ "$(grep -c '^problem' <<<"$output")" = 0 ]
}
