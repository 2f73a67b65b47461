"""POSIX through blfs: mkdir, rmdir, rename (with RENAME_NOREPLACE and
RENAME_EXCHANGE), readdir of many entries; errno asserted, as root and
as uid 1000."""

import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, TOP_BUILDDIR, BACKING_DIR, err, as_user, \
    err_as_user, attr_get, backing, require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()
RENAMEAT2 = os.path.join(TOP_BUILDDIR, "tests/blfs/renameat2")


def renameat2(flags, old, new, user=False):
    """"OK" or the errno name, via the tiny C helper."""
    def run():
        r = subprocess.run([RENAMEAT2, flags, old, new],
                           stdout=subprocess.PIPE, text=True)
        return "OK" if r.returncode == 0 else r.stdout.strip()
    return as_user(run) if user else run()


def put(path, data=b"", mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, data)
    os.close(fd)


def get(path):
    with open(path, "rb") as f:
        return f.read()


with Mount() as m:
    p = m.path
    os.umask(0)
    os.chmod(m.mnt, 0o755)

    # mkdir
    t.eq(err(os.mkdir, p("a"), 0o750), "OK", "mkdir")
    t.eq(stat.S_IMODE(os.stat(p("a")).st_mode), 0o750,
         "the directory has the mode asked for")
    t.eq((backing(m.back("a")), attr_get(m.back("a"))),
         (BACKING_DIR, (0, 0, stat.S_IFDIR | 0o750)),
         "the store has a root 0700 directory, its mode in user.blfs.attr")
    t.eq(err(os.mkdir, p("a"), 0o750), "EEXIST", "mkdir again: EEXIST")
    t.eq(err(os.mkdir, p("none", "b")), "ENOENT",
         "mkdir under a missing directory: ENOENT")
    put(p("file"))
    t.eq(err(os.mkdir, p("file", "b")), "ENOTDIR",
         "mkdir under a file: ENOTDIR")
    t.eq(err_as_user(os.mkdir, p("u")), "EACCES",
         "uid 1000 in root's 0755 directory: EACCES")
    os.makedirs(p("deep/" * 40 + "end"))
    t.eq(os.path.isdir(m.back(*(["deep"] * 40 + ["end"]))), True,
         "40 levels deep")

    # rmdir
    os.mkdir(p("empty"))
    t.eq(err(os.rmdir, p("empty")), "OK", "rmdir an empty directory")
    t.eq(os.path.exists(m.back("empty")), False, "gone from the store")
    t.eq(err(os.rmdir, p("empty")), "ENOENT", "rmdir again: ENOENT")
    os.mkdir(p("full"))
    put(p("full", "x"))
    t.eq(err(os.rmdir, p("full")), "ENOTEMPTY",
         "rmdir of a non-empty directory: ENOTEMPTY")
    t.eq(err(os.rmdir, p("file")), "ENOTDIR", "rmdir of a file: ENOTDIR")
    t.eq(err(os.rmdir, p("a", ".")), "EINVAL", "rmdir of '.': EINVAL")
    t.eq(err(os.rmdir, p()), "EBUSY", "rmdir of the mount root: EBUSY")
    os.mkdir(p("sticky"), 0o1777)
    os.mkdir(p("sticky", "roots"))
    t.eq(err_as_user(os.rmdir, p("sticky", "roots")), "EPERM",
         "uid 1000 removing root's directory in a sticky one: EPERM")

    # rename
    put(p("r1"), b"one")
    t.eq(err(os.rename, p("r1"), p("r2")), "OK", "rename a file")
    t.eq((os.path.exists(m.back("r1")), get(m.back("r2"))), (False, b"one"),
         "moved in the store")
    put(p("r3"), b"three")
    t.eq(err(os.rename, p("r3"), p("r2")), "OK", "rename over a file")
    t.eq(get(p("r2")), b"three", "the target was replaced")
    os.mkdir(p("d1"))
    put(p("d1", "in"), b"inside")
    os.mkdir(p("d2"))
    t.eq(err(os.rename, p("d1"), p("d2")), "OK",
         "rename a directory over an empty one")
    t.eq(get(p("d2", "in")), b"inside", "its files moved with it")
    os.mkdir(p("d3"))
    put(p("d3", "z"))
    t.eq(err(os.rename, p("d2"), p("d3")), "ENOTEMPTY",
         "over a non-empty directory: ENOTEMPTY")
    t.eq(err(os.rename, p("r2"), p("d3")), "EISDIR",
         "a file over a directory: EISDIR")
    t.eq(err(os.rename, p("d3"), p("r2")), "ENOTDIR",
         "a directory over a file: ENOTDIR")
    t.eq(err(os.rename, p("d2"), p("d2", "sub")), "EINVAL",
         "a directory into itself: EINVAL")
    t.eq(err(os.rename, p("nothing"), p("x")), "ENOENT",
         "a missing source: ENOENT")
    os.mkdir(p("d2", "x"))
    t.eq(err(os.rename, p("d2", "x"), p("d3", "x")), "OK",
         "across directories")
    put(p("n1"), b"n1")
    put(p("n2"), b"n2")
    t.eq(renameat2("noreplace", p("n1"), p("n2")), "EEXIST",
         "RENAME_NOREPLACE onto an existing name: EEXIST")
    t.eq((get(p("n1")), get(p("n2"))), (b"n1", b"n2"), "and nothing moved")
    t.eq(renameat2("noreplace", p("n1"), p("n3")), "OK",
         "RENAME_NOREPLACE to a free name")
    t.eq(renameat2("exchange", p("n2"), p("n3")), "OK", "RENAME_EXCHANGE")
    t.eq((get(p("n2")), get(p("n3"))), (b"n1", b"n2"), "the files swapped")
    t.eq((get(m.back("n2")), get(m.back("n3"))), (b"n1", b"n2"),
         "in the store too")
    t.eq(renameat2("exchange", p("n2"), p("n9")), "ENOENT",
         "RENAME_EXCHANGE with a missing name: ENOENT")
    t.eq(renameat2("exchange", p("d2"), p("n2")), "OK",
         "RENAME_EXCHANGE of a directory and a file")
    t.eq((os.path.isdir(p("n2")), get(p("d2"))), (True, b"n1"),
         "directory and file swapped")
    t.ok(renameat2("whiteout", p("d2"), p("w")) in ("EINVAL", "EPERM"),
         "RENAME_WHITEOUT is refused")
    put(p("sticky", "rootfile"))
    t.eq(renameat2("none", p("sticky", "rootfile"), p("sticky", "mine"),
                   user=True), "EPERM",
         "uid 1000 renaming root's file in a sticky directory: EPERM")
    as_user(lambda: put(p("sticky", "own")))
    t.eq(renameat2("none", p("sticky", "own"), p("sticky", "own2"),
                   user=True), "OK", "uid 1000 renames its own file")
    # A renamed directory keeps serving its files by the new name, also
    # once blfs has to find them again (new files inside).
    os.makedirs(p("old", "sub"))
    put(p("old", "sub", "f"), b"deep")
    os.rename(p("old"), p("new"))
    put(p("new", "sub", "g"), b"after")
    t.eq((get(p("new", "sub", "f")), get(m.back("new", "sub", "g"))),
         (b"deep", b"after"), "files of a renamed directory")

    # readdir
    os.mkdir(p("many"))
    names = set("entry-%05d" % i for i in range(5000))
    for n in names:
        put(m.back("many", n))
    t.eq(set(os.listdir(p("many"))), names, "readdir lists 5000 entries")
    with os.scandir(p("many")) as it:
        kinds = set(e.is_file(follow_symlinks=False) for e in it)
    t.eq(kinds, {True}, "d_type says regular file for all")
    out = subprocess.run(["ls", "-l", p("many")], stdout=subprocess.PIPE,
                         text=True).stdout
    t.eq(out.count("\n"), 5001, "ls -l (readdirplus) shows them all")
    for n in list(names)[:2500]:
        os.unlink(p("many", n))
    t.eq(len(os.listdir(p("many"))), 2500, "half removed, half listed")
    shutil.rmtree(p("many"))
    t.eq(os.path.exists(m.back("many")), False,
         "rm -r of 2500 entries while listing")
    fd = os.open(p("d3"), os.O_RDONLY | os.O_DIRECTORY)
    t.eq(err(os.fsync, fd), "OK", "fsync of a directory")
    os.close(fd)
    t.eq(sorted(os.listdir(p())) == sorted(os.listdir(m.root)), True,
         "the root lists what the store has")
    t.ok(m.unmount(), "blfs exits once unmounted")

t.done()
