# tests/ceph: against a real Ceph cluster (contrib/ceph-cluster.sh), each
# test starting its own and stopping it by pid whatever happens. They
# skip (77) where the Ceph daemons, python3-cephfs/rados or this build's
# ceph store are missing; CI installs Ceph (contrib/install-deps.sh).
# By hand: top_srcdir=. top_builddir=build tests/ceph/store.sh
TESTS += tests/ceph/store.sh tests/ceph/caps-proof.sh tests/ceph/cluster.sh
EXTRA_DIST += tests/ceph/cluster.sh tests/ceph/store.sh \
	tests/ceph/caps-proof.sh tests/ceph/ceph-lib.sh tests/ceph/hold-lock.c
if HAVE_CEPH
check_PROGRAMS += tests/ceph/hold-lock
tests_ceph_hold_lock_SOURCES = tests/ceph/hold-lock.c
tests_ceph_hold_lock_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_ceph_hold_lock_LDADD = mountmgr/libmountmgr.a common/libcommon.a \
	$(JANSSON_LIBS)
endif

# blfs serving CephFS through libcephfs, against a cluster it starts.
TESTS += tests/ceph/blfs-ceph.py tests/ceph/agent.py
EXTRA_DIST += tests/ceph/blfs-ceph.py tests/ceph/agent.py

# make bench: blfs on a ceph store against ceph-fuse, one cluster.
bench_list += tests/bench/ceph-bench.sh
EXTRA_DIST += tests/bench/ceph-bench.sh tests/bench/ceph-bench.py
