#!/bin/sh
# The demo: an agent on its embedded default store layout (in a temporary
# directory), a drive mounted read-write and read-only, status shown, and
# a write to the read-only mount refused. Needs root and /dev/fuse.
set -eu
b=${1:?usage: demo.sh BUILDDIR}
blagent=$b/agent/blagent
blctl=$b/blctl/blctl
blfs=$b/blfs/blfs

d=$(mktemp -d /tmp/blagent-demo.XXXXXX)
agent_pid=
cleanup() {
	set +e
	"$blctl" --socket "$d/run/control.sock" unmount "$d/mnt/ro" >/dev/null 2>&1
	"$blctl" --socket "$d/run/control.sock" unmount "$d/mnt/rw" >/dev/null 2>&1
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$blctl" drive --store "$d/store" create demo --display-name "Demo drive" --label env=demo
run "$blctl" drive --store "$d/store" list

say "$blagent --foreground --store $d/store --control-socket $d/run/control.sock ... &"
"$blagent" --foreground --store "$d/store" --blfs "$blfs" \
	--control-socket "$d/run/control.sock" --status-socket "$d/run/status.sock" \
	--state-dir "$d/run/state" --token "$d/token" 2>"$d/agent.log" &
agent_pid=$!
i=0
until "$blctl" --socket "$d/run/control.sock" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$d/agent.log"; exit 1; }
	sleep 0.05
done
run "$blctl" --socket "$d/run/status.sock" ping

run "$blctl" --socket "$d/run/control.sock" mount demo "$d/mnt/rw" --wait
run "$blctl" --socket "$d/run/control.sock" mount demo "$d/mnt/ro" --read-only --wait
run "$blctl" --socket "$d/run/status.sock" status

say "echo 'hello from the read-write mount' > $d/mnt/rw/hello.txt"
echo 'hello from the read-write mount' > "$d/mnt/rw/hello.txt"
run cat "$d/mnt/ro/hello.txt"
run grep " $d/mnt/ro " /proc/self/mounts

say "echo 'overwrite' > $d/mnt/ro/hello.txt   # must be refused"
if echo overwrite 2>"$d/err" > "$d/mnt/ro/hello.txt"; then
	echo "demo: the write to the read-only mount was NOT refused" >&2
	exit 1
fi
sed 's/^/  refused: /' "$d/err"

# The server of the read-only mount: no capability, no_new_privs, seccomp.
pid=$(pgrep -f -- "--mount-path=$d/mnt/ro" | head -n 1)
run grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status"
# What the store holds underneath: uid 0's, 0600; the owner and mode the
# mount shows live in the user.blfs.attr attribute (blfs(8)).
run stat -c '%u:%g %a %n' "$d/mnt/rw/hello.txt" "$d/store/drives/demo/data/hello.txt"

run "$blctl" --socket "$d/run/control.sock" unmount "$d/mnt/ro"
run "$blctl" --socket "$d/run/control.sock" unmount "$d/mnt/rw"
run "$blctl" --socket "$d/run/status.sock" status
say "agent log"
cat "$d/agent.log"
echo
echo "demo: done"
