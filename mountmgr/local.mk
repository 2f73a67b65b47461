# mountmgr/: mounts, drives, states; nothing about sockets.
# Shared fragment: each module adds its own SOURCES line; touch only yours.
noinst_LIBRARIES += mountmgr/libmountmgr.a
mountmgr_libmountmgr_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CEPH_CFLAGS)
mountmgr_libmountmgr_a_SOURCES = mountmgr/state.c mountmgr/state.h mountmgr/perm.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/perm.c
mountmgr_libmountmgr_a_SOURCES += mountmgr/paths.c mountmgr/paths.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/drive.c mountmgr/drive.h mountmgr/store.c mountmgr/store.h mountmgr/store-kind.h mountmgr/store-posix.c
mountmgr_libmountmgr_a_SOURCES += mountmgr/mountlock.c mountmgr/store-posix.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/handoff.c mountmgr/handoff.h mountmgr/mount.c mountmgr/mount.h mountmgr/mount-int.h mountmgr/mount-child.c mountmgr/mount-state.c mountmgr/resolve.c mountmgr/resolve.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/owners.c mountmgr/owners.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/stats.c mountmgr/stats.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/backing.c mountmgr/backing.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/usage.c mountmgr/usage.h
mountmgr_libmountmgr_a_SOURCES += mountmgr/volume.c mountmgr/volume-mount.c mountmgr/volume.h
# The ceph store kind, when configure found libcephfs and librados.
if HAVE_CEPH
mountmgr_libmountmgr_a_SOURCES += mountmgr/store-ceph.c mountmgr/store-ceph.h \
	mountmgr/store-ceph-lock.c mountmgr/store-ceph-drive.c \
	mountmgr/store-ceph-caps.c
else
EXTRA_DIST += mountmgr/store-ceph.c mountmgr/store-ceph.h \
	mountmgr/store-ceph-lock.c mountmgr/store-ceph-drive.c \
	mountmgr/store-ceph-caps.c
endif
mountmgr_libmountmgr_a_SOURCES += mountmgr/cephlib.c mountmgr/cephlib.h
