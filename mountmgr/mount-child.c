/*
 * The mount child, forked from the agent: the store's I/O (which may
 * block on a network file system, never on the agent's loop), then, once
 * the agent has mounted, confinement and exec of blfs. For a volume it
 * also attaches the loop device and makes the detached ext4 mount the
 * agent attaches.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/handoff.h"
#include "mountmgr/mount-int.h"
#include "mountmgr/resolve.h"
#include "mountmgr/volume.h"

/*
 * Writes a line to the agent and exits: the child's only way to fail.
 * Everything but the socket is closed first: the agent answers the
 * failure as soon as the line comes, and a mount of the drive asked for
 * next must not find this one's mount lock still held (an RWO drive, a
 * volume, would be EBUSY) while this process is still on its way out.
 * The lock goes with the close, before the line is written.
 */
static void __attribute__((noreturn))
child_fail(int sock, const char *code, const char *msg)
{
	char buf[MOUNT_LINE_MAX];
	int n = snprintf(buf, sizeof(buf), "error %s %s\n", code, msg);

	if (sock > 3)
		(void)syscall(SYS_close_range, 3, sock - 1, 0);
	(void)syscall(SYS_close_range, sock + 1, ~0U, 0);
	(void)write_full(sock, buf, n > 0 && (size_t)n < sizeof(buf) ?
	    (size_t)n : sizeof(buf) - 1);
	_exit(1);
}

/* Receives the /dev/fuse fd from the agent; -1 when it closed instead. */
static int
child_recv_fd(int sock)
{
	char data[4];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * A volume, in the child: attach and mount it (detached), send the mount
 * to the agent with "volume N", and set ba up for the holder.
 */
static void
child_volume(struct mount *m, int sock, struct resolve_out *out,
    struct handoff_blfs_args *ba)
{
	struct volume_attach_out va;
	const char *code = "EIO";
	char *cause = NULL, line[32];
	int n;

	if (volume_attach(out->dirfd, m->read_only, m->drive,
	    out->served_path, &va, &code, &cause) != 0)
		child_fail(sock, code, cause);
	close(out->dirfd);	/* the loop device has the image now */
	out->dirfd = -1;
	n = snprintf(line, sizeof(line), "volume %d\n", va.loop);
	if (send_fd(sock, line, (size_t)n, va.treefd) == -1)
		_exit(1);
	close(va.treefd);	/* the agent's now, or nobody's */
	ba->volume_fd = va.loopfd;
}

/*
 * A store blfs reaches by itself (a ceph store): the configuration and
 * the keyring opened here, by the agent, and handed to blfs as fds; the
 * keyring never by path, argv or environment. blfs reads both once.
 */
static void
child_remote(int sock, const struct store_target *t,
    struct handoff_blfs_args *ba)
{
	char *cause;

	ba->ceph_conf_fd = open(t->conf, O_RDONLY | O_CLOEXEC);
	if (ba->ceph_conf_fd == -1) {
		xasprintf(&cause, "cannot open the Ceph configuration %s: %s",
		    t->conf, strerror(errno));
		child_fail(sock, "EIO", cause);
	}
	ba->ceph_keyring_fd = open(t->keyring, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (ba->ceph_keyring_fd == -1) {
		xasprintf(&cause, "cannot open the keyring of %s, %s: %s",
		    t->id, t->keyring, strerror(errno));
		child_fail(sock, "EIO", cause);
	}
	ba->ceph_fs = t->fs;
	ba->ceph_root = t->serve;
	/* Ceph's own "NAME" for "client.NAME". */
	ba->ceph_id = strncmp(t->id, "client.", 7) == 0 ? t->id + 7 : t->id;
	ba->ceph_store = t->store_root;
}

/*
 * blfs's environment: nothing of the agent's (which an init may have
 * filled with anything, secrets included) except the sanitizers' knobs.
 */
static char **
mount_child_env(void)
{
	static const char *const keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS" };
	static char *env[nitems(keep) + 2];
	size_t n = 0;

	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; i < nitems(keep); i++) {
		const char *v = getenv(keep[i]);

		if (v != NULL)
			xasprintf(&env[n++], "%s=%s", keep[i], v);
	}
	env[n] = NULL;
	return env;
}

/*
 * The forked child: the store's I/O, then (once the agent has mounted)
 * confinement and exec of blfs. Never returns.
 */
void
mount_child(struct mount *m, int sock)
{
	struct mountmgr *mm = m->mm;
	const struct labels *labels = NULL;
	struct resolve_out out = { .dirfd = -1, .lockfd = -1, .mountsfd = -1,
	    .usagefd = -1 };
	struct handoff_blfs_args ba;
	char **argv;
	const char *code;
	char *cause = NULL;
	int fusefd;

	/* Nothing of the agent (client sockets, listeners, the loop) may
	 * reach blfs: everything not passed on closes at exec. */
	syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
	signal(SIGPIPE, SIG_DFL);
	if (access(mm->cfg.blfs, X_OK) == -1)
		child_fail(sock, "EIO", "the blfs binary cannot be run");
	if (mm->cfg.labels != NULL)
		labels = mm->cfg.labels(mm->cfg.labels_arg);
	if (resolve_drive(mm->cfg.store, mm->cfg.store_opts, m->drive, m->drive_path, m->read_only,
	    labels, m->id, &out, &code, &cause) == -1)
		child_fail(sock, code, cause);
	memset(&ba, 0, sizeof(ba));
	ba.ceph_conf_fd = ba.ceph_keyring_fd = -1;
	if (out.remote)
		child_remote(sock, &out.target, &ba);
	if (out.volume) {
		child_volume(m, sock, &out, &ba);
		fusefd = -1;
	} else {
		if (write_full(sock, "ok\n", 3) == -1)
			_exit(1);
		if ((fusefd = child_recv_fd(sock)) == -1)
			_exit(1);
	}

	ba.blfs_path = mm->cfg.blfs;
	ba.fuse_fd = fusefd;
	ba.root_fd = out.dirfd;
	ba.status_fd = sock;
	ba.lock_fd = out.lockfd;
	ba.mounts_fd = out.mountsfd;
	ba.stats_fd = out.volume ? -1 : m->stats_fd;	/* no requests */
	ba.usage_fd = out.usagefd;
	ba.capacity = out.capacity;
	ba.drive = m->drive;
	ba.session_id = m->id;
	ba.mount_path = m->mount_path;
	ba.read_only = m->read_only;
	ba.cache_size = m->req.cache_size;
	ba.buffer_size = m->req.buffer_size;
	ba.prefetch = m->req.prefetch;
	ba.writeback = m->req.writeback;
	ba.log_level = log_level_name(log_get_level());
	/* The filter compiled once in the agent, not again in every blfs. */
	if (!out.volume && mm->cfg.blfs_filter != NULL &&
	    (ba.seccomp_fd = mm->cfg.blfs_filter(m->read_only,
	    ba.ceph_fs != NULL)) > 0)
		fd_set_cloexec(ba.seccomp_fd, 0);
	argv = handoff_blfs_argv(&ba);
	if (ba.volume_fd > 0)
		fd_set_cloexec(ba.volume_fd, 0);
	else if (out.remote) {
		fd_set_cloexec(fusefd, 0);
		fd_set_cloexec(ba.ceph_conf_fd, 0);
		fd_set_cloexec(ba.ceph_keyring_fd, 0);
	} else {
		fd_set_cloexec(fusefd, 0);
		fd_set_cloexec(out.dirfd, 0);
	}
	fd_set_cloexec(sock, 0);
	if (out.lockfd != -1)
		fd_set_cloexec(out.lockfd, 0);
	if (out.mountsfd != -1)
		fd_set_cloexec(out.mountsfd, 0);
	if (ba.stats_fd != -1)
		fd_set_cloexec(ba.stats_fd, 0);
	if (out.usagefd != -1)
		fd_set_cloexec(out.usagefd, 0);
	if (mm->cfg.confine_child != NULL)
		mm->cfg.confine_child();
	execve(mm->cfg.blfs, argv, mount_child_env());
	child_fail(sock, "EIO", "exec of blfs failed");
}
