#!/bin/bash
# A throwaway single-host Ceph cluster for tests and for trying blagent's
# ceph store: one mon, one mgr, three OSDs on memstore, one MDS, cephx on,
# a CephFS named "cephfs" on two pools of size 3, everything bound to
# 127.0.0.1 and every file it writes under DIR.
#
#   contrib/ceph-cluster.sh start DIR    set up and start; waits until serving
#   contrib/ceph-cluster.sh status DIR   `ceph -s`, then each daemon's pid and RSS
#   contrib/ceph-cluster.sh restart DIR DAEMON
#                                        start DAEMON (osd.1, mds.a, ...) again,
#                                        stopping it first if it still runs
#   contrib/ceph-cluster.sh wait DIR     wait until serving again (after a restart)
#   contrib/ceph-cluster.sh stop DIR     stop every daemon by pid, remove DIR
#
# After start, DIR/ceph.conf and DIR/admin.keyring (client.admin) are what
# any client needs: `ceph -c DIR/ceph.conf -k DIR/admin.keyring -s`.
# "Serving" means every OSD up and in, every placement group active+clean
# and the MDS up:active.
#
# Each daemon runs in the foreground (-f) as a background child of the
# script; its pid is in DIR/pid/NAME.pid, its output and log in DIR/log/.
# Nothing outside DIR is read or written (no /etc/ceph, /var/lib/ceph,
# /var/run/ceph), so a real Ceph on the machine is never touched, and
# clusters in different DIRs run side by side (the mon takes two free
# loopback ports, the other daemons free ones of Ceph's range 6800-7300).
# Daemons are only ever signalled by their recorded pid, and only while
# that pid still runs a command line naming DIR/ceph.conf.
#
# Needs Debian 12's ceph-mon, ceph-mgr, ceph-osd, ceph-mds and ceph-common
# (contrib/install-deps.sh installs them). Runs as any
# user that may write DIR.
#
# Environment: CEPH_CLUSTER_TIMEOUT (seconds start and wait give the cluster
# to serve, default 120), CEPH_CLUSTER_STOP_TIMEOUT (seconds daemons get
# between SIGTERM and SIGKILL, default 10), CEPH_CLUSTER_OSD_BYTES (each
# memstore OSD's size, default 1 GiB; memory is only taken as data is
# written), PYTHON3 (default /usr/bin/python3, the one Debian's python3-rados
# is installed for).
set -euo pipefail

prog=ceph-cluster.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}
usage() {
	echo "usage: $prog start|status|wait|stop DIR | restart DIR DAEMON" >&2
	exit 2
}

# A stray CEPH_ARGS (say --id or --keyring) would change what every ceph
# command below means.
unset CEPH_ARGS CEPH_CONF

timeout_s=${CEPH_CLUSTER_TIMEOUT:-120}
stop_timeout_s=${CEPH_CLUSTER_STOP_TIMEOUT:-10}
osd_bytes=${CEPH_CLUSTER_OSD_BYTES:-1073741824}
py=${PYTHON3:-/usr/bin/python3}
nosd=3
fs_name=cephfs
mgr_module_dir=/usr/share/ceph/mgr
mgr_modules="balancer crash devicehealth orchestrator pg_autoscaler progress
	rbd_support status telemetry volumes iostat"
marker=.ceph-cluster

now_ms() { date +%s%3N; }
# secs MS: milliseconds as seconds with one decimal.
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# The daemons in the order they start.
daemons() {
	local i
	echo mon.a
	echo mgr.x
	for ((i = 0; i < nosd; i++)); do echo "osd.$i"; done
	echo mds.a
}

# alive PID: the process runs, is not a zombie (pid 1 may be slow to reap
# the daemons this script leaves behind it), and is one of this cluster's
# daemons: a pid since reused by another process is never signalled.
alive() {
	local pid=$1 stat args=()
	[ -n "$pid" ] || return 1
	{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ] || return 1
	{ mapfile -d '' args <"/proc/$pid/cmdline"; } 2>/dev/null || return 1
	[ "${args[*]: -2:2}" = "-c $dir/ceph.conf" ]
}

pid_of() {
	local f=$dir/pid/$1.pid pid
	[ -s "$f" ] || return 1
	read -r pid <"$f"
	echo "$pid"
}

# stop_daemons NAME...: SIGTERM to each at once, SIGKILL to those still
# there after the bound.
stop_daemons() {
	local name pid pids=() left waited=0 sig=TERM rc=0 t0
	t0=$(now_ms)
	for name in "$@"; do
		pid=$(pid_of "$name") || continue
		if alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$name:$pid")
		else
			rm -f "$dir/pid/$name.pid"
		fi
	done
	while [ ${#pids[@]} -gt 0 ]; do
		left=()
		for name in "${pids[@]}"; do
			if alive "${name#*:}"; then
				left+=("$name")
			else
				rm -f "$dir/pid/${name%:*}.pid"
				echo "${name%:*} (pid ${name#*:}) stopped after $(secs $(($(now_ms) - t0)))s"
			fi
		done
		pids=("${left[@]+"${left[@]}"}")
		[ ${#pids[@]} -gt 0 ] || break
		if [ $waited -ge $((stop_timeout_s * 10)) ]; then
			if [ $sig = KILL ]; then
				echo "$prog: still running after SIGKILL: ${pids[*]}" >&2
				rc=1
				break
			fi
			echo "$prog: SIGTERM ignored for ${stop_timeout_s}s, SIGKILL: ${pids[*]}" >&2
			for name in "${pids[@]}"; do kill -KILL "${name#*:}" 2>/dev/null || true; done
			sig=KILL
			waited=$((stop_timeout_s * 10 - 50))
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	return $rc
}

# stop_all: the MDS first (it flushes its journal to the OSDs, and waits
# out their absence when they stop with it), then the OSDs and the mgr, then
# the mon (the others wait for the mon when it is gone first).
stop_all() {
	local names=() rc=0
	mapfile -t names < <(daemons | grep -vx -e mon.a -e mds.a)
	stop_daemons mds.a || rc=1
	stop_daemons "${names[@]}" || rc=1
	stop_daemons mon.a || rc=1
	return $rc
}

# run_daemon NAME: starts it in the foreground, in the background of this
# script, with no tie to the caller's terminal or pipes.
# Every other fd the caller had open (a test harness's log, a pipe a
# caller waits on) is closed first: a daemon holding it would outlive it.
run_daemon() {
	local name=$1 type=${1%%.*} id=${1#*.}
	(
		for f in /proc/$BASHPID/fd/*; do
			f=${f##*/}
			[ "$f" -gt 2 ] 2>/dev/null && eval "exec $f>&-"
		done 2>/dev/null
		exec "ceph-$type" -f -i "$id" -c "$dir/ceph.conf" \
			</dev/null >>"$dir/log/$name.out" 2>&1
	) &
	echo $! >"$dir/pid/$name.pid"
}

# helper CMD ARGS...: the parts done in python: key generation, and mon
# commands through one librados connection rather than a `ceph` process
# (a python start of its own, a second or more on a loaded machine) each.
helper() {
	"$py" - "$dir" "$@" <<'EOF'
import base64, json, os, socket, struct, sys, time

d, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]

def key():
    # A cephx secret as ceph-authtool --gen-key makes it: type 1 (AES),
    # creation time, then 16 random bytes.
    t = time.time()
    return base64.b64encode(struct.pack("<hiih", 1, int(t),
        int((t % 1) * 1e9), 16) + os.urandom(16)).decode()

def keyring(path, entries):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              "w") as f:
        for name, secret, caps in entries:
            f.write("[%s]\n\tkey = %s\n" % (name, secret))
            for k, v in caps:
                f.write('\tcaps %s = "%s"\n' % (k, v))

def connect():
    import rados
    r = rados.Rados(conffile=d + "/ceph.conf", name="client.admin",
                    conf={"keyring": d + "/admin.keyring"})
    r.connect(timeout=30)
    return r

def mon(r, **c):
    ret, out, err = r.mon_command(json.dumps(c), b"", timeout=30)
    if ret != 0:
        sys.exit("mon command %s: %s (%d)" % (c["prefix"], err, ret))
    return out

def serving(st):
    pg = st["pgmap"]
    clean = sum(x["count"] for x in pg.get("pgs_by_state", [])
                if x["state_name"] == "active+clean")
    active = [m for m in st.get("fsmap", {}).get("by_rank", [])
              if m.get("status") == "up:active"]
    osd = st["osdmap"]
    return (osd["num_osds"] > 0 and
            osd["num_up_osds"] == osd["num_in_osds"] == osd["num_osds"] and
            pg["num_pgs"] > 0 and clean == pg["num_pgs"] and bool(active))

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False

if cmd == "ports":
    # Two free ports at once (held together, so they differ).
    ss = [socket.socket() for _ in range(2)]
    for s in ss:
        s.bind(("127.0.0.1", 0))
    print(" ".join(str(s.getsockname()[1]) for s in ss))
elif cmd == "keys":
    # Every key the cluster needs; the mon's keyring holds them all with
    # their caps, so the mon knows every daemon from its first start.
    nosd = int(args[0])
    ents = {
        "mon.": [("mon", "allow *")],
        "client.admin": [("mon", "allow *"), ("osd", "allow *"),
                         ("mds", "allow *"), ("mgr", "allow *")],
        "mgr.x": [("mon", "allow profile mgr"), ("osd", "allow *"),
                  ("mds", "allow *")],
        "mds.a": [("mon", "allow profile mds"), ("osd", "allow rwx"),
                  ("mds", "allow *"), ("mgr", "allow profile mds")],
    }
    for i in range(nosd):
        ents["osd.%d" % i] = [("mon", "allow profile osd"),
                              ("osd", "allow *"), ("mgr", "allow profile osd")]
    keys = {n: key() for n in ents}
    keyring(d + "/mon.keyring", [(n, keys[n], ents[n]) for n in ents])
    paths = {"client.admin": "/admin.keyring", "mgr.x": "/mgr/x/keyring",
             "mds.a": "/mds/a/keyring"}
    for i in range(nosd):
        paths["osd.%d" % i] = "/osd/%d/keyring" % i
    for n, p in paths.items():
        keyring(d + p, [(n, keys[n], ents[n])])
elif cmd == "setup":
    # args: the OSDs' uuids. The OSDs get their ids, then the file system
    # its pools.
    r = connect()
    for i, u in enumerate(args):
        mon(r, prefix="osd new", uuid=u, id=i)
    mon(r, prefix="osd pool create", pool="cephfs.meta", pg_num=16)
    mon(r, prefix="osd pool create", pool="cephfs.data", pg_num=32)
    mon(r, prefix="fs new", fs_name="cephfs", metadata="cephfs.meta",
        data="cephfs.data")
    r.shutdown()
elif cmd == "wait":
    # args: timeout in seconds, then NAME=PID of each daemon.
    deadline = time.monotonic() + float(args[0])
    pids = dict(a.split("=") for a in args[1:])
    r = None
    st = None
    while True:
        dead = [n for n, p in pids.items() if not p or not alive(int(p))]
        if dead:
            sys.exit("daemon died: %s; see %s/log/" % (" ".join(dead), d))
        try:
            if r is None:
                r = connect()
            st = json.loads(mon(r, prefix="status", format="json"))
            if serving(st):
                break
        except Exception as e:
            if time.monotonic() > deadline:
                sys.exit("cluster unreachable: %s" % e)
        if time.monotonic() > deadline:
            pg = st["pgmap"] if st else {}
            sys.exit("not serving after %ss: health %s, pgs %s, mds %s" % (
                args[0], st and st["health"]["status"],
                pg.get("pgs_by_state"),
                st and st.get("fsmap", {}).get("by_rank")))
        time.sleep(0.2)
    r.shutdown()
else:
    sys.exit("helper: unknown command " + cmd)
EOF
}

write_conf() {
	local p2=$1 p1=$2 fsid=$3
	cat >"$dir/ceph.conf" <<EOF
# Written by $prog for the throwaway cluster in this directory.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = $dir/run
crash dir = $dir/crash
admin socket = $dir/run/\$cluster-\$name.asok
log file = $dir/log/\$cluster-\$name.log
mon cluster log file = $dir/log/\$cluster.\$channel.log
osd journal = $dir/osd/\$id/journal
mon data = $dir/mon/\$id
mgr data = $dir/mgr/\$id
osd data = $dir/osd/\$id
mds data = $dir/mds/\$id
keyring = $dir/\$type/\$id/keyring
osd objectstore = memstore
memstore device bytes = $osd_bytes
# Three OSDs on one host hold a pool of size 3: replicas go to distinct
# OSDs, not hosts.
osd crush chooseleaf type = 0
osd pool default size = 3
osd pool default min size = 2
osd pool default pg autoscale mode = off
mon allow pool delete = true
# PG states reach the status through the mgr, every 5 s by default:
# waiting for active+clean would wait for them.
mgr stats period = 1
mgr tick period = 1
mon mgr digest period = 1
# An MDS told to stop waits up to one beacon interval (4 s) for the mon's
# answer; it also learns it is active one beacon sooner.
mds beacon interval = 1
# DIR may sit on a full disk; that is no reason for HEALTH_WARN here.
mon data avail warn = 1
mon data avail crit = 0
# The default also loads restful, whose dependencies Debian only recommends.
mgr initial modules = iostat
# Only the modules the mon holds always on, and iostat, status: loading all
# thirty takes the mgr 15 s on a loaded machine.
mgr module path = $dir/mgr/modules

[client]
# A client process's admin socket and log carry its pid, so two never clash.
admin socket = $dir/run/\$cluster-\$name.\$pid.asok
log file = $dir/log/\$cluster-\$name.log
mon cluster log file = $dir/log/\$cluster.\$channel.log
osd journal = $dir/osd/\$id/journal

[client.admin]
keyring = $dir/admin.keyring
EOF
}

wait_serving() {
	local args=() n
	for n in $(daemons); do args+=("$n=$(pid_of "$n" || true)"); done
	helper wait "$timeout_s" "${args[@]}"
}

cmd_start() {
	local t0 ports fsid i uuids=() pids=() b
	t0=$(now_ms)
	for b in ceph-mon ceph-mgr ceph-osd ceph-mds monmaptool "$py"; do
		command -v "$b" >/dev/null ||
			die "$b not found: install Debian's ceph-mon, ceph-mgr, ceph-osd, ceph-mds and ceph-common (contrib/install-deps.sh)"
	done
	"$py" -c 'import rados' 2>/dev/null ||
		die "$py cannot import rados: install Debian's python3-rados (ceph-common brings it)"
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
		die "$dir exists and is not empty (a cluster there? stop it with: $prog stop $dir)"
	fi
	mkdir -p "$dir"
	: >"$dir/$marker"
	mkdir -p "$dir/pid" "$dir/log" "$dir/run" "$dir/crash" "$dir/mon"

	# From here on, a failure stops whatever was started; DIR stays for
	# its logs until `stop`.
	started=0
	trap 'start_exit' EXIT

	read -r fsid </proc/sys/kernel/random/uuid
	ports=$(helper ports)
	write_conf "${ports% *}" "${ports#* }" "$fsid"
	helper keys $nosd
	mkdir -p "$dir/mgr/modules"
	for b in $mgr_modules mgr_module.py mgr_util.py; do
		ln -s "$mgr_module_dir/$b" "$dir/mgr/modules/$b"
	done
	monmaptool --create --fsid "$fsid" \
		--addv a "[v2:127.0.0.1:${ports% *},v1:127.0.0.1:${ports#* }]" \
		"$dir/monmap" >/dev/null
	ceph-mon --mkfs -i a -c "$dir/ceph.conf" --monmap "$dir/monmap" \
		--keyring "$dir/mon.keyring" >>"$dir/log/mon.a.out" 2>&1 ||
		die "ceph-mon --mkfs failed: $(tail -n 3 "$dir/log/mon.a.out")"
	rm -f "$dir/mon.keyring" "$dir/monmap"
	run_daemon mon.a
	run_daemon mgr.x
	run_daemon mds.a

	# The OSDs' stores are made while the mon comes up (they need nothing
	# from it), then the mon gives them their ids, then they start.
	for ((i = 0; i < nosd; i++)); do
		read -r "uuids[i]" </proc/sys/kernel/random/uuid
		ceph-osd -i "$i" -c "$dir/ceph.conf" --no-mon-config --mkfs \
			--osd-uuid "${uuids[i]}" >>"$dir/log/osd.$i.out" 2>&1 &
		pids[i]=$!
	done
	for ((i = 0; i < nosd; i++)); do
		wait "${pids[i]}" ||
			die "ceph-osd --mkfs of osd.$i failed: $(tail -n 3 "$dir/log/osd.$i.out")"
	done
	helper setup "${uuids[@]}"
	for ((i = 0; i < nosd; i++)); do run_daemon "osd.$i"; done

	wait_serving
	started=1
	echo "ceph cluster serving in $(secs $(($(now_ms) - t0)))s: conf $dir/ceph.conf, keyring $dir/admin.keyring (client.admin), file system $fs_name"
}

start_exit() {
	[ "$started" = 0 ] || return 0
	echo "$prog: start failed; daemons stopped, logs kept in $dir/log (remove with: $prog stop $dir)" >&2
	stop_all || true
}

need_cluster() {
	[ -f "$dir/$marker" ] || die "$dir holds no cluster of $prog"
}

cmd_status() {
	local n pid rss total=0
	need_cluster
	timeout 30 ceph --connect-timeout 20 -c "$dir/ceph.conf" \
		-k "$dir/admin.keyring" -n client.admin -s || true
	for n in $(daemons); do
		pid=$(pid_of "$n") || pid=
		if alive "$pid"; then
			rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
			total=$((total + rss))
			printf '%-6s pid %-7s rss %4d MiB\n' "$n" "$pid" $((rss / 1024))
		else
			printf '%-6s not running\n' "$n"
		fi
	done
	printf 'total rss %d MiB\n' $((total / 1024))
}

cmd_restart() {
	local name=$1
	need_cluster
	daemons | grep -qx -- "$name" ||
		die "no daemon $name (one of: $(daemons | tr '\n' ' '))"
	stop_daemons "$name"
	run_daemon "$name"
	echo "$name started, pid $(pid_of "$name")"
}

cmd_wait() {
	local t0
	need_cluster
	t0=$(now_ms)
	wait_serving
	echo "ceph cluster serving after $(secs $(($(now_ms) - t0)))s"
}

cmd_stop() {
	local t0
	t0=$(now_ms)
	[ -e "$dir" ] || { echo "$prog: $dir: nothing to stop"; return 0; }
	# Only ever remove a directory this script made.
	need_cluster
	stop_all || die "some daemons would not die; $dir left in place"
	rm -rf "$dir"
	echo "ceph cluster stopped in $(secs $(($(now_ms) - t0)))s; $dir removed"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case "$dir" in
/*) ;;
*) dir=$PWD/$dir ;;
esac
while [ "${dir%/}" != "$dir" ] && [ "$dir" != / ]; do dir=${dir%/}; done
[ "$dir" != / ] || die "not /"
case "$cmd" in
start) [ $# -eq 2 ] || usage; cmd_start ;;
status) [ $# -eq 2 ] || usage; cmd_status ;;
wait) [ $# -eq 2 ] || usage; cmd_wait ;;
stop) [ $# -eq 2 ] || usage; cmd_stop ;;
restart) [ $# -eq 3 ] || usage; cmd_restart "$3" ;;
*) usage ;;
esac
