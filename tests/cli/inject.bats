#!/usr/bin/env bats
# Every place in mig that calls libgit2 or SQLite, made to fail in turn
# (build/inject.so, from tests/inject/inject.c: a libgit2 call returns
# -1, a SQLite call runs out of memory), as a store on a failing disk or
# a machine out of memory would: the command exits 6 with one error line,
# or 0 when it could do without, and never crashes; run again without the
# fault, it succeeds and leaves what it should.
# backend: sqlite (libgit2 and SQLite calls; pg.bats fails libpq's)
load helper

# proj/: two revisions, the first of which fills a table
project() {
	mkdir -p proj/migrations
	printf -- '-- mig:up\nCREATE TABLE t(x INT);\nINSERT INTO t VALUES (1);\n-- mig:down\nDROP TABLE t;\n' \
		>proj/migrations/0001_a.sql
	printf -- '-- mig:up\nCREATE TABLE u(x INT);\n-- mig:down\nDROP TABLE u;\n' >proj/migrations/0002_b.sql
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/proj/xdg-cache
	cd proj
}

# (under make asan: libgit2 1.5 leaks a little on some of its own error
# paths, which are not mig's to free; the runs without a fault check leaks)
injected() {
	env LD_PRELOAD="$TOP/build/inject.so" ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 "$@"
}

# each_fault CMD...: for each place where CMD calls a function inject.so
# can fail, a fresh copy of proj/ and CMD with that call failing; when
# it fails, CMD again (so it must do the same the second time; or, when
# a failed CMD can leave a state CMD itself refuses, the shell command
# AGAIN); verify (each
# test defines it, every line with its own "|| return 1": it runs as a
# condition, where set -e does not), in that copy. Every run starts from
# the same files, their caches and times, so each takes the same path.
each_fault() {
	local fn n where sites=0 failed=0 log=$BATS_TEST_TMPDIR/fired

	cd "$BATS_TEST_TMPDIR"
	find proj -exec touch -h -d '-1 min' {} +
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/run/xdg-cache
	rm -rf run calls && cp -a proj run && cd run
	injected INJECT_COUNT="$BATS_TEST_TMPDIR/calls" "$@" >/dev/null 2>&1
	cd .. && sort -u calls >sites
	while read -r fn n; do
		where="with call $n of $fn failing:"
		sites=$((sites + 1))
		rm -rf run "$log" && cp -a proj run && cd run
		run --separate-stderr injected INJECT_FN="$fn" INJECT_N="$n" INJECT_LOG="$log" "$@"
		if [ "$(cat "$log")" != "fired $fn $n" ]; then
			echo "$where the fault was not injected" >&2
			return 1
		fi
		if [ "$status" = 6 ]; then
			failed=$((failed + 1))
			if [ "$(grep -cE '^mig(-[a-z]+)?: error: ' <<<"$stderr")" != 1 ]; then
				printf '%s not one error line:\n%s\n' "$where" "$stderr" >&2
				return 1
			fi
		elif [ "$status" != 0 ]; then
			printf '%s exit %s:\n%s\n' "$where" "$status" "$stderr" >&2
			return 1
		fi
		# a failed run is run again; both leave what they should
		if [ "$status" = 6 ] && [ -n "${AGAIN-}" ]; then
			run --separate-stderr sh -c "$AGAIN"
		elif [ "$status" = 6 ]; then
			run --separate-stderr "$@"
			if [ "$status" != 0 ]; then
				printf '%s then without it, exit %s:\n%s\n' "$where" "$status" "$stderr" >&2
				return 1
			fi
		fi
		if ! verify; then
			echo "$where the result is wrong" >&2
			return 1
		fi
		cd ..
	done <sites
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/proj/xdg-cache
	cd proj
	# the harness itself works: places were found, and failing them failed runs
	echo "$sites places, $failed runs failed" >&2
	[ "$sites" -ge "${MIN_SITES:-5}" ]
	[ "$failed" -ge 1 ]
}

@test "up onto a database mig has not seen: store created, snapshot taken, revisions applied" {
	project
	q app.db 'CREATE TABLE old(y INT)'
	verify() {
		mig -d app.db status --check >/dev/null || return 1
		[ "$(q app.db 'SELECT x FROM t')" = 1 ] || return 1
		# the snapshot before up (a failed run may have taken one too)
		[ "$(mig -d app.db backup --list --porcelain | cut -f7 | sort -u)" = "before up" ] || return 1
	}
	MIN_SITES=40 each_fault mig -d app.db up -q
}

@test "down reverts from the store" {
	project
	mig -d app.db up -q
	verify() {
		[ "$(q app.db "SELECT group_concat(name) FROM sqlite_schema WHERE name IN ('t', 'u')")" = t ] ||
			return 1
		[ "$(mig -d app.db status --porcelain | grep -c "^revision	pending")" = 1 ] || return 1
	}
	MIN_SITES=30 each_fault mig -d app.db down -q 0001_a
}

@test "backup -o writes a gzip of the database" {
	project
	mig -d app.db up -q
	verify() {
		gunzip -c x.gz >image.db || return 1
		[ "$(sqlite3 image.db .dump)" = "$(q app.db .dump)" ] || return 1
	}
	each_fault mig -d app.db backup -q -o x.gz
}

@test "restore of a snapshot, and of a gzip image" {
	project
	mig -d app.db up -q
	id=$(mig -d app.db backup -o x.gz 2>&1)
	q app.db 'INSERT INTO t VALUES (2)'
	verify() { [ "$(q app.db 'SELECT group_concat(x) FROM t')" = 1 ] || return 1; }
	each_fault mig -d app.db restore -q "$id"
	each_fault mig -d app.db restore -q -i x.gz
}

@test "backup --list, --verify and --prune" {
	project
	mig -d app.db up -q
	mig -d app.db backup -q
	q app.db 'INSERT INTO t VALUES (2)'
	mig -d app.db backup -q --message second
	verify() { :; }
	MIN_SITES=3 each_fault mig -d app.db backup --list
	MIN_SITES=3 each_fault mig -d app.db backup --verify
	verify() {
		[ "$(mig -d app.db backup --list --porcelain | cut -f7)" = second ] || return 1
		mig -d app.db backup --verify >/dev/null || return 1
	}
	each_fault mig -d app.db backup -q --prune 1
}

@test "prune of a store git has packed: the packs are written anew" {
	project
	mig -d app.db up -q
	mig -d app.db backup -q
	q app.db 'INSERT INTO t VALUES (2)'
	mig -d app.db backup -q --message second
	git --git-dir=app.db.mig gc -q
	verify() {
		[ "$(mig -d app.db backup --list --porcelain | cut -f7)" = second ] || return 1
		mig -d app.db backup --verify >/dev/null || return 1
	}
	each_fault mig -d app.db backup -q --prune 1
}

@test "log, fake, sqlshow and a status that reads mig.conf" {
	project
	mig -d app.db up -q 0001
	printf '[mig]\n\tdatabase = app.db\n\tlockTimeout = 100\n\tbackup = true\n' >mig.conf
	verify() { :; }
	each_fault mig log -v
	each_fault mig log --json
	each_fault mig status
	each_fault mig sqlshow --schema
	verify() { mig status --check >/dev/null || return 1; }
	each_fault mig fake 0002
}

@test "sqlshow on a database in use, status -v with drift, a dry run" {
	project
	mig -d app.db up -q 0001
	verify() { [ "$(mig -d app.db status --porcelain | grep -c "^revision	pending")" = 1 ] || return 1; }
	each_fault mig -d app.db up --dry-run -q
	verify() { :; }
	each_fault mig -d app.db sqlshow
	q app.db 'CREATE INDEX t_x ON t(x)'
	each_fault mig -d app.db status -v
}

@test "fake --unapply and --rehash" {
	project
	mig -d app.db up -q
	verify() { [ "$(mig -d app.db status --porcelain | grep -c "^revision	pending")" = 1 ] || return 1; }
	each_fault mig -d app.db fake -q --unapply 0001_a
	printf -- '-- edited\n' >>migrations/0002_b.sql
	verify() { mig -d app.db status --check >/dev/null || return 1; }
	each_fault mig -d app.db fake -q --rehash 0002_b
}

@test "fake --adopt of another tool's bookkeeping" {
	mkdir -p proj/migrations
	printf -- '-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n' >proj/migrations/20240101000000_users.sql
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/proj/xdg-cache
	cd proj
	q app.db "CREATE TABLE users(id INTEGER PRIMARY KEY);
		CREATE TABLE schema_migrations(version varchar(128) PRIMARY KEY);
		INSERT INTO schema_migrations VALUES ('20240101000000');"
	verify() { mig -d app.db status --check >/dev/null || return 1; }
	each_fault mig -d app.db fake -q --adopt
}

@test "fake --adopt of Django's bookkeeping, its applied times recorded" {
	mkdir -p proj/migrations
	printf -- '-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n' >proj/migrations/0001_auth_0001_initial.sql
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/proj/xdg-cache
	cd proj
	sqlite3 app.db "CREATE TABLE users(id INTEGER PRIMARY KEY);
		CREATE TABLE django_migrations(id INTEGER PRIMARY KEY, app, name, applied);
		INSERT INTO django_migrations(app, name, applied) VALUES ('auth', '0001_initial', '2024-01-31 12:00:00');"
	verify() {
		mig -d app.db status --check >/dev/null || return 1
		[ "$(sqlite3 app.db "SELECT applied_at FROM mig_revisions WHERE scope = 'app'")" = 2024-01-31T12:00:00.000Z ] || return 1
	}
	each_fault mig -d app.db fake -q --adopt
}

@test "snapshots stored as deltas: taken, restored, exported, loose and packed" {
	project
	mig -d app.db up -q
	q app.db "CREATE TABLE big(v INT); INSERT INTO big SELECT randomblob(300) FROM generate_series(1, 2000)"
	export MIG_CHUNK_SIZE=64
	first=$(mig -d app.db backup)
	q app.db "UPDATE big SET v = randomblob(300) WHERE rowid = 1000"
	# a second snapshot: the changed chunk is a delta on the first's
	verify() { mig -d app.db backup --verify >/dev/null || return 1; }
	each_fault mig -d app.db backup -q
	second=$(mig -d app.db backup)
	[ "$(git --git-dir=app.db.mig cat-file blob "$second:manifest" | grep -c '^delta ')" -ge 1 ]
	q app.db "DELETE FROM big"
	verify() { [ "$(q app.db 'SELECT count(*) FROM big')" = 2000 ] || return 1; }
	each_fault mig -d app.db restore -q --no-backup "$second"
	git --git-dir=app.db.mig gc -q
	each_fault mig -d app.db restore -q --no-backup "$second"
	mig -d app.db restore -q --no-backup "$second"
	verify() { gunzip -c x.gz >image.db && [ "$(sqlite3 image.db 'SELECT count(*) FROM big')" = 2000 ] || return 1; }
	each_fault mig -d app.db backup -q -o x.gz
}

@test "redo of an edited revision, and diff of it" {
	project
	mig -d app.db up -q
	printf -- '-- mig:up\nCREATE TABLE u(x INT, y INT);\n-- mig:down\nDROP TABLE u;\n' >migrations/0002_b.sql
	verify() {
		mig -d app.db status --check >/dev/null || return 1
		[ "$(q app.db "SELECT sql FROM sqlite_schema WHERE name = 'u'")" = "CREATE TABLE u(x INT, y INT)" ] ||
			return 1
		[ "$(q app.db 'SELECT x FROM t')" = 1 ] || return 1
	}
	# a redo cut short after its revert is finished by up (tests/cli/redo.bats)
	AGAIN='mig -d app.db redo -q 0002_b 2>/dev/null || mig -d app.db up -q' \
		MIN_SITES=30 each_fault mig -d app.db redo -q 0002_b
	verify() { :; }
	each_fault mig -d app.db diff
	each_fault mig -d app.db diff 0002
	each_fault mig -d app.db sqlshow --down 0001_a
}

@test "the graph drawn by log and status, and as dot" {
	project
	mig -d app.db up -q 0001
	verify() { :; }
	each_fault mig -d app.db log --graph
	each_fault mig -d app.db log --graph --dot
	each_fault mig -d app.db status --graph
}

@test "an up that writes mig.schemaFile and prunes to mig.backupKeep" {
	project
	printf '[mig]\n\tdatabase = app.db\n\tschemaFile = schema.sql\n\tbackupKeep = 1\n' >mig.conf
	mig up -q 0001
	mig backup -q --message manual
	mig down -q base
	mig up -q 0001
	verify() {
		mig status --check >/dev/null || return 1
		# or, when it cannot be, a warning: the run stands
		grep -q '^CREATE TABLE u' schema.sql || grep -q '^mig-up: warning: mig.schemaFile: ' <<<"$stderr" ||
			return 1
		# a prune left undone (the journal not written) is done by the next run
		mig backup --list --porcelain | grep -q '	manual$' || return 1
	}
	MIN_SITES=30 each_fault mig up -q
}

@test "a mig.conf any of whose paths cannot be read exits 6 naming it, and creates nothing" {
	project
	printf '[mig]\n\tdatabase = app.db\n\tmigrations = migrations\n\tstore = app.db.mig\n\tschemaFile = schema.sql\n' >mig.conf
	# one call reads each key: the first, second, third and fourth fail in turn
	for n in 1 2 3 4; do
		run -6 injected INJECT_FN=git_config_get_string_buf INJECT_N=$n mig status
		[ "$output" = "mig-status: error: $PWD/mig.conf: injected fault" ]
	done
	[ ! -e app.db ]
	run -0 mig status --porcelain
	has "database	app.db	missing"
}

@test "up of a no-transaction revision: marked dirty first, recorded after" {
	project
	printf -- '-- mig:no-transaction\n-- mig:up\nCREATE TABLE IF NOT EXISTS u(x);\n-- mig:down\nDROP TABLE u;\n' \
		>migrations/0002_b.sql
	mig -d app.db up -q 0001
	verify() {
		mig -d app.db status --check >/dev/null || return 1
		[ "$(q app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'u'")" = 1 ] || return 1
	}
	# cut short after its SQL ran, it is dirty: said to have rolled back, it runs again (it can)
	AGAIN='mig -d app.db up -q 2>/dev/null ||
		{ mig -d app.db fake -q --resolve rolled-back && mig -d app.db up -q; }' \
		MIN_SITES=20 each_fault mig -d app.db up -q
}

@test "the entry a run could not journal is written by the next command: up, up with nothing to do, backup" {
	project
	# the journal commit of the first up fails: its entry stays in the database
	injected INJECT_FN=git_commit_create INJECT_N=1 mig -d app.db up -q 0001
	[ "$(q app.db 'SELECT count(*) FROM mig_journal')" = 1 ]
	# written by the command, or (when its own entry cannot be) kept for the next, which writes all
	verify() {
		mig -d app.db up -q 0002 || return 1
		[ "$(q app.db 'SELECT count(*) FROM mig_journal')" = 0 ] || return 1
		git --git-dir=app.db.mig log --format=%s refs/mig/journal | grep -qx 'up 0001_a' || return 1
	}
	MIN_SITES=20 each_fault mig -d app.db up -q
	each_fault mig -d app.db up -q 0001
	each_fault mig -d app.db backup -q
}

@test "fake --resolve of a dirty revision, and init adding to a mig.conf" {
	project
	printf -- '-- mig:no-transaction\n-- mig:up\nCREATE TABLE u(x INT);\nSELECT nosuch();\n-- mig:down\nDROP TABLE u;\n' \
		>migrations/0002_b.sql
	mig -d app.db up -q 0001
	run -4 mig -d app.db up -q
	verify() { mig -d app.db status --check >/dev/null || return 1; }
	each_fault mig -d app.db fake -q --resolve applied
	rm -rf app.db app.db.mig
	printf '[mig]\n\tdatabase = app.db\n' >mig.conf
	verify() { [ "$(git config -f mig.conf mig.migrations)" = migrations ] || return 1; }
	MIN_SITES=1 each_fault mig init -q -m migrations
}
