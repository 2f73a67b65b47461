/*
 * FUSE passthrough: the kernel reads and writes a regular file of this
 * mount straight from the backing file, without a request to blfs. The
 * registrar at the other end of the status socket (the agent, which
 * holds CAP_SYS_ADMIN and the /dev/fuse fd) registers the backing files
 * blfs sends it (mountmgr/backing.c says why that is safe).
 *
 * Where it is used: a posix store on a local filesystem, no capacity, no
 * writeback cache (the kernel offers passthrough only without it). What
 * passthrough would lose elsewhere:
 *  - a capacity (quota.c) is charged on each WRITE, which no longer comes;
 *  - a store that is not local reports delayed write errors at FLUSH
 *    through blfs's own handle, and is revalidated at open by blfs;
 *  - the writeback cache is the other way to fast writes, per mount.
 * What it keeps: coherence between mounts (share.c) comes from inotify on
 * the backing files, which sees passthrough writes like any other; a
 * read-only mount refuses every open for writing in the kernel, and its
 * backing files are registered read-only; metadata, truncation, fsync,
 * locks still go through blfs. Set-id bits: a write must clear those
 * blfs keeps in its attribute (ops_kill_setid), which a write passed
 * through cannot do, so a file with such bits is never passed through
 * (bits on the backing file itself the backing filesystem clears, the
 * registrar lacking CAP_FSETID). Bits set while the file is open passed
 * through stay after a write through that open; the mount is nosuid,
 * so they give no privilege through it.
 *
 * The kernel wants one backing file per inode at a time, and no open in
 * passthrough while a cached one is open (it fails the open with EIO).
 * So each inode counts its open handles of either kind: the first open
 * decides, later ones follow while any is open. When the last passed
 * through handle is released the registration is kept, for the
 * BACKING_KEEP inodes released last, so that opening the file again
 * costs no round trip to the registrar; it goes when the inode goes or
 * falls off that list. (It keeps the backing file open in the kernel,
 * as the fd cache of inode.c keeps an O_PATH fd.)
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "blfs/blfs.h"
#include "mountmgr/backing.h"

/* How long a registration may take before passthrough is given up. */
#define BACKING_TIMEOUT_MS 5000
/* Registrations kept for inodes with no open handle. */
#define BACKING_KEEP	1024

static struct {
	pthread_mutex_t	 lock;		/* guards all, and the counts */
	int		 sock;		/* to the registrar; -1: off */
	int		 wanted;	/* asked of the kernel at INIT */
	TAILQ_HEAD(, blfs_inode) kept;	/* released first at the head */
	unsigned	 nkept;
} bk = { PTHREAD_MUTEX_INITIALIZER, -1, 0, TAILQ_HEAD_INITIALIZER(bk.kept),
    0 };

void
backing_setup(int status_fd, int ceph)
{
	struct stat st;
	const char *why = NULL;

	if (status_fd == -1 || fstat(status_fd, &st) == -1 ||
	    !S_ISSOCK(st.st_mode))
		why = "no registrar";
	else if (ceph)
		why = "a ceph store";
	else if (!blfs_cfg.local_store)
		why = "the store is not local";
	else if (quota_active())
		why = "the drive has a capacity";
	else if (blfs_cfg.writeback)
		why = "the writeback cache is on";
	if (why != NULL) {
		log_info("no passthrough: %s", why);
		return;
	}
	bk.sock = status_fd;
	bk.wanted = 1;
}

int
backing_wanted(void)
{
	return bk.wanted;
}

/* The kernel's answer to INIT: passthrough is on, or it is off for good. */
void
backing_negotiated(int on)
{
	pthread_mutex_lock(&bk.lock);
	if (!on)
		bk.sock = -1, bk.wanted = 0;
	pthread_mutex_unlock(&bk.lock);
	log_info("passthrough %s", on ? "on" : "not offered by the kernel");
}

int
backing_enabled(void)
{
	return bk.wanted;
}

/* The registrar fails every registration from now on: stop asking. */
static void
backing_give_up(const char *why, int err)
{
	log_warnx("passthrough off: %s: %s", why, strerror(err));
	bk.sock = -1;
}

/* Send fd, read "backing ID": the id or -errno. Under bk.lock. */
static int
backing_ask(int fd)
{
	static const char word[] = BACKING_ASK "\n";
	struct pollfd pfd = { .fd = bk.sock, .events = POLLIN };
	char line[64];
	size_t len = 0;
	ssize_t n;
	long id;
	char *end;

	if (send_fd(bk.sock, word, sizeof(word) - 1, fd) == -1) {
		backing_give_up("sending to the registrar", errno);
		return -EIO;
	}
	/* One question at a time: the answer is the next line. */
	while (len == 0 || line[len - 1] != '\n') {
		if (len == sizeof(line) - 1 ||
		    poll(&pfd, 1, BACKING_TIMEOUT_MS) != 1 ||
		    (n = read(bk.sock, line + len, sizeof(line) - 1 - len)) <= 0) {
			backing_give_up("no answer from the registrar", EIO);
			return -EIO;
		}
		len += (size_t)n;
	}
	line[len - 1] = '\0';
	if (strncmp(line, BACKING_ASK " ", sizeof(BACKING_ASK)) != 0) {
		backing_give_up("the registrar's answer", EPROTO);
		return -EIO;
	}
	errno = 0;
	id = strtol(line + sizeof(BACKING_ASK), &end, 10);
	if (errno != 0 || *end != '\0' || id > INT32_MAX || id < -4095) {
		backing_give_up("the registrar's answer", EPROTO);
		return -EIO;
	}
	return (int)id;
}

static void
backing_drop(int id)
{
	char line[32];
	int n;

	n = snprintf(line, sizeof(line), BACKING_DROP "%d\n", id);
	if (bk.sock != -1 && send(bk.sock, line, (size_t)n, MSG_NOSIGNAL) != n)
		backing_give_up("sending to the registrar", errno);
}

/* Set-id bits a write would have to clear in the attribute (ops.c). */
static int
backing_setid(int fd)
{
	struct owners m;

	if (meta_get(fd, 0, S_IFREG, &m) != 0)
		return 0;
	return (m.mode & S_ISUID) ||
	    ((m.mode & S_ISGID) && (m.mode & S_IXGRP));
}

/*
 * A file this mount's registrar takes: opened for reading and writing
 * (reading only on a read-only mount), as the registrar asks. fd itself
 * if it is so opened, else a new fd (*fresh set), or -1.
 */
static int
backing_fd(int fd, int *fresh)
{
	struct proc_fd_path pp;
	int fl = fcntl(fd, F_GETFL), want;

	*fresh = 0;
	want = blfs_cfg.read_only ? O_RDONLY : O_RDWR;
	if (fl != -1 && (fl & O_ACCMODE) == want)
		return fd;
	if ((fd = open(proc_fd_path(&pp, fd, NULL), want | O_CLOEXEC)) != -1)
		*fresh = 1;
	return fd;
}

/* A kept registration is in use again, or goes. Under bk.lock. */
static void
backing_unkeep(struct blfs_inode *in, int drop)
{
	TAILQ_REMOVE(&bk.kept, in, kept);
	bk.nkept--;
	in->backing_kept = 0;
	if (drop)
		backing_drop(in->backing_id);
}

int
backing_open(struct blfs_file *f)
{
	struct blfs_inode *in = f->in;
	int id = -1, rfd, fresh, setid;

	pthread_mutex_lock(&bk.lock);
	if (in->backing_kept) {
		/* Set-id bits may have come since: then it goes. */
		setid = backing_setid(f->fd);
		backing_unkeep(in, setid);
		if (!setid) {
			in->backing_opens = 1;
			f->passthrough = BACKING_PASSED;
			id = in->backing_id;
			goto out;
		}
	}
	if (in->backing_opens > 0) {
		in->backing_opens++;
		f->passthrough = BACKING_PASSED;
		id = in->backing_id;
		goto out;
	}
	if (bk.sock == -1 || in->cached_opens > 0 || backing_setid(f->fd))
		goto cached;
	if ((rfd = backing_fd(f->fd, &fresh)) == -1)
		goto cached;
	id = backing_ask(rfd);
	if (fresh)
		close(rfd);
	if (id == -EPERM || id == -ENOTTY || id == -ENOTCONN ||
	    id == -EOPNOTSUPP)
		backing_give_up("the registrar refused", -id);
	if (id < 0) {
		log_debug("no passthrough for a file: %s", strerror(-id));
		goto cached;
	}
	in->backing_id = id;
	in->backing_opens = 1;
	f->passthrough = BACKING_PASSED;
	goto out;
cached:
	id = -1;
	in->cached_opens++;
	f->passthrough = BACKING_CACHED;
out:
	pthread_mutex_unlock(&bk.lock);
	return id;
}

void
backing_close(struct blfs_file *f)
{
	struct blfs_inode *in = f->in;

	pthread_mutex_lock(&bk.lock);
	if (f->passthrough == BACKING_CACHED)
		in->cached_opens--;
	else if (f->passthrough == BACKING_PASSED &&
	    --in->backing_opens == 0) {
		if (bk.sock == -1) {
			backing_drop(in->backing_id);
			goto out;
		}
		in->backing_kept = 1;
		TAILQ_INSERT_TAIL(&bk.kept, in, kept);
		if (++bk.nkept > BACKING_KEEP)
			backing_unkeep(TAILQ_FIRST(&bk.kept), 1);
	}
out:
	pthread_mutex_unlock(&bk.lock);
}

void
backing_forget(struct blfs_inode *in)
{
	/* Only an open and a close of the inode set it, and none can come. */
	if (!in->backing_kept)
		return;
	pthread_mutex_lock(&bk.lock);
	if (in->backing_kept)
		backing_unkeep(in, 1);
	pthread_mutex_unlock(&bk.lock);
}
