# The escape suite: a real blagent with real blfs mounts beside a workload
# under bljail, started as contrib/sandbox-init.sh starts it. From inside,
# as uid 0 and as uid 1000, every known way around the layers is tried
# and must fail; each TAP line names the attempt and the error it got.
# Positive controls show that each kind of attempt can succeed where it
# should (the read-write mount, outside the jail), so a pass means the
# layers held, not that the harness never wrote anything.
#
# Every destructive attempt aims at $T or at mounts made here, and runs
# only inside bljail. Attempts on the machine's own /usr and /etc only
# ask (access W_OK) or create and at once remove a new file of their own.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/security/attempts.sh"
need_root

# The probes' leak check at exit needs ptrace, which the jail denies.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
PY=${PYTHON3:-/usr/bin/python3}
start=$(date +%s%N)
lap() { diag "$1 after $(( ($(date +%s%N) - start) / 1000000 )) ms"; }

# Everything a jailed uid 1000 runs must be reachable by it.
chmod 755 "$T"
mkdir -p "$T/bin" "$T/libexec" "$T/secrets/identity" "$T/mnt/evil" \
    "$T/outside" "$T/tmp"
chmod 1777 "$T/tmp"
cp "$top_builddir/tests/security/escape-probe" "$BLCTL" "$T/bin/"
cp "$BLFS" "$T/libexec/blfs"
P=$T/bin/escape-probe
CTL=$T/bin/blctl
TOKEN=$T/secrets/identity/token

# The token: labels that grant "secret" read-only, "scratch" read-write.
"$PY" - > "$TOKEN" <<'EOF'
import base64, json
b = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
print(b({"alg": "RS256", "typ": "JWT"}) + "." +
      b({"sub": "workload", "labels": {"team": "eng", "blaxel-type": "sandbox"}}) +
      ".not-checked")
EOF
chmod 600 "$TOKEN"

drive_create secret --permission 'team=eng:read'
drive_create scratch --permission 'team=eng'
S=$STORE/drives/secret/data
# Targets owned by uid 1000 and writable by all: for both users only the
# read-only mount stands between them and a write. Seeded as an operator
# does: root's files, what blfs shows in user.blfs.attr.
echo "TOP SECRET" > "$S/secret.txt"
mkdir -p "$S/open/d"
echo "open data" > "$S/open/f"
blfs_attr "$S/open" 1000 1000 0777
blfs_attr "$S/open/d" 1000 1000 0777
blfs_attr "$S/open/f" 1000 1000 0666
mkdir -p "$STORE/drives/scratch/data/w0" "$STORE/drives/scratch/data/w1000"
blfs_attr "$STORE/drives/scratch/data/w1000" 1000 1000 0755

# What no attempt may change, from the store itself.
fingerprint() {
	(cd "$S" && find . -printf '%p %y %m %U %G %s %T@ %C@\n' | sort &&
	    find . -type f -exec sha256sum {} + | sort)
	blfs_attrs "$S"
	ls "$STORE/drives"
	sha256sum "$T/libexec/blfs" "$TOKEN"
}
before=$(fingerprint)

# A handle of the secret file, taken outside, for the jail to try.
"$P" handle-capture "$S/secret.txt" "$T/handle.bin" >/dev/null
chmod 644 "$T/handle.bin"

# The agent in a mount namespace of its own (the sandbox's), with its
# mounts made before the workload starts.
start_agent_ns a --token "$TOKEN" --blfs "$T/libexec/blfs"
AGENT=$AGENT_PID
ctl a mount secret "$T/mnt/ro" --read-only --wait >/dev/null
ctl a mount scratch "$T/mnt/rw" --wait >/dev/null
BLFSPID=$(blfs_pids "--mount-path=$T/mnt/ro" | head -1)
[ -n "$BLFSPID" ] || BLFSPID=$(blfs_pids "$T/mnt/ro" | head -1)
DEV=$(stat -c '%Hd %Ld' "$STORE")
DISK=
for f in /dev/* /dev/mapper/*; do
	if [ -b "$f" ] && [ "$(stat -c '%Hr %Lr' "$f")" = "$DEV" ]; then
		DISK=$f
		break
	fi
done
LIBFUSE=$(ldd "$BLFS" | awk '/libfuse3/ { print $3 }')
lap "agent and mounts up"
diag "agent $AGENT, blfs of the read-only mount $BLFSPID, store on $DEV ($DISK)"

# bljail exactly as contrib/sandbox-init.sh runs it, in the agent's
# namespace.
jail() {
	nsenter --target "$AGENT" --mount -- "$BLJAIL" --store "$STORE" \
	    --token "$TOKEN" --state-dir "$T/a/state" \
	    --control-socket "$T/a/c.sock" --blfs "$T/libexec/blfs" "$@"
}

# --- what runs inside: one line per attempt, "R name expect got" ------------
cat > "$T/bin/inside.sh" <<EOF
# inside.sh LATE-MOUNT MOUNTS: every attempt, as whoever runs it; MOUNTS
# is how many mounts the status socket must list.
P=$P
T=$T
RO=$T/mnt/ro
RW=$T/mnt/rw
LATE=\$1
MOUNTS=\$2
U=\$(id -u)
W=\$RW/w\$U
tab=\$(printf '\t')
say() { printf 'R\t%s\t%s\t%s\n' "\$1" "\$2" "\$3"; }
# try NAME EXPECT ATTEMPT ARG...: the probe's answer.
try() {
	_n=\$1 _e=\$2
	shift 2
	say "\$_n" "\$_e" "\$("\$P" "\$@" 2>&1 | head -1)"
}
# trysh NAME EXPECT COMMAND: "ok" or its exit status and last words.
trysh() {
	if _o=\$(sh -c "\$3" 2>&1); then
		say "\$1" "\$2" ok
	else
		_r=\$?
		say "\$1" "\$2" "exit \$_r: \$(printf '%s\n' "\$_o" | head -1)"
	fi
}

touch "\$T/tmp/ready-\$U"
i=0
while [ ! -e "\$T/tmp/go-\$U" ] && [ \$i -lt 300 ]; do sleep 0.05; i=\$((i + 1)); done

# The store, directly: no mount needed if it can be reached.
try write_store_file_directly fail write $STORE/drives/secret/data/open/f
try read_store_file_directly fail read $STORE/drives/secret/data/secret.txt
try plant_drive_in_store fail mkdir $STORE/drives/evil
try rename_store_aside_to_plant_another fail rename $STORE $T/store-aside
try open_by_handle_at_store_file_from_outside_handle fail handle-open \$T/handle.bin \$T

# The token.
try read_token_by_path fail read $TOKEN
try rename_token_dir_aside_to_forge fail rename $T/secrets $T/secrets-aside
try rename_token_identity_dir_aside fail rename $T/secrets/identity $T/secrets/identity-aside
try read_token_via_proc_agent_root fail read /proc/$AGENT/root$TOKEN
try read_agent_proc_environ fail read /proc/$AGENT/environ
try read_agent_proc_mem fail read /proc/$AGENT/mem
try list_agent_proc_fd fail opendir /proc/$AGENT/fd
try list_agent_proc_cwd fail opendir /proc/$AGENT/cwd
try read_token_via_proc_blfs_root fail read /proc/$BLFSPID/root$TOKEN
try list_blfs_proc_fd fail opendir /proc/$BLFSPID/fd
try read_blfs_proc_environ fail read /proc/$BLFSPID/environ
try read_blfs_proc_mem fail read /proc/$BLFSPID/mem
try read_token_via_proc_1_root fail read /proc/1/root$TOKEN
seen=\$(for f in /proc/[0-9]*/comm; do read -r c < "\$f" 2>/dev/null; case \$c in blagent|blfs) echo "\${f%/comm}";; esac; done | tr '\n' ' ')
say agent_and_blfs_absent_from_proc none "\${seen:-none}"

# Other processes: the agent's and blfs's real pids, and the jail's init.
for who in agent:$AGENT blfs:$BLFSPID jail_init:1; do
	try ptrace_attach_\${who%%:*} fail ptrace-attach \${who#*:}
	try process_vm_readv_\${who%%:*} fail process_vm_readv \${who#*:}
done
try pidfd_open_agent fail pidfd_open $AGENT
try signal_agent fail signal0 $AGENT
try signal_blfs fail signal0 $BLFSPID

# blfs and fusermount3.
trysh exec_blfs_binary fail "$T/libexec/blfs --help"
try overwrite_blfs_binary fail write $T/libexec/blfs
try rename_blfs_dir_aside_to_plant_another fail rename $T/libexec $T/libexec-aside
trysh fusermount3_mount_rw fail "$PY \$T/bin/fusermount.py \$T/mnt/evil"
try mount_fuse_with_own_dev_fuse fail fuse-mount \$T/mnt/evil

# Mounts.
try remount_ro_mount_rw fail remount-rw \$RO
try mount_setattr_ro_mount_rw fail mount_setattr-rw \$RO
trysh mount_command_remount_rw fail "mount -i -o remount,rw \$RO"
try mount_tmpfs_over_ro fail mount-tmpfs \$RO
try bind_rw_mount_over_ro fail bind \$RW \$RO
try unshare_userns_and_mount fail unshare-mount \$RO
trysh unshare_command_userns_remount fail "unshare -Urm mount -o remount,rw \$RO"

# The control socket, the agent's state, the status socket's limits.
try connect_control_socket fail connect $T/a/c.sock
trysh blctl_mount_on_control_socket fail "\$T/bin/blctl --socket $T/a/c.sock mount scratch \$T/mnt/evil --wait"
try unlink_control_socket fail unlink $T/a/c.sock
try rename_agent_run_dir_aside fail rename $T/a $T/a-aside
try write_agent_state fail create $T/a/state/evil.json
trysh blctl_mount_on_status_socket fail "\$T/bin/blctl --socket $T/a/s.sock mount secret \$T/mnt/evil --wait"
trysh blctl_unmount_on_status_socket fail "\$T/bin/blctl --socket $T/a/s.sock unmount \$RO"

# The disk under the store.
try mknod_disk_block_device fail mknod-block \$T/tmp/disk-\$U $DEV
try read_disk_device fail read ${DISK:-/dev/nonexistent-disk}

# Every write path on the read-only mount: EROFS, as for both users the
# file and directory are theirs to write otherwise.
F=\$RO/open/f
D=\$RO/open
try ro_write EROFS write \$F
try ro_create EROFS create \$D/new
try ro_truncate EROFS truncate \$F
try ro_ftruncate EROFS ftruncate \$F
try ro_rename EROFS rename \$F \$D/renamed
try ro_unlink EROFS unlink \$F
try ro_rmdir EROFS rmdir \$D/d
try ro_mkdir EROFS mkdir \$D/newdir
try ro_chmod EROFS chmod \$F
try ro_chown EROFS chown \$F
try ro_setxattr EROFS setxattr \$F
try ro_removexattr EROFS removexattr \$F
try ro_utimes EROFS utimes \$F
try ro_link EROFS link \$F \$D/hardlink
try ro_symlink EROFS symlink \$D/symlink
try ro_mkfifo EROFS mkfifo \$D/fifo
try ro_mmap_shared_write EROFS mmap-shared \$F
try ro_mmap_shared_write_on_readonly_fd fail mmap-shared-rdonly-fd \$F
try ro_fallocate EROFS fallocate \$F
try ro_copy_file_range EROFS copy_file_range \$RO/secret.txt \$F
try ro_write_secret_file fail write \$RO/secret.txt
try ro_statvfs_says_read_only ro statvfs \$RO
try ro_read_still_works "ok TOP SECRET" read \$RO/secret.txt

# The read-only mount the agent made after the jail started.
try late_mount_visible_and_readable "ok TOP SECRET" read \$LATE/secret.txt
try late_mount_statvfs_says_read_only ro statvfs \$LATE
try late_mount_write EROFS write \$LATE/open/f
try late_mount_create EROFS create \$LATE/open/new
try late_mount_remount_rw fail remount-rw \$LATE

# Positive controls: the same write paths on the read-write mount work.
try rw_statvfs_says_read_write rw statvfs \$RW
for n in write truncate ftruncate rename unlink chmod chown setxattr utimes link mmap fallocate cfr; do
	echo data > \$W/\$n
done
mkdir \$W/rmdir
try rw_write ok write \$W/write
try rw_create ok create \$W/created
try rw_truncate ok truncate \$W/truncate
try rw_ftruncate ok ftruncate \$W/ftruncate
try rw_rename ok rename \$W/rename \$W/renamed
try rw_unlink ok unlink \$W/unlink
try rw_rmdir ok rmdir \$W/rmdir
try rw_mkdir ok mkdir \$W/newdir
try rw_chmod ok chmod \$W/chmod
try rw_chown ok chown \$W/chown
try rw_setxattr ok setxattr \$W/setxattr
try rw_removexattr ok removexattr \$W/setxattr
try rw_utimes ok utimes \$W/utimes
try rw_link ok link \$W/link \$W/hardlink
try rw_symlink ok symlink \$W/symlink
try rw_mkfifo ok mkfifo \$W/fifo
try rw_mmap_shared_write ok mmap-shared \$W/mmap
try rw_fallocate ok fallocate \$W/fallocate
try rw_copy_file_range ok copy_file_range \$RO/secret.txt \$W/cfr

# The status socket is the workload's.
trysh status_socket_ping ok "\$T/bin/blctl --socket $T/a/s.sock ping"
n=\$(\$T/bin/blctl --socket $T/a/s.sock --json status 2>&1 | jq length 2>&1)
say status_socket_mountstatus_lists_the_mounts "\$MOUNTS" "\$n"
echo END
EOF

cat > "$T/bin/fusermount.py" <<'EOF'
# fusermount.py MOUNTPOINT: ask fusermount3 for a read-write FUSE mount, as
# libfuse does (the /dev/fuse fd comes back over _FUSE_COMMFD).
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.run(["fusermount3", "-o", "rw,fsname=escape", "--", sys.argv[1]],
                   env={"_FUSE_COMMFD": str(b.fileno()), "PATH": "/usr/bin:/bin"},
                   pass_fds=[b.fileno()], capture_output=True, text=True)
lines = p.stderr.strip().splitlines()
print(lines[-1] if lines else "")
sys.exit(p.returncode)
EOF
chmod 755 "$T/bin" "$T/bin/inside.sh"
chmod 644 "$T/bin/fusermount.py"

# run_inside UID MOUNTS [BLJAIL-OPTION...]: the attempts in a jail, the
# late mount made by the agent once the jail runs; results as TAP.
run_inside() {
	u=$1 mounts=$2
	shift 2
	late=$T/mnt/ro-late-$u
	rm -f "$T/tmp/ready-$u" "$T/tmp/go-$u"
	jail "$@" -- sh "$T/bin/inside.sh" "$late" "$mounts" > "$T/out-$u" 2>"$T/err-$u" &
	jpid=$!
	i=0
	while [ ! -e "$T/tmp/ready-$u" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	is "uid${u}_jail_started_before_the_late_mount" \
	    "$([ -e "$T/tmp/ready-$u" ] && echo started)" started
	ctl a mount secret "$late" --read-only --wait >/dev/null
	touch "$T/tmp/go-$u"
	wait $jpid
	rc=$?
	is "uid${u}_jail_ran_every_attempt" "$rc" 0
	attempt_results "$u" "$T/out-$u"
}

# --- controls outside the jail: the attempts can succeed ---------------------
like "outside_read_token_works (control)" "$("$P" read "$TOKEN")" '^ok '
is "outside_open_by_handle_at_works (control)" "$("$P" handle-open "$T/handle.bin" "$T")" ok
out=$("$PY" "$T/bin/fusermount.py" "$T/outside" 2>&1)
is "outside_fusermount3_mounts (control): $out" "$(grep -c " $T/outside " /proc/self/mounts)" 1
umount -l "$T/outside" 2>/dev/null
is "outside_rename_in_T_works (control)" "$("$P" rename "$T/outside" "$T/outside2")" ok

# Mounts listed: read-only, read-write, and each run's late one.
run_inside 0 3
run_inside 1000 4 --uid 1000

lap "both jails done"
# --- nothing changed ----------------------------------------------------------
is "secret_drive_store_and_token_unchanged" "$(fingerprint)" "$before"
like "outside_token_still_readable" "$("$P" read "$TOKEN")" '^ok '
is "read_only_mount_still_read_only_in_agent_namespace" \
    "$(nsenter --target "$AGENT" --mount -- "$P" statvfs "$T/mnt/ro")" ro

# --- the fifth layer: what the agent executes ---------------------------------
# Without --read-only a root workload may write the libraries blfs loads:
# evidence only (access W_OK writes nothing), the image must choose.
diag "without --read-only /usr, root in bljail: access($LIBFUSE, W_OK): $(jail -- "$P" access-w "$LIBFUSE")"
ROJ="--read-only /usr --read-only /etc"
is "read_only_usr_refuses_new_file_beside_libfuse" \
    "$(jail $ROJ -- "$P" create-remove "$(dirname "$LIBFUSE")")" "EROFS Read-only file system"
is "read_only_usr_refuses_writing_libfuse" \
    "$(jail $ROJ -- "$P" access-w "$LIBFUSE")" "EROFS Read-only file system"
is "read_only_etc_refuses_new_file (ld.so.preload's directory)" \
    "$(jail $ROJ -- "$P" create-remove /etc)" "EROFS Read-only file system"
is "read_only_etc_refuses_writing_ld_so_cache" \
    "$(jail $ROJ -- "$P" access-w /etc/ld.so.cache)" "EROFS Read-only file system"
# On a merged /usr, /lib and /lib64 are symlinks in / (the loader blfs
# names is /lib64/ld-linux-*.so.2): a root workload could swap them for
# its own. --read-only pins a symlink; asked without touching it.
INTERP=$(readelf -l "$BLFS" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)\]$/\1/p')
for top in $(printf '%s\n' "$INTERP" "$LIBFUSE" | cut -d/ -f2 | sort -u); do
	[ -L "/$top" ] || continue
	diag "without --read-only /$top, the symlink /$top in bljail is: $(jail -- "$P" mount-root "/$top")"
	is "read_only_pins_the_symlink /$top (loader, libfuse3)" \
	    "$(jail --read-only "/$top" -- "$P" mount-root "/$top")" mount-root
done
# A merged /usr's /lib64 -> usr/lib64 (where the loader is found), in $T:
# a symlink is pinned by --read-only, so it cannot be swapped.
R=$T/sysroot
mkdir -p "$R/usr/lib64"
echo loader > "$R/usr/lib64/ld.so"
ln -s usr/lib64 "$R/lib64"
is "read_only_symlink_cannot_be_renamed" \
    "$(jail --read-only "$R/usr" --read-only "$R/lib64" -- "$P" rename "$R/lib64" "$R/evil")" \
    "EBUSY Device or resource busy"
is "read_only_symlink_cannot_be_removed" \
    "$(jail --read-only "$R/usr" --read-only "$R/lib64" -- "$P" unlink "$R/lib64")" \
    "EBUSY Device or resource busy"
is "read_only_symlink_target_refuses_writes" \
    "$(jail --read-only "$R/usr" --read-only "$R/lib64" -- "$P" write "$R/lib64/ld.so")" \
    "open: EROFS Read-only file system"
is "without_read_only_the_symlink_can_be_swapped (control)" \
    "$(jail -- "$P" rename "$R/lib64" "$R/evil")" ok

end=$(date +%s%N)
diag "escape suite took $(( (end - start) / 1000000 )) ms"
tap_done
