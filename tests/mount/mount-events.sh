#!/bin/bash
# What clients watch: Subscribe's MountStateChanged notifications, WaitMounts,
# start-up mounts with --wait-mounts holding READY=1, and 100 mounts and
# unmounts at once while other clients keep pinging.
. "$top_srcdir/tests/lib.sh"
need_root
PY=${PYTHON3:-/usr/bin/python3}

drive_create data
start_agent main

# --- a subscriber sees every state, in order
ctl main --json watch > "$T/events" 2>/dev/null &
watch_pid=$!
bl_pids="$bl_pids $watch_pid"
sleep 0.2
ctl main mount data "$T/mnt/e" --wait >/dev/null
ctl main unmount "$T/mnt/e" >/dev/null
sleep 0.3
kill "$watch_pid"
is "subscriber_sees_every_state_in_order" \
	"$(jq -r .state "$T/events" | tr '\n' ' ')" \
	"pending mounting mounted unmounting gone "
is "notifications_carry_the_mount_path" \
	"$(jq -r .mount_path "$T/events" | sort -u)" "$T/mnt/e"

# --- WaitMounts answers once mounts settle
r=$(ctl main --json mount data "$T/mnt/w1")
id1=$(field "$r" mount_session_id)
r=$(ctl main --json mount data "$T/mnt/w2" --read-only)
id2=$(field "$r" mount_session_id)
r=$("$BLCTL" --socket "$T/main/s.sock" --json wait "$id1" "$id2")
is "wait_mounts_returns_both_settled" \
	"$(printf '%s' "$r" | jq -r '[.[].state] | join(",")')" "mounted,mounted"
err=$("$BLCTL" --socket "$T/main/s.sock" wait ms-0000000000000000 2>&1)
like "wait_mounts_unknown_id_is_enoent" "$err" "ENOENT"
ctl main unmount "$id1" >/dev/null
ctl main unmount "$id2" >/dev/null

# --- start-up mounts: READY=1 only once they settled
"$PY" - "$T/notify.sock" > "$T/ready" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
msg = s.recv(256)
print("%s %d" % (msg.decode(), time.monotonic_ns() // 1000000))
PYEOF
py_pid=$!
sleep 0.3
mkdir -p "$T/boot"
NOTIFY_SOCKET=$T/notify.sock "$BLAGENT" --foreground \
	--control-socket "$T/boot/c.sock" --status-socket "$T/boot/s.sock" \
	--state-dir "$T/boot/state" --store "$STORE" --blfs "$BLFS" \
	--token "$T/boot/token" \
	--mount "drive=data,path=$T/mnt/boot-rw" \
	--mount "drive=data,path=$T/mnt/boot-ro,ro" \
	--wait-mounts 20s 2>>"$T/boot/log" &
boot_pid=$!
bl_pids="$bl_pids $boot_pid"
wait "$py_pid"
like "ready_is_sent_to_notify_socket" "$(cat "$T/ready")" "^READY=1 "
r=$(ctl boot --json status)
is "startup_mounts_settled_before_ready" \
	"$(printf '%s' "$r" | jq -r '[.[].state] | join(",")')" "mounted,mounted"
is "startup_mount_ro_flag" \
	"$(printf '%s' "$r" | jq -r '[.[].read_only] | join(",")')" "false,true"
err=$("$BLAGENT" --mount "drive=data,pth=/x" 2>&1)
is "bad_mount_spec_exits_2" "$?" 2
like "bad_mount_spec_names_the_key" "$err" 'unknown key "pth"'
ctl boot unmount "$T/mnt/boot-rw" >/dev/null
ctl boot unmount "$T/mnt/boot-ro" >/dev/null

# --- 100 mounts and unmounts at once while others ping
( for i in $(seq 1 200); do "$BLCTL" --socket "$T/main/s.sock" ping >/dev/null || echo fail; done ) > "$T/pings" &
ping_pid=$!
t0=$(date +%s%N)
pids=()
for i in $(seq 1 100); do
	ctl main --json mount data "$T/mnt/many/$i" --wait > "$T/m.$i" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
t1=$(date +%s%N)
n=$(cat "$T"/m.* | jq -r .state 2>/dev/null | grep -c '^mounted$')
is "hundred_concurrent_mounts_all_mounted" "$n" 100
diag "100 concurrent mounts took $(( (t1 - t0) / 1000000 )) ms"
is "kernel_lists_hundred_blfs_mounts" \
	"$(grep -c " $T/mnt/many/" /proc/self/mounts)" 100
pids=()
for i in $(seq 1 100); do
	ctl main --json unmount "$T/mnt/many/$i" > "$T/u.$i" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
n=$(cat "$T"/u.* | jq -r .state 2>/dev/null | grep -c '^gone$')
is "hundred_concurrent_unmounts_all_gone" "$n" 100
wait "$ping_pid"
is "pings_all_answered_during_the_storm" "$(grep -c fail "$T/pings")" 0
sleep 0.5
check "no_blfs_left_after_the_storm" no_blfs "--mount-path=$T/mnt/many/"
is "agent_lists_nothing_after_the_storm" "$(ctl main --json status)" "[]"
tap_done
