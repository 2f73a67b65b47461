/*
 * FUSE passthrough: backing files registered on a mount's /dev/fuse fd
 * for its blfs, which may not register them itself (the kernel asks
 * CAP_SYS_ADMIN). Shared by the agent (mount.c), the test driver and
 * blfs (the wire words and the kernel's structures, which Debian 12's
 * linux-libc-dev 6.1 does not have yet).
 */
#ifndef BL_BACKING_H
#define BL_BACKING_H

#include <stdint.h>

#include <linux/ioctl.h>

/* From Linux 6.9's <linux/fuse.h> (FUSE protocol 7.40). */
#define BACKING_FUSE_PASSTHROUGH	(UINT64_C(1) << 37)	/* INIT */
#define BACKING_FOPEN_PASSTHROUGH	(1U << 7)	/* open_flags */
struct backing_fuse_map {
	int32_t		fd;
	uint32_t	flags;
	uint64_t	padding;
};
#define BACKING_IOC_OPEN	_IOW(229, 1, struct backing_fuse_map)
#define BACKING_IOC_CLOSE	_IOW(229, 2, uint32_t)

/*
 * The words on the mount's socket, blfs to its registrar: "backing\n"
 * with the file's fd (SCM_RIGHTS), answered "backing ID\n" or
 * "backing -ERRNO\n"; "unbacking ID\n", unanswered.
 */
#define BACKING_ASK	"backing"
#define BACKING_DROP	"unbacking "

/*
 * Registrations one mount may hold at once: each keeps a file open in
 * the kernel, counted against no limit of blfs's own.
 */
#define BACKING_MAX	16384

/*
 * Register fd, which blfs sent, as a backing file on fusefd: the id, or
 * -errno. Only a regular file opened for reading and writing (for
 * reading only on a read-only mount) is taken: see backing.c.
 */
int	backing_register(int fusefd, int fd, int read_only);
/*
 * The answer to one "backing" line, with its newline, in buf; *held
 * counts the mount's registrations (EMFILE past BACKING_MAX).
 */
void	backing_answer(int fusefd, int fd, int read_only, unsigned *held,
	    char *buf, size_t len);
/* An "unbacking" line: the registration goes (the kernel keeps files
 * open on it); *held counts it out if it was one. */
void	backing_unregister(int fusefd, const char *id, unsigned *held);

#endif
