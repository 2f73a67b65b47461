#!/bin/sh
# RPC benchmark (make bench; never a test): blagent's Ping next to
# redis-server's PING over unix sockets, both driven by the same client
# (tests/bench/rpc-load) in the same run, for 1 client, 50 concurrent
# clients and 1 client pipelining 16 deep; then the memory of both,
# idle, after that load and with 1000 connections open. Every figure is
# printed beside redis's and as a ratio to it.
# Goals: >= 1.0x redis's requests/s at 50 clients; an idle agent's
# RssAnon <= 1 MiB and Pss <= 2 MiB. With valgrind installed, last, the
# instructions each server executes per request, counted by callgrind:
# the one figure that other work on the machine leaves unchanged
# (RPC_BENCH_CALLGRIND=0 skips it).
#
# The machine may be busy: each row alternates agent and redis runs for
# RPC_BENCH_ROUNDS rounds (default 5) and shows each server's best round,
# the one least disturbed, next to the server CPU time per request summed
# over all rounds (what the server itself spends, which load around it
# disturbs far less). redis-benchmark's own figure is shown once per row,
# for reference. Scale the request counts with RPC_BENCH_SCALE (default 1).
set -eu

builddir=${top_builddir:-$(pwd)}
agent=$builddir/agent/blagent
load=$builddir/tests/bench/rpc-load
scale=${RPC_BENCH_SCALE:-1}
rounds=${RPC_BENCH_ROUNDS:-5}

if [ ! -x "$load" ] || [ "$load" -ot "${top_srcdir:-.}/tests/bench/rpc-load.c" ]
then
	(cd "$builddir" && ${MAKE:-make} -s tests/bench/rpc-load) || exit 1
fi
for tool in redis-server redis-benchmark; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "rpc-bench: $tool is not installed; no baseline" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/rpc-bench.XXXXXX)
agent_pid=
redis_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && \
	    wait "$agent_pid" 2>/dev/null
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && \
	    wait "$redis_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_sock() {
	i=0
	while [ ! -S "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then
			echo "rpc-bench: $1 never appeared" >&2
			exit 1
		fi
		sleep 0.01
	done
}

mem() {
	# mem PID: "VmRSS RssAnon Pss" in kB, from status and smaps_rollup.
	echo "$(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
	    END { print r, a }' "/proc/$1/status")" \
	    "$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup")"
}

cpu_ticks() {
	# utime + stime of a process, in clock ticks (comm has no spaces).
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

us_per_req() {
	# us_per_req TICKS REQUESTS: server CPU time per request.
	awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.2f", t / hz * 1e6 / n }'
}

field() {
	# field NAME LINE: the value of NAME=... in an rpc-load line.
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

csv_field() {
	# csv_field COLUMN CSV: a column of redis-benchmark's --csv data row.
	echo "$2" | tail -n 1 | tr -d '"' | cut -d, -f"$1"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b;
	    else print "-" }'
}

# With 2 CPUs or more, each server runs on CPU 0 and its clients on CPU 1:
# the figures then depend far less on where the scheduler puts whom.
server_cpu= client_cpu=
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	server_cpu="taskset -c 0"
	client_cpu="taskset -c 1"
fi

$server_cpu "$agent" --foreground --control-socket "$tmp/control.sock" \
    --status-socket "$tmp/status.sock" --state-dir "$tmp/state" \
    --store "$tmp/store" --log-level warn 2>"$tmp/agent.log" &
agent_pid=$!
$server_cpu redis-server --port 0 --unixsocket "$tmp/redis.sock" \
    --unixsocketperm 600 --save "" --appendonly no --daemonize no \
    --logfile "$tmp/redis.log" &
redis_pid=$!
wait_sock "$tmp/status.sock"
wait_sock "$tmp/redis.sock"
"$load" --socket "$tmp/status.sock" --requests 1 >/dev/null
"$load" --resp --socket "$tmp/redis.sock" --requests 1 >/dev/null
sleep 0.2
agent_idle=$(mem "$agent_pid")
redis_idle=$(mem "$redis_pid")
idle_libs=$(awk '/^[0-9a-f]+-/ { lib = $6 } /^Rss:/ && lib ~ /\.so/ {
    sub(/.*\//, "", lib); kb[lib] += $2 } END { for (l in kb) if (kb[l] >= 100)
    printf "%s %d kB, ", l, kb[l] }' "/proc/$agent_pid/smaps")

# run SERVER C P N: one rpc-load run against the agent or redis; sets
# rps, p50 and p99 to the best round's and adds to ticks.
best_rps=0 best_p50=- best_p99=- ticks=0
run() {
	if [ "$1" = agent ]; then
		pid=$agent_pid
		set -- --socket "$tmp/status.sock" --clients "$2" --depth "$3" \
		    --requests "$4"
	else
		pid=$redis_pid
		set -- --resp --socket "$tmp/redis.sock" --clients "$2" \
		    --depth "$3" --requests "$4"
	fi
	t0=$(cpu_ticks "$pid")
	out=$($client_cpu "$load" "$@")
	ticks=$((ticks + $(cpu_ticks "$pid") - t0))
	rps=$(field rps "$out")
	if [ "$rps" -gt "$best_rps" ]; then
		best_rps=$rps
		best_p50=$(field p50_us "$out")
		best_p99=$(field p99_us "$out")
	fi
}

echo "blagent Ping vs redis-server PING, unix sockets, $(nproc) CPUs" \
    "${server_cpu:+(servers on CPU 0, clients on CPU 1)}"
echo "Both driven by rpc-load; best of $rounds alternating rounds shown." \
    "rps: requests/s;"
echo "p50/p99: latency in us; cpu: server CPU us/request over all rounds."
printf '%-20s %7s %4s %5s %5s | %7s %4s %5s %5s | %7s | %6s %6s\n' \
    "" agent p50 p99 cpu redis p50 p99 cpu "redis-b" "rps" "cpu"
for spec in "1 1 20000" "50 1 100000" "1 16 200000"; do
	set -- $spec
	c=$1 p=$2 n=$(($3 * scale))
	a_rps=0 r_rps=0 a_ticks=0 r_ticks=0
	i=0
	while [ $i -lt "$rounds" ]; do
		# Alternate who goes first, so a drift in the load around us
		# favours neither.
		if [ $((i % 2)) -eq 0 ]; then order="agent redis"
		else order="redis agent"; fi
		for who in $order; do
			if [ "$who" = agent ]; then
				best_rps=$a_rps best_p50=${a_p50:--}
				best_p99=${a_p99:--} ticks=$a_ticks
				run agent "$c" "$p" "$n"
				a_rps=$best_rps a_p50=$best_p50
				a_p99=$best_p99 a_ticks=$ticks
			else
				best_rps=$r_rps best_p50=${r_p50:--}
				best_p99=${r_p99:--} ticks=$r_ticks
				run redis "$c" "$p" "$n"
				r_rps=$best_rps r_p50=$best_p50
				r_p99=$best_p99 r_ticks=$ticks
			fi
		done
		i=$((i + 1))
	done
	rb=$($client_cpu redis-benchmark -s "$tmp/redis.sock" -c "$c" -P "$p" \
	    -n "$n" -t ping_mbulk --csv 2>/dev/null)
	a_cpu=$(us_per_req "$a_ticks" $((n * rounds)))
	r_cpu=$(us_per_req "$r_ticks" $((n * rounds)))
	printf '%-20s %7s %4s %5s %5s | %7s %4s %5s %5s | %7.0f | %5sx %5sx\n' \
	    "$c client(s), depth $p" "$a_rps" "$a_p50" "$a_p99" "$a_cpu" \
	    "$r_rps" "$r_p50" "$r_p99" "$r_cpu" "$(csv_field 2 "$rb")" \
	    "$(ratio "$a_rps" "$r_rps")" "$(ratio "$a_cpu" "$r_cpu")"
	unset a_p50 a_p99 r_p50 r_p99
done
echo "ratios: rps = agent / redis (higher is better; goal >= 1.0x at 50" \
    "clients), cpu = agent / redis (lower is better)."
echo "redis-b: redis-benchmark's own rps against the same redis-server."

sleep 0.2
agent_load=$(mem "$agent_pid")
redis_load=$(mem "$redis_pid")

# conn_mem PID ARGS...: a server's "VmRSS RssAnon Pss" with 1000
# connections open, each having said Ping once (ARGS: rpc-load's socket).
conn_mem() {
	pid=$1
	shift
	rm -f "$tmp/hold"
	"$load" "$@" --clients 1000 --requests 1000 --hold "$tmp/hold" \
	    >/dev/null &
	hold_pid=$!
	i=0
	while [ ! -e "$tmp/hold" ]; do
		i=$((i + 1))
		if [ $i -gt 1000 ]; then
			echo "rpc-bench: hold never came" >&2
			exit 1
		fi
		sleep 0.01
	done
	mem "$pid"
	rm -f "$tmp/hold"
	wait "$hold_pid"
}
agent_conn=$(conn_mem "$agent_pid" --socket "$tmp/status.sock")
redis_conn=$(conn_mem "$redis_pid" --resp --socket "$tmp/redis.sock")

# mem_row LABEL "AGENT" "REDIS": both servers' figures and their ratios.
mem_row() {
	set -- "$1" $2 $3
	printf '%-18s %6s %7s %6s | %6s %7s %6s | %5sx %6sx %5sx\n' \
	    "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$(ratio "$2" "$5")" \
	    "$(ratio "$3" "$6")" "$(ratio "$4" "$7")"
}
echo
echo "memory in kB (VmRSS and RssAnon from /proc/PID/status, Pss from" \
    "smaps_rollup)"
printf '%-18s %6s %7s %6s | %6s %7s %6s | %6s %7s %6s\n' "" \
    agent RssAnon Pss redis RssAnon Pss VmRSS RssAnon Pss
printf '%-18s %6s %7s %6s | %6s %7s %6s | %6s %7s %6s\n' "" \
    VmRSS "" "" VmRSS "" "" ratio ratio ratio
mem_row "idle" "$agent_idle" "$redis_idle"
mem_row "after the load" "$agent_load" "$redis_load"
mem_row "1000 connections" "$agent_conn" "$redis_conn"
set -- $agent_idle
echo "agent idle against the goals: RssAnon $2 of 1024 kB" \
    "($(ratio "$2" 1024)x), Pss $3 of 2048 kB ($(ratio "$3" 2048)x)"
a_per=$(( ($(echo "$agent_conn" | cut -d' ' -f1) - \
    $(echo "$agent_load" | cut -d' ' -f1)) * 1024 / 1000 ))
r_per=$(( ($(echo "$redis_conn" | cut -d' ' -f1) - \
    $(echo "$redis_load" | cut -d' ' -f1)) * 1024 / 1000 ))
echo "VmRSS per connection: agent $a_per bytes, redis $r_per bytes" \
    "($(ratio "$a_per" "$r_per")x)"
echo "shared libraries in the agent's idle RSS: ${idle_libs%, }"

# Instructions per request under callgrind, both servers in their own
# valgrind, counted only while the load runs (-i on/off, one dump each).
if [ "${RPC_BENCH_CALLGRIND:-1}" = 0 ] ||
    ! command -v callgrind_control >/dev/null 2>&1; then
	exit 0
fi
kill "$agent_pid" "$redis_pid"
wait "$agent_pid" "$redis_pid" 2>/dev/null || true
agent_pid= redis_pid=
valgrind -q --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$tmp/cg.agent" "$agent" --foreground \
    --control-socket "$tmp/cg-control.sock" \
    --status-socket "$tmp/cg-status.sock" --state-dir "$tmp/cg-state" \
    --store "$tmp/store" --log-level warn 2>>"$tmp/agent.log" &
agent_pid=$!
valgrind -q --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$tmp/cg.redis" redis-server --port 0 \
    --unixsocket "$tmp/cg-redis.sock" --save "" --appendonly no \
    --daemonize no --logfile "$tmp/redis.log" 2>>"$tmp/valgrind.log" &
redis_pid=$!
wait_sock "$tmp/cg-status.sock"
wait_sock "$tmp/cg-redis.sock"
"$load" --socket "$tmp/cg-status.sock" --clients 50 --requests 500 >/dev/null
"$load" --resp --socket "$tmp/cg-redis.sock" --clients 50 --requests 500 \
    >/dev/null

# counted PID ARGS...: rpc-load ARGS with PID's counting on, then a dump:
# the Nth lands in cg.SERVER.N (callgrind numbers its dumps from 1).
counted() {
	pid=$1
	shift
	callgrind_control -i on "$pid" >/dev/null 2>&1
	"$load" "$@" >/dev/null
	callgrind_control -d "$pid" >/dev/null 2>&1
	callgrind_control -i off "$pid" >/dev/null 2>&1
}
totals() {
	awk '/^totals:/ { print $2 }' "$1"
}
echo
echo "instructions per request (callgrind; repeatable whatever else runs)"
printf '%-22s %8s %8s %7s\n' "" agent redis ratio
n_dump=0
for spec in "1 1 5000" "50 1 20000" "1 16 50000"; do
	set -- $spec
	c=$1 p=$2 n=$3
	n_dump=$((n_dump + 1))
	counted "$agent_pid" --socket "$tmp/cg-status.sock" --clients "$c" \
	    --depth "$p" --requests "$n"
	counted "$redis_pid" --resp --socket "$tmp/cg-redis.sock" \
	    --clients "$c" --depth "$p" --requests "$n"
	a_ir=$(( $(totals "$tmp/cg.agent.$n_dump") / n ))
	r_ir=$(( $(totals "$tmp/cg.redis.$n_dump") / n ))
	printf '%-22s %8s %8s %6sx\n' "$c client(s), depth $p" "$a_ir" \
	    "$r_ir" "$(ratio "$a_ir" "$r_ir")"
done
echo "ratio = agent / redis (lower is better): user-space instructions" \
    "of the server process; the kernel's share of a request is not counted."
