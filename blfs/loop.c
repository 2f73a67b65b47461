/*
 * The request loop: a leader/follower pool in place of libfuse's
 * fuse_session_loop_mt.
 *
 * Why not libfuse's pool: its idle workers all sleep in read(2) on
 * /dev/fuse, and the kernel queues such readers first come, first
 * served, so each request wakes the worker that has slept the longest:
 * a thread whose stack and cache are cold, often on another CPU. For one
 * process doing metadata one call at a time (a build, an unpack, ls -l)
 * that round robin costs more than the operation itself: create and
 * unlink ran at a third to a half of the speed of a single thread.
 *
 * Here exactly one worker reads /dev/fuse at a time (the leader), and it
 * serves what it read itself, then reads again: a lone caller is served
 * by one hot thread, with one wakeup per request, as fast as a
 * single-threaded server. The leader hands the reading over first (to
 * the worker that went idle last, a stack so the hottest thread, or to a
 * new one) when more requests are already waiting, so concurrent callers
 * are served in parallel up to BLFS_MAX_THREADS, and for the few
 * requests that can block for long (fsync, fsyncdir, fallocate,
 * copy_file_range), so nobody waits behind them. The price: a request
 * that arrives while the leader serves an ordinary one waits for it to
 * end before being read (microseconds on a warm local store; one disk or
 * network round trip of the store at worst), after which the leader sees
 * it queued and hands over.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

#include <linux/fuse.h>

struct loop_worker {
	pthread_t		 tid;		/* immutable once started */
	pthread_cond_t		 cv;
	int			 lead;		/* guarded by lock: go read */
	struct fuse_buf		 buf;		/* the worker's own */
	SLIST_ENTRY(loop_worker) idle;		/* guarded by lock */
	LIST_ENTRY(loop_worker)	 all;		/* guarded by lock */
};

static struct {
	struct fuse_session	*se;		/* immutable */
	unsigned		 max;		/* immutable */
	pthread_mutex_t		 lock;
	sem_t			 done;		/* a worker saw the end */
	int			 exiting;	/* guarded by lock */
	int			 held;		/* guarded by lock: INIT first */
	int			 leaderless;	/* guarded by lock: nobody reads */
	struct loop_worker	*reader;	/* guarded by lock: in read(2) */
	unsigned		 nworkers;	/* guarded by lock */
	int			 error;		/* guarded by lock */
	SLIST_HEAD(, loop_worker) idle;		/* guarded by lock; last first */
	LIST_HEAD(, loop_worker) all;		/* guarded by lock */
} lp = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The signal that ended the loop, or 0. */
static volatile sig_atomic_t loop_signal;

static void *loop_work(void *);

/* SIGTERM, SIGINT, SIGHUP: end the session; the main thread wakes. */
static void
loop_on_signal(int sig)
{
	loop_signal = sig;
	fuse_session_exit(lp.se);
}

/*
 * Start a worker that begins as the reader. Called with the lock held.
 * Workers never take SIGTERM, SIGINT or SIGHUP: those wake the main
 * thread, which ends the loop.
 */
static int
loop_start(void)
{
	struct loop_worker *w = xcalloc(1, sizeof(*w));
	sigset_t block, old;
	int r;

	pthread_cond_init(&w->cv, NULL);
	w->lead = 1;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = pthread_create(&w->tid, NULL, loop_work, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_warnx("starting a worker: %s", strerror(r));
		pthread_cond_destroy(&w->cv);
		free(w);
		return -1;
	}
	LIST_INSERT_HEAD(&lp.all, w, all);
	lp.nworkers++;
	return 0;
}

/*
 * Someone else must read while this worker serves its request: the worker
 * that went idle last, or a new one, or (all busy, at the bound) the next
 * one to finish. Called with the lock held.
 */
static void
loop_hand_over(void)
{
	struct loop_worker *n;

	if ((n = SLIST_FIRST(&lp.idle)) != NULL) {
		SLIST_REMOVE_HEAD(&lp.idle, idle);
		n->lead = 1;
		pthread_cond_signal(&n->cv);
		return;
	}
	if (lp.nworkers < lp.max && loop_start() == 0)
		return;
	lp.leaderless = 1;
}

/*
 * Must the leader hand the reading over before serving this request?
 * Yes when another request is already queued, or this one may block for
 * long. A write still in the splice pipe is a write.
 */
static int
loop_must_hand_over(const struct fuse_buf *buf)
{
	const struct fuse_in_header *in = buf->mem;
	struct pollfd pfd;

	if (blfs_cfg.serve_apart)
		return 1;
	if (!(buf->flags & FUSE_BUF_IS_FD) && buf->size >= sizeof(*in)) {
		switch (in->opcode) {
		case FUSE_FSYNC:
		case FUSE_FSYNCDIR:
		case FUSE_SETLK:	/* may revalidate the file's pages */
		case FUSE_SETLKW:	/* waits for the lock */
		case FUSE_FALLOCATE:
		case FUSE_COPY_FILE_RANGE:
			return 1;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
		case FUSE_RELEASE:
		case FUSE_RELEASEDIR:
			/*
			 * A few pointer moves or a close: the kernel sends
			 * these behind a caller's request, which would
			 * otherwise always find the next one queued.
			 */
			return 0;
		}
	}
	pfd.fd = fuse_session_fd(lp.se);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

static void *
loop_work(void *arg)
{
	struct loop_worker *w = arg;
	int r, handoff;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	/*
	 * This thread's malloc arena, made now, while the main thread
	 * answers INIT, rather than on the first request it reads.
	 */
	free(malloc(1));
	pthread_mutex_lock(&lp.lock);
	while (lp.held && !lp.exiting)
		pthread_cond_wait(&w->cv, &lp.lock);
	for (;;) {
		while (!w->lead && !lp.exiting) {
			SLIST_INSERT_HEAD(&lp.idle, w, idle);
			pthread_cond_wait(&w->cv, &lp.lock);
		}
		if (lp.exiting)
			break;
		lp.reader = w;
		pthread_mutex_unlock(&lp.lock);

		/* Only here may the loop's end cancel us: in read(2). */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		r = fuse_session_receive_buf(lp.se, &w->buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		handoff = r > 0 && loop_must_hand_over(&w->buf);

		pthread_mutex_lock(&lp.lock);
		lp.reader = NULL;
		if (r == -EINTR)
			continue;	/* still the reader */
		if (r <= 0 || fuse_session_exited(lp.se)) {
			/* 0: unmounted (ENODEV); < 0: the device failed. */
			if (r < 0 && lp.error == 0)
				lp.error = r;
			fuse_session_exit(lp.se);
			sem_post(&lp.done);
			break;
		}
		if (handoff) {
			w->lead = 0;
			loop_hand_over();
		}
		pthread_mutex_unlock(&lp.lock);

		stats_begin(&w->buf);
		fuse_session_process_buf(lp.se, &w->buf);
		stats_end();

		pthread_mutex_lock(&lp.lock);
		if (lp.leaderless) {
			lp.leaderless = 0;
			w->lead = 1;
		}
	}
	pthread_mutex_unlock(&lp.lock);
	return NULL;
}

/*
 * The first request of a new mount is INIT, queued since the agent
 * mounted: answered on the main thread while the first worker is still
 * being created and scheduled (on a busy machine, the longest wait of
 * all), which starts reading only then. 1 when answered, 0 when the
 * session ended first (unmounted, or a signal), or -errno.
 */
static int
loop_first(struct fuse_session *se)
{
	struct fuse_buf buf;
	int r;

	memset(&buf, 0, sizeof(buf));
	do
		r = fuse_session_receive_buf(se, &buf);
	while (r == -EINTR && !fuse_session_exited(se));
	if (r > 0) {
		stats_begin(&buf);
		fuse_session_process_buf(se, &buf);
		stats_end();
	}
	free(buf.mem);
	return r > 0 ? 1 : r == -EINTR ? 0 : r;
}

int
loop_run(struct fuse_session *se, unsigned max_threads)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	struct loop_worker *w;
	size_t i;
	int err, first;

	lp.se = se;
	lp.max = max_threads;
	SLIST_INIT(&lp.idle);
	LIST_INIT(&lp.all);
	if (sem_init(&lp.done, 0, 0) == -1)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nitems(sigs); i++)
		sigaction(sigs[i], &sa, NULL);

	pthread_mutex_lock(&lp.lock);
	lp.held = 1;
	err = loop_start();
	pthread_mutex_unlock(&lp.lock);
	if (err != 0) {
		sem_destroy(&lp.done);
		return -EAGAIN;
	}
	first = loop_first(se);
	pthread_mutex_lock(&lp.lock);
	lp.held = 0;
	if (first <= 0) {
		if (first < 0)
			lp.error = first;
		fuse_session_exit(se);
	} else
		LIST_FOREACH(w, &lp.all, all)
			pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&lp.lock);
	/* A signal interrupts sem_wait; its handler marked the session. */
	while (!fuse_session_exited(se))
		sem_wait(&lp.done);

	pthread_mutex_lock(&lp.lock);
	lp.exiting = 1;
	LIST_FOREACH(w, &lp.all, all)
		pthread_cond_signal(&w->cv);
	/* The one in read(2) waits for a request that will never come. */
	if (lp.reader != NULL)
		pthread_cancel(lp.reader->tid);
	pthread_mutex_unlock(&lp.lock);

	while ((w = LIST_FIRST(&lp.all)) != NULL) {
		pthread_join(w->tid, NULL);
		LIST_REMOVE(w, all);
		pthread_cond_destroy(&w->cv);
		free(w->buf.mem);
		free(w);
	}
	sem_destroy(&lp.done);
	if (lp.error != 0)
		return lp.error;
	return loop_signal;
}
