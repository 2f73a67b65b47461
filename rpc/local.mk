# rpc/: msgpack-RPC and sockets; no word of mounts.
noinst_LIBRARIES += rpc/librpc.a
rpc_librpc_a_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(LIBEVENT_CFLAGS)
rpc_librpc_a_SOURCES = \
	rpc/wire.c rpc/wire.h \
	rpc/schema.c rpc/schema.h \
	rpc/server.c rpc/server.h \
	rpc/client.c rpc/client.h
