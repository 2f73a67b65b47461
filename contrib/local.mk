EXTRA_DIST += contrib/install-deps.sh contrib/run-tests.sh contrib/run-demo.sh \
	contrib/demo.sh autogen.sh .ci/run
