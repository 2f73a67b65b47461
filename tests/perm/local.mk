# tests/perm: drive permission rules and the identity token (pure modules).
check_PROGRAMS += tests/perm/test-perm
TESTS += tests/perm/test-perm
tests_perm_test_perm_SOURCES = tests/perm/test-perm.c tests/tap.h
tests_perm_test_perm_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_perm_test_perm_LDADD = mountmgr/libmountmgr.a common/libcommon.a \
	$(JANSSON_LIBS)

check_PROGRAMS += tests/perm/test-token
TESTS += tests/perm/test-token
tests_perm_test_token_SOURCES = tests/perm/test-token.c tests/tap.h
tests_perm_test_token_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(LIBCRYPTO_CFLAGS)
tests_perm_test_token_LDADD = sandboxing/libsandbox.a common/libcommon.a \
	$(JANSSON_LIBS) $(LIBCRYPTO_LIBS) $(DL_LIBS)

# Drive permissions end to end: real agents, tokens and mounts (root).
TESTS += tests/perm/perm-agents.sh
EXTRA_DIST += tests/perm/perm-agents.sh

# libcrypto only in an agent given --token-key, which still verifies (root).
TESTS += tests/perm/libcrypto-on-demand.sh
EXTRA_DIST += tests/perm/libcrypto-on-demand.sh
