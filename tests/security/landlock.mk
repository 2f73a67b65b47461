# tests/security: blfs's Landlock domain (sandboxing/landlock.c).
check_PROGRAMS += tests/security/landlock-probe
tests_security_landlock_probe_SOURCES = tests/security/landlock-probe.c \
	tests/tap.h
tests_security_landlock_probe_LDADD = sandboxing/libsandbox.a \
	common/libcommon.a
TESTS += tests/security/landlock-probe
