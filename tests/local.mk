# Every test prints TAP; `make check` runs them through tap-driver.sh.
# Each test area keeps its own fragment.

# Fuzz targets: built by `make fuzz` with clang's libFuzzer, never by `make`.
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I$(top_srcdir) -I$(top_builddir)

include tests/rpc/local.mk
include tests/mount/local.mk
include tests/blfs/local.mk
include tests/store/local.mk
include tests/perm/local.mk
include tests/security/local.mk
include tests/meta/local.mk
include tests/sharing/local.mk
include tests/ceph/local.mk
include tests/security/landlock.mk
include tests/fuzz/wire.mk
include tests/fuzz/token.mk
include tests/fuzz/drivejson.mk
include tests/fuzz/meta.mk
