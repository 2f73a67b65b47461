"""make bench (through ceph-bench.sh): blfs on a ceph store against
ceph-fuse, both mounted on the same CephFS directory of one cluster, in
the same run. Each side works in a directory of its own beneath it, so
the two clients never contend for a capability. Prints the median of
several rounds per side (sides in a rotating order), both figures and
blfs/ceph-fuse; asserts nothing.

Metadata: create, cold and warm stat and unlink of CEPH_BENCH_FILES
files, readdir of a 10000-entry directory. "Cold" stat follows a drop of
the kernel's caches (drop_caches): every name is looked up anew through
the FUSE server, whose libcephfs may still hold it, on both sides alike.
Data: 4 KiB random writes for 3 s into a 64 MiB file then fsync,
sequential 256 MiB write then fsync, and a cold sequential 256 MiB read
of a file another client (libcephfs, not timed) wrote just before: no
cache of the reading side has seen it, the kernel's pages are dropped
too.

argv: the bench's temporary directory (mounts at fuse/ and blfs/), the
cluster's directory (ceph.conf, admin.keyring)."""

import json
import os
import statistics
import subprocess
import sys
import time

import cephfs

tmp, cdir = sys.argv[1], sys.argv[2]
ROUNDS = int(os.environ.get("CEPH_BENCH_ROUNDS", "3"))
N_FILES = int(os.environ.get("CEPH_BENCH_FILES", "5000"))
N_LIST = 10000
ONLY = os.environ.get("CEPH_BENCH_ONLY", "")
if ONLY not in ("", "data", "meta"):
    sys.exit("ceph-bench: CEPH_BENCH_ONLY is data or meta, not " + ONLY)
SIDES = ["ceph-fuse", "blfs"]
MOUNT = {"ceph-fuse": "fuse", "blfs": "blfs"}
# Each side's own directory, as its mount sees it and as CephFS names it.
DIRS = {s: os.path.join(tmp, MOUNT[s], "w-" + MOUNT[s]) for s in SIDES}
CEPH_DIRS = {s: "/bench/w-" + MOUNT[s] for s in SIDES}
DATA_MIB = 256


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


admin = cephfs.LibCephFS(conffile=cdir + "/ceph.conf", auth_id="admin",
                         conf={"keyring": cdir + "/admin.keyring"})
admin.mount(filesystem_name=b"cephfs")


def admin_write(path, mib):
    """A file of mib MiB written by another client, synced."""
    chunk = os.urandom(4 << 20)
    fd = admin.open(path.encode(), "w", 0o644)
    for i in range(0, mib, 4):
        admin.write(fd, chunk, i << 20)
    admin.fsync(fd, 0)
    admin.close(fd)


# ---- data -------------------------------------------------------------

def rand_write(side, d, r):
    return fio(d, "rand", "randwrite", "4k", "64m",
               ["--runtime=3", "--time_based", "--end_fsync=1"])["iops"]


def seq_write(side, d, r):
    p = os.path.join(d, "seq")
    if os.path.exists(p):
        os.unlink(p)
    return fio(d, "seq", "write", "1m", "%dm" % DATA_MIB,
               ["--end_fsync=1"])["bw_bytes"] / 2**20


def seq_read(side, d, r):
    name = "cold-%d" % r
    admin_write(CEPH_DIRS[side] + "/" + name, DATA_MIB)
    drop_caches()
    v = fio(d, name, "read", "1m", "%dm" % DATA_MIB)["bw_bytes"] / 2**20
    os.unlink(os.path.join(d, name))
    return v


# ---- metadata ---------------------------------------------------------

def names(d):
    p = os.path.join(d, "many")
    os.makedirs(p, exist_ok=True)
    return ["%s/f%05d" % (p, i) for i in range(N_FILES)]


def rate(n, fn):
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def create(side, d, r):
    ns = names(d)
    return rate(N_FILES, lambda: [
        os.close(os.open(n, os.O_WRONLY | os.O_CREAT, 0o644)) for n in ns])


def stat_cold(side, d, r):
    ns = names(d)
    drop_caches()
    return rate(N_FILES, lambda: [os.stat(n) for n in ns])


def stat_warm(side, d, r):
    ns = names(d)
    for n in ns:
        os.stat(n)
    return rate(N_FILES, lambda: [os.stat(n) for n in ns])


def unlink(side, d, r):
    ns = names(d)
    return rate(N_FILES, lambda: [os.unlink(n) for n in ns])


def readdir(side, d, r):
    p = os.path.join(d, "listing")
    if not os.path.isdir(p):
        os.makedirs(p)
        for i in range(N_LIST):
            os.close(os.open("%s/entry-%05d" % (p, i),
                             os.O_WRONLY | os.O_CREAT, 0o644))
    os.listdir(p)
    n = 10
    return rate(n * N_LIST, lambda: [os.listdir(p) for _ in range(n)])


# name, function, half, goal (blfs/ceph-fuse at least), unit
TESTS = [
    ("create (files/s)", create, "meta", 1.0),
    ("stat cold (stats/s)", stat_cold, "meta", 1.0),
    ("stat warm (stats/s)", stat_warm, "meta", 1.0),
    ("unlink (files/s)", unlink, "meta", None),
    ("readdir 10k (entries/s)", readdir, "meta", 1.0),
    ("4k rand write (IOPS)", rand_write, "data", 0.9),
    ("seq write+fsync (MiB/s)", seq_write, "data", 0.9),
    ("seq read cold (MiB/s)", seq_read, "data", 0.9),
]
tests = [t for t in TESTS if not ONLY or t[2] == ONLY]
# create, stat and unlink run as one sequence per side: the files the one
# makes are the ones the next stats and the last removes.
SEQUENCE = (create, stat_cold, stat_warm, unlink)

print("ceph-bench: %d rounds, %d files, %d MiB of data; load average %s" % (
    ROUNDS, N_FILES, DATA_MIB, open("/proc/loadavg").read().split(" ", 3)[
        0:3]))
for s in SIDES:
    os.makedirs(DIRS[s], exist_ok=True)
    if ONLY != "meta":
        fio(DIRS[s], "rand", "write", "1m", "64m", ["--end_fsync=1"])

results = {t[0]: {s: [] for s in SIDES} for t in tests}
for r in range(ROUNDS):
    order = SIDES[r % len(SIDES):] + SIDES[:r % len(SIDES)]
    for name, fn, _, _ in tests:
        if fn in SEQUENCE[1:]:
            continue
        for s in order:
            if fn is create:
                for n2, f2, _, _ in tests:
                    if f2 in SEQUENCE:
                        results[n2][s].append(f2(s, DIRS[s], r))
            else:
                results[name][s].append(fn(s, DIRS[s], r))
admin.unmount()
admin.shutdown()

med = {n: {s: statistics.median(v[s]) for s in SIDES}
       for n, v in results.items()}
# The ratio of the medians, and the median of each round's ratio (the two
# sides of a round ran minutes apart at most: on a loaded machine it
# moves less with the load).
print("%-26s %11s %11s %16s %10s  %s" % (
    "case (median)", "blfs", "ceph-fuse", "blfs/ceph-fuse", "by round",
    "goal"))
for name, _, _, goal in tests:
    v = med[name]
    ratio = v["blfs"] / v["ceph-fuse"]
    by_round = statistics.median(
        b / f for b, f in zip(results[name]["blfs"],
                              results[name]["ceph-fuse"]))
    print("%-26s %11.0f %11.0f %15.2fx %9.2fx  %s" % (
        name, v["blfs"], v["ceph-fuse"], ratio, by_round,
        "" if goal is None else ">= %.1fx %s" % (
            goal, "met" if min(ratio, by_round) >= goal else
            "met by one measure" if max(ratio, by_round) >= goal else
            "NOT met")))
print()
print("every round (blfs | ceph-fuse), ratio per round:")
for name, *_ in tests:
    b, f = results[name]["blfs"], results[name]["ceph-fuse"]
    print("  %-24s %s | %s   %s" % (
        name, " ".join("%.0f" % x for x in b), " ".join("%.0f" % x for x in f),
        " ".join("%.2f" % (x / y) for x, y in zip(b, f))))
