# tests/fuzz: permission rules and drive.json (mountmgr/perm.c, drive.c).
fuzz_list += tests/fuzz/fuzz-drivejson
tests/fuzz/fuzz-drivejson: $(srcdir)/tests/fuzz/fuzz-drivejson.c \
		$(srcdir)/mountmgr/perm.c $(srcdir)/mountmgr/paths.c \
		$(srcdir)/mountmgr/drive.c $(srcdir)/common/labels.c \
		$(srcdir)/common/xmalloc.c $(srcdir)/common/log.c \
		$(srcdir)/common/util.c
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CFLAGS) $(JANSSON_CFLAGS) -o $@ $^ \
		$(JANSSON_LIBS)
CLEANFILES += tests/fuzz/fuzz-drivejson
EXTRA_DIST += tests/fuzz/fuzz-drivejson.c tests/fuzz/corpus-drivejson
