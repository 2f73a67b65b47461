"""Set-user-ID and set-group-ID bits through blfs, with and without the
writeback cache: a write, truncate, chown or O_TRUNC open by a caller without
CAP_FSETID clears them (set-group-ID only with group execute), root's
keep them; and writes do not cost a security.capability round trip each
(blfs negotiates FUSE_HANDLE_KILLPRIV_V2)."""

import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, as_user, attr_get, attr_set, \
    require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()


def mode(m, name):
    """The mode bits the mount shows and the store keeps (user.blfs.attr),
    in octal; both must agree."""
    a = attr_get(m.back(name))
    return (oct(stat.S_IMODE(os.stat(m.path(name)).st_mode)),
            oct(stat.S_IMODE(a[2])) if isinstance(a, tuple) else a)


def setid_file(m, name, bits):
    """A file of uid 1000 with these mode bits, seeded on the store side as
    an operator does: a root file with the owner in user.blfs.attr."""
    path = m.back(name)
    with open(path, "wb") as f:
        f.write(b"0123456789")
    os.chmod(path, 0o600)
    attr_set(path, 1000, 1000, bits)
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
        t.eq(mode(m, "w"), (oct(0o775),) * 2,
             "%s: a write by uid 1000 clears set-user-ID and set-group-ID"
             % how)
        p = setid_file(m, "nogx", 0o6745)
        as_user(lambda: write_at(p, b"x"))
        t.eq(mode(m, "nogx"), (oct(0o2745),) * 2,
             "%s: without group execute set-group-ID stays" % how)
        p = setid_file(m, "root", 0o6775)
        write_at(p, b"x")
        t.eq(mode(m, "root"), (oct(0o6775),) * 2,
             "%s: root's write (CAP_FSETID) keeps both bits" % how)
        p = setid_file(m, "trunc", 0o6775)
        as_user(lambda: os.truncate(p, 3))
        t.eq((mode(m, "trunc"), os.stat(m.back("trunc")).st_size),
             ((oct(0o775),) * 2, 3),
             "%s: truncate by uid 1000 clears both bits" % how)
        p = setid_file(m, "chown", 0o6775)
        as_user(lambda: os.chown(p, 1000, 1000))
        t.eq(mode(m, "chown"), (oct(0o775),) * 2,
             "%s: chown by uid 1000 clears both bits" % how)
        p = setid_file(m, "otrunc", 0o6775)
        as_user(lambda: os.close(os.open(p, os.O_WRONLY | os.O_TRUNC)))
        t.eq((mode(m, "otrunc"), os.stat(m.back("otrunc")).st_size),
             ((oct(0o775),) * 2, 0),
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
