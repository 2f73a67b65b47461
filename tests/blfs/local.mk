# tests/blfs: blfs served through real FUSE mounts, as the agent mounts
# them (tests/blfs/blfs-mount), and the handoff's mountinfo parser.
check_PROGRAMS += tests/blfs/blfs-mount tests/blfs/handoff-mountinfo \
	tests/blfs/renameat2
tests_blfs_blfs_mount_SOURCES = tests/blfs/blfs-mount.c
tests_blfs_blfs_mount_CFLAGS = $(AM_CFLAGS) $(LIBCAP_CFLAGS)
tests_blfs_blfs_mount_LDADD = mountmgr/libmountmgr.a common/libcommon.a \
	$(LIBCAP_LIBS)
tests_blfs_handoff_mountinfo_SOURCES = tests/blfs/handoff-mountinfo.c
tests_blfs_handoff_mountinfo_LDADD = mountmgr/libmountmgr.a \
	common/libcommon.a
tests_blfs_renameat2_SOURCES = tests/blfs/renameat2.c

TESTS += tests/blfs/handoff-mountinfo
