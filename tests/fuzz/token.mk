# tests/fuzz: the identity token decoder (sandboxing/token.c).
fuzz_list += tests/fuzz/fuzz-token
tests/fuzz/fuzz-token: $(srcdir)/tests/fuzz/fuzz-token.c \
		$(srcdir)/sandboxing/token.c $(srcdir)/sandboxing/libcrypto.c \
		$(srcdir)/common/labels.c \
		$(srcdir)/common/xmalloc.c $(srcdir)/common/log.c \
		$(srcdir)/common/util.c
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS) \
		-o $@ $^ $(JANSSON_LIBS) $(LIBCRYPTO_LIBS) $(DL_LIBS)
CLEANFILES += tests/fuzz/fuzz-token
EXTRA_DIST += tests/fuzz/fuzz-token.c tests/fuzz/corpus-token
