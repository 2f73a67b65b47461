# tests/fuzz: the connection decoder (rpc/wire.c framing, msgpack-c on the
# span it finds, the msgpack-RPC shape, rpc/schema.c on Mount's params).
fuzz_list += tests/fuzz/fuzz-wire
tests/fuzz/fuzz-wire: $(srcdir)/tests/fuzz/fuzz-wire.c \
		$(srcdir)/rpc/wire.c $(srcdir)/rpc/schema.c $(srcdir)/agent/params.c \
		$(srcdir)/common/xmalloc.c $(srcdir)/common/log.c \
		$(srcdir)/common/util.c
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CFLAGS) $(MSGPACK_CFLAGS) -o $@ $^ \
		$(MSGPACK_LIBS)
CLEANFILES += tests/fuzz/fuzz-wire
EXTRA_DIST += tests/fuzz/fuzz-wire.c tests/fuzz/corpus-wire \
	tests/fuzz/run-fuzzers.sh
