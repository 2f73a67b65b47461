# The escape suite for volumes: a real agent with a volume mounted
# read-only and another read-write, beside a workload under bljail as
# contrib/sandbox-init.sh runs it. From inside, as uid 0 and uid 1000,
# every way to write the read-only volume is tried: through the mount,
# by remounting it, through its loop device, through its image in the
# store. Each must fail; the same writes on the read-write volume are the
# controls. The image must come out byte for byte as it went in.
# (A loop device made after the jail started is not masked; it stays
# read-only to a workload without CAP_SYS_ADMIN: tests/mount/volume.py
# shows even full root cannot write one.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/security/attempts.sh"
need_root

ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

chmod 755 "$T"
mkdir -p "$T/bin" "$T/libexec" "$T/tpl/open" "$T/mnt" "$T/tmp"
chmod 1777 "$T/tmp"
cp "$top_builddir/tests/security/escape-probe" "$T/bin/"
cp "$BLFS" "$T/libexec/blfs"
P=$T/bin/escape-probe

# Files both users could write but for the read-only mount.
echo "volume data" > "$T/tpl/open/f"
chown -R 1000:1000 "$T/tpl/open"
chmod 777 "$T/tpl/open"
chmod 666 "$T/tpl/open/f"
drive_create rovol --kind volume --size 32MiB --template "$T/tpl"
drive_create rwvol --kind volume --size 32MiB --template "$T/tpl"
IMG=$STORE/drives/rovol/volume.img
before=$(sha256sum "$IMG")

start_agent_ns a --blfs "$T/libexec/blfs"
AGENT=$AGENT_PID
ctl a mount rovol "$T/mnt/ro" --read-only --wait >/dev/null
ctl a mount rwvol "$T/mnt/rw" --wait >/dev/null
LOOP=$(in_ns a findmnt -n -o SOURCE "$T/mnt/ro")
RWLOOP=$(in_ns a findmnt -n -o SOURCE "$T/mnt/rw")
like "read_only_volume_on_a_loop_device" "$LOOP" '^/dev/loop[0-9]+$'
is "its_loop_device_is_read_only" \
    "$(cat "/sys/block/${LOOP#/dev/}/ro" 2>&1)" 1

jail() {
	nsenter --target "$AGENT" --mount -- "$BLJAIL" --store "$STORE" \
	    --state-dir "$T/a/state" --control-socket "$T/a/c.sock" \
	    --blfs "$T/libexec/blfs" "$@"
}

cat > "$T/bin/inside.sh" <<EOF
P=$P
RO=$T/mnt/ro
RW=$T/mnt/rw
U=\$(id -u)
say() { printf 'R\t%s\t%s\t%s\n' "\$1" "\$2" "\$3"; }
try() {
	_n=\$1 _e=\$2
	shift 2
	say "\$_n" "\$_e" "\$("\$P" "\$@" 2>&1 | head -1)"
}
try ro_write EROFS write \$RO/open/f
try ro_create EROFS create \$RO/open/new-\$U
try ro_truncate EROFS truncate \$RO/open/f
try ro_rename EROFS rename \$RO/open/f \$RO/open/g
try ro_unlink EROFS unlink \$RO/open/f
try ro_mkdir EROFS mkdir \$RO/open/d-\$U
try ro_chmod EROFS chmod \$RO/open/f
try ro_setxattr EROFS setxattr \$RO/open/f
try ro_mmap_shared_write EROFS mmap-shared \$RO/open/f
try ro_fallocate EROFS fallocate \$RO/open/f
try ro_statvfs_says_read_only ro statvfs \$RO
try ro_read_still_works "ok volume data" read \$RO/open/f
try remount_volume_rw fail remount-rw \$RO
try mount_setattr_volume_rw fail mount_setattr-rw \$RO
try bind_rw_volume_over_ro fail bind \$RW \$RO
try unshare_userns_and_remount fail unshare-mount \$RO
try loop_device_set_rw fail blk-set-rw $LOOP
try loop_device_write fail blk-write $LOOP
try loop_control_masked "open: EACCES Permission denied" write /dev/loop-control
try image_write_through_store fail write $IMG
try image_read_through_store fail read $IMG
try rw_write ok write \$RW/open/f
try rw_create ok create \$RW/open/new-\$U
try rw_statvfs_says_read_write rw statvfs \$RW
echo END
EOF
chmod 755 "$T/bin" "$T/bin/inside.sh"

run_inside() {
	u=$1
	shift
	jail "$@" -- sh "$T/bin/inside.sh" > "$T/out-$u" 2>"$T/err-$u"
	is "uid${u}_jail_ran_every_attempt" "$?" 0
	attempt_results "$u" "$T/out-$u"
}

# Controls outside the jail: the device and the image can be reached.
is "outside_the_jail_the_rw_loop_device_opens (control)" \
    "$(in_ns a "$P" read "$RWLOOP" | cut -c1-2)" ok
is "outside_the_jail_the_image_reads (control)" \
    "$("$P" read "$IMG" | cut -c1-2)" ok

run_inside 0
run_inside 1000 --uid 1000

# Nothing changed: the read-only volume's image, once it is unmounted.
ctl a unmount "$T/mnt/ro" >/dev/null
i=0
while [ -n "$(blfs_pids "--drive=rovol")" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "read_only_volume_image_unchanged" "$(sha256sum "$IMG")" "$before"
tap_done
