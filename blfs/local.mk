# blfs/: the FUSE server of one mount, started by blagent only (libexec).
libexec_PROGRAMS += blfs/blfs
blfs_blfs_SOURCES = blfs/main.c blfs/ops.c blfs/inode.c blfs/loop.c \
	blfs/devio.c blfs/meta.c blfs/share.c blfs/lock.c blfs/stats.c \
	blfs/quota.c blfs/xattr.c blfs/hold.c blfs/readdir.c blfs/acache.c \
	blfs/ceph.c blfs/ceph.h blfs/blfs.h \
	blfs/backing.c
blfs_blfs_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS) -D_FILE_OFFSET_BITS=64 -pthread
blfs_blfs_LDADD = sandboxing/libsandbox.a mountmgr/libmountmgr.a \
	common/libcommon.a $(FUSE3_LIBS) $(JANSSON_LIBS) \
	$(LIBSECCOMP_LIBS) $(LIBCAP_LIBS) -lpthread
dist_man_MANS += blfs/blfs.8
