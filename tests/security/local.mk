# tests/security: the confinement holds. Each script is one area of the
# escape suite; add more scripts to security_tests as they come.
security_tests = \
	tests/security/blfs-confine.sh \
	tests/security/jail.sh
TESTS += $(security_tests)
EXTRA_DIST += $(security_tests) tests/security/lib.sh tests/security/attempts.sh
check_PROGRAMS += tests/security/probe tests/security/blfs-child
tests_security_probe_SOURCES = tests/security/probe.c \
	tests/security/probe-calls.c tests/security/probe-calls.h
tests_security_probe_LDADD = -lpthread
tests_security_blfs_child_SOURCES = tests/security/blfs-child.c \
	tests/security/probe-calls.c tests/security/probe-calls.h
tests_security_blfs_child_LDADD = sandboxing/libsandbox.a \
	common/libcommon.a $(LIBCAP_LIBS) $(LIBSECCOMP_LIBS) -lpthread
TESTS += tests/security/escape.sh
EXTRA_DIST += tests/security/escape.sh
check_PROGRAMS += tests/security/escape-probe
tests_security_escape_probe_SOURCES = tests/security/escape-probe.c
TESTS += tests/security/escape-volume.sh
EXTRA_DIST += tests/security/escape-volume.sh
