/*
 * Registering backing files for FUSE passthrough on behalf of blfs.
 *
 * With passthrough the kernel reads, writes and maps a file of a FUSE
 * mount straight from a backing file the server named at open, without
 * a round trip to the server: on local disks this is what brings data
 * speed to native. Registering a backing file (FUSE_DEV_IOC_BACKING_OPEN
 * on the connection's /dev/fuse fd) needs CAP_SYS_ADMIN, which blfs never
 * holds, so its registrar (the agent, which opened /dev/fuse and made the
 * mount) registers the files blfs sends over the mount's socket.
 *
 * Why this hands blfs nothing it did not have:
 *  - The kernel opens the backing file anew for each FUSE file, with the
 *    FUSE file's flags and the registrar's credentials, checking no
 *    permission. So only a file blfs itself opened for reading and
 *    writing is taken (for reading on a read-only mount, where the
 *    kernel refuses every open for writing before blfs is asked): blfs
 *    proved, under its own Landlock domain and permissions, that it may
 *    do everything the kernel may later do with it. No O_PATH fd, no
 *    directory, no device: a regular file only.
 *  - Reads and writes run with the registrar's credentials. The agent's
 *    are hardened (sandbox_agent_harden): of its capabilities only
 *    CAP_DAC_OVERRIDE could touch file I/O, and an already open file's
 *    reads and writes check no permission. It lacks CAP_FSETID (a write
 *    drops set-id bits of the backing file as blfs's own write would)
 *    and CAP_SYS_RESOURCE (no blocks reserved for root, no quota
 *    bypass).
 *  - An id is only good on its own connection, and the agent holds the
 *    fd of that one mount only.
 *  - Each registration keeps a file open in the kernel, which no limit
 *    of blfs's counts: a mount holds BACKING_MAX at most.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "mountmgr/backing.h"

int
backing_register(int fusefd, int fd, int read_only)
{
	struct backing_fuse_map map;
	struct stat st;
	int fl, id;

	if (fd == -1)
		return -EBADF;
	if (fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((fl & O_PATH) || !((fl & O_ACCMODE) == O_RDWR ||
	    (read_only && (fl & O_ACCMODE) == O_RDONLY)))
		return -EACCES;
	if (fusefd == -1)
		return -ENOTCONN;
	memset(&map, 0, sizeof(map));
	map.fd = fd;
	if ((id = ioctl(fusefd, BACKING_IOC_OPEN, &map)) == -1)
		return -errno;
	return id;
}

void
backing_unregister(int fusefd, const char *s, unsigned *held)
{
	uint64_t id;
	uint32_t v;

	if (fusefd == -1 || parse_u64(s, INT32_MAX, &id) == -1)
		return;
	v = (uint32_t)id;
	/* Only a registration that was there is counted out. */
	if (ioctl(fusefd, BACKING_IOC_CLOSE, &v) == 0 && *held > 0)
		(*held)--;
}

void
backing_answer(int fusefd, int fd, int read_only, unsigned *held,
    char *buf, size_t len)
{
	int id = -EMFILE;

	if (*held < BACKING_MAX &&
	    (id = backing_register(fusefd, fd, read_only)) >= 0)
		(*held)++;
	snprintf(buf, len, BACKING_ASK " %d\n", id);
}
