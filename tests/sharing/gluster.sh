#!/bin/bash
# Two sandboxes on two machines sharing one drive: a store on a replica-3
# GlusterFS volume (contrib/gluster-volume.sh: glusterd, three bricks and
# two FUSE clients on this host, loopback only), each agent in its own
# mount namespace with its --store on its own client. What one writes the
# other sees within 1.1 s; a drive mounted on one machine cannot be
# deleted from the other; writes from both sides lose nothing, also under
# fcntl locks on one file and across the loss of a brick, which heals.
. "$top_srcdir/tests/lib.sh"
need_root
for b in glusterd gluster glusterfs; do
	if ! command -v "$b" > /dev/null; then
		echo "1..0 # SKIP $b missing: glusterfs-server," \
			"glusterfs-client (contrib/install-deps.sh)"
		exit 77
	fi
done
PY=${PYTHON3:-python3}
HELP=$top_srcdir/tests/sharing/sharehelp.py
# Through bash: a tree unpacked from the release tarball (distcheck) may
# not keep the script's mode.
gv() { bash "$top_srcdir/contrib/gluster-volume.sh" "$@"; }
GL=$T/gluster
t_start=$(date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
# Searchable by others, as the suite's scratch trees are (some tests run
# steps as uid 1000).
chmod 755 "$T"

# Agents and their blfs go first (they hold files on the clients), then
# the volume, whatever state it is in, then the rest of lib.sh's cleanup.
gl_cleanup() {
	set +e
	for n in a b; do
		[ -S "$T/$n/c.sock" ] &&
			ctl "$n" unmount --force "$T/mnt/$n" > /dev/null 2>&1
	done
	for p in $bl_pids; do kill -TERM "$p" 2> /dev/null; done
	for p in $(blfs_pids "--mount-path=$T/"); do kill -9 "$p"; done
	for p in $bl_pids; do wait "$p" 2> /dev/null; done
	bl_pids=""
	if [ -d "$GL" ]; then
		GLUSTER_WAIT=0 gv stop "$GL" ||
			echo "# gluster-volume.sh stop failed" >&2
	fi
	bl_cleanup
}
trap gl_cleanup EXIT
# A timeout's SIGTERM must run the cleanup too: bash runs the EXIT trap
# on exit, not when a signal kills it.
trap 'exit 143' TERM INT HUP

# results CMD...: TAP from the helper's PASS/FAIL lines.
results() {
	local r msg
	while IFS=$'\t' read -r r msg; do
		case "$r" in
		PASS) ok "$msg" ;;
		FAIL) not_ok "$msg" ;;
		*) diag "$r $msg" ;;
		esac
	done < <("$@")
}

# --- the volume: another run of this test may hold the host's glusterd
t0=$(date +%s%N)
if ! GLUSTER_WAIT=600 gv start "$GL" 2> "$T/gv-start.log"; then
	not_ok "gluster_volume_starts: $(tail -1 "$T/gv-start.log")"
	tap_done
	exit 1
fi
ok "gluster_volume_starts: glusterd, 3 bricks, 2 clients" \
	"($(secs "$(ms_since "$t0")") s)"
gl() { gv cli "$GL" "$@"; }
# brick_online N: brick N runs, as glusterd sees it.
brick_online() {
	gv status "$GL" | awk -v b="$GL/bricks/$1" '$1 == b && $2 == 1 { f = 1 }
		END { exit !f }'
}
mnt_of() { if [ "$1" = a ]; then echo "$MA"; else echo "$MB"; fi; }
VOL=$(cat "$GL/volume")
SA=$GL/c1/store
SB=$GL/c2/store
mkdir -p "$SA"

# --- one drive, one agent per client
"$BLCTL" drive --store "$SA" create shared > /dev/null
check "drive_made_through_c1_is_seen_through_c2" \
	"$BLCTL" drive --store "$SB" get shared
start_agent_ns a --store "$SA"
start_agent_ns b --store "$SB"
r=$(ctl a --json mount shared "$T/mnt/a" --wait)
is "a_mounts_read_write" "$(field "$r" state)" mounted
r=$(ctl b --json mount shared "$T/mnt/b" --wait)
is "b_mounts_read_write" "$(field "$r" state)" mounted
# Each sandbox's mount, reached from here through a process inside it.
MA=/proc/$NS_PID_a/root$T/mnt/a
MB=/proc/$NS_PID_b/root$T/mnt/b

# --- every change through A, seen by B, each timed
results "$PY" "$HELP" coherence "$MA" "$MB"

# --- delete from the other machine while A has it mounted
ctl b unmount "$T/mnt/b" > /dev/null
err=$("$BLCTL" drive --store "$SB" delete shared 2>&1)
# blctl prints the cause store_drive_delete gives with EBUSY.
like "delete_through_c2_while_a_mounts_is_ebusy" "$err" \
	"EBUSY|is mounted \\(session"
check "refused_delete_kept_the_drive" test -f "$SB/drives/shared/drive.json"
r=$(ctl b --json mount shared "$T/mnt/b" --wait)
is "b_mounts_again" "$(field "$r" state)" mounted

# --- RWX: both sides write files of their own at once
mkdir "$MA/rwx"
"$PY" "$HELP" files "$MA/rwx" a 200 2> "$T/rwx-a.err" &
wa=$!
"$PY" "$HELP" files "$MB/rwx" b 200 2> "$T/rwx-b.err" &
wb=$!
wait $wa
sa=$?
wait $wb
sb=$?
is "rwx_writers_both_succeed" "$sa $sb" "0 0"
[ "$sa$sb" = 00 ] || diag "$(cat "$T/rwx-a.err" "$T/rwx-b.err")"
for side in a b; do
	m=$(mnt_of $side)
	got="$("$PY" "$HELP" check-files "$m/rwx" a 200)"
	got="$got $("$PY" "$HELP" check-files "$m/rwx" b 200)"
	is "rwx_${side}_reads_all_400_files" "$got" "0 bad 0 bad"
done
is "rwx_the_store_holds_all_400" \
	"$(find "$SA/drives/shared/data/rwx" -type f | wc -l)" 400

# --- appends to one file from both sides under fcntl locks
: > "$MA/log"
n_app=300
t0=$(date +%s%N)
"$PY" "$HELP" append "$MA/log" a $n_app 2> "$T/app-a.err" &
wa=$!
"$PY" "$HELP" append "$MB/log" b $n_app 2> "$T/app-b.err" &
wb=$!
wait $wa
sa=$?
wait $wb
sb=$?
is "locked_appenders_both_succeed" "$sa $sb" "0 0"
[ "$sa$sb" = 00 ] || diag "$(tail -3 "$T/app-a.err" "$T/app-b.err")"
diag "$((2 * n_app)) locked appends took $(secs "$(ms_since "$t0")") s"
sleep 1.1
for side in a b; do
	m=$(mnt_of $side)
	is "locked_appends_lose_nothing_read_through_$side" \
		"$("$PY" "$HELP" check-append "$m/log" $n_app a b)" \
		"0 missing, 0 doubled, 0 garbled, $((2 * n_app)) lines"
done

# --- one brick killed while both sides write and fsync
mkdir "$MA/acked"
rm -f "$T/stop"
"$PY" "$HELP" acked "$MA/acked" a "$T/ack-a" "$T/stop" \
	> "$T/acked-a.out" 2> "$T/acked-a.err" &
wa=$!
"$PY" "$HELP" acked "$MB/acked" b "$T/ack-b" "$T/stop" \
	> "$T/acked-b.out" 2> "$T/acked-b.err" &
wb=$!
sleep 2
brick=$(gv status "$GL" | awk -v b="$GL/bricks/1" '$1 == b { print $3 }')
if [ -n "$brick" ]; then
	kill -9 "$brick"
	ok "brick_1_killed: pid $brick"
else
	not_ok "brick_1_killed: no pid for $GL/bricks/1"
fi
acked_before=$(cat "$T/ack-a" "$T/ack-b" | wc -l)
sleep 3
acked_after=$(cat "$T/ack-a" "$T/ack-b" | wc -l)
diag "files acknowledged: $acked_before before the kill, $acked_after 3 s after"
touch "$T/stop"
wait $wa
wait $wb
check "writes_and_fsyncs_go_on_without_the_brick" \
	test "$acked_after" -gt "$acked_before"
is "no_write_or_fsync_failed_while_a_brick_was_down" \
	"$(cut -d' ' -f2 "$T/acked-a.out") $(cut -d' ' -f2 "$T/acked-b.out")" "0 0"
cat "$T/acked-a.err" "$T/acked-b.err" | grep -q . &&
	diag "$(head -3 "$T/acked-a.err" "$T/acked-b.err")"
for side in a b; do
	m=$(mnt_of $side)
	got="$("$PY" "$HELP" check-acked "$m/acked" a "$T/ack-a")"
	got="$got; $("$PY" "$HELP" check-acked "$m/acked" b "$T/ack-b")"
	like "nothing_acknowledged_is_lost_read_through_$side" "$got" \
		"^[0-9]+ acknowledged, 0 lost; [0-9]+ acknowledged, 0 lost$"
done

# The brick back, and healed: heal info counts no entry on any brick.
t0=$(date +%s%N)
check "volume_start_force_restarts_the_brick" gl volume start "$VOL" force
for _ in $(seq 50); do
	brick_online 1 && break
	sleep 0.2
done
check "brick_1_online_again" brick_online 1
gl volume heal "$VOL" > /dev/null 2>&1
healed=no
while [ "$(ms_since "$t0")" -lt 120000 ]; do
	info=$(gv heal-info "$GL" 2>&1)
	zeros=$(printf '%s\n' "$info" | grep -c '^Number of entries: 0$')
	if [ "$zeros" -eq 3 ]; then
		healed=yes
		break
	fi
	sleep 0.5
done
is "heal_completes_within_120_s ($(secs "$(ms_since "$t0")") s)" "$healed" yes
[ $healed = yes ] ||
	diag "$(printf '%s\n' "$info" | grep -E '^(Brick|Number|Status)')"
# The restarted brick holds every acknowledged file itself.
bad=0
for side in a b; do
	r=$("$PY" "$HELP" check-acked "$GL/bricks/1/store/drives/shared/data/acked" \
		"$side" "$T/ack-$side")
	case "$r" in *" 0 lost") ;; *) bad=1; diag "brick 1, $side: $r" ;; esac
done
is "healed_brick_holds_every_acknowledged_file" "$bad" 0

# --- done: unmount, delete, stop; nothing may be left running
ctl a unmount "$T/mnt/a" > /dev/null
ctl b unmount "$T/mnt/b" > /dev/null
check "blfs_exits_after_unmount" no_blfs "--mount-path=$T/mnt/"
check "delete_after_unmount_succeeds" "$BLCTL" drive --store "$SB" delete shared
for p in $bl_pids; do kill -TERM "$p"; done
for p in $bl_pids; do wait "$p" 2> /dev/null; done
bl_pids=""
t0=$(date +%s%N)
check "gluster_volume_stops" gv stop "$GL"
diag "gluster-volume.sh stop took $(secs "$(ms_since "$t0")") s"
left=$(for f in /proc/[0-9]*/cmdline; do
	p=${f#/proc/}
	{ tr '\0' ' ' < "$f"; } 2> /dev/null | grep -q -- "$GL" &&
		echo "${p%/cmdline}"
done)
is "nothing_of_the_volume_left_running" "$left" ""
check "no_client_left_mounted" sh -c "! grep -q ' $GL/' /proc/self/mounts"
diag "whole test took $(secs "$(ms_since "$t_start")") s"
tap_done
