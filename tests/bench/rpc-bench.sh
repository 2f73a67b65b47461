#!/bin/sh
# RPC benchmark (make bench; never a test): Ping/s and p50/p99 latency of
# blagent for 1 client, 50 concurrent clients and 1 client pipelining 16
# deep, each next to redis-server's PING over a unix socket measured in
# the same run, printed as a ratio; then the agent's memory idle and with
# 1000 connections. Goals: >= 1.0x redis at 50 clients, idle RSS <= 2 MiB.
#
# blagent is driven by tests/bench/rpc-load (plain sockets, msgpack-c,
# pipelined batches like redis-benchmark -P). redis is measured both by
# redis-benchmark and by rpc-load --resp, so the client's own cost can be
# told apart from the server's. Scale the request counts with
# RPC_BENCH_SCALE (default 1).
set -eu

builddir=${top_builddir:-$(pwd)}
agent=$builddir/agent/blagent
load=$builddir/tests/bench/rpc-load
scale=${RPC_BENCH_SCALE:-1}

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

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
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
sleep 0.2
idle_rss=$(rss_kb "$agent_pid")
idle_anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$agent_pid/status")
idle_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$agent_pid/smaps_rollup")
idle_libs=$(awk '/^[0-9a-f]+-/ { lib = $6 } /^Rss:/ && lib ~ /\.so/ {
    sub(/.*\//, "", lib); kb[lib] += $2 } END { for (l in kb) if (kb[l] >= 100)
    printf "%s %d kB, ", l, kb[l] }' "/proc/$agent_pid/smaps")

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

echo "blagent Ping vs redis-server PING, unix sockets, $(nproc) CPUs" \
    "${server_cpu:+(servers on CPU 0, clients on CPU 1)}"
echo "rps: requests/s; p50/p99: latency in us; cpu: server CPU us/request"
printf '%-22s %8s %5s %5s %5s | %8s %5s %5s %5s | %8s %5s | %6s %6s\n' \
    "" "agent" p50 p99 cpu "redis" p50 p99 cpu "redis*" cpu \
    ratio ratio*
for spec in "1 1 50000" "50 1 200000" "1 16 500000"; do
	set -- $spec
	c=$1 p=$2 n=$(($3 * scale))
	t0=$(cpu_ticks "$agent_pid")
	a=$($client_cpu "$load" --socket "$tmp/status.sock" --clients "$c" \
	    --depth "$p" --requests "$n")
	t1=$(cpu_ticks "$agent_pid")
	r=$($client_cpu redis-benchmark -s "$tmp/redis.sock" -c "$c" -P "$p" \
	    -n "$n" -t ping_mbulk --csv 2>/dev/null)
	t2=$(cpu_ticks "$redis_pid")
	rl=$($client_cpu "$load" --resp --socket "$tmp/redis.sock" \
	    --clients "$c" --depth "$p" --requests "$n")
	t3=$(cpu_ticks "$redis_pid")
	a_rps=$(field rps "$a")
	r_rps=$(csv_field 2 "$r")
	rl_rps=$(field rps "$rl")
	r_p50=$(awk -v v="$(csv_field 5 "$r")" 'BEGIN { printf "%d", v * 1000 }')
	r_p99=$(awk -v v="$(csv_field 7 "$r")" 'BEGIN { printf "%d", v * 1000 }')
	printf '%-22s %8s %5s %5s %5s | %8.0f %5s %5s %5s | %8s %5s | %5sx %5sx\n' \
	    "$c client(s), depth $p" "$a_rps" "$(field p50_us "$a")" \
	    "$(field p99_us "$a")" "$(us_per_req $((t1 - t0)) "$n")" \
	    "$r_rps" "$r_p50" "$r_p99" "-" \
	    "$rl_rps" "$(us_per_req $((t3 - t2)) "$n")" \
	    "$(ratio "$a_rps" "$r_rps")" "$(ratio "$a_rps" "$rl_rps")"
done
echo "redis: measured by redis-benchmark; redis*: by rpc-load --resp, the" \
    "client that measures the agent. ratio = agent / redis rps;" \
    "ratio* = agent / redis* rps."

# Memory with 1000 connections open (each has said Ping once).
"$load" --socket "$tmp/status.sock" --clients 1000 --requests 1000 \
    --hold "$tmp/hold" >/dev/null &
hold_pid=$!
i=0
while [ ! -e "$tmp/hold" ]; do
	i=$((i + 1))
	[ $i -gt 1000 ] && { echo "rpc-bench: hold never came" >&2; exit 1; }
	sleep 0.01
done
conn_rss=$(rss_kb "$agent_pid")
conn_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$agent_pid/smaps_rollup")
rm -f "$tmp/hold"
wait "$hold_pid"
echo "agent memory idle: VmRSS ${idle_rss} kB (goal 2048 kB:" \
    "$(ratio "$idle_rss" 2048)x), RssAnon ${idle_anon} kB, Pss ${idle_pss} kB"
echo "  shared libraries in that RSS: ${idle_libs%, }"
echo "agent memory with 1000 connections: VmRSS ${conn_rss} kB," \
    "Pss ${conn_pss} kB ($(( (conn_rss - idle_rss) * 1024 / 1000 )) bytes" \
    "per connection)"
