#!/usr/bin/env bats
# What status remembers in the store (revisions.cache, schema.cache), and
# that it never hides a change. A file is remembered only once it is two
# seconds old, so the tests that need it remembered wait that long.
load helper

# three revisions, applied; then wait until their files may be remembered
applied_and_settled() {
	rev 0001_users $'-- mig:up\nCREATE TABLE users(id INTEGER PRIMARY KEY);\n-- mig:down\nDROP TABLE users;\n'
	rev 0002_email $'-- mig:no-transaction\n-- mig:up\nALTER TABLE users ADD COLUMN email TEXT;\n'
	rev 0003_side $'-- mig:parents 0001_users\n-- mig:up\nCREATE TABLE side(x INT);\n'
	rev 0004_merge $'-- mig:parents 0002_email 0003_side\n'
	mig -d app.db up -q --no-backup
	sleep 2.1
}

# the cache's lines for revision files, without its two header lines
cached_files() {
	tail -n +3 app.db.mig/revisions.cache | cut -f2
}

@test "status remembers unchanged files and prints what it printed reading them" {
	applied_and_settled
	run -0 mig -d app.db status --json
	fresh=$output
	[ "$(head -1 app.db.mig/revisions.cache)" = "mig revision cache 1 $(mig --version | cut -d' ' -f3)" ]
	[ "$(cached_files | tr '\n' ' ')" = "0001_users.sql 0002_email.sql 0003_side.sql 0004_merge.sql " ]
	grep -q $'\t0004_merge.sql\t0002_email 0003_side$' app.db.mig/revisions.cache
	run -0 mig -d app.db status --json
	[ "$output" = "$fresh" ]
	[[ "$output" == *'"name":"0002_email","id":"'$(git hash-object migrations/0002_email.sql)'"'*'"transaction":false'* ]]
	run -0 mig -d app.db status --porcelain
	has "revision	applied	0004_merge	$(git hash-object migrations/0004_merge.sql)	migrations/0004_merge.sql"
}

@test "an edit that keeps the size and the mtime is still seen" {
	applied_and_settled
	run -0 mig -d app.db status --check
	grep -q 0001_users.sql app.db.mig/revisions.cache
	# in place, same length, same mtime: only the ctime tells
	f=migrations/0001_users.sql
	before=$(stat -c '%i %s %y' $f)
	mtime=$(stat -c %y $f)
	at=$(grep -bo 'users(id' $f | cut -d: -f1)
	printf x | dd of=$f bs=1 seek=$((at + 7)) conv=notrunc status=none
	touch -d "$mtime" $f
	[ "$(stat -c '%i %s %y' $f)" = "$before" ]
	grep -q 'users(ix' $f
	run -1 mig -d app.db status --check
	[[ "$output" == *"0001_users was modified after it was applied (applied "* ]]
	# and the stale entry is gone: the fresh file is not remembered yet
	run -0 cached_files
	[ "$output" = $'0002_email.sql\n0003_side.sql\n0004_merge.sql' ]
}

@test "a removed file, a new file and a changed parent are seen" {
	applied_and_settled
	run -0 mig -d app.db status --check
	rm migrations/0003_side.sql
	printf -- '-- mig:parents 0002_email\n' >migrations/0004_merge.sql
	rev 0005_more 'CREATE TABLE more(x INT);'
	run -1 mig -d app.db status --porcelain --check
	has "problem	missing	0003_side	0003_side is applied but its file is missing (applied id $(q app.db "SELECT substr(id, 1, 12) FROM mig_revisions WHERE name = '0003_side'"))"
	has "revision	pending	0005_more	$(git hash-object migrations/0005_more.sql)	migrations/0005_more.sql"
	has "head	0005_more"
	run -0 cached_files
	[ "$output" = $'0001_users.sql\n0002_email.sql' ]
}

@test "a damaged or foreign cache is read as empty and written anew" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	mig -d app.db up -q --no-backup
	for junk in '' 'garbage' $'mig revision cache 1 0.0.0\ndir 1 2\n' "$(head -c 300 /dev/urandom | tr -d '\0')"; do
		printf '%s' "$junk" >app.db.mig/revisions.cache
		run -0 mig -d app.db status --porcelain
		has "revision	applied	0001_users	$(git hash-object migrations/0001_users.sql)	migrations/0001_users.sql"
		[ "$(head -c 18 app.db.mig/revisions.cache)" = "mig revision cache" ]
	done
	# another migrations directory gets no entries of this one's
	mkdir other
	cp migrations/0001_users.sql other/
	run -0 mig -d app.db -m other status --check
	[ "$(sed -n 2p app.db.mig/revisions.cache)" = "dir $(stat -c '%d %i' other)" ]
	# one larger than any mig writes is not read at all
	truncate -s 65M app.db.mig/revisions.cache
	run -0 mig -d app.db status --porcelain
	has "revision	applied	0001_users	$(git hash-object migrations/0001_users.sql)	migrations/0001_users.sql"
	[ "$(head -c 18 app.db.mig/revisions.cache)" = "mig revision cache" ]
	[ "$(stat -c %s app.db.mig/revisions.cache)" -lt 4096 ]
}

@test "a file too new to be remembered is read every time" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	mig -d app.db up -q --no-backup
	run -0 mig -d app.db status --check
	[ "$(cached_files)" = "" ]
	echo '-- edited' >>migrations/0001_users.sql
	run -1 mig -d app.db status --check
	[[ "$output" == *"0001_users was modified after it was applied"* ]]
}

@test "status writes no cache where there is no store, and needs none it cannot write" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	run -0 mig -d app.db status
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
	mig -d app.db up -q --no-backup
	sleep 2.1
	# a directory in each cache's place: the rename fails, for root too
	mkdir app.db.mig/revisions.cache app.db.mig/schema.cache
	run -0 mig -d app.db status --check
	has "applied: 1 of 1"
	[ -d app.db.mig/revisions.cache ]
	[ -d app.db.mig/schema.cache ]
	[ -z "$(find app.db.mig -maxdepth 1 -name '*.cache.*')" ]
	rmdir app.db.mig/revisions.cache app.db.mig/schema.cache
	[ "$(id -u)" != 0 ] || skip "root writes into a read-only directory"
	# a store it cannot write in: not even the temporary file
	chmod 500 app.db.mig
	run -0 mig -d app.db status --check
	chmod 700 app.db.mig
	has "applied: 1 of 1"
	[ ! -e app.db.mig/revisions.cache ]
	[ -z "$(find app.db.mig -maxdepth 1 -name '*.cache.*')" ]
}

@test "the schema's hash is remembered by content: drift is seen, a wrong entry is not believed" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);'
	mig -d app.db up -q --no-backup
	run -0 mig -d app.db status --check
	[ "$(head -1 app.db.mig/schema.cache)" = "mig schema cache 1 $(mig --version | cut -d' ' -f3)" ]
	recorded=$(q app.db "SELECT schema_hash FROM mig_revisions ORDER BY seq DESC LIMIT 1")
	[ "$(sed -n 2p app.db.mig/schema.cache | cut -d' ' -f2)" = "$recorded" ]
	# a schema change in the same second, same file size: the content moved
	q app.db 'CREATE INDEX users_name ON users(name)'
	run -1 mig -d app.db status --check
	[[ "$output" == *"the schema differs from the one recorded after 0001_users"* ]]
	q app.db 'DROP INDEX users_name'
	run -0 mig -d app.db status --check
	# an entry naming another hash is checked against the schema, not believed
	key=$(sed -n 2p app.db.mig/schema.cache | cut -d' ' -f1)
	printf 'mig schema cache 1 %s\n%s %040d\n' "$(mig --version | cut -d' ' -f3)" "$key" 0 >app.db.mig/schema.cache
	run -0 mig -d app.db status --check
	[ "$(sed -n 2p app.db.mig/schema.cache)" = "$key $recorded" ]
}

@test "libgit2 is loaded only by what needs it: not by status on remembered files" {
	sqlite_only
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	LD_DEBUG=files mig -d app.db up -q --no-backup 2>loader
	grep -q 'file=libgit2' loader
	sleep 2.1
	mig -d app.db status --check
	LD_DEBUG=files mig -d app.db status --check 2>loader
	run ! grep -q 'file=libgit2' loader
	# reading a mig.conf needs it, until what it says is remembered
	printf '[mig]\n\tdatabase = app.db\n' >mig.conf
	LD_DEBUG=files mig status --check 2>loader
	grep -q 'file=libgit2' loader
	sleep 2.1
	mig status --check
	LD_DEBUG=files mig status --check 2>loader
	run ! grep -q 'file=libgit2' loader
}

@test "what a mig.conf says is remembered until the file changes" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	printf '[mig]\n\tdatabase = a.db\n\tlockTimeout = 7\n' >mig.conf
	mig up -q --no-backup
	sleep 2.1
	mkdir sub
	run -0 mig -C sub status --porcelain
	has "database	../a.db	exists"
	[ "$(sed -n 3p "$XDG_CACHE_HOME"/mig/conf-*)" = "$PWD/mig.conf" ]
	grep -qx 'database	a.db' "$XDG_CACHE_HOME"/mig/conf-*
	grep -qx 'locktimeout	7' "$XDG_CACHE_HOME"/mig/conf-*
	# the same size and mtime: the ctime tells
	stamp=$(stat -c %y mig.conf)
	sed -i 's/a\.db/b.db/' mig.conf
	touch -d "$stamp" mig.conf
	run -0 mig status --porcelain
	has "database	b.db	missing"
	# a cache that is not for this file, or not whole, is not believed
	sleep 2.1
	# (b.db is missing and 0001_users pending there: --check exits 1)
	run -1 mig status --check
	sed -i 's/^database	b.db$/database	a.db/' "$XDG_CACHE_HOME"/mig/conf-*
	sed -i '3s/$/x/' "$XDG_CACHE_HOME"/mig/conf-*
	run -0 mig status --porcelain
	has "database	b.db	missing"
	sed -i 's/^database	b.db$/database	a.db/;$d' "$XDG_CACHE_HOME"/mig/conf-*
	run -0 mig status --porcelain
	has "database	b.db	missing"
}

@test "a mig.conf that includes another file is read every time" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	printf '[include]\n\tpath = local.conf\n' >mig.conf
	printf '[mig]\n\tdatabase = a.db\n' >local.conf
	sleep 2.1
	run -0 mig status --porcelain
	has "database	a.db	missing"
	[ ! -e "$XDG_CACHE_HOME/mig" ] || [ -z "$(ls "$XDG_CACHE_HOME/mig")" ]
	printf '[mig]\n\tdatabase = b.db\n' >local.conf
	touch -d '-1 min' local.conf
	run -0 mig status --porcelain
	has "database	b.db	missing"
}

@test "with no cache directory, or one that cannot be written, a mig.conf is read each time" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	printf '[mig]\n\tdatabase = a.db\n' >mig.conf
	sleep 2.1
	# ~/.cache when XDG_CACHE_HOME is unset, or relative (as the XDG spec says)
	mkdir home
	HOME=$PWD/home XDG_CACHE_HOME=relative run -0 mig status --porcelain
	has "database	a.db	missing"
	[ -f home/.cache/mig/conf-* ]
	[ ! -e relative ]
	# none at all
	HOME= XDG_CACHE_HOME= run -0 mig status --porcelain
	has "database	a.db	missing"
	[ ! -e "$XDG_CACHE_HOME" ]
	# one that cannot be written
	: >"$XDG_CACHE_HOME"
	run -0 mig status --porcelain
	has "database	a.db	missing"
}

@test "a libgit2 that cannot be loaded fails a command with exit 6 before it changes anything" {
	rev 0001_users 'CREATE TABLE users(id INTEGER PRIMARY KEY);'
	soname=$(readelf -d "$(pkg-config --variable=libdir libgit2)/libgit2.so" | sed -n 's/.*soname: \[\(.*\)\]/\1/p')
	mkdir broken
	: >"broken/$soname"
	LD_LIBRARY_PATH=$PWD/broken run -6 mig -d app.db up
	[ "$output" = "mig-up: error: cannot load libgit2: $PWD/broken/$soname: file too short" ]
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
	# status hashes the files without it, and has no mig.conf to read
	LD_LIBRARY_PATH=$PWD/broken run -0 mig -d app.db status --porcelain
	[[ "${lines[2]}" == "revision	pending	0001_users	"* ]]
	# one that reads a mig.conf fails as up does
	printf '[mig]\n\tdatabase = app.db\n' >mig.conf
	LD_LIBRARY_PATH=$PWD/broken run -6 mig status
	[ "$output" = "mig-status: error: cannot load libgit2: $PWD/broken/$soname: file too short" ]
	rm mig.conf
	# one that loads but lacks a function mig calls
	cc -shared -fPIC -o "broken/$soname" -x c /dev/null
	LD_LIBRARY_PATH=$PWD/broken run -6 mig -d app.db up
	[[ "$output" == "mig-up: error: $soname has no git_"*": $PWD/broken/$soname: undefined symbol: git_"* ]]
	[ ! -e app.db ]
	[ ! -e app.db.mig ]
}
