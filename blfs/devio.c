/*
 * Reads and writes of /dev/fuse, through libfuse's custom io hooks, for
 * the one thing libfuse 3.14 cannot ask the kernel for: FUSE_HANDLE_
 * KILLPRIV_V2.
 *
 * Why it matters: without it the kernel asks the server for the
 * security.capability attribute before every write(2) (it must know
 * whether the write removes file capabilities), a full round trip that
 * made 4 KiB writes four times slower than native even with the writeback
 * cache. With it the kernel marks the superblock SB_NOSEC, remembers per
 * inode that there is nothing to remove, and tells the server instead
 * when a write, truncate or O_TRUNC open must clear set-user-ID and
 * set-group-ID (the caller lacks CAP_FSETID): FUSE_WRITE_KILL_SUIDGID,
 * FATTR_KILL_SUIDGID, FUSE_OPEN_KILL_SUIDGID. libfuse 3.14 knows neither
 * the INIT flag nor those request flags, so:
 *  - the INIT request is read here, and if the kernel offers KILLPRIV_V2
 *    the reply libfuse writes gets the flag added;
 *  - every request is read here, and whether it carries a kill flag is
 *    kept for the thread that read it, which is the thread that serves it
 *    (loop.c), where ops.c asks devio_kill_suidgid().
 * And for FUSE passthrough (backing.c), which libfuse 3.14 knows nothing
 * of either: FUSE_PASSTHROUGH is added to the INIT reply with a stack
 * depth of one (the backing files are on a filesystem that stacks on
 * nothing, FUSE or not), and an OPEN or CREATE reply the serving thread
 * marked gets FOPEN_PASSTHROUGH and its backing id.
 * File capabilities themselves need nothing from blfs: its own write,
 * truncate and chown of the backing file remove security.capability in
 * the backing filesystem, as for any writer (and blfs, without
 * CAP_SETFCAP, can never set one).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "blfs/blfs.h"
#include "mountmgr/backing.h"

#include <linux/fuse.h>

static struct {
	uint64_t	init_unique;	/* set before any other request */
	int		v2_offered;	/* the kernel offered KILLPRIV_V2 */
	int		pt_offered;	/* ... and FUSE_PASSTHROUGH */
} dv;

/* Where fuse_open_out.backing_id sits (protocol 7.40; padding before). */
#define DEVIO_BACKING_ID_AT	12
/* Where fuse_init_out.max_stack_depth sits (7.40; unused[0] before). */
#define DEVIO_STACK_DEPTH_AT	(offsetof(struct fuse_init_out, flags2) + 4)

/* The OPEN or CREATE reply this thread sends next: its backing id. */
static __thread int devio_backing = -1;

void
devio_reply_backing(int id)
{
	devio_backing = id;
}

/* The request this thread read last asks to clear set-id bits. */
static __thread int devio_kill;

int
devio_kill_suidgid(void)
{
	return devio_kill;
}

/* What a request says about set-id bits, from its raw bytes. */
static int
devio_parse_kill(const char *buf, size_t len)
{
	const struct fuse_in_header *in = (const void *)buf;
	const char *arg = buf + sizeof(*in);
	size_t alen = len - sizeof(*in);

	switch (in->opcode) {
	case FUSE_WRITE:
		if (alen >= sizeof(struct fuse_write_in))
			return (((const struct fuse_write_in *)(const void *)
			    arg)->write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
		break;
	case FUSE_SETATTR:
		if (alen >= sizeof(struct fuse_setattr_in))
			return (((const struct fuse_setattr_in *)(const void *)
			    arg)->valid & FATTR_KILL_SUIDGID) != 0;
		break;
	case FUSE_OPEN:
		if (alen >= sizeof(struct fuse_open_in))
			return (((const struct fuse_open_in *)(const void *)
			    arg)->open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
		break;
	case FUSE_CREATE:
		if (alen >= sizeof(struct fuse_create_in))
			return (((const struct fuse_create_in *)(const void *)
			    arg)->open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
		break;
	}
	return 0;
}

static ssize_t
devio_read(int fd, void *buf, size_t len, void *userdata)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_init_in *init;
	ssize_t n;

	(void)userdata;
	devio_kill = 0;
	n = read(fd, buf, len);
	if (n < (ssize_t)sizeof(*in))
		return n;
	if (in->opcode == FUSE_INIT && dv.init_unique == 0 &&
	    (size_t)n >= sizeof(*in) + offsetof(struct fuse_init_in, flags2)) {
		init = (const void *)((const char *)buf + sizeof(*in));
		dv.init_unique = in->unique;
		dv.v2_offered = init->major == FUSE_KERNEL_VERSION &&
		    (init->flags & FUSE_HANDLE_KILLPRIV_V2) != 0;
		dv.pt_offered = init->major == FUSE_KERNEL_VERSION &&
		    (size_t)n >= sizeof(*in) + sizeof(*init) &&
		    (init->flags & FUSE_INIT_EXT) != 0 &&
		    (((uint64_t)init->flags2 << 32) &
		    BACKING_FUSE_PASSTHROUGH) != 0;
		return n;
	}
	devio_kill = devio_parse_kill(buf, (size_t)n);
	return n;
}

/*
 * An OPEN or CREATE reply marked for passthrough: the fuse_open_out, which
 * ends the reply, gets FOPEN_PASSTHROUGH and the id.
 */
static ssize_t
devio_write_open(int fd, struct iovec *iov, int count, int id)
{
	char arg[sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out)];
	struct fuse_open_out *oo;
	struct iovec v[2];
	int32_t bid = id;

	if (count != 2 || iov[1].iov_len < sizeof(*oo) ||
	    iov[1].iov_len > sizeof(arg)) {
		log_warnx("an open reply not as expected: sent without "
		    "passthrough");
		return writev(fd, iov, count);
	}
	memcpy(arg, iov[1].iov_base, iov[1].iov_len);
	oo = (void *)(arg + iov[1].iov_len - sizeof(*oo));
	oo->open_flags |= BACKING_FOPEN_PASSTHROUGH;
	memcpy((char *)oo + DEVIO_BACKING_ID_AT, &bid, sizeof(bid));
	v[0] = iov[0];
	v[1].iov_base = arg;
	v[1].iov_len = iov[1].iov_len;
	return writev(fd, v, 2);
}

static ssize_t
devio_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out init;
	struct iovec v[2];
	uint32_t depth = 1;
	int id = -1;

	(void)userdata;
	/* A reply (notifications have no unique): the request's outcome. */
	if (out->unique != 0) {
		id = devio_backing;
		devio_backing = -1;
	}
	if (out->unique != 0 && iov[0].iov_len >= sizeof(*out))
		stats_reply(out->error, out->len - sizeof(*out));
	if (id >= 0 && out->unique != 0 && out->error == 0)
		return devio_write_open(fd, iov, count, id);
	if (dv.init_unique == 0 || out->unique != dv.init_unique ||
	    out->error != 0 || count != 2 ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, max_background) ||
	    iov[1].iov_len > sizeof(init))
		return writev(fd, iov, count);
	/*
	 * The INIT reply, once: ask for KILLPRIV_V2 and passthrough if the
	 * kernel offered and blfs wants them.
	 */
	dv.init_unique = UINT64_MAX;
	memcpy(&init, iov[1].iov_base, iov[1].iov_len);
	if (dv.v2_offered) {
		init.flags |= FUSE_HANDLE_KILLPRIV_V2;
		log_info("asked the kernel for FUSE_HANDLE_KILLPRIV_V2");
	}
	if (backing_wanted()) {
		if (dv.pt_offered && iov[1].iov_len == sizeof(init) &&
		    !(init.flags & FUSE_WRITEBACK_CACHE)) {
			init.flags |= FUSE_INIT_EXT;
			init.flags2 |= (uint32_t)(BACKING_FUSE_PASSTHROUGH >>
			    32);
			memcpy((char *)&init + DEVIO_STACK_DEPTH_AT, &depth,
			    sizeof(depth));
			backing_negotiated(1);
		} else
			backing_negotiated(0);
	}
	v[0] = iov[0];
	v[1].iov_base = &init;
	v[1].iov_len = iov[1].iov_len;
	return writev(fd, v, 2);
}

/* Replies to reads still go from the file's pages to the device. */
static ssize_t
devio_splice_send(int fdin, off_t *offin, int fdout, off_t *offout,
    size_t len, unsigned int flags, void *userdata)
{
	(void)userdata;
	/* Header and data of a read's reply, from the pipe. */
	if (len >= sizeof(struct fuse_out_header))
		stats_reply(0, len - sizeof(struct fuse_out_header));
	return splice(fdin, offin, fdout, offout, len, flags);
}

int
devio_attach(struct fuse_session *se, int fd)
{
	static const struct fuse_custom_io io = {
		.read = devio_read,
		.writev = devio_writev,
		.splice_send = devio_splice_send,
		/*
		 * No splice_receive: libfuse would splice a request into a
		 * pipe only if the pipe could take a whole 1 MiB write,
		 * more than pipe-max-size allows, so it reads anyway.
		 */
	};

	return fuse_session_custom_io(se, &io, fd);
}
