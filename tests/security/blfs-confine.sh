# The agent's confinement of blfs: sandbox_blfs_child keeps exactly four
# capabilities through exec as uid 0, and sandbox_blfs_seccomp lets a
# threaded file server run but kills anything else with SIGSYS.
. "$top_srcdir/tests/security/lib.sh"
need_root

BC=$top_builddir/tests/security/blfs-child
# CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4.
four=000000000000001b

st=$("$BC" -- cat /proc/self/status)
for f in CapEff CapPrm CapBnd CapAmb CapInh; do
	check "blfs_child_exec_keeps_exactly_four_caps_$f" $four \
	    "$(echo "$st" | status_field $f)"
done
check "blfs_child_no_new_privs" 1 "$(echo "$st" | status_field NoNewPrivs)"
check "blfs_child_runs_as_uid_0" 0 "$("$BC" -- id -u)"
check "blfs_child_has_no_groups_but_root" 0 "$("$BC" -- id -G)"

# The same when the agent hardened itself first, as blagent does.
st=$("$BC" --harden -- cat /proc/self/status)
check "hardened_agent_child_keeps_exactly_four_effective" $four \
    "$(echo "$st" | status_field CapEff)"
check "hardened_agent_child_keeps_exactly_four_bounding" $four \
    "$(echo "$st" | status_field CapBnd)"

# The agent itself keeps SYS_ADMIN, SETPCAP, SETGID and blfs's four, in
# the bounding set too: a root exec of anything gets no more.
agent=$(printf '%016x' $(( (1<<21)|(1<<8)|(1<<6)|0x1b )))
st=$("$BC" --harden-only -- cat /proc/self/status)
check "hardened_agent_bounding_set" $agent "$(echo "$st" | status_field CapBnd)"
check "hardened_agent_exec_effective" $agent "$(echo "$st" | status_field CapEff)"
check "hardened_agent_no_ambient" 0000000000000000 \
    "$(echo "$st" | status_field CapAmb)"
check "hardened_agent_not_dumpable" "dumpable 0" \
    "$("$BC" --harden-only --call dumpable | head -1)"

# NOROOT, NO_SETUID_FIXUP, their locks, KEEP_CAPS and AMBIENT_RAISE locks.
check "blfs_child_securebits_locked" "securebits 0xaf" \
    "$("$BC" --call securebits | head -1)"
check "blfs_child_not_dumpable" "dumpable 0" \
    "$("$BC" --call dumpable | head -1)"

# Under the seccomp filter: what blfs does works...
check "blfs_seccomp_allows_threaded_file_io" "threads ok" \
    "$("$BC" --seccomp --call threads)"
check "blfs_seccomp_not_dumpable" "dumpable 0" \
    "$("$BC" --seccomp --call dumpable | head -1)"
check "blfs_seccomp_clone3_is_enosys" "clone3 ENOSYS" \
    "$("$BC" --seccomp --call clone3)"

# ... and anything else kills the whole process with SIGSYS (31).
"$BC" --seccomp -- /bin/true 2>/dev/null
check "blfs_seccomp_then_execve_dies_sigsys" 159 $?
killed="execve mount umount2 fsopen open_tree move_mount socket
unshare-mnt unshare-user open_by_handle_at name_to_handle_at bpf keyctl
process_vm_readv kcmp"
# LeakSanitizer stops the world from a forked tracer with ptrace and makes
# itself dumpable for it: allowed only in sanitizer builds.
if [ "$("$BC" --sanitizers)" = no ]; then
	killed="$killed ptrace fork set-dumpable"
fi
for c in $killed; do
	out=$("$BC" --seccomp --call $c 2>/dev/null)
	rc=$?
	# umount2 answers EPERM instead: libfuse's unmount path calls it.
	if [ $c = umount2 ]; then
		check "blfs_seccomp_umount2_fails_eperm" "umount2 EPERM" "$out"
	else
		check "blfs_seccomp_kills_$c" "159 " "$rc $out"
	fi
done

# Without the filter the same probes do run: the kills above are its doing.
check "blfs_child_without_seccomp_can_fork" "fork ok" "$("$BC" --call fork)"

tap_done
