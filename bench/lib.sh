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
