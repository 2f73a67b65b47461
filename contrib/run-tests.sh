#!/bin/bash
# The whole suite, as CI runs it: installs what is needed (Debian 12, as
# root), builds, runs `make distcheck` (the suite on a plain build from
# the release tarball), the suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then every fuzzer for FUZZ_SECONDS (60).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	sh contrib/install-deps.sh
fi
./autogen.sh

summary() {
	# One closing line over every test run: "N passed, N failed".
	local pass=0 fail=0 skip=0 f
	while IFS= read -r f; do
		case "$(sed -n 's/^:global-test-result: //p' "$f")" in
		PASS|XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done < <(find "$top/build" -name '*.trs')
	echo "tests: $pass passed, $fail failed, $skip skipped"
	# CI runs as root with /dev/fuse: a skipped test hides a missing piece.
	if [ "$(id -u)" -eq 0 ] && [ "$skip" -gt 0 ]; then
		echo "run-tests: $skip tests skipped as root; that is a failure here" >&2
		find "$top/build" -name '*.trs' -exec grep -l 'global-test-result: SKIP' {} + >&2
		return 1
	fi
	[ "$fail" -eq 0 ]
}

rm -rf build
status=0

echo "== plain build: make distcheck"
mkdir -p build/plain
(cd build/plain && ../../configure -q && make -j2 -s && make -j2 distcheck) || status=1

echo "== AddressSanitizer + UndefinedBehaviorSanitizer: make check"
mkdir -p build/asan
(cd build/asan && ../../configure -q --enable-sanitizers &&
	make -j2 -s && ASAN_OPTIONS=detect_leaks=1 make -j2 check) || status=1

echo "== fuzzers"
mkdir -p build/fuzz
(cd build/fuzz && ../../configure -q && make -s fuzz &&
	bash "$top/tests/fuzz/run-fuzzers.sh" "${FUZZ_SECONDS:-60}") || status=1

# distcheck's own build directory is gone by now; keep its logs' verdicts
# in the count by looking where it left them, if it left any.
summary || status=1
exit $status
