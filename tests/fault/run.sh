#!/bin/bash
# Fault injection: run mig up, down, backup, restore and backup --prune
# with their Nth I/O call failing (build/faultfs.so), for N over every
# call a clean run makes, and check each time that mig exits 6 (or 0
# when what failed was harmless and mig got by without it; never 4, as
# no revision here fails by itself), that nothing is lost (the
# database whole and as before or after a whole revision, the store
# passing git fsck, every listed snapshot verifying, every applied
# revision's body and every journal entry kept), and that a clean rerun
# of the same command succeeds and ends where it should.
#
#   tests/fault/run.sh [-a] [-s RUNS] [-m MODES] [-n N] [-k] [CMD...]
#
#   -a        every N from 1 to the number of calls (make fault)
#   -s RUNS   else about RUNS values of N per command and mode, evenly
#             spread, the first and last calls included (default 12)
#   -m MODES  comma-separated, of: eio (EIO on any call), enospc (ENOSPC
#             on writes, syncs, renames and creations), full (ENOSPC on
#             every write and creation from the Nth on: a disk that stays
#             full), vfs-eio and vfs-full (the same at SQLite's VFS layer:
#             SQLITE_IOERR_*, SQLITE_FULL). Default: all five
#   -n N      only this N (with one CMD and one mode: reproduce a failure;
#             -k keeps its directory)
#   CMD       up, down, backup (-o FILE), restore, prune (backup --prune):
#             default all five
#
# Exit status 0 when every run passed, 1 when one failed (each failure
# is listed with the command that reproduces it), 2 for usage.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/bin
SHIM=$TOP/build/faultfs.so
all=0 samples=12 modes=eio,enospc,full,vfs-eio,vfs-full only='' keep=0

usage() {
	sed -n '/^#   tests/,/^# Exit/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
while getopts as:m:n:k opt; do
	case $opt in
	a) all=1 ;;
	s) samples=$OPTARG ;;
	m) modes=$OPTARG ;;
	n) only=$OPTARG ;;
	k) keep=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
cmds=${*:-up down backup restore prune}
for c in $cmds; do
	case $c in up|down|backup|restore|prune) ;; *) usage ;; esac
done
[ -x "$BIN/mig-up" ] && [ -f "$SHIM" ] || { echo "run 'make all build/faultfs.so' first" >&2; exit 2; }
command -v sqlite3 >/dev/null && command -v git >/dev/null || { echo "needs sqlite3 and git" >&2; exit 2; }
# git, sqlite3 and this script need it; something else on the machine may break it
sane() {
	[ -c /dev/null ] || { echo "/dev/null is not a device: stopping" >&2; exit 2; }
}
sane

unset MIG_DATABASE MIG_MIGRATIONS MIG_STORE MIG_EXEC_PATH FAULT_N FAULT_OPS FAULT_ERRNO FAULT_STICKY \
	FAULT_PATH FAULT_CALL FAULT_LAYER FAULT_COUNT FAULT_LOG FAULT_TRACE
# in memory when there is a tmpfs: a thousand runs' fsyncs and syncfs
# would otherwise wait on the disk (and on everyone else's writes)
tmp=${TMPDIR:-/tmp}
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
WORK=$(mktemp -d "$tmp/mig-fault.XXXXXX")
# nothing from the user's files: git's and libgit2's global settings neither
export HOME=$WORK XDG_CACHE_HOME=$WORK/xdg-cache XDG_CONFIG_HOME=$WORK/xdg-config GIT_CONFIG_NOSYSTEM=1
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
[ "$keep" = 1 ] || trap 'rm -rf "$WORK"' EXIT

# the environment of a mode, for env(1)
mode_env() {
	case $1 in
	eio) echo FAULT_ERRNO=EIO ;;
	enospc) echo FAULT_ERRNO=ENOSPC FAULT_OPS=write,fsync,rename,open ;;
	full) echo FAULT_ERRNO=ENOSPC FAULT_OPS=write,open FAULT_STICKY=1 ;;
	vfs-eio) echo FAULT_LAYER=vfs FAULT_ERRNO=EIO ;;
	vfs-full) echo FAULT_LAYER=vfs FAULT_ERRNO=ENOSPC FAULT_OPS=write,open FAULT_STICKY=1 ;;
	*) return 1 ;;
	esac
}
for m in ${modes//,/ }; do
	mode_env "$m" >/dev/null || usage
done

# The project: a table of 300 rows, a column and an index over it, a
# second table pointing at the first.
write_migrations() {
	mkdir -p migrations
	cat >migrations/0001_t.sql <<'EOF'
-- mig:up
CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300)
INSERT INTO t(v) SELECT printf('row %d %s', i, hex(zeroblob(30))) FROM c;
-- mig:down
DROP TABLE t;
EOF
	cat >migrations/0002_w.sql <<'EOF'
-- mig:up
ALTER TABLE t ADD COLUMN w INTEGER;
UPDATE t SET w = id * 2;
CREATE INDEX t_w ON t(w);
-- mig:down
DROP INDEX t_w;
ALTER TABLE t DROP COLUMN w;
EOF
	cat >migrations/0003_u.sql <<'EOF'
-- mig:up
CREATE TABLE u(id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t(id), note TEXT);
INSERT INTO u(t_id, note) SELECT id, 'note ' || id FROM t WHERE id % 3 = 0;
-- mig:down
DROP TABLE u;
EOF
}

# What the database holds, as one line: the rows and schema of the
# project's tables and what mig records as applied; "bad: ..." when the
# database is not whole.
state() {
	local ic
	ic=$(sqlite3 -batch "$1" 'PRAGMA integrity_check' 2>&1)
	[ "$ic" = ok ] || { echo "bad: integrity_check: $ic" | head -1; return; }
	sqlite3 -batch "$1" '.dump t u' \
		"SELECT name, id, dirty FROM mig_revisions WHERE scope = 'app' ORDER BY seq" 2>&1 |
		md5sum | cut -c1-12
}

m() {
	"$BIN/mig-$1" -d app.db "${@:2}"
}

# The templates, one directory per command, and the states to expect.
S1='' S2='' S3=''
setup() {
	local d=$WORK/ref
	mkdir -p "$d" && cd "$d" || exit 2
	write_migrations
	m up -q 0001_t && S1=$(state app.db)
	m up -q 0002_w && S2=$(state app.db)
	m up -q && S3=$(state app.db)
	cd "$WORK" || exit 2
	for c in up down backup restore prune; do
		mkdir -p "tpl-$c" && cd "tpl-$c" || exit 2
		write_migrations
		m up -q 0001_t
		m backup -q --message "first" >/dev/null
		case $c in
		up) ;;
		down) m up -q ;;
		backup)
			m backup -q -o image.gz >/dev/null
			m up -q ;;
		restore)
			m backup -q --message "to restore" >id
			m up -q ;;
		prune)
			# the newest snapshot is the first one's image again, made of its
			# chunks, which the one before it does not have
			m up -q
			m backup -q >/dev/null
			m restore -q --no-backup "$(m backup --list --porcelain | tail -1 | cut -f2)"
			m backup -q -m newest >id ;;
		esac
		cd "$WORK" || exit 2
	done
}

# The command under test, its arguments, the states a faulted run may
# leave, and the state it must end in.
cmd_args() {
	case $1 in
	up) echo ;;
	down) echo 0001_t ;;
	backup) echo -q -o image.gz ;;
	restore) cat id ;;
	prune) echo -q --prune 1 ;;
	esac
}

# the binary a command runs
bin() {
	case $1 in
	prune) echo "$BIN/mig-backup" ;;
	*) echo "$BIN/mig-$1" ;;
	esac
}
allowed() {
	case $1 in
	up) echo "$S1 $S2 $S3" ;;
	down) echo "$S3 $S2 $S1" ;;
	backup) echo "$S3" ;;
	restore) echo "$S3 $S1" ;;
	prune) echo "$S1" ;;
	esac
}
initial() {
	# shellcheck disable=SC2046
	set -- $(allowed "$1")
	echo "$1"
}
final() {
	case $1 in
	up|backup) echo "$S3" ;;
	down|restore|prune) echo "$S1" ;;
	esac
}

# Everything that must hold after any run, faulted or not; prints what
# does not, and returns 1 then. $1: command, $2: the snapshots and
# journal entries there were before.
check_store() {
	local cmd=$1 nsnap=$2 njournal=$3 s out id bad=0
	# the next command recovers what a fault left (a hot journal) and can read the database
	if ! out=$(m status --porcelain 2>&1); then
		echo "status fails after the run: $out" | head -3
		return 1
	fi
	# git fsck has nothing to say (a store with no journal yet: that HEAD's branch is unborn)
	out=$(git --git-dir=app.db.mig fsck --no-progress --no-dangling 2>&1)
	s=$?
	out=$(printf '%s\n' "$out" | grep -v '^notice: \(HEAD points to an unborn branch (journal)\|No default references\)$')
	if [ "$s" != 0 ] || [ -n "$out" ]; then
		echo "git fsck (exit $s): $out" | head -5
		bad=1
	fi
	if ! out=$(m backup --verify 2>&1); then
		echo "backup --verify: $out" | head -3
		bad=1
	fi
	s=$(snapshots)
	[ "$s" -ge "$nsnap" ] || { echo "snapshots lost: $nsnap before, $s after"; bad=1; }
	s=$(entries)
	[ "$s" -ge "$njournal" ] || { echo "journal entries lost: $njournal before, $s after"; bad=1; }
	# every applied revision can be reverted from the store
	for id in $(sqlite3 app.db "SELECT id FROM mig_revisions WHERE scope = 'app'"); do
		git --git-dir=app.db.mig cat-file -e "$id" 2>/dev/null ||
			{ echo "applied revision $id is not in the store"; bad=1; }
	done
	# an image written by -o is whole, or the old one untouched
	if [ "$cmd" = backup ] && ! cmp -s image.gz ../image.before; then
		gzip -dc image.gz >image.db 2>/dev/null && [ "$(state image.db)" = "$S3" ] ||
			{ echo "image.gz is neither the old image nor a whole new one"; bad=1; }
		rm -f image.db
	fi
	return $bad
}

# snapshots listed, journal entries written (git is quicker to ask than mig)
snapshots() {
	git --git-dir=app.db.mig for-each-ref refs/mig/snapshots | wc -l
}
entries() {
	git --git-dir=app.db.mig rev-list --count refs/mig/journal 2>/dev/null || echo 0
}

# journaled entries and those the database keeps for the next run
journal_count() {
	local b
	b=$(sqlite3 app.db "SELECT count(DISTINCT run) FROM mig_journal" 2>/dev/null || echo 0)
	echo $(($(entries) + b))
}

# One faulted run and its rerun, in a fresh copy of the template.
# Prints nothing when all is well, else what went wrong.
one() {
	local cmd=$1 mode=$2 n=$3 dir=$WORK/run-$1-$2-$3 rc state nsnap njournal out args
	rm -rf "$dir"
	cp -a "$WORK/tpl-$cmd" "$dir" && cd "$dir" || exit 2
	[ "$cmd" = backup ] && cp image.gz ../image.before
	args=$(cmd_args "$cmd")
	nsnap=$(snapshots)
	njournal=$(entries)
	# a prune removes snapshots, but never the newest
	[ "$cmd" != prune ] || nsnap=1
	# shellcheck disable=SC2046,SC2086
	env $(mode_env "$mode") FAULT_N="$n" FAULT_LOG="$dir/fault.log" LD_PRELOAD="$SHIM" \
		"$(bin "$cmd")" -d app.db $args >out 2>err </dev/null
	rc=$?
	{
		case $rc in
		0) ;;
		6) grep -q "^$(basename "$(bin "$cmd")"): error: " err || echo "exit 6 without an error message" ;;
		*) echo "exit $rc" ;;
		esac
		check_store "$cmd" "$nsnap" "$njournal" || true
		state=$(state app.db)
		case " $(allowed "$cmd") " in
		*" $state "*) ;;
		*) echo "database in no expected state: $state" ;;
		esac
		[ "$rc" != 0 ] || [ "$state" = "$(final "$cmd")" ] ||
			echo "exit 0 but the database is not as the command leaves it"
		# a change the run made has its journal entry, in the store or kept for the next run
		# (a restore has nowhere to keep it: when the store cannot take it, it exits 6 saying so)
		[ "$state" = "$(initial "$cmd")" ] || [ "$(journal_count)" -gt "$njournal" ] ||
			{ [ "$cmd" = restore ] && [ "$rc" = 6 ] && grep -q '^hint: .* is restored from snapshot' err; } ||
			echo "the database changed, and no journal entry says so"
		# what a restore replaced is in a snapshot
		[ "$cmd" != restore ] || [ "$state" = "$(initial "$cmd")" ] || [ "$(snapshots)" -gt "$nsnap" ] ||
			echo "the database was restored without a snapshot of what it replaced"
		# a clean rerun succeeds and ends where it should
		# shellcheck disable=SC2086
		if ! out=$("$(bin "$cmd")" -d app.db $args 2>&1 </dev/null); then
			echo "the clean rerun fails: $out" | head -3
		fi
		check_store "$cmd" "$nsnap" "$njournal" || true
		[ "$(state app.db)" = "$(final "$cmd")" ] || echo "after the rerun the database is not as it should be"
		if [ "$cmd" = prune ]; then
			out=$(m backup --list --porcelain | cut -f2)
			[ "$out" = "$(cat id)" ] || echo "after the rerun the snapshots are not the newest alone: $out"
		fi
		if [ "$cmd" = up ] || [ "$cmd" = down ]; then
			out=$(m status --porcelain | grep '^problem')
			[ -z "$out" ] || echo "after the rerun: $out"
		fi
	} >"$dir/verdict" 2>&1
	if [ -s "$dir/verdict" ]; then
		sane
		{
			echo "FAIL $cmd $mode N=$n (exit $rc): $(head -1 "$dir/fault.log" 2>/dev/null)"
			grep -v '^ *#\|^$\|^=\+$' err | sed 's/^/    /' | head -4
			# a sanitizer's report: its first frames
			grep -m1 -A8 'ERROR: \(Address\|Leak\|Undefined\)Sanitizer\|runtime error' err | sed 's/^/    /'
			sed 's/^/  - /' "$dir/verdict"
			echo "    reproduce: tests/fault/run.sh -m $mode -n $n -k $cmd"
		}
		cd "$WORK" || exit 2
		[ "$keep" = 1 ] || rm -rf "$dir"
		return 1
	fi
	cd "$WORK" || exit 2
	[ "$keep" = 1 ] || rm -rf "$dir"
	return 0
}

# The calls a clean run makes in a mode: the most of three runs (threads
# make it vary a little).
calls() {
	local cmd=$1 mode=$2 k max=0 args
	for _ in 1 2 3; do
		rm -rf "$WORK/count"
		cp -a "$WORK/tpl-$cmd" "$WORK/count" && cd "$WORK/count" || exit 2
		args=$(cmd_args "$cmd")
		# shellcheck disable=SC2046,SC2086
		env $(mode_env "$mode") FAULT_COUNT="$WORK/count.txt" LD_PRELOAD="$SHIM" \
			"$(bin "$cmd")" -d app.db $args >/dev/null 2>&1 </dev/null ||
			{ echo "a clean run of $cmd under the shim fails" >&2; exit 1; }
		read -r k _ <"$WORK/count.txt"
		[ "$k" -gt "$max" ] && max=$k
		cd "$WORK" || exit 2
	done
	echo "$max"
}

setup
total_runs=0 total_fail=0
for cmd in $cmds; do
	for mode in ${modes//,/ }; do
		k=$(calls "$cmd" "$mode") || exit 1
		if [ -n "$only" ]; then
			ns=$only
		elif [ "$all" = 1 ] || [ "$k" -le "$samples" ]; then
			ns=$(seq 1 "$k")
		else
			ns=$(awk -v k="$k" -v s="$samples" 'BEGIN { for (i = 0; i < s; i++) print 1 + int(i * (k - 1) / (s - 1)) }' | uniq)
		fi
		runs=0 fail=0
		for n in $ns; do
			runs=$((runs + 1))
			one "$cmd" "$mode" "$n" || fail=$((fail + 1))
		done
		printf '%-8s %-9s %5d calls %5d runs %3d failed\n' "$cmd" "$mode" "$k" "$runs" "$fail"
		total_runs=$((total_runs + runs))
		total_fail=$((total_fail + fail))
	done
done
echo "fault injection: $total_runs runs, $total_fail failed"
[ "$keep" = 1 ] && echo "kept: $WORK"
[ "$total_fail" = 0 ]
