# Shared set-up for the command-line tests: a scratch project per test,
# mig's binaries first on PATH, no settings leaking in from outside.
bats_require_minimum_version 1.5.0

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# MIG_TEST_BIN: the same commands through a wrapper (make valgrind)
	PATH="${MIG_TEST_BIN:-$TOP/bin}:$TOP/bin:$PATH"
	unset MIG_DATABASE MIG_MIGRATIONS MIG_STORE MIG_EXEC_PATH NO_COLOR
	# nor from the make that runs the suite: a make a test runs is a user's,
	# not a sub-make printing "Entering directory" (make asan)
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
	# what a mig.conf says is remembered here, not in the user's ~/.cache
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg-cache
	cd "$BATS_TEST_TMPDIR"
	mkdir -p migrations
	[ "${MIG_TEST_BACKEND:-sqlite}" = sqlite ] || backend_setup
}

teardown() {
	backend_teardown
}

# MIG_TEST_BACKEND=postgres runs the same tests on the PostgreSQL server
# that MIG_TEST_PG names (make check does, after the SQLite run). Each
# database a test names as a file (mig -d app.db, MIG_DATABASE=app.db) is
# then a database of its own on the server, made on first use, its store
# where the file's would be (app.db.mig); q asks it what sqlite3 would ask
# the file. A test about SQLite's files says sqlite_only first; a file of
# such tests says so in a line "# backend: sqlite" (the Makefile leaves it
# out of the PostgreSQL run). pg.bats has its databases so too.
backend_setup() {
	if [ -z "${MIG_TEST_PG:-}" ]; then
		echo "MIG_TEST_PG is not set: run the tests with 'make check', which starts a PostgreSQL cluster" >&2
		return 1
	fi
	PGDB_PREFIX=t$$_${BATS_TEST_NUMBER}_
	# not in the test's directory, which tests list
	PGDB_MADE=$BATS_FILE_TMPDIR/pg-databases-$BATS_TEST_NUMBER
	: >"$PGDB_MADE"
}

backend_teardown() {
	local db
	# a failed test shows what its last command said (run -N says only the status)
	[ -n "${BATS_TEST_COMPLETED-}" ] || printf 'the last output (status %s):\n%s\n' "${status-}" "${output-}" >&2
	[ -n "${PGDB_MADE:-}" ] && [ -s "$PGDB_MADE" ] || return 0
	while read -r db; do
		psql -qX "$MIG_TEST_PG" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
	done <"$PGDB_MADE"
}

# sqlite_only: this test is about SQLite (its files, journal, pragmas)
sqlite_only() {
	[ "${MIG_TEST_BACKEND:-sqlite}" = sqlite ] || skip "SQLite only"
}

# pg_url FILE: the URL of the server's database standing for FILE, made
# if it is not there yet
pg_url() {
	local name
	name=${1##*/}
	name=$PGDB_PREFIX${name//[^A-Za-z0-9]/_}
	name=${name:0:63}
	if ! grep -qxF "$name" "$PGDB_MADE"; then
		# made by another process of this test since (mig ... &)?
		psql -qX -v ON_ERROR_STOP=1 "$MIG_TEST_PG" -c "CREATE DATABASE \"$name\"" >/dev/null 2>&1 ||
			[ "$(psql -qAtX "$MIG_TEST_PG" -c "SELECT count(*) FROM pg_database WHERE datname = '$name'")" = 1 ] ||
			{ echo "cannot create the test's database $name" >&2; return 1; }
		echo "$name" >>"$PGDB_MADE"
	fi
	echo "${MIG_TEST_PG/\/postgres\?//$name?}"
}

# db_state FILE: what the database standing for FILE holds, to compare
# before and after: the file's sum on SQLite, pg_dump's script of the
# server's database on PostgreSQL, without the random key of its
# \restrict lines, and without the sequences' values: PostgreSQL never
# takes back a nextval, not even in a transaction rolled back (a dry run)
db_state() {
	if [ "${MIG_TEST_BACKEND:-sqlite}" = sqlite ]; then
		cksum <"$1"
		return
	fi
	pg_dump --no-owner "$(pg_url "$1")" | grep -v -e '^\\\(un\)\?restrict ' -e '^SELECT pg_catalog\.setval('
}

# mig ARGS, on PostgreSQL: mig with each database file named by -d,
# --database or MIG_DATABASE mapped to its server database. Only then is
# mig a function: on SQLite, "mig ... &" stays the process $! names.
[ "${MIG_TEST_BACKEND:-sqlite}" = sqlite ] || mig() {
	local a args=() store= url
	while [ $# -gt 0 ]; do
		a=$1
		shift
		case $a in
		-d | --database)
			if [ $# -gt 0 ] && [[ $1 != *://* ]] && [ -n "$1" ]; then
				url=$(pg_url "$1") || return 1
				store=$1.mig
				args+=("$a" "$url")
				shift
				continue
			fi
			;;
		--database=*)
			if [[ $a != *://* ]] && [ -n "${a#*=}" ]; then
				url=$(pg_url "${a#*=}") || return 1
				store=${a#*=}.mig
				a=--database=$url
			fi
			;;
		--store | --store=* | --)
			store=
			args+=("$a" "$@")
			break
			;;
		esac
		args+=("$a")
	done
	if [ -z "$store" ] && [ -n "${MIG_DATABASE:-}" ] && [[ $MIG_DATABASE != *://* ]]; then
		url=$(pg_url "$MIG_DATABASE") || return 1
		MIG_DATABASE=$url MIG_STORE=${MIG_STORE:-$MIG_DATABASE.mig} command mig "${args[@]}"
		return
	fi
	if [ -n "$store" ] && [ -z "${MIG_STORE:-}" ]; then
		MIG_STORE=$store command mig "${args[@]}"
		return
	fi
	command mig "${args[@]}"
}

# q FILE [SQL]: sqlite3 FILE [SQL]; on PostgreSQL the same question to the
# database standing for FILE: mig_revisions is mig.revisions there,
# sqlite_schema lists the public schema's tables, indexes and views, and
# "app" and "mig" are strings, as SQLite takes them, group_concat is
# string_agg, pragma_table_info information_schema.columns and .dump
# is pg_dump
q() {
	local db=$1 url
	shift
	if [ "${MIG_TEST_BACKEND:-sqlite}" = sqlite ]; then
		sqlite3 "$db" "$@"
		return
	fi
	url=$(pg_url "$db") || return 1
	if [ "${1-}" = .dump ]; then
		db_state "$db"
		return
	fi
	if [ $# -gt 0 ]; then
		pg_sql <<<"$1" | psql -qAtX -v ON_ERROR_STOP=1 "$url"
	else
		pg_sql | psql -qAtX -v ON_ERROR_STOP=1 "$url"
	fi
}

pg_sql() {
	sed -e 's/\bmig_revisions\b/mig.revisions/g' -e 's/\bmig_journal\b/mig.journal/g' \
	    -e 's/"\(app\|mig\)"/'"'"'\1'"'"'/g' \
	    -e "s/group_concat(\([^,()]*\), *\('[^']*'\))/string_agg(\1::text, \2)/g" \
	    -e "s/group_concat(\([^,()]*\))/string_agg(\1::text, ',')/g" \
	    -e "s/pragma_table_info('\([^']*\)')/(SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '\1') AS ti/g" \
	    -e "s/\bsqlite_\(schema\|master\)\b/(SELECT c.relname AS name, c.relname AS tbl_name, CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' WHEN 'v' THEN 'view' ELSE 'other' END AS type FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'v')) AS sqlite_schema/g"
}

# rev NAME [TEXT]: write migrations/NAME.sql
rev() {
	printf '%s' "${2-}" >"migrations/$1.sql"
}

# has LINE: the output contains this exact line
has() {
	local l
	for l in "${lines[@]}"; do
		[ "$l" = "$1" ] && return 0
	done
	echo "no line '$1' in output:" >&2
	printf '%s\n' "$output" >&2
	return 1
}

# flip FILE OFFSET: damage the byte at OFFSET of FILE, whatever it was
# (writing a fixed byte over it changes nothing when it was that byte)
flip() {
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    assert len(b) == 1, "no byte at that offset"
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xff]))' "$@"
}

# hold_lock FILE SECONDS: flock FILE in the background for SECONDS, and
# return once it is held (a fixed sleep is too short on a loaded
# machine); $holder is its pid
hold_lock() {
	rm -f "$BATS_TEST_TMPDIR/held"
	flock "$1" sh -c ': >"$1"; exec sleep "$2"' sh "$BATS_TEST_TMPDIR/held" "$2" &
	holder=$!
	for _ in $(seq 200); do
		[ ! -e "$BATS_TEST_TMPDIR/held" ] || return 0
		sleep 0.05
	done
	echo "hold_lock: '$1' not held after 10 s" >&2
	return 1
}
