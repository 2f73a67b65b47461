"""What the kernel has to ask blfs for (counted in the --debug request
log), with and without the writeback cache: on a local store, closing a
file written to costs no FLUSH after the first; repeated stats of known
files cost nothing within the attribute timeout; a lone caller's
requests are served by one thread."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()


def asked(m, opcode, fn):
    """How many opcode requests fn() made blfs serve."""
    before = open(m.log).read().count("opcode: %s " % opcode)
    fn()
    return open(m.log).read().count("opcode: %s " % opcode) - before


def creates():
    for i in range(100):
        fd = os.open(m.path("c%03d" % i), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"x")
        os.close(fd)


def stats():
    for _ in range(5):
        for i in range(100):
            os.stat(m.path("c%03d" % i))


for how, args in (("plain", []), ("writeback", ["--writeback"])):
    with Mount(args=args + ["--debug"]) as m:
        n = asked(m, "FLUSH", creates)
        t.ok(n <= 1, "%s: 100 create-write-close, %d FLUSH (want <= 1)"
             % (how, n))
        # The first stat after a write asks (the write changed them).
        n = asked(m, "GETATTR", stats)
        t.ok(n <= 102, "%s: first stats after writing, %d GETATTR "
             "(want <= 102)" % (how, n))
        n = asked(m, "GETATTR", stats)
        t.ok(n <= 1, "%s: 500 stats of 100 known files, %d GETATTR "
             "(want <= 1)" % (how, n))
        n = asked(m, "LOOKUP", stats)
        t.ok(n == 0, "%s: and %d LOOKUP (want 0)" % (how, n))
        with open(m.back("c000"), "rb") as f:
            t.eq(f.read(), b"x", "%s: the data is on the store" % how)
        threads = len(os.listdir("/proc/%d/task" % m.pid))
        t.ok(threads <= 3, "%s: %d threads after serial work (want <= 3)"
             % (how, threads))
        t.ok(m.unmount(), "%s: blfs exits once unmounted" % how)

t.done()
