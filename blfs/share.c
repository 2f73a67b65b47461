/*
 * Coherence between the mounts of one drive: while another mount of the
 * drive exists, every change to a directory this mount's kernel knows is
 * turned into a FUSE invalidation, within milliseconds.
 *
 * Who else mounts the drive: each mount's blfs holds an OFD read lock on
 * its own file in the drive's mounts/ directory of the store (store.c).
 * blfs watches that directory with inotify; a file made, touched (the
 * mount child touches its file once it holds the lock), closed after
 * writing (a blfs that exits, whatever killed it) or removed sends it to
 * count again: every lock file but its own that someone holds is another
 * mount. While it counts none, nothing below runs and the kernel keeps
 * names and attributes for their full timeouts: a drive mounted once pays
 * nothing for coherence.
 *
 * What changed: while shared, every directory the kernel knows carries an
 * inotify watch, added before the kernel hears of it. inotify sees every
 * change made on this machine, whoever makes it: another blfs of the
 * drive, this blfs itself, a program working in the store directly. Each
 * event becomes notify_inval_entry (the name: a new, removed or renamed
 * name is looked up afresh, negative entries included) and
 * notify_inval_inode (the directory's attributes and cached listing, or
 * a changed file's attributes and pages). Changes made on another machine
 * do not reach inotify: there the short timeouts of a store that is not
 * local and revalidation on open are the promise (main.c, ops.c).
 *
 * One thread does all of it, outside the request loop: an invalidation
 * may wait for the kernel to finish a request on the same directory or
 * for a locked page, which only a worker can serve.
 */
#include "config.h"

#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/* What a directory's watch reports: its names and what changes them. */
#define SHARE_DIR_EVENTS						\
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |		\
	    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF |	\
	    IN_MOVE_SELF)
/* The mounts/ directory: a mount lock made, taken, let go or removed. */
#define SHARE_MOUNT_EVENTS						\
	(IN_CREATE | IN_DELETE | IN_ATTRIB | IN_CLOSE_WRITE |		\
	    IN_MOVED_FROM | IN_MOVED_TO)

/* Invalidations gathered from one read of events, sent together. */
#define SHARE_BATCH 256

struct share_inval {
	fuse_ino_t	 ino;
	char		*name;		/* NULL: the inode itself */
	/* A regular file: held, and the backing file's stat seen. */
	struct blfs_inode *file;
	struct stat	 st;
};

static struct {
	struct fuse_session *se;	/* immutable once started */
	int		 ifd;		/* inotify; -1: coherence is off */
	int		 mounts_fd;	/* mounts/ of the drive, or -1 */
	int		 mounts_wd;
	dev_t		 own_dev;	/* our own lock file */
	ino_t		 own_ino;
	int		 stop_fd;	/* eventfd: the loop ended */
	int		 shared;	/* atomic: another mount exists */
	int		 others;	/* notifier thread only */
	pthread_t	 tid;
	int		 started;
	int		 warned_nospc;	/* racy, only spares the log */
	struct share_inval batch[SHARE_BATCH];	/* notifier thread only */
	size_t		 nbatch;
} sh = { .ifd = -1, .mounts_fd = -1, .mounts_wd = -1, .stop_fd = -1 };

int
share_active(void)
{
	return __atomic_load_n(&sh.shared, __ATOMIC_ACQUIRE);
}

/*
 * Whether the drive has other mounts right now (0, or more when it has:
 * the count stops at the first): lock files in mounts/ that are not ours
 * and that someone holds. A file we cannot open or test counts as a
 * mount: coherence costs a little speed, its absence costs correctness.
 */
static int
share_others(void)
{
	char buf[4096];
	struct dirent *de;
	struct flock fl;
	struct stat st;
	ssize_t n, off;
	int fd, others = 0;

	if (lseek(sh.mounts_fd, 0, SEEK_SET) == -1)
		return 1;
	for (;;) {
		n = getdents64(sh.mounts_fd, buf, sizeof(buf));
		if (n == -1)
			return others + 1;
		if (n == 0)
			break;
		for (off = 0; off < n; off += de->d_reclen) {
			de = (struct dirent *)(void *)(buf + off);
			if (de->d_name[0] == '.')
				continue;
			fd = openat(sh.mounts_fd, de->d_name, O_RDONLY |
			    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (fd == -1) {
				if (errno != ENOENT)
					others++;
				continue;
			}
			if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
				close(fd);
				continue;
			}
			if (st.st_dev == sh.own_dev && st.st_ino == sh.own_ino) {
				close(fd);
				continue;
			}
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_OFD_GETLK, &fl) == -1 ||
			    fl.l_type != F_UNLCK)
				others++;
			close(fd);
			/*
			 * One is enough to know: with n mounts of a drive,
			 * each new one wakes every other, and counting all
			 * would cost n opens in each of them.
			 */
			if (others > 0)
				return others;
		}
	}
	return others;
}

/* Watch one directory the kernel knows, by an fd of it. */
static void
share_add_watch(struct blfs_inode *in, int fd)
{
	struct proc_fd_path pp;
	int wd;

	wd = inotify_add_watch(sh.ifd, proc_fd_path(&pp, fd, NULL),
	    SHARE_DIR_EVENTS | IN_ONLYDIR);
	if (wd == -1) {
		/*
		 * Out of watches (fs.inotify.max_user_watches): this
		 * directory's changes from elsewhere show when its
		 * attributes expire, as on a drive mounted once.
		 */
		if (errno != ENOSPC)
			log_debug("inotify_add_watch: %s", strerror(errno));
		else if (!sh.warned_nospc) {
			sh.warned_nospc = 1;
			log_warnx("out of inotify watches "
			    "(fs.inotify.max_user_watches): changes made "
			    "through other mounts show within the attribute "
			    "timeout in directories beyond them");
		}
		return;
	}
	if (inode_set_wd(in, wd) != 0)
		(void)inotify_rm_watch(sh.ifd, wd);
}

void
share_watch(struct blfs_inode *in)
{
	int fd;

	if (in->type != S_IFDIR || !share_active())
		return;
	if (inode_fd(in, &fd) != 0)
		return;
	share_add_watch(in, fd);
	inode_fd_put(in);
}

void
share_unwatch(int wd)
{
	(void)inotify_rm_watch(sh.ifd, wd);
}

/* The switch: watch every directory the kernel knows, or none. */
static void
share_set(int shared)
{
	struct blfs_inode **dirs;
	size_t n, i;
	int fd;

	if (shared == share_active())
		return;
	__atomic_store_n(&sh.shared, shared, __ATOMIC_RELEASE);
	/* Types the owners cache vouched for are checked again. */
	acache_new_epoch();
	n = inode_hold_dirs(&dirs);
	for (i = 0; i < n; i++) {
		if (shared && inode_fd(dirs[i], &fd) == 0) {
			share_add_watch(dirs[i], fd);
			inode_fd_put(dirs[i]);
		} else if (!shared)
			inode_clear_wd(dirs[i]);
		inode_put(dirs[i]);
	}
	free(dirs);
	/* Once it is so: a test (or a person) may act on the line. */
	log_info("%s", shared ? "the drive is mounted elsewhere too: "
	    "changes are passed on at once" : "the only mount of the "
	    "drive now: full caching");
}

static void
share_queue(fuse_ino_t ino, const char *name)
{
	struct share_inval *v;
	size_t i;

	if (ino == 0)
		return;
	for (i = 0; i < sh.nbatch; i++) {
		v = &sh.batch[i];
		if (v->ino == ino && (name == NULL ? v->name == NULL :
		    v->name != NULL && strcmp(v->name, name) == 0))
			return;
	}
	if (sh.nbatch == SHARE_BATCH)
		return;		/* the caller flushes before it fills */
	v = &sh.batch[sh.nbatch++];
	v->ino = ino;
	v->name = name == NULL ? NULL : xstrdup(name);
	v->file = NULL;
}

/*
 * Whether a change to a regular file must reach the kernel: not while an
 * owner of this mount holds a lock on it (nobody who respects the lock
 * changes it meanwhile, and the kernel drops a getattr that an
 * invalidation overtook: a size read just after the lock was granted
 * could come out old, and an append land on another), and, on a local
 * store with its fine-grained times, not when the file is as the kernel
 * was last told (a late event of a change already passed on, a close
 * after writes).
 */
static int
share_file_news(struct blfs_inode *in, const struct stat *st)
{
	if (lock_holds(in))
		return 0;
	return !blfs_cfg.local_store || inode_stamp_differs(in, st);
}

/* in (held: the batch keeps the hold) changed to st. */
static void
share_queue_file(struct blfs_inode *in, const struct stat *st)
{
	struct share_inval *v;
	size_t i;

	for (i = 0; i < sh.nbatch; i++) {
		v = &sh.batch[i];
		if (v->file == in) {
			v->st = *st;
			inode_put(in);
			return;
		}
	}
	if (!share_file_news(in, st) || sh.nbatch == SHARE_BATCH) {
		inode_put(in);
		return;
	}
	v = &sh.batch[sh.nbatch++];
	v->ino = inode_id(in);
	v->name = NULL;
	v->file = in;
	v->st = *st;
}

/*
 * Names first (the kernel forgets the dentries), then inodes (attributes
 * and pages). ENOENT: the kernel no longer knows it, nothing to drop.
 */
static void
share_flush(void)
{
	struct share_inval *v;
	size_t i;
	int r;

	for (i = 0; i < sh.nbatch; i++) {
		v = &sh.batch[i];
		if (v->name == NULL)
			continue;
		r = fuse_lowlevel_notify_inval_entry(sh.se, v->ino, v->name,
		    strlen(v->name));
		if (r != 0 && r != -ENOENT)
			log_debug("inval_entry %s: %s", v->name, strerror(-r));
		free(v->name);
	}
	for (i = 0; i < sh.nbatch; i++) {
		v = &sh.batch[i];
		if (v->name != NULL)
			continue;
		/* Asked again: a lock may have been granted meanwhile. */
		if (v->file != NULL && !share_file_news(v->file, &v->st)) {
			inode_put(v->file);
			continue;
		}
		r = fuse_lowlevel_notify_inval_inode(sh.se, v->ino, 0, 0);
		if (r != 0 && r != -ENOENT)
			log_debug("inval_inode: %s", strerror(-r));
		if (v->file != NULL) {
			/*
			 * ENOENT: the kernel knows no such inode yet, but a
			 * lookup's reply may be on its way to it with the
			 * size seen before this change, and the kernel
			 * takes it. The stamp must not say the kernel was
			 * told, or a lock granted next would see nothing
			 * to revalidate and an append land on a stale end.
			 */
			if (r != -ENOENT)
				(void)inode_restamp(v->file, &v->st);
			inode_put(v->file);
		}
	}
	sh.nbatch = 0;
}

/* What the kernel knows as dir/name now, if anything, is dropped. */
static void
share_child(struct blfs_inode *dir, const char *name)
{
	struct blfs_inode *in;
	struct stat st;
	int fd, r;

	if (inode_fd(dir, &fd) != 0)
		return;
	r = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW);
	inode_fd_put(dir);
	if (r == -1)
		return;
	/*
	 * The ctime of a changed file moved, so the owners cache would not
	 * use its entry anyway; a file another mount made anew under an
	 * inode number just freed, within the same clock tick, may not
	 * have a new one. The entry goes either way.
	 */
	acache_drop(st.st_dev, st.st_ino);
	if ((in = inode_hold_of(st.st_dev, st.st_ino)) == NULL)
		return;
	if (in->type == S_IFREG)
		share_queue_file(in, &st);
	else {
		share_queue(inode_id(in), NULL);
		inode_put(in);
	}
}

/* Everything the kernel knows, when events were lost. */
static void
share_inval_all(void)
{
	fuse_ino_t *ids;
	size_t n, i;

	n = inode_ids(&ids);
	for (i = 0; i < n; i++) {
		share_queue(ids[i], NULL);
		if (sh.nbatch == SHARE_BATCH)
			share_flush();
	}
	free(ids);
}

static void
share_event(const struct inotify_event *ev, int *recount)
{
	struct blfs_inode *dir;
	fuse_ino_t id;

	if (ev->mask & IN_Q_OVERFLOW) {
		*recount = 1;
		share_inval_all();
		return;
	}
	if (ev->wd == sh.mounts_wd) {
		*recount = 1;
		return;
	}
	if (ev->mask & IN_IGNORED) {
		inode_drop_wd(ev->wd);
		return;
	}
	if ((dir = inode_hold_wd(ev->wd)) == NULL)
		return;
	id = inode_id(dir);
	if (ev->len == 0 || ev->name[0] == '\0') {
		/* The directory itself: its mode, owner, times, or gone. */
		acache_drop(dir->dev, dir->ino);
		share_queue(id, NULL);
	} else {
		if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM |
		    IN_MOVED_TO)) {
			share_queue(id, ev->name);
			share_queue(id, NULL);
		}
		/* A file changed, or one whose links changed. */
		if (ev->mask & (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE |
		    IN_CREATE | IN_MOVED_TO))
			share_child(dir, ev->name);
	}
	inode_put(dir);
}

static void *
share_main(void *arg)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd[2];
	const struct inotify_event *ev;
	ssize_t n, off;
	int recount, others;

	(void)arg;
	pfd[0].fd = sh.ifd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sh.stop_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			break;
		}
		if (pfd[1].revents != 0)
			break;
		n = read(sh.ifd, buf, sizeof(buf));
		if (n <= 0) {
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			log_warn("inotify read");
			break;
		}
		recount = 0;
		for (off = 0; off < n; off += (ssize_t)sizeof(*ev) +
		    ev->len) {
			ev = (const struct inotify_event *)(void *)(buf + off);
			if (sh.nbatch + 4 > SHARE_BATCH)
				share_flush();
			share_event(ev, &recount);
		}
		share_flush();
		if (recount && sh.mounts_fd != -1) {
			others = share_others();
			if ((others > 0) != (sh.others > 0))
				log_debug("%s", others > 0 ? "other mounts: "
				    "coherent mode" : "no other mount");
			sh.others = others;
			share_set(others > 0);
		}
	}
	return NULL;
}

/*
 * Before the session: the inode table holds the root already, Landlock
 * and seccomp are not on yet. Counts the other mounts once, so a mount
 * that joins a drive in use starts coherent.
 */
int
share_init(int mounts_fd, int lock_fd, char **cause)
{
	struct proc_fd_path pp;
	struct stat st;

	if (mounts_fd == -1 || lock_fd == -1)
		return 0;	/* run by hand: nobody to share with */
	if (fstat(lock_fd, &st) == -1)
		return cause_fail(cause, -errno, "--lock-fd: %s",
		    strerror(errno));
	sh.own_dev = st.st_dev;
	sh.own_ino = st.st_ino;
	if ((sh.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		/*
		 * Out of instances (fs.inotify.max_user_instances counts
		 * every process of uid 0): serve, as a drive mounted once
		 * is served, rather than fail the mount.
		 */
		log_warn("inotify_init1: changes made through other mounts "
		    "of the drive show within the attribute timeout");
		return 0;
	}
	sh.mounts_fd = mounts_fd;
	if ((sh.stop_fd = eventfd(0, EFD_CLOEXEC)) == -1)
		return cause_fail(cause, -errno, "eventfd: %s",
		    strerror(errno));
	sh.mounts_wd = inotify_add_watch(sh.ifd, proc_fd_path(&pp, mounts_fd,
	    NULL), SHARE_MOUNT_EVENTS | IN_ONLYDIR);
	if (sh.mounts_wd == -1)
		return cause_fail(cause, -errno, "inotify on the drive's "
		    "mounts directory: %s", strerror(errno));
	sh.others = share_others();
	share_set(sh.others > 0);
	return 0;
}

/* The notifier thread, once the session exists; 0 or -errno. */
int
share_start(struct fuse_session *se)
{
	int r;

	if (sh.ifd == -1)
		return 0;
	sh.se = se;
	if ((r = pthread_create(&sh.tid, NULL, share_main, NULL)) != 0)
		return -r;
	sh.started = 1;
	return 0;
}

void
share_stop(void)
{
	uint64_t one = 1;

	if (!sh.started)
		return;
	(void)write(sh.stop_fd, &one, sizeof(one));
	pthread_join(sh.tid, NULL);
	sh.started = 0;
}
