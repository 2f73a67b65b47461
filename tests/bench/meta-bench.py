"""make bench: metadata through blfs as a real agent mounts it (Mount's
defaults), beside the same operations on the store's filesystem, through
libfuse's passthrough example and through bindfs, in the same run over
the same filesystem. Asserts nothing. Needs root and /dev/fuse.

Sides, each in its own directory of one filesystem (/var/tmp: ext4 on the
test machines; META_BENCH_STORE=tmpfs for a tmpfs), in a rotated order
every round:
  native   the directory itself
  pt       passthrough_ll, built here from the copy libfuse3-dev ships
           (/usr/share/doc/libfuse3-dev/examples): libfuse's own C
           passthrough, an O_PATH fd per inode, multithreaded, with
           -o cache=always (86400 s timeouts, kept pages and listings: the
           defaults of passthrough_hp, which Debian does not ship). It
           stands in for passthrough_hp as the reference
  bindfs   bindfs with its defaults
  blfs     a drive mounted by blagent, options as Mount's defaults

Tests: create N files (open O_CREAT, close); stat them cold (every cache
dropped: sync, drop_caches 3, and half a second for the servers to take
the kernel's FORGETs); stat them warm (again at once); unlink them; list
a directory of L entries cold (made through the side itself, caches
dropped as above), and the same once the side's server was started
afresh (each FUSE side unmounted and mounted again: nothing the server
kept of the files survives).

Environment: META_BENCH_ROUNDS (default 3), META_BENCH_FILES (N, default
15000), META_BENCH_LISTING (L, default 10000), META_BENCH_STORE (disk or
tmpfs, default disk), META_BENCH_BLFS (the blfs binary; default the
build's), META_BENCH_BEFORE (another blfs binary: one more side, blfs0,
through a second agent, so two versions are compared in the same run)."""

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

ROUNDS = int(os.environ.get("META_BENCH_ROUNDS", "3"))
N_FILES = int(os.environ.get("META_BENCH_FILES", "15000"))
LISTING = int(os.environ.get("META_BENCH_LISTING", "10000"))
STORE = os.environ.get("META_BENCH_STORE", "disk")
BUILD = os.environ["top_builddir"]
BLFS = os.environ.get("META_BENCH_BLFS",
                      os.path.join(BUILD, "blfs", "blfs"))
BEFORE = os.environ.get("META_BENCH_BEFORE", "")
EXAMPLE = "/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c"
SETTLE = 0.5


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
    time.sleep(SETTLE)


def names(d):
    p = os.path.join(d, "many")
    os.makedirs(p, exist_ok=True)
    return ["%s/f%05d" % (p, i) for i in range(N_FILES)]


def rate(n, fn):
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def create(side):
    ns = names(side.work)

    def run():
        for n in ns:
            os.close(os.open(n, os.O_WRONLY | os.O_CREAT, 0o644))
    return rate(N_FILES, run)


def stat_all(ns):
    for n in ns:
        os.stat(n)


def stat_cold(side):
    ns = names(side.work)
    drop_caches()
    return rate(N_FILES, lambda: stat_all(ns))


def stat_warm(side):
    ns = names(side.work)
    return rate(N_FILES, lambda: stat_all(ns))


def unlink(side):
    ns = names(side.work)

    def run():
        for n in ns:
            os.unlink(n)
    return rate(N_FILES, run)


def listing(side):
    return os.path.join(side.work, "listing")


def readdir_cold(side):
    p = listing(side)
    drop_caches()
    return rate(LISTING, lambda: os.listdir(p))


def readdir_fresh(side):
    side.restart()
    return readdir_cold(side)


TESTS = [
    ("create %d (files/s)" % N_FILES, create),
    ("stat %d cold (stats/s)" % N_FILES, stat_cold),
    ("stat %d warm (stats/s)" % N_FILES, stat_warm),
    ("unlink %d (files/s)" % N_FILES, unlink),
    ("readdir %d cold (entries/s)" % LISTING, readdir_cold),
    ("readdir %d, fresh server" % LISTING, readdir_fresh),
]
# Issue 11's goals, as ratios to the reference (pt).
GOALS = {create: 1.5, stat_cold: 1.0, stat_warm: 1.0, unlink: 1.5,
         readdir_cold: 1.0}


class Side:
    def __init__(self, name, mnt):
        self.name = name
        self.mnt = mnt
        self.work = os.path.join(mnt, "w")

    def restart(self):
        pass

    def stop(self):
        pass


class Fuse(Side):
    """A FUSE server over a directory beside the store."""

    def __init__(self, name, mnt, argv):
        super().__init__(name, mnt)
        self.argv = argv
        os.makedirs(mnt, exist_ok=True)
        self.start()

    def start(self):
        subprocess.run(self.argv, check=True)

    def stop(self):
        subprocess.run(["umount", self.mnt], stderr=subprocess.DEVNULL)

    def restart(self):
        self.stop()
        self.start()


class Blfs(Side):
    """A drive mounted by a real agent."""

    def __init__(self, top, name="blfs", binary=BLFS):
        super().__init__(name, os.path.join(top, "mnt-" + name))
        self.store = os.path.join(top, "store-" + name)
        r = subprocess.run([os.path.join(BUILD, "blctl", "blctl"), "drive",
                            "--store", self.store, "create", "bench"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0:
            raise RuntimeError("blctl drive create: " + r.stderr)
        os.makedirs(os.path.join(top, "agent-" + name))
        self.agent = blrpc.Agent("--store", self.store, "--blfs", binary,
                                 tmpdir=os.path.join(top, "agent-" + name),
                                 log_level="info")
        self.client = blrpc.Client(self.agent.control, timeout=30)
        self.start()

    def start(self):
        err, res = self.client.call("Mount", {"drive": "bench",
                                              "mount_path": self.mnt,
                                              "wait": True}, timeout=30)
        if err is not None or res.get("state") != "mounted":
            raise RuntimeError("Mount: %r %r" % (err, res))

    def restart(self):
        err, _ = self.client.call("Unmount", {"mount_path": self.mnt,
                                              "wait": True}, timeout=30)
        if err is not None:
            raise RuntimeError("Unmount: %r" % (err,))
        self.start()

    def stop(self):
        try:
            self.client.call("Unmount", {"mount_path": self.mnt,
                                         "wait": True}, timeout=30)
        except Exception:  # noqa: BLE001 - cleanup goes on
            pass
        self.agent.stop()
        self.agent.cleanup()


def build_passthrough(tmp):
    """passthrough_ll from libfuse3-dev's examples, or None and why."""
    if not os.path.exists(EXAMPLE):
        return None, "%s missing (libfuse3-dev)" % EXAMPLE
    out = os.path.join(tmp, "passthrough_ll")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"],
                           stdout=subprocess.PIPE, universal_newlines=True)
    r = subprocess.run(["cc", "-O2", "-o", out, EXAMPLE] +
                       flags.stdout.split(), stderr=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        return None, "passthrough_ll does not build: " + r.stderr[-300:]
    return out, None


def make_sides(top, notes):
    sides = []
    native = Side("native", os.path.join(top, "native"))
    sides.append(native)
    pt, why = build_passthrough(top)
    if pt is None:
        notes.append("no pt side: " + why)
    else:
        src = os.path.join(top, "pt-src")
        os.makedirs(src)
        sides.append(Fuse("pt", os.path.join(top, "mnt-pt"),
                          [pt, "-o", "source=%s,cache=always" % src,
                           os.path.join(top, "mnt-pt")]))
    if shutil.which("bindfs") is None:
        notes.append("no bindfs side: bindfs is not installed")
    else:
        src = os.path.join(top, "bindfs-src")
        os.makedirs(src)
        sides.append(Fuse("bindfs", os.path.join(top, "mnt-bindfs"),
                          ["bindfs", src, os.path.join(top, "mnt-bindfs")]))
    if BEFORE:
        sides.append(Blfs(top, "blfs0", BEFORE))
    sides.append(Blfs(top))
    for s in sides:
        os.makedirs(s.work, exist_ok=True)
        p = listing(s)
        os.makedirs(p)
        for i in range(LISTING):
            os.close(os.open("%s/entry-%05d" % (p, i),
                             os.O_WRONLY | os.O_CREAT, 0o644))
    return sides


def report(sides, results, notes):
    names = [s.name for s in sides]
    med = {t: {s: statistics.median(v[s]) for s in names}
           for t, v in results.items()}
    ref = "pt" if "pt" in names else None
    print("%s store, median of %d rounds; ratios from the same run" %
          (STORE, ROUNDS))
    head = "%-30s" % "test" + "".join("%10s" % n for n in names) + \
        "%12s" % "blfs/native"
    if ref:
        head += "%10s%10s" % ("pt/native", "blfs/pt")
    if "bindfs" in names:
        head += "%12s" % "blfs/bindfs"
    if "blfs0" in names:
        head += "%11s" % "blfs/blfs0"
    print(head)
    for name, _ in TESTS:
        v = med[name]
        line = "%-30s" % name + "".join("%10.0f" % v[n] for n in names) + \
            "%11.2fx" % (v["blfs"] / v["native"])
        if ref:
            line += "%9.2fx%9.2fx" % (v[ref] / v["native"],
                                      v["blfs"] / v[ref])
        if "bindfs" in names:
            line += "%11.2fx" % (v["blfs"] / v["bindfs"])
        if "blfs0" in names:
            line += "%10.2fx" % (v["blfs"] / v["blfs0"])
        print(line)
    if ref:
        print()
        for name, fn in TESTS:
            if fn in GOALS:
                for b in [n for n in names if n.startswith("blfs")]:
                    r = med[name][b] / med[name][ref]
                    print("goal %-30s %s >= %.1fx pt: %5.2fx %s" % (
                        name, b, GOALS[fn], r,
                        "met" if r >= GOALS[fn] else "NOT met"))
    print()
    print("every round (%s):" % " | ".join(names))
    for name, _ in TESTS:
        print("  %-28s %s" % (name, " | ".join(
            " ".join("%.0f" % x for x in results[name][n]) for n in names)))
    for n in notes:
        print("note: " + n)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        print("meta-bench: needs root and /dev/fuse", file=sys.stderr)
        return 1
    if STORE not in ("disk", "tmpfs"):
        print("meta-bench: META_BENCH_STORE is disk or tmpfs, not %s" %
              STORE, file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *a: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="meta-bench.", dir="/var/tmp")
    os.chmod(tmp, 0o755)
    top = tmp
    mem = None
    sides = []
    notes = []
    print("meta-bench: %s%s, %d files, listing of %d; load average %s" % (
        BLFS, " (blfs0: %s)" % BEFORE if BEFORE else "", N_FILES, LISTING,
        loadavg()))
    sys.stdout.flush()
    try:
        if STORE == "tmpfs":
            mem = os.path.join(tmp, "mem")
            os.makedirs(mem)
            subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=1g,mode=0755", "meta-bench", mem],
                           check=True)
            top = mem
        sides = make_sides(top, notes)
        results = {t[0]: {s.name: [] for s in sides} for t in TESTS}
        for r in range(ROUNDS):
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            for s in order:
                for name, fn in TESTS:
                    results[name][s.name].append(fn(s))
        report(sides, results, notes)
    finally:
        for s in sides:
            s.stop()
        subprocess.run(["sh", "-c", "grep -o ' %s/[^ ]* ' /proc/self/mounts "
                        "| sort -r | xargs -r -n1 umount -l" % tmp])
        if mem is not None:
            subprocess.run(["umount", "-l", mem], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    print("meta-bench: load average at the end %s" % loadavg())
    return 0


sys.exit(main())
