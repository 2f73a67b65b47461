"""How late blfs shows changes made behind its back (by another mount of
the same drive, here directly on the store): a new file within the 1 s
negative timeout, a new mode and a changed listing within the 5 s
attribute timeout, and with --cache-size 0 at once."""

import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, err, attr_set, \
    require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()


def seen_after(fn, limit):
    """Seconds until fn() is true, polling; None if not within limit."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if fn():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


with Mount() as m:
    t.eq(err(os.stat, m.path("new")), "ENOENT", "a missing name")
    open(m.back("new"), "w").close()
    took = seen_after(lambda: os.path.exists(m.path("new")), 3)
    t.ok(took is not None and took < 1.6,
         "a file made on the store shows within the 1 s negative timeout "
         "(after %s s)" % (took if took is None else round(took, 2)))

    with open(m.path("f"), "w") as f:
        f.write("x")
    os.chmod(m.path("f"), 0o644)
    t.eq(mode(m.path("f")), 0o644, "a mode set through the mount")
    # What another blfs mount of the drive does for chmod: the attribute.
    attr_set(m.back("f"), 0, 0, 0o600)
    t.eq(mode(m.path("f")), 0o644,
         "a mode changed on the store is not asked for at once")
    took = seen_after(lambda: mode(m.path("f")) == 0o600, 8)
    t.ok(took is not None and took < 5.6,
         "it shows within the 5 s attribute timeout (after %s s)"
         % (took if took is None else round(took, 2)))

    # Listings: the kernel may serve them from memory on a local store.
    os.mkdir(m.path("dir"))
    open(m.path("dir", "a"), "w").close()
    t.eq(sorted(os.listdir(m.path("dir"))), ["a"], "a listing")
    open(m.path("dir", "b"), "w").close()
    t.eq(sorted(os.listdir(m.path("dir"))), ["a", "b"],
         "a name made through the mount is listed at once")
    open(m.back("dir", "c"), "w").close()
    took = seen_after(lambda: "c" in os.listdir(m.path("dir")), 8)
    t.ok(took is not None and took < 5.6,
         "a name made on the store is listed within the 5 s attribute "
         "timeout (after %s s)" % (took if took is None else round(took, 2)))
    os.unlink(m.back("dir", "a"))
    took = seen_after(lambda: "a" not in os.listdir(m.path("dir")), 8)
    t.ok(took is not None and took < 5.6,
         "a name removed on the store leaves listings within 5 s "
         "(after %s s)" % (took if took is None else round(took, 2)))
    t.ok(m.unmount(), "blfs exits once unmounted")

with Mount(args=["--cache-size=0"]) as m:
    t.eq(err(os.stat, m.path("new")), "ENOENT", "--cache-size 0: missing")
    open(m.back("new"), "w").close()
    t.ok(os.path.exists(m.path("new")),
         "--cache-size 0: a file made on the store shows at once")
    # Placed from outside, no user.blfs.attr: its own mode is shown.
    os.chmod(m.back("new"), 0o600)
    t.eq(mode(m.path("new")), 0o600,
         "--cache-size 0: a mode changed on the store shows at once")
    attr_set(m.back("new"), 0, 0, 0o640)
    t.eq(mode(m.path("new")), 0o640,
         "--cache-size 0: a user.blfs.attr set on the store shows at once")
    os.listdir(m.path())
    open(m.back("listed"), "w").close()
    t.ok("listed" in os.listdir(m.path()),
         "--cache-size 0: a name made on the store is listed at once")
    t.ok(m.unmount(), "blfs exits once unmounted")

t.done()
