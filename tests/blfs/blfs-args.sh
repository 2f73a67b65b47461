#!/bin/sh
# blfs's command line: --help and --version, and every unknown, repeated
# or malformed argument refused with a message and exit status 2; a
# failure before serving reported as "error ..." on the status fd.
set -u
: "${top_builddir:?}"
BLFS="$top_builddir/blfs/blfs"
[ -x "$BLFS" ] || { echo "Bail out! $BLFS is not built"; exit 1; }

tmp=$(mktemp -d /tmp/blfs-args.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
check() {	# description, expected status, expected stderr words, args...
	desc=$1 want=$2 words=$3
	shift 3
	"$BLFS" "$@" >"$tmp/out" 2>"$tmp/err" 3>"$tmp/status" 4</etc/hostname
	rc=$?
	n=$((n + 1))
	if [ "$rc" != "$want" ]; then
		echo "not ok $n - $desc: expected exit $want, got $rc ($(head -1 "$tmp/err"))"
	elif [ -n "$words" ] && ! grep -q -- "$words" "$tmp/err" "$tmp/out"; then
		echo "not ok $n - $desc: expected '$words', got: $(head -1 "$tmp/err")"
	else
		echo "ok $n - $desc"
	fi
}
req="--drive d --session s --mount-path /mnt"

check "--help prints the usage" 0 "usage: blfs" --help
check "--version prints the version" 0 "blfs [0-9]" --version
check "no arguments: fuse fd required" 2 "fuse-fd is required"
check "an unknown argument" 2 "unknown argument: --bogus" --bogus
check "an abbreviation is not an option" 2 "unknown argument: --read" \
	--fuse-fd 4 --root-fd 4 $req --read
check "a bare word" 2 "unknown argument: stray" stray
check "a fd that is not a number" 2 "not a file descriptor" --fuse-fd abc
check "a negative fd" 2 "not a file descriptor" --fuse-fd -1
check "a fd that is not open" 2 "fd 99 is not open" --fuse-fd 99
check "an option given twice" 2 "given twice" --fuse-fd 4 --fuse-fd 4
check "an option without its value" 2 "needs a value" --drive
check "a flag given a value" 2 "takes no value" --read-only=yes
check "a bad log level" 2 "want error, warn" --log-level loud
check "a bad size" 2 "not a size" --cache-size 12Q
check "a size with two suffixes" 2 "not a size" --prefetch 1MM
check "a relative mount path" 2 "not absolute" --mount-path mnt
check "a control character in a name" 2 "control characters" \
	--drive "$(printf 'a\nb')"
check "root fd required" 2 "root-fd is required" --fuse-fd 4 $req
check "session required" 2 "session is required" --fuse-fd 4 --root-fd 4 \
	--drive d --mount-path /m
check "a fuse fd that is not /dev/fuse" 1 "not the /dev/fuse device" \
	--fuse-fd 4 --root-fd 4 --status-fd 3 $req
n=$((n + 1))
if grep -qx "error --fuse-fd 4: not the /dev/fuse device" "$tmp/status"; then
	echo "ok $n - the failure is one error line on the status fd"
else
	echo "not ok $n - status fd got: $(cat "$tmp/status")"
fi
check "usage errors reach the status fd too" 2 "unknown argument" \
	--status-fd 3 --what
n=$((n + 1))
if grep -q "^error unknown argument: --what$" "$tmp/status"; then
	echo "ok $n - status line for a usage error"
else
	echo "not ok $n - status fd got: $(cat "$tmp/status")"
fi
check "--opt=value spelling accepted (fails later, on the fd)" 1 \
	"not the /dev/fuse" --fuse-fd=4 --root-fd=4 --drive=d --session=s \
	--mount-path=/m --buffer-size=64K --cache-size=1G --prefetch=0 \
	--log-level=error --writeback --read-only
check "--volume-fd needs --lock-fd" 2 "needs --lock-fd" --volume-fd 4 $req
check "--volume-fd serves nothing: no --fuse-fd" 2 "takes no --fuse-fd" \
	--volume-fd 4 --fuse-fd 4 --lock-fd 4 $req
check "--volume-fd of a file, not a block device" 1 "not a block device" \
	--volume-fd 4 --lock-fd 4 $req
echo "1..$n"
