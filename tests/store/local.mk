# tests/store: path rules, the posix drive store, `blctl drive`, the backing
# files the agent registers for blfs.
STORE_TEST_LDADD = mountmgr/libmountmgr.a common/libcommon.a $(JANSSON_LIBS)

check_PROGRAMS += tests/store/paths-test
tests_store_paths_test_SOURCES = tests/store/paths-test.c tests/tap.h
tests_store_paths_test_LDADD = $(STORE_TEST_LDADD)
TESTS += tests/store/paths-test

check_PROGRAMS += tests/store/store-test
tests_store_store_test_SOURCES = tests/store/store-test.c tests/tap.h
tests_store_store_test_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_store_store_test_LDADD = $(STORE_TEST_LDADD)
TESTS += tests/store/store-test

TESTS += tests/store/blctl-drive.sh
EXTRA_DIST += tests/store/blctl-drive.sh

check_PROGRAMS += tests/store/access-test
tests_store_access_test_SOURCES = tests/store/access-test.c tests/tap.h
tests_store_access_test_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_store_access_test_LDADD = $(STORE_TEST_LDADD)
TESTS += tests/store/access-test

check_PROGRAMS += tests/store/backing-test
tests_store_backing_test_SOURCES = tests/store/backing-test.c tests/tap.h
tests_store_backing_test_LDADD = $(STORE_TEST_LDADD)
TESTS += tests/store/backing-test
