#!/bin/bash
# contrib/sandbox-init.sh does what it says: boot mounts settled before
# the workload runs, the workload under bljail sees its drives, a write to
# the read-only one is refused, and the token, the store and the
# agent's own files are out of its reach.
. "$top_srcdir/tests/lib.sh"
need_root

drive_create workspace
drive_create datasets
mkdir -p "$STORE/drives/datasets/data/public" "$T/tok"
echo hello > "$STORE/drives/datasets/data/public/a.txt"
echo "not.a.token" > "$T/tok/token"

SBIN=$top_builddir/agent BIN=$top_builddir/blctl \
BLJAIL=$top_builddir/sandboxing/bljail LIBEXEC=$top_builddir/blfs \
STORE=$STORE TOKEN=$T/tok/token RUN=$T/run \
MOUNTS="drive=workspace,path=$T/mnt/ws drive=datasets,path=$T/mnt/ds,drive-path=/public,ro" \
	timeout 60 sh "$top_srcdir/contrib/sandbox-init.sh" -- sh -c "
		cat $T/mnt/ds/a.txt
		echo w > $T/mnt/ws/x && echo wrote-rw
		echo y > $T/mnt/ds/y 2>/dev/null || echo refused-ro
		cat $T/tok/token 2>/dev/null || echo no-token
		ls $STORE/drives 2>/dev/null || echo no-store
		touch /usr/lib/.blagent-probe 2>/dev/null && echo WROTE-USR
		ASAN_OPTIONS=detect_leaks=0 $BLCTL --socket $T/run/status.sock ping \
		    >/dev/null && echo status-ping
		rm -f $T/run/status.sock 2>/dev/null && echo REMOVED-STATUS
		mv $T/run $T/run-aside 2>/dev/null && echo MOVED-RUN
		exit 3" > "$T/out" 2>"$T/err"
rc=$?
bl_pids="$bl_pids $(pgrep -f -- "--control-socket $T/run/control.sock" | tr '\n' ' ')"
rm -f /usr/lib/.blagent-probe
out=$(cat "$T/out")
is "workload_exit_status_passes_through" "$rc" 3
like "boot_mounts_listed_mounted" "$out" "workspace .* mounted"
like "boot_ro_mount_listed_ro" "$out" "datasets .*/public +ro +mounted"
like "workload_reads_the_ro_drive" "$out" "^hello$"
like "workload_writes_the_rw_drive" "$out" "^wrote-rw$"
is "rw_write_reached_the_store" "$(cat "$STORE/drives/workspace/data/x")" w
like "workload_write_to_ro_drive_refused" "$out" "^refused-ro$"
like "workload_cannot_read_the_token" "$out" "^no-token$"
like "workload_cannot_list_the_store" "$out" "^no-store$"
check "workload_cannot_write_usr" sh -c "! grep -q WROTE-USR '$T/out'"
like "workload_pings_over_the_status_socket" "$out" "^status-ping$"
check "workload_cannot_replace_the_status_socket" \
	sh -c "! grep -q REMOVED-STATUS '$T/out' && test -S '$T/run/status.sock'"
check "workload_cannot_move_the_run_dir_aside" sh -c "! grep -q MOVED-RUN '$T/out'"
tap_done
