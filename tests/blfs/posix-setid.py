"""Set-user-ID and set-group-ID bits through blfs, with and without the
writeback cache: a write, truncate, chown or O_TRUNC open by a caller without
CAP_FSETID clears them (set-group-ID only with group execute), root's
keep them; and writes do not cost a security.capability round trip each
(blfs negotiates FUSE_HANDLE_KILLPRIV_V2)."""

import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, as_user, require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def setid_file(m, name, bits):
    """A file of uid 1000 with these mode bits, made on the store side."""
    path = m.back(name)
    with open(path, "wb") as f:
        f.write(b"0123456789")
    os.chown(path, 1000, 1000)
    os.chmod(path, bits)
    return m.path(name)


def write_at(path, data, flags=os.O_WRONLY):
    fd = os.open(path, flags)
    try:
        os.pwrite(fd, data, 2)
    finally:
        os.close(fd)


for how, args in (("plain", []), ("writeback", ["--writeback"])):
    with Mount(args=args + ["--debug"]) as m:
        p = setid_file(m, "w", 0o6775)
        as_user(lambda: write_at(p, b"x"))
        t.eq(oct(mode(m.back("w"))), oct(0o775),
             "%s: a write by uid 1000 clears set-user-ID and set-group-ID"
             % how)
        p = setid_file(m, "nogx", 0o6745)
        as_user(lambda: write_at(p, b"x"))
        t.eq(oct(mode(m.back("nogx"))), oct(0o2745),
             "%s: without group execute set-group-ID stays" % how)
        p = setid_file(m, "root", 0o6775)
        write_at(p, b"x")
        t.eq(oct(mode(m.back("root"))), oct(0o6775),
             "%s: root's write (CAP_FSETID) keeps both bits" % how)
        p = setid_file(m, "trunc", 0o6775)
        as_user(lambda: os.truncate(p, 3))
        t.eq((oct(mode(m.back("trunc"))), os.stat(m.back("trunc")).st_size),
             (oct(0o775), 3),
             "%s: truncate by uid 1000 clears both bits" % how)
        p = setid_file(m, "chown", 0o6775)
        as_user(lambda: os.chown(p, 1000, 1000))
        t.eq(oct(mode(m.back("chown"))), oct(0o775),
             "%s: chown by uid 1000 clears both bits" % how)
        p = setid_file(m, "otrunc", 0o6775)
        as_user(lambda: os.close(os.open(p, os.O_WRONLY | os.O_TRUNC)))
        t.eq((oct(mode(m.back("otrunc"))),
              os.stat(m.back("otrunc")).st_size), (oct(0o775), 0),
             "%s: an O_TRUNC open by uid 1000 clears both bits" % how)

        # 200 small writes to one file: the kernel asks blfs about
        # security.capability once per inode at most, not per write.
        before = open(m.log).read().count("GETXATTR")
        fd = os.open(m.path("many"), os.O_WRONLY | os.O_CREAT, 0o644)
        for i in range(200):
            os.write(fd, b"x" * 100)
        os.close(fd)
        asked = open(m.log).read().count("GETXATTR") - before
        t.ok(asked <= 2, "%s: 200 writes, %d getxattr requests (want <= 2)"
             % (how, asked))
        t.ok(m.unmount(), "%s: blfs exits once unmounted" % how)

t.done()
