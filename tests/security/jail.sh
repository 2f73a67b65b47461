# bljail: the workload confinement holds, as root and as an ordinary user.
# Real processes, real namespaces, real mounts; everything under one
# temporary directory, unmounted and removed on exit.
. "$top_srcdir/tests/security/lib.sh"
need_root

BLJAIL=$top_builddir/sandboxing/bljail
# In sanitizer builds the probe's leak check at exit needs ptrace, which
# the jail denies by design: no leak checks inside.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
tmp=$(mktemp -d /tmp/bl-jail.XXXXXX)
chmod 755 "$tmp"
bgpids=
cleanup() {
	for p in $bgpids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount -R "$tmp/shared" 2>/dev/null
	umount -R "$tmp/target" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# The probe where uid 1000 can run it, whatever the build dir's modes.
cp "$top_builddir/tests/security/probe" "$tmp/probe"
PROBE=$tmp/probe

# A fake agent beside us: token, store, state, sockets, blfs, extras.
# Every destructive attempt below aims at something of ours, so a broken
# bljail fails the tests without harming the machine.
mkdir -p "$tmp/target"
mount -t tmpfs none "$tmp/target"
mkdir -p "$tmp/secrets/identity" "$tmp/store/drives/d/data" "$tmp/state" \
    "$tmp/run" "$tmp/libexec" "$tmp/extra-dir"
echo SECRET > "$tmp/secrets/identity/token"
echo DATA > "$tmp/store/drives/d/data/f"
echo '{}' > "$tmp/state/mounts.json"
printf '#!/bin/sh\necho BLFS\n' > "$tmp/libexec/blfs"
chmod 755 "$tmp/libexec/blfs"
echo EXTRA > "$tmp/extra-dir/f"
echo EXTRA > "$tmp/extra-file"
for s in control status; do
	"$PYTHON3" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
time.sleep(60)' "$tmp/run/$s.sock" &
	bgpids="$bgpids $!"
done
i=0
while [ ! -S "$tmp/run/status.sock" ] || [ ! -S "$tmp/run/control.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && break
	sleep 0.05
done

# bljail hiding the fake agent's paths (no spaces in $tmp: mktemp's).
J="$BLJAIL --token $tmp/secrets/identity/token --store $tmp/store
    --state-dir $tmp/state --control-socket $tmp/run/control.sock
    --blfs $tmp/libexec/blfs --hide $tmp/extra-dir --hide $tmp/extra-file"
jail() {
	$J "$@"
}

# fails_inside NAME SHELL-COMMAND [BLJAIL-OPTION...]: the command, run in
# the jail, must fail; "failed" proves the jail itself ran.
fails_inside() {
	_name=$1 _cmd=$2
	shift 2
	check "$_name" failed "$(jail "$@" -- sh -c "($_cmd) >/dev/null 2>&1 && echo succeeded || echo failed")"
}

# empty_inside NAME SHELL-COMMAND: what the command prints in the jail
# must be nothing (the "|ran" proves the jail ran).
empty_inside() {
	check "$1" "|ran" "$(jail -- sh -c "$2 2>/dev/null; echo '|ran'")"
}

connects() {
	"$PYTHON3" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
    print("connected")
except OSError as e:
    print("refused")' "$1"
}

# --- Capabilities, no_new_privs, seccomp, securebits -------------------

# Dropped: SYS_ADMIN 21, SYS_PTRACE 19, SYS_MODULE 16, SYS_RAWIO 17,
# SYS_BOOT 22, MKNOD 27, DAC_READ_SEARCH 2, LINUX_IMMUTABLE 9,
# MAC_ADMIN 33, MAC_OVERRIDE 32, BPF 39, PERFMON 38, SYS_TIME 25,
# NET_ADMIN 12.
dropped=$(( (1<<21)|(1<<19)|(1<<16)|(1<<17)|(1<<22)|(1<<27)|(1<<2)|(1<<9)|
    (1<<33)|(1<<32)|(1<<39)|(1<<38)|(1<<25)|(1<<12) ))

st=$(jail -- cat /proc/self/status)
bnd=$(echo "$st" | status_field CapBnd)
eff=$(echo "$st" | status_field CapEff)
check "root_jail_bounding_set_lacks_every_dropped_cap" 0 \
    $(( 0x$bnd & dropped ))
check "root_jail_keeps_ordinary_root_caps (CAP_CHOWN, CAP_KILL)" 33 \
    $(( 0x$eff & 33 ))
check "root_jail_effective_equals_bounding" "$bnd" "$eff"
check "root_jail_no_new_privs" 1 "$(echo "$st" | status_field NoNewPrivs)"
check "root_jail_seccomp_filter_mode" 2 "$(echo "$st" | status_field Seccomp)"
check "root_jail_no_ambient_caps" 0000000000000000 \
    "$(echo "$st" | status_field CapAmb)"
check "root_jail_securebits_locked" "securebits 0xea" \
    "$(jail -- "$PROBE" securebits | head -1)"

st=$(jail --uid 1000 -- cat /proc/self/status)
check "user_jail_has_no_effective_caps" 0000000000000000 \
    "$(echo "$st" | status_field CapEff)"
check "user_jail_has_no_permitted_caps" 0000000000000000 \
    "$(echo "$st" | status_field CapPrm)"
check "user_jail_bounding_set_lacks_every_dropped_cap" 0 \
    $(( 0x$(echo "$st" | status_field CapBnd) & dropped ))
check "user_jail_no_new_privs" 1 "$(echo "$st" | status_field NoNewPrivs)"
check "user_jail_seccomp_filter_mode" 2 "$(echo "$st" | status_field Seccomp)"
check "user_jail_ids_and_no_groups" "1000 1000 1000" \
    "$(jail --uid 1000 -- id -u) $(jail --uid 1000 -- id -g) $(jail --uid 1000 -- id -G)"
check "user_jail_securebits_noroot_locked" "securebits 0xeb" \
    "$(jail --uid 1000 -- "$PROBE" securebits | head -1)"
check "gid_alone_changes_gid_only" "0 50" \
    "$(jail --gid 50 -- id -u) $(jail --gid 50 -- id -g)"

bnd=$(jail --keep-cap net_admin -- cat /proc/self/status | status_field CapBnd)
check "keep_cap_lowercase_keeps_net_admin" $((1<<12)) $(( 0x$bnd & (1<<12) ))
bnd=$(jail --keep-cap CAP_NET_ADMIN -- cat /proc/self/status | status_field CapBnd)
check "keep_cap_upper_keeps_net_admin_only" $((1<<12)) $(( 0x$bnd & dropped ))
jail --keep-cap cap_bogus -- true 2>/dev/null
check "keep_cap_unknown_is_usage_error" 2 $?

# --- Denied system calls -------------------------------------------------

eperm="mount umount2 fsopen fsmount fsconfig fspick open_tree move_mount
mount_setattr pivot_root chroot unshare-mnt unshare-user unshare-net setns
clone-newuser clone-newns clone-newpid ptrace process_vm_readv
process_vm_writev name_to_handle_at open_by_handle_at bpf keyctl add_key
request_key userfaultfd perf_event_open kexec_load kexec_file_load
init_module finit_module delete_module iopl syslog reboot swapon quotactl
pidfd_getfd kcmp"

# The other ABI of an x86-64 kernel, reached from a 64-bit process.
if [ "$(uname -m)" = x86_64 ] && [ "$("$PROBE" i386-unshare)" = "i386-unshare ok" ]; then
	eperm="$eperm i386-unshare"
fi

# The probe can see success: outside the jail these calls work here.
out=$("$PROBE" mount fsopen chroot unshare-mnt unshare-user \
    process_vm_readv keyctl kcmp name_to_handle_at | awk '{print $2}' |
    sort -u | tr '\n' ' ')
check "probe_reports_success_outside_the_jail" "ok " "$out"

all_denied() {
	# $1: test name prefix, rest: bljail options
	_p=$1
	shift
	_out=$(jail "$@" -- "$PROBE" $eperm clone3)
	for c in $eperm; do
		check "${_p}_${c}_fails_eperm" "$c EPERM" \
		    "$(echo "$_out" | grep "^$c " || echo "$c (no output)")"
	done
	check "${_p}_clone3_is_enosys_so_libc_uses_clone" "clone3 ENOSYS" \
	    "$(echo "$_out" | grep "^clone3 ")"
}
all_denied root
all_denied user --uid 1000
# The filter holds on its own: keep back every dropped capability and
# the calls still fail.
all_denied root_with_caps_kept --keep-cap SYS_ADMIN --keep-cap SYS_PTRACE \
    --keep-cap SYS_MODULE --keep-cap SYS_RAWIO --keep-cap SYS_BOOT \
    --keep-cap DAC_READ_SEARCH --keep-cap BPF --keep-cap PERFMON \
    --keep-cap NET_ADMIN

check "root_mknod_block_device_fails" "mknod-block EPERM" \
    "$(jail -- "$PROBE" mknod-block)"
check "user_mknod_block_device_fails" "mknod-block EPERM" \
    "$(jail --uid 1000 -- "$PROBE" mknod-block)"
fails_inside "root_unshare_m_fails" "unshare -m true"
fails_inside "root_unshare_U_fails" "unshare -U true"
fails_inside "user_unshare_U_fails" "unshare -U true" --uid 1000
fails_inside "root_mount_command_fails" "mount -t tmpfs none $tmp/target"
fails_inside "root_umount_fails" "umount -l $tmp/target"
fails_inside "user_umount_fails" "umount -l $tmp/target" --uid 1000
check "root_fork_and_threads_still_work" "fork ok threads ok" \
    "$(jail -- "$PROBE" fork threads | tr '\n' ' ' | sed 's/ $//')"

# --- Hidden paths ---------------------------------------------------------

empty_inside "token_unreadable" "cat $tmp/secrets/identity/token"
empty_inside "token_directory_empty" "ls -A $tmp/secrets/identity"
check "user_token_unreadable" "|ran" \
    "$(jail --uid 1000 -- sh -c "cat $tmp/secrets/identity/token 2>/dev/null; echo '|ran'")"
empty_inside "store_empty" "ls -A $tmp/store"
empty_inside "store_file_unreachable" "cat $tmp/store/drives/d/data/f"
fails_inside "store_mask_read_only" "touch $tmp/store/planted"
empty_inside "state_dir_empty" "ls -A $tmp/state"
check "control_socket_refuses" "refused" \
    "$(jail -- sh -c "$(command -v "$PYTHON3") -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print(\"connected\")
except OSError:
    print(\"refused\")' $tmp/run/control.sock")"
check "status_socket_still_reachable" "connected" \
    "$(jail -- sh -c "$(command -v "$PYTHON3") -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print(\"connected\")
except OSError:
    print(\"refused\")' $tmp/run/status.sock")"
check "control_socket_outside_still_works" "connected" \
    "$(connects "$tmp/run/control.sock")"
empty_inside "blfs_binary_unreadable" "cat $tmp/libexec/blfs"
fails_inside "blfs_binary_not_executable" "$tmp/libexec/blfs"
empty_inside "hide_dir_empty" "ls -A $tmp/extra-dir"
empty_inside "hide_file_unreadable" "cat $tmp/extra-file"
check "missing_hide_path_is_skipped" "ran" \
    "$(jail --hide "$tmp/nonexistent" -- echo ran)"
mkdir -p "$tmp/rotree/sub"
fails_inside "read_only_tree_refuses_writes" "touch $tmp/rotree/sub/x" \
    --read-only "$tmp/rotree"
check "read_only_tree_still_readable" "sub" \
    "$(jail --read-only "$tmp/rotree" -- ls "$tmp/rotree")"
touch "$tmp/rotree/outside"
check "read_only_tree_writable_outside" 0 $?
check "cwd_inside_store_sees_the_mask" "|ran" \
    "$(cd "$tmp/store" && jail -- sh -c "ls -A; echo '|ran'")"
check "masks_do_not_leak_outside" "SECRET 0" \
    "$(cat "$tmp/secrets/identity/token") $(grep -c -e " $tmp/store " -e " $tmp/secrets/identity " /proc/self/mountinfo)"

# --- /proc, /sys, /dev ------------------------------------------------------

sleep 30 &
outside=$!
bgpids="$bgpids $outside"
check "outside_process_not_in_proc" "absent" \
    "$(jail -- sh -c "test -e /proc/$outside && echo present || echo absent")"
check "jail_init_is_pid_1" "1" \
    "$(jail -- sh -c 'cat /proc/1/comm >/dev/null && echo $PPID')"
check "proc_lists_only_the_jail" "yes" \
    "$(jail -- sh -c 'n=$(ls /proc | grep -c "^[0-9]"); [ $n -le 6 ] && echo yes || echo "no: $n"')"
# Writes back the value already there: harmless should the jail fail.
fails_inside "proc_sys_read_only" "h=\$(cat /proc/sys/kernel/hostname); echo \$h > /proc/sys/kernel/hostname"
check "proc_knobs_read_only" "checked" \
    "$(jail -- "$PYTHON3" -c '
import os
for p in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"):
    if os.path.exists(p) and not os.statvfs(p).f_flag & 1:
        print(p)
print("checked")')"
check "sys_and_its_submounts_read_only" "checked" \
    "$(jail -- "$PYTHON3" -c '
import os
for l in open("/proc/self/mountinfo"):
    p = l.split()[4]
    if (p == "/sys" or p.startswith("/sys/")) and not os.statvfs(p).f_flag & 1:
        print(p)
print("checked")')"
blk=
for f in /dev/*; do
	if [ -b "$f" ]; then blk=$f; break; fi
done
if [ -n "$blk" ]; then
	check "block_device_readable_outside ($blk)" 0 \
	    "$(head -c 1 "$blk" >/dev/null 2>&1; echo $?)"
	fails_inside "block_device_masked ($blk)" "head -c 1 $blk"
fi

# --- Exit status, signals, failure ----------------------------------------

jail -- sh -c 'exit 7'
check "exit_status_passes_through" 7 $?
jail -- sh -c 'kill -TERM $$'
check "killed_command_is_128_plus_signal" 143 $?
jail -- "$tmp/nonexistent-command" 2>/dev/null
check "missing_command_is_127" 127 $?
jail --uid 1000 -- "$BLJAIL" -- true 2>/dev/null
check "bljail_inside_bljail_cannot_confine_is_125" 125 $?
"$BLJAIL" 2>/dev/null
check "no_command_is_usage_error" 2 $?

rm -f "$tmp/ready"
$J -- sh -c "trap 'exit 42' TERM; touch $tmp/ready; while :; do sleep 0.05; done" &
jpid=$!
i=0
while [ ! -e "$tmp/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $jpid
wait $jpid
check "sigterm_is_forwarded_to_the_command" 42 $?

# --- Mounts made outside later appear inside ------------------------------

mkdir -p "$tmp/shared"
mount -t tmpfs none "$tmp/shared"
mount --make-shared "$tmp/shared"
rm -f "$tmp/ready"
# The marker lives in the new tmpfs: seen only if the mount is. It may be
# listed more than once in mountinfo: bljail pins $tmp and /tmp, parents
# of the paths it hides, and each pin receives a copy of the mount.
$J -- sh -c "touch $tmp/ready; i=0
while [ ! -e $tmp/shared/sub/marker ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done
test -e $tmp/shared/sub/marker && grep -q ' $tmp/shared/sub ' /proc/self/mountinfo && echo seen" > "$tmp/prop.out" &
jpid=$!
i=0
while [ ! -e "$tmp/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
mkdir "$tmp/shared/sub"
mount -t tmpfs none "$tmp/shared/sub"
touch "$tmp/shared/sub/marker"
wait $jpid
check "mount_made_outside_after_start_appears_inside" seen "$(cat "$tmp/prop.out")"

tap_done
