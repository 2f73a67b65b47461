/*
 * libFuzzer harness for user.blfs.attr values read from the store
 * (mountmgr/owners.c): whatever parses must name a type the backing file may
 * stand for, ids that are not (uid_t)-1, and must come back the same
 * through owners_format and owners_parse again.
 */
#include "config.h"

#include <sys/stat.h>

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
		    type == S_IFIFO || type == S_IFSOCK)))
			abort();
		if (m.uid == (uid_t)-1 || m.gid == (gid_t)-1)
			abort();
		if ((n = owners_format(&m, buf, sizeof(buf))) < 0)
			abort();
		if (owners_parse(buf, (size_t)n, btype, &again) != 0 ||
		    again.uid != m.uid || again.gid != m.gid ||
		    again.mode != m.mode)
			abort();
	}
	return 0;
}
