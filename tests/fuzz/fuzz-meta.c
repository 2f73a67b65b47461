/*
 * libFuzzer harness for user.blfs.attr values read from the store
 * (mountmgr/owners.c): whatever parses must name a type the backing file may
 * stand for, ids that are not (uid_t)-1, a device number only on a device
 * node and one the kernel's dev_t holds, and must come back the same
 * through owners_format and owners_parse again.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mountmgr/owners.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const mode_t fuzz_types[] = { S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO,
    S_IFSOCK, S_IFCHR, S_IFBLK };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct owners m, again;
	char buf[64];
	mode_t btype, type;
	size_t i;
	int n;

	for (i = 0; i < sizeof(fuzz_types) / sizeof(fuzz_types[0]); i++) {
		btype = fuzz_types[i];
		if (owners_parse((const char *)data, size, btype, &m) != 0)
			continue;
		type = m.mode & S_IFMT;
		if (type != btype && !(btype == S_IFREG && (type == S_IFLNK ||
		    type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR ||
		    type == S_IFBLK)))
			abort();
		if (m.uid == (uid_t)-1 || m.gid == (gid_t)-1)
			abort();
		if (m.rdev != 0 && type != S_IFCHR && type != S_IFBLK)
			abort();
		if (major(m.rdev) > OWNERS_MAJOR_MAX ||
		    minor(m.rdev) > OWNERS_MINOR_MAX)
			abort();
		if ((n = owners_format(&m, buf, sizeof(buf))) < 0 ||
		    n > OWNERS_VALUE_MAX)
			abort();
		if (owners_parse(buf, (size_t)n, btype, &again) != 0 ||
		    again.uid != m.uid || again.gid != m.gid ||
		    again.mode != m.mode || again.rdev != m.rdev)
			abort();
	}
	return 0;
}
