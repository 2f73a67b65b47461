#!/bin/sh
# make bench: a volume against native ext4 and a blfs drive (volume-bench.py).
exec "${PYTHON3:-/usr/bin/python3}" "$top_srcdir/tests/bench/volume-bench.py"
