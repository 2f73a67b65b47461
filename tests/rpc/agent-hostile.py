#!/usr/bin/python3
"""Hostile input against the real blagent: garbage, truncation, wrong
shapes, huge declared sizes, oversized and deeply nested messages, a
client that never reads. Each bad connection gets an error reply where a
msgid can be read and is otherwise closed; after each, the agent still
answers everyone else, and its memory stays bounded."""

import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blrpc import (Client, Closed, err_code, err_msg, main, pack,  # noqa: E402
                   request_bytes, serves)

MIB = 1024 * 1024


def send_quietly(sock, data):
    """Sends what the agent will take; it may close before the end."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def outcome(c, timeout=3.0):
    """(messages received, closed?) once the agent has had its say."""
    try:
        return c.wait_closed(timeout), True
    except TimeoutError:
        return [], False


def garbage_closes_connection(tap, agent):
    other = Client(agent.status)
    rng = random.Random(20240501)
    cases = [
        ("an HTTP request", b"GET / HTTP/1.1\r\nHost: agent\r\n\r\n"),
        ("the never-used byte 0xc1", b"\xc1" * 16),
        ("4 KiB of random bytes", bytes(rng.getrandbits(8)
                                        for _ in range(4096))),
        ("a JSON-RPC request", b'{"jsonrpc": "2.0", "method": "Ping"}'),
        ("a bare integer", pack(42)),
        ("a bare string", pack("Ping")),
    ]
    for name, data in cases:
        c = Client(agent.control)
        send_quietly(c.sock, data)
        msgs, closed = outcome(c)
        tap.ok(closed and all(m[0] == 1 for m in msgs),
               "%s: the connection is closed (no msgid: no answer)" % name,
               "closed %r, messages %r" % (closed, msgs))
        c.close()
        error, _ = other.call("Ping")
        tap.ok(error is None, "a client connected all along is served "
               "after %s" % name, repr(error))
    other.close()
    tap.serving(agent, "garbage")


def answers_before_garbage_still_leave(tap, agent):
    for name, bad in (("0xc1", b"\xc1"),
                      ("message type 3", pack([3, 9, "Ping", []])),
                      ("a 4 GB str32", b"\xdb\xff\xff\xff\xff")):
        c = Client(agent.control)
        c.send_raw(b"".join(request_bytes(i, "Ping") for i in (1, 2, 3)) +
                   bad + request_bytes(4, "Ping"))
        msgs, closed = outcome(c)
        tap.ok(closed and [m[1] for m in msgs] == [1, 2, 3] and
               all(m[2] is None for m in msgs),
               "3 Pings then %s in one write: the 3 are answered, nothing "
               "after the bad message is, and the connection closes" % name,
               "closed %r, messages %r" % (closed, msgs))
        c.close()
    tap.serving(agent, "requests followed by garbage")


def wrong_shapes_without_msgid_close(tap, agent):
    cases = [
        ("message type 3", [3, 1, "Ping", []]),
        ("a map", {"type": 0, "msgid": 1}),
        ("a negative msgid", [0, -1, "Ping", []]),
        ("a msgid over 2^32", [0, 2 ** 32, "Ping", []]),
        ("a string msgid", [0, "1", "Ping", []]),
        ("an array of two", [0, 1]),
        ("a notification of 4 elements", [2, "Ping", [], 1]),
        ("a notification with a numeric method", [2, 7, []]),
    ]
    for name, msg in cases:
        c = Client(agent.control)
        c.send_raw(pack(msg))
        msgs, closed = outcome(c)
        tap.ok(closed and msgs == [], "%s: closed without an answer" % name,
               "closed %r, messages %r" % (closed, msgs))
        c.close()
    tap.serving(agent, "wrong shapes")


def truncated_message_then_close(tap, agent):
    data = request_bytes(5, "Mount", {"drive": "d1", "mount_path": "/mnt/t"})
    other = Client(agent.status)
    for cut in (1, 3, len(data) // 2, len(data) - 1):
        c = Client(agent.control)
        c.send_raw(data[:cut])
        # The agent waits for the rest without holding anyone up.
        error, _ = other.call("Ping", timeout=1.0)
        tap.ok(error is None, "while a request cut at byte %d of %d waits "
               "for its rest, another client is served" % (cut, len(data)),
               repr(error))
        c.close()
    time.sleep(0.1)
    other.close()
    tap.serving(agent, "truncated messages then close")


def huge_declared_sizes(tap, agent):
    cases = [
        ("str32 declaring 4 GB", b"\xdb\xff\xff\xff\xff", False),
        ("array32 declaring 2^32-1 elements", b"\xdd\xff\xff\xff\xff", False),
        ("map32 declaring 2^32-1 pairs", b"\xdf\xff\xff\xff\xff", False),
        ("bin32 declaring 4 GB", b"\xc6\xff\xff\xff\xff", False),
        ("ext32 declaring 4 GB", b"\xc9\xff\xff\xff\xff\x01", False),
        ("a Mount whose drive is a str32 of 4 GB",
         b"\x94\x00\x21\xa5Mount\x91\x81\xa5drive\xdb\xff\xff\xff\xff", True),
        ("a Ping whose params are an array32 of 2^32-1",
         b"\x94\x00\x22\xa4Ping\xdd\xff\xff\xff\xff", True),
        ("a Ping whose params hold a map32 of 2^32-1",
         b"\x94\x00\x23\xa4Ping\x91\xdf\xff\xff\xff\xff", True),
    ]
    hwm0 = agent.hwm_kb()
    for name, data, has_msgid in cases:
        c = Client(agent.control)
        t0 = time.monotonic()
        c.send_raw(data)
        msgs, closed = outcome(c)
        dt = time.monotonic() - t0
        if has_msgid:
            good = (len(msgs) == 1 and msgs[0][1] == data[2] and
                    err_code(msgs[0][2]) == "EINVAL" and
                    "larger than the limit" in err_msg(msgs[0][2]))
            what = "an EINVAL answer saying the message is too large, " \
                "then closed"
        else:
            good = msgs == []
            what = "closed"
        tap.ok(closed and good and dt < 1.0, "%s: %s within 1 s" %
               (name, what), "closed %r after %.3f s, messages %r" %
               (closed, dt, msgs))
        c.close()
    hwm1 = agent.hwm_kb()
    tap.ok(hwm1 - hwm0 < 8 * 1024, "huge declared sizes never grow the "
           "agent's peak memory by 8 MiB", "VmHWM %d kB -> %d kB" %
           (hwm0, hwm1))
    tap.serving(agent, "huge declared sizes")


def oversized_request(tap, agent):
    # One 2 MiB string: refused from its header.
    big = request_bytes(0x1234, "Ping", {"pad": "x" * (2 * MIB)})
    # 2 MiB of small strings: refused once 1 MiB has been buffered.
    many = request_bytes(0x4321, "MountStatus",
                         {"mount_session_ids": ["y" * 20] * 100000})
    rss0 = agent.rss_kb()
    for name, data, msgid in (("one 2 MiB string", big, 0x1234),
                              ("100000 small strings (2.1 MiB)", many,
                               0x4321)):
        c = Client(agent.control)
        t = threading.Thread(target=send_quietly, args=(c.sock, data))
        t.start()
        msgs, closed = outcome(c, 5.0)
        t.join()
        tap.ok(len(msgs) == 1 and msgs[0][1] == msgid and
               err_code(msgs[0][2]) == "EINVAL" and
               "1048576 bytes" in err_msg(msgs[0][2]),
               "a request of %s gets EINVAL naming the 1048576-byte bound"
               % name, repr(msgs)[:300])
        tap.ok(closed, "then the connection is closed")
        c.close()
    rss1 = agent.rss_kb()
    tap.ok(rss1 - rss0 < 16 * 1024, "oversized requests leave the agent's "
           "memory within 16 MiB of before", "VmRSS %d kB -> %d kB" %
           (rss0, rss1))
    tap.serving(agent, "oversized requests")


def deep_nesting(tap, agent):
    c = Client(agent.control)
    c.send_raw(b"\x91" * 1000 + b"\xc0")
    msgs, closed = outcome(c)
    tap.ok(closed and msgs == [], "1000 nested arrays: closed without an "
           "answer", "closed %r messages %r" % (closed, msgs))
    c.close()
    c = Client(agent.control)
    c.send_raw(b"\x94\x00\x31\xa4Ping\x91" + b"\x81\xa1k" * 1000 + b"\xc0")
    msgs, closed = outcome(c)
    tap.ok(closed and len(msgs) == 1 and msgs[0][1] == 0x31 and
           err_code(msgs[0][2]) == "EINVAL" and
           "nested too deeply" in err_msg(msgs[0][2]),
           "a Ping whose params nest 1000 maps deep: EINVAL saying it is "
           "nested too deeply, then closed", "closed %r messages %r" %
           (closed, msgs))
    c.close()
    # At the limit (32 levels, counting the message itself) all is well.
    c = Client(agent.control)
    nested = {"k": None}
    for _ in range(29):
        nested = {"k": nested}
    # request array, params array, 30 maps: 32 levels.
    error, _ = c.call("Ping", nested)
    tap.ok(err_code(error) == "EINVAL" and '"k"' in err_msg(error),
           "a Ping with params nested 32 levels deep in all is decoded "
           "and answered (EINVAL naming the unknown key)", repr(error))
    error, _ = c.call("Ping")
    tap.ok(error is None, "and that connection stays open", repr(error))
    c.close()
    c = Client(agent.control)
    c.send_raw(request_bytes(0x32, "Ping", {"k": nested}))
    msgs, closed = outcome(c)
    tap.ok(closed and len(msgs) == 1 and msgs[0][1] == 0x32 and
           "nested too deeply" in err_msg(msgs[0][2]),
           "33 levels: EINVAL saying nested too deeply, then closed",
           "closed %r messages %r" % (closed, msgs))
    c.close()
    tap.serving(agent, "deep nesting")


def slow_reader_is_dropped(tap, agent):
    """A client that pipelines requests and never reads: the agent stops
    reading from it once its answers back up, keeps serving others, and
    drops it (idle timeout of this agent: 2 s) instead of buffering."""
    rss0 = agent.rss_kb()
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(agent.control)
    slow.setblocking(False)
    req = b"".join(request_bytes(i, "MountStatus") for i in range(1000))
    sent = 0
    other = Client(agent.status)
    worst = 0.0
    failures = []
    rss_max = rss0
    dropped_at = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 15:
        try:
            sent += slow.send(req)
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            dropped_at = time.monotonic() - t0
            break
        # POLLHUP: the agent closed its end (without our reading a byte).
        p = select.poll()
        p.register(slow, select.POLLHUP)
        if p.poll(0):
            dropped_at = time.monotonic() - t0
            break
        t1 = time.monotonic()
        try:
            error, _ = other.call("Ping", timeout=2.0)
            if error is not None:
                failures.append(repr(error))
        except Exception as e:  # noqa: BLE001
            failures.append(repr(e))
        worst = max(worst, time.monotonic() - t1)
        rss_max = max(rss_max, agent.rss_kb())
        time.sleep(0.02)
    requests = sent // len(request_bytes(1, "MountStatus"))
    tap.ok(requests >= 5000, "the slow reader got thousands of requests in "
           "before the agent stopped reading", "%d requests" % requests)
    tap.ok(dropped_at is not None, "the slow reader is dropped",
           "still connected after 15 s")
    tap.ok(not failures and worst < 1.0, "another client was answered "
           "throughout, each Ping within 1 s", "worst %.3f s, failures %r"
           % (worst, failures[:3]))
    tap.ok(rss_max - rss0 < 24 * 1024, "the agent's memory stayed within "
           "24 MiB of before while the slow reader was connected",
           "VmRSS %d kB -> at most %d kB" % (rss0, rss_max))
    tap.diag("slow reader: %d requests in, dropped after %s s, RSS %d -> %d "
             "kB" % (requests, "%.1f" % dropped_at if dropped_at else "-",
                     rss0, rss_max))
    slow.close()
    other.close()
    tap.serving(agent, "a slow reader")


if __name__ == "__main__":
    main([garbage_closes_connection, answers_before_garbage_still_leave,
          wrong_shapes_without_msgid_close,
          truncated_message_then_close, huge_declared_sizes,
          oversized_request, deep_nesting, slow_reader_is_dropped],
         "--idle-timeout", "2s")
