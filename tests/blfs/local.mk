# tests/blfs: blfs served through real FUSE mounts, made the way the agent
# makes them (tests/blfs/blfs-mount), and the handoff's mountinfo parser.
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

blfs_test_scripts = \
	tests/blfs/blfs-args.sh \
	tests/blfs/posix-files.py \
	tests/blfs/posix-attrs.py \
	tests/blfs/posix-dirs.py \
	tests/blfs/posix-io.py \
	tests/blfs/posix-setid.py \
	tests/blfs/owners.py \
	tests/blfs/coherence.py \
	tests/blfs/round-trips.py \
	tests/blfs/readonly.py \
	tests/blfs/confinement.py \
	tests/blfs/bounded-fds.py \
	tests/blfs/fio-verify.sh \
	tests/blfs/pjdfstest-part1.sh \
	tests/blfs/pjdfstest-part2.sh \
	tests/blfs/pjdfstest-part3.sh \
	tests/blfs/pjdfstest-part4.sh
TESTS += tests/blfs/handoff-mountinfo $(blfs_test_scripts)
EXTRA_DIST += $(blfs_test_scripts) tests/blfs/blfstest.py \
	tests/blfs/pjdfstest-lib.sh

bench_list += tests/bench/blfs-bench.sh
EXTRA_DIST += tests/bench/blfs-bench.sh
