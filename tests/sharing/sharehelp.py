"""Two sandboxes' views of one drive, for tests/sharing: changes made
through one mount and waited for through the other, and writers whose
work is counted afterwards. Mounts are reached through /proc/PID/root of
a process in each sandbox's mount namespace, so one process acts on both
sides and times them with one clock.

Results are lines "PASS<TAB>what" or "FAIL<TAB>what: why", which the
calling shell test turns into TAP.

  sharehelp.py coherence A B         each change through A, awaited in B
  sharehelp.py files ROOT TAG N      N files of their own, each fsynced
  sharehelp.py check-files ROOT TAG N
  sharehelp.py append FILE TAG N     N appends, each under an fcntl lock
  sharehelp.py check-append FILE N TAG...
  sharehelp.py acked DIR TAG ACKLOG STOPFILE
  sharehelp.py check-acked DIR TAG ACKLOG
"""

import errno
import fcntl
import os
import struct
import sys
import time

DEADLINE = 1.1      # what a sandbox is promised across machines
PATIENCE = 7.0      # how long to keep looking, to say how late it came
POLL = 0.005


def result(ok, what, why=""):
    print("%s\t%s%s" % ("PASS" if ok else "FAIL", what,
                        "" if ok else ": " + why), flush=True)
    return ok


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def probe(fn):
    """fn() now, fresh: a value, or the errno name it raised."""
    try:
        return fn()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def await_change(what, fn, want):
    """Poll fn() (a fresh open, stat, listdir or getxattr in B) until it
    gives want; pass if that took at most DEADLINE."""
    t0 = time.monotonic()
    while True:
        got = probe(fn)
        dt = time.monotonic() - t0
        if got == want:
            return result(dt <= DEADLINE,
                          "%s within %.1f s (%.3f s)" % (what, DEADLINE, dt),
                          "seen only after %.3f s" % dt)
        if dt > PATIENCE:
            return result(False, "%s within %.1f s" % (what, DEADLINE),
                          "not seen in %.0f s: expected %r, got %r"
                          % (PATIENCE, want, got))
        time.sleep(POLL)


def primed(what, fn, want):
    """B looks first, so its kernel caches the old state."""
    got = probe(fn)
    if got != want:
        result(False, what + ": B's view before the change",
               "expected %r, got %r" % (want, got))
        return False
    return True


def coherence(a, b):
    A = lambda n: os.path.join(a, n)
    B = lambda n: os.path.join(b, n)
    # The old state, written through A and first looked at by B.
    write(A("app"), b"one\n")
    write(A("ow"), b"A" * 63 + b"\n")
    write(A("tr"), b"0123456789\n")
    write(A("del"), b"doomed\n")
    write(A("old"), b"renamed\n")
    write(A("cm"), b"mode\n")
    os.chmod(A("cm"), 0o644)
    write(A("co"), b"owner\n")
    write(A("xa"), b"xattr\n")
    t0 = time.monotonic()
    while probe(lambda: read(B("xa"))) != b"xattr\n":
        if time.monotonic() - t0 > 30:
            result(False, "B sees the files A made for the test",
                   "not in 30 s")
            return
        time.sleep(0.05)

    def check(what, before, change, after):
        fn, want0 = before
        if primed(what, fn, want0):
            change()
            await_change(what, fn, after)

    check("b_sees_create (open and read a new file)",
          (lambda: read(B("created")), "ENOENT"),
          lambda: write(A("created"), b"hello\n"), b"hello\n")
    check("b_sees_append (open and read)",
          (lambda: read(B("app")), b"one\n"),
          lambda: write(A("app"), b"two\n", os.O_WRONLY | os.O_APPEND),
          b"one\ntwo\n")

    def overwrite():
        fd = os.open(A("ow"), os.O_WRONLY)
        os.pwrite(fd, b"B" * 63 + b"\n", 0)
        os.close(fd)
    check("b_sees_same_size_overwrite (open and read)",
          (lambda: read(B("ow")), b"A" * 63 + b"\n"), overwrite,
          b"B" * 63 + b"\n")
    check("b_sees_truncate (open and read)",
          (lambda: read(B("tr")), b"0123456789\n"),
          lambda: os.truncate(A("tr"), 4), b"0123")
    check("b_sees_delete (stat and listdir)",
          (lambda: (probe(lambda: os.stat(B("del")).st_size),
                    "del" in os.listdir(b)), (7, True)),
          lambda: os.unlink(A("del")), ("ENOENT", False))
    check("b_sees_rename (listdir, stat and read)",
          (lambda: (sorted(set(os.listdir(b)) & {"old", "new"}),
                    read(B("old"))), (["old"], b"renamed\n")),
          lambda: os.rename(A("old"), A("new")),
          (["new"], b"renamed\n"))
    check("b_sees_chmod (stat)",
          (lambda: os.stat(B("cm")).st_mode & 0o7777, 0o644),
          lambda: os.chmod(A("cm"), 0o600), 0o600)
    check("b_sees_chown (stat)",
          (lambda: (os.stat(B("co")).st_uid, os.stat(B("co")).st_gid),
           (0, 0)),
          lambda: os.chown(A("co"), 1000, 1000), (1000, 1000))
    check("b_sees_setxattr (getxattr of user.note)",
          (lambda: os.getxattr(B("xa"), "user.note"), "ENODATA"),
          lambda: os.setxattr(A("xa"), "user.note", b"v1"), b"v1")


def files(root, tag, n):
    for i in range(n):
        p = os.path.join(root, "%s-%d" % (tag, i))
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, content(tag, i))
        os.fsync(fd)
        os.close(fd)


def content(tag, i):
    return ("%s %d\n" % (tag, i)).encode() * (1 + i % 200)


def check_files(root, tag, n):
    bad = []
    for i in range(n):
        p = os.path.join(root, "%s-%d" % (tag, i))
        got = probe(lambda: read(p))
        if got != content(tag, i):
            bad.append("%s-%d: %s" % (tag, i, got if isinstance(got, str)
                                      else "%d bytes, wrong" % len(got)))
    return bad


def lock(fd, kind):
    fcntl.fcntl(fd, fcntl.F_SETLKW, struct.pack("hhqqi", kind, os.SEEK_SET,
                                                0, 0, 0))


def append(path, tag, n):
    """Each append as a careful program does it on a shared file: open,
    lock, seek to the end, write a line, fsync, unlock, close."""
    for i in range(n):
        fd = os.open(path, os.O_WRONLY)
        try:
            lock(fd, fcntl.F_WRLCK)
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, ("%s %d\n" % (tag, i)).encode())
            os.fsync(fd)
            lock(fd, fcntl.F_UNLCK)
        finally:
            os.close(fd)


def check_append(path, n, tags):
    lines = read(path).split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    want = {("%s %d" % (t, i)).encode() for t in tags for i in range(n)}
    seen = {}
    for ln in lines:
        seen[ln] = seen.get(ln, 0) + 1
    missing = len(want - set(seen))
    doubled = sum(1 for k, v in seen.items() if k in want and v > 1)
    garbage = sum(v for k, v in seen.items() if k not in want)
    return missing, doubled, garbage, len(lines)


def acked(d, tag, acklog, stopfile):
    """Files written, fsynced and closed one after another until stopfile
    appears; each one whose fsync and close succeeded is acknowledged in
    acklog (a local file) only then."""
    errs = 0
    i = 0
    with open(acklog, "w") as log:
        while not os.path.exists(stopfile) and i < 100000:
            p = os.path.join(d, "%s-%d" % (tag, i))
            try:
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, content(tag, i))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                log.write("%d\n" % i)
                log.flush()
            except OSError as e:
                errs += 1
                print("# %s: %s" % (p, e), file=sys.stderr)
            i += 1
    print("%d %d" % (i, errs))


def check_acked(d, tag, acklog):
    with open(acklog) as f:
        idx = [int(x) for x in f.read().split()]
    bad = []
    for i in idx:
        p = os.path.join(d, "%s-%d" % (tag, i))
        got = probe(lambda: read(p))
        if got != content(tag, i):
            bad.append("%s-%d" % (tag, i))
    return len(idx), bad


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "coherence":
        coherence(*args)
    elif cmd == "files":
        files(args[0], args[1], int(args[2]))
    elif cmd == "check-files":
        bad = check_files(args[0], args[1], int(args[2]))
        print("%d bad%s" % (len(bad), (": " + ", ".join(bad[:5]))
                            if bad else ""))
    elif cmd == "append":
        append(args[0], args[1], int(args[2]))
    elif cmd == "check-append":
        print("%d missing, %d doubled, %d garbled, %d lines" %
              check_append(args[0], int(args[1]), args[2:]))
    elif cmd == "acked":
        acked(*args)
    elif cmd == "check-acked":
        n, bad = check_acked(*args)
        print("%d acknowledged, %d lost%s" % (
            n, len(bad), (": " + ", ".join(bad[:5])) if bad else ""))
    else:
        sys.exit("sharehelp.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
