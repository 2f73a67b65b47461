# tests/rpc: the RPC core. Unit tests of the framing and the parameter
# schema (C), and the real agent driven over temporary sockets by a client
# written from the msgpack-RPC specification (Python, python3-msgpack) and
# by blctl.
check_PROGRAMS += tests/rpc/test-wire tests/rpc/test-schema
TESTS += tests/rpc/test-wire tests/rpc/test-schema
tests_rpc_test_wire_SOURCES = tests/rpc/test-wire.c tests/rpc/mp.h
tests_rpc_test_wire_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(JANSSON_CFLAGS)
tests_rpc_test_wire_LDADD = rpc/librpc.a common/libcommon.a \
	$(MSGPACK_LIBS) $(JANSSON_LIBS)
tests_rpc_test_schema_SOURCES = tests/rpc/test-schema.c tests/rpc/mp.h
tests_rpc_test_schema_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(JANSSON_CFLAGS)
tests_rpc_test_schema_LDADD = rpc/librpc.a common/libcommon.a \
	$(MSGPACK_LIBS) $(JANSSON_LIBS)
