#!/usr/bin/env bats
# mig.conf at its edges: a store and absolute paths in it, an include
# (read every time, never remembered), empty values, CRLF line ends, and
# a file that cannot be read.
load helper

@test "mig.store in mig.conf is relative to it; an absolute database is taken as it is" {
	printf '[mig]\n\tdatabase = app.db\n\tstore = st\n' >mig.conf
	rev 0001_a $'-- mig:up\nCREATE TABLE a(x INT);\n'
	mkdir sub
	cd sub
	run -0 mig -m ../migrations up -q
	cd ..
	[ -d st ]
	[ ! -e app.db.mig ]
	[ ! -e sub/st ]
	printf '[mig]\n\tdatabase = %s/app.db\n\tmigrations = %s/migrations\n' "$PWD" "$PWD" >sub/mig.conf
	cd sub
	run -0 mig status --porcelain
	has "database	$BATS_TEST_TMPDIR/app.db	exists"
	has "migrations	$BATS_TEST_TMPDIR/migrations"
}

@test "a mig.conf that includes another is read every time: a change to the other counts at once" {
	printf '[include]\n\tpath = more.conf\n' >mig.conf
	printf '[mig]\n\tdatabase = one.db\n' >more.conf
	# past the two seconds in which a file's stat data may still change unseen
	sleep 2.1
	run -0 mig status --porcelain
	has "database	one.db	missing"
	printf '[mig]\n\tdatabase = two.db\n' >more.conf
	run -0 mig status --porcelain
	has "database	two.db	missing"
	[ -z "$(ls "$XDG_CACHE_HOME/mig" 2>/dev/null)" ]
}

@test "an empty value in mig.conf or the environment sets nothing" {
	printf '[mig]\n\tdatabase =\n' >mig.conf
	run -2 mig status
	[ "${lines[0]}" = "mig-status: error: no database given" ]
	printf '[mig]\n\tdatabase = conf.db\n' >mig.conf
	MIG_DATABASE= run -0 mig status --porcelain
	has "database	conf.db	missing"
}

@test "CRLF line ends are fine in mig.conf; a DEL byte is not" {
	printf '[mig]\r\n\tdatabase = crlf.db\r\n\tlockTimeout = 10\r\n' >mig.conf
	run -0 mig status --porcelain
	has "database	crlf.db	missing"
	printf '[mig]\n\tdatabase = a\177.db\n' >mig.conf
	run -6 mig status
	[ "${lines[0]}" = "mig-status: error: $BATS_TEST_TMPDIR/mig.conf:2: not a text file (byte 0x7f)" ]
}

@test "a mig.conf that cannot be read exits 6 naming it" {
	ln -s /proc/self/mem mig.conf
	run -6 mig status
	[ "$output" = "mig-status: error: cannot read '$BATS_TEST_TMPDIR/mig.conf': Input/output error" ]
}
