EXTRA_DIST += contrib/install-deps.sh contrib/run-tests.sh contrib/run-demo.sh \
	contrib/demo.sh contrib/sandbox-init.sh contrib/blagent.service \
	contrib/sandbox-workload.service contrib/gluster-volume.sh \
	contrib/ceph-cluster.sh autogen.sh .ci/run
