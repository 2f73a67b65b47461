# sandboxing/: capabilities, seccomp, namespaces, the token.
# Shared fragment: each module adds its own SOURCES line; touch only yours.
noinst_LIBRARIES += sandboxing/libsandbox.a
sandboxing_libsandbox_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(LIBCAP_CFLAGS) $(LIBSECCOMP_CFLAGS)
sandboxing_libsandbox_a_SOURCES = sandboxing/sandbox.h
sandboxing_libsandbox_a_SOURCES += sandboxing/token.c sandboxing/token.h \
	sandboxing/libcrypto.c sandboxing/libcrypto.h
sandboxing_libsandbox_a_SOURCES += sandboxing/caps.c sandboxing/caps.h \
	sandboxing/seccomp.c sandboxing/seccomp.h sandboxing/ns.c sandboxing/ns.h \
	sandboxing/confine.c sandboxing/confine.h
sandboxing_libsandbox_a_SOURCES += sandboxing/landlock.c
sbin_PROGRAMS += sandboxing/bljail
sandboxing_bljail_SOURCES = sandboxing/bljail.c
sandboxing_bljail_CFLAGS = $(AM_CFLAGS) $(LIBCAP_CFLAGS) $(LIBSECCOMP_CFLAGS)
sandboxing_bljail_LDADD = sandboxing/libsandbox.a common/libcommon.a \
	$(LIBCAP_LIBS) $(LIBSECCOMP_LIBS)
dist_man_MANS += sandboxing/bljail.1
