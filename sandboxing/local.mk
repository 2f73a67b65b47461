# sandboxing/: capabilities, seccomp, namespaces, the token.
# Shared fragment: each module adds its own SOURCES line; touch only yours.
noinst_LIBRARIES += sandboxing/libsandbox.a
sandboxing_libsandbox_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(LIBCAP_CFLAGS) $(LIBSECCOMP_CFLAGS)
sandboxing_libsandbox_a_SOURCES = sandboxing/sandbox.h
sandboxing_libsandbox_a_SOURCES += sandboxing/token.c sandboxing/token.h
