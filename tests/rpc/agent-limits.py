#!/usr/bin/python3
"""Connection limits of the real blagent: 1000 idle connections cost
nobody else anything, the idle timeout closes quiet connections (but
not subscribers), and --max-connections closes the one too many at once
while the others keep working."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blrpc import Client, Closed, Tap, raise_nofile  # noqa: E402


def thousand_idle_connections(tap):
    limit = raise_nofile()
    if limit < 1100:
        tap.ok(False, "the test can open 1100 files", "limit %d" % limit)
        return
    agent = tap.agent()
    rss0 = agent.rss_kb()
    idle = []
    for i in range(1000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(agent.status if i % 2 else agent.control)
        idle.append(s)
    # Let the agent accept them all.
    t0 = time.monotonic()
    c = Client(agent.status)
    error, _ = c.call("Ping")
    dt = time.monotonic() - t0
    tap.ok(error is None and dt < 1.0, "with 1000 idle connections open, "
           "another client connects and is answered within 1 s",
           "%.3f s, %r" % (dt, error))
    times = []
    for _ in range(50):
        t1 = time.monotonic()
        c.call("Ping")
        times.append(time.monotonic() - t1)
    times.sort()
    tap.ok(times[-1] < 0.2, "50 more Pings beside them each take under "
           "200 ms", "slowest %.4f s" % times[-1])
    c.close()
    # The idle ones are connected, not just queued: each one is served.
    served = 0
    for s in idle[::50]:
        s.sendall(b"\x94\x00\x07\xa4Ping\x90")
        s.settimeout(2)
        if s.recv(4096)[:3] == b"\x94\x01\x07":
            served += 1
    tap.ok(served == 20, "every 50th of the 1000 idle connections is "
           "served when it speaks", "%d of 20" % served)
    rss1 = agent.rss_kb()
    tap.diag("agent VmRSS %d kB idle, %d kB with 1000 connections" %
             (rss0, rss1))
    tap.ok(rss1 - rss0 < 16 * 1024, "1000 connections cost the agent less "
           "than 16 MiB", "VmRSS %d kB -> %d kB" % (rss0, rss1))
    for s in idle:
        s.close()
    tap.serving(agent, "1000 idle connections closed")
    agent.stop()


def idle_timeout(tap):
    agent = tap.agent("--idle-timeout", "1s")
    quiet = Client(agent.status)
    t0 = time.monotonic()
    try:
        msgs = quiet.wait_closed(4.0)
        closed = time.monotonic() - t0
    except TimeoutError:
        msgs, closed = [], None
    tap.ok(closed is not None and 0.8 < closed < 3.0 and msgs == [],
           "with --idle-timeout 1s a connection that says nothing is "
           "closed after about 1 s", "closed after %r s" % closed)
    quiet.close()

    # Activity restarts the clock; a subscriber is never idle.
    busy = Client(agent.status)
    sub = Client(agent.status)
    error, result = sub.call("Subscribe")
    tap.ok(error is None and result == {}, "Subscribe answers {}",
           repr(error))
    answered = 0
    for _ in range(10):
        time.sleep(0.3)
        error, _ = busy.call("Ping")
        answered += error is None
    tap.ok(answered == 10, "a connection pinging every 0.3 s for 3 s "
           "outlives a 1 s idle timeout", "%d of 10 answered" % answered)
    error, _ = sub.call("Ping")
    tap.ok(error is None, "a subscribed connection quiet for 3 s is still "
           "open past the 1 s idle timeout", repr(error))
    busy.close()
    sub.close()

    # Unanswered data: half a request does not keep a connection alive.
    part = Client(agent.status)
    part.send_raw(b"\x94\x00\x01")
    try:
        part.wait_closed(4.0)
        ok = True
    except TimeoutError:
        ok = False
    tap.ok(ok, "a connection stuck in the middle of a message is closed by "
           "the idle timeout")
    part.close()
    tap.serving(agent, "idle timeouts")
    agent.stop()


def max_connections(tap):
    agent = tap.agent("--max-connections", "10")
    first = [Client(agent.status) for i in range(10)]
    ok = all(c.call("Ping")[0] is None for c in first)
    tap.ok(ok, "with --max-connections 10, 10 connections are served")
    extra = Client(agent.status)
    t0 = time.monotonic()
    try:
        extra.request("Ping")
    except OSError:
        pass
    try:
        msgs = extra.wait_closed(2.0)
        dt = time.monotonic() - t0
    except TimeoutError:
        msgs, dt = None, None
    tap.ok(msgs == [] and dt is not None and dt < 0.5, "the 11th is closed "
           "at once, unanswered", "messages %r after %r s" % (msgs, dt))
    extra.close()
    ok = all(c.call("Ping")[0] is None for c in first)
    tap.ok(ok, "the first 10 still work")
    # The status socket's budget is its own: a workload holding every
    # status connection cannot lock the orchestrator out.
    ctl = Client(agent.control)
    try:
        error, _ = ctl.call("Ping")
    except (Closed, OSError) as e:
        error = e
    tap.ok(error is None, "the control socket still serves with the status "
           "socket full", "got %r" % (error,))
    ctl.close()
    first.pop().close()
    # The agent frees the slot once it reads the EOF: soon, not at once.
    deadline = time.monotonic() + 2.0
    while True:
        again = Client(agent.status)
        try:
            error, _ = again.call("Ping")
            break
        except (Closed, OSError) as e:
            error = e
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        finally:
            again.close()
    tap.ok(error is None, "once one of them closes, a new connection is "
           "served", repr(error))
    for c in first:
        c.close()
    agent.stop()


if __name__ == "__main__":
    tap = Tap()
    for t in (thousand_idle_connections, idle_timeout, max_connections):
        tap.run(t)
    tap.done()
