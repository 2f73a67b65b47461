#!/bin/bash
# A GlusterFS volume on this host for trying and testing a store shared
# between machines: a private glusterd, a replica-3 volume of three bricks,
# and two FUSE clients (DIR/c1, DIR/c2) that stand for two machines.
#
#   gluster-volume.sh start DIR    start it all, mount DIR/c1 and DIR/c2
#   gluster-volume.sh stop DIR     tear down whatever of it runs, remove DIR
#   gluster-volume.sh status DIR   "PATH ONLINE PID" per brick and self-heal
#                                  daemon; records pids new since start
#   gluster-volume.sh heal-info DIR     files each brick still has to heal
#   gluster-volume.sh cli DIR ARGS...   the gluster CLI on this glusterd
#
# Loopback only: glusterd and the bricks listen on 127.0.0.1. glusterd keeps
# its working and run directories, pid files and logs under DIR, never
# /var/lib/glusterd. What glusterd 10 cannot be told to put elsewhere: the
# bricks' unix sockets (/var/run/gluster) and logs (/var/log/glusterfs/
# bricks, glustershd.log, glfsheal-VOL.log), and the port, 24007, from
# which the bricks fetch their volume files: one such glusterd per host (a
# second start waits for the first to stop, GLUSTER_WAIT seconds, default
# 0). Every process it starts is recorded in DIR/pids and stopped by that
# pid, never by name. Needs root and glusterfs-server, glusterfs-client
# (contrib/install-deps.sh).
# GLUSTER_VOLUME names the volume (default blagent).
set -u

VOL=${GLUSTER_VOLUME:-blagent}
LOCK=/run/lock/blagent-gluster-volume.lock
PORT=24007
# The client options that make each client see the others' changes at
# once: no kernel caching of attributes, names or missing names, page cache
# dropped at each open, and no md-cache in the client's own graph.
client_opts() {
	echo --attribute-timeout=0 --entry-timeout=0 --negative-timeout=0 \
		--fopen-keep-cache=off \
		--xlator-option="$VOL-md-cache.md-cache-timeout=0"
}

me=gluster-volume
say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
	say "$*"
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

usage() {
	echo "usage: $0 start|stop|status|heal-info DIR | cli DIR ARGS..." >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
D=$2
shift 2
case "$D" in
/*) ;;
*) D=$PWD/$D ;;
esac
D=${D%/}

gcli() {
	gluster --mode=script --glusterd-sock="$D/glusterd.socket" \
		--log-file="$D/log/cli.log" "$@"
}

# ours PID: PID runs and its command line names DIR, so a pid recorded
# long ago and reused by another program since is never signalled. A
# zombie (no command line) counts as gone.
ours() {
	local args
	args=$( { tr '\0' ' ' < "/proc/$1/cmdline"; } 2>/dev/null) || return 1
	case "$args" in
	*"$D/"*) return 0 ;;
	esac
	return 1
}

# record ROLE PID [SOCKET LOG]: one line of DIR/pids per process started.
record() {
	grep -qs "^$1 $2\( \|$\)" "$D/pids" || echo "$*" >> "$D/pids"
}

# arg PID OPTION: the word after OPTION in PID's command line.
arg() {
	tr '\0' '\n' < "/proc/$1/cmdline" 2>/dev/null |
		awk -v o="$2" 'p { print; exit } $0 == o { p = 1 }'
}

# servers: one line per brick and self-heal daemon as glusterd reports
# them: "PATH ONLINE(0|1) PID" (PATH "localhost" for the daemon).
servers() {
	glusterd_up || return 1
	gcli volume status "$VOL" --xml 2>/dev/null | awk -F'[<>]' '
		$2 == "node" { path = ""; st = ""; pid = "" }
		$2 == "path" { path = $3 }
		$2 == "status" { st = $3 }
		$2 == "pid" { pid = $3 }
		$2 == "/node" { print path, st, pid }'
}

glusterd_up() {
	local role pid rest
	while read -r role pid rest; do
		[ "$role" = glusterd ] && ours "$pid" && return 0
	done < "$D/pids"
	return 1
}

# Brick and self-heal daemon pids: from glusterd when it answers, and
# from the pid files glusterd writes under DIR/run in any case.
record_servers() {
	local pid f
	{
		servers | awk '{ print $3 }'
		for f in "$D"/run/vols/*/*.pid "$D"/run/shd/*/*.pid; do
			[ -s "$f" ] && cat "$f"
		done
	} 2>/dev/null | sort -u | while read -r pid; do
		case "$pid" in ''|*[!0-9]*) continue ;; esac
		ours "$pid" || continue
		case "$(arg "$pid" --process-name)" in
		brick) record brick "$pid" "$(arg "$pid" -S)" \
			"$(arg "$pid" -l)" ;;
		*) record shd "$pid" "$(arg "$pid" -S)" ;;
		esac
	done
}

# stop_pid PID: SIGTERM, up to 5 s to go, then SIGKILL.
stop_pid() {
	local i
	ours "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 50); do
		ours "$1" || return 0
		sleep 0.1
	done
	say "pid $1 ignored SIGTERM for 5 s: SIGKILL"
	kill -KILL "$1" 2>/dev/null
	for i in $(seq 20); do
		ours "$1" || return 0
		sleep 0.1
	done
	say "pid $1 is still there"
	return 1
}

mounted() { awk -v p="$1" '$5 == p { f = 1 } END { exit !f }' \
	/proc/self/mountinfo; }

start() {
	local t0 h addr i c pid
	t0=$(now_ms)
	[ "$(id -u)" -eq 0 ] || die "run as root"
	for b in glusterd gluster glusterfs; do
		command -v "$b" >/dev/null ||
			die "$b is missing: apt-get install glusterfs-server" \
			    "glusterfs-client (contrib/install-deps.sh)"
	done
	[ ! -e "$D/pids" ] || die "$D already holds a volume; stop it first"
	h=$(hostname)
	addr=$(getent ahostsv4 "$h" | awk '{ print $1; exit }')
	case "$addr" in
	127.*) ;;
	*) die "hostname $h resolves to '${addr:-nothing}', not a loopback" \
		"address: the bricks are named by it and everything here" \
		"listens on 127.0.0.1 only (add '127.0.1.1 $h' to /etc/hosts)" ;;
	esac
	mkdir -p "$D/glusterd" "$D/run" "$D/log" "$D/bricks" || exit 1
	chmod 755 "$D"
	: > "$D/pids"
	echo "$VOL" > "$D/volume"

	# One glusterd per host: its lock travels into glusterd (fd 9 is
	# inherited) and is let go when glusterd ends.
	exec 9>> "$LOCK"
	if ! flock -w "${GLUSTER_WAIT:-0}" 9; then
		die "another volume of this script runs on this host" \
		    "(lock $LOCK); stop it, or set GLUSTER_WAIT=SECONDS to wait"
	fi
	if ss -Hltn "sport = :$PORT" | grep -q .; then
		die "port $PORT is taken (another glusterd?): the bricks" \
		    "fetch their volume files from it, so only one glusterd" \
		    "may run per host"
	fi

	cat > "$D/glusterd.vol" <<-EOF
	volume management
	    type mgmt/glusterd
	    option working-directory $D/glusterd
	    option run-directory $D/run
	    option glusterd-sockfile $D/glusterd.socket
	    option transport-type socket
	    option transport.socket.bind-address 127.0.0.1
	    option transport.socket.listen-port $PORT
	    option ping-timeout 0
	    option event-threads 1
	end-volume
	EOF
	# In the foreground (-N), so that its pid is ours to record, and in
	# a session of its own, so that a signal to the caller's process
	# group (a test's timeout) leaves it for an orderly stop.
	setsid glusterd -N -f "$D/glusterd.vol" -p "$D/glusterd.pid" \
		-l "$D/log/glusterd.log" < /dev/null >> "$D/log/glusterd.out" 2>&1 &
	pid=$!
	exec 9>&-
	record glusterd "$pid"
	# The CLI waits seconds before it retries a socket not there yet.
	for i in $(seq 100); do
		[ -S "$D/glusterd.socket" ] &&
			gcli peer status > /dev/null 2>&1 && break
		ours "$pid" || die "glusterd exited: see $D/log/glusterd.log"
		sleep 0.1
	done
	[ "$i" -lt 100 ] ||
		die "glusterd does not answer on $D/glusterd.socket after 10 s"

	# Three bricks on one host: force, since replicas on one server and
	# bricks on the root filesystem are refused otherwise.
	gcli volume create "$VOL" replica 3 "$h:$D/bricks/1" "$h:$D/bricks/2" \
		"$h:$D/bricks/3" force > /dev/null || die "volume create failed"
	# quick-read keeps a small file's content from its lookup and serves
	# it to later opens that make no lookup of their own (blfs reopens
	# files it knows by descriptor): another client's overwrite went
	# unseen for seconds. Off, every read asks the bricks.
	gcli volume set "$VOL" performance.quick-read off > /dev/null ||
		die "volume set performance.quick-read failed"
	gcli volume start "$VOL" > /dev/null || {
		record_servers
		die "volume start failed: see $D/log/glusterd.log"
	}
	record_servers
	for i in $(seq 100); do
		[ "$(servers | awk -v b="$D/bricks/" \
			'index($1, b) == 1 && $2 == 1' | wc -l)" -eq 3 ] && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] ||
		die "bricks not online after 10 s: $(gcli volume status "$VOL")"

	for c in c1 c2; do
		mkdir -p "$D/$c"
		# shellcheck disable=SC2046
		setsid glusterfs -N --volfile-server=127.0.0.1 --volfile-id="$VOL" \
			$(client_opts) -l "$D/log/$c.log" "$D/$c" \
			< /dev/null >> "$D/log/$c.out" 2>&1 &
		record client "$!"
	done
	for c in c1 c2; do
		for i in $(seq 100); do
			mounted "$D/$c" && stat -f "$D/$c" > /dev/null 2>&1 && break
			sleep 0.1
		done
		[ "$i" -lt 100 ] || die "client $D/$c not mounted after 10 s:" \
			"see $D/log/$c.log"
	done
	say "volume $VOL started in $(( $(now_ms) - t0 )) ms: clients $D/c1 $D/c2"
}

stop() {
	local t0 role pid sock log c left m
	t0=$(now_ms)
	[ -d "$D" ] || return 0
	[ -f "$D/volume" ] && VOL=$(cat "$D/volume")
	[ -f "$D/pids" ] || { say "$D holds no volume of this script"; return 1; }
	record_servers
	for c in c1 c2; do
		mounted "$D/$c" || continue
		umount "$D/$c" 2>/dev/null || {
			say "$D/$c is busy: detached lazily"
			umount -l "$D/$c"
		}
	done
	while read -r role pid sock log; do
		[ "$role" = client ] && stop_pid "$pid"
	done < "$D/pids"
	if glusterd_up && gcli volume info "$VOL" > /dev/null 2>&1; then
		timeout 60 gluster --mode=script --glusterd-sock="$D/glusterd.socket" \
			--log-file="$D/log/cli.log" volume stop "$VOL" force > /dev/null ||
			say "volume stop failed: stopping the bricks by pid"
		timeout 60 gluster --mode=script --glusterd-sock="$D/glusterd.socket" \
			--log-file="$D/log/cli.log" volume delete "$VOL" > /dev/null ||
			say "volume delete failed"
	fi
	while read -r role pid sock log; do
		case "$role" in
		brick|shd) stop_pid "$pid" ;;
		esac
	done < "$D/pids"
	while read -r role pid sock log; do
		[ "$role" = glusterd ] && stop_pid "$pid"
	done < "$D/pids"
	left=""
	m=${D#/}
	m=${m//\//-}
	while read -r role pid sock log; do
		if ours "$pid"; then
			left="$left $role:$pid"
			continue
		fi
		# Files glusterd put outside DIR for our processes alone.
		case "$sock" in /var/run/gluster/*.socket|/run/gluster/*.socket)
			rm -f "$sock" ;;
		esac
		case "$log" in */bricks/"$m"-bricks-*.log) rm -f "$log" ;; esac
	done < "$D/pids"
	[ -z "$left" ] || die "still running:$left; $D kept"
	for c in c1 c2; do
		mounted "$D/$c" && die "$D/$c is still mounted; $D kept"
	done
	rm -rf "$D"
	say "volume $VOL stopped in $(( $(now_ms) - t0 )) ms"
}

case "$cmd" in
start)
	# A half-made start is taken down again.
	(start) || { stop; exit 1; }
	;;
stop) stop ;;
status)
	[ -f "$D/pids" ] || die "$D holds no volume of this script"
	[ -f "$D/volume" ] && VOL=$(cat "$D/volume")
	record_servers
	servers || die "glusterd does not run"
	;;
heal-info)
	# "gluster volume heal VOL info" runs glfsheal, which asks the
	# default socket, not this glusterd's: glfsheal is told which.
	[ -f "$D/volume" ] && VOL=$(cat "$D/volume")
	"$(glusterd --print-libexecdir)/glfsheal" "$VOL" \
		glusterd-sock "$D/glusterd.socket"
	;;
cli) gcli "$@" ;;
*) usage ;;
esac
