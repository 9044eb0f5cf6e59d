#!/bin/sh
# campaign.sh -- a long fuzzing campaign: each named harness (all of them
# by default) runs, one at a time, at nice 19, until RUNS executions
# (10,000,000 by default) from its seeds and the campaign's own corpus.
# Each harness binary is copied when its turn comes, so a rebuild during
# the campaign does not disturb it. One line per harness goes to
# DIR/summary: name, executions, executions per second, seconds, verdict.
# Any crash, leak, timeout or UBSan report stops that harness and keeps
# the reproducer in DIR/<harness>/.
#
#   sh regress/fuzz/campaign.sh [-d DIR] [-n RUNS] [harness ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
dir=$top/build-fuzz/campaign
runs=10000000
while getopts d:n: o; do
	case $o in
	d) dir=$OPTARG ;;
	n) runs=$OPTARG ;;
	*) echo "usage: $0 [-d dir] [-n runs] [harness ...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] && set -- $(ls "$here"/f_*.c | sed 's,.*/,,; s,\.c$,,')
mkdir -p "$dir"
for h in "$@"; do
	out=$dir/$h
	mkdir -p "$out/corpus"
	cp "$top/build-fuzz/fuzz/$h" "$out/$h.bin" || continue
	t0=$(date +%s)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	nice -n 19 "$out/$h.bin" -runs="$runs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" \
	    "$out/corpus" "$here/seeds/$h" >"$out/log" 2>&1
	rc=$?
	t1=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/log")
	verdict=clean
	if [ $rc -ne 0 ] || grep -q 'runtime error:' "$out/log"; then
		verdict="FAILED (exit $rc)"
	fi
	echo "$h ${execs:-?} ${rate:-?}/s $((t1 - t0))s $verdict" \
	    >>"$dir/summary"
done
