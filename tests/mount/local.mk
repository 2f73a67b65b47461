# Mount tests: real agents, real blfs, real FUSE mounts (root).
mount_tests = \
	tests/mount/mount-basic.sh \
	tests/mount/mount-failures.sh \
	tests/mount/mount-events.sh \
	tests/mount/wait-bound.py \
	tests/mount/sharing.py \
	tests/mount/store-fuse.py \
	tests/mount/stats.py \
	tests/mount/capacity.py \
	tests/mount/passthrough.py \
	tests/mount/access-modes.sh \
	tests/mount/volume.py \
	tests/mount/contrib-init.sh
TESTS += $(mount_tests)
EXTRA_DIST += $(mount_tests) tests/lib.sh tests/mount/mounttest.py

# make bench: Mount RPC -> mounted latency next to bindfs; a drive
# mounted once and twice by real agents, next to native; metadata through
# a real agent's mount next to native, passthrough_ll and bindfs.
bench_list += tests/bench/mount-bench.sh tests/bench/share-bench.sh \
	tests/bench/meta-bench.sh
EXTRA_DIST += tests/bench/mount-bench.sh tests/bench/mount-bench.py \
	tests/bench/share-bench.sh tests/bench/share-bench.py \
	tests/bench/meta-bench.sh tests/bench/meta-bench.py

# make bench: a volume against native ext4 on the same disk and a drive.
bench_list += tests/bench/volume-bench.sh
EXTRA_DIST += tests/bench/volume-bench.sh tests/bench/volume-bench.py

# make bench: the floor of a FUSE mount on this machine, beside Mount.
check_PROGRAMS += tests/bench/mount-floor
tests_bench_mount_floor_SOURCES = tests/bench/mount-floor.c
tests_bench_mount_floor_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS)
tests_bench_mount_floor_LDADD = $(FUSE3_LIBS)
