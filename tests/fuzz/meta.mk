# tests/fuzz: user.blfs.attr values from the store (mountmgr/owners.c).
fuzz_list += tests/fuzz/fuzz-meta
tests/fuzz/fuzz-meta: $(srcdir)/tests/fuzz/fuzz-meta.c \
		$(srcdir)/mountmgr/owners.c $(srcdir)/common/xmalloc.c \
		$(srcdir)/common/log.c $(srcdir)/common/util.c
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CFLAGS) -o $@ $^
CLEANFILES += tests/fuzz/fuzz-meta
EXTRA_DIST += tests/fuzz/fuzz-meta.c tests/fuzz/corpus-meta
