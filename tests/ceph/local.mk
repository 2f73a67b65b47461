# tests/ceph: against a real Ceph cluster (contrib/ceph-cluster.sh).
# Shipped, not run: cluster.sh joins TESTS when the ceph store lands
# (issue 10) and CI installs Ceph (BLAGENT_DEPS_CEPH=1). By hand:
#   top_srcdir=. top_builddir=. tests/ceph/cluster.sh
EXTRA_DIST += tests/ceph/cluster.sh

# blfs serving CephFS through libcephfs, against a cluster it starts.
TESTS += tests/ceph/blfs-ceph.py
EXTRA_DIST += tests/ceph/blfs-ceph.py
