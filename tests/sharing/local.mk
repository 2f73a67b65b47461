# Sharing tests: one drive, two sandboxes on two "machines" (two GlusterFS
# clients of one volume started by contrib/gluster-volume.sh).
sharing_tests = tests/sharing/gluster.sh
TESTS += $(sharing_tests)
EXTRA_DIST += $(sharing_tests) tests/sharing/sharehelp.py
