# tests/meta: blfs's owners-and-modes attribute (blfs/meta.c).
check_PROGRAMS += tests/meta/test-meta
tests_meta_test_meta_SOURCES = tests/meta/test-meta.c blfs/meta.c \
	blfs/acache.c tests/tap.h
tests_meta_test_meta_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS)
tests_meta_test_meta_LDADD = mountmgr/libmountmgr.a common/libcommon.a
TESTS += tests/meta/test-meta
TESTS += tests/meta/adopt.sh
EXTRA_DIST += tests/meta/adopt.sh
