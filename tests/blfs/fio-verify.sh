#!/bin/sh
# Data integrity through blfs: fio writes 64 MiB at random offsets with a
# crc32c in every block and reads it all back to verify, without and with
# the writeback cache; then the same file is checked on the store side.
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
DRIVER="$top_builddir/tests/blfs/blfs-mount"

bail() { echo "Bail out! $*"; exit 1; }
[ "$(id -u)" = 0 ] || bail "the blfs tests mount FUSE and must run as root"
[ -e /dev/fuse ] || bail "/dev/fuse is missing"
command -v fio >/dev/null || bail "fio is not installed (apt-get install fio)"

tmp=$(mktemp -d /tmp/blfs-fio.XXXXXX)
cleanup() {
	"$DRIVER" umount "$tmp/mnt" 2>/dev/null
	[ -f "$tmp/pid" ] && kill "$(cat "$tmp/pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/store/drive" "$tmp/mnt"

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }

wait_gone() {
	i=0
	while [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" \
	    2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 500 ] && return 1
		sleep 0.02
	done
	return 0
}

for mode in plain writeback; do
	extra=""
	[ "$mode" = writeback ] && extra="--writeback"
	if ! "$DRIVER" mount --pidfile "$tmp/pid" --log "$tmp/log" \
	    "$tmp/store" drive "$tmp/mnt" -- $extra; then
		bail "mounting blfs failed: $(cat "$tmp/log")"
	fi
	if fio --name=verify --directory="$tmp/mnt" --filename="fio-$mode" \
	    --rw=randwrite --bs=4k --size=64m --ioengine=psync \
	    --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
	    --output="$tmp/fio.out" >/dev/null 2>&1; then
		ok "$mode: fio randwrite 64 MiB with crc32c verify passes"
	else
		notok "$mode: fio verify failed: $(tail -5 "$tmp/fio.out" | tr '\n' ' ')"
	fi
	if fio --name=verify2 --directory="$tmp/mnt" --filename="fio-$mode-seq" \
	    --rw=write --bs=1m --size=32m --ioengine=psync --verify=md5 \
	    --do_verify=1 --verify_state_save=0 --output="$tmp/fio.out" \
	    >/dev/null 2>&1; then
		ok "$mode: fio sequential 1 MiB writes with md5 verify passes"
	else
		notok "$mode: fio sequential verify failed"
	fi
	a=$(md5sum < "$tmp/mnt/fio-$mode")
	"$DRIVER" umount "$tmp/mnt" || bail "unmount failed"
	if wait_gone "$(cat "$tmp/pid")"; then
		ok "$mode: blfs exits once unmounted"
	else
		notok "$mode: blfs still running after unmount"
	fi
	rm -f "$tmp/pid"
	b=$(md5sum < "$tmp/store/drive/fio-$mode")
	if [ "$a" = "$b" ]; then
		ok "$mode: the store holds what the mount showed"
	else
		notok "$mode: store and mount differ: $a vs $b"
	fi
	sz=$(stat -c %s "$tmp/store/drive/fio-$mode")
	if [ "$sz" = 67108864 ]; then
		ok "$mode: file is 64 MiB on the store"
	else
		notok "$mode: file is $sz bytes on the store"
	fi
done
echo "1..$n"
