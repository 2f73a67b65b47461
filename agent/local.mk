# agent/: the daemon; the only place that sees both rpc/ and mountmgr/.
sbin_PROGRAMS += agent/blagent
agent_blagent_SOURCES = \
	agent/main.c agent/agent.h \
	agent/method-ping.c agent/method-mount.c agent/method-status.c \
	agent/method-stats.c \
	agent/pack.c agent/params.c agent/params.h
agent_blagent_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(JANSSON_CFLAGS)
agent_blagent_LDADD = rpc/librpc.a mountmgr/libmountmgr.a \
	sandboxing/libsandbox.a common/libcommon.a \
	$(LIBEVENT_LIBS) $(MSGPACK_LIBS) $(JANSSON_LIBS) $(DL_LIBS) \
	$(LIBCAP_LIBS) $(LIBSECCOMP_LIBS)
dist_man_MANS += agent/blagent.8
