#!/bin/sh
# make bench: Mount RPC -> mounted latency against bindfs (see mount-bench.py).
exec "${PYTHON3:-/usr/bin/python3}" "$top_srcdir/tests/bench/mount-bench.py"
