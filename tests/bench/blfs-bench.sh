#!/bin/sh
# blfs against the native filesystem beneath the store and against bindfs
# over the same directory, measured in the same run: sequential 1 GiB
# write and cold read, 4 KiB random read and write, create/stat/unlink of
# 20000 files, readdir of 10000 entries. Prints ratios; asserts nothing.
# blfs runs with --writeback (the goal for writes is stated with it).
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
DRIVER="$top_builddir/tests/blfs/blfs-mount"
PY=${PYTHON3:-/usr/bin/python3}

bail() { echo "blfs-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || bail "must run as root (mounts, drop_caches)"
for c in fio bindfs "$PY"; do
	command -v "$c" >/dev/null || bail "$c is not installed"
done
[ -x "$DRIVER" ] || make -C "$top_builddir" tests/blfs/blfs-mount \
	>/dev/null || bail "cannot build tests/blfs/blfs-mount"

# On the same filesystem as everything else here (/var/tmp: disk, not tmpfs).
tmp=$(mktemp -d /var/tmp/blfs-bench.XXXXXX)
cleanup() {
	"$DRIVER" umount "$tmp/blfs" 2>/dev/null
	umount -l "$tmp/bindfs" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/store/drive/native" "$tmp/store/drive/bindfs" \
	"$tmp/store/drive/blfs" "$tmp/bindfs" "$tmp/blfs"

bindfs "$tmp/store/drive" "$tmp/bindfs" || bail "bindfs failed"
"$DRIVER" mount --log "$tmp/blfs.log" "$tmp/store/drive" . "$tmp/blfs" \
	-- --writeback || bail "blfs mount failed: $(cat "$tmp/blfs.log")"

"$PY" - "$tmp" <<'EOF'
import json
import os
import subprocess
import sys
import time

tmp = sys.argv[1]
targets = [("native", os.path.join(tmp, "store/drive/native")),
           ("bindfs", os.path.join(tmp, "bindfs/bindfs")),
           ("blfs", os.path.join(tmp, "blfs/blfs"))]


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
    side = job["read"] if "read" in rw else job["write"]
    return side


def seq_write(d):
    s = fio(d, "seq", "write", "1m", "1g", ["--end_fsync=1"])
    return s["bw_bytes"] / 2**20


def seq_read(d):
    drop_caches()
    s = fio(d, "seq", "read", "1m", "1g")
    return s["bw_bytes"] / 2**20


def rand_prep(d):
    fio(d, "rand", "write", "1m", "256m", ["--end_fsync=1"])


def rand_read(d):
    drop_caches()
    s = fio(d, "rand", "randread", "4k", "256m",
            ["--runtime=4", "--time_based"])
    return s["iops"]


def rand_write(d):
    s = fio(d, "rand", "randwrite", "4k", "256m",
            ["--runtime=4", "--time_based", "--end_fsync=1"])
    return s["iops"]


N_FILES = 20000


def files_dir(d):
    p = os.path.join(d, "many")
    os.makedirs(p, exist_ok=True)
    return p


def create(d):
    p = files_dir(d)
    t = time.perf_counter()
    for i in range(N_FILES):
        os.close(os.open("%s/f%05d" % (p, i), os.O_WRONLY | os.O_CREAT,
                         0o644))
    return N_FILES / (time.perf_counter() - t)


def stat_warm(d):
    p = files_dir(d)
    names = ["%s/f%05d" % (p, i) for i in range(N_FILES)]
    for n in names:  # warm: the kernel has seen every name
        os.stat(n)
    t = time.perf_counter()
    for n in names:
        os.stat(n)
    return N_FILES / (time.perf_counter() - t)


def unlink(d):
    p = files_dir(d)
    t = time.perf_counter()
    for i in range(N_FILES):
        os.unlink("%s/f%05d" % (p, i))
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
    rounds = 20
    for _ in range(rounds):
        os.listdir(p)
    return rounds * 10000 / (time.perf_counter() - t)


tests = [
    ("seq write 1 GiB (MiB/s)", seq_write, "writes >= 0.9x native", 0.9),
    ("seq read 1 GiB cold (MiB/s)", seq_read, "reads >= 0.97x native", 0.97),
    ("4k rand write (IOPS)", rand_write, "writes >= 0.9x native", 0.9),
    ("4k rand read cold (IOPS)", rand_read, "reads >= 0.97x native", 0.97),
    ("create 20k (files/s)", create, "creates >= 3x bindfs", None),
    ("stat 20k warm (stats/s)", stat_warm, "warm stat >= 0.9x native", 0.9),
    ("unlink 20k (files/s)", unlink, "", None),
    ("readdir 10k (entries/s)", readdir, "", None),
]

for _, d in targets:
    os.makedirs(d, exist_ok=True)
    rand_prep(d)

rows = []
for name, fn, goal, native_goal in tests:
    vals = {}
    for label, d in targets:
        vals[label] = fn(d)
    rows.append((name, vals, goal, native_goal))

print("%-30s %12s %12s %12s %12s %12s" % ("test", "native", "bindfs",
                                           "blfs", "blfs/native",
                                           "blfs/bindfs"))
for name, v, goal, native_goal in rows:
    print("%-30s %12.0f %12.0f %12.0f %11.2fx %11.2fx" % (
        name, v["native"], v["bindfs"], v["blfs"], v["blfs"] / v["native"],
        v["blfs"] / v["bindfs"]))
print()
for name, v, goal, native_goal in rows:
    if not goal:
        continue
    if native_goal is not None:
        r = v["blfs"] / v["native"]
        met = r >= native_goal
    else:
        r = v["blfs"] / v["bindfs"]
        met = r >= 3
    print("goal %-28s %-28s %5.2fx %s" % (name, goal, r,
                                         "met" if met else "NOT met"))
EOF
