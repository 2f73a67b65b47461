"""make bench: a volume (ext4 in an image on a loop device, mounted by a
real agent) against native ext4 on the same disk, and against a blfs
drive on the same store, all in one run. Data: sequential 1 GiB write
(with fsync) and cold read, 4 KiB random write and cold random read.
Metadata: create, warm stat and unlink of 20000 files, readdir of 10000
entries. Prints medians of rounds (sides in a rotating order) and the
ratios; asserts nothing about time. Needs root, fio and a disk-backed
/var/tmp (the native side and the store live there)."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "rpc"))
import blrpc  # noqa: E402

ROUNDS = int(os.environ.get("VOLUME_BENCH_ROUNDS", "3"))
build = os.environ["top_builddir"]
N_FILES = 20000
SIDES = ["native", "volume", "blfs"]


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


def names(d):
    p = os.path.join(d, "many")
    os.makedirs(p, exist_ok=True)
    return ["%s/f%05d" % (p, i) for i in range(N_FILES)]


def timed(ns, fn):
    t = time.perf_counter()
    for n in ns:
        fn(n)
    return len(ns) / (time.perf_counter() - t)


def create(d):
    return timed(names(d), lambda n: os.close(
        os.open(n, os.O_WRONLY | os.O_CREAT, 0o644)))


def stat_warm(d):
    ns = names(d)
    for n in ns:
        os.stat(n)
    return timed(ns, os.stat)


def unlink(d):
    return timed(names(d), os.unlink)


def readdir_cold(d):
    p = os.path.join(d, "listing")
    if not os.path.isdir(p):
        os.makedirs(p)
        for i in range(10000):
            os.close(os.open("%s/entry-%05d" % (p, i),
                             os.O_WRONLY | os.O_CREAT, 0o644))
    drop_caches()
    t = time.perf_counter()
    n = len(os.listdir(p))
    for e in os.scandir(p):
        e.stat()
    return n / (time.perf_counter() - t)


TESTS = [
    ("seq write 1 GiB (MiB/s)", seq_write, "data"),
    ("seq read 1 GiB cold (MiB/s)", seq_read, "data"),
    ("4k rand write (IOPS)", rand_write, "data"),
    ("4k rand read cold (IOPS)", rand_read, "data"),
    ("create 20k (files/s)", create, "meta"),
    ("stat 20k warm (stats/s)", stat_warm, "meta"),
    ("unlink 20k (files/s)", unlink, "meta"),
    ("ls -l 10k cold (entries/s)", readdir_cold, "meta"),
]


def main():
    tmp = tempfile.mkdtemp(prefix="volume-bench.", dir="/var/tmp")
    store = os.path.join(tmp, "store")
    blctl = os.path.join(build, "blctl", "blctl")
    for args in (["vol", "--kind", "volume", "--size", "3GiB"], ["drv"]):
        subprocess.run([blctl, "drive", "--store", store, "create"] + args,
                       check=True, stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(tmp, "agent"))
    agent = blrpc.Agent("--store", store, "--blfs",
                        os.path.join(build, "blfs", "blfs"),
                        tmpdir=os.path.join(tmp, "agent"), log_level="warn")
    dirs = {"native": os.path.join(tmp, "native"),
            "volume": os.path.join(tmp, "mnt-vol"),
            "blfs": os.path.join(tmp, "mnt-drv")}
    os.makedirs(dirs["native"])
    try:
        c = blrpc.Client(agent.control, timeout=60)
        for drive, side in (("vol", "volume"), ("drv", "blfs")):
            e, _ = c.call("Mount", {"drive": drive, "mount_path":
                                    dirs[side], "wait": True}, timeout=60)
            if e is not None:
                sys.exit("volume-bench: mounting %s: %s" % (drive, e))
        for s in SIDES:
            fio(dirs[s], "rand", "write", "1m", "256m", ["--end_fsync=1"])
        res = {t[0]: {s: [] for s in SIDES} for t in TESTS}
        for r in range(ROUNDS):
            order = SIDES[r % 3:] + SIDES[:r % 3]
            for s in order:
                for name, fn, _ in TESTS:
                    res[name][s].append(fn(dirs[s]))
        med = {n: {s: statistics.median(v[s]) for s in SIDES}
               for n, v in res.items()}
        print("%-28s %10s %10s %10s %13s %12s %12s" % (
            "test", "native", "volume", "blfs", "volume/native",
            "blfs/native", "volume/blfs"))
        for name, _, _ in TESTS:
            v = med[name]
            print("%-28s %10.0f %10.0f %10.0f %12.2fx %11.2fx %11.2fx" % (
                name, v["native"], v["volume"], v["blfs"],
                v["volume"] / v["native"], v["blfs"] / v["native"],
                v["volume"] / v["blfs"]))
        print()
        for name, _, kind in TESTS:
            v = med[name]
            if kind == "data":
                r = v["volume"] / v["native"]
                print("goal %-28s volume >= 0.9x native   %5.2fx %s" % (
                    name, r, "met" if r >= 0.9 else "NOT met"))
            else:
                r = v["volume"] / v["blfs"]
                print("goal %-28s volume beats blfs       %5.2fx %s" % (
                    name, r, "met" if r > 1.0 else "NOT met"))
        print()
        print("every round (native / volume / blfs):")
        for name, _, _ in TESTS:
            print("  %-28s %s" % (name, " | ".join(
                " ".join("%.0f" % x for x in res[name][s]) for s in SIDES)))
    finally:
        try:
            c = blrpc.Client(agent.control, timeout=30)
            for side in ("volume", "blfs"):
                c.call("Unmount", {"mount_path": dirs[side],
                                   "force": True}, timeout=30)
        except Exception:
            pass
        agent.stop()
        agent.cleanup()
        for side in ("volume", "blfs"):
            subprocess.run(["umount", "-l", dirs[side]],
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("volume-bench: must run as root (mounts, drop_caches)")
    if shutil.which("fio") is None:
        sys.exit("volume-bench: fio is not installed")
    print("volume-bench: median of %d rounds; load average %s" % (
        ROUNDS, open("/proc/loadavg").read().split()[:3]))
    main()
