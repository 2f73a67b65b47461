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
# The vsock listener: the CID check and listening (agent-vsock.py: end to end).
check_PROGRAMS += tests/rpc/test-vsock
TESTS += tests/rpc/test-vsock
tests_rpc_test_vsock_SOURCES = tests/rpc/test-vsock.c
tests_rpc_test_vsock_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(LIBEVENT_CFLAGS)
tests_rpc_test_vsock_LDADD = rpc/librpc.a common/libcommon.a \
	$(LIBEVENT_LIBS) $(MSGPACK_LIBS)

# The real agent on temporary sockets, driven by tests/rpc/blrpc.py (a
# client from the msgpack-RPC specification) and by blctl.
rpc_py_tests = \
	tests/rpc/agent-protocol.py \
	tests/rpc/agent-hostile.py \
	tests/rpc/agent-limits.py \
	tests/rpc/agent-lifecycle.py \
	tests/rpc/agent-vsock.py \
	tests/rpc/blctl-rpc.py
TESTS += $(rpc_py_tests)
EXTRA_DIST += $(rpc_py_tests) tests/rpc/blrpc.py

# make bench: blagent's Ping next to redis-server's PING (tests/bench).
check_PROGRAMS += tests/bench/rpc-load
tests_bench_rpc_load_SOURCES = tests/bench/rpc-load.c
tests_bench_rpc_load_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS)
tests_bench_rpc_load_LDADD = $(MSGPACK_LIBS)
bench_list += tests/bench/rpc-bench.sh
EXTRA_DIST += tests/bench/rpc-bench.sh
