"""blfs serves a tree far larger than the fds it may hold: 50000 files,
each stat'ed and read through the mount, while blfs's open fds (counted in
/proc/PID/fd) stay within its cache bound plus a small constant."""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, require_root_and_fuse  # noqa: E402

NDIRS = 50
PER_DIR = 1000
SLACK = 64	# status, root, log, fuse, open handles in flight, threads


def prepare(m):
    for d in range(NDIRS):
        dd = m.back("d%02d" % d)
        os.mkdir(dd)
        for f in range(PER_DIR):
            name = "f%04d" % f
            fd = os.open(os.path.join(dd, name), os.O_WRONLY | os.O_CREAT,
                         0o644)
            os.write(fd, ("d%02d/%s\n" % (d, name)).encode())
            os.close(fd)


class Sampler(threading.Thread):
    """Largest number of fds blfs held, sampled every 10 ms."""

    def __init__(self, m):
        super().__init__()
        self.m = m
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.m.nfds())
            except OSError:
                pass
            time.sleep(0.01)


def limits(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return tuple(int(x) for x in line.split()[3:5])
    return None


def walk_and_read(m, ndirs=NDIRS):
    bad = 0
    count = 0
    for d in range(ndirs):
        for f in range(PER_DIR):
            rel = "d%02d/f%04d" % (d, f)
            path = m.path(rel)
            os.stat(path)
            with open(path, "rb") as fh:
                if fh.read() != (rel + "\n").encode():
                    bad += 1
            count += 1
    return count, bad


require_root_and_fuse()
t = Tap()

# One tree, served twice: with blfs's own limits (RLIMIT_NOFILE raised to
# the hard limit, cache of 1024) and under RLIMIT_NOFILE 512 (cache 224).
with Mount(prepare=prepare) as m:
    soft, hard = limits(m.pid)
    t.eq(soft, hard, "blfs raised its soft RLIMIT_NOFILE to the hard one")
    s = Sampler(m)
    s.start()
    out = subprocess.run(["find", m.mnt, "-type", "f"],
                         stdout=subprocess.PIPE, text=True).stdout
    t.eq(out.count("\n"), NDIRS * PER_DIR, "find lists all 50000 files")
    count, bad = walk_and_read(m)
    s.stop.set()
    s.join()
    t.eq((count, bad), (NDIRS * PER_DIR, 0),
         "stat and read of 50000 files, every content right")
    bound = min(1024, (hard - 64) // 2)
    t.ok(s.peak <= bound + SLACK,
         "blfs held at most %d fds (peak %d) for 50000 files" %
         (bound + SLACK, s.peak))
    # Renamed through the mount long after their fds were dropped.
    os.rename(m.path("d00"), m.path("moved"))
    ok = all(open(m.path("moved", "f%04d" % f), "rb").read() ==
             ("d00/f%04d\n" % f).encode() for f in range(PER_DIR))
    t.ok(ok, "a renamed directory's 1000 files are found again by name")
    store = m.store
    tmp = m.tmp
    t.ok(m.unmount(), "blfs exits once unmounted")
    m.own_tmp = False	# keep the tree for the second round

    with Mount(tmp=tmp, nofile=512) as m2:
        t.eq(limits(m2.pid), (512, 512), "second blfs runs under 512 fds")
        s = Sampler(m2)
        s.start()
        os.rename(m2.back("moved"), m2.back("d00"))
        count, bad = walk_and_read(m2, 15)
        s.stop.set()
        s.join()
        t.eq((count, bad), (15 * PER_DIR, 0),
             "15000 files read right under RLIMIT_NOFILE 512")
        t.ok(s.peak <= 224 + SLACK,
             "the cache shrank to fit: at most %d fds (peak %d)" %
             (224 + SLACK, s.peak))
        t.ok(m2.unmount(), "blfs exits once unmounted")
    subprocess.run(["rm", "-rf", tmp])

t.done()
