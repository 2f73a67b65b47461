#!/bin/sh
# Runs every built fuzz target (tests/fuzz/fuzz-*) for N seconds each
# (default 60) under the memory limits CI uses, each against a COPY of its
# seed corpus tests/fuzz/corpus-<name>/ so the tree's corpus never grows.
# Fails if any target finds a crash, a leak or a limit overrun.
#
# usage: run-fuzzers.sh [SECONDS] [TARGET...]
#   run from the build directory (after `make fuzz`), or set
#   top_builddir/top_srcdir. TARGETs default to every tests/fuzz/fuzz-*.
set -u

secs=${1:-60}
[ $# -gt 0 ] && shift
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

case $secs in
''|*[!0-9]*)
	echo "run-fuzzers.sh: $secs is not a number of seconds" >&2
	exit 2
	;;
esac

if [ $# -eq 0 ]; then
	set --
	for t in "$builddir"/tests/fuzz/fuzz-*; do
		[ -f "$t" ] && [ -x "$t" ] && set -- "$@" "$t"
	done
fi
if [ $# -eq 0 ]; then
	echo "run-fuzzers.sh: no fuzz targets in $builddir/tests/fuzz" \
	    "(run make fuzz first)" >&2
	exit 2
fi

# ASan keeps up to 256 MiB of freed memory in quarantine by default: with
# -rss_limit_mb=256 that alone reads as an out-of-memory after a few
# seconds of any target. A smaller quarantine still catches reuse.
case ${ASAN_OPTIONS:-} in
*quarantine_size_mb*) ;;
*) ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16" ;;
esac
export ASAN_OPTIONS

work=$(mktemp -d "${TMPDIR:-/tmp}/run-fuzzers.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

failed=0
for t in "$@"; do
	name=$(basename "$t")
	name=${name#fuzz-}
	seeds="$srcdir/tests/fuzz/corpus-$name"
	corpus="$work/corpus-$name"
	mkdir -p "$corpus" "$work/artifacts-$name"
	if [ -d "$seeds" ]; then
		cp -R "$seeds"/. "$corpus"/
	else
		echo "run-fuzzers.sh: warning: no seed corpus $seeds" >&2
	fi
	echo "== $name: ${secs}s from $(ls "$corpus" | wc -l) seeds"
	"$t" -max_total_time="$secs" -rss_limit_mb=256 -malloc_limit_mb=16 \
	    -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$work/artifacts-$name/" \
	    "$corpus" >"$work/$name.log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)' \
	    "$work/$name.log"
	if [ $rc -ne 0 ] || [ -n "$(ls "$work/artifacts-$name")" ]; then
		echo "FAIL: $name (exit $rc); the end of its log:"
		tail -n 40 "$work/$name.log"
		for a in "$work/artifacts-$name"/*; do
			[ -f "$a" ] || continue
			echo "-- reproducer $(basename "$a") (hex):"
			od -An -tx1 "$a" | head -n 20
			# Keep it where CI can pick it up.
			cp "$a" "./$(basename "$t")-$(basename "$a")" 2>/dev/null
		done
		failed=1
	else
		echo "ok: $name"
	fi
done
exit $failed
