#!/bin/bash
# Crash trials: every command that writes (up, down, fake, backup, restore,
# new, merge) is killed with SIGKILL at random moments, and at the Nth
# write, sync or rename it makes (tests/crash/killshim.c, preloaded), and
# what it leaves is checked: the database passes integrity_check and is
# exactly as before or after some whole revision (the set of applied
# revisions too), status tells the truth, the next command completes
# unaided, the store passes git fsck and every snapshot it lists
# verifies, a restore leaves the old image or the new one, never a mix.
#
#   tests/crash/run.sh [TRIALS [COMMAND...]]
#
# TRIALS (default 20) is the number of trials per command: half of them
# killed after a random delay drawn over the command's measured duration,
# half by the shim: at every sync and rename point of the command when
# there are no more of them than that (else at half that many spread over
# them), and the rest at points spread over all the calls it counts (a
# command with fewer points than that gets more random trials instead).
# SEED=N repeats a run's draws; KEEP=1 keeps the work directory.
# Exit 0 when every trial passed, 1 otherwise (failures are listed, and
# their directories kept under the work directory).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/bin
SHIM=$TOP/build/crash/killshim.so
TRIALS=${1:-20}
shift $(($# > 0))
COMMANDS=("$@")
[ ${#COMMANDS[@]} -gt 0 ] || COMMANDS=(up down fake backup restore new merge)
SEED=${SEED:-$$}
RANDOM=$SEED

if [ ! -x "$BIN/mig" ] || [ ! -f "$SHIM" ]; then
	echo "run.sh: build first: make all build/crash/killshim.so (or make crash)" >&2
	exit 2
fi
case $TRIALS in
'' | *[!0-9]* | 0) echo "usage: tests/crash/run.sh [TRIALS [COMMAND...]]" >&2; exit 2 ;;
esac
for c in "${COMMANDS[@]}"; do
	case $c in
	up | down | fake | backup | restore | new | merge) ;;
	*) echo "run.sh: unknown command '$c'" >&2; exit 2 ;;
	esac
done

export PATH=$BIN:$PATH LC_ALL=C NO_COLOR=1
unset MIG_DATABASE MIG_MIGRATIONS MIG_STORE MIG_EXEC_PATH LD_PRELOAD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mig-crash.XXXXXX")
export XDG_CACHE_HOME=$WORK/xdg-cache
FAILED=0
KEPT=0

finish() {
	if [ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "run.sh: work directory kept: $WORK" >&2
	fi
}
trap finish EXIT
trap 'exit 130' INT TERM

# sleep without a fork: a read on a FIFO no one writes to times out
mkfifo "$WORK/never"
exec {NEVER}<>"$WORK/never"
nap() {
	read -r -t "$1" -u "$NEVER" _ || true
}

now_us() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t))
}

## ---- the project: a database of a few MB and a chain of revisions ----

# rev NAME UP DOWN [no-transaction]
rev() {
	{
		[ -z "${4:-}" ] || echo "-- mig:no-transaction"
		printf -- '-- mig:up\n%s\n-- mig:down\n%s\n' "$2" "$3"
	} >"$FIX/migrations/$1.sql"
}

make_fixture() {
	local i inserts=
	FIX=$WORK/fixture
	mkdir -p "$FIX/migrations"
	for i in $(seq 400); do
		inserts+="INSERT INTO users (name) VALUES ('user $i');"$'\n'
	done
	rev 0001_users "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
$inserts" "DROP TABLE users;"
	rev 0002_email "ALTER TABLE users ADD COLUMN email TEXT;
UPDATE users SET email = name || '@example.com';
CREATE UNIQUE INDEX users_email ON users (email);" "DROP INDEX users_email;
ALTER TABLE users DROP COLUMN email;"
	# one statement: its database is wholly before or after it, dirty either way
	rev 0003_index "CREATE INDEX data_b ON data (b);" "DROP INDEX data_b;" no-transaction
	rev 0004_slow "CREATE TABLE big (x INTEGER PRIMARY KEY, s TEXT);
INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000)
	SELECT x, printf('%08d-%08d', x, x * 7) FROM c;
SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x FROM c);
UPDATE data SET n = n + 1 WHERE id % 4 = 0;" "UPDATE data SET n = n - 1 WHERE id % 4 = 0;
DROP TABLE big;"
	rev 0005_views "CREATE VIEW user_names AS SELECT name FROM users;
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (what) VALUES (new.name); END;
INSERT INTO users (name, email) VALUES ('late', 'late@example.com');" "DROP TRIGGER users_audit;
DELETE FROM users WHERE name = 'late';
DROP TABLE audit;
DROP VIEW user_names;"
	for i in $(seq 6 15); do
		rev "$(printf '%04d_t%d' "$i" "$i")" "CREATE TABLE t$i (x);
INSERT INTO t$i VALUES ($i);" "DROP TABLE t$i;"
	done
	NREVS=15
	HEAD=0015_t15
	# the application's data before mig: incompressible, so snapshots take a while
	sqlite3 "$FIX/seed.db" "CREATE TABLE data (id INTEGER PRIMARY KEY, n INTEGER, b BLOB);
		INSERT INTO data (n, b) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500)
		SELECT x, randomblob(4000) FROM c;"
}

# The user's tables and rows, and the revisions applied with their dirty flag.
state_key() {
	local db=$1 objs
	objs=$(sqlite3 "$db" "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')
		AND name NOT LIKE 'mig\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name" |
		tr '\n' ' ')
	{
		# shellcheck disable=SC2086
		[ -z "$objs" ] || sqlite3 "$db" ".dump $objs"
		echo "-- applied"
		applied "$db"
	} | sha1sum | cut -c1-16
}

# NAME DIRTY per applied revision of the project, in apply order
applied() {
	sqlite3 "$1" "SELECT name, dirty FROM mig_revisions WHERE scope = 'app' ORDER BY seq" 2>/dev/null |
		tr '|' ' '
}

# The whole database, mig's tables too.
full_key() {
	sqlite3 "$1" .dump | sha1sum | cut -c1-16
}

# project DIR DB: a project directory with a copy of the migrations and db
project() {
	mkdir -p "$1"
	cp -r "$FIX/migrations" "$1/"
	[ -z "${2:-}" ] || cp "$2" "$1/app.db"
}

# m CMD ARGS...: mig on the project's database, quiet
m() {
	mig -d app.db "$1" -q "${@:2}"
}

# The states a command may leave: each step of it taken alone, with the
# dirty ones a no-transaction revision leaves around its one statement.
# states_up DIR FROM: keys of FROM..NREVS applied one by one
keys_along() {
	local dir=$1 dirn=$2 key
	shift 2
	(
		cd "$dir" || exit 1
		state_key app.db
		for spec in "$@"; do
			m "$dirn" --no-backup "$spec" >/dev/null || exit 1
			state_key app.db
		done
	)
}

# dirty_keys DB up|down: the two states a kill inside 0003_index leaves
# (recorded dirty, its one statement run or not), from a database whose
# last applied revision is 0002 (up) or 0003 (down)
dirty_keys() {
	local db=$1 dir=$2 tmp=$WORK/dirty.db index
	for index in absent present; do
		cp "$db" "$tmp"
		if [ "$dir" = up ]; then
			sqlite3 "$tmp" "INSERT INTO mig_revisions (scope, name, id, applied_at, duration_ms, dirty)
				VALUES ('app', '0003_index', 'x', 'now', 0, 1)"
			[ "$index" = absent ] || sqlite3 "$tmp" "CREATE INDEX data_b ON data (b)"
		else
			sqlite3 "$tmp" "UPDATE mig_revisions SET dirty = 1 WHERE name = '0003_index'"
			[ "$index" = present ] || sqlite3 "$tmp" "DROP INDEX data_b"
		fi
		state_key "$tmp"
	done
	rm -f "$tmp"
}

## ---- templates: the state each command starts from ----

make_templates() {
	local t=$WORK/templates revs i
	mkdir -p "$t"
	mapfile -t revs < <(cd "$FIX/migrations" && ls | sed 's/\.sql$//')
	REVS=("${revs[@]}")

	# nothing applied, no store yet
	project "$t/fresh" "$FIX/seed.db"
	# nothing applied, a store with a snapshot and a journal
	project "$t/base" "$FIX/seed.db"
	(cd "$t/base" && m backup --message seed >/dev/null) || return 1
	# everything applied in two runs, a snapshot between them, an image written
	cp -a "$t/base" "$t/head"
	(
		cd "$t/head" &&
			m up 0005 && m backup --message mid >"$t/mid.id" && m up &&
			m backup -o image.gz >/dev/null
	) || return 1
	MID=$(cat "$t/mid.id")
	# two heads: branches after the last revision
	cp -a "$t/head" "$t/heads"
	printf -- '-- mig:parents %s\n-- mig:up\nCREATE TABLE left_side (x);\n-- mig:down\nDROP TABLE left_side;\n' \
		"$HEAD" >"$t/heads/migrations/0016_left.sql"
	printf -- '-- mig:parents %s\n-- mig:up\nCREATE TABLE right_side (x);\n-- mig:down\nDROP TABLE right_side;\n' \
		"$HEAD" >"$t/heads/migrations/0017_right.sql"
	TPL=$t

	# expected states
	local r=$WORK/ref
	rm -rf "$r" && cp -a "$t/base" "$r"
	UP_KEYS=$(keys_along "$r" up "${revs[@]}") || return 1
	rm -rf "$r" && cp -a "$t/head" "$r"
	DOWN_KEYS=$(keys_along "$r" down $(for ((i = NREVS - 1; i >= 1; i--)); do echo "${revs[i - 1]}"; done) base) ||
		return 1
	rm -rf "$r" && cp -a "$t/base" "$r"
	(cd "$r" && m up --no-backup 0002) || return 1
	UP_KEYS+=$'\n'$(dirty_keys "$r/app.db" up)
	rm -rf "$r" && cp -a "$t/head" "$r"
	(cd "$r" && m down --no-backup 0003) || return 1
	DOWN_KEYS+=$'\n'$(dirty_keys "$r/app.db" down)
	UP_FINAL=$(state_key "$t/head/app.db")
	DOWN_FINAL=$(echo "$DOWN_KEYS" | sed -n "$((NREVS + 1))p")
	# fake: nothing or everything recorded, the data as it was
	rm -rf "$r" && cp -a "$t/base" "$r"
	FAKE_KEYS=$(state_key "$r/app.db")
	(cd "$r" && m fake head) || return 1
	FAKE_FINAL=$(state_key "$r/app.db")
	FAKE_KEYS+=$'\n'$FAKE_FINAL
	HEAD_FULL=$(full_key "$t/head/app.db")
	rm -rf "$r" && cp -a "$t/head" "$r"
	(cd "$r" && m restore --no-backup "$MID") || return 1
	MID_FULL=$(full_key "$r/app.db")
	rm -rf "$r"
}

## ---- one trial ----

# fail TRIAL-DIR WHAT: record a failure, keep the directory
fail() {
	FAILED=$((FAILED + 1))
	FAILS[$CMD]=$((${FAILS[$CMD]:-0} + 1))
	printf '%s %s: %s\n' "$CMD" "$HOW" "$2" >>"$WORK/failures"
	printf 'FAIL %s %s: %s\n' "$CMD" "$HOW" "$2" >&2
	if [ "$KEPT" -lt 20 ] && [ -d "$1" ]; then
		KEPT=$((KEPT + 1))
		mv "$1" "$WORK/failed-$KEPT-$CMD"
		echo "     kept as $WORK/failed-$KEPT-$CMD" >&2
	fi
	return 1
}

# The command under trial, its template and its arguments.
setup_cmd() {
	case $CMD in
	up) TEMPLATE=base ARGS=(up) ;;
	down) TEMPLATE=head ARGS=(down base) ;;
	fake) TEMPLATE=base ARGS=(fake head) ;;
	backup) TEMPLATE=head ARGS=(backup --message trial) ;;
	restore) TEMPLATE=head ARGS=(restore "$MID") ;;
	new) TEMPLATE=head ARGS=(new feature) ;;
	merge) TEMPLATE=heads ARGS=(merge) ;;
	esac
}

# a fresh trial directory; up starts without a store one time in three,
# backup writes an image over the one there one time in two
prepare() {
	setup_cmd
	FROM=$TEMPLATE
	[ "$CMD" != up ] || [ $((RANDOM % 3)) != 0 ] || FROM=fresh
	rm -rf "$T"
	cp -a "$TPL/$FROM" "$T"
	[ "$CMD" != backup ] || [ $((RANDOM % 2)) = 0 ] || ARGS=(backup --message trial -o image.gz)
	[ "$CMD" != backup ] || ARGS[2]=trial-$RANDOM
}

# Run the command in T; kill it after $1 µs (0: at once) or, with a shim
# kill point N in $2, let the shim kill it. Sets RC.
run_killed() {
	local delay=$1 at=${2:-} pid
	cd "$T" || return 1
	if [ -n "$at" ]; then
		LD_PRELOAD=$SHIM MIG_CRASH_AT=$at MIG_CRASH_ON=${SHIM_ON:-} m "${ARGS[@]}" >"$T.out" 2>"$T.err"
		RC=$?
	else
		# exec: the pid killed is mig's (the front end execs the command in turn)
		exec mig -d app.db "${ARGS[0]}" -q "${ARGS[@]:1}" >"$T.out" 2>"$T.err" &
		pid=$!
		nap "$(printf '0.%06d' "$delay")"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		RC=$?
	fi
	cd "$WORK" || return 1
}

# is key $1 one of the lines of $2
one_of() {
	grep -qxF "$1" <<<"$2"
}

# The checks of one trial, after the kill.
check_trial() {
	local key full status_rc st_applied db_applied n first dirty f out
	case $RC in
	0 | 137) ;;
	*) fail "$T" "the command exited $RC, not 0 or killed: $(head -c 300 "$T.err")"; return ;;
	esac
	# what the kill left, seen on a copy (sqlite3 rolls a hot journal back there)
	rm -rf "$T.seen" && mkdir "$T.seen"
	for f in app.db app.db-journal app.db-wal app.db-shm; do
		[ ! -e "$T/$f" ] || cp -a "$T/$f" "$T.seen/"
	done
	[ "$(sqlite3 "$T.seen/app.db" 'PRAGMA integrity_check' 2>&1)" = ok ] ||
		{ fail "$T" "integrity_check is not ok"; return; }
	key=$(state_key "$T.seen/app.db")
	case $CMD in
	up) one_of "$key" "$UP_KEYS" || { fail "$T" "the database is in no state before or after a revision"; return; } ;;
	down) one_of "$key" "$DOWN_KEYS" || { fail "$T" "the database is in no state before or after a revision"; return; } ;;
	fake) one_of "$key" "$FAKE_KEYS" || { fail "$T" "fake left a partial record"; return; } ;;
	backup | new | merge)
		[ "$key" = "$UP_FINAL" ] || { fail "$T" "$CMD changed the database"; return; } ;;
	restore)
		full=$(full_key "$T.seen/app.db")
		[ "$full" = "$HEAD_FULL" ] || [ "$full" = "$MID_FULL" ] ||
			{ fail "$T" "restore left neither the old image nor the new one"; return; }
		RESTORED=
		[ "$full" != "$MID_FULL" ] || RESTORED=1 ;;
	esac
	db_applied=$(applied "$T.seen/app.db")
	dirty=$(awk '$2 == 1 { print $1 }' <<<"$db_applied")
	# the file new or merge writes: not there, or whole (and a hidden temporary file)
	case $CMD in
	new | merge)
		revision_file || return
		;;
	esac
	tally "$key" "$dirty"
	# -o: the file there before, or the new image whole
	if [ "$CMD" = backup ] && [ "${ARGS[3]:-}" = -o ]; then
		cmp -s "$T/image.gz" "$TPL/head/image.gz" || gzip -t "$T/image.gz" 2>/dev/null ||
			{ fail "$T" "backup -o left a damaged image.gz"; return; }
	fi

	# the next command of any kind, status first half the time
	cd "$T" || return
	if [ $((RANDOM % 2)) = 0 ]; then
		out=$(mig -d app.db status --porcelain 2>&1)
		status_rc=$?
		[ "$status_rc" = 0 ] || { cd "$WORK"; fail "$T" "status exited $status_rc after the kill: $out"; return; }
		st_applied=$(awk -F'\t' '$1 == "revision" && $2 != "pending" { print $3 }' <<<"$out")
		[ "$st_applied" = "$(awk '{ print $1 }' <<<"$db_applied" | sed '/^$/d')" ] ||
			{ cd "$WORK"; fail "$T" "status shows other revisions applied than the database has"; return; }
		[ "$(awk -F'\t' '$1 == "problem" && $2 == "dirty" { print $3 }' <<<"$out")" = "$dirty" ] ||
			{ cd "$WORK"; fail "$T" "status does not tell the dirty revisions ($dirty)"; return; }
		if [ -z "$dirty" ] && grep -q "^problem	drift" <<<"$out"; then
			cd "$WORK"; fail "$T" "status reports drift: $(grep drift <<<"$out")"; return
		fi
	fi
	if ! next_command; then
		cd "$WORK"
		return
	fi
	cd "$WORK" || return
	check_store || return
	rm -rf "$T" "$T.seen" "$T.out" "$T.err"
}

# What the kill left, counted: the state before the command, after it,
# between two of its revisions, or a no-transaction revision dirty.
tally() {
	local key=$1 dirty=$2 left=after n
	case $CMD in
	up | down | fake)
		if [ -n "$dirty" ]; then
			left=dirty
		elif [ "$key" = "$(state_key "$TPL/$FROM/app.db")" ]; then
			left=before
		elif [ "$key" != "$(final_key)" ]; then
			left=between
		fi
		;;
	restore) [ -n "$RESTORED" ] || left=before ;;
	backup)
		n=$(cd "$T" && m backup --list --porcelain 2>/dev/null | wc -l)
		[ "$n" != "$(wc -l <"$TPL/$FROM.snapshots")" ] || left=before
		;;
	new | merge) [ -n "$NEWFILE" ] || left=before ;;
	esac
	LEFT[$CMD.$left]=$((${LEFT[$CMD.$left]:-0} + 1))
}

final_key() {
	case $CMD in
	up) echo "$UP_FINAL" ;;
	down) echo "$DOWN_FINAL" ;;
	fake) echo "$FAKE_FINAL" ;;
	esac
}

# The revision file new or merge writes, if there: whole. Sets NEWFILE.
revision_file() {
	local n want first
	want=0016_feature.sql first="-- mig:parents $HEAD"
	[ "$CMD" = new ] || want=0018_merge.sql first="-- mig:parents 0016_left 0017_right"
	n=$(comm -13 <(ls "$TPL/$FROM/migrations") <(ls "$T/migrations"))
	NEWFILE=$n
	[ -n "$n" ] || return 0
	if [ "$n" != "$want" ] || [ "$(head -1 "$T/migrations/$n")" != "$first" ] ||
		[ "$(wc -l <"$T/migrations/$n")" != 5 ]; then
		fail "$T" "$CMD left a file that is not whole: $(echo $n)"
		return 1
	fi
}

# resolve a dirty 0003_index as its one statement ended
resolve_dirty() {
	local how=rolled-back
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'data_b'")" = 1 ] && how=applied
	m fake --resolve "$how" 2>>"$T.next" || { fail "$T" "fake --resolve $how failed"; return 1; }
}

# What comes next after a kill: the same command again, or up. Each has to
# complete unaided, and leave what the whole command would have.
next_command() {
	local rc final n again
	case $CMD in
	up | down)
		m "${ARGS[@]}" >/dev/null 2>"$T.next"
		rc=$?
		if [ "$rc" = 5 ] && grep -q 'is dirty' "$T.next"; then
			resolve_dirty || return 1
			m "${ARGS[@]}" >/dev/null 2>>"$T.next"
			rc=$?
		fi
		[ "$rc" = 0 ] || { fail "$T" "the next $CMD exited $rc: $(tail -c 300 "$T.next")"; return 1; }
		final=$UP_FINAL
		[ "$CMD" = up ] || final=$DOWN_FINAL
		[ "$(state_key app.db)" = "$final" ] ||
			{ fail "$T" "the next $CMD did not reach the state a whole $CMD reaches"; return 1; }
		journal_once "$CMD" || return 1
		;;
	fake)
		m "${ARGS[@]}" >/dev/null 2>"$T.next" ||
			{ fail "$T" "the next fake exited $?: $(tail -c 300 "$T.next")"; return 1; }
		[ "$(state_key app.db)" = "$FAKE_FINAL" ] || { fail "$T" "the next fake did not record it all"; return 1; }
		journal_once fake || return 1
		;;
	backup)
		n=$(m backup --list --porcelain | wc -l)
		m "${ARGS[@]}" >/dev/null 2>"$T.next" ||
			{ fail "$T" "the next backup exited $?: $(tail -c 300 "$T.next")"; return 1; }
		[ "$(m backup --list --porcelain | wc -l)" = $((n + 1)) ] ||
			{ fail "$T" "the next backup is not listed"; return 1; }
		if [ "${ARGS[3]:-}" = -o ]; then
			gzip -t image.gz 2>/dev/null || { fail "$T" "the next backup -o wrote a damaged image"; return 1; }
		fi
		;;
	restore)
		# the same again, or up from wherever the restore left it
		again=0
		if [ $((RANDOM % 2)) = 0 ]; then
			again=1
			m "${ARGS[@]}" >/dev/null 2>"$T.next" ||
				{ fail "$T" "the next restore exited $?: $(tail -c 300 "$T.next")"; return 1; }
			[ "$(full_key app.db)" = "$MID_FULL" ] ||
				{ fail "$T" "the next restore left another image"; return 1; }
		else
			m up >/dev/null 2>"$T.next" ||
				{ fail "$T" "up after restore exited $?: $(tail -c 300 "$T.next")"; return 1; }
			[ "$(state_key app.db)" = "$UP_FINAL" ] ||
				{ fail "$T" "up after restore did not reach the head"; return 1; }
		fi
		# a restore that replaced the database is in the journal, once
		n=$(git --git-dir=app.db.mig log --format=%B refs/mig/journal --not $(cat "$TPL/$FROM.tip") -- |
			grep -cx "snapshot $MID")
		if [ "$n" != $((again + ${RESTORED:-0})) ]; then
			fail "$T" "the journal has $n restores, not $((again + ${RESTORED:-0}))"
			return 1
		fi
		;;
	new | merge)
		# the same again when its file is not there, else another new
		if [ -z "$NEWFILE" ]; then
			m "${ARGS[@]}" >/dev/null 2>"$T.next" ||
				{ fail "$T" "the next $CMD exited $?: $(tail -c 300 "$T.next")"; return 1; }
			revision_file || return 1
			[ -n "$NEWFILE" ] || { fail "$T" "the next $CMD wrote no file"; return 1; }
		else
			m new other >/dev/null 2>"$T.next" ||
				{ fail "$T" "new after $CMD exited $?: $(tail -c 300 "$T.next")"; return 1; }
		fi
		n=$(ls -A migrations | grep '^\.')
		[ -z "$n" ] || { fail "$T" "temporary files after the next command: $(echo $n)"; return 1; }
		m up >/dev/null 2>>"$T.next" ||
			{ fail "$T" "up after $CMD exited $?: $(tail -c 300 "$T.next")"; return 1; }
		;;
	esac
	rc=0
	out=$(mig -d app.db status --porcelain 2>&1) || rc=$?
	[ "$rc" = 0 ] || { fail "$T" "status exited $rc after the next command: $out"; return 1; }
	if grep -q "^problem" <<<"$out"; then
		fail "$T" "status reports a problem after the next command: $(grep '^problem' <<<"$out")"
		return 1
	fi
	[ "$(sqlite3 app.db 'SELECT count(*) FROM mig_journal' 2>/dev/null || echo 0)" = 0 ] ||
		{ fail "$T" "mig_journal keeps rows after the next command"; return 1; }
}

# Every revision the trial's command (killed, then again) moved is in
# exactly one journal entry since the template's.
journal_once() {
	local ops got want
	case $1 in
	up) ops='up|resolve-applied' ;;
	down) ops='down|resolve-rolled-back' ;;
	fake) ops='fake' ;;
	esac
	got=$(git --git-dir=app.db.mig log --format='%H' refs/mig/journal --not $(cat "$TPL/$FROM.tip" 2>/dev/null) -- |
		while read -r c; do
			git --git-dir=app.db.mig cat-file commit "$c" | awk -v ops="^($ops)\$" '
				$1 == "operation" { keep = $2 ~ ops }
				$1 == "revision" && keep { print $3 }'
		done | sort)
	want=$(printf '%s\n' "${REVS[@]}" | sort)
	[ "$got" = "$want" ] ||
		{ fail "$T" "the journal does not hold each revision once: $(comm -3 <(echo "$got") <(echo "$want") | tr '\n\t' ' ')"; return 1; }
}

stale() {
	(cd "$T" && find app.db.mig \( -name '*.lock' ! -name mig.lock \) -o -name 'tmp_*' -o -name 'pack_git2_*' |
		head -5; ls -d app.db.mig.tmp-* .image.gz.tmp-* app.db.mig/restore.pending 2>/dev/null)
}

# The store: git fsck, every listed snapshot verifies, nothing stale left.
check_store() {
	local s=$T/app.db.mig out id stale
	[ -d "$s" ] || return 0
	# git fsck has nothing to say (a store with no journal yet: that HEAD's branch is unborn)
	if ! out=$(git --git-dir="$s" fsck --no-dangling 2>&1) ||
		[ -n "$(grep -v '^notice: \(HEAD points to an unborn branch (journal)\|No default references\)$' <<<"$out")" ]; then
		fail "$T" "git fsck: $(head -c 300 <<<"$out")"
		return 1
	fi
	# the snapshots the template had were verified once
	for id in $(cd "$T" && m backup --list --porcelain | cut -f2 | grep -vxF -f "$TPL/$FROM.snapshots"); do
		(cd "$T" && m backup --verify "$id" >/dev/null 2>&1) ||
			{ fail "$T" "listed snapshot $id does not verify"; return 1; }
	done
	# what killed writers left goes when the lock is next taken (a no-op up takes none)
	stale=$(stale)
	[ -z "$stale" ] || stale=$(cd "$T" && m backup --prune 1000 2>&1 && stale)
	[ -z "$stale" ] || { fail "$T" "stale files after the next command: $(tr '\n' ' ' <<<"$stale")"; return 1; }
}

## ---- methods ----

# median duration in µs of a whole command, over three runs
measure() {
	local i t0 t1 d=()
	for i in 1 2 3; do
		prepare
		cd "$T" || return 1
		t0=$(now_us)
		m "${ARGS[@]}" >/dev/null 2>&1 || { echo "run.sh: $CMD failed unkilled" >&2; cd "$WORK"; return 1; }
		t1=$(now_us)
		cd "$WORK" || return 1
		d+=($((t1 - t0)))
	done
	printf '%s\n' "${d[@]}" | sort -n | sed -n 2p
}

# the number of calls the shim counts in a whole command, for classes $1
count_calls() {
	prepare
	rm -f "$WORK/count"
	(cd "$T" && LD_PRELOAD=$SHIM MIG_CRASH_ON=$1 MIG_CRASH_COUNT=$WORK/count m "${ARGS[@]}" \
		>/dev/null 2>&1)
	tail -1 "$WORK/count"
}

trial_random() {
	local dur=$1 delay
	# uniform over the duration: two draws of 15 bits make 30
	delay=$(((RANDOM << 15 | RANDOM) % (dur + 1)))
	[ "$delay" -lt 1000000 ] || delay=999999
	prepare
	HOW="random delay ${delay}us of ${dur}us (SEED=$SEED)"
	run_killed "$delay"
	[ "$RC" != 137 ] || KILLED[$CMD]=$((${KILLED[$CMD]:-0} + 1))
	check_trial
}

trial_shim() {
	prepare
	HOW="shim MIG_CRASH_ON=${SHIM_ON:-all} MIG_CRASH_AT=$1"
	run_killed 0 "$1"
	check_trial
}

# points TOTAL N: N kill points spread evenly over 1..TOTAL, or all of them
points() {
	local total=$1 n=$2 i
	if [ "$total" -le "$n" ]; then
		seq "$total"
	else
		for ((i = 0; i < n; i++)); do
			echo $((1 + i * total / n + RANDOM % (total / n > 0 ? total / n : 1)))
		done
	fi
}

## ---- main ----

declare -A KILLED FAILS LEFT
echo "run.sh: $TRIALS trials per command, SEED=$SEED, in $WORK" >&2
make_fixture || { echo "run.sh: cannot make the fixture" >&2; exit 1; }
make_templates || { echo "run.sh: cannot make the templates" >&2; FAILED=1; exit 1; }
for t in "$TPL"/*/; do
	t=${t%/}
	: >"$t.tip"
	: >"$t.snapshots"
	[ -d "$t/app.db.mig" ] || continue
	git --git-dir="$t/app.db.mig" rev-parse -q --verify refs/mig/journal >"$t.tip"
	(cd "$t" && m backup --list --porcelain | cut -f2 >"$t.snapshots" && m backup --verify >/dev/null) ||
		{ echo "run.sh: the template's snapshots do not verify" >&2; FAILED=1; exit 1; }
done
T=$WORK/trial
SUMMARY=()
for CMD in "${COMMANDS[@]}"; do
	dur=$(measure) || { FAILED=$((FAILED + 1)); continue; }
	all=$(count_calls write,sync,name)
	sync=$(count_calls sync,name)
	n=0
	# the shim's half: every sync and rename point when they fit, the rest over all calls
	shim=$((TRIALS / 2))
	nsync=$((sync <= shim ? sync : shim / 2))
	SHIM_ON=sync,name
	for at in $(points "$sync" "$nsync"); do
		trial_shim "$at"
		n=$((n + 1))
	done
	SHIM_ON=write,sync,name
	for at in $(points "$all" $((shim - nsync))); do
		trial_shim "$at"
		n=$((n + 1))
	done
	unset SHIM_ON
	# the other half, and what the shim had no more points for, at random
	while [ "$n" -lt "$TRIALS" ]; do
		trial_random "$dur"
		n=$((n + 1))
	done
	left=
	for w in before between dirty after; do
		[ -z "${LEFT[$CMD.$w]:-}" ] || left+="${left:+, }${LEFT[$CMD.$w]} $w"
	done
	line=$(printf '%-8s %4d trials, %d failed (%d killed at random over %d ms; shim: %d calls, %d syncs and renames; left: %s)' \
		"$CMD" "$n" "${FAILS[$CMD]:-0}" "${KILLED[$CMD]:-0}" $((dur / 1000)) "$all" "$sync" "$left")
	echo "$line" >&2
	SUMMARY+=("$line")
done
echo "----" >&2
printf '%s\n' "${SUMMARY[@]}" >&2
if [ "$FAILED" != 0 ]; then
	echo "run.sh: $FAILED failed trials; reproduce with SEED=$SEED tests/crash/run.sh $TRIALS ${COMMANDS[*]}" >&2
	exit 1
fi
echo "run.sh: every trial passed" >&2
