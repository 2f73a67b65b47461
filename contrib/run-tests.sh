#!/bin/bash
# The whole suite, as CI runs it: installs what is needed (Debian 12, as
# root), builds, runs `make check`, then `make distcheck` (the suite on a
# build from the release tarball), the suite again under AddressSanitizer
# and UndefinedBehaviorSanitizer, then every fuzzer for FUZZ_SECONDS (60).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	sh contrib/install-deps.sh
fi

# pjdfstest (tests/blfs/pjdfstest.sh) is a shared test tool kept beside
# the checkout, in shared/pjdfstest, never in the tree: name it now, from
# the checkout this started in, since the tree may be copied below and
# distcheck builds from a tarball elsewhere. The test fails when it is
# missing.
PJDFSTEST_SRC=${PJDFSTEST_SRC:-$(dirname "$top")/shared/pjdfstest}
export PJDFSTEST_SRC

# Some tests run steps as uid 1000 (an unprivileged workload), which must
# reach the built helpers: every directory above the tree must be
# searchable by others. A checkout under a private directory (mode 0700,
# as mktemp makes them) is copied to one that is.
searchable() {
	local d=$1
	while [ "$d" != / ]; do
		case "$(stat -c %A "$d")" in
		?????????[xt]) ;;
		*) return 1 ;;
		esac
		d=$(dirname "$d")
	done
}
if ! searchable "$top"; then
	work=$(mktemp -d /var/tmp/blagent-tests.XXXXXX)
	chmod 755 "$work"
	cp -a "$top/." "$work/src"
	chmod 755 "$work/src"
	echo "run-tests: $top is not searchable by other users; testing a copy in $work/src"
	top=$work/src
	cd "$top"
fi
./autogen.sh

summary() {
	# One closing line over every test case run: "N passed, N failed".
	local pass=0 fail=0 skip=0 r
	while IFS= read -r r; do
		case "$r" in
		PASS|XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done < <(find "$top/build" -name '*.trs' -exec sed -n 's/^:test-result: //p' {} +)
	echo "tests: $pass passed, $fail failed, $skip skipped"
	# CI runs as root with /dev/fuse: a whole test skipped (exit 77)
	# hides a missing piece.
	skipped=$(find "$top/build" -name '*.trs' -exec grep -l '^:global-test-result: SKIP' {} +)
	if [ "$(id -u)" -eq 0 ] && [ -n "$skipped" ]; then
		echo "run-tests: tests skipped as root, which is a failure here:" >&2
		echo "$skipped" >&2
		return 1
	fi
	[ "$fail" -eq 0 ]
}

rm -rf build
status=0

echo "== plain build: make check"
mkdir -p build/plain
(cd build/plain && ../../configure -q && make -j2 -s && make -j2 check) || status=1

echo "== make distcheck (the suite again, from the release tarball)"
(cd build/plain && make -j2 distcheck) || status=1

echo "== AddressSanitizer + UndefinedBehaviorSanitizer: make check"
mkdir -p build/asan
(cd build/asan && ../../configure -q --enable-sanitizers &&
	make -j2 -s && ASAN_OPTIONS=detect_leaks=1 make -j2 check) || status=1

echo "== fuzzers"
mkdir -p build/fuzz
(cd build/fuzz && ../../configure -q && make -s fuzz &&
	bash "$top/tests/fuzz/run-fuzzers.sh" "${FUZZ_SECONDS:-60}") || status=1

# The count covers the plain and sanitizer runs (distcheck removes its
# own build directory when it passes).
summary || status=1
# A copy made above goes once it passed; a failed one stays for its logs.
if [ -n "${work:-}" ]; then
	if [ $status -eq 0 ]; then rm -rf "$work"; else echo "run-tests: logs kept in $top/build"; fi
fi
exit $status
