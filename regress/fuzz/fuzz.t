#!/bin/sh
# fuzz.t -- every libFuzzer harness in build-fuzz/fuzz/ runs for
# FUZZ_SECONDS (3 by default: make check keeps them building and clean;
# make fuzz runs them for 60) from its seeds in regress/fuzz/seeds/, into
# a scratch corpus. One TAP line per harness, with its executions; any
# crash, leak, timeout or UBSan report fails it and keeps the reproducer.
# FUZZ_KEEP=dir keeps the grown corpora and logs there.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
bin="$top/build-fuzz/fuzz"
secs=${FUZZ_SECONDS:-3}
tmp=$(mktemp -d /tmp/vpnd-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

harnesses=$(ls "$here"/f_*.c 2>/dev/null | sed 's,.*/,,; s,\.c$,,')
n=$(echo "$harnesses" | wc -w)
if [ ! -d "$bin" ]; then
	echo "1..0 # SKIP no $bin: make fuzz-bins"
	exit 0
fi
echo "1..$n"
i=0
for h in $harnesses; do
	i=$((i + 1))
	out=${FUZZ_KEEP:-$tmp}/$h
	mkdir -p "$out/corpus"
	if [ ! -x "$bin/$h" ]; then
		echo "not ok $i - $h: not built"
		continue
	fi
	# -timeout: one input may take at most 10 s; -rss_limit_mb: 2 GiB
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	timeout $((secs * 2 + 60)) "$bin/$h" -max_total_time="$secs" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$out/" "$out/corpus" "$here/seeds/$h" \
	    >"$out/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
	if [ $rc -eq 0 ] && ! grep -q 'runtime error:' "$out/log"; then
		echo "ok $i - $h: ${execs:-?} executions in ${secs} s"
	else
		echo "not ok $i - $h: exit $rc after ${execs:-?} executions"
		grep -E 'ERROR|runtime error|SUMMARY|artifact' "$out/log" |
		    head -20 | sed 's/^/# /'
		cp "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* \
		    "$top/build-fuzz/" 2>/dev/null
	fi
done
