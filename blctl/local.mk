bin_PROGRAMS += blctl/blctl
blctl_blctl_SOURCES = blctl/main.c blctl/blctl.h blctl/cmd-drive.c blctl/cmd-drive.h \
	blctl/cmd-drive-caps.c blctl/cmd-rpc.c \
	blctl/cmd-stats.c
blctl_blctl_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(JANSSON_CFLAGS)
blctl_blctl_LDADD = $(BLCTL_LIBS) common/libcommon.a $(DL_LIBS) \
	$(MSGPACK_LIBS) $(JANSSON_LIBS)
dist_man_MANS += blctl/blctl.1
