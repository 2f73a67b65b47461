# TAP helpers for the security scripts: source it, call the checks, end
# with tap_done. Every check prints what it expected and what it got.

tap_n=0
tap_failed=0

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
}

# check NAME EXPECTED GOT
check() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1: expected '$2', got '$3'"
	fi
}

# check_fails NAME COMMAND...: the command must exit non-zero.
check_fails() {
	_name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		tap_not_ok "$_name: expected failure, '$*' succeeded"
	else
		tap_ok "$_name"
	fi
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}

# Root and the kernel features the tests use; skip only when truly absent.
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 77
	fi
}

# status_field FIELD: one value (CapBnd, NoNewPrivs, ...) of the
# /proc/PID/status text on stdin.
status_field() {
	awk -v f="$1:" '$1 == f { print $2 }'
}
