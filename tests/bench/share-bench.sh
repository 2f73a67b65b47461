#!/bin/sh
# make bench: a drive mounted once and twice, against native (see
# share-bench.py).
exec "${PYTHON3:-/usr/bin/python3}" "$top_srcdir/tests/bench/share-bench.py"
