"""make bench: what a shared drive costs, and that a drive mounted once
pays nothing for it. Real agents, blfs as the agent starts it (with its
mount lock and the drive's mounts/ directory), one drive on a tmpfs store
and one on a disk store (/var/tmp). Every figure is measured beside the
same operations on the store's filesystem directly, in the same run, and
printed as a ratio. Asserts nothing. Needs root and /dev/fuse.

Four sides, each in its own directory, in a rotated order every round:
  native      the store's filesystem directly (beside the store)
  once        agent A's mount, the drive mounted nowhere else
  twice       the same, while agent B (another mount namespace) mounts
              the drive too: A's blfs watches every directory its kernel
              knows and turns each change into invalidations
  twice+read  as twice, and a reader on B's mount lists A's directories
              and reads the files A writes every SHARE_BENCH_READ_MS, so
              B's blfs has them watched and passes A's changes on to B
B is mounted afresh before each shared side and unmounted after it; the
measurement always runs through A's mount.

Environment: SHARE_BENCH_ROUNDS (default 3), SHARE_BENCH_FILES (files
created, stated, unlinked; default 5000), SHARE_BENCH_SEQ (sequential
write size, fio's units; default 256m), SHARE_BENCH_RAND_SECONDS (4 KiB
random write run; default 2), SHARE_BENCH_READ_MS (the reader's pause;
default 100), SHARE_BENCH_STORES (tmpfs, disk or both, comma-separated;
default both), SHARE_BENCH_ONLY (meta or data: one half of the tests;
default both), SHARE_BENCH_WRITEBACK (1: mount with options.writeback;
default off, the Mount default), SHARE_BENCH_BLFS (the blfs binary;
default the build's)."""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "rpc"))
import blrpc  # noqa: E402

ROUNDS = int(os.environ.get("SHARE_BENCH_ROUNDS", "3"))
N_FILES = int(os.environ.get("SHARE_BENCH_FILES", "5000"))
SEQ = os.environ.get("SHARE_BENCH_SEQ", "256m")
RAND_SECONDS = int(os.environ.get("SHARE_BENCH_RAND_SECONDS", "2"))
READ_PAUSE = int(os.environ.get("SHARE_BENCH_READ_MS", "100")) / 1000.0
STORES = os.environ.get("SHARE_BENCH_STORES", "tmpfs,disk").split(",")
ONLY = os.environ.get("SHARE_BENCH_ONLY", "")
WRITEBACK = os.environ.get("SHARE_BENCH_WRITEBACK", "") not in ("", "0")
BUILD = os.environ["top_builddir"]
BLFS = os.environ.get("SHARE_BENCH_BLFS",
                      os.path.join(BUILD, "blfs", "blfs"))
LISTING = 10000
SIDES = ["native", "once", "twice", "twice+read"]
SHARED_ON = "mounted elsewhere too"
SHARED_OFF = "the only mount"


class NsAgent(blrpc.Agent):
    """An agent in a mount namespace of its own: another sandbox."""

    def argv(self, foreground=True):
        return ["unshare", "--mount", "--propagation", "private", "--"] + \
            super().argv(foreground)


def fio(directory, name, rw, bs, size, extra=()):
    cmd = ["fio", "--name=" + name, "--directory=" + directory,
           "--filename=" + name, "--rw=" + rw, "--bs=" + bs,
           "--size=" + size, "--ioengine=psync", "--output-format=json",
           "--allow_file_create=1"] + list(extra)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
    return json.loads(out)["jobs"][0]["write"]


def many(d):
    p = os.path.join(d, "many")
    os.makedirs(p, exist_ok=True)
    return ["%s/f%05d" % (p, i) for i in range(N_FILES)]


def create(d):
    ns = many(d)
    t = time.perf_counter()
    for n in ns:
        os.close(os.open(n, os.O_WRONLY | os.O_CREAT, 0o644))
    return N_FILES / (time.perf_counter() - t)


def stat_warm(d):
    ns = many(d)
    for n in ns:		# warm: the kernel has seen every name
        os.stat(n)
    t = time.perf_counter()
    for n in ns:
        os.stat(n)
    return N_FILES / (time.perf_counter() - t)


def unlink(d):
    ns = many(d)
    t = time.perf_counter()
    for n in ns:
        os.unlink(n)
    return N_FILES / (time.perf_counter() - t)


def make_listing(d):
    """Made in the store directly: 10000 creates through a mount would
    take longer than the test."""
    p = os.path.join(d, "listing")
    os.makedirs(p)
    for i in range(LISTING):
        os.close(os.open("%s/entry-%05d" % (p, i),
                         os.O_WRONLY | os.O_CREAT, 0o644))


def readdir(d):
    p = os.path.join(d, "listing")
    os.listdir(p)
    n = 20
    t = time.perf_counter()
    for _ in range(n):
        os.listdir(p)
    return n * LISTING / (time.perf_counter() - t)


def seq_write(d):
    p = os.path.join(d, "seq")
    if os.path.exists(p):
        os.unlink(p)
    os.sync()
    mib = fio(d, "seq", "write", "1m", SEQ,
              ["--end_fsync=1"])["bw_bytes"] / 2**20
    os.unlink(p)		# room on the tmpfs for the next side's
    return mib


def rand_write(d):
    os.sync()
    return fio(d, "rand", "randwrite", "4k", "64m",
               ["--runtime=%d" % RAND_SECONDS, "--time_based",
                "--end_fsync=1"])["iops"]


TESTS = [
    ("create %d (files/s)" % N_FILES, create),
    ("stat %d warm (stats/s)" % N_FILES, stat_warm),
    ("unlink %d (files/s)" % N_FILES, unlink),
    ("readdir %d (entries/s)" % LISTING, readdir),
    ("seq write %s + fsync (MiB/s)" % SEQ, seq_write),
    ("4k rand write %ds (IOPS)" % RAND_SECONDS, rand_write),
]
if ONLY == "meta":
    TESTS = TESTS[:4]
elif ONLY == "data":
    TESTS = TESTS[4:]


def reader(top):
    """Through B's mount, forever: list every directory of A's side and
    read the first and last page of every file in it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            for e in os.scandir(top):
                try:
                    if e.is_dir(follow_symlinks=False):
                        for _ in os.scandir(e.path):
                            pass
                        continue
                    fd = os.open(e.path, os.O_RDONLY)
                    try:
                        size = os.fstat(fd).st_size
                        os.pread(fd, 4096, 0)
                        os.pread(fd, 4096, max(size - 4096, 0))
                    finally:
                        os.close(fd)
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(READ_PAUSE)


class Store:
    """One store, its drive, agents A and B, and the native directory."""

    def __init__(self, kind, top):
        self.kind = kind
        self.top = top
        self.store = os.path.join(top, "store")
        self.native = os.path.join(top, "native")
        self.agents = []
        self.b_path = None
        self.reader = None
        self.notes = []
        self.switch_seen = None	# whether A's blfs logs its switches
        self.a = self.b = self.ca = self.cb = None
        self.a_path = os.path.join(top, "mnt-a")
        self.dirs = {}

    def start(self):
        """The drive, both agents, A's mount, each side's directory."""
        top = self.top
        r = subprocess.run([os.path.join(BUILD, "blctl", "blctl"), "drive",
                            "--store", self.store, "create", "bench"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0:
            raise RuntimeError("blctl drive create: " + r.stderr)
        common = ["--store", self.store, "--blfs", BLFS]
        for name in ("a", "b"):
            os.makedirs(os.path.join(top, name))
        # A in this mount namespace: measured without /proc/PID/root.
        self.a = blrpc.Agent(*common, tmpdir=os.path.join(top, "a"),
                             log_level="info")
        self.agents.append(self.a)
        self.b = NsAgent(*common, tmpdir=os.path.join(top, "b"),
                         log_level="info")
        self.agents.append(self.b)
        self.ca = blrpc.Client(self.a.control, timeout=30)
        self.cb = blrpc.Client(self.b.control, timeout=30)
        self.mount(self.ca, self.a_path)
        self.dirs = {"native": os.path.join(self.native, "native")}
        data = os.path.join(self.store, "drives", "bench", "data")
        for s in SIDES:
            if s != "native":
                self.dirs[s] = os.path.join(self.a_path, s)
            make_listing(os.path.join(data, s) if s != "native" else
                         self.dirs[s])
        for d in self.dirs.values():
            fio(d, "rand", "write", "1m", "64m", ["--end_fsync=1"])

    @staticmethod
    def mount(client, path):
        params = {"drive": "bench", "mount_path": path, "wait": True}
        if WRITEBACK:
            params["options"] = {"writeback": True}
        err, res = client.call("Mount", params, timeout=30)
        if err is not None or res.get("state") != "mounted":
            raise RuntimeError("Mount %s: %r %r" % (path, err, res))

    @staticmethod
    def unmount(client, path):
        err, _ = client.call("Unmount", {"mount_path": path, "wait": True},
                             timeout=30)
        if err is not None:
            raise RuntimeError("Unmount %s: %r" % (path, err))

    def a_log_count(self, what):
        with open(self.a.logpath) as f:
            return f.read().count(what)

    def until_a_logs(self, what, before):
        """Waits until A's blfs has switched (a line in its log)."""
        if self.switch_seen is False:
            return
        deadline = time.monotonic() + 2.0
        while self.a_log_count(what) <= before:
            if time.monotonic() > deadline:
                self.switch_seen = False
                self.notes.append("A's blfs never logged \"%s\": "
                                  "a blfs without sharing?" % what)
                return
            time.sleep(0.005)
        self.switch_seen = True

    def set_side(self, side):
        """B mounted afresh for a shared side; the reader for +read."""
        if side in ("twice", "twice+read"):
            before = self.a_log_count(SHARED_ON)
            self.b_path = os.path.join(self.top, "mnt-b")
            self.mount(self.cb, self.b_path)
            self.until_a_logs(SHARED_ON, before)
        if side == "twice+read":
            seen = "/proc/%d/root%s/%s" % (self.b.pid, self.b_path, side)
            pid = os.fork()
            if pid == 0:
                try:
                    reader(seen)
                finally:
                    os._exit(0)
            self.reader = pid

    def end_side(self):
        if self.reader is not None:
            os.kill(self.reader, signal.SIGTERM)
            os.waitpid(self.reader, 0)
            self.reader = None
        if self.b_path is not None:
            before = self.a_log_count(SHARED_OFF)
            self.unmount(self.cb, self.b_path)
            self.b_path = None
            self.until_a_logs(SHARED_OFF, before)

    def close(self):
        try:
            self.end_side()
        except Exception as e:  # noqa: BLE001 - cleanup goes on
            print("share-bench: %s" % e, file=sys.stderr)
        for c, path in ((self.cb, os.path.join(self.top, "mnt-b")),
                        (self.ca, self.a_path)):
            if c is None:
                continue
            try:
                c.call("Unmount", {"mount_path": path, "wait": True},
                       timeout=30)
            except Exception:  # noqa: BLE001 - maybe never mounted
                pass
        # Whatever is left in B's namespace goes with B's help.
        if self.b is not None and self.b.alive():
            subprocess.run(["nsenter", "-t", str(self.b.pid), "-m", "sh",
                            "-c", "grep -o ' %s[^ ]* ' /proc/self/mounts | "
                            "sort -r | xargs -r -n1 umount -l" % self.top])
        for ag in self.agents:
            ag.stop()
            ag.cleanup()


def run_store(st):
    results = {t[0]: {s: [] for s in SIDES} for t in TESTS}
    for r in range(ROUNDS):
        order = SIDES[r % len(SIDES):] + SIDES[:r % len(SIDES)]
        for side in order:
            st.set_side(side)
            try:
                for name, fn in TESTS:
                    results[name][side].append(fn(st.dirs[side]))
            finally:
                st.end_side()
    return results


def report(kind, results, notes):
    med = {n: {s: statistics.median(v[s]) for s in SIDES}
           for n, v in results.items()}
    print()
    print("%s store, median of %d rounds; ratios against native measured "
          "in the same run" % (kind, ROUNDS))
    print("%-30s %9s %8s %8s %8s %8s %8s" % (
        "test", "native", "once", "twice", "tw+read", "tw/once",
        "tw+r/once"))
    for name, _ in TESTS:
        v = med[name]
        print("%-30s %9.0f %7.2fx %7.2fx %7.2fx %7.2fx %8.2fx" % (
            name, v["native"], v["once"] / v["native"],
            v["twice"] / v["native"], v["twice+read"] / v["native"],
            v["twice"] / v["once"], v["twice+read"] / v["once"]))
    print("every round (native | once | twice | twice+read):")
    for name, _ in TESTS:
        print("  %-28s %s" % (name, " | ".join(
            " ".join("%.0f" % x for x in results[name][s])
            for s in SIDES)))
    for n in notes:
        print("note: " + n)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        print("share-bench: needs root and /dev/fuse", file=sys.stderr)
        return 1
    if ONLY not in ("", "meta", "data"):
        print("share-bench: SHARE_BENCH_ONLY is meta or data, not %s" %
              ONLY, file=sys.stderr)
        return 2
    for c in ("fio", "unshare", "nsenter"):
        if shutil.which(c) is None:
            print("share-bench: %s is not installed" % c, file=sys.stderr)
            return 1
    # Like a shell trap: a signal still unmounts and stops the agents.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *a: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="share-bench.", dir="/var/tmp")
    os.chmod(tmp, 0o755)
    mem = os.path.join(tmp, "mem")
    os.makedirs(mem)
    mem_mounted = False
    stores = []
    print("share-bench: %s%s, %d files, seq %s, rand %d s, reader every "
          "%d ms; load average %s" % (
              BLFS, " (writeback)" if WRITEBACK else "", N_FILES, SEQ,
              RAND_SECONDS, READ_PAUSE * 1000,
              loadavg()))
    sys.stdout.flush()
    try:
        # Before any agent: B's mount namespace is a copy of ours.
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1g,mode=0755",
                        "share-bench", mem], check=True)
        mem_mounted = True
        for kind in STORES:
            if kind not in ("tmpfs", "disk"):
                print("share-bench: no store kind %s" % kind,
                      file=sys.stderr)
                return 2
            top = mem if kind == "tmpfs" else os.path.join(tmp, "disk")
            os.makedirs(top, exist_ok=True)
            st = Store(kind, top)
            stores.append(st)
            try:
                st.start()
                results = run_store(st)
            finally:
                st.close()
                stores.remove(st)
            report(kind, results, st.notes)
            sys.stdout.flush()
    finally:
        for st in stores:
            st.close()
        subprocess.run(["sh", "-c", "grep -o ' %s/[^ ]* ' /proc/self/mounts "
                        "| sort -r | xargs -r -n1 umount -l" % tmp])
        if mem_mounted:
            subprocess.run(["umount", "-l", mem], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    print("share-bench: load average at the end %s" %
          loadavg())
    return 0


sys.exit(main())
