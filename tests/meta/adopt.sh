#!/bin/sh
# blctl drive adopt: files copied into a drive's data/ from outside, with
# their own owners (uid 1000's among them), a symlink, a FIFO, a set-uid
# file and two devices, are given the form blfs keeps: attribute first, then
# uid 0 and mode 0600/0700 underneath. Through a real agent's mount they
# show as before, and uid 1000 writes its own file, which blfs (no
# capabilities) could not do before adopting. Needs root.
. "$top_srcdir/tests/lib.sh"
need_root
chmod 755 "$T"	# uid 1000 walks to the mount point

stat_of() { stat -c '%u %g %a %F' "$1"; }
xattr_of() {
	"${PYTHON3:-/usr/bin/python3}" -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], "user.blfs.attr").decode())
except OSError as e:
    print("none")' "$1"
}

drive_create seed
D=$STORE/drives/seed/data
mkdir "$D/u"
echo hello > "$D/u/f"
chown -R 1000:1000 "$D/u"
chmod 0640 "$D/u/f"
chmod 2750 "$D/u"
ln -s ../u/f "$D/link"
chown -h 1000:1000 "$D/link"
mkfifo -m 0620 "$D/fifo"
mknod "$D/null" c 1 3
mknod -m 0660 "$D/disk" b 8 16
chown 0:6 "$D/disk"
echo x > "$D/setuid"
chmod 4755 "$D/setuid"

before=$(stat_of "$D/u/f")
is "a seeded file of uid 1000, before" "$before" "1000 1000 640 regular file"

out=$("$BLCTL" drive --store "$STORE" --json adopt seed)
is "adopt counts files" "$(printf '%s' "$out" | jq -r .files)" 2
is "adopt counts directories (data/ and u)" \
    "$(printf '%s' "$out" | jq -r .directories)" 2
is "adopt converts the symlink, the FIFO and the devices" \
    "$(printf '%s' "$out" | jq -r .converted)" 4
is "and skips nothing" "$(printf '%s' "$out" | jq -r .skipped_devices)" 0

is "the file's owners moved into the attribute" "$(xattr_of "$D/u/f")" \
    "1000 1000 100640"
is "and the backing file is uid 0's, 0600" "$(stat_of "$D/u/f")" \
    "0 0 600 regular file"
is "the set-group-id directory keeps its bits in the attribute" \
    "$(xattr_of "$D/u")" "1000 1000 42750"
is "the backing directory is uid 0's, 0700" "$(stat_of "$D/u")" \
    "0 0 700 directory"
is "the set-uid bit is off the backing file" "$(stat_of "$D/setuid")" \
    "0 0 600 regular file"
is "and kept in the attribute" "$(xattr_of "$D/setuid")" "0 0 104755"
is "the symlink is a regular file standing for it" "$(xattr_of "$D/link")" \
    "1000 1000 120777"
is "holding its target" "$(cat "$D/link")" "../u/f"
is "the FIFO too" "$(xattr_of "$D/fifo")" "0 0 10620"
is "a character device too, with its number" "$(xattr_of "$D/null")" \
    "0 0 20644 1:3"
is "a block device too" "$(xattr_of "$D/disk")" "0 6 60660 8:16"
is "no device is left in the store" "$(stat_of "$D/disk")" \
    "0 0 600 regular empty file"

# Through a real mount: the same as before adopting.
start_agent a
mkdir -p "$T/mnt"
check "mount read-write" ctl a mount seed "$T/mnt" --wait
is "the file shows its owner and mode" "$(stat_of "$T/mnt/u/f")" \
    "1000 1000 640 regular file"
is "the directory too" "$(stat_of "$T/mnt/u")" "1000 1000 2750 directory"
is "the symlink is a symlink of uid 1000" "$(stat_of "$T/mnt/link")" \
    "1000 1000 777 symbolic link"
is "with its target" "$(readlink "$T/mnt/link")" "../u/f"
is "the FIFO is a FIFO" "$(stat_of "$T/mnt/fifo")" "0 0 620 fifo"
is "the devices are devices, with their numbers" \
    "$(stat -c '%u %g %a %F %Hr:%Lr' "$T/mnt/null" "$T/mnt/disk")" \
    "0 0 644 character special file 1:3
0 6 660 block special file 8:16"
if head -c 1 "$T/mnt/null" 2>/dev/null; then
	not_ok "the character device cannot be opened (nodev)"
else
	ok "the character device cannot be opened (nodev)"
fi
is "the set-uid file shows its bit" "$(stat_of "$T/mnt/setuid")" \
    "0 0 4755 regular file"
if setpriv --reuid=1000 --regid=1000 --clear-groups \
    sh -c "echo more >> '$T/mnt/u/f'" 2>/dev/null; then
	ok "uid 1000 appends to its own file through the mount"
else
	not_ok "uid 1000 appends to its own file through the mount"
fi
is "and the content is there" "$(cat "$D/u/f")" "hello
more"

err=$("$BLCTL" drive --store "$STORE" adopt seed 2>&1)
is "adopt is refused while the drive is mounted (exit 1)" "$?" 1
like "saying so" "$err" "mounted 1 time: unmount it first"

check "unmount" ctl a unmount "$T/mnt"
out=$("$BLCTL" drive --store "$STORE" --json adopt seed)
is "a second adopt changes nothing" \
    "$(printf '%s' "$out" | jq -c '[.files, .directories, .converted]')" \
    "[0,0,0]"
is "and finds every file already adopted" \
    "$(printf '%s' "$out" | jq -r .kept)" 8

err=$("$BLCTL" drive --store "$STORE" adopt nosuch 2>&1)
is "adopt of a missing drive fails (exit 1)" "$?" 1
like "naming it" "$err" "nosuch"
tap_done
