#!/bin/sh
# make bench: metadata through blfs as a real agent mounts it, against
# native, libfuse's passthrough_ll and bindfs (see meta-bench.py).
exec "${PYTHON3:-/usr/bin/python3}" "$top_srcdir/tests/bench/meta-bench.py"
