#!/bin/sh
# pjdfstest on blfs, part 1 of 4: see pjdfstest-lib.sh.
pjd_part=1
pjd_parts=4
. "$top_srcdir/tests/blfs/pjdfstest-lib.sh"
