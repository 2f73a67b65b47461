/*
 * blfs --volume-fd: a volume has no FUSE server (the kernel's ext4 serves
 * it), but its mount lock must last exactly as long as the volume's file
 * system does, even if the agent dies. This process holds the lock and
 * the loop device, and names the session in its argv, so ps shows who
 * holds what and a restarted agent can re-adopt it.
 *
 * SIGTERM (from the agent, after it unmounted) starts the end: the lock
 * goes only once the file system has let go of the loop device, which
 * an exclusive open of the device tells. A volume detached while files
 * in it are still open stays locked until they close, so nobody else can
 * attach the image while this file system may still write to it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "sandboxing/sandbox.h"
#include "blfs/blfs.h"

/* Asking again: from 20 ms, doubling to 1 s. */
#define HOLD_POLL_MIN_MS	20
#define HOLD_POLL_MAX_MS	1000
#define HOLD_BUSY_SAY_MS	5000

/* Has the file system let go of the loop device? */
static int
hold_released(int loopfd)
{
	struct proc_fd_path pp;
	int fd;

	fd = open(proc_fd_path(&pp, loopfd, NULL), O_RDONLY | O_EXCL |
	    O_CLOEXEC);
	if (fd == -1)
		return errno == EBUSY ? 0 : -1;
	close(fd);
	return 1;
}

int
hold_volume(int loopfd, int status_fd, const char *drive,
    const char *session, const char *mount_path)
{
	struct timespec ts;
	sigset_t set;
	char *cause = NULL;
	uint64_t waited = 0, pause_ms = HOLD_POLL_MIN_MS;
	int sig, r, said = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		log_warn("sigprocmask");
		return 1;
	}
	/* Nothing to serve: the read-only list, and never a new fd but
	 * the device's own, reopened. */
	if (sandbox_blfs_seccomp(1, &cause) == -1) {
		log_warnx("seccomp: %s", cause);
		return 1;
	}
	log_info("volume %s session %s at %s: holding its lock", drive,
	    session, mount_path);
	if (status_fd != -1) {
		(void)write_full(status_fd, "ready\n", 6);
		close(status_fd);
	}
	while (sigwait(&set, &sig) != 0)
		;
	for (;;) {
		if ((r = hold_released(loopfd)) != 0) {
			if (r == -1)
				log_warn("volume %s: testing its loop device; "
				    "letting go", drive);
			else
				log_info("volume %s: unmounted; letting go",
				    drive);
			return 0;
		}
		if (!said && waited >= HOLD_BUSY_SAY_MS) {
			log_info("volume %s: files are still open in it; its "
			    "lock is held until they close", drive);
			said = 1;
		}
		ts.tv_sec = (time_t)(pause_ms / 1000);
		ts.tv_nsec = (long)(pause_ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		waited += pause_ms;
		if (pause_ms < HOLD_POLL_MAX_MS)
			pause_ms *= 2;
	}
}
