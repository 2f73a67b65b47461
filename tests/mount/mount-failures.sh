#!/bin/bash
# How mounts fail: a blfs that dies, exits early or never answers, a
# missing blfs, store or drive, a full disk, an agent killed mid-I/O and
# restarted. Each ends with a clear error and nothing left mounted.
. "$top_srcdir/tests/lib.sh"
need_root

drive_create data
printf '#!/bin/sh\nexit 0\n' > "$T/blfs-exits"
printf '#!/bin/sh\nexec sleep 3001\n' > "$T/blfs-hangs"
chmod +x "$T/blfs-exits" "$T/blfs-hangs"
not_mounted() { ! grep -q " $1 " /proc/self/mounts; }
no_sleeper() { ! pgrep -f '^sleep 3001$' >/dev/null; }

# --- a server that exits 0 before serving is a failed mount, not a success
start_agent early --blfs "$T/blfs-exits"
err=$(ctl early mount data "$T/mnt/early" --wait 2>&1)
like "blfs_exiting_early_fails_the_mount" "$err" "EIO.*|.*exited with status 0.*"
like "early_exit_reason_is_given" "$err" "exited with status 0 before serving"
check "early_exit_left_nothing_mounted" not_mounted "$T/mnt/early"
check "early_exit_removed_the_mount_point" test ! -e "$T/mnt/early"
check "agent_still_answers_after_a_failed_mount" ctl early ping

# --- a server that never answers: ETIMEDOUT, and the attempt is cleaned up
start_agent hang --blfs "$T/blfs-hangs"
t0=$(date +%s%N)
err=$(ctl hang mount data "$T/mnt/hang" --wait --timeout 1s 2>&1)
t1=$(date +%s%N)
like "silent_blfs_times_out" "$err" "ETIMEDOUT"
check "timeout_came_after_about_the_timeout" \
	test $(( (t1 - t0) / 1000000 )) -lt 5000
sleep 0.2
check "timed_out_attempt_left_nothing_mounted" not_mounted "$T/mnt/hang"
check "timed_out_attempt_killed_its_blfs" no_sleeper

# --- Unmount cancels a mount still mounting
r=$(ctl hang --json mount data "$T/mnt/cancel")
id=$(field "$r" mount_session_id)
is "mount_without_wait_answers_pending" "$(field "$r" state)" pending
sleep 0.3
is "stuck_mount_is_mounting" "$(field "$(ctl hang --json status "$id")" state)" mounting
r=$(ctl hang --json unmount "$id")
is "unmount_cancels_a_mounting_mount" "$(field "$r" state)" gone
sleep 0.2
check "cancelled_mount_killed_its_blfs" no_sleeper
check "cancelled_mount_left_nothing_mounted" not_mounted "$T/mnt/cancel"
for i in 1 2 3 4 5; do
	ctl hang mount data "$T/mnt/c$i" >/dev/null
done
sleep 0.2
for i in 1 2 3 4 5; do
	ctl hang unmount "$T/mnt/c$i" --no-wait >/dev/null
done
sleep 0.5
is "cancelled_mounts_leave_no_zombie" \
	"$(ps --ppid "$AGENT_PID" -o stat= | grep -c Z)" 0

# --- missing pieces are clear errors; the agent keeps serving
start_agent nobin --blfs "$T/no/such/blfs"
err=$(ctl nobin mount data "$T/mnt/nobin" --wait 2>&1)
like "missing_blfs_binary_is_a_clear_error" "$err" "blfs binary cannot be run"
start_agent nostore --store "$T/no/such/store"
err=$(ctl nostore mount data "$T/mnt/nostore" --wait 2>&1)
like "missing_store_is_a_clear_error" "$err" "store"
check "agent_with_missing_store_still_answers" ctl nostore ping

# --- blfs killed: failed at once, detached, never ENOTCONN
start_agent main
r=$(ctl main --json mount data "$T/mnt/k" --wait)
id=$(field "$r" mount_session_id)
is "mount_for_kill_test" "$(field "$r" state)" mounted
pkill -9 -f -- "--session=$id"
sleep 0.3
r=$(ctl main --json status "$id")
is "killed_blfs_turns_the_mount_failed" "$(field "$r" state)" failed
like "killed_blfs_reason_is_given" "$(field "$r" error.message)" "killed by signal"
check "killed_blfs_mount_point_was_detached" not_mounted "$T/mnt/k"
err=$(stat "$T/mnt/k" 2>&1 || true)
check "no_transport_endpoint_not_connected" \
	sh -c "! printf '%s' '$err' | grep -q 'not connected'"
r=$(ctl main --json unmount "$id")
is "unmount_clears_a_failed_mount" "$(field "$r" state)" gone

# --- the agent killed mid-I/O: blfs keeps serving, a new agent re-adopts
r=$(ctl main --json mount data "$T/mnt/r" --wait)
id=$(field "$r" mount_session_id)
dd if=/dev/zero of="$T/mnt/r/big" bs=1M count=64 conv=fsync 2>/dev/null &
dd_pid=$!
sleep 0.05
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
check "io_survives_the_agent_dying" wait "$dd_pid"
is "data_written_while_agent_was_dead" \
	"$(stat -c %s "$STORE/drives/data/data/big")" $((64 * 1024 * 1024))
check "blfs_still_serves_without_agent" sh -c "echo still > $T/mnt/r/after"
start_agent main
r=$(ctl main --json status "$id")
is "restarted_agent_readopts_the_mount" "$(field "$r" state)" mounted
is "readopted_mount_keeps_its_path" "$(field "$r" mount_path)" "$T/mnt/r"
pkill -9 -f -- "--session=$id"
sleep 0.3
is "readopted_mount_is_still_watched" \
	"$(field "$(ctl main --json status "$id")" state)" failed
check "readopted_dead_blfs_was_detached" not_mounted "$T/mnt/r"

# --- failed mounts stay listed, but not without bound
start_agent many
for i in $(seq 1 70); do
	ctl many mount nosuchdrive "$T/mnt/f$i" --wait >/dev/null 2>&1
done
is "failed_mounts_are_kept_up_to_a_bound" \
	"$(ctl many --json status | jq '[.[] | select(.state == "failed")] | length')" 64
is "the_oldest_failures_are_forgotten_first" \
	"$(ctl many --json status | jq -r '.[0].mount_path')" "$T/mnt/f7"

# --- a full disk is the client's ENOSPC, not the agent's problem
mkdir -p "$T/small"
mount -t tmpfs -o size=4m tmpfs "$T/small"
"$BLCTL" drive --store "$T/small/store" create tiny >/dev/null
start_agent tiny --store "$T/small/store"
r=$(ctl tiny --json mount tiny "$T/mnt/tiny" --wait)
is "mount_on_small_store" "$(field "$r" state)" mounted
err=$(dd if=/dev/zero of="$T/mnt/tiny/fill" bs=1M count=16 2>&1 || true)
like "full_disk_is_enospc_for_the_writer" "$err" "No space left on device"
check "agent_serves_after_disk_full" ctl tiny ping
ctl tiny unmount "$T/mnt/tiny" >/dev/null
umount "$T/small"

# --- a store that keeps no user extended attributes (ramfs): blfs keeps
# owners in user.blfs.attr, so it refuses to serve and the mount fails
# saying why
mkdir -p "$T/noxattr"
mount -t ramfs ramfs "$T/noxattr"
"$BLCTL" drive --store "$T/noxattr/store" create plain >/dev/null
start_agent noxattr --store "$T/noxattr/store"
err=$(ctl noxattr mount plain "$T/mnt/noxattr" --wait 2>&1)
like "store_without_user_xattrs_fails_the_mount" "$err" "extended attributes"
r=$(ctl noxattr --json status)
is "store_without_user_xattrs_mount_is_failed" "$(field "$r" state)" failed
like "store_without_user_xattrs_cause_is_kept" "$(field "$r" error.message)" \
	"user extended attributes"
check "store_without_user_xattrs_left_nothing_mounted" not_mounted "$T/mnt/noxattr"
check "agent_serves_after_a_store_without_xattrs" ctl noxattr ping
umount "$T/noxattr"
tap_done
