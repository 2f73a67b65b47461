# Shared shell helpers for the integration tests: TAP output, temporary
# directories, agents on temporary sockets. Source it; needs $top_builddir.

: "${top_builddir:?top_builddir must be set (make check sets it)}"
: "${top_srcdir:?top_srcdir must be set (make check sets it)}"
BLAGENT=$top_builddir/agent/blagent
BLCTL=$top_builddir/blctl/blctl
BLFS=$top_builddir/blfs/blfs
BLJAIL=$top_builddir/sandboxing/bljail

tap_n=0
tap_failed=0
ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}
# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >/dev/null; then ok "$name"; else not_ok "$name"; fi
}
# is NAME GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$3', got '$2'"; fi
}
# like NAME GOT PATTERN (grep -E)
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"
	else not_ok "$1: expected to match /$3/, got '$2'"; fi
}
diag() { printf '# %s\n' "$*"; }
tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

need_root() {
	if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; then
		echo "1..0 # SKIP needs root and /dev/fuse"
		exit 77
	fi
}

T=$(mktemp -d /tmp/bltest.XXXXXX)
STORE=$T/store
bl_pids=""
bl_cleanup() {
	set +e
	# Agents stop cleanly on SIGTERM; whatever is left gets SIGKILL.
	for p in $bl_pids; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in $bl_pids; do kill -9 "$p" 2>/dev/null; done
	# Detach whatever the test left mounted under its directory.
	grep -o " $T[^ ]* " /proc/self/mounts 2>/dev/null | sort -r |
		while read -r mp; do umount -l "$mp" 2>/dev/null; done
	pkill -9 -f -- "--session=ms-.*--mount-path=$T" 2>/dev/null
	for p in $bl_pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
	return 0
}
trap bl_cleanup EXIT

# start_agent NAME [blagent args...]: an agent with sockets in $T/NAME,
# sharing $STORE; sets AGENT_PID. Extra args come last and may override.
start_agent() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	"$BLAGENT" --foreground --control-socket "$T/$name/c.sock" \
		--status-socket "$T/$name/s.sock" --state-dir "$T/$name/state" \
		--store "$STORE" --blfs "$BLFS" --token "$T/$name/token" \
		"$@" 2>>"$T/$name/log" &
	AGENT_PID=$!
	bl_pids="$bl_pids $AGENT_PID"
	wait_socket "$T/$name/c.sock"
}

# start_agent_ns NAME [args]: the same, in a mount namespace of its own
# (another sandbox). Enter it with in_ns NAME CMD...
start_agent_ns() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	unshare --mount --propagation private -- "$BLAGENT" --foreground \
		--control-socket "$T/$name/c.sock" \
		--status-socket "$T/$name/s.sock" --state-dir "$T/$name/state" \
		--store "$STORE" --blfs "$BLFS" --token "$T/$name/token" \
		"$@" 2>>"$T/$name/log" &
	AGENT_PID=$!
	bl_pids="$bl_pids $AGENT_PID"
	eval "NS_PID_$name=$AGENT_PID"
	wait_socket "$T/$name/c.sock"
}
in_ns() {
	local name=$1 pid
	shift
	eval "pid=\$NS_PID_$name"
	nsenter --target "$pid" --mount -- "$@"
}

wait_socket() {
	local i=0
	until "$BLCTL" --socket "$1" ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "agent on $1 did not come up" >&2
			return 1
		fi
		sleep 0.05
	done
}

# ctl NAME args...: blctl on agent NAME's control socket.
ctl() {
	local name=$1
	shift
	"$BLCTL" --socket "$T/$name/c.sock" "$@"
}
# field JSON KEY: a top-level field of a MountInfo (or of the first in an array).
field() {
	printf '%s' "$1" | jq -r "if type == \"array\" then .[0].$2 else .$2 end"
}
# blfs_pids PATTERN: pids of blfs processes whose argv holds PATTERN
# (never the shell asking, whose own command line may hold it too).
blfs_pids() {
	local f pid args
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		args=$( { tr '\0' ' ' < "$f"; } 2>/dev/null) || continue
		case "$args" in
		*/blfs\ *"$1"*) echo "$pid" ;;
		esac
	done
}
no_blfs() { [ -z "$(blfs_pids "$1")" ]; }

drive_create() {
	"$BLCTL" drive --store "$STORE" create "$@" >/dev/null
}

# blfs_attr PATH UID GID MODE: what the workload sees of a file put in
# the store, as an operator seeds a drive (setfattr -n user.blfs.attr -v
# "UID GID MODE"): blfs keeps owners in this attribute, the backing file
# stays root's. MODE in octal, permission bits only.
blfs_attr() {
	"${PYTHON3:-/usr/bin/python3}" -c 'import os, sys
os.setxattr(sys.argv[1], "user.blfs.attr", " ".join(sys.argv[2:]).encode())' \
	    "$@"
}
# blfs_attrs DIR: every file's user.* attributes under DIR, one a line,
# sorted: what a chmod or chown through blfs would change.
blfs_attrs() {
	"${PYTHON3:-/usr/bin/python3}" -c 'import os, sys
r = sys.argv[1]
for dp, dns, fns in os.walk(r):
    for p in [dp] + [os.path.join(dp, n) for n in dns + fns]:
        if os.path.islink(p):
            continue
        for a in sorted(os.listxattr(p)):
            print(os.path.relpath(p, r), a, os.getxattr(p, a))' "$1" | sort -u
}
