# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run).

# one timed run of a command line, in nanoseconds, its output discarded
timed() {
	local s e
	s=$(date +%s%N)
	eval "$1" >/dev/null 2>&1
	e=$(date +%s%N)
	echo $((e - s))
}

# the median of nanoseconds on stdin, in seconds
median() {
	sort -n | awk '{ a[NR] = $1 } END { printf "%.4f", a[int((NR + 1) / 2)] / 1e9 }'
}

# pg_scratch: a scratch directory $W holding a throwaway PostgreSQL
# cluster (tools/pg-cluster.sh), $BASE the URL of its postgres
# database; both gone when the script exits
pg_scratch() {
	W=$(mktemp -d)
	chmod 755 "$W"
	trap 'sh "$TOP/tools/pg-cluster.sh" stop "$W/pg"; rm -rf "$W"' EXIT
	# shellcheck disable=SC2034 # the caller's
	BASE=$(sh "$TOP/tools/pg-cluster.sh" start "$W/pg")
}
