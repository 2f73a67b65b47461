/*
 * The mount manager: one state machine per mount, driven by the event
 * loop.
 *
 * A mount goes through three processes of ours:
 *  1. the child, forked from the agent, does the store's I/O (drive.json,
 *     the permission rules, opening the drive path beneath the drive, the
 *     access mode and the mount lock) and says "ok" or why not over a
 *     socketpair;
 *  2. the agent then opens /dev/fuse and mounts it itself, and passes the
 *     fd to the child, which confines itself and execs blfs;
 *  3. blfs says "ready" after FUSE INIT, and a short-lived probe thread
 *     makes the first requests on the root (statfs, statx); only when
 *     they answer and show blfs's mount at the path with the flags asked
 *     for is the mount "mounted".
 * blfs stays a direct child of the agent, watched by pidfd: if it dies
 * the mount fails at once and its mount point is detached.
 *
 * A volume (mountmgr/volume.h) takes the same road with other steps: the
 * child attaches the image to a loop device and makes a detached mount
 * of it, and sends "volume N" with that mount's fd; the agent attaches it
 * at the mount path itself (move_mount); the child execs blfs
 * --volume-fd, which holds the mount lock and the loop device and says
 * "ready"; the probe (ext4, not FUSE) verifies it. Told
 * to stop with SIGTERM (never SIGKILL while the volume may be mounted),
 * the holder lets the lock go only once the file system has let go of
 * the device.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/backing.h"
#include "mountmgr/drive.h"
#include "mountmgr/handoff.h"
#include "mountmgr/mount.h"
#include "mountmgr/mount-int.h"
#include "mountmgr/paths.h"
#include "mountmgr/resolve.h"
#include "mountmgr/stats.h"
#include "mountmgr/volume.h"

#define MOUNT_DEFAULT_TIMEOUT_MS	30000
#define MOUNT_STOP_GRACE_MS		5000	/* blfs to exit after umount */
#define MOUNT_ID_PREFIX			"ms-"
/* Failed mounts stay listed (with their error) until unmounted; past
 * this many, the oldest are forgotten so failures cannot grow memory. */
#define MOUNT_FAILED_KEEP		64
/* The probe thread's stack: a statfs and a statx need little. */
#define MOUNT_PROBE_STACK		(64 * 1024)


static void	mount_fail(struct mount *, const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
static void	mount_set_state(struct mount *, enum mount_state);
static void	mount_cleanup_kernel(struct mount *);
static void	mount_stats_create(struct mount *);
static void	mount_probe_stop(struct mount *);
static void	mount_stats_remove(struct mount *);
static void	mm_forget_failed(struct mountmgr *);

/* ---- small pieces ---------------------------------------------------- */

static int
mm_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void
mm_child_clear(struct mm_child *c)
{
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->pidfd != -1)
		close(c->pidfd);
	c->ev = NULL;
	c->pidfd = -1;
	c->pid = -1;
}

static void
mm_orphan_free(struct mm_orphan *o)
{
	TAILQ_REMOVE(&o->mm->orphans, o, entry);
	event_free(o->ev);
	close(o->pidfd);
	free(o);
}

static void
on_orphan_exit(evutil_socket_t fd, short what, void *arg)
{
	struct mm_orphan *o = arg;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	(void)waitid(P_PIDFD, (id_t)o->pidfd, &si, WEXITED | WNOHANG);
	mm_orphan_free(o);
}

/*
 * A mount freed while its child still runs (a cancelled mount whose blfs
 * was just killed): keep watching the child so it is reaped, never left
 * a zombie. Children that are not ours (re-adopted) need no reaping.
 */
static void
mm_child_orphan(struct mountmgr *mm, struct mm_child *c)
{
	struct mm_orphan *o;

	if (c->pidfd == -1 || !c->ours) {
		mm_child_clear(c);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->mm = mm;
	o->pidfd = c->pidfd;
	o->ev = event_new(mm->base, o->pidfd, EV_READ, on_orphan_exit, o);
	event_add(o->ev, NULL);
	TAILQ_INSERT_TAIL(&mm->orphans, o, entry);
	c->pidfd = -1;
	mm_child_clear(c);
}

static void
mm_child_signal(struct mm_child *c, int sig)
{
	if (c->pidfd != -1)
		syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0);
}

static void
mm_child_kill(struct mm_child *c)
{
	mm_child_signal(c, SIGKILL);
}

/*
 * Stops the mount's server: blfs is killed; a volume's holder is asked
 * to go, and goes once the volume's file system has let go of the loop
 * device, so its lock never ends before the file system does.
 */
static void
mount_stop_server(struct mount *m)
{
	mm_child_signal(&m->blfs, m->volume ? SIGTERM : SIGKILL);
}

/* Exit status in words: "exited with status 1", "killed by SIGSYS ...". */
static void
mm_status_words(const siginfo_t *si, char *buf, size_t len)
{
	if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "exited with status %d", si->si_status);
	else if (si->si_status == SIGSYS)
		snprintf(buf, len, "was killed by SIGSYS: it made a system "
		    "call its seccomp filter forbids");
	else
		snprintf(buf, len, "was killed by signal %d (%s)",
		    si->si_status, strsignal(si->si_status));
}

static struct timeval
mm_tv(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

/* ---- lifetime -------------------------------------------------------- */

struct mountmgr *
mountmgr_new(struct event_base *base, const struct mountmgr_config *cfg)
{
	struct mountmgr *mm = xcalloc(1, sizeof(*mm));

	mm->base = base;
	mm->cfg = *cfg;
	TAILQ_INIT(&mm->mounts);
	TAILQ_INIT(&mm->waiters);
	TAILQ_INIT(&mm->orphans);
	return mm;
}

void
mount_ref(struct mount *m)
{
	m->refs++;
}

void
mount_unref(struct mount *m)
{
	if (m == NULL || --m->refs > 0)
		return;
	if (m->start_ev != NULL)
		event_free(m->start_ev);
	if (m->timer != NULL)
		event_free(m->timer);
	if (m->sock_ev != NULL)
		event_free(m->sock_ev);
	if (m->sock != -1)
		close(m->sock);
	if (m->passed_fd != -1)
		close(m->passed_fd);
	if (m->fusefd != -1)
		close(m->fusefd);
	mm_child_orphan(m->mm, &m->blfs);
	mount_probe_stop(m);
	paths_mount_target_clear(&m->target);
	if (m->stats_fd != -1)
		close(m->stats_fd);
	stats_unmap(m->stats);
	free(m->drive);
	free(m->mount_path);
	free(m->drive_path);
	free(m->err_msg);
	free(m);
}

void
mountmgr_free(struct mountmgr *mm)
{
	struct mount *m;
	struct mount_waiter *w;
	struct mm_orphan *o;

	if (mm == NULL)
		return;
	while ((w = TAILQ_FIRST(&mm->waiters)) != NULL)
		mount_wait_cancel(w);
	/* Mounts in progress cannot finish without us: undo them. Served
	 * mounts keep serving for the next agent to adopt. */
	while ((m = TAILQ_FIRST(&mm->mounts)) != NULL) {
		if (m->state == MOUNT_PENDING || m->state == MOUNT_MOUNTING) {
			mm_child_kill(&m->blfs);
			mount_probe_stop(m);
			mount_cleanup_kernel(m);
		}
		TAILQ_REMOVE(&mm->mounts, m, entry);
		m->listed = 0;
		mount_unref(m);
	}
	/* Served blfs processes outlive us; we just stop watching. */
	while ((o = TAILQ_FIRST(&mm->orphans)) != NULL)
		mm_orphan_free(o);
	free(mm);
}

void
mount_view(const struct mount *m, struct mount_view *v)
{
	v->id = m->id;
	v->drive = m->drive;
	v->mount_path = m->mount_path;
	v->drive_path = m->drive_path;
	v->read_only = m->read_only;
	v->state = m->state;
	v->err_code = m->state == MOUNT_FAILED ? m->err_code : NULL;
	v->err_msg = m->state == MOUNT_FAILED ? m->err_msg : NULL;
	v->created_at_ms = m->created_at_ms;
	v->updated_at_ms = m->updated_at_ms;
}

enum mount_state
mount_get_state(const struct mount *m)
{
	return m->state;
}

/* ---- waiters --------------------------------------------------------- */

static int
mm_waiter_done(const struct mount_waiter *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (!(w->mask & (1u << w->ms[i]->state)))
			return 0;
	return 1;
}

static void
mm_waiter_fire(struct mount_waiter *w, int timed_out)
{
	mount_wait_fn *fn = w->fn;
	void *arg = w->arg;

	mount_wait_cancel(w);
	fn(timed_out, arg);
}

static void
on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
	mm_waiter_fire(arg, 1);
}

static void
on_wait_now(evutil_socket_t fd, short what, void *arg)
{
	struct mount_waiter *w = arg;

	if (mm_waiter_done(w))
		mm_waiter_fire(w, 0);
}

struct mount_waiter *
mountmgr_wait(struct mountmgr *mm, struct mount **ms, size_t n, unsigned mask,
    uint64_t timeout_ms, mount_wait_fn *fn, void *arg)
{
	struct mount_waiter *w = xcalloc(1, sizeof(*w));
	struct timeval tv = mm_tv(timeout_ms);

	w->mm = mm;
	w->ms = xcalloc(n ? n : 1, sizeof(*w->ms));
	for (size_t i = 0; i < n; i++) {
		w->ms[i] = ms[i];
		mount_ref(ms[i]);
	}
	w->n = n;
	w->mask = mask;
	w->fn = fn;
	w->arg = arg;
	w->timer = evtimer_new(mm->base, on_wait_timeout, w);
	evtimer_add(w->timer, &tv);
	TAILQ_INSERT_TAIL(&mm->waiters, w, entry);
	/* Already there: answer on the next loop turn, never re-entrantly. */
	if (mm_waiter_done(w)) {
		struct timeval zero = { 0, 0 };

		evtimer_del(w->timer);
		event_free(w->timer);
		w->timer = evtimer_new(mm->base, on_wait_now, w);
		evtimer_add(w->timer, &zero);
	}
	return w;
}

void
mount_wait_cancel(struct mount_waiter *w)
{
	TAILQ_REMOVE(&w->mm->waiters, w, entry);
	event_free(w->timer);
	for (size_t i = 0; i < w->n; i++)
		mount_unref(w->ms[i]);
	free(w->ms);
	free(w);
}

static void
mm_check_waiters(struct mountmgr *mm)
{
	struct mount_waiter *w, *next;

	for (w = TAILQ_FIRST(&mm->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (mm_waiter_done(w)) {
			mm_waiter_fire(w, 0);
			/* The callback may have changed the list. */
			next = TAILQ_FIRST(&mm->waiters);
		}
	}
}

/* ---- state changes --------------------------------------------------- */

static void
mount_set_state(struct mount *m, enum mount_state s)
{
	struct mountmgr *mm = m->mm;

	if (m->state == s)
		return;
	log_info("mount %s (%s at %s%s): %s -> %s%s%s", m->id, m->drive,
	    m->mount_path, m->read_only ? ", read-only" : "",
	    mount_state_name(m->state), mount_state_name(s),
	    s == MOUNT_FAILED ? ": " : "", s == MOUNT_FAILED ? m->err_msg : "");
	m->state = s;
	m->updated_at_ms = now_ms_real();
	mount_ref(m);
	if (s == MOUNT_GONE || s == MOUNT_FAILED)
		mount_stats_remove(m);
	if (s == MOUNT_GONE && m->listed) {
		TAILQ_REMOVE(&mm->mounts, m, entry);
		m->listed = 0;
		mount_unref(m);
	}
	if (s == MOUNT_MOUNTED || s == MOUNT_GONE || s == MOUNT_FAILED)
		mm_save_state(mm);
	if (mm->cfg.changed != NULL)
		mm->cfg.changed(m, mm->cfg.changed_arg);
	mm_check_waiters(mm);
	if (s == MOUNT_FAILED)
		mm_forget_failed(mm);
	mount_unref(m);
}

static void
mm_forget_failed(struct mountmgr *mm)
{
	struct mount *m, *oldest = NULL;
	size_t n = 0;

	TAILQ_FOREACH(m, &mm->mounts, entry) {
		if (m->state != MOUNT_FAILED)
			continue;
		if (oldest == NULL)
			oldest = m;
		n++;
	}
	if (n > MOUNT_FAILED_KEEP) {
		log_info("mount %s: forgetting the oldest failed mount", oldest->id);
		mount_set_state(oldest, MOUNT_GONE);
	}
}

/* Detaches the kernel mount and removes the directories we made. */
static void
mount_cleanup_kernel(struct mount *m)
{
	int r;

	if (m->kmounted) {
		if ((r = handoff_detach(m->mount_path)) != 0 && r != -EINVAL &&
		    r != -ENOENT)
			log_warnx("detaching %s: %s", m->mount_path,
			    strerror(-r));
		m->kmounted = 0;
	}
	paths_mount_target_undo(&m->target);
	paths_mount_target_clear(&m->target);
}

static void
mount_stop_io(struct mount *m)
{
	if (m->sock_ev != NULL) {
		event_free(m->sock_ev);
		m->sock_ev = NULL;
	}
	if (m->sock != -1) {
		close(m->sock);
		m->sock = -1;
	}
	/* The last fd but a dead blfs's: the kernel aborts the connection. */
	if (m->fusefd != -1) {
		close(m->fusefd);
		m->fusefd = -1;
	}
	if (m->timer != NULL)
		evtimer_del(m->timer);
	if (m->passed_fd != -1) {
		close(m->passed_fd);
		m->passed_fd = -1;
	}
}

static void
mount_fail(struct mount *m, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (m->state == MOUNT_FAILED || m->state == MOUNT_GONE)
		return;
	free(m->err_msg);
	va_start(ap, fmt);
	if (vasprintf(&m->err_msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	m->err_code = code;
	mount_stop_io(m);
	/* Nothing may be left behind reporting "Transport endpoint is not
	 * connected": blfs goes, the mount point is detached. */
	mount_stop_server(m);
	mount_probe_stop(m);
	mount_cleanup_kernel(m);
	mount_set_state(m, MOUNT_FAILED);
}

/* ---- processes ------------------------------------------------------- */


int
mm_child_watch(struct mount *m, struct mm_child *c, pid_t pid, int ours,
    event_callback_fn cb)
{
	c->pid = pid;
	c->ours = ours;
	if ((c->pidfd = mm_pidfd_open(pid)) == -1)
		return -1;
	fd_set_cloexec(c->pidfd, 1);
	c->ev = event_new(m->mm->base, c->pidfd, EV_READ, cb, m);
	event_add(c->ev, NULL);
	return 0;
}

/* Reaps a watched child; 0 with *si filled, or -1 if it was not ours. */
static int
mm_child_reap(struct mm_child *c, siginfo_t *si)
{
	memset(si, 0, sizeof(*si));
	if (!c->ours)
		return -1;
	if (waitid(P_PIDFD, (id_t)c->pidfd, si, WEXITED | WNOHANG) == -1 ||
	    si->si_pid == 0)
		return -1;
	return 0;
}

void
on_blfs_exit(evutil_socket_t fd, short what, void *arg)
{
	struct mount *m = arg;
	char words[160] = "exited";
	siginfo_t si;
	int reaped;

	reaped = mm_child_reap(&m->blfs, &si) == 0;
	if (reaped)
		mm_status_words(&si, words, sizeof(words));
	mm_child_clear(&m->blfs);
	mount_ref(m);
	switch (m->state) {
	case MOUNT_UNMOUNTING:
		mount_stop_io(m);
		mount_cleanup_kernel(m);
		mount_set_state(m, MOUNT_GONE);
		break;
	case MOUNT_MOUNTED:
		mount_fail(m, "EIO", "blfs %s while serving; the mount point "
		    "was detached", words);
		break;
	case MOUNT_MOUNTING:
	case MOUNT_PENDING:
		/* Its last words over the socket say more, if any came. */
		if (m->linelen > 0 || !m->child_ok)
			mount_fail(m, "EIO", "blfs %s before serving%s%s",
			    words, m->linelen ? ": " : "",
			    m->linelen ? m->line : "");
		else
			mount_fail(m, "EIO", "blfs %s before serving", words);
		break;
	default:
		break;
	}
	mount_unref(m);
}

/* What the probe thread saw on the new mount's root. */
struct mm_probe_result {
	int	answered;	/* statfs and statx came back, a directory */
	long	fs_type;	/* statfs f_type */
	long	flags;		/* statfs f_flags: ST_RDONLY, ST_NOSUID, ... */
	int	mount_root;	/* statx: the root of a mount (-1: unknown) */
};

/* What the probe thread takes: the path, and its end of the socket. */
struct mm_probe_job {
	int	fd;
	char	path[];
};

/*
 * The probe thread: two requests on the new mount's root, statfs and
 * statx, the answers sent back in one message. They say all the agent
 * checks (the filesystem, its per-mount flags, that the path is the
 * mount's root), so the agent need not read and parse mountinfo too.
 * The path is opened without following symlinks (the agent made it so),
 * so one swapped in cannot point the probe at another mount. It touches
 * nothing of the agent's: a blfs that never answers leaves it blocked
 * until the mount fails and blfs is killed, which fails the request; by
 * then nobody reads the socket, and the send fails quietly.
 */
static void *
mm_probe_main(void *arg)
{
	struct mm_probe_job *j = arg;
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	struct mm_probe_result r;
	struct statfs sf;
	struct statx sx;
	int fd;

	memset(&r, 0, sizeof(r));
	fd = (int)syscall(SYS_openat2, AT_FDCWD, j->path, &how, sizeof(how));
	if (fd != -1 && fstatfs(fd, &sf) == 0 &&
	    statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	    STATX_TYPE, &sx) == 0 && S_ISDIR(sx.stx_mode)) {
		r.answered = 1;
		r.fs_type = (long)sf.f_type;
		r.flags = (long)sf.f_flags;
		r.mount_root = (sx.stx_attributes_mask &
		    STATX_ATTR_MOUNT_ROOT) == 0 ? -1 :
		    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	}
	if (fd != -1)
		close(fd);
	(void)send(j->fd, &r, sizeof(r), MSG_NOSIGNAL);
	close(j->fd);
	free(j);
	return NULL;
}

/*
 * The mount the probe saw is the one asked for: blfs's (FUSE) or the
 * volume's ext4, at the mount path itself, with the flags asked for.
 */
static int
mm_probe_ok(struct mount *m, const struct mm_probe_result *r, char **cause)
{
	struct handoff_mountinfo mi;
	long want = m->volume ? (long)EXT4_SUPER_MAGIC :
	    (long)FUSE_SUPER_MAGIC;
	int ro = (r->flags & ST_RDONLY) != 0;

	if (!r->answered) {
		xasprintf(cause, "the first request on %s's root got no "
		    "answer from blfs", m->mount_path);
		return -1;
	}
	if (r->fs_type != want) {
		xasprintf(cause, "%s is not %s mount (statfs type %#lx)",
		    m->mount_path, m->volume ? "the volume's ext4" : "a blfs",
		    (unsigned long)r->fs_type);
		return -1;
	}
	/* A kernel before 5.8 cannot say: ask mountinfo instead. */
	if (r->mount_root == 0 || (r->mount_root == -1 &&
	    handoff_mountinfo_find_fs(m->mount_path, m->volume ? "ext4" :
	    HANDOFF_FSTYPE, &mi) != 1)) {
		xasprintf(cause, "%s is not the root of %s mount",
		    m->mount_path, m->volume ? "the volume's ext4" : "a blfs");
		return -1;
	}
	if (ro != m->read_only) {
		xasprintf(cause, "statfs says %s is %s, not %s as asked",
		    m->mount_path, ro ? "read-only" : "read-write",
		    m->read_only ? "read-only" : "read-write");
		return -1;
	}
	if (!(r->flags & ST_NOSUID) || !(r->flags & ST_NODEV)) {
		xasprintf(cause, "statfs shows %s without nosuid,nodev",
		    m->mount_path);
		return -1;
	}
	return 0;
}

static void
mount_probe_stop(struct mount *m)
{
	if (m->probe_ev != NULL) {
		event_free(m->probe_ev);
		m->probe_ev = NULL;
	}
	if (m->probe_fd != -1) {
		close(m->probe_fd);
		m->probe_fd = -1;
	}
}

static void
on_probe_done(evutil_socket_t fd, short what, void *arg)
{
	struct mount *m = arg;
	struct mm_probe_result r;
	char *cause = NULL;

	if (read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		r.answered = 0;
	mount_probe_stop(m);
	if (m->state != MOUNT_MOUNTING)
		return;
	if (!r.answered && !m->ready) {
		/*
		 * No answer before blfs said ready: blfs stopped before
		 * serving (the requests fail once its /dev/fuse fd is gone),
		 * and its exit, due any moment, says why. Should it say
		 * ready instead, the failure stands then.
		 */
		m->probe_failed = 1;
		return;
	}
	if (mm_probe_ok(m, &r, &cause) == -1) {
		mount_fail(m, "EIO", "%s", cause);
		free(cause);
		return;
	}
	evtimer_del(m->timer);
	mount_set_state(m, MOUNT_MOUNTED);
}

/*
 * The first requests on the root, from a thread, so a blfs that never
 * answers cannot block the loop. Started as soon as blfs has its fd: the
 * kernel holds the requests until blfs has answered INIT and passes them
 * on at once, so the mount is known to serve without waiting for blfs's
 * "ready" to come round through the loop first. A thread, not a child:
 * a fork makes every page of the agent copy-on-write, which the agent
 * then pays for page by page, on every mount.
 */
static void
mount_probe(struct mount *m)
{
	struct mm_probe_job *j;
	pthread_attr_t attr;
	pthread_t tid;
	size_t len = strlen(m->mount_path) + 1;
	int sv[2], r;

	m->probed = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		mount_fail(m, "EIO", "socketpair for the probe: %s",
		    strerror(errno));
		return;
	}
	j = xmalloc(sizeof(*j) + len);
	j->fd = sv[1];
	memcpy(j->path, m->mount_path, len);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, MOUNT_PROBE_STACK);
	r = pthread_create(&tid, &attr, mm_probe_main, j);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		close(sv[0]);
		close(sv[1]);
		free(j);
		mount_fail(m, "EIO", "a thread for the probe: %s",
		    strerror(r));
		return;
	}
	m->probe_fd = sv[0];
	m->probe_ev = event_new(m->mm->base, m->probe_fd, EV_READ,
	    on_probe_done, m);
	event_add(m->probe_ev, NULL);
}

/* The store side is done: mount the kernel side and hand over the fd. */
static void
mount_handoff(struct mount *m)
{
	char *cause = NULL;
	int fusefd;
	struct proc_fd_path target;

	/* Mount on the directory we checked, not on whatever the path
	 * names now: a symlink swapped in since cannot redirect us. */
	if (handoff_fuse_mount(m->target.fd >= 0 ?
	    proc_fd_path(&target, m->target.fd, NULL) : m->mount_path,
	    m->mount_path, m->drive, m->read_only, m->req.buffer_size, &fusefd,
	    &cause) != HANDOFF_OK) {
		mount_fail(m, "EIO", "%s", cause);
		free(cause);
		return;
	}
	m->kmounted = 1;
	if (send_fd(m->sock, "go", 2, fusefd) == -1) {
		close(fusefd);
		mount_fail(m, "EIO", "handing the /dev/fuse fd to blfs: %s",
		    strerror(errno));
		return;
	}
	/*
	 * Kept to register backing files for blfs (mountmgr/backing.c);
	 * closed as soon as blfs is gone, so that the kernel then aborts
	 * the connection instead of waiting on us.
	 */
	m->fusefd = fusefd;
	mount_probe(m);
}

/*
 * The child made a volume's mount, detached, and sent its fd: attach it
 * at the mount path, on the directory we checked.
 */
static void
mount_attach_volume(struct mount *m, const char *loop)
{
	uint64_t n;
	int r;

	if (parse_u64(loop, INT32_MAX, &n) == -1 || m->passed_fd == -1) {
		mount_fail(m, "EIO", "the mount child sent no volume");
		return;
	}
	m->volume = 1;
	m->loop = (int)n;
	mount_stats_remove(m);	/* the kernel serves it: no requests */
	if (m->target.fd >= 0)
		r = move_mount(m->passed_fd, "", m->target.fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	else
		r = move_mount(m->passed_fd, "", AT_FDCWD, m->mount_path,
		    MOVE_MOUNT_F_EMPTY_PATH);
	close(m->passed_fd);
	m->passed_fd = -1;
	if (r == -1) {
		mount_fail(m, "EIO", "attaching the volume at %s: %s",
		    m->mount_path, strerror(errno));
		return;
	}
	m->kmounted = 1;
}

/*
 * One line from the child or blfs: "ok", "volume N" (with a mount's fd),
 * "ready", "error CODE text".
 */
static void
mount_line(struct mount *m, const char *line)
{
	if (strcmp(line, "ok") == 0 && !m->child_ok) {
		m->child_ok = 1;
		mount_handoff(m);
	} else if (strncmp(line, "volume ", 7) == 0 && !m->child_ok) {
		m->child_ok = 1;
		mount_attach_volume(m, line + 7);
	} else if (strcmp(line, "ready") == 0 && m->child_ok && !m->ready) {
		m->ready = 1;
		if (m->probe_failed)
			mount_fail(m, "EIO", "the first request on %s's root "
			    "got no answer from blfs", m->mount_path);
		else if (!m->probed)
			mount_probe(m);	/* a volume's, attached by now */
	} else if (strcmp(line, BACKING_ASK) == 0 && m->child_ok) {
		char answer[32];

		/* blfs asks for passthrough to the file it sent. */
		backing_answer(m->fusefd, m->passed_fd, m->read_only,
		    &m->backings, answer, sizeof(answer));
		if (m->passed_fd != -1)
			close(m->passed_fd);
		m->passed_fd = -1;
		if (write_full(m->sock, answer, strlen(answer)) == -1)
			log_warn("mount %s: answering blfs", m->id);
	} else if (strncmp(line, BACKING_DROP, strlen(BACKING_DROP)) == 0 &&
	    m->child_ok)
		backing_unregister(m->fusefd, line + strlen(BACKING_DROP),
		    &m->backings);
	else if (strncmp(line, "error ", 6) == 0) {
		const char *code = "EIO", *text = line + 6;
		static const char *const codes[] = { "ENOENT", "EACCES",
		    "EINVAL", "EIO", "ENOTDIR", "EBUSY", "ELOOP", "EPERM",
		    "ENOSPC", "EXDEV", "ENAMETOOLONG" };

		for (size_t i = 0; i < nitems(codes); i++) {
			size_t n = strlen(codes[i]);

			if (strncmp(text, codes[i], n) == 0 && text[n] == ' ') {
				code = codes[i];
				text += n + 1;
				break;
			}
		}
		mount_fail(m, code, "%s", text);
	} else
		mount_fail(m, "EIO", "blfs said something unexpected");
}

static void
on_mount_sock(evutil_socket_t fd, short what, void *arg)
{
	struct mount *m = arg;
	char buf[512];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	ssize_t n;
	int got;

	mount_ref(m);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	/* An fd comes with a line (a volume's mount): kept for it. */
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&got, CMSG_DATA(c), sizeof(int));
		if (m->passed_fd != -1)
			close(m->passed_fd);
		m->passed_fd = got;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		goto out;
	if (n <= 0) {
		/* The child or blfs closed its side; its exit says why. */
		event_del(m->sock_ev);
		goto out;
	}
	for (ssize_t i = 0; i < n && m->sock != -1; i++) {
		if (buf[i] == '\n' || buf[i] == '\0') {
			m->line[m->linelen] = '\0';
			mount_line(m, m->line);
			m->linelen = 0;
		} else if (m->linelen < sizeof(m->line) - 1) {
			unsigned char ch = (unsigned char)buf[i];

			m->line[m->linelen++] = (ch < 0x20 || ch == 0x7f) ?
			    '?' : (char)ch;
		}
	}
out:
	mount_unref(m);
}

static void
on_mount_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mount *m = arg;

	switch (m->state) {
	case MOUNT_PENDING:
	case MOUNT_MOUNTING:
		mount_fail(m, "ETIMEDOUT", "not mounted within %llu ms",
		    (unsigned long long)m->req.timeout_ms);
		break;
	case MOUNT_UNMOUNTING:
		if (m->volume) {
			/*
			 * Detached with files still open in it: the mount
			 * is gone for this sandbox, and the holder keeps
			 * the volume locked until the files close.
			 */
			log_info("mount %s: the volume is detached; files "
			    "still open in it keep it locked", m->id);
			mm_child_orphan(m->mm, &m->blfs);
			mount_set_state(m, MOUNT_GONE);
			break;
		}
		log_warnx("mount %s: blfs did not exit after unmount; killing "
		    "it", m->id);
		mm_child_kill(&m->blfs);
		if (m->blfs.pidfd == -1) {
			mount_cleanup_kernel(m);
			mount_set_state(m, MOUNT_GONE);
		}
		break;
	default:
		break;
	}
}

static void
on_mount_start(evutil_socket_t fd, short what, void *arg)
{
	struct mount *m = arg;
	struct mountmgr *mm = m->mm;
	int sv[2];
	pid_t pid;

	if (m->state != MOUNT_PENDING)
		return;
	mount_set_state(m, MOUNT_MOUNTING);
	mount_stats_create(m);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		mount_fail(m, "EIO", "socketpair: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		mount_fail(m, "EIO", "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		mount_child(m, sv[1]);
	}
	close(sv[1]);
	if (m->stats_fd != -1) {
		close(m->stats_fd);	/* blfs has it */
		m->stats_fd = -1;
	}
	m->sock = sv[0];
	fd_set_nonblock(m->sock);
	m->sock_ev = event_new(mm->base, m->sock, EV_READ | EV_PERSIST,
	    on_mount_sock, m);
	event_add(m->sock_ev, NULL);
	if (mm_child_watch(m, &m->blfs, pid, 1, on_blfs_exit) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		mount_fail(m, "EIO", "pidfd_open: %s", strerror(errno));
	}
}

/* ---- metrics ---------------------------------------------------------- */

static char *
mount_stats_path(const struct mount *m)
{
	char *p;

	xasprintf(&p, "%s/%s.stats", m->mm->cfg.state_dir, m->id);
	return p;
}

/*
 * The file blfs counts into (mountmgr/stats.h), in the state directory
 * (masked from the workload, kept across agent restarts). Metrics are
 * no reason to fail a mount: without the file, blfs counts nothing.
 */
static void
mount_stats_create(struct mount *m)
{
	char *path = mount_stats_path(m);
	int r;

	if ((r = stats_create(path, &m->stats_fd, &m->stats)) != 0)
		log_warnx("mount %s: no metrics: %s: %s", m->id, path,
		    strerror(-r));
	free(path);
}

void
mount_stats_reopen(struct mount *m)
{
	char *path = mount_stats_path(m);

	if (stats_open(path, &m->stats) != 0)
		m->stats = NULL;
	free(path);
}

/* Its blfs is gone: the file goes (what is mapped stays readable). */
static void
mount_stats_remove(struct mount *m)
{
	char *path;

	if (m->stats == NULL)
		return;
	path = mount_stats_path(m);
	(void)unlink(path);
	free(path);
}

int
mount_stats(const struct mount *m, struct stats_sum *s)
{
	if (m->stats == NULL)
		return -1;
	return stats_read(m->stats, s);
}

/* ---- requests -------------------------------------------------------- */

static int
mount_active(const struct mount *m)
{
	return m->state == MOUNT_PENDING || m->state == MOUNT_MOUNTING ||
	    m->state == MOUNT_MOUNTED || m->state == MOUNT_UNMOUNTING;
}

static void
mount_new_id(char *buf, size_t len)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		fatal("getrandom");
	snprintf(buf, len, MOUNT_ID_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

struct mount *
mount_alloc(struct mountmgr *mm)
{
	struct mount *m = xcalloc(1, sizeof(*m));

	m->mm = mm;
	m->refs = 1;
	m->sock = -1;
	m->blfs.pidfd = -1;
	m->blfs.pid = -1;
	m->probe_fd = -1;
	m->target.fd = -1;
	m->stats_fd = -1;
	m->passed_fd = -1;
	m->fusefd = -1;
	m->loop = -1;
	m->timer = evtimer_new(mm->base, on_mount_timer, m);
	return m;
}

void
mount_list_add(struct mountmgr *mm, struct mount *m)
{
	TAILQ_INSERT_TAIL(&mm->mounts, m, entry);
	m->listed = 1;
	mount_ref(m);
}

int
mountmgr_mount(struct mountmgr *mm, const struct mount_request *req,
    struct mount **out, const char **code, char **cause)
{
	char *mpath = NULL, *dpath = NULL, *why = NULL;
	struct paths_mount_target target = { .fd = -1 };
	struct handoff_mountinfo mi;
	enum paths_result pr;
	struct mount *m;
	struct timeval tv, zero = { 0, 0 };

	*out = NULL;
	*code = "EINVAL";
	if (drive_name_check(req->drive, &why) == -1) {
		xasprintf(cause, "drive: %s", why);
		free(why);
		return -1;
	}
	if (paths_normalise("mount_path", req->mount_path, &mpath, cause) !=
	    PATHS_OK)
		return -1;
	if (paths_drive_path_normalise(req->drive_path, &dpath, cause) !=
	    PATHS_OK) {
		free(mpath);
		return -1;
	}
	if (strcmp(mpath, "/") == 0) {
		xasprintf(cause, "mount_path must not be /");
		goto fail;
	}
	TAILQ_FOREACH(m, &mm->mounts, entry) {
		if (!mount_active(m))
			continue;
		if (strcmp(m->mount_path, mpath) == 0) {
			if (strcmp(m->drive, req->drive) == 0 &&
			    strcmp(m->drive_path, dpath) == 0 &&
			    m->read_only == !!req->read_only &&
			    m->state != MOUNT_UNMOUNTING) {
				/* The same request again: the same session. */
				free(mpath);
				free(dpath);
				mount_ref(m);
				*out = m;
				return 0;
			}
			*code = "EBUSY";
			xasprintf(cause, "mount_path %s is in use by mount %s "
			    "(drive %s, %s, %s)", mpath, m->id, m->drive,
			    m->drive_path, m->read_only ? "read-only" :
			    "read-write");
			goto fail;
		}
		if (paths_is_beneath(m->mount_path, mpath) ||
		    paths_is_beneath(mpath, m->mount_path)) {
			*code = "EBUSY";
			xasprintf(cause, "mount_path %s overlaps mount %s at %s",
			    mpath, m->id, m->mount_path);
			goto fail;
		}
	}
	/* The mount point is on the sandbox's own disk, never the store's:
	 * check it (no symlink anywhere) and create it now, so a bad path is
	 * refused at once rather than as a failed mount. */
	if (handoff_mountinfo_find(mpath, &mi) > 0) {
		*code = "EBUSY";
		xasprintf(cause, "mount_path %s is already a mount point", mpath);
		goto fail;
	}
	pr = paths_mount_target_prepare(mpath, mm->cfg.run_dir, &target, cause);
	if (pr != PATHS_OK) {
		*code = pr == PATHS_SYSTEM ? "EIO" : "EINVAL";
		goto fail;
	}

	m = mount_alloc(mm);
	mount_new_id(m->id, sizeof(m->id));
	m->target = target;
	m->drive = xstrdup(req->drive);
	m->mount_path = mpath;
	m->drive_path = dpath;
	m->read_only = !!req->read_only;
	m->req = *req;
	m->req.drive = m->req.mount_path = m->req.drive_path = NULL;
	if (m->req.timeout_ms == 0)
		m->req.timeout_ms = MOUNT_DEFAULT_TIMEOUT_MS;
	m->created_at_ms = m->updated_at_ms = now_ms_real();
	m->state = MOUNT_PENDING;
	mount_list_add(mm, m);
	log_info("mount %s requested: drive %s path %s drive_path %s %s",
	    m->id, m->drive, m->mount_path, m->drive_path,
	    m->read_only ? "read-only" : "read-write");
	tv = mm_tv(m->req.timeout_ms);
	evtimer_add(m->timer, &tv);
	/* Answer "pending" first; the work starts on the next loop turn. */
	m->start_ev = evtimer_new(mm->base, on_mount_start, m);
	evtimer_add(m->start_ev, &zero);
	if (mm->cfg.changed != NULL)
		mm->cfg.changed(m, mm->cfg.changed_arg);
	*out = m;	/* the allocation's reference goes to the caller */
	return 0;
fail:
	free(mpath);
	free(dpath);
	return -1;
}

int
mountmgr_unmount(struct mountmgr *mm, struct mount *m, int force,
    const char **code, char **cause)
{
	struct timeval tv = mm_tv(MOUNT_STOP_GRACE_MS);

	mount_ref(m);
	switch (m->state) {
	case MOUNT_PENDING:
	case MOUNT_MOUNTING:
		log_info("mount %s: cancelled", m->id);
		mount_stop_io(m);
		mount_stop_server(m);
		mount_probe_stop(m);
		mount_cleanup_kernel(m);
		mount_set_state(m, MOUNT_GONE);
		break;
	case MOUNT_FAILED:
		mount_set_state(m, MOUNT_GONE);
		break;
	case MOUNT_MOUNTED:
		if (umount2(m->mount_path, UMOUNT_NOFOLLOW |
		    (force ? MNT_DETACH : 0)) == -1) {
			if (errno == EBUSY) {
				*code = "EBUSY";
				xasprintf(cause, "%s is busy (files are open "
				    "or processes run there); unmount with "
				    "force to detach it anyway", m->mount_path);
				mount_unref(m);
				return -1;
			}
			if (errno != EINVAL && errno != ENOENT) {
				*code = "EIO";
				xasprintf(cause, "unmounting %s: %s",
				    m->mount_path, strerror(errno));
				mount_unref(m);
				return -1;
			}
		}
		m->kmounted = 0;
		mount_set_state(m, MOUNT_UNMOUNTING);
		/*
		 * No FUSE session ends for a volume: its holder is told.
		 * Forced, files may stay open in it for long: the mount
		 * point is free, the holder keeps the lock until they close.
		 */
		if (m->volume) {
			mount_stop_server(m);
			if (force)
				mm_child_orphan(m->mm, &m->blfs);
		}
		if (m->blfs.pidfd == -1) {
			mount_cleanup_kernel(m);
			mount_set_state(m, MOUNT_GONE);
		} else
			evtimer_add(m->timer, &tv);
		break;
	case MOUNT_UNMOUNTING:
		if (force && !m->volume)
			mm_child_kill(&m->blfs);
		break;
	case MOUNT_GONE:
		break;
	}
	mount_unref(m);
	return 0;
}

struct mount *
mountmgr_find_id(struct mountmgr *mm, const char *id)
{
	struct mount *m;

	TAILQ_FOREACH(m, &mm->mounts, entry) {
		if (strcmp(m->id, id) == 0) {
			mount_ref(m);
			return m;
		}
	}
	return NULL;
}

struct mount *
mountmgr_find_path(struct mountmgr *mm, const char *path)
{
	struct mount *m, *found = NULL;
	char *norm = NULL, *cause = NULL;

	if (paths_normalise("mount_path", path, &norm, &cause) != PATHS_OK) {
		free(cause);
		return NULL;
	}
	/* The newest session at a path is the one that matters. */
	TAILQ_FOREACH(m, &mm->mounts, entry)
		if (strcmp(m->mount_path, norm) == 0)
			found = m;
	free(norm);
	if (found != NULL)
		mount_ref(found);
	return found;
}

struct mount **
mountmgr_list(struct mountmgr *mm, size_t *n)
{
	struct mount **v, *m;
	size_t i = 0;

	*n = 0;
	TAILQ_FOREACH(m, &mm->mounts, entry)
		(*n)++;
	v = xcalloc(*n ? *n : 1, sizeof(*v));
	TAILQ_FOREACH(m, &mm->mounts, entry) {
		mount_ref(m);
		v[i++] = m;
	}
	return v;
}

void
mount_list_free(struct mount **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mount_unref(v[i]);
	free(v);
}

int
mountmgr_all_settled(struct mountmgr *mm)
{
	struct mount *m;

	TAILQ_FOREACH(m, &mm->mounts, entry)
		if (!(MOUNT_SETTLED & (1u << m->state)))
			return 0;
	return 1;
}
