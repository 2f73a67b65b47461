#!/bin/bash
# Drive access modes end to end: two agents in two mount namespaces (two
# sandboxes) sharing one store. ROX takes read-only mounts only; RWO one
# mount at a time across both agents, free again once that mount is gone
# or its blfs died; 50 rounds of both agents racing for an RWO drive,
# exactly one winning each; access_mode edited by hand into nonsense.
. "$top_srcdir/tests/lib.sh"
need_root

# try_mount NAME DRIVE PATH [args]: the settled state, or the error.
try_mount() {
	local name=$1 out
	shift
	if out=$(ctl "$name" --json mount "$@" --wait 2>&1); then
		field "$out" state
	else
		printf '%s\n' "$out"
	fi
}
# mounted_in NAME PATH: PATH is a mount point in agent NAME's namespace.
mounted_in() {
	local pid
	eval "pid=\$NS_PID_$1"
	grep -q " $2 " "/proc/$pid/mounts"
}
session_of() { field "$(ctl "$1" --json status "$2")" mount_session_id; }

drive_create plain
drive_create solo --access-mode rwo
drive_create readers --access-mode rox
echo hello > "$STORE/drives/readers/data/f"
echo solo > "$STORE/drives/solo/data/f"
# Mount points outside the agents' run directories ($T/NAME).
MA=$T/mnt-a
MB=$T/mnt-b
start_agent_ns a
start_agent_ns b

# --- ROX: read-only mounts only, as many as asked
out=$(try_mount a readers "$MA/rw")
like "rox_refuses_a_read_write_mount_with_eacces" "$out" "\(EACCES\)$"
like "rox_refusal_says_the_drive_is_rox" "$out" \
	"drive readers is ROX \(read-only mounts only\): mount it with read_only"
if mounted_in a "$MA/rw"; then not_ok "rox_refusal_mounts_nothing"
else ok "rox_refusal_mounts_nothing"; fi
is "rox_mounts_read_only" "$(try_mount a readers "$MA/ro" --read-only)" \
	mounted
is "rox_mounts_read_only_in_another_sandbox_too" \
	"$(try_mount b readers "$MB/ro" --read-only)" mounted
is "rox_mount_reads" "$(in_ns b cat "$MB/ro/f")" hello
like "rox_mount_refuses_writes" \
	"$(in_ns a sh -c "echo x > $MA/ro/f" 2>&1)" "Read-only file system"
ctl a unmount "$MA/ro" >/dev/null
ctl b unmount "$MB/ro" >/dev/null
ctl a unmount "$MA/rw" >/dev/null 2>&1

# --- RWO: one mount at a time, across agents
is "rwo_first_mount" "$(try_mount a solo "$MA/solo")" mounted
first=$(session_of a "$MA/solo")
out=$(try_mount b solo "$MB/solo")
like "rwo_second_mount_elsewhere_is_ebusy" "$out" "\(EBUSY\)$"
like "rwo_refusal_names_the_session_holding_it" "$out" \
	"drive solo is RWO \(one mount at a time\) and is mounted already \(session $first\)"
if mounted_in b "$MB/solo"; then not_ok "rwo_refusal_mounts_nothing"
else ok "rwo_refusal_mounts_nothing"; fi
like "rwo_second_mount_on_the_same_agent_is_ebusy" \
	"$(try_mount a solo "$MA/solo2" --read-only)" "session $first\) \(EBUSY\)$"
is "rwo_same_request_again_is_the_same_session" \
	"$(field "$(ctl a --json mount solo "$MA/solo" --wait)" mount_session_id)" \
	"$first"
is "rwo_mount_writes" "$(in_ns a sh -c "echo w > $MA/solo/w && cat $MA/solo/w")" w
ctl a unmount "$MA/solo" >/dev/null
ctl b unmount "$MB/solo" >/dev/null 2>&1
ctl a unmount "$MA/solo2" >/dev/null 2>&1
is "rwo_free_again_once_unmounted" "$(try_mount b solo "$MB/solo")" mounted

# Its blfs dies: the lock dies with it, the drive is free at once.
second=$(session_of b "$MB/solo")
for p in $(blfs_pids "--session=$second"); do kill -9 "$p"; done
i=0
while [ -n "$(blfs_pids "--session=$second")" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "rwo_free_again_once_its_blfs_died" "$(try_mount a solo "$MA/solo")" \
	mounted
is "rwo_killed_mount_reported_failed" \
	"$(field "$(ctl b --json status "$MB/solo")" state)" failed
ctl a unmount "$MA/solo" >/dev/null
ctl b unmount "$MB/solo" >/dev/null 2>&1

# --- 50 rounds of two agents racing for the RWO drive
rounds=50 bad=0 awon=0
for r in $(seq "$rounds"); do
	ctl a --json mount solo "$MA/race" --wait >"$T/ra" 2>&1 &
	pa=$!
	ctl b --json mount solo "$MB/race" --wait >"$T/rb" 2>&1 &
	pb=$!
	wait "$pa"
	ra=$?
	wait "$pb"
	rb=$?
	won=0
	[ $ra = 0 ] && won=$((won + 1)) && awon=$((awon + 1))
	[ $rb = 0 ] && won=$((won + 1))
	live=0
	mounted_in a "$MA/race" && live=$((live + 1))
	mounted_in b "$MB/race" && live=$((live + 1))
	if [ $won != 1 ] || [ $live != 1 ] ||
	    ! grep -q "(EBUSY)$" "$T/r$([ $ra = 0 ] && echo b || echo a)"; then
		bad=$((bad + 1))
		diag "round $r: a=$ra b=$rb, $live mounted: $(cat "$T/ra" "$T/rb")"
	fi
	ctl a unmount "$MA/race" >/dev/null 2>&1
	ctl b unmount "$MB/race" >/dev/null 2>&1
done
diag "agent a won $awon of $rounds rounds, agent b the rest"
is "rwo_race_exactly_one_of_two_agents_mounts_each_round" "$bad" 0

# --- RWX: as before, any number of mounts
is "rwx_mount_a" "$(try_mount a plain "$MA/plain")" mounted
is "rwx_mount_b" "$(try_mount b plain "$MB/plain")" mounted
ctl a unmount "$MA/plain" >/dev/null
ctl b unmount "$MB/plain" >/dev/null

# --- access_mode edited by hand: refused, naming the field
cp "$STORE/drives/solo/drive.json" "$T/solo.json"
jq '.access_mode = 2' "$T/solo.json" > "$STORE/drives/solo/drive.json"
out=$(try_mount a solo "$MA/bad")
like "hand_edited_access_mode_of_wrong_type_refused" "$out" \
	'field "access_mode": not a string \(EIO\)$'
jq '.access_mode = "rwo"' "$T/solo.json" > "$STORE/drives/solo/drive.json"
out=$(try_mount a solo "$MA/bad")
like "hand_edited_unknown_access_mode_refused" "$out" \
	'field "access_mode": "rwo" is not one of "RWX", "RWO", "ROX" \(EIO\)$'
if mounted_in a "$MA/bad"; then not_ok "hand_edited_mounts_nothing"
else ok "hand_edited_mounts_nothing"; fi
ctl a unmount "$MA/bad" >/dev/null 2>&1
cp "$T/solo.json" "$STORE/drives/solo/drive.json"
is "repaired_drive_mounts_again" "$(try_mount a solo "$MA/bad")" mounted
ctl a unmount "$MA/bad" >/dev/null

tap_done
