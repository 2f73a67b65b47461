# The agent's confinement of blfs: sandbox_blfs_child leaves no capability
# in any set through exec as uid 0, sandbox_blfs_seccomp lets a threaded
# file server run but kills anything else with SIGSYS, and a blfs the
# real agent starts for a mount runs exactly so.
. "$top_srcdir/tests/lib.sh"
need_root

BC=$top_builddir/tests/security/blfs-child
none=0000000000000000

# status_field FIELD: one value (CapBnd, NoNewPrivs, ...) of the
# /proc/PID/status text on stdin.
status_field() {
	awk -v f="$1:" '$1 == f { print $2 }'
}

st=$("$BC" -- cat /proc/self/status)
for f in CapEff CapPrm CapBnd CapAmb CapInh; do
	is "blfs_child_exec_keeps_no_capability_$f" \
	    "$(echo "$st" | status_field $f)" $none
done
is "blfs_child_no_new_privs" "$(echo "$st" | status_field NoNewPrivs)" 1
is "blfs_child_runs_as_uid_0" "$("$BC" -- id -u)" 0
is "blfs_child_has_no_groups_but_root" "$("$BC" -- id -G)" 0

# The same when the agent hardened itself first, as blagent does.
st=$("$BC" --harden -- cat /proc/self/status)
is "hardened_agent_child_keeps_no_effective" \
    "$(echo "$st" | status_field CapEff)" $none
is "hardened_agent_child_keeps_no_bounding" \
    "$(echo "$st" | status_field CapBnd)" $none

# The agent itself keeps SYS_ADMIN (21), SETPCAP (8), SETGID (6) and
# DAC_OVERRIDE (1), in the bounding set too: a root exec of anything gets
# no more. CHOWN (0), FOWNER (3), FSETID (4) are nobody's any longer.
agent=$(printf '%016x' $(( (1<<21)|(1<<8)|(1<<6)|(1<<1) )))
st=$("$BC" --harden-only -- cat /proc/self/status)
is "hardened_agent_bounding_set" "$(echo "$st" | status_field CapBnd)" $agent
is "hardened_agent_exec_effective" "$(echo "$st" | status_field CapEff)" $agent
is "hardened_agent_bounding_lacks_chown_fowner_fsetid" \
    "$(( 0x$(echo "$st" | status_field CapBnd) & 0x19 ))" 0
is "hardened_agent_no_ambient" "$(echo "$st" | status_field CapAmb)" $none
is "hardened_agent_not_dumpable" \
    "$("$BC" --harden-only --call dumpable | head -1)" "dumpable 0"

# NOROOT, NO_SETUID_FIXUP, their locks, KEEP_CAPS and AMBIENT_RAISE locks.
is "blfs_child_securebits_locked" \
    "$("$BC" --call securebits | head -1)" "securebits 0xaf"
is "blfs_child_not_dumpable" "$("$BC" --call dumpable | head -1)" "dumpable 0"

# Every seccomp check twice: the filter built in place (as blfs run by
# hand does), then compiled beforehand and handed over by fd with this
# process's pid written in (as the agent hands it to every blfs).
for SC in --seccomp "--seccomp --compiled"; do
	case $SC in *--compiled) sfx=_compiled ;; *) sfx= ;; esac
	# Under the seccomp filter: what blfs does works...
	is "blfs_seccomp_allows_threaded_file_io$sfx" \
	    "$("$BC" $SC --call threads)" "threads ok"
	is "blfs_seccomp_not_dumpable$sfx" \
	    "$("$BC" $SC --call dumpable | head -1)" "dumpable 0"
	is "blfs_seccomp_clone3_is_enosys$sfx" \
	    "$("$BC" $SC --call clone3)" "clone3 ENOSYS"

	# ... and anything else kills the whole process with SIGSYS (31).
	"$BC" $SC -- /bin/true 2>/dev/null
	is "blfs_seccomp_then_execve_dies_sigsys$sfx" $? 159
	killed="execve mount umount2 fsopen open_tree move_mount socket
	unshare-mnt unshare-user open_by_handle_at name_to_handle_at bpf keyctl
	process_vm_readv kcmp"
	# LeakSanitizer stops the world from a forked tracer with ptrace and
	# makes itself dumpable for it: allowed only in sanitizer builds.
	if [ "$("$BC" --sanitizers)" = no ]; then
		killed="$killed ptrace fork set-dumpable"
	fi
	for c in $killed; do
		out=$("$BC" $SC --call $c 2>/dev/null)
		rc=$?
		# umount2 answers EPERM instead: libfuse's unmount path calls it.
		if [ $c = umount2 ]; then
			is "blfs_seccomp_umount2_fails_eperm$sfx" "$out" \
			    "umount2 EPERM"
		else
			is "blfs_seccomp_kills_$c$sfx" "$rc $out" "159 "
		fi
	done

	# Owners live in an extended attribute, special files are regular ones:
	# blfs never chowns, mknods or symlinks, so a compromised one cannot
	# either. Without the filter each call is reached (and fails: the path
	# leads nowhere); the old path forms exist only on some architectures.
	for c in chown lchown fchown fchownat mknod mknodat symlink symlinkat; do
		plain=$("$BC" --call $c 2>/dev/null)
		case $plain in
		"$c ENOSYS")
			diag "no $c system call on $(uname -m)"
			continue ;;
		esac
		like "blfs_child_without_seccomp_reaches_$c$sfx" "$plain" \
		    "^$c (ENOENT|EBADF)\$"
		out=$("$BC" $SC --call $c 2>/dev/null)
		is "blfs_seccomp_kills_$c$sfx" "$? $out" "159 "
	done

	# A read-only mount's blfs changes nothing in the store, so its filter
	# lacks every call that would, Landlock's blind spots (modes, times,
	# extended attributes) first; a read-write mount's keeps them.
	for c in fchmodat utimensat setxattr fsetxattr removexattr unlinkat \
	    renameat2 mkdirat linkat truncate fallocate; do
		like "blfs_rw_seccomp_reaches_$c$sfx" \
		    "$("$BC" $SC --call $c 2>/dev/null)" "^$c (ENOENT|EBADF)\$"
		out=$("$BC" $SC --read-only --call $c 2>/dev/null)
		is "blfs_ro_seccomp_kills_$c$sfx" "$? $out" "159 "
	done
	# (readonly.py and the escape suite serve read-only mounts under it.)
	is "blfs_ro_seccomp_allows_the_rest$sfx" \
	    "$("$BC" $SC --read-only --call dumpable | head -1)" "dumpable 0"

	# Signals to itself only: the pid in the filter is this process's.
	is "blfs_seccomp_allows_kill_self$sfx" "$("$BC" $SC --call kill-self)" \
	    "kill-self ok"
	if [ "$("$BC" --sanitizers)" = no ]; then
		out=$("$BC" $SC --call kill-init 2>/dev/null)
		is "blfs_seccomp_kills_kill_init$sfx" "$? $out" "159 "
	fi
done

# Without the filter the same probes do run: the kills above are its doing.
is "blfs_child_without_seccomp_can_fork" "$("$BC" --call fork)" "fork ok"

# A blfs the real agent starts for a mount: no capability in any set,
# no_new_privs, under its seccomp filter, and it serves.
drive_create confine
start_agent a
r=$(ctl a --json mount confine "$T/mnt" --wait)
is "agent_mount_answers_mounted" "$(field "$r" state)" mounted
pid=$(blfs_pids "--mount-path=$T/mnt" | head -1)
if [ -n "$pid" ] && st=$(cat "/proc/$pid/status"); then
	for f in CapPrm CapEff CapBnd CapAmb CapInh; do
		is "agent_started_blfs_has_no_capability_$f" \
		    "$(echo "$st" | status_field $f)" $none
	done
	is "agent_started_blfs_no_new_privs" \
	    "$(echo "$st" | status_field NoNewPrivs)" 1
	is "agent_started_blfs_under_seccomp_filter" \
	    "$(echo "$st" | status_field Seccomp)" 2
	# The filter the agent compiled once, not one built by this blfs.
	like "agent_started_blfs_takes_the_compiled_filter" \
	    "$(tr '\0' ' ' < "/proc/$pid/cmdline")" " --seccomp-fd=[0-9]+ "
	is "agent_started_blfs_runs_as_uid_0" \
	    "$(echo "$st" | awk '$1 == "Uid:" { print $2 $3 $4 $5 }')" 0000
else
	not_ok "agent_started_blfs_found: no blfs for $T/mnt"
fi
echo served > "$T/mnt/f"
is "agent_started_blfs_serves_without_capabilities" \
    "$(cat "$STORE/drives/confine/data/f")" served
ctl a unmount "$T/mnt" >/dev/null 2>&1

tap_done
