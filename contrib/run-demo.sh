#!/bin/sh
# Installs what is needed (Debian 12, as root), builds in build/demo and
# runs the demo.
set -eu
cd "$(dirname "$0")/.."
if [ "${SKIP_DEPS:-0}" != 1 ]; then
	sh contrib/install-deps.sh
fi
./autogen.sh
mkdir -p build/demo
cd build/demo
../../configure -q
make -j2 -s
make -s demo
