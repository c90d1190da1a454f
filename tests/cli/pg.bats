#!/usr/bin/env bats
# PostgreSQL: the same commands on a server's database, each test on a
# database of its own in the throwaway cluster that make check starts
# (tools/pg-cluster.sh, MIG_TEST_PG). Without a server these tests fail:
# they never skip.
# backend: postgres (this file is the PostgreSQL run of its own)
load helper

eval "base_$(declare -f setup)"

setup() {
	base_setup
	# the helper's databases, as the CLI suite's PostgreSQL run has them
	backend_setup
	URL=$(pg_url db)
	DB=${URL#*://*/}
	DB=${DB%%\?*}
	export MIG_DATABASE=$URL
}

# q SQL: run SQL on the test's database, unaligned, tuples only
q() {
	psql -qAtX -v ON_ERROR_STOP=1 "$URL" -c "$1"
}

# the project's tables and mig's rows, to compare before and after
state() {
	q "SELECT string_agg(table_schema || '.' || table_name, ' ' ORDER BY table_schema, table_name) FROM information_schema.tables
	   WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
	q "SELECT string_agg(scope || ':' || name || ':' || dirty, ' ' ORDER BY seq) FROM mig.revisions" 2>/dev/null || true
}

# hold APP SQL: another session, named APP, runs SQL and then sleeps,
# holding what SQL took, until release APP; waits until it sleeps
hold() {
	psql -qAtX "$URL" -c "SET application_name = '$1'" -c "BEGIN" -c "$2" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
	HOLDER=$!
	for _ in $(seq 100); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1' AND query LIKE '%pg_sleep%'")" = 1 ] &&
			return 0
		sleep 0.05
	done
	return 1
}

release() {
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$1'" >/dev/null
	wait "$HOLDER" || true
}

two_revisions() {
	cat >migrations/0001_users.sql <<'EOF'
-- mig:parents
-- mig:up
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
INSERT INTO users (email) VALUES ($$a@x;$$), (E'\x62@x\';');
-- mig:down
DROP TABLE users;
EOF
	cat >migrations/0002_posts.sql <<'EOF'
-- mig:parents 0001_users
-- mig:up
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users);
-- a semicolon in a function body is not the end of a statement
CREATE FUNCTION post_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM posts; END;
-- mig:down
DROP FUNCTION post_count();
DROP TABLE posts;
EOF
}

@test "up, status, log and down on PostgreSQL: bookkeeping in schema mig, the store beside mig.conf" {
	two_revisions
	printf '[mig]\n\tdatabase = %s\n' "$URL" >mig.conf
	unset MIG_DATABASE
	run -0 mig up
	has "applying 0001_users"
	has "applying 0002_posts"
	[ "$(q 'SELECT count(*) FROM public.users')" = 2 ]
	[ "$(q 'SELECT post_count()')" = 0 ]
	[ "$(q "SELECT string_agg(name, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_users 0002_posts" ]
	# the store is named after the database, beside mig.conf
	[ -d "$DB.mig" ]
	run -0 mig status
	has "current: 0002_posts"
	has "applied: 2 of 2"
	run -0 mig log
	[[ "${lines[0]}" = *" ok: up 0001_users..0002_posts (2 revisions) "* ]]
	run -0 mig down base
	has "reverting 0002_posts"
	has "reverting 0001_users"
	[ "$(state)" = "$(printf 'mig.journal mig.revisions\nmig:0001_revisions:0 mig:0002_journal:0 mig:0003_guard:0')" ]
}

@test "a revision that fails on PostgreSQL names its file and line, exit 4, and changes nothing" {
	two_revisions
	rev 0003_bad '-- mig:parents 0002_posts
-- mig:up
CREATE TABLE tags (id int);
ALTER TABLE users
	ADD COLUMN name text NOT NULL;
-- mig:down
DROP TABLE tags;
'
	run -0 mig up 0002_posts
	before=$(state)
	run -4 mig up
	has "mig-up: error: 0003_bad: migrations/0003_bad.sql:4: column \"name\" of relation \"users\" contains null values"
	[ "$(state)" = "$before" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'tags'")" = 0 ]
	run -0 mig log
	[[ "${lines[0]}" = *" failed: up 0003_bad "* ]]
}

@test "a unique violation on PostgreSQL says which key, exit 4" {
	rev 0001_a 'CREATE TABLE a (k text);
INSERT INTO a VALUES ($$x$$), ($$x$$);
CREATE UNIQUE INDEX a_k ON a (k);'
	run -4 mig up
	has "mig-up: error: 0001_a: migrations/0001_a.sql:3: could not create unique index \"a_k\""
	has "hint: Key (k)=(x) is duplicated."
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 0 ]
}

@test "transaction control in a PostgreSQL revision is refused before it runs, exit 4" {
	for stmt in 'COMMIT' 'end' 'ROLLBACK' 'begin' 'Start Transaction' 'SAVEPOINT s' 'release s' 'abort' \
		"PREPARE TRANSACTION 'x'" '/* c */ commit'; do
		rm -f migrations/*.sql
		rev 0001_a "CREATE TABLE a (x int);
$stmt;
CREATE TABLE b (x int);"
		run -4 mig up
		[[ "${lines[-2]}" = "mig-up: error: 0001_a: migrations/0001_a.sql:2: "*": a revision may not end or begin a transaction: mig runs each in its own" ]]
		[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
		[ "$(q "SELECT count(*) FROM mig.revisions WHERE scope = 'app'")" = 0 ]
	done
	# the same words in strings, dollar quotes and comments are no statements
	rm -f migrations/*.sql
	rev 0001_a "CREATE TABLE a (x text DEFAULT 'COMMIT;');
DO \$x\$ BEGIN PERFORM 'x;'; END \$x\$;
-- COMMIT;
/* ROLLBACK; /* nested; */ END; */
CREATE TABLE b (y int);"
	run -0 mig up -q
	[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 2 ]
}

@test "a PostgreSQL revision may read mig's bookkeeping, not change it, exit 4" {
	rev 0001_a 'CREATE TABLE a AS SELECT count(*) AS n FROM mig.revisions;'
	run -0 mig up -q
	for stmt in 'DELETE FROM mig.revisions' 'UPDATE "mig".revisions SET dirty = 1' 'DROP SCHEMA mig CASCADE' \
		'DROP SCHEMA IF EXISTS mig CASCADE' 'TRUNCATE mig . journal'; do
		rm -f migrations/0002_b.sql
		rev 0002_b "-- mig:parents 0001_a
-- mig:up
$stmt;"
		before=$(state)
		run -4 mig up
		has "mig-up: error: 0002_b: migrations/0002_b.sql:3: schema mig is mig's bookkeeping: a revision may read it, not change it"
		[ "$(state)" = "$before" ]
	done
}

@test "what a revision's text hides from the guard the server refuses: a DO block, a function, no transaction; exit 4" {
	rev 0001_a 'CREATE TABLE a (x int);
CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM mig.journal; DELETE FROM mig.revisions $$;'
	run -0 mig up -q
	# a "truncate every table" loop, the bookkeeping's among them
	rev 0002_b "-- mig:parents 0001_a
-- mig:up
INSERT INTO a VALUES (1);
DO \$\$ DECLARE r record; BEGIN
FOR r IN SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') LOOP
EXECUTE format('TRUNCATE %I.%I', r.schemaname, r.tablename);
END LOOP; END \$\$;"
	before=$(state)
	for how in '' --dry-run; do
		run -4 mig up $how
		has "mig-up: error: 0002_b: migrations/0002_b.sql:4: schema mig is mig's bookkeeping: a revision may read it, not change it"
		has "hint: to change what is recorded as applied, use 'mig fake'"
		[ "$(state)" = "$before" ]
		[ "$(q "SELECT count(*) FROM a")" = 0 ]
	done
	# a function that writes it, and an UPDATE through EXECUTE
	for stmt in 'SELECT wipe()' "DO \$\$ BEGIN EXECUTE 'UPDATE ' || 'mig.revisions SET dirty = 1'; END \$\$"; do
		rm -f migrations/0002_b.sql
		rev 0002_b "-- mig:parents 0001_a
-- mig:up
$stmt;"
		run -4 mig up
		has "mig-up: error: 0002_b: migrations/0002_b.sql:3: schema mig is mig's bookkeeping: a revision may read it, not change it"
		[ "$(state)" = "$before" ]
	done
	# a no-transaction revision: recorded dirty, as any of its failures, and the rest as it was
	rm -f migrations/0002_b.sql
	rev 0002_b '-- mig:parents 0001_a
-- mig:no-transaction
-- mig:up
CREATE TABLE c (x int);
SELECT wipe();
-- mig:down
DROP TABLE c;'
	run -4 mig up
	has "mig-up: error: 0002_b: migrations/0002_b.sql:5: schema mig is mig's bookkeeping: a revision may read it, not change it"
	[ "$(q "SELECT string_agg(name || ':' || dirty, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_a:0 0002_b:1" ]
	[ "$(q "SELECT count(*) FROM mig.revisions WHERE scope = 'mig'")" = 3 ]
	# mig's own rows still go in, the guard off: the dirty mark resolved, the next revision applied
	run -0 mig fake --resolve applied
	rev 0003_c '-- mig:parents 0002_b
CREATE TABLE d (x int);'
	run -0 mig up -q
	[ "$(q "SELECT string_agg(name || ':' || dirty, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_a:0 0002_b:0 0003_c:0" ]
	# outside a mig run the tables are the owner's, as any other
	q "UPDATE mig.revisions SET duration_ms = 7 WHERE name = '0003_c'"
	[ "$(q "SELECT duration_ms FROM mig.revisions WHERE name = '0003_c'")" = 7 ]
}

@test "a no-transaction revision runs CREATE INDEX CONCURRENTLY on PostgreSQL" {
	rev 0001_a 'CREATE TABLE a (x int); INSERT INTO a SELECT generate_series(1, 100);'
	rev 0002_idx '-- mig:parents 0001_a
-- mig:no-transaction
-- mig:up
CREATE INDEX CONCURRENTLY a_x ON a (x);
-- mig:down
DROP INDEX CONCURRENTLY a_x;
'
	run -0 mig up -q
	[ "$(q "SELECT indexname FROM pg_indexes WHERE tablename = 'a'")" = a_x ]
	[ "$(q "SELECT dirty FROM mig.revisions WHERE name = '0002_idx'")" = 0 ]
	run -0 mig down -q 0001_a
	[ "$(q "SELECT count(*) FROM pg_indexes WHERE tablename = 'a'")" = 0 ]
}

@test "a concurrent index build that fails names the INVALID index it leaves, and again when it is in the way" {
	rev 0001_a 'CREATE TABLE a (id int PRIMARY KEY, x int); INSERT INTO a VALUES (1, 7), (2, 7), (3, 8);'
	rev 0002_idx '-- mig:parents 0001_a
-- mig:no-transaction
-- mig:up
CREATE UNIQUE INDEX CONCURRENTLY a_x ON a (x);
-- mig:down
DROP INDEX CONCURRENTLY a_x;
'
	run -0 mig up -q 0001_a
	run -4 mig up
	has "mig-up: error: 0002_idx: migrations/0002_idx.sql:4: could not create unique index \"a_x\""
	has "hint: Key (x)=(7) is duplicated."
	has "hint: the failed build left index a_x INVALID: drop it (DROP INDEX CONCURRENTLY a_x) before the revision runs again"
	has "hint: 0002_idx runs outside a transaction: it is recorded as dirty; check the database, then 'mig fake --resolve applied|rolled-back'"
	[ "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_x'::regclass")" = f ]
	# the rows mended and the run resolved, but the index left in the way
	q "UPDATE a SET x = 9 WHERE id = 2"
	run -0 mig fake --resolve rolled-back
	run -4 mig up
	has "mig-up: error: 0002_idx: migrations/0002_idx.sql:4: relation \"a_x\" already exists"
	has "hint: index a_x is INVALID, left by a build that failed before: drop it (DROP INDEX CONCURRENTLY a_x), then run again"
	[[ "$output" != *"the failed build left"* ]]
	# as the hint says
	q "DROP INDEX CONCURRENTLY a_x"
	run -0 mig fake --resolve rolled-back
	run -0 mig up -q
	[ "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_x'::regclass")" = t ]
	# a build that fails on its own leaves nothing to name
	rev 0003_b '-- mig:parents 0002_idx
-- mig:no-transaction
-- mig:up
CREATE INDEX CONCURRENTLY b_x ON nosuch (x);
'
	run -4 mig up
	has "mig-up: error: 0003_b: migrations/0003_b.sql:4: relation \"nosuch\" does not exist"
	[[ "$output" != *INVALID* ]]
}

@test "a PostgreSQL role that may not make mig's bookkeeping: exit 6 (environment), with a hint, nothing made" {
	rev 0001_a 'CREATE TABLE a (x int);'
	role=t$$_${BATS_TEST_NUMBER}_nocreate
	q "CREATE ROLE $role LOGIN"
	run -6 mig -d "${URL/tester@/$role@}" up
	[ "${lines[0]}" = "mig-up: error: (built in)/0001_revisions.sql:7: permission denied for database $DB" ]
	[ "${lines[1]}" = "hint: mig keeps its own records in the database: the role must be allowed to make them there" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'mig'")" = 0 ]
	q "GRANT CREATE ON DATABASE \"$DB\" TO $role; GRANT CREATE ON SCHEMA public TO $role"
	run -0 mig -d "${URL/tester@/$role@}" up -q
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 1 ]
	q "REASSIGN OWNED BY $role TO tester; DROP OWNED BY $role; DROP ROLE $role"
}

@test "runs on PostgreSQL wait on an advisory lock, then exit 6 naming its holder" {
	rev 0001_a 'CREATE TABLE a (x int);'
	# another session holds the run lock, as a run on another host would
	hold other-host-run "SELECT pg_advisory_lock(7170407, hashtext('mig'))"
	run -6 mig up --lock-timeout 300
	release other-host-run
	[ "${lines[0]}" = "mig-up: error: database '$URL' is locked by another mig run: it stayed locked for 300 ms" ]
	[[ "${lines[1]}" = "hint: held by pid "*" (other-host-run, from local, since "*"; last query: SELECT pg_sleep(60))" ]]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 0 ]
	run -0 mig up -q
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 1 ]
}

@test "a run on PostgreSQL killed mid-statement leaves no session running it, holding its locks: the next run goes on" {
	rev 0001_a 'CREATE TABLE a (x int);'
	rev 0002_slow 'CREATE TABLE b (x int); SELECT pg_sleep(60);'
	mig up -q 2>/dev/null &
	pid=$!
	for _ in $(seq 200); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mig' AND query LIKE '%pg_sleep(60)%'")" = 1 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	# the server sees mig gone within a second or two, not after the statement
	rev 0002_slow 'CREATE TABLE b (x int);'
	run -0 mig up -q --lock-timeout 5000
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()")" = 0 ]
	[ "$(q "SELECT string_agg(name, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_a 0002_slow" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'b'")" = 1 ]
}

@test "drift on PostgreSQL: status names the object, up refuses (exit 5) unless --accept-drift" {
	two_revisions
	run -0 mig up -q 0001_users
	q 'CREATE TABLE hotfix (x int)'
	run -0 mig status
	[[ "$output" = *"  the schema differs from the one recorded after 0001_users: table public.hotfix added (schema "* ]]
	run -5 mig up
	has "mig-up: error: the schema differs from the one recorded after 0001_users: table public.hotfix added"
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'posts'")" = 0 ]
	run -0 mig up -q --accept-drift
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'posts'")" = 1 ]
}

@test "a role named like mig's schema still puts the project's tables in public" {
	q "CREATE ROLE mig LOGIN SUPERUSER" 2>/dev/null || true
	url=${URL/tester@/mig@}
	rev 0001_a 'CREATE TABLE a (x int);'
	run -0 mig -d "$url" up -q
	[ "$(q "SELECT schemaname FROM pg_tables WHERE tablename = 'a'")" = public ]
}

@test "'mig sqlshow | psql' leaves a PostgreSQL database as 'mig up' does, bookkeeping included" {
	two_revisions
	rev 0003_idx '-- mig:parents 0002_posts
-- mig:no-transaction
-- mig:up
CREATE INDEX CONCURRENTLY posts_user ON posts (user_id);
-- mig:down
DROP INDEX CONCURRENTLY posts_user;
'
	other=$(pg_url other)
	run -0 mig sqlshow
	printf '%s\n' "$output" | psql -qX -v ON_ERROR_STOP=1 "$other" >/dev/null
	run -0 mig up -q
	cols="scope, name, id, coalesce(schema_hash, '-'), dirty"
	mine=$(q "SELECT $cols FROM mig.revisions ORDER BY seq")
	theirs=$(psql -qAtX "$other" -c "SELECT $cols FROM mig.revisions ORDER BY seq")
	[ -n "$mine" ]
	[ "$mine" = "$theirs" ]
}

@test "a dry run on PostgreSQL leaves nothing behind" {
	two_revisions
	run -0 mig up --dry-run
	has "applying 0002_posts (dry run)"
	[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'mig'")" = 0 ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
}

@test "a password in a PostgreSQL URL reaches no output, journal or store" {
	rev 0001_a '-- mig:parents
-- mig:up
CREATE TABLE a (x int);
-- mig:down
DROP TABLE a;
'
	url="${URL/tester@/tester:Sekr1t@}&password=Sekr1t"
	run -0 mig -d "$url" up
	[[ "$output" != *Sekr1t* ]]
	run -0 mig -d "$url" status
	has "database: ${URL/tester@/tester:***@}&password=***"
	[[ "$output" != *Sekr1t* ]]
	run -0 mig -d "$url" log -v
	[[ "$output" != *Sekr1t* ]]
	run -0 mig -d "$url" sqlshow --down base
	[[ "$output" != *Sekr1t* ]]
	run -0 mig -d "$url" backup -o a.sql.gz
	run -0 mig -d "$url" restore
	[[ "$output" = "mig-restore: restored snapshot "*" into '${URL/tester@/tester:***@}&password=***'; what was there is snapshot "* ]]
	[[ "$output" != *Sekr1t* ]]
	run -0 mig -d "$url" restore --no-backup -i a.sql.gz
	[[ "$output" = "mig-restore: restored snapshot "*" into '${URL/tester@/tester:***@}&password=***'" ]]
	# nor any file: the store (its objects unpacked) and the settings cache
	run -1 grep -rqa Sekr1t .
	git --git-dir="$DB.mig" cat-file --batch-all-objects --batch >objects
	[ -s objects ]
	run -1 grep -qa Sekr1t objects
}

@test "a PostgreSQL URL libpq cannot read: its message shown without the password it quotes, exit 6" {
	base=${URL%%\?*}
	run -6 mig -d "${base/tester@/tester:Se%zzkr1t@}?host=/tmp" status
	[ "$output" = "mig-status: error: database '${base/tester@/tester:***@}?host=/tmp': invalid percent-encoded token: \"***\"" ]
	run -6 mig -d "$base?host=/tmp&password=Sekr1t%00" status
	[ "$output" = "mig-status: error: database '$base?host=/tmp&password=***': forbidden value %00 in percent-encoded value: \"***\"" ]
	# the whole URL quoted back
	run -6 mig -d "postgres://tester:Sekr1t@[::1/db" status
	[ "$output" = "mig-status: error: database 'postgres://tester:***@[::1/db': end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"postgres://tester:***@[::1/db\"" ]
	# what holds no password is shown as libpq says it
	run -6 mig -d "$base?host=/tmp&application_name=a%zz" status
	[ "$output" = "mig-status: error: database '$base?host=/tmp&application_name=a%zz': invalid percent-encoded token: \"a%zz\"" ]
}

@test "a password a user wrote in mig.conf is read from there each time, never copied into mig's cache" {
	rev 0001_a 'CREATE TABLE a (x int);'
	unset MIG_DATABASE
	printf '[mig]\n\tdatabase = %s\n' "$URL" >mig.conf
	sleep 2.1
	run -0 mig status
	# what a mig.conf without one says is remembered
	grep -qxF "database	$URL" "$XDG_CACHE_HOME"/mig/conf-*
	printf '[mig]\n\tdatabase = %s\n' "${URL/tester@/tester:Sekr1t@}" >mig.conf
	sleep 2.1
	run -0 mig up -q
	run -0 mig status
	has "database: ${URL/tester@/tester:***@}"
	has "applied: 1 of 1"
	run -1 grep -rqa Sekr1t "$XDG_CACHE_HOME"
}

@test "mig fake --adopt takes over dbmate's bookkeeping on PostgreSQL" {
	mkdir -p db/migrations
	printf -- '-- migrate:up\nCREATE TABLE a (x int);\n-- migrate:down\nDROP TABLE a;\n' >db/migrations/20240101000000_a.sql
	printf -- '-- migrate:up\nCREATE TABLE b (x int);\n-- migrate:down\nDROP TABLE b;\n' >db/migrations/20240102000000_b.sql
	q "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000'); CREATE TABLE a (x int)"
	run -0 mig -m db/migrations fake --adopt
	run -0 mig -m db/migrations status
	has "applied: 1 of 2"
	run -0 mig -m db/migrations up -q
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'b'")" = 1 ]
}

@test "snapshots of a PostgreSQL database: backup, verify, restore of data and bookkeeping, export psql replays" {
	two_revisions
	# a database with nothing in it gets no snapshot, as a SQLite file a run creates
	run -6 mig backup
	[ "$output" = "mig-backup: error: database '$URL' is empty: there is nothing to snapshot" ]
	[ "$(ls -A | grep -vx xdg-cache | sort | tr '\n' ' ')" = "migrations " ]
	run -6 mig -d "${URL/tester@/tester:sekrit@}" backup
	[ "$output" = "mig-backup: error: database '${URL/tester@/tester:***@}' is empty: there is nothing to snapshot" ]
	run -0 mig up
	[ "${lines[0]}" = "applying 0001_users" ]
	# every run on one that has something takes one first
	run -0 mig down 0001_users
	[[ "$output" = *"snapshot "* ]]
	run -0 mig up -q
	q "INSERT INTO posts SELECT g, 1 FROM generate_series(1, 5000) g"
	run -0 mig backup
	id=$output
	run -0 mig backup --list
	[ "${#lines[@]}" -eq 3 ]
	run -0 mig backup --verify
	# change data and schema, then go back
	q "DELETE FROM posts WHERE id > 10; CREATE TABLE junk (x int); UPDATE users SET email = email || 'z'"
	run -0 mig down -q --accept-drift 0001_users
	run -0 mig restore "$id"
	[ "$(q 'SELECT count(*) FROM posts')" = 5000 ]
	[ "$(q "SELECT string_agg(email, ' ' ORDER BY id) FROM users")" = "a@x; b@x';" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'junk'")" = 0 ]
	[ "$(q 'SELECT post_count()')" = 5000 ]
	run -0 mig status
	has "current: 0002_posts"
	# what backup -o writes, psql replays by itself
	run -0 mig backup -o all.sql.gz
	other=$(pg_url replayed)
	gunzip -c all.sql.gz | psql -qX -o /dev/null -v ON_ERROR_STOP=1 "$other"
	n=$(psql -qAtX "$other" -c "SELECT count(*) FROM posts")
	[ "$n" = 5000 ]
}

@test "a restore into PostgreSQL that fails or is killed leaves the database as it was" {
	two_revisions
	run -0 mig up -q
	run -0 mig backup
	id=$output
	q "DELETE FROM users WHERE id = 2"
	before=$(q "SELECT count(*) FROM users")
	# another session holds a table the restore must drop: it gives up, exit 6, nothing changed
	hold reader "SELECT count(*) FROM users"
	run -6 mig restore --lock-timeout 300 "$id"
	release reader
	[ "${lines[0]}" = "mig-restore: error: cannot restore into '$URL': psql: canceling statement due to lock timeout" ]
	[ "$(q "SELECT count(*) FROM users")" = "$before" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'posts'")" = 1 ]
	# killed while it streams the image: psql never sees the COMMIT
	q "INSERT INTO posts SELECT g, 1 FROM generate_series(1, 200000) g"
	run -0 mig backup
	big=$output
	q "DELETE FROM posts"
	mig restore "$big" 2>/dev/null &
	pid=$!
	for _ in $(seq 100); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql' AND state <> 'idle'")" -ge 1 ] && break
		sleep 0.02
	done
	kill -9 "$pid"
	wait "$pid" || true
	for _ in $(seq 100); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql'")" = 0 ] && break
		sleep 0.05
	done
	[ "$(q "SELECT count(*) FROM posts")" = 0 ]
	[ "$(q "SELECT count(*) FROM users")" = "$before" ]
	# and the next restore goes through
	run -0 mig restore "$big"
	[ "$(q "SELECT count(*) FROM posts")" = 200000 ]
}

# stored ID: the bytes snapshot ID added to the store, from backup --list
stored() {
	mig backup --list --porcelain | awk -F '\t' -v id="$1" '$2 == id { print $6 }'
}

@test "a PostgreSQL snapshot after rows change length or come in mid-table adds only the chunks around them" {
	export MIG_CHUNK_SIZE=64
	rev 0001_t "CREATE TABLE t (id int PRIMARY KEY, v text) WITH (fillfactor = 70);
INSERT INTO t SELECT 2 * g, md5(g::text) || repeat('x', g % 50) FROM generate_series(1, 100000) g;
CLUSTER t USING t_pkey;"
	run -0 mig up -q --no-backup
	run -0 mig backup
	first=$output
	before=$(q "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t")
	# at the middle, rows come between others (CLUSTER puts them in order, as pg_repack would);
	# then at a quarter of the way, six rows grow where they are (fillfactor leaves them room);
	# and a small table's data comes before t's
	q "INSERT INTO t SELECT 2 * g + 1, 'new ' || g FROM generate_series(50000, 50200) g"
	q "CREATE TABLE a AS SELECT generate_series(1, 100) AS x"
	q "CLUSTER t USING t_pkey"
	q "UPDATE t SET v = v || 'longer' WHERE id BETWEEN 50000 AND 50010"
	[ "$(q "SELECT (SELECT max(ctid) FROM t WHERE id % 2 = 1) < (SELECT ctid FROM t WHERE id = 200000)")" = t ]
	[ "$(q "SELECT (SELECT max(ctid) FROM t WHERE v LIKE '%longer') < (SELECT ctid FROM t WHERE id = 60000)")" = t ]
	after=$(q "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t")
	run -0 mig backup
	second=$output
	a=$(stored "$first")
	b=$(stored "$second")
	echo "first stored $a bytes, the second $b" >&2
	[ "$a" -gt 1000000 ]
	# fixed chunks would store again all that comes after the first change: three quarters
	# (74%); t's data after a's without a boundary, its first piece again: 9%; here 4%
	[ $((b * 100 / a)) -lt 6 ]
	run -0 mig restore --no-backup "$first"
	[ "$(q "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t")" = "$before" ]
	run -0 mig restore --no-backup "$second"
	[ "$(q "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t")" = "$after" ]
}

@test "a PostgreSQL snapshot cut into pieces restores rows of backslashes, tabs, \\. and long lines, under a quoted name" {
	export MIG_CHUNK_SIZE=64
	cat >migrations/0001_weird.sql <<'EOF'
-- mig:up
CREATE SCHEMA "we ird";
CREATE TABLE "we ird"."ta""ble" ("i d" int PRIMARY KEY, "v;al" text, b bytea);
-- what looks like a COPY and its end in a comment, a string and a function body is none
COMMENT ON TABLE "we ird"."ta""ble" IS 'load it with
COPY "we ird"."ta""ble" FROM stdin;
\.
and that''s it';
-- and after the data, in a comment on an index, with lines like rows between them
DO $do$ BEGIN
EXECUTE format('COMMENT ON INDEX "we ird"."ta""ble_pkey" IS %L', E'load it with\nCOPY "we ird"."ta""ble" FROM stdin;\n'
	|| (SELECT string_agg(g || E'\t' || md5(g::text), E'\n') FROM generate_series(1, 20000) g) || E'\n\\.\nthat is all');
END $do$;
CREATE FUNCTION "we ird".f() RETURNS text LANGUAGE sql AS $body$
SELECT '
COPY x FROM stdin;
\.
'
$body$;
INSERT INTO "we ird"."ta""ble"
SELECT g, CASE g % 7
	WHEN 0 THEN E'\\.'
	WHEN 1 THEN E'a\\.\nb\tc\\\\d\r\\N'
	WHEN 2 THEN E'\\.\n\\.\nCOPY t FROM stdin;'
	WHEN 3 THEN repeat(E'long\t\\', 30000 + g % 5000)
	WHEN 4 THEN NULL
	WHEN 5 THEN ''
	ELSE md5(g::text) END,
	CASE WHEN g % 11 = 0 THEN decode(repeat('5c2e0a09', 20000), 'hex') ELSE decode(md5(g::text), 'hex') END
FROM generate_series(1, 3000) g;
EOF
	run -0 mig up -q --no-backup
	digest() {
		q "SELECT md5(string_agg(\"i d\" || ':' || coalesce(\"v;al\", '<null>') || ':' || b::text, E'\n' ORDER BY \"i d\"))
		   FROM \"we ird\".\"ta\"\"ble\""
		q "SELECT obj_description('\"we ird\".\"ta\"\"ble\"'::regclass, 'pg_class'), \"we ird\".f(), md5(prosrc),
		   md5(obj_description('\"we ird\".\"ta\"\"ble_pkey\"'::regclass, 'pg_class')) FROM pg_proc WHERE proname = 'f'"
	}
	before=$(digest)
	run -0 mig backup -o all.sql.gz
	id=$output
	# the table's data is cut in several COPYs, and lines are longer than a chunk
	[ "$(gunzip -c all.sql.gz | grep -c '^COPY "we ird"."ta""ble" ')" -gt 5 ]
	[ "$(gunzip -c all.sql.gz | awk 'length > 65536' | wc -l)" -gt 5 ]
	q "DELETE FROM \"we ird\".\"ta\"\"ble\" WHERE \"i d\" % 2 = 0"
	q "DROP FUNCTION \"we ird\".f()"
	run -0 mig restore --no-backup "$id"
	[ "$(digest)" = "$before" ]
	[ "$(q "SELECT count(*) FROM \"we ird\".\"ta\"\"ble\"")" = 3000 ]
}

@test "a constraint that existing rows break on PostgreSQL names them by primary key, exit 4, nothing changed" {
	rev 0001_a "CREATE TABLE users (id int PRIMARY KEY, email text, age int);
INSERT INTO users SELECT g, CASE WHEN g % 3 = 0 THEN 'dup' ELSE 'u' || g END, CASE WHEN g = 4 THEN -1 ELSE g END
	FROM generate_series(1, 10) g;
CREATE TABLE nokey (x int);
INSERT INTO nokey VALUES (1), (NULL);"
	run -0 mig up -q
	before=$(state)
	check() {
		rm -f migrations/0002_b.sql
		rev 0002_b "-- mig:parents 0001_a
-- mig:up
$1"
		run -4 mig up -q
		[ "${lines[0]}" = "mig-up: error: 0002_b: migrations/0002_b.sql:3: $2" ]
		[ "${lines[1]}" = "hint: $3" ]
		[ "$(state)" = "$before" ]
	}
	# the seed's case: a NOT NULL column without a default, on a table with rows
	check 'ALTER TABLE users ADD COLUMN name text NOT NULL;' 'column "name" of relation "users" contains null values' \
		'10 rows of users would leave name NULL: id 1, 2, 3, 4, 5, ...; fix or delete them, or give the column a DEFAULT, then run again'
	check 'CREATE UNIQUE INDEX u_email ON users (email);' 'could not create unique index "u_email"' \
		"1 value of users (email) is duplicated: 'dup' (id 3, 6, 9); fix or delete them, then run again"
	check 'ALTER TABLE users ADD CONSTRAINT adult CHECK (age > 0);' 'check constraint "adult" of relation "users" is violated by some row' \
		'1 row of users fails CHECK (age > 0): id 4; fix or delete it, then run again'
	# without a primary key, rows are named by where they are
	check 'ALTER TABLE nokey ALTER COLUMN x SET NOT NULL;' 'column "x" of relation "nokey" contains null values' \
		'1 row of nokey would leave x NULL: ctid (0,2); fix or delete it, then run again'
	# a row the revision itself made is not there to find: the server's detail says it
	check 'ALTER TABLE users ALTER COLUMN email SET NOT NULL; UPDATE users SET email = NULL WHERE id = 2;' \
		'null value in column "email" of relation "users" violates not-null constraint' 'Failing row contains (2, null, 2).'
}

@test "mig.statementLockTimeout: a revision never queues behind a long transaction, exit 6, nothing changed" {
	rev 0001_a '-- mig:parents
-- mig:up
CREATE TABLE a (x int);
-- mig:down
DROP TABLE a;
'
	rev 0002_b '-- mig:parents 0001_a
-- mig:up
ALTER TABLE a ADD COLUMN y int;
'
	printf '[mig]\n\tdatabase = %s\n\tstatementLockTimeout = 300\n' "$URL" >mig.conf
	unset MIG_DATABASE
	run -0 mig up -q 0001_a
	# a long transaction reads a; ALTER TABLE would wait for it, and all after it for ALTER TABLE
	hold long-report "SELECT count(*) FROM a"
	before=$(state)
	run -6 mig up
	release long-report
	has "mig-up: error: 0002_b: migrations/0002_b.sql:3: canceling statement due to lock timeout"
	has "hint: another transaction holds a lock the statement needs: see pg_stat_activity; mig.statementLockTimeout says how long a statement waits"
	[ "$(state)" = "$before" ]
	# a value that is no number is refused, exit 6, naming the key
	printf '[mig]\n\tdatabase = %s\n\tstatementLockTimeout = soon\n' "$URL" >mig.conf
	run -6 mig up
	[[ "${lines[0]}" = "mig-up: error: "*"mig.conf: mig.statementLockTimeout"* ]]
	# nor is a negative one
	printf '[mig]\n\tdatabase = %s\n\tstatementLockTimeout = -1\n' "$URL" >mig.conf
	run -6 mig up
	[ "${lines[0]}" = "mig-up: error: $PWD/mig.conf: mig.statementLockTimeout must not be negative" ]
	[ "$(state)" = "$before" ]
}

@test "a foreign key on PostgreSQL, checked at the statement or at commit, fails the revision, exit 4, nothing changed" {
	rev 0001_p 'CREATE TABLE p (id int PRIMARY KEY);'
	run -0 mig up -q
	before=$(state)
	rev 0002_c "-- mig:parents 0001_p
-- mig:up
CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);
INSERT INTO c VALUES (7);"
	run -4 mig up -q
	[ "${lines[0]}" = "mig-up: error: 0002_c: migrations/0002_c.sql: insert or update on table \"c\" violates foreign key constraint \"c_pid_fkey\"" ]
	[ "${lines[1]}" = "hint: Key (pid)=(7) is not present in table \"p\"." ]
	[ "$(state)" = "$before" ]
	rm migrations/0002_c.sql
	rev 0002_c "-- mig:parents 0001_p
-- mig:up
CREATE TABLE c (pid int REFERENCES p);
INSERT INTO c VALUES (7);"
	run -4 mig up -q
	[ "${lines[0]}" = "mig-up: error: 0002_c: migrations/0002_c.sql:4: insert or update on table \"c\" violates foreign key constraint \"c_pid_fkey\"" ]
	[ "$(state)" = "$before" ]
}

@test "mig.schemaFile on PostgreSQL: pg_dump's schema, mig's left out, the same bytes each time, runnable by psql" {
	two_revisions
	printf '[mig]\n\tdatabase = %s\n\tschemaFile = db/schema.sql\n' "$URL" >mig.conf
	mkdir db
	unset MIG_DATABASE
	run -0 mig up -q
	grep -qx 'CREATE TABLE public.users (' db/schema.sql
	grep -q 'FUNCTION public.post_count()' db/schema.sql
	# nothing of mig's, nothing that says when or how it was dumped
	run -1 grep -E '^(--|SET |\\restrict|\\unrestrict)|mig\.|revisions' db/schema.sql
	cp db/schema.sql first.sql
	run -0 mig down -q base
	run -0 mig up -q
	cmp first.sql db/schema.sql
	# another database made from it has the same schema
	other=$(pg_url other)
	psql -qX -v ON_ERROR_STOP=1 "$other" -f db/schema.sql
	rm db/schema.sql
	# fake writes the schema file too: from the other database, the same bytes
	run -0 mig -d "$other" fake -q head
	cmp first.sql db/schema.sql
}

# scratch: how many scratch databases of mig's the cluster has
scratch() {
	q "SELECT count(*) FROM pg_database WHERE datname LIKE 'mig\_scratch\_%'"
}

@test "sqlshow --schema on PostgreSQL: the revisions replayed on a scratch database of mig's, dropped after" {
	two_revisions
	had=$(scratch)
	run -0 mig sqlshow --schema
	has "CREATE TABLE public.users ("
	has "CREATE TABLE public.posts ("
	run -0 mig sqlshow --schema 0001_users
	has "CREATE TABLE public.users ("
	run -1 grep -q "public.posts" <<<"$output"
	# nothing of it stays, and the database itself was not touched
	[ "$(scratch)" = "$had" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
	# a revision that fails there says so, exit 4, and the scratch database goes all the same
	rev 0003_bad '-- mig:parents 0002_posts
-- mig:up
ALTER TABLE nope ADD COLUMN x int;'
	run -4 mig sqlshow --schema
	has "mig-sqlshow: error: 0003_bad: migrations/0003_bad.sql:3: relation \"nope\" does not exist"
	[ "$(scratch)" = "$had" ]
}

# statements CMD...: the statements CMD's connections send, as the
# server logs them (the cluster's server.log, beside its socket), one a line
statements() {
	local dir=${MIG_TEST_PG##*host=} log from
	log=${dir%%&*}/server.log
	from=$(($(wc -l <"$log") + 1))
	PGOPTIONS='-c log_statement=all' "$@" >/dev/null 2>&1 || true
	tail -n "+$from" "$log" | sed -n "s/.*LOG:  statement: //p; s/.*LOG:  execute [^:]*: //p"
}

@test "mig.guard rides with a revision's first statement on PostgreSQL, in a dry run as in a run: no round trip of its own" {
	rev 0001_a 'CREATE TABLE a (x int);'
	rev 0002_b '-- mig:parents 0001_a
-- mig:up
CREATE TABLE b (x int);'
	run -0 mig up --no-backup -q 0001_a
	for how in -n ''; do
		run -0 statements mig up --no-backup -q $how
		sent=$output
		# the statement itself is there, the guard before it in the same line
		[[ $sent == *"SET LOCAL mig.guard = on;CREATE TABLE b (x int);"* ]]
		run -1 grep -qx 'SET LOCAL mig.guard = on' <<<"$sent"
	done
	# and off rides with mig's rows, which in a run wait for the last revision's schema hash
	[[ $sent == *"SET LOCAL mig.guard = off; INSERT INTO mig.revisions"* ]]
	run -1 grep -qx 'SET LOCAL mig.guard = off' <<<"$sent"
}

@test "sqlshow --schema on PostgreSQL sets no mig.guard on its scratch database, which has no bookkeeping: no round trips for it" {
	# a revision that sees the guard fails: only mig's database has rows to guard
	rev 0001_a 'CREATE TABLE a (x int);
DO $$ BEGIN IF current_setting($g$mig.guard$g$, true) = $g$on$g$ THEN RAISE EXCEPTION $g$guarded$g$; END IF; END $$;'
	run -0 mig sqlshow --schema
	has "CREATE TABLE public.a ("
	# where there are rows, the guard is on
	run -4 mig up
	has "mig-up: error: 0001_a: migrations/0001_a.sql:2: guarded"
}

@test "sqlshow --schema killed on PostgreSQL: its scratch database, no one on it, goes with a later one" {
	rev 0001_slow 'CREATE TABLE t (x int); SELECT pg_sleep(60);'
	had=$(scratch)
	mig sqlshow --schema >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'mig\_scratch\_%' AND query LIKE '%pg_sleep(60)%'")" = 1 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(scratch)" = $((had + 1)) ]
	left=$(q "SELECT datname FROM pg_database WHERE datname LIKE 'mig\_scratch\_%' ORDER BY oid DESC LIMIT 1")
	# the server ends its session within a second or two
	for _ in $(seq 100); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = '$left'")" = 0 ] && break
		sleep 0.05
	done
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = '$left'")" = 0 ]
	# made long ago, as its name says; another one a run is using stays
	q "ALTER DATABASE \"$left\" RENAME TO mig_scratch_1000_1_0000beef"
	q "CREATE DATABASE mig_scratch_1000_2_0000cafe"
	psql -qAtX "${URL/$DB/mig_scratch_1000_2_0000cafe}" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
	busy=$!
	for _ in $(seq 100); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = 'mig_scratch_1000_2_0000cafe'")" = 1 ] && break
		sleep 0.05
	done
	rev 0001_slow 'CREATE TABLE t (x int);'
	run -0 mig sqlshow --schema
	has "CREATE TABLE public.t ("
	[ "$(q "SELECT string_agg(datname, ' ') FROM pg_database WHERE datname LIKE 'mig\_scratch\_1000\_%'")" = mig_scratch_1000_2_0000cafe ]
	kill "$busy"
	wait "$busy" || true
	q "DROP DATABASE mig_scratch_1000_2_0000cafe WITH (FORCE)"
	[ "$(scratch)" = "$had" ]
}

@test "a restore into PostgreSQL waits for a run on another host, then gives up, exit 6, nothing changed" {
	rev 0001_a 'CREATE TABLE a (x int); INSERT INTO a VALUES (1);'
	run -0 mig up -q
	run -0 mig backup
	id=$output
	q "INSERT INTO a VALUES (2)"
	hold other-host-run "SELECT pg_advisory_lock(7170407, hashtext('mig'))"
	run -6 mig restore --lock-timeout 300 "$id"
	release other-host-run
	[ "${lines[0]}" = "mig-restore: error: cannot restore into '$URL': psql: canceling statement due to lock timeout" ]
	[ "$(q "SELECT count(*) FROM a")" = 2 ]
	run -0 mig restore "$id"
	[ "$(q "SELECT count(*) FROM a")" = 1 ]
}

@test "a no-transaction revision on PostgreSQL that leaves its transaction open: rolled back, exit 4, left dirty" {
	rev 0001_a '-- mig:no-transaction
-- mig:up
CREATE TABLE a (x int);
BEGIN;
CREATE TABLE b (x int);
'
	run -4 mig up -q
	[ "${lines[0]}" = "mig-up: error: 0001_a: migrations/0001_a.sql: the revision left a transaction open; it was rolled back" ]
	# what ran on its own stays, what was in the open transaction does not, and the revision is dirty
	[ "$(q "SELECT string_agg(tablename, ' ') FROM pg_tables WHERE schemaname = 'public'")" = a ]
	[ "$(q "SELECT dirty FROM mig.revisions WHERE name = '0001_a'")" = 1 ]
}

# fails_in_own_begin STMT MESSAGE: a no-transaction revision whose own
# BEGIN holds STMT, which fails with MESSAGE at line 7: exit 4, its
# transaction rolled back before mig's rows, the revision dirty
fails_in_own_begin() {
	rev 0001_a 'CREATE TABLE a (x int);'
	rev 0002_b "-- mig:parents 0001_a
-- mig:no-transaction
-- mig:up
CREATE TABLE b (x int);
BEGIN;
CREATE TABLE c (x int);
$1;
COMMIT;
"
	run -4 mig up --no-backup
	# the failed transaction is over before mig's own rows: no warning that they could not go in
	[ "${lines[0]}" = "applying 0001_a" ]
	[ "${lines[1]}" = "applying 0002_b" ]
	[ "${lines[2]}" = "mig-up: error: 0002_b: migrations/0002_b.sql:7: $2" ]
	[ "${lines[-1]}" = "hint: 0002_b runs outside a transaction: it is recorded as dirty; check the database, then 'mig fake --resolve applied|rolled-back'" ]
	# the run's journal entry reached the store: its rows in the database are gone; CREATE TABLE c went with its transaction
	[ "$(q "SELECT count(*) FROM mig.journal")" = 0 ]
	[ "$(q "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")" = "a b" ]
	[ "$(q "SELECT string_agg(name || ':' || dirty, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_a:0 0002_b:1" ]
}

@test "a no-transaction revision on PostgreSQL that fails inside its own BEGIN: rolled back, its journal entry written, exit 4" {
	fails_in_own_begin 'SELECT 1/0' 'division by zero'
	[ "${#lines[@]}" = 4 ]
	# and the guard is off for mig's own rows
	run -0 mig fake --resolve applied
	[ "$(q "SELECT string_agg(name || ':' || dirty, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_a:0 0002_b:0" ]
}

@test "a no-transaction revision on PostgreSQL refused mid-way inside its own BEGIN: rolled back, its journal entry written, exit 4" {
	fails_in_own_begin 'DELETE FROM mig.journal' "schema mig is mig's bookkeeping: a revision may read it, not change it"
	[ "${lines[3]}" = "hint: to change what is recorded as applied, use 'mig fake'" ]
	[ "${#lines[@]}" = 5 ]
}

@test "a table in schema mig that is not mig's bookkeeping: every command exit 6, nothing changed" {
	rev 0001_a 'CREATE TABLE a (x int);'
	q "CREATE SCHEMA mig; CREATE TABLE mig.revisions (id int)"
	for c in status up; do
		run -6 mig "$c"
		[ "${lines[0]}" = "mig-$c: error: database '$URL' has a table 'mig.revisions' that is not mig's bookkeeping" ]
	done
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 0 ]
}

@test "COPY in a PostgreSQL revision: FROM STDIN has nothing to read (exit 4), TO STDOUT is read and dropped" {
	rev 0001_a 'CREATE TABLE a (x int); INSERT INTO a VALUES (1), (2);
COPY a TO STDOUT;
CREATE TABLE b (x int);'
	run -0 mig up -q
	[ -z "$output" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'b'")" = 1 ]
	rev 0002_c '-- mig:parents 0001_a
-- mig:up
CREATE TABLE c (x int);
COPY c FROM STDIN;'
	before=$(state)
	run -4 mig up -q
	[ "${lines[0]}" = "mig-up: error: 0002_c: migrations/0002_c.sql:4: COPY ... FROM STDIN: a revision has no input to copy" ]
	[ "$(state)" = "$before" ]
}

@test "a PostgreSQL revision that ends its own connection: exit 6, nothing recorded, the next run goes on" {
	rev 0001_a '-- mig:parents
-- mig:up
CREATE TABLE a (x int);
SELECT pg_terminate_backend(pg_backend_pid());
-- mig:down
DROP TABLE a;
'
	run -6 mig up -q
	[[ "${lines[0]}" = "mig-up: error: 0001_a: migrations/0001_a.sql:4: "* ]]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 0 ]
	[ "$(q "SELECT count(*) FROM mig.revisions WHERE scope = 'app'")" = 0 ]
	rm migrations/0001_a.sql
	rev 0001_a 'CREATE TABLE a (x int);'
	run -0 mig up -q
}

@test "--lock-timeout 0 on PostgreSQL: a held run lock fails at once, exit 6" {
	rev 0001_a 'CREATE TABLE a (x int);'
	hold other-host-run "SELECT pg_advisory_lock(7170407, hashtext('mig'))"
	run -6 mig up --lock-timeout 0
	release other-host-run
	[ "${lines[0]}" = "mig-up: error: database '$URL' is locked by another mig run: it stayed locked for 0 ms" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 0 ]
}

@test "a run on PostgreSQL cut short before its journal reached the store: the next command writes the entry" {
	rev 0001_a 'CREATE TABLE a (x int);'
	run -0 mig up -q
	# what a run killed between its commit and the store's journal leaves in the database
	q "INSERT INTO mig.journal (run, op, name, id, duration_ms)
	   VALUES ('cutshort1', 'up', '0001_a', '$(git hash-object migrations/0001_a.sql)', 3)"
	run -0 mig log
	[ "${#lines[@]}" -eq 1 ]
	run -0 mig up
	[ "$(q "SELECT count(*) FROM mig.journal")" = 0 ]
	run -0 mig log
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" = *" interrupted: up 0001_a "* ]]
}

@test "without pg_dump on PATH, a PostgreSQL snapshot fails plainly, exit 6, and the store keeps none" {
	rev 0001_a 'CREATE TABLE a (x int);'
	run -0 mig up -q --no-backup
	mkdir nopg
	for t in git; do ln -s "$(command -v "$t")" nopg/; done
	PATH=$TOP/bin:$PWD/nopg run -6 mig backup
	[ "${lines[0]}" = "mig-backup: error: cannot snapshot '$URL': pg_dump: cannot run it (apt-get install postgresql-client)" ]
	run -0 mig backup --list
	[ -z "$output" ]
}

# each_pg_fault CMD...: CMD once for each place it calls libpq, that
# call losing its connection (build/inject.so, tests/inject/inject.c),
# each run on fresh copies of the project and of the test's database:
# it exits 6 with one error line (or 0, when it could do without), then
# runs again without the fault (or AGAIN, when a cut-short CMD leaves a
# state CMD refuses) and succeeds, and verify (each test's) holds. As
# inject.bats does for SQLite and libgit2.
each_pg_fault() {
	local aside=${BATS_TEST_TMPDIR}.faults work=$PWD fn n where sites=0 failed=0
	local base=${DB}_base keep=$aside/keep log=$aside/fired
	psql -qX "$MIG_TEST_PG" -c "CREATE DATABASE $base TEMPLATE $DB" >/dev/null
	rm -rf "$aside" && mkdir "$aside" && cp -a "$work" "$keep"
	reset() {
		cd / && rm -rf "$work" && cp -a "$keep" "$work" && cd "$work"
		psql -qX "$MIG_TEST_PG" -c "DROP DATABASE $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE $base" >/dev/null
	}
	env LD_PRELOAD="$TOP/build/inject.so" ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 \
		INJECT_COUNT="$aside/calls" "$@" >/dev/null 2>&1 || true
	grep '^PQ' "$aside/calls" | sort -u >"$aside/sites"
	while read -r fn n; do
		where="with call $n of $fn losing its connection:"
		sites=$((sites + 1))
		reset
		rm -f "$log"
		run --separate-stderr env LD_PRELOAD="$TOP/build/inject.so" \
			ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 INJECT_FN="$fn" INJECT_N="$n" INJECT_LOG="$log" "$@"
		if [ "$(cat "$log" 2>/dev/null)" != "fired $fn $n" ]; then
			echo "$where the fault was not injected" >&2
			return 1
		fi
		if [ "$status" = 6 ]; then
			failed=$((failed + 1))
			if [ "$(grep -cE '^mig(-[a-z]+)?: error: ' <<<"$stderr")" != 1 ]; then
				printf '%s not one error line:\n%s\n' "$where" "$stderr" >&2
				return 1
			fi
			# again, or what finishes a run its own cut-short state refuses (AGAIN)
			if [ -n "${AGAIN-}" ]; then
				run --separate-stderr sh -c "$AGAIN"
			else
				run --separate-stderr "$@"
			fi
			if [ "$status" != 0 ]; then
				printf '%s then without it, exit %s:\n%s\n' "$where" "$status" "$stderr" >&2
				return 1
			fi
		elif [ "$status" != 0 ]; then
			printf '%s exit %s:\n%s\n' "$where" "$status" "$stderr" >&2
			return 1
		fi
		if ! verify; then
			echo "$where the result is wrong" >&2
			return 1
		fi
		# a connection lost while dropping sqlshow's scratch database leaves it (mig(7))
		q "SELECT datname FROM pg_database WHERE datname LIKE 'mig\_scratch\_%'" |
			while read -r d; do q "DROP DATABASE IF EXISTS $d WITH (FORCE)"; done
	done <"$aside/sites"
	reset
	psql -qX "$MIG_TEST_PG" -c "DROP DATABASE $base" >/dev/null
	rm -rf "$aside"
	echo "$sites places, $failed runs failed" >&2
	[ "$sites" -ge "${MIN_SITES:-3}" ]
	[ "$failed" -ge 1 ]
}

@test "up, down and redo on PostgreSQL whose connection is lost at each call in turn: exit 6, then done" {
	two_revisions
	verify() {
		[ "$(q "SELECT string_agg(name, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "0001_users 0002_posts" ] ||
			return 1
		[ "$(q 'SELECT count(*) FROM users')" = 2 ] || return 1
	}
	# (how many places count depends on the build: -O1 under make asan inlines less, and calls
	# through one helper count as one place)
	MIN_SITES=5 each_pg_fault mig up -q
	run -0 mig up -q
	verify() { [ "$(q "SELECT count(*) FROM mig.revisions WHERE scope = 'app'")" = 1 ] || return 1; }
	MIN_SITES=3 each_pg_fault mig down -q
	verify() { [ "$(q "SELECT count(*) FROM mig.revisions WHERE scope = 'app'")" = 2 ] || return 1; }
	# a redo cut short between its revert and its apply is finished by up
	AGAIN='mig up -q' MIN_SITES=3 each_pg_fault mig redo -q 0002_posts
}

@test "status, sqlshow, fake, backup and restore on PostgreSQL whose connection is lost at each call in turn" {
	two_revisions
	run -0 mig up -q 0001_users
	verify() { :; }
	each_pg_fault mig status
	each_pg_fault mig sqlshow
	each_pg_fault mig sqlshow --schema
	verify() { [ "$(q "SELECT count(*) FROM mig.revisions WHERE scope = 'app'")" = 2 ] || return 1; }
	each_pg_fault mig fake -q head
	verify() { [ -n "$(mig backup --list)" ] || return 1; }
	MIN_SITES=1 each_pg_fault mig backup -q
	run -0 mig backup
	id=$output
	q "DELETE FROM users"
	verify() { [ "$(q 'SELECT count(*) FROM users')" = 2 ] || return 1; }
	MIN_SITES=1 each_pg_fault mig restore -q "$id"
}

@test "restore -i into PostgreSQL: what backup -o wrote, from a file or stdin, and pg_dump | gzip of another database" {
	two_revisions
	run -0 mig up -q
	q "INSERT INTO posts SELECT g, 1 FROM generate_series(1, 3000) g"
	run -0 mig backup -o all.sql.gz
	want=$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')
	# into a database of its own, empty, and the one it came from, changed
	copy=$(pg_url copy)
	run -0 mig -d "$copy" --store copy.mig restore -i all.sql.gz
	[[ "$output" = "mig-restore: restored snapshot "????????????" into '$copy'" ]]
	[ "$(pg_dump --no-owner "$copy" | grep -v '^\\\(un\)\?restrict ')" = "$want" ]
	run -0 mig -d "$copy" --store copy.mig status
	has "current: 0002_posts"
	q "DELETE FROM posts; DROP FUNCTION post_count(); CREATE TABLE junk (x int)"
	run -0 mig restore -q -i - <all.sql.gz
	[ "$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')" = "$want" ]
	run -0 mig backup --list --porcelain
	[[ "$output" = *"	import from standard input"* ]]
	# a dump psql wrote itself, of a database mig never saw
	other=$(pg_url other)
	psql -qX -v ON_ERROR_STOP=1 "$other" -c "CREATE SCHEMA s; CREATE TABLE s.\"we ird\" (t text); INSERT INTO s.\"we ird\" VALUES (E'a\\\\.b\\tc'), ('COMMIT;')"
	pg_dump "$other" | gzip >other.sql.gz
	run -0 mig restore -q -i other.sql.gz
	[ "$(q "SELECT string_agg(t, '|' ORDER BY t) FROM s.\"we ird\"")" = "COMMIT;|a\\.b	c" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename IN ('posts', 'junk')")" = 0 ]
}

@test "restore -i into PostgreSQL refuses what is no SQL script, or would leave its transaction: exit 6, the file and line named, nothing changed" {
	two_revisions
	run -0 mig up -q
	run -0 mig backup -q
	before=$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')
	snapshots=$(mig backup --list --porcelain)
	refuse() {	# FILE MESSAGE...: restore -i FILE exits 6 with MESSAGE, and nothing changed
		local f=$1
		shift
		run -6 mig restore -i "$f"
		[ "$output" = "$(printf '%s\n' "$@")" ]
		[ "$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')" = "$before" ]
		[ "$(mig backup --list --porcelain)" = "$snapshots" ]
	}
	printf 'DROP TABLE posts;\nCOMMIT;\nSELECT * FROM nothere;\n' | gzip >commit.gz
	refuse commit.gz "mig-restore: error: 'commit.gz' line 2: COMMIT would end or nest the transaction the restore replays the file in"
	printf 'DROP TABLE posts; /* one\nline */ end\n;\n' | gzip >end.gz
	refuse end.gz "mig-restore: error: 'end.gz' line 2: END would end or nest the transaction the restore replays the file in"
	printf -- '-- BEGIN;\nSELECT $$\nCOMMIT;\n$$;\n  start transaction;\n' | gzip >start.gz
	refuse start.gz "mig-restore: error: 'start.gz' line 5: START would end or nest the transaction the restore replays the file in"
	printf 'DROP TABLE posts;\n\\connect postgres\nDROP TABLE users;\n' | gzip >connect.gz
	refuse connect.gz "mig-restore: error: 'connect.gz' line 2: the psql command \\connect would run outside the restore's transaction; only SQL is replayed"
	printf 'DROP TABLE posts;\x00\n' | gzip >nul.gz
	refuse nul.gz "mig-restore: error: 'nul.gz' is not an SQL script: byte 18 is NUL"
	pg_dump -Fc "$URL" | gzip >custom.gz
	refuse custom.gz "mig-restore: error: 'custom.gz' is in pg_dump's custom format, not a plain SQL script" \
		"hint: make it one with: pg_restore -f - FILE | gzip"
	sqlite3 lite.db "CREATE TABLE t (x int)"
	gzip -c lite.db >lite.gz
	refuse lite.gz "mig-restore: error: 'lite.gz' holds an SQLite database, not SQL for PostgreSQL"
	gzip </dev/null >empty.gz
	refuse empty.gz "mig-restore: error: 'empty.gz' holds no SQL: it is empty"
	echo "not gzip" >bad.gz
	refuse bad.gz "mig-restore: error: 'bad.gz' is not a gzip stream: incorrect header check"
	# SQL that fails when replayed: psql's message, the database as it was; the file stays a snapshot
	printf 'CREATE TABLE z (x int);\nSELECT * FROM nothere;\n' | gzip >fails.gz
	run -6 mig restore -q -i fails.gz
	[[ "${lines[0]}" = "mig-restore: error: cannot restore into '$URL': psql: relation \"nothere\" does not exist"* ]]
	[ "$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')" = "$before" ]
	run -0 mig backup --list --porcelain
	[[ "$output" = *"	import fails.gz"* ]]
	# into a database the server does not have: said before a store is made for it
	run -6 mig -d "${URL/$DB/nosuch_$DB}" --store nosuch.mig restore -i fails.gz
	[[ "${lines[0]}" = "mig-restore: error: cannot connect to database '${URL/$DB/nosuch_$DB}': "*"\"nosuch_$DB\" does not exist" ]]
	[ "${lines[1]}" = "hint: make it first (createdb nosuch_$DB, or CREATE DATABASE in psql), or name one that exists" ]
	[ ! -e nosuch.mig ]
}

@test "a database the server does not have: exit 6, how to make it, nothing made" {
	two_revisions
	for cmd in status up backup; do
		run -6 mig -d "${URL/$DB/nosuch_$DB}" --store nosuch.mig $cmd
		[[ "${lines[0]}" = "mig-$cmd: error: cannot connect to database '${URL/$DB/nosuch_$DB}': "*"\"nosuch_$DB\" does not exist" ]]
		[ "${lines[1]}" = "hint: make it first (createdb nosuch_$DB, or CREATE DATABASE in psql), or name one that exists" ]
		[ ! -e nosuch.mig ]
	done
	[ "$(q "SELECT count(*) FROM pg_database WHERE datname = 'nosuch_$DB'")" = 0 ]
	# any other failure to connect gets no such hint
	run -6 mig -d "${URL/tester@/nosuchrole@}" status
	[[ "${lines[0]}" = "mig-status: error: cannot connect to database '${URL/tester@/nosuchrole@}': "*"role \"nosuchrole\" does not exist" ]]
	[ "${#lines[@]}" = 1 ]
}

@test "restore -i into PostgreSQL refuses what psql would read otherwise than mig: psql commands mid-line, COPY not pg_dump's, backslash-quote strings" {
	two_revisions
	run -0 mig up -q
	run -0 mig backup -q
	before=$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')
	snapshots=$(mig backup --list --porcelain)
	refuse() {	# FILE LINE MESSAGE: restore -i FILE exits 6 naming LINE, and nothing changed
		run -6 mig restore -i "$1"
		[ "$output" = "mig-restore: error: '$1' line $2: $3" ]
		[ "$(pg_dump --no-owner "$URL" | grep -v '^\\\(un\)\?restrict ')" = "$before" ]
		[ "$(mig backup --list --porcelain)" = "$snapshots" ]
	}
	psqlcmd="a backslash outside quotes is a psql command, which would run outside the restore's transaction; only SQL is replayed"
	# \gexec runs the rows as SQL: a COMMIT mid-line, or on a line of its own in the statement
	printf "SELECT 'COMMIT' \\\\gexec\nSELECT * FROM nothere;\n" | gzip >gexec.gz
	refuse gexec.gz 1 "$psqlcmd"
	printf "DROP TABLE posts;\nSELECT 'COMMIT'\n\\\\gexec\nSELECT * FROM nothere;\n" | gzip >gexec2.gz
	refuse gexec2.gz 3 "$psqlcmd"
	printf 'SELECT 1 \\! touch pwned\n;\n' | gzip >shell.gz
	refuse shell.gz 1 "$psqlcmd"
	[ ! -e pwned ]
	# past \\ psql reads SQL; a `command` runs in the shell
	printf '\\restrict abc \\\\ COMMIT;\nSELECT * FROM nothere;\n' | gzip >sep.gz
	refuse sep.gz 1 '\restrict takes a key of letters and digits, as pg_dump writes it'
	printf '\\unrestrict `touch pwned`\n' | gzip >bq.gz
	refuse bq.gz 1 '\unrestrict takes a key of letters and digits, as pg_dump writes it'
	[ ! -e pwned ]
	# what follows a COPY FROM stdin psql reads as data up to \. (\.\r\n too), whatever mig makes of it
	copy="only pg_dump's COPY name (columns) FROM stdin; on a line of its own is replayed"
	printf 'COPY (SELECT 1) TO stdout; -- FROM stdin;\nCOMMIT;\nSELECT * FROM nothere;\n' | gzip >copyto.gz
	refuse copyto.gz 1 "$copy"
	printf "CREATE TABLE w (stdin int);\nCOPY w FROM '/dev/null' WHERE 1 IS DISTINCT FROM stdin;\nCOMMIT;\n" | gzip >copyfile.gz
	refuse copyfile.gz 2 "$copy"
	printf "CREATE TABLE w (a text);\ncopy w from stdin;\n'\n\\\\.\nCOMMIT;\n'\n" | gzip >lower.gz
	refuse lower.gz 2 "$copy"
	printf 'CREATE TABLE w (a text);\nCOPY w FROM stdin;\nx\r\n\\.\r\nCOMMIT;\nSELECT * FROM nothere;\n' | gzip >crlf.gz
	refuse crlf.gz 5 "COMMIT would end or nest the transaction the restore replays the file in"
	printf 'CREATE TABLE w (a text);\nCOPY w FROM stdin;\nx\n' | gzip >nodot.gz
	refuse nodot.gz 4 'the script ends in a table'"'"'s data, with no line \. after it'
	# after a COPY, psql reads the lines after an empty query as data up to a \.
	printf "CREATE TABLE w (a text);\nCOPY w FROM stdin;\nx\n\\\\.\n-- nothing\n;\n'\n\\\\.\nCOMMIT;\nSELECT '';\n" | gzip >empty.gz
	refuse empty.gz 6 "an empty statement (a ';' with nothing before it) makes psql read the lines after it as a COPY's data"
	# psql counts any word begin in CREATE FUNCTION as a body's: END; then ran in the same query, outside the check
	printf 'CREATE FUNCTION begin() RETURNS int LANGUAGE sql RETURN 1;\nEND;\n' | gzip >begin.gz
	refuse begin.gz 1 "a word begin in CREATE FUNCTION or PROCEDURE that opens no BEGIN ATOMIC body makes psql send the statements after it, up to an END, as one"
	# standard_conforming_strings off (SET, set_config) makes \' a quote inside the string
	printf "SET standard_conforming_strings = off;\nSELECT 'a\\\\'';\nCOMMIT;\nSELECT '';\n" | gzip >std.gz
	refuse std.gz 2 "a quote after a backslash in a string ends it or not as standard_conforming_strings says; write it E'...'"
	# SET client_encoding = 'SJIS' makes psql read a backslash, or a letter, after such a byte as part of its character
	printf "SET client_encoding = 'SJIS';\nSELECT E'\x95\x5c';COMMIT;--';\n" | gzip >sjis.gz
	refuse sjis.gz 2 "a byte that is not ASCII before a backslash in an E'...' string reads otherwise in client encodings such as SJIS"
	printf "SET client_encoding = 'SJIS';\nCREATE FUNCTION \x95|begin() RETURNS int LANGUAGE sql RETURN 1;\nCOMMIT;\n" | gzip >sjis2.gz
	refuse sjis2.gz 2 "a byte that is not ASCII outside quotes reads otherwise in client encodings such as SJIS"
	# the words of a statement's head past a comment longer than the head
	{ printf 'PREPARE /*'; printf '%070d' 0; printf '*/ TRANSACTION $$x$$;\n'; } | gzip >prepare.gz
	refuse prepare.gz 1 "PREPARE TRANSACTION would end or nest the transaction the restore replays the file in"
}

@test "restore -i into PostgreSQL: a script that ends in a comment at a page's end, CRLF data and pg_dump's COPY forms are restored" {
	# 512 bytes, the last line a comment with no newline: the restore's COMMIT is on a line of its own
	{ printf 'CREATE TABLE t (a int);\n'; printf '%*s-- x' 484 ''; } | gzip >page.gz
	[ "$(gzip -dc page.gz | wc -c)" = 512 ]
	run -0 mig restore -q -i page.gz
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 't'")" = 1 ]
	printf 'CREATE TABLE w (a text);\nCREATE TABLE "w x" (a text);\nCOPY w  FROM stdin;\nCOMMIT;\r\n\\.\r\nCOPY public."w x" (a) FROM stdin;\nx\n\\.\n' | gzip >copy.gz
	run -0 mig restore -q -i copy.gz
	[ "$(q "SELECT a FROM w")" = "COMMIT;" ]
	[ "$(q 'SELECT a FROM "w x"')" = x ]
	# one that ends in a statement: the restore's COMMIT is no name in it
	printf 'CREATE TABLE u (a int);\nSELECT 1 AS' | gzip >as.gz
	run -6 mig restore -q -i as.gz
	[ "$output" = "mig-restore: error: 'as.gz' line 2: the script ends inside a statement (with no ';'), a string or a comment" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'u'")" = 0 ]
	# UTF-8 in quoted names and strings is no client encoding's trap
	printf 'CREATE TABLE "caf\xc3\xa9" (a text);\nINSERT INTO "caf\xc3\xa9" VALUES (%s), (%s);\n' "'\xe6\x97\xa5A\\x'" "E'\xc3\xa9\\n'" | gzip >utf8.gz
	run -0 mig restore -q -i utf8.gz
	[ "$(q $'SELECT count(*) FROM "caf\xc3\xa9"')" = 2 ]
}

@test "fake --adopt on PostgreSQL of a tool with no table, exit 2" {
	# another tool's bookkeeping that is not there
	mkdir -p db/migrations
	printf -- '-- migrate:up\nCREATE TABLE b (x int);\n' >db/migrations/20240101000000_b.sql
	run -2 mig -m db/migrations fake --adopt
	[[ "${lines[0]}" = "mig-fake: error: database '$URL' has no dbmate bookkeeping (table schema_migrations): "*"schema_migrations"*"does not exist" ]]
}

@test "fake --adopt of Alembic's alembic_version and Django's django_migrations on PostgreSQL, in their own DDL" {
	rev 1975ea83b712_users $'-- mig:parents\nCREATE TABLE users (id int);\n'
	rev ae1027a6acf_posts $'-- mig:parents 1975ea83b712_users\nCREATE TABLE posts (id int);\n'
	rev 27c6a30d7c24_tags $'-- mig:parents ae1027a6acf_posts\nCREATE TABLE tags (id int);\n'
	q "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
	   INSERT INTO alembic_version VALUES ('ae1027a6acf'); CREATE TABLE users (id int); CREATE TABLE posts (id int)"
	run -0 mig fake --adopt
	has "recording as applied: 1975ea83b712_users"
	has "recording as applied: ae1027a6acf_posts"
	[ "$(q "SELECT string_agg(name, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = "1975ea83b712_users ae1027a6acf_posts" ]
	run -0 mig up -q
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'tags'")" = 1 ]
	# an id no file stands for: exit 2, nothing recorded
	q "UPDATE alembic_version SET version_num = '0badc0ffee00'"
	before=$(state)
	run -2 mig fake --adopt
	[ "${lines[0]}" = "mig-fake: error: alembic_version records 0badc0ffee00, which no revision file here stands for" ]
	[ "$(state)" = "$before" ]

	# Django, its applied times read in a session of another time zone, recorded in UTC
	rm migrations/*
	q "DROP SCHEMA mig CASCADE; DROP TABLE alembic_version, users, posts, tags; ALTER DATABASE $DB SET timezone = 'America/New_York'"
	rm -rf "$DB.mig"
	rev 0001_auth_0001_initial $'CREATE TABLE auth_user (id int);\n'
	rev 0002_blog_0001_initial $'CREATE TABLE blog_post (id int);\n'
	q "CREATE TABLE django_migrations (id bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	     app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamp with time zone NOT NULL);
	   INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2024-01-31 12:00:00.123456+02');
	   CREATE TABLE auth_user (id int)"
	run -0 mig fake --adopt
	[ "$(q "SELECT string_agg(name || '=' || applied_at, ' ' ORDER BY seq) FROM mig.revisions WHERE scope = 'app'")" = \
		"0001_auth_0001_initial=2024-01-31T10:00:00.123Z" ]
	q "INSERT INTO django_migrations (app, name, applied) VALUES ('sessions', '0001_initial', now())"
	before=$(state)
	run -2 mig fake --adopt
	[ "${lines[0]}" = "mig-fake: error: django_migrations records sessions.0001_initial, which no revision file here stands for" ]
	[ "$(state)" = "$before" ]
}

@test "mig.schema on PostgreSQL: a hostile name is one quoted name in up, status, the guard, down, sqlshow | psql and schemaFile" {
	two_revisions
	printf '[mig]\n\tschema = "a\\"b; DROP"\n\tschemaFile = schema.sql\n' >mig.conf
	bk='"a""b; DROP"'
	run -0 mig up -q
	[ "$(q "SELECT string_agg(nspname, ' ' ORDER BY nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'")" = 'a"b; DROP public' ]
	[ "$(q "SELECT string_agg(name, ' ' ORDER BY seq) FROM $bk.revisions WHERE scope = 'app'")" = "0001_users 0002_posts" ]
	[ "$(q "SELECT count(*) FROM $bk.journal")" = 0 ]
	run -0 mig status --check
	run -0 mig log -n 1
	[[ "$output" = *" ok: up 0001_users..0002_posts (2 revisions) ("* ]]
	# pg_dump leaves it out of the schema file
	grep -q 'CREATE TABLE public.users' schema.sql
	run -1 grep -E 'DROP|revisions|journal' schema.sql
	# a revision may read it, not change it: exit 4, nothing changed
	rev 0003_read $'-- mig:parents 0002_posts\nCREATE TABLE n AS SELECT count(*) AS n FROM "a""b; DROP".revisions;\n-- mig:down\nDROP TABLE n;\n'
	run -0 mig up -q
	rev 0004_bad $'-- mig:parents 0003_read\nDELETE FROM "a""b; DROP".revisions;\n'
	run -4 mig up
	has "mig-up: error: 0004_bad: migrations/0004_bad.sql:2: schema \"a\"\"b; DROP\" is mig's bookkeeping: a revision may read it, not change it"
	[ "$(q "SELECT count(*) FROM $bk.revisions WHERE scope = 'app'")" = 3 ]
	rm migrations/0004_bad.sql
	run -0 mig down -q base
	rm migrations/0003_read.sql
	[ "$(q "SELECT count(*) FROM $bk.revisions WHERE scope = 'app'")" = 0 ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
	# sqlshow's script does what up does, bookkeeping in the same schema
	other=$(pg_url other)
	run -0 mig -d "$other" sqlshow
	printf '%s\n' "$output" | psql -qX -v ON_ERROR_STOP=1 "$other" >/dev/null
	run -0 mig up -q
	cols="scope, name, id, coalesce(schema_hash, '-'), dirty"
	mine=$(q "SELECT $cols FROM $bk.revisions WHERE seq NOT IN (SELECT seq FROM $bk.revisions WHERE scope = 'mig') ORDER BY seq")
	mine="$(q "SELECT $cols FROM $bk.revisions WHERE scope = 'mig' ORDER BY seq")
$mine"
	theirs=$(psql -qAtX "$other" -c "SELECT $cols FROM $bk.revisions ORDER BY seq")
	[ -n "$mine" ]
	[ "$mine" = "$theirs" ]
	[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'mig'")" = 0 ]
}

@test "mig.schema on PostgreSQL: two projects in one database keep their own records and locks" {
	mkdir -p one/migrations two/migrations
	printf '[mig]\n\tschema = one\n' >one/mig.conf
	printf '[mig]\n\tschema = Two\n' >two/mig.conf
	printf -- '-- mig:up\nCREATE TABLE t1 (x int);\n-- mig:down\nDROP TABLE t1;\n' >one/migrations/0001_t1.sql
	printf -- '-- mig:up\nCREATE TABLE t2 (x int);\n-- mig:down\nDROP TABLE t2;\n' >two/migrations/0001_t2.sql
	run -0 mig -C one up -q
	run -0 mig -C two up -q
	[ "$(q "SELECT string_agg(name, ' ') FROM one.revisions WHERE scope = 'app'")" = 0001_t1 ]
	[ "$(q "SELECT string_agg(name, ' ') FROM \"Two\".revisions WHERE scope = 'app'")" = 0001_t2 ]
	[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname IN ('mig', 'two')")" = 0 ]
	# a run of one (on another host) holds one's lock: two goes on, one waits and gives up naming it
	printf -- '-- mig:parents 0001_t2\nCREATE TABLE t2b (x int);\n' >two/migrations/0002_t2b.sql
	printf -- '-- mig:parents 0001_t1\nCREATE TABLE t1b (x int);\n' >one/migrations/0002_t1b.sql
	hold one-run "SELECT pg_advisory_lock(7170407, hashtext('one'))"
	run -0 mig -C two up -q --lock-timeout 300
	# (one's drift check sees two's tables: two projects in one database accept each other's drift)
	run -6 mig -C one up --lock-timeout 300 --accept-drift
	release one-run
	[ "${lines[0]}" = "mig-up: error: database '$URL' is locked by another mig run: it stayed locked for 300 ms" ]
	[[ "${lines[1]}" = "hint: held by pid "*" (one-run, from local, since "*"; last query: SELECT pg_sleep(60))" ]]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename IN ('t2b', 't1b')")" = 1 ]
	[ "$(q "SELECT count(*) FROM \"Two\".revisions WHERE scope = 'app'")" = 2 ]
	[ "$(q "SELECT count(*) FROM one.revisions WHERE scope = 'app'")" = 1 ]
	# nor does mig's default lock hold a project of another schema
	hold default-run "SELECT pg_advisory_lock(7170407, hashtext('mig'))"
	run -0 mig -C one up -q --lock-timeout 300 --accept-drift
	release default-run
	[ "$(q "SELECT count(*) FROM one.revisions WHERE scope = 'app'")" = 2 ]
}

@test "mig.schema longer than PostgreSQL's 63 bytes is refused, exit 6, nothing made" {
	rev 0001_a 'CREATE TABLE a (x int);'
	printf '[mig]\n\tschema = %s\n' "$(printf 's%.0s' $(seq 64))" >mig.conf
	run -6 mig up
	[ "${lines[0]}" = "mig-up: error: $PWD/mig.conf: mig.schema is 64 bytes long: PostgreSQL's names are 63 at most" ]
	[ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" = 0 ]
}

@test "fake --adopt of golang-migrate's bookkeeping on PostgreSQL, its dirty flag a boolean" {
	mkdir -p m
	for v in 1 2 3; do
		printf 'CREATE TABLE t%s (x int);\n' "$v" >"m/${v}_t$v.up.sql"
		printf 'DROP TABLE t%s;\n' "$v" >"m/${v}_t$v.down.sql"
	done
	q "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
	   INSERT INTO schema_migrations VALUES (2, false); CREATE TABLE t1 (x int); CREATE TABLE t2 (x int)"
	run -0 mig -m m fake --adopt
	run -0 mig -m m status
	has "applied: 2 of 3"
	q "UPDATE schema_migrations SET dirty = true"
	run -0 mig -m m fake -q --unapply base
	run -5 mig -m m fake --adopt
	[[ "${lines[0]}" = *"dirty"* ]]
}
