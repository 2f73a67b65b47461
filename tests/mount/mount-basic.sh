#!/bin/bash
# Mounts through the real agent and blfs: read-write and read-only, two
# sandboxes (agents in two mount namespaces) sharing one store, the path
# rules, idempotency and EBUSY, subpaths and symlink escapes.
. "$top_srcdir/tests/lib.sh"
need_root

drive_create data
mkdir -p "$STORE/drives/data/data/sub/deeper"
echo secret > "$T/outside-secret"
ln -s "$T" "$STORE/drives/data/data/escape-abs"
ln -s ../../../../.. "$STORE/drives/data/data/sub/escape-rel"

start_agent_ns a
start_agent_ns b

# --- two sandboxes share a drive
r=$(ctl a --json mount data "$T/mnt/a" --wait)
is "mount_rw_answers_mounted" "$(field "$r" state)" mounted
id_a=$(field "$r" mount_session_id)
r=$(ctl b --json mount data "$T/mnt/b" --wait)
is "second_sandbox_mounts_same_drive" "$(field "$r" state)" mounted
in_ns a sh -c "echo 'from a' > $T/mnt/a/shared.txt"
is "write_in_one_sandbox_reads_in_other" \
	"$(in_ns b cat "$T/mnt/b/shared.txt")" "from a"
is "write_lands_in_the_store" "$(cat "$STORE/drives/data/data/shared.txt")" "from a"
check "mount_not_visible_in_the_other_namespace" \
	sh -c "! nsenter -t $NS_PID_b -m grep -q ' $T/mnt/a ' /proc/self/mounts"
pid=$(blfs_pids "--session=$id_a")
like "blfs_argv_names_drive_session_and_path" \
	"$(tr '\0' ' ' < /proc/$pid/cmdline)" \
	"--drive=data .*--session=$id_a .*--mount-path=$T/mnt/a"
check "blfs_argv_never_names_the_token" \
	sh -c "! tr '\\0' ' ' < /proc/$pid/cmdline | grep -q token"
check "blfs_environment_never_holds_the_token" \
	sh -c "! tr '\\0' '\\n' < /proc/$pid/environ | grep -qi token"

# --- read-only
r=$(ctl b --json mount data "$T/mnt/ro" --read-only --wait)
is "mount_ro_answers_mounted" "$(field "$r" state)" mounted
is "mount_ro_reports_read_only" "$(field "$r" read_only)" true
like "mount_ro_shown_ro_in_mountinfo" \
	"$(in_ns b awk -v p="$T/mnt/ro" '$5 == p { print $6 }' /proc/self/mountinfo)" \
	'^ro,nosuid,nodev'
like "mount_rw_shown_rw_in_mountinfo" \
	"$(in_ns a awk -v p="$T/mnt/a" '$5 == p { print $6 }' /proc/self/mountinfo)" \
	'^rw,nosuid,nodev'
is "mount_ro_reads" "$(in_ns b cat "$T/mnt/ro/shared.txt")" "from a"
err=$(in_ns b sh -c "echo x > $T/mnt/ro/shared.txt" 2>&1)
like "mount_ro_refuses_write_with_erofs" "$err" "Read-only file system"
err=$(in_ns b sh -c "touch $T/mnt/ro/new" 2>&1)
like "mount_ro_refuses_create_with_erofs" "$err" "Read-only file system"
err=$(in_ns b sh -c "rm $T/mnt/ro/shared.txt" 2>&1)
like "mount_ro_refuses_unlink_with_erofs" "$err" "Read-only file system"
is "mount_ro_left_the_file_alone" "$(cat "$STORE/drives/data/data/shared.txt")" "from a"

# --- idempotency and EBUSY
r=$(ctl a --json mount data "$T/mnt/a")
is "same_request_returns_same_session" "$(field "$r" mount_session_id)" "$id_a"
err=$(ctl a mount data "$T/mnt/a" --read-only 2>&1)
like "other_mode_on_taken_path_is_ebusy" "$err" "EBUSY"
err=$(ctl a mount data "$T/mnt/a" --drive-path /sub 2>&1)
like "other_drive_path_on_taken_path_is_ebusy" "$err" "EBUSY"
err=$(ctl a mount data "$T/mnt/a/inner" 2>&1)
like "path_inside_a_mount_is_ebusy" "$err" "EBUSY"
is "refused_request_left_the_mount_alone" \
	"$(field "$(ctl a --json status "$id_a")" state)" mounted
is "refused_request_left_the_data_alone" "$(in_ns a cat "$T/mnt/a/shared.txt")" "from a"

# --- every bad path is refused before anything happens
mkdir -p "$T/real"
ln -s "$T/real" "$T/link"
touch "$T/afile"
for bad in "relative/path" "/" "/proc/x" "/sys/x" "/dev/x" "$T/a/c.sock/x" \
	"$T/link/m" "$T/afile" "$T/with
newline"; do
	err=$(ctl a mount data "$bad" 2>&1)
	like "mount_path_refused: $(printf %q "$bad")" "$err" "EINVAL"
done
err=$(ctl a mount data "$T/a/sub" 2>&1)
like "mount_path_in_the_agent_run_dir_refused" "$err" "EINVAL"
check "refused_symlink_path_created_nothing" test ! -e "$T/real/m"
err=$(ctl a mount Bad_Name "$T/mnt/x" 2>&1)
like "bad_drive_name_is_einval" "$err" "EINVAL"
err=$(ctl a mount nosuchdrive "$T/mnt/x" --wait 2>&1)
like "missing_drive_is_enoent" "$err" "ENOENT"
check "failed_mount_removed_the_directory_it_made" test ! -e "$T/mnt/x"
err=$(ctl a mount data "$T/mnt/x" --drive-path /nope --wait 2>&1)
like "missing_drive_path_is_enoent" "$err" "ENOENT"
check "missing_drive_path_is_never_created" test ! -e "$STORE/drives/data/data/nope"

# --- subpaths stay inside the drive
r=$(ctl a --json mount data "$T/mnt/sub" --drive-path /sub --wait)
is "subpath_mounts" "$(field "$r" state)" mounted
is "subpath_is_normalised" "$(field "$r" drive_path)" /sub
check "subpath_shows_its_subtree" in_ns a test -d "$T/mnt/sub/deeper"
check "subpath_hides_the_rest" in_ns a test ! -e "$T/mnt/sub/shared.txt"
check "dotdot_at_subpath_root_stays_inside" \
	in_ns a test ! -e "$T/mnt/sub/../shared.txt" -o "$(in_ns a realpath "$T/mnt/sub/..")" = "$T/mnt"
r=$(ctl a --json mount data "$T/mnt/dd" --drive-path "/sub/../../.." --wait)
is "drive_path_dotdot_clamps_at_drive_root" "$(field "$r" drive_path)" /
for esc in /escape-abs /sub/escape-rel /escape-abs/outside-secret; do
	err=$(ctl a mount data "$T/mnt/esc" --drive-path "$esc" --wait 2>&1)
	like "drive_path_symlink_refused: $esc" "$err" "ELOOP|EXDEV|ENOTDIR|EACCES|symlink"
done
check "escape_attempts_left_no_mount" sh -c "! grep -q ' $T/mnt/esc ' /proc/self/mounts"
# A symlink inside the drive is only a symlink: blfs never follows it.
is "symlink_in_drive_is_served_as_a_link" \
	"$(in_ns a readlink "$T/mnt/a/escape-abs")" "$T"

# --- deleting a mounted drive
err=$("$BLCTL" drive --store "$STORE" delete data 2>&1)
like "delete_of_mounted_drive_is_ebusy" "$err" "EBUSY|mounted"
check "delete_refused_kept_the_data" test -f "$STORE/drives/data/data/shared.txt"

# --- unmount
r=$(ctl a --json unmount "$T/mnt/a")
is "unmount_by_path_ends_gone" "$(field "$r" state)" gone
check "unmount_detached_the_kernel_mount" \
	sh -c "! nsenter -t $NS_PID_a -m grep -q ' $T/mnt/a ' /proc/self/mounts"
err=$(ctl a status "$id_a" 2>&1)
like "unmounted_session_is_no_longer_listed" "$err" "ENOENT"
for m in "$T/mnt/sub" "$T/mnt/dd"; do ctl a unmount "$m" >/dev/null; done
for m in "$T/mnt/b" "$T/mnt/ro"; do ctl b unmount "$m" >/dev/null; done
sleep 0.3
check "blfs_processes_exit_after_unmount" no_blfs "--mount-path=$T/mnt/"
check "delete_after_unmount_succeeds" "$BLCTL" drive --store "$STORE" delete data
tap_done
