#!/bin/sh
# blfs against the native filesystem beneath the store and against bindfs
# over the same directory, measured in the same run. Prints the median of
# several rounds per side and the ratios; asserts nothing.
#
# Data (on disk, /var/tmp): sequential 1 GiB write and cold read, 4 KiB
# random write, and cold 4 KiB random read of a fixed number of blocks.
# Metadata (on a tmpfs store): create, warm stat and unlink of 20000
# files, readdir of 10000 entries.
#
# What makes the figures comparable:
#  - every side runs the same fio job on a file of the same size, in its
#    own directory of the same store, in a rotating order each round;
#  - "cold" drops the page cache (sync; drop_caches 3) right before each
#    side's run, which drops the FUSE mount's pages and the store's alike;
#  - the cold random read reads 8192 distinct blocks (fio's random map)
#    of a 1 GiB file at offsets that differ every run (randrepeat=0): no
#    read hits a page an earlier read brought in, and none hits blocks the
#    host may still cache from the previous side's run. (A time-based run
#    over a small file mostly measures how soon the file is all cached.)
#  - metadata runs on tmpfs: on ext4 without a journal, creating files
#    right after many were deleted walks the recently deleted inodes, so
#    the order of the sides alone changed create rates tenfold. On tmpfs
#    the figure is the cost of the server, and native is at its fastest,
#    so the ratios are if anything strict;
#  - bindfs runs with its defaults (single-threaded; its --multithreaded
#    has a documented security issue), blfs as the agent starts it plus
#    $BLFS_BENCH_ARGS (default none: the goals are stated for a mount
#    made without options, which uses FUSE passthrough; the test driver
#    registers the backing files as the agent does). --writeback
#    measures the writeback cache instead, which excludes passthrough.
#
# Environment: BLFS_BENCH_ROUNDS (default 3), BLFS_BENCH_BLFS (the blfs
# binary, default the build's: point it at another build to compare two
# versions), BLFS_BENCH_ARGS (default none), BLFS_BENCH_ONLY
# ("data" or "meta": one half of the tests; default both),
# BLFS_BENCH_METRICS (1: a fourth side, blfs counting into a metrics
# file as the agent starts it, to show what counting costs).
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
DRIVER="$top_builddir/tests/blfs/blfs-mount"
PY=${PYTHON3:-/usr/bin/python3}
ROUNDS=${BLFS_BENCH_ROUNDS:-3}
BLFS=${BLFS_BENCH_BLFS:-$top_builddir/blfs/blfs}
ARGS=${BLFS_BENCH_ARGS-}
ONLY=${BLFS_BENCH_ONLY:-}
METRICS=${BLFS_BENCH_METRICS:-0}
case $ONLY in
''|data|meta) ;;
*) echo "blfs-bench: BLFS_BENCH_ONLY is data or meta, not $ONLY" >&2
   exit 2 ;;
esac

bail() { echo "blfs-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || bail "must run as root (mounts, drop_caches)"
for c in fio bindfs "$PY"; do
	command -v "$c" >/dev/null || bail "$c is not installed"
done
[ -x "$DRIVER" ] || make -C "$top_builddir" tests/blfs/blfs-mount \
	>/dev/null || bail "cannot build tests/blfs/blfs-mount"
[ -x "$BLFS" ] || bail "no blfs at $BLFS"

# On the same filesystem as everything else here (/var/tmp: disk, not tmpfs).
tmp=$(mktemp -d /var/tmp/blfs-bench.XXXXXX)
cleanup() {
	for m in blfs mem/blfs blfsm mem/blfsm; do
		"$DRIVER" umount "$tmp/$m" 2>/dev/null
	done
	for m in bindfs mem/bindfs mem; do
		umount -l "$tmp/$m" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
mkdir -p "$tmp/store/drive" "$tmp/bindfs" "$tmp/blfs" "$tmp/blfsm" \
	"$tmp/mem"
mount -t tmpfs -o size=768m,mode=0755 bench "$tmp/mem" ||
	bail "cannot mount a tmpfs"
mkdir -p "$tmp/mem/store/drive" "$tmp/mem/bindfs" "$tmp/mem/blfs" \
	"$tmp/mem/blfsm"

for s in "$tmp" "$tmp/mem"; do
	bindfs "$s/store/drive" "$s/bindfs" || bail "bindfs failed"
	# shellcheck disable=SC2086
	"$DRIVER" mount --blfs "$BLFS" --log "$tmp/blfs.log" \
		"$s/store" drive "$s/blfs" -- $ARGS ||
		bail "blfs mount failed: $(cat "$tmp/blfs.log")"
	[ "$METRICS" = 1 ] || continue
	# shellcheck disable=SC2086
	"$DRIVER" mount --blfs "$BLFS" --log "$tmp/blfs.log" \
		--stats "$tmp/stats.$(basename "$s")" \
		"$s/store" drive "$s/blfsm" -- $ARGS ||
		bail "blfs mount failed: $(cat "$tmp/blfs.log")"
done

echo "blfs-bench: $BLFS $ARGS, median of $ROUNDS rounds;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$tmp" "$ROUNDS" "$ONLY" "$METRICS" <<'EOF'
import json
import os
import statistics
import subprocess
import sys
import time

tmp, rounds, only = sys.argv[1], int(sys.argv[2]), sys.argv[3]
metrics = sys.argv[4] == "1"
sides = ["native", "bindfs", "blfs"] + (["blfsm"] if metrics else [])


def where(store, side):
    """The side's own directory, as each side sees the same store."""
    base = {"native": "store/drive", "bindfs": "bindfs",
            "blfs": "blfs", "blfsm": "blfsm"}[side]
    return os.path.join(store, base, side)


disk = {s: where(tmp, s) for s in sides}
mem = {s: where(os.path.join(tmp, "mem"), s) for s in sides}


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")


def fio(directory, name, rw, bs, size, extra=()):
    cmd = ["fio", "--name=" + name, "--directory=" + directory,
           "--filename=" + name, "--rw=" + rw, "--bs=" + bs,
           "--size=" + size, "--ioengine=psync", "--output-format=json",
           "--allow_file_create=1"] + list(extra)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
    job = json.loads(out)["jobs"][0]
    return job["read"] if "read" in rw else job["write"]


def seq_write(d):
    p = os.path.join(d, "seq")
    if os.path.exists(p):
        os.unlink(p)
    return fio(d, "seq", "write", "1m", "1g",
               ["--end_fsync=1"])["bw_bytes"] / 2**20


def seq_read(d):
    drop_caches()
    return fio(d, "seq", "read", "1m", "1g")["bw_bytes"] / 2**20


def rand_write(d):
    return fio(d, "rand", "randwrite", "4k", "256m",
               ["--runtime=3", "--time_based", "--end_fsync=1"])["iops"]


def rand_read(d):
    drop_caches()
    return fio(d, "seq", "randread", "4k", "1g",
               ["--io_size=32m", "--randrepeat=0"])["iops"]


N_FILES = 20000


def names(d):
    p = os.path.join(d, "many")
    os.makedirs(p, exist_ok=True)
    return ["%s/f%05d" % (p, i) for i in range(N_FILES)]


def create(d):
    ns = names(d)
    t = time.perf_counter()
    for n in ns:
        os.close(os.open(n, os.O_WRONLY | os.O_CREAT, 0o644))
    return N_FILES / (time.perf_counter() - t)


def stat_warm(d):
    ns = names(d)
    for n in ns:  # warm: the kernel has seen every name
        os.stat(n)
    t = time.perf_counter()
    for n in ns:
        os.stat(n)
    return N_FILES / (time.perf_counter() - t)


def unlink(d):
    ns = names(d)
    t = time.perf_counter()
    for n in ns:
        os.unlink(n)
    return N_FILES / (time.perf_counter() - t)


def readdir(d):
    p = os.path.join(d, "listing")
    if not os.path.isdir(p):
        os.makedirs(p)
        for i in range(10000):
            os.close(os.open("%s/entry-%05d" % (p, i),
                             os.O_WRONLY | os.O_CREAT, 0o644))
    os.listdir(p)
    t = time.perf_counter()
    n = 20
    for _ in range(n):
        os.listdir(p)
    return n * 10000 / (time.perf_counter() - t)


# name, function, directories, goal text, goal ratio, goal against
tests = [
    ("seq write 1 GiB (MiB/s)", seq_write, disk,
     "writes >= 0.9x native", 0.9, "native"),
    ("seq read 1 GiB cold (MiB/s)", seq_read, disk,
     "reads >= 0.97x native", 0.97, "native"),
    ("4k rand write (IOPS)", rand_write, disk,
     "writes >= 0.9x native", 0.9, "native"),
    ("4k rand read cold (IOPS)", rand_read, disk,
     "reads >= 0.97x native", 0.97, "native"),
    ("create 20k (files/s)", create, mem,
     "creates >= 3x bindfs", 3, "bindfs"),
    ("stat 20k warm (stats/s)", stat_warm, mem,
     "warm stat >= 0.9x native", 0.9, "native"),
    ("unlink 20k (files/s)", unlink, mem, "", None, None),
    ("readdir 10k (entries/s)", readdir, mem, "", None, None),
]
if only:
    tests = [t for t in tests if (t[2] is mem) == (only == "meta")]

for s in sides:
    os.makedirs(disk[s], exist_ok=True)
    os.makedirs(mem[s], exist_ok=True)
    if only != "meta":
        fio(disk[s], "rand", "write", "1m", "256m", ["--end_fsync=1"])

results = {t[0]: {s: [] for s in sides} for t in tests}
for r in range(rounds):
    order = sides[r % len(sides):] + sides[:r % len(sides)]
    for name, fn, dirs, _, _, _ in tests:
        if fn is create:
            # create, stat and unlink run as one sequence per side
            for s in order:
                for n2, f2, _, _, _, _ in tests:
                    if f2 in (create, stat_warm, unlink):
                        results[n2][s].append(f2(dirs[s]))
        elif fn in (stat_warm, unlink):
            continue
        else:
            for s in order:
                results[name][s].append(fn(dirs[s]))

med = {n: {s: statistics.median(v[s]) for s in sides}
       for n, v in results.items()}
print("%-30s %11s %11s %11s %12s %12s" % ("test", "native", "bindfs",
                                          "blfs", "blfs/native",
                                          "blfs/bindfs"))
for name, *_ in tests:
    v = med[name]
    print("%-30s %11.0f %11.0f %11.0f %11.2fx %11.2fx" % (
        name, v["native"], v["bindfs"], v["blfs"], v["blfs"] / v["native"],
        v["blfs"] / v["bindfs"]))
if metrics:
    print()
    print("%-30s %12s %12s %16s" % ("test", "blfs", "blfs+metrics",
                                    "metrics on/off"))
    for name, *_ in tests:
        v = med[name]
        print("%-30s %12.0f %12.0f %15.3fx" % (name, v["blfs"], v["blfsm"],
                                               v["blfsm"] / v["blfs"]))
print()
for name, _, _, goal, ratio, against in tests:
    if not goal:
        continue
    r = med[name]["blfs"] / med[name][against]
    print("goal %-28s %-26s %5.2fx %s" % (name, goal, r,
                                         "met" if r >= ratio else "NOT met"))
print()
print("every round (native / bindfs / blfs):")
for name, *_ in tests:
    print("  %-28s %s" % (name, " | ".join(
        " ".join("%.0f" % x for x in results[name][s]) for s in sides)))
EOF
echo "blfs-bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
